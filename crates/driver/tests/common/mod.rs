//! Shared bench for the driver's integration tests: boot the kernel model, load the real
//! driver, open its device, and talk to it with the real IOCTL ABI.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use wdk_model::harness::{Access, Handle, IoMode, IoResult, Kernel, Report};
use wdk_model::{Caller, KernelConfig};
use wsk_sample_ioctl::{
    CONFIG_REQUEST_SIZE, ConfigAction, Destination, IOCTL_WSK_SAMPLE_CONFIGURE,
    IOCTL_WSK_SAMPLE_QUERY_STATS, IOCTL_WSK_SAMPLE_SEND, SEND_REPLY_SIZE, STATS_REPLY_SIZE,
    SendReply, Stats, USER_DEVICE_PATH, encode_send, encode_send_request, send_request_len,
};

pub struct Bench {
    pub kernel: Kernel,
    pub handle: Handle,
}

impl Bench {
    pub fn new() -> Bench {
        Bench::with(KernelConfig::default())
    }

    pub fn with(config: KernelConfig) -> Bench {
        let mut kernel = Kernel::boot(config);
        kernel
            .load(wsk_sample_driver::driver_entry)
            .expect("the driver loads");
        // Overlapped, so that the concurrency tests' threads really are in the driver at the
        // same time (on a synchronous handle the I/O manager serialises them).
        let handle = kernel
            .open_with(
                USER_DEVICE_PATH,
                Access::READ_WRITE,
                Caller::Administrator,
                IoMode::Overlapped,
            )
            .expect("the device opens");
        Bench { kernel, handle }
    }

    pub fn ioctl(&self, code: u32, input: &[u8], output_len: usize) -> IoResult {
        self.kernel
            .device_io_control(&self.handle, code, input, output_len)
            .unwrap_or_else(|e| panic!("the driver completes the request: {e}"))
    }

    pub fn send(&self, destination: SocketAddr, payload: &[u8]) -> IoResult {
        let mut input = vec![0u8; send_request_len(payload.len())];
        encode_send_request(Some(destination), payload, &mut input).expect("a valid request");
        self.ioctl(IOCTL_WSK_SAMPLE_SEND, &input, SEND_REPLY_SIZE)
    }

    pub fn send_to(&self, destination: Destination, payload: &[u8]) -> IoResult {
        let mut input = vec![0u8; send_request_len(payload.len())];
        encode_send(destination, payload, &mut input).expect("a valid request");
        self.ioctl(IOCTL_WSK_SAMPLE_SEND, &input, SEND_REPLY_SIZE)
    }

    /// Sends a batch; returns the raw result.
    pub fn send_batch(&self, destination: Destination, datagrams: &[&[u8]]) -> IoResult {
        let total = datagrams.iter().map(|d| d.len()).sum();
        let mut input = vec![0u8; wsk_sample_ioctl::batch_request_len(datagrams.len(), total)];
        wsk_sample_ioctl::encode_batch(destination, datagrams, &mut input).expect("a valid batch");
        self.ioctl(
            wsk_sample_ioctl::IOCTL_WSK_SAMPLE_SEND_BATCH,
            &input,
            wsk_sample_ioctl::BATCH_REPLY_SIZE,
        )
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

    pub fn stats(&self) -> Stats {
        let result = self.ioctl(IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE);
        assert_eq!(
            result.status, 0,
            "query stats failed: {:#010x}",
            result.status
        );
        Stats::decode(&result.output).expect("well-formed stats")
    }

    /// Closes the handle, then unloads (an orderly removal) and returns the report.
    pub fn unload(self) -> Report {
        self.close().unload()
    }

    /// Closes the handle and returns the kernel, for an orderly unload.
    pub fn close(self) -> Kernel {
        let Bench { kernel, handle } = self;
        drop(handle);
        kernel
    }

    /// Unloads and insists on a clean report.
    pub fn finish(self) {
        let report = self.unload();
        assert!(report.is_clean(), "unload report:\n{report}");
    }
}

/// A UDP receiver on loopback with a generous buffer.
pub struct Receiver {
    pub socket: UdpSocket,
}

impl Receiver {
    pub fn v4() -> Receiver {
        Receiver::bind("127.0.0.1:0")
    }

    pub fn v6() -> Receiver {
        Receiver::bind("[::1]:0")
    }

    fn bind(address: &str) -> Receiver {
        let socket = UdpSocket::bind(address).expect("bind a loopback receiver");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set a timeout");
        let socket2 = socket2::SockRef::from(&socket);
        let _ = socket2.set_recv_buffer_size(8 << 20);
        Receiver { socket }
    }

    pub fn address(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }

    /// Receives one datagram (or panics after the timeout).
    pub fn receive(&self) -> (Vec<u8>, SocketAddr) {
        let mut buffer = vec![0u8; 70_000];
        let (length, from) = self
            .socket
            .recv_from(&mut buffer)
            .expect("a datagram arrives");
        buffer.truncate(length);
        (buffer, from)
    }

    /// Asserts nothing more arrives within a short wait.
    pub fn assert_nothing_more(&self) {
        self.socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("set a timeout");
        let mut buffer = [0u8; 16];
        assert!(
            self.socket.recv_from(&mut buffer).is_err(),
            "an unexpected datagram arrived"
        );
        self.socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set a timeout");
    }
}

/// A payload whose bytes depend on its length and a seed, so a mix-up shows.
pub fn pattern(length: usize, seed: u8) -> Vec<u8> {
    (0..length)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}
