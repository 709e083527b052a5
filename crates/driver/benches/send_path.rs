//! The driver's per-datagram cost on the kernel model: one IOCTL_WSK_SAMPLE_SEND per iteration,
//! and one 256-datagram IOCTL_WSK_SAMPLE_SEND_BATCH per iteration, 64-byte payloads to a
//! loopback receiver, with criterion reporting elements (datagrams) per second.
//!
//! Run (from the repository root):
//!
//! ```text
//! cargo bench --bench send_path --config 'profile.release.panic="unwind"'
//! cargo bench --bench send_path --no-run --config 'profile.release.panic="unwind"'   # build only
//! ```
//!
//! Why the `--config`: the driver crate is `cdylib` + `rlib` and the root `[profile.release]` says
//! `panic = "abort"` (what a kernel driver needs). Benchmarks always build with unwinding, and
//! cargo names a cdylib crate's rlib without a hash (cargo#6313), so one `cargo bench` would build
//! the driver once with abort (the library target) and once with unwind (for this benchmark)
//! into the same file; see `.cargo/config.toml`. Building everything unwinding avoids that.
//! Plain `cargo bench --bench send_path --no-run` happens to work today, but only the form above
//! is guaranteed not to mix the two builds.
//!
//! The receiver is bound but never read: once its socket buffer is full the host drops what
//! arrives, which costs the same in both benchmarks and keeps a reader thread from competing
//! for the CPU. Everything else (the IOCTL path through the model's KMDF queue, the driver's
//! validation, slot, IRP and completion routine, the model's WSK provider and its worker thread,
//! the host's UDP send) is what is measured. Encoding the request is not: each request is built
//! once, before the loop.
//!
//! The kernel model exists off Windows only; on Windows this benchmark is empty.

#[cfg(not(target_os = "windows"))]
mod model {
    use std::hint::black_box;
    use std::net::{SocketAddr, UdpSocket};
    use std::time::Duration;

    use criterion::{Criterion, Throughput};
    use wdk_model::harness::{Access, Handle, Kernel};
    use wdk_model::{Caller, KernelConfig};
    use wsk_sample_ioctl::{
        BATCH_REPLY_SIZE, BatchReply, Destination, IOCTL_WSK_SAMPLE_SEND,
        IOCTL_WSK_SAMPLE_SEND_BATCH, MAX_BATCH_DATAGRAMS, SEND_REPLY_SIZE, USER_DEVICE_PATH,
        batch_request_len, encode_batch, encode_send, send_request_len,
    };

    const PAYLOAD: usize = 64;

    /// The model with the driver loaded and its device open.
    struct Driver {
        kernel: Kernel,
        handle: Handle,
    }

    impl Driver {
        fn load() -> Driver {
            let mut kernel = Kernel::boot(KernelConfig::default());
            kernel
                .load(wsk_sample_driver::driver_entry)
                .expect("the driver loads");
            let handle = kernel
                .open(USER_DEVICE_PATH, Access::READ_WRITE, Caller::Administrator)
                .expect("the device opens");
            Driver { kernel, handle }
        }

        /// Issues one request and insists on success; returns the output.
        fn ioctl(&self, code: u32, input: &[u8], output_len: usize) -> Vec<u8> {
            let result = self
                .kernel
                .device_io_control(&self.handle, code, input, output_len)
                .expect("the driver completes the request");
            assert_eq!(result.status, 0, "request failed: {:#010x}", result.status);
            result.output
        }
    }

    fn receiver() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback receiver");
        let address = socket.local_addr().expect("the receiver's address");
        (socket, address)
    }

    pub fn send_path(c: &mut Criterion) {
        let driver = Driver::load();
        let (_receiver, to) = receiver();
        let destination = Destination::Address(to);
        let payload: Vec<u8> = (0..PAYLOAD).map(|i| i as u8).collect();

        let mut single = vec![0u8; send_request_len(PAYLOAD)];
        encode_send(destination, &payload, &mut single).expect("a valid send request");
        let datagrams = vec![payload.as_slice(); MAX_BATCH_DATAGRAMS];
        let mut batch =
            vec![0u8; batch_request_len(MAX_BATCH_DATAGRAMS, PAYLOAD * MAX_BATCH_DATAGRAMS)];
        encode_batch(destination, &datagrams, &mut batch).expect("a valid batch request");
        // The first send creates the driver's socket; it is not part of the measurement.
        driver.ioctl(IOCTL_WSK_SAMPLE_SEND, &single, SEND_REPLY_SIZE);
        let reply = driver.ioctl(IOCTL_WSK_SAMPLE_SEND_BATCH, &batch, BATCH_REPLY_SIZE);
        let reply = BatchReply::decode(&reply).expect("a batch reply");
        assert_eq!(reply.datagrams_sent as usize, MAX_BATCH_DATAGRAMS);

        let mut group = c.benchmark_group("send_path");
        group.measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(1));
        group.bench_function("one_ioctl_per_datagram_64B", |b| {
            b.iter(|| {
                black_box(driver.ioctl(IOCTL_WSK_SAMPLE_SEND, black_box(&single), SEND_REPLY_SIZE))
            })
        });
        group.throughput(Throughput::Elements(MAX_BATCH_DATAGRAMS as u64));
        group.bench_function("batch_256x64B", |b| {
            b.iter(|| {
                black_box(driver.ioctl(
                    IOCTL_WSK_SAMPLE_SEND_BATCH,
                    black_box(&batch),
                    BATCH_REPLY_SIZE,
                ))
            })
        });
        group.finish();

        let Driver { kernel, handle } = driver;
        drop(handle);
        let report = kernel.unload();
        assert!(report.is_clean(), "unload report:\n{report}");
    }
}

#[cfg(not(target_os = "windows"))]
criterion::criterion_group!(benches, model::send_path);
#[cfg(not(target_os = "windows"))]
criterion::criterion_main!(benches);

#[cfg(target_os = "windows")]
fn main() {}
