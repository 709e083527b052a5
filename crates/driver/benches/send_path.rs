//! The driver's per-datagram cost on the kernel model: one IOCTL_WSK_SAMPLE_SEND per iteration,
//! and one 256-datagram IOCTL_WSK_SAMPLE_SEND_BATCH per iteration, 64-byte payloads to a
//! loopback receiver, with criterion reporting elements (datagrams) per second.
//!
//! Run (from the repository root):
//!
//! ```text
//! cargo bench -p wsk-sample-driver --bench send_path
//! ```
//!
//! (Benchmarks build unwinding whatever the profile's `panic = "abort"` says; since the driver's
//! logic is an rlib of its own, that build never collides with the abort build of the binaries.)
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
    use std::time::Duration;

    use criterion::{Criterion, Throughput};
    use test_fixtures::{Receiver, Rig};
    use wdk_model::KernelConfig;
    use wdk_model::harness::IoMode;
    use wsk_sample_ioctl::{
        BATCH_REPLY_SIZE, BatchReply, Destination, IOCTL_WSK_SAMPLE_SEND,
        IOCTL_WSK_SAMPLE_SEND_BATCH, MAX_BATCH_DATAGRAMS, SEND_REPLY_SIZE, batch_request_len,
        encode_batch, encode_send, send_request_len,
    };

    const PAYLOAD: usize = 64;

    pub fn send_path(c: &mut Criterion) {
        // A synchronous handle, like wskctl's: one request at a time.
        let rig =
            Rig::load(KernelConfig::default(), IoMode::Synchronous).expect("the driver loads");
        let receiver = Receiver::v4();
        let destination = Destination::Address(receiver.address());
        let payload: Vec<u8> = (0..PAYLOAD).map(|i| i as u8).collect();

        let mut single = vec![0u8; send_request_len(PAYLOAD)];
        encode_send(destination, &payload, &mut single).expect("a valid send request");
        let datagrams = vec![payload.as_slice(); MAX_BATCH_DATAGRAMS];
        let mut batch =
            vec![0u8; batch_request_len(MAX_BATCH_DATAGRAMS, PAYLOAD * MAX_BATCH_DATAGRAMS)];
        encode_batch(destination, &datagrams, &mut batch).expect("a valid batch request");
        // The first send creates the driver's socket; it is not part of the measurement.
        rig.ioctl_ok(IOCTL_WSK_SAMPLE_SEND, &single, SEND_REPLY_SIZE);
        let reply = rig.ioctl_ok(IOCTL_WSK_SAMPLE_SEND_BATCH, &batch, BATCH_REPLY_SIZE);
        let reply = BatchReply::decode(&reply).expect("a batch reply");
        assert_eq!(reply.datagrams_sent as usize, MAX_BATCH_DATAGRAMS);

        let mut group = c.benchmark_group("send_path");
        group.measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(1));
        group.bench_function("one_ioctl_per_datagram_64B", |b| {
            b.iter(|| {
                black_box(rig.ioctl_ok(IOCTL_WSK_SAMPLE_SEND, black_box(&single), SEND_REPLY_SIZE))
            })
        });
        group.throughput(Throughput::Elements(MAX_BATCH_DATAGRAMS as u64));
        group.bench_function("batch_256x64B", |b| {
            b.iter(|| {
                black_box(rig.ioctl_ok(
                    IOCTL_WSK_SAMPLE_SEND_BATCH,
                    black_box(&batch),
                    BATCH_REPLY_SIZE,
                ))
            })
        });
        group.finish();

        rig.finish();
    }
}

#[cfg(not(target_os = "windows"))]
criterion::criterion_group!(benches, model::send_path);
#[cfg(not(target_os = "windows"))]
criterion::criterion_main!(benches);

#[cfg(target_os = "windows")]
fn main() {}
