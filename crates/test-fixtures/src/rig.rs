//! The driver on the kernel model: boot, load, open, and the IOCTL ABI.

use std::fmt;
use std::net::SocketAddr;

use wdk_model::harness::{Access, Handle, HarnessError, IoMode, IoResult, Kernel, Report};
use wdk_model::{Caller, KernelConfig};
use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, CONFIG_REQUEST_SIZE, ConfigAction, Destination, IOCTL_WSK_SAMPLE_CONFIGURE,
    IOCTL_WSK_SAMPLE_QUERY_STATS, IOCTL_WSK_SAMPLE_RECEIVE_STATS, IOCTL_WSK_SAMPLE_SEND,
    IOCTL_WSK_SAMPLE_SEND_BATCH, RECEIVE_STATS_SIZE, ReceiveStats, SEND_REPLY_SIZE,
    STATS_REPLY_SIZE, SendReply, Stats, USER_DEVICE_PATH, batch_request_len, encode_batch,
    encode_send, encode_send_request, send_request_len,
};

/// The kernel model with the real driver loaded and one administrator read/write handle on its
/// device.
pub struct Rig {
    /// The kernel the driver runs in.
    pub kernel: Kernel,
    /// The open handle the helpers send their IOCTLs on.
    pub handle: Handle,
}

/// [`Rig::load`] found the driver would not load: the error and the kernel it happened in, for
/// checking what the failed load left behind.
pub struct LoadFailed {
    /// What the harness reported.
    pub error: HarnessError,
    /// The kernel, the driver not loaded.
    pub kernel: Kernel,
}

impl fmt::Debug for LoadFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the driver did not load: {}", self.error)
    }
}

impl Rig {
    /// A default kernel; panics if the driver does not load.
    pub fn new() -> Rig {
        Rig::with(KernelConfig::default())
    }

    /// A kernel configured by `config` and an overlapped handle; panics if the driver does not
    /// load.
    pub fn with(config: KernelConfig) -> Rig {
        Rig::load(config, IoMode::Overlapped).expect("the driver loads")
    }

    /// Boots a kernel configured by `config`, loads the driver and opens its device with
    /// `mode`. Overlapped lets several threads be in the driver on one handle at the same time
    /// (the concurrency tests); on a synchronous handle, like wskctl's, the I/O manager
    /// serialises them.
    pub fn load(config: KernelConfig, mode: IoMode) -> Result<Rig, Box<LoadFailed>> {
        let mut kernel = Kernel::boot(config);
        if let Err(error) = kernel.load(wsk_sample_driver::driver_entry) {
            return Err(Box::new(LoadFailed { error, kernel }));
        }
        let handle = kernel
            .open_with(
                USER_DEVICE_PATH,
                Access::READ_WRITE,
                Caller::Administrator,
                mode,
            )
            .expect("the device opens");
        Ok(Rig { kernel, handle })
    }

    /// Issues one IOCTL on the handle; panics if the driver never completes it.
    pub fn ioctl(&self, code: u32, input: &[u8], output_len: usize) -> IoResult {
        self.kernel
            .device_io_control(&self.handle, code, input, output_len)
            .unwrap_or_else(|e| panic!("the driver completes the request: {e}"))
    }

    /// Issues one IOCTL and insists on success; returns the output.
    pub fn ioctl_ok(&self, code: u32, input: &[u8], output_len: usize) -> Vec<u8> {
        let result = self.ioctl(code, input, output_len);
        assert_eq!(
            result.status, 0,
            "IOCTL {code:#010x} failed: {:#010x}",
            result.status
        );
        result.output
    }

    /// Sends `payload` to `destination`; returns the raw result.
    pub fn send(&self, destination: SocketAddr, payload: &[u8]) -> IoResult {
        let mut input = vec![0u8; send_request_len(payload.len())];
        encode_send_request(Some(destination), payload, &mut input).expect("a valid request");
        self.ioctl(IOCTL_WSK_SAMPLE_SEND, &input, SEND_REPLY_SIZE)
    }

