//! Completion timing: inline before the call returns, on another thread (also finished before
//! the call returns), late; and sends that never complete: an orderly removal with the handle
//! open is vetoed and touches nothing, a surprise removal cancels them (EvtIoStop → close) within
//! a bound, and the unload after it leaves nothing behind.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use test_fixtures::{Receiver, Rig, pattern};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{BatchReply, ConfigAction, Destination, Family};

fn mixed_workload(rig: &Rig, v4: &Receiver, v6: &Receiver) {
    for i in 0..5u8 {
        let payload = pattern(100 + usize::from(i), i);
        rig.send_ok(v4.address(), &payload);
        assert_eq!(v4.receive().0, payload);
        rig.send_ok(v6.address(), &payload);
        assert_eq!(v6.receive().0, payload);
    }
    assert_eq!(
        rig.configure(ConfigAction::FixedRemote(v6.address())),
        STATUS_SUCCESS
    );
    let payloads: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 48]).collect();
    let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let result = rig.send_batch(Destination::Fixed(Family::V6), &slices);
    assert_eq!(result.status, STATUS_SUCCESS);
    assert_eq!(
        BatchReply::decode(&result.output)
            .expect("reply")
            .datagrams_sent,
        16
    );
    for expected in &payloads {
        assert_eq!(&v6.receive().0, expected);
    }
}

#[test]
fn every_completion_mode_delivers_and_unloads_clean() {
    let modes = [
        CompletionMode::Inline,
        CompletionMode::Async,
        CompletionMode::Delayed(Duration::from_millis(20)),
        CompletionMode::OtherThreadBeforeReturn,
    ];
    for completion in modes {
        for send_messages_supported in [true, false] {
            let rig = Rig::with(KernelConfig {
                completion,
                send_messages_supported,
                ..KernelConfig::default()
            });
            let (v4, v6) = (Receiver::v4(), Receiver::v6());
            if send_messages_supported {
                mixed_workload(&rig, &v4, &v6);
            } else {
                rig.send_ok(v4.address(), b"fallback");
                assert_eq!(v4.receive().0, b"fallback");
            }
            let report = rig.unload();
            assert!(report.is_clean(), "{completion:?}: {report}");
        }
    }
}

#[test]
fn sends_that_never_complete_are_cancelled_at_surprise_removal_and_unload_finishes() {
    let rig = Arc::new(Rig::with(KernelConfig {
        completion: CompletionMode::NeverForSends,
        ..KernelConfig::default()
    }));
    let (v4, v6) = (Receiver::v4(), Receiver::v6());
    let mut pending = Vec::new();
    for (i, to) in [v4.address(), v6.address(), v4.address()]
        .into_iter()
        .enumerate()
    {
        let rig = rig.clone();
        pending.push(std::thread::spawn(move || {
            rig.send(to, &[i as u8; 10]).status
        }));
    }
    {
        let rig = rig.clone();
        let to = v6.address();
        pending.push(std::thread::spawn(move || {
            let datagrams: [&[u8]; 3] = [b"a", b"b", b"c"];
            rig.send_batch(Destination::Address(to), &datagrams).status
        }));
    }
    // Wait until all four are with the provider.
    let deadline = Instant::now() + Duration::from_secs(10);
    while rig.kernel.counters().wsk_send_to + rig.kernel.counters().wsk_send_messages < 4 {
        assert!(Instant::now() < deadline, "the sends never reached WSK");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(rig.stats().in_flight, 4);
    // An orderly removal while the handle is open is vetoed: nothing is purged.
    let vetoed = rig.kernel.unload();
    assert!(vetoed.vetoed.is_some(), "{vetoed}");
    assert_eq!(
        rig.stats().in_flight,
        4,
        "a vetoed removal purged the queue"
    );
    let started = Instant::now();
    rig.kernel.surprise_remove();
    let took = started.elapsed();
    for thread in pending {
        assert_eq!(
            thread.join().expect("sender"),
            STATUS_CANCELLED,
            "a stuck send completes as cancelled"
        );
    }
    assert!(took < Duration::from_secs(15), "removal took {took:?}");
    let rig = Arc::into_inner(rig).expect("every sender has finished");
    let report = rig.unload();
    assert!(report.is_clean(), "{report}");
    v4.assert_nothing_more();
    v6.assert_nothing_more();
}
