//! The real driver, on the kernel model, sending real datagrams over loopback.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use test_fixtures::{Receiver, Rig, pattern};
use wdk_model::CompletionMode;
use wdk_model::KernelConfig;

fn datagrams_arrive_byte_for_byte(config: KernelConfig) {
    let rig = Rig::with(config);
    let v4 = Receiver::v4();
    let v6 = Receiver::v6();
    let cases = [
        (&v4, 1usize),
        (&v4, 1_472),
        (&v4, 65_507),
        (&v6, 1),
        (&v6, 1_232),
        (&v6, 65_527),
    ];
    let mut sources = Vec::new();
    for (index, (receiver, length)) in cases.into_iter().enumerate() {
        let payload = pattern(length, index as u8);
        let reply = rig.send_ok(receiver.address(), &payload);
        assert_eq!(reply.bytes_sent as usize, length);
        assert_eq!(reply.sequence, index as u64 + 1);
        let (received, from) = receiver.receive();
        assert_eq!(received.len(), length);
        assert!(received == payload, "{length}-byte datagram corrupted");
        sources.push(from);
    }
    let stats = rig.stats();
    // Every datagram left from the driver's bound socket of its family.
    assert_eq!(
        Some(sources[0]).map(|a| a.port()),
        stats.local_v4.map(|a| a.port())
    );
    assert!(sources[..3].iter().all(|s| s.port() == sources[0].port()));
    assert_eq!(Some(sources[3].port()), stats.local_v6.map(|a| a.port()));
    assert!(sources[3..].iter().all(|s| s.port() == sources[3].port()));
    assert_eq!(stats.datagrams_sent, 6);
    assert_eq!(
        stats.bytes_sent,
        (1 + 1_472 + 65_507 + 1 + 1_232 + 65_527) as u64
    );
    assert_eq!(stats.failed_total(), 0);
    v4.assert_nothing_more();
    v6.assert_nothing_more();
    rig.finish();
}

#[test]
fn datagrams_arrive_byte_for_byte_with_asynchronous_completion() {
    datagrams_arrive_byte_for_byte(KernelConfig::default());
}

#[test]
fn datagrams_arrive_byte_for_byte_with_inline_completion() {
    datagrams_arrive_byte_for_byte(KernelConfig {
        completion: CompletionMode::Inline,
        ..KernelConfig::default()
    });
}

#[test]
fn datagrams_arrive_byte_for_byte_with_late_completion() {
    let config = KernelConfig {
        completion: CompletionMode::Delayed(std::time::Duration::from_millis(20)),
        ..KernelConfig::default()
    };
    datagrams_arrive_byte_for_byte(config);
}
