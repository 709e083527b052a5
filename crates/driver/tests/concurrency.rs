//! Several threads sending (single and batched, both families), configuring and querying at
//! once, then unload: every datagram the driver reports sent arrives exactly once, and the
//! report is clean.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use test_fixtures::{Receiver, Rig};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{BatchReply, ConfigAction, Destination, Family};

/// A datagram that names its sender thread and sequence, so a double shows.
fn tagged(thread: u8, sequence: u32) -> Vec<u8> {
    let mut datagram = vec![thread];
    datagram.extend_from_slice(&sequence.to_le_bytes());
    datagram.resize(40, thread);
    datagram
}

fn collect(receiver: &Receiver) -> Vec<Vec<u8>> {
    receiver
        .socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut all = Vec::new();
    let mut buffer = [0u8; 2048];
    while let Ok((n, _)) = receiver.socket.recv_from(&mut buffer) {
        all.push(buffer[..n].to_vec());
    }
    all
}

fn run(completion: CompletionMode) {
    let rig = Arc::new(Rig::with(KernelConfig {
        completion,
        ..KernelConfig::default()
    }));
    let (v4, v6) = (Receiver::v4(), Receiver::v6());
    let targets: [SocketAddr; 2] = [v4.address(), v6.address()];
    let sent = [Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0))];
    let mut threads = Vec::new();
    for thread in 0..4u8 {
        let (rig, sent) = (rig.clone(), sent.clone());
        threads.push(std::thread::spawn(move || {
            let family = usize::from(thread % 2);
            for sequence in 0..150u32 {
                let datagram = tagged(thread, sequence);
                let result = if sequence % 10 == 0 {
                    let second = tagged(thread, sequence + 100_000);
                    let batch: [&[u8]; 2] = [&datagram, &second];
                    let result = rig.send_batch(Destination::Address(targets[family]), &batch);
                    if result.status == STATUS_SUCCESS {
                        let reply = BatchReply::decode(&result.output).expect("reply");
                        sent[family].fetch_add(u64::from(reply.datagrams_sent), Ordering::SeqCst);
                    }
                    result.status
                } else {
                    let result = rig.send(targets[family], &datagram);
                    if result.status == STATUS_SUCCESS {
                        sent[family].fetch_add(1, Ordering::SeqCst);
                    }
                    result.status
                };
                // Sends may only lose a race with a reconfiguration of their family.
                assert!(
                    result == STATUS_SUCCESS || result == STATUS_DEVICE_BUSY,
                    "send: {result:#010x}"
                );
            }
        }));
    }
    {
        let rig = rig.clone();
        threads.push(std::thread::spawn(move || {
            for round in 0..30 {
                let action = match round % 3 {
                    0 => ConfigAction::FixedSendTo(targets[0]),
                    1 => ConfigAction::ClearFixed(Family::V4),
                    _ => ConfigAction::Bind("[::1]:0".parse().expect("address")),
                };
                let status = rig.configure(action);
                assert!(
                    status == STATUS_SUCCESS || status == STATUS_DEVICE_BUSY,
                    "configure: {status:#010x}"
                );
                let stats = rig.stats();
                assert!(stats.pool_free <= stats.pool_slots);
            }
        }));
    }
    for thread in threads {
        thread.join().expect("worker");
    }
    for (family, receiver) in [&v4, &v6].into_iter().enumerate() {
        let received = collect(receiver);
        let unique: HashSet<&Vec<u8>> = received.iter().collect();
        assert_eq!(unique.len(), received.len(), "a datagram arrived twice");
        assert_eq!(
            received.len() as u64,
            sent[family].load(Ordering::SeqCst),
            "datagrams reported sent vs received"
        );
    }
    let stats = rig.stats();
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.pool_free, stats.pool_slots);
    assert_eq!(
        stats.datagrams_sent,
        sent.iter().map(|s| s.load(Ordering::SeqCst)).sum::<u64>()
    );
    let rig = Arc::into_inner(rig).expect("every worker has finished");
    let report = rig.unload();
    assert!(report.is_clean(), "{report}");
}

#[test]
fn concurrent_senders_configurers_and_queries_lose_and_double_nothing() {
    run(CompletionMode::Async);
}

#[test]
fn the_same_with_inline_completion() {
    run(CompletionMode::Inline);
}
