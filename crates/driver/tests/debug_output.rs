//! The driver's debug output (DbgPrintEx): what a driver engineer sees in DebugView or the
//! kernel debugger at load, first use, failure and unload.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use test_fixtures::{Receiver, Rig};
use wdk_model::harness::Kernel;
use wdk_model::{DebugLine, Fault, FaultSite, KernelConfig};

/// The lines printed so far, as "LEVEL text".
fn lines(kernel: &Kernel) -> Vec<String> {
    kernel
        .debug_output()
        .iter()
        .map(|line: &DebugLine| {
            assert_eq!(line.component, 80, "DPFLTR_IHVNETWORK_ID");
            assert!(
                line.text.starts_with("wsk_sample: "),
                "prefixed: {}",
                line.text
            );
            format!("{} {}", line.level_name(), line.text)
        })
        .collect()
}

fn position(lines: &[String], wanted: &str) -> usize {
    lines
        .iter()
        .position(|line| line.contains(wanted))
        .unwrap_or_else(|| panic!("no line with {wanted:?} in {lines:#?}"))
}

#[test]
fn load_first_send_and_unload_are_printed_in_order() {
    let rig = Rig::new();
    let receiver = Receiver::v4();
    rig.send_ok(receiver.address(), b"hello");
    receiver.receive();
    // The handle is closed first: an orderly removal with it open would be vetoed.
    let kernel = rig.close();
    let report = kernel.unload();
    assert!(report.is_clean(), "{report}");
    let lines = lines(&kernel);
    let loaded = position(&lines, "INFO wsk_sample: loaded");
    let device = position(&lines, "INFO wsk_sample: device ready: \\Device\\WskSample");
    let ready = position(&lines, "INFO wsk_sample: WSK ready");
    let socket = position(
        &lines,
        "INFO wsk_sample: IPv4: datagram socket created, bound to 0.0.0.0:",
    );
    let unloaded = position(&lines, "INFO wsk_sample: unloaded");
    assert!(loaded < device && device < ready && ready < socket && socket < unloaded);
    assert!(
        !lines.iter().any(|line| line.starts_with("ERROR")),
        "a clean run prints no error: {lines:#?}"
    );
}

#[test]
fn a_failed_bind_is_printed_with_its_status() {
    let rig = Rig::with(KernelConfig {
        faults: vec![Fault {
            site: FaultSite::WskBind,
            nth: 1,
            status: 0xC000_0022_u32 as i32, // STATUS_ACCESS_DENIED
        }],
        ..KernelConfig::default()
    });
    let receiver = Receiver::v4();
    let result = rig.send(receiver.address(), b"x");
    assert!(result.status < 0);
    let lines = lines(&rig.kernel);
    position(
        &lines,
        "ERROR wsk_sample: IPv4: WskBind failed with 0xC0000022",
    );
    assert!(rig.unload().is_clean());
}