    /// Sends `payload` to `destination` (an address or a fixed destination); returns the raw
    /// result.
    pub fn send_to(&self, destination: Destination, payload: &[u8]) -> IoResult {
        let mut input = vec![0u8; send_request_len(payload.len())];
        encode_send(destination, payload, &mut input).expect("a valid request");
        self.ioctl(IOCTL_WSK_SAMPLE_SEND, &input, SEND_REPLY_SIZE)
    }

    /// Sends a batch; returns the raw result.
    pub fn send_batch(&self, destination: Destination, datagrams: &[&[u8]]) -> IoResult {
        let total = datagrams.iter().map(|d| d.len()).sum();
        let mut input = vec![0u8; batch_request_len(datagrams.len(), total)];
        encode_batch(destination, datagrams, &mut input).expect("a valid batch");
        self.ioctl(IOCTL_WSK_SAMPLE_SEND_BATCH, &input, BATCH_REPLY_SIZE)
    }

    /// Applies a configuration; returns the status.
    pub fn configure(&self, action: ConfigAction) -> i32 {
        let mut input = [0u8; CONFIG_REQUEST_SIZE];
        action.encode(&mut input).expect("a valid configuration");
        self.ioctl(IOCTL_WSK_SAMPLE_CONFIGURE, &input, 0).status
    }

    /// Sends and insists on success; returns the driver's reply.
    pub fn send_ok(&self, destination: SocketAddr, payload: &[u8]) -> SendReply {
        let result = self.send(destination, payload);
        assert_eq!(
            result.status,
            0,
            "send of {} bytes to {destination} failed: {:#010x}",
            payload.len(),
            result.status
        );
        assert_eq!(result.information, SEND_REPLY_SIZE as u64);
        SendReply::decode(&result.output).expect("a well-formed reply")
    }

    /// The driver's send statistics (IOCTL_WSK_SAMPLE_QUERY_STATS).
    pub fn stats(&self) -> Stats {
        let output = self.ioctl_ok(IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE);
        Stats::decode(&output).expect("well-formed stats")
    }

    /// The driver's receive statistics (IOCTL_WSK_SAMPLE_RECEIVE_STATS).
    /// IOCTL_WSK_SAMPLE_RECEIVE_MODE: `family` to `mode` with `delivery`; returns the status.
    pub fn set_receive_mode(
        &self,
        family: wsk_sample_ioctl::Family,
        mode: wsk_sample_ioctl::ReceiveMode,
        delivery: wsk_sample_ioctl::Delivery,
    ) -> i32 {
        let request = wsk_sample_ioctl::ModeRequest {
            family,
            mode,
            delivery,
        };
        self.ioctl(
            wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_MODE,
            &request.encode(),
            0,
        )
        .status
    }

    /// IOCTL_WSK_SAMPLE_RECEIVE for `family` with room for `output` bytes (header included);
    /// pends until a datagram arrives or the request is cancelled.
    pub fn receive(&self, family: wsk_sample_ioctl::Family, output: usize) -> IoResult {
        self.ioctl(
            wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE,
            &wsk_sample_ioctl::ReceiveRequest { family }.encode(),
            output,
        )
    }

    pub fn receive_stats(&self) -> ReceiveStats {
        let output = self.ioctl_ok(IOCTL_WSK_SAMPLE_RECEIVE_STATS, &[], RECEIVE_STATS_SIZE);
        ReceiveStats::decode(&output).expect("well-formed receive stats")
    }

    /// Closes the handle, then unloads (an orderly removal) and returns the report.
    pub fn unload(self) -> Report {
        self.close().unload()
    }

    /// Closes the handle and returns the kernel, for an orderly unload.
    pub fn close(self) -> Kernel {
        let Rig { kernel, handle } = self;
        drop(handle);
        kernel
    }

    /// Unloads and insists on a clean report.
    pub fn finish(self) {
        let report = self.unload();
        assert!(report.is_clean(), "unload report:\n{report}");
    }
}

impl Default for Rig {
    fn default() -> Rig {
        Rig::new()
    }
}
