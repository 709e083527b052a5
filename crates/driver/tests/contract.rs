//! The send contract, measured in the model: a send allocates nothing (no IRP, no pool, no
//! MDL): it goes out on its slot's IRP, reinitialised with IoReuseIrp; its completion routine
//! runs once, keeps the IRP and returns the slot; unload frees the slots' IRPs and leaves
//! nothing behind.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use test_fixtures::{Receiver, Rig, pattern};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::{IOCTL_WSK_SAMPLE_RECEIVE_STATS, RECEIVE_STATS_SIZE, ReceiveStats};

fn contract(config: KernelConfig) {
    let rig = Rig::with(config);
    let receiver = Receiver::v4();
    // The first send creates, binds and names the socket (control-path IRPs); measure after it.
    rig.send_ok(receiver.address(), b"warm-up");
    receiver.receive();
    let before = rig.kernel.counters();
    let pool_before = rig.kernel.pool_in_use(wsk_sample_ioctl::POOL_TAG);
    const SENDS: u64 = 200;
    for i in 0..SENDS {
        let payload = pattern(64 + (i as usize % 900), i as u8);
        rig.send_ok(receiver.address(), &payload);
        let (received, _) = receiver.receive();
        assert_eq!(received, payload);
    }
    let after = rig.kernel.counters();
    assert_eq!(
        after.irp_allocations, before.irp_allocations,
        "no IRP allocated per send: each goes out on its slot's IRP"
    );
    assert_eq!(
        after.irp_frees, before.irp_frees,
        "no IRP freed per send: the slot keeps its IRP"
    );
    assert_eq!(
        after.completion_routines - before.completion_routines,
        SENDS,
        "one completion routine per send"
    );
    assert_eq!(after.wsk_send_to - before.wsk_send_to, SENDS);
    assert_eq!(
        after.pool_allocations, before.pool_allocations,
        "no pool allocation on the send path"
    );
    assert_eq!(
        after.mdl_allocations, before.mdl_allocations,
        "no MDL allocation on the send path"
    );
    assert_eq!(
        rig.kernel.pool_in_use(wsk_sample_ioctl::POOL_TAG),
        pool_before,
        "pool use is steady"
    );
    let stats = rig.stats();
    assert_eq!(
        stats.pool_free, stats.pool_slots,
        "every slot is back in the pool"
    );
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.datagrams_sent, SENDS + 1);
    assert!(
        rig.kernel.violations().is_empty(),
        "{:?}",
        rig.kernel.violations()
    );
    rig.finish();
}

#[test]
fn no_irp_per_send_the_slots_irp_is_reused_async() {
    contract(KernelConfig::default());
}

#[test]
fn no_irp_per_send_the_slots_irp_is_reused_inline() {
    contract(KernelConfig {
        completion: CompletionMode::Inline,
        ..KernelConfig::default()
    });
}

#[test]
fn unload_after_many_sends_on_both_families_leaves_nothing() {
    let rig = Rig::new();
    let v4 = Receiver::v4();
    let v6 = Receiver::v6();
    for i in 0..300u32 {
        let receiver = if i % 2 == 0 { &v4 } else { &v6 };
        rig.send_ok(receiver.address(), &i.to_le_bytes());
    }
    for _ in 0..150 {
        v4.receive();
        v6.receive();
    }
    let stats = rig.stats();
    assert_eq!(stats.datagrams_sent, 300);
    assert_eq!(stats.bytes_sent, 1_200);
    let counters = rig.kernel.counters();
    let receive = rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_STATS, &[], RECEIVE_STATS_SIZE);
    let receive = ReceiveStats::decode(&receive.output).expect("well-formed receive stats");
    // Before unload the only live IRPs are the slots' own and the receive buffers', one each
    // (control-path IRPs are freed by their calls).
    assert_eq!(
        counters.irp_allocations - counters.irp_frees,
        u64::from(stats.pool_slots) + u64::from(receive.buffers)
    );
    let report = rig.unload();
    // Unload closed both sockets with IRPs of their own and freed the slots' IRPs: a live IRP
    // would be a LEAK in the report.
    assert!(report.is_clean(), "{report}");
}

#[test]
fn sends_keep_working_when_the_pool_is_exhausted_and_refilled() {
    // More sends in flight than slots: with late completions the pool runs dry, sends wait for
    // slots (bounded) and every one still completes.
    let config = KernelConfig {
        completion: CompletionMode::Delayed(std::time::Duration::from_millis(5)),
        ..KernelConfig::default()
    };
    let rig = std::sync::Arc::new(Rig::with(config));
    let receiver = Receiver::v4();
    let to = receiver.address();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let rig = rig.clone();
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    rig.send_ok(to, &[t, i]);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("sender thread");
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..100 {
        let (datagram, _) = receiver.receive();
        assert!(seen.insert(datagram), "duplicate datagram");
    }
    receiver.assert_nothing_more();
    let Ok(rig) = std::sync::Arc::try_unwrap(rig) else {
        panic!("rig still shared")
    };
    rig.finish();
}
