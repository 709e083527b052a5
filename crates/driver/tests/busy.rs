//! STATUS_DEVICE_BUSY refusals have their own counter (`failed_busy`, stats reply offset 240):
//! a reconfiguration refused because sends are in flight is busy, not "no resources" (nothing
//! ran short; issue 13, item 6).
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Bench, Receiver};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::ConfigAction;
use wsk_sample_ioctl::status::{STATUS_DEVICE_BUSY, STATUS_SUCCESS};

#[test]
fn a_configuration_refused_while_sends_are_in_flight_counts_as_busy() {
    let config = KernelConfig {
        completion: CompletionMode::Delayed(Duration::from_millis(600)),
        ..KernelConfig::default()
    };
    let bench = Arc::new(Bench::with(config));
    let target = Receiver::v4();
    bench.send_ok(target.address(), b"create the socket");
    target.receive();
    let sender = {
        let bench = bench.clone();
        let to = target.address();
        std::thread::spawn(move || bench.send_ok(to, b"slow"))
    };
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(bench.stats().in_flight, 1);
    let before = bench.stats();
    let bind = ConfigAction::Bind("127.0.0.1:0".parse().expect("address"));
    assert_eq!(bench.configure(bind), STATUS_DEVICE_BUSY);
    let after = bench.stats();
    assert_eq!(after.failed_busy, before.failed_busy + 1);
    assert_eq!(after.failed_no_resources, before.failed_no_resources);
    assert_eq!(after.failed_total(), before.failed_total() + 1);
    sender.join().expect("sender");
    assert_eq!(target.receive().0, b"slow");
    assert_eq!(bench.configure(bind), STATUS_SUCCESS);
    assert_eq!(bench.stats().failed_busy, after.failed_busy);
    let Ok(bench) = Arc::try_unwrap(bench) else {
        panic!("bench still shared")
    };
    bench.finish();
}
