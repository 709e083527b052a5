//! STATUS_DEVICE_BUSY refusals have their own counter (`failed_busy`, stats reply offset 240):
//! a reconfiguration refused because sends are in flight is busy, not "no resources" (nothing
//! ran short; issue 13, item 6).
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::sync::Arc;
use std::time::Duration;

use test_fixtures::{Receiver, Rig};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::ConfigAction;
use wsk_sample_ioctl::status::{STATUS_DEVICE_BUSY, STATUS_SUCCESS};

#[test]
fn a_configuration_refused_while_sends_are_in_flight_counts_as_busy() {
    let config = KernelConfig {
        completion: CompletionMode::Delayed(Duration::from_millis(600)),
        ..KernelConfig::default()
    };
    let rig = Arc::new(Rig::with(config));
    let target = Receiver::v4();
    rig.send_ok(target.address(), b"create the socket");
    target.receive();
    let sender = {
        let rig = rig.clone();
        let to = target.address();
        std::thread::spawn(move || rig.send_ok(to, b"slow"))
    };
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rig.stats().in_flight, 1);
    let before = rig.stats();
    let bind = ConfigAction::Bind("127.0.0.1:0".parse().expect("address"));
    assert_eq!(rig.configure(bind), STATUS_DEVICE_BUSY);
    let after = rig.stats();
    assert_eq!(after.failed_busy, before.failed_busy + 1);
    assert_eq!(after.failed_no_resources, before.failed_no_resources);
    assert_eq!(after.failed_total(), before.failed_total() + 1);
    sender.join().expect("sender");
    assert_eq!(target.receive().0, b"slow");
    assert_eq!(rig.configure(bind), STATUS_SUCCESS);
    assert_eq!(rig.stats().failed_busy, after.failed_busy);
    let Ok(rig) = Arc::try_unwrap(rig) else {
        panic!("rig still shared")
    };
    rig.finish();
}
