//! Sockets created after their WskSocket call timed out ("orphans") are never lost: each is
//! closed before unload's WskDeregister, which otherwise blocks forever on the open socket
//! (Learn, WskDeregister). The control-call bound is shortened for this binary only
//! (`set_control_timeout_ms`, host builds only), so every WSK call of the delayed kernel
//! outlasts it and the test stays fast.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::time::Duration;

use test_fixtures::{Receiver, Rig};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::status::*;

const TIMEOUT_MS: u32 = 100;
const DELAY: Duration = Duration::from_millis(300);

#[test]
fn sockets_created_after_their_call_timed_out_are_all_closed_before_unload() {
    wsk_sample_driver::set_control_timeout_ms(TIMEOUT_MS);
    let rig = Rig::with(KernelConfig {
        completion: CompletionMode::Delayed(DELAY),
        ..KernelConfig::default()
    });
    let v4 = Receiver::v4();
    // Each send's WskSocket times out and its socket arrives late; the pause lets the late
    // completion land before the next send creates another.
    for _ in 0..3 {
        let status = rig.send(v4.address(), b"late").status;
        assert_ne!(
            status, STATUS_SUCCESS,
            "every control call outlasts the bound"
        );
        std::thread::sleep(DELAY + Duration::from_millis(150));
    }
    let report = rig.unload();
    assert!(report.is_clean(), "{report}");
}
