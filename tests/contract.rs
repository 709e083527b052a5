//! The send contract, measured in the model: each send allocates exactly one IRP, its
//! completion routine runs once, frees it and returns the slot; steady state allocates no pool
//! and no MDL; unload leaves nothing behind.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

mod common;

use common::{Bench, Receiver, pattern};
use wdk_model::{CompletionMode, KernelConfig};

fn contract(config: KernelConfig) {
    let bench = Bench::with(config);
    let receiver = Receiver::v4();
    // The first send creates, binds and names the socket (control-path IRPs); measure after it.
    bench.send_ok(receiver.address(), b"warm-up");
    receiver.receive();
    let before = bench.kernel.counters();
    let pool_before = bench.kernel.pool_in_use(wsk_sample_ioctl::POOL_TAG);
    const SENDS: u64 = 200;
    for i in 0..SENDS {
        let payload = pattern(64 + (i as usize % 900), i as u8);
        bench.send_ok(receiver.address(), &payload);
        let (received, _) = receiver.receive();
        assert_eq!(received, payload);
    }
    let after = bench.kernel.counters();
    assert_eq!(
        after.irp_allocations - before.irp_allocations,
        SENDS,
        "one IRP per send"
    );
    assert_eq!(
        after.irp_frees - before.irp_frees,
        SENDS,
        "every send IRP freed"
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
        bench.kernel.pool_in_use(wsk_sample_ioctl::POOL_TAG),
        pool_before,
        "pool use is steady"
    );
    let stats = bench.stats();
    assert_eq!(
        stats.pool_free, stats.pool_slots,
        "every slot is back in the pool"
    );
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.datagrams_sent, SENDS + 1);
    assert!(
        bench.kernel.violations().is_empty(),
        "{:?}",
        bench.kernel.violations()
    );
    bench.finish();
}

#[test]
fn one_irp_per_send_freed_by_its_completion_routine_async() {
    contract(KernelConfig::default());
}

#[test]
fn one_irp_per_send_freed_by_its_completion_routine_inline() {
    contract(KernelConfig {
        completion: CompletionMode::Inline,
        ..KernelConfig::default()
    });
}

#[test]
fn unload_after_many_sends_on_both_families_leaves_nothing() {
    let bench = Bench::new();
    let v4 = Receiver::v4();
    let v6 = Receiver::v6();
    for i in 0..300u32 {
        let receiver = if i % 2 == 0 { &v4 } else { &v6 };
        bench.send_ok(receiver.address(), &i.to_le_bytes());
    }
    for _ in 0..150 {
        v4.receive();
        v6.receive();
    }
    let stats = bench.stats();
    assert_eq!(stats.datagrams_sent, 300);
    assert_eq!(stats.bytes_sent, 1_200);
    let kernel = bench.close();
    let report = kernel.unload();
    assert!(report.is_clean(), "{report}");
    // Unload closed both sockets with IRPs of their own, all freed (and the receive buffers'
    // IRPs, which live from load to unload).
    let counters = kernel.counters();
    assert_eq!(counters.irp_allocations, counters.irp_frees);
}

#[test]
fn sends_keep_working_when_the_pool_is_exhausted_and_refilled() {
    // More sends in flight than slots: with late completions the pool runs dry, sends wait for
    // slots (bounded) and every one still completes.
    let config = KernelConfig {
        completion: CompletionMode::Delayed(std::time::Duration::from_millis(5)),
        ..KernelConfig::default()
    };
    let bench = std::sync::Arc::new(Bench::with(config));
    let receiver = Receiver::v4();
    let to = receiver.address();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let bench = bench.clone();
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    bench.send_ok(to, &[t, i]);
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
    let Ok(bench) = std::sync::Arc::try_unwrap(bench) else {
        panic!("bench still shared")
    };
    bench.finish();
}
