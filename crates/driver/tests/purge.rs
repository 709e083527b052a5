//! Surprise removal (EvtIoStop's purge) cancels stuck sends even when a control call was just
//! abandoned: the purge's close waits for that call instead of parking the socket (a parked
//! socket would be closed only in device cleanup, which runs after the purge, which waits for
//! the sends only that close cancels). The control-call bound is shortened for this binary
//! only (`set_control_timeout_ms`, host builds only).
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use test_fixtures::{Receiver, Rig};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::ConfigAction;
use wsk_sample_ioctl::status::*;

const DELAY: Duration = Duration::from_millis(300);

#[test]
fn the_purge_closes_the_socket_even_while_a_control_call_is_abandoned() {
    wsk_sample_driver::set_control_timeout_ms(2_000);
    let rig = Arc::new(Rig::with(KernelConfig {
        completion: CompletionMode::NeverForSendsSlowControl(DELAY),
        request_timeout: Duration::from_secs(5),
        ..KernelConfig::default()
    }));
    let (v4, v6) = (Receiver::v4(), Receiver::v6());
    let sender = {
        let rig = rig.clone();
        let to = v4.address();
        std::thread::spawn(move || rig.send(to, b"stuck").status)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while rig.kernel.counters().wsk_send_to < 1 {
        assert!(Instant::now() < deadline, "the send never reached WSK");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The IPv6 socket's creation outlasts the bound: that call is abandoned, and stays so
    // for about DELAY.
    wsk_sample_driver::set_control_timeout_ms(50);
    assert_ne!(
        rig.configure(ConfigAction::FixedRemote(v6.address())),
        STATUS_SUCCESS
    );
    rig.kernel.surprise_remove();
    assert_eq!(
        sender.join().expect("sender"),
        STATUS_CANCELLED,
        "the stuck send was cancelled by the purge's close"
    );
    let rig = Arc::into_inner(rig).expect("the sender has finished");
    let report = rig.unload();
    assert!(report.is_clean(), "{report}");
}
