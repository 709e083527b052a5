//! A reconfiguration that fails leaves the driver in the state it reports: a Bind whose old
//! socket's close times out keeps the previous bind address (the next lazily created socket
//! binds there, not to the address CONFIGURE reported as failed), and a pool resize that
//! cannot build the new pool keeps the old one.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use test_fixtures::{Receiver, Rig};
use wdk_model::{CompletionMode, Fault, FaultSite, KernelConfig};
use wsk_sample_ioctl::ConfigAction;
use wsk_sample_ioctl::status::*;

const DELAY: Duration = Duration::from_millis(150);

/// The control-call bound is one setting for the whole process: the tests here take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn a_bind_whose_old_close_timed_out_keeps_the_previous_address() {
    let _turn = one_at_a_time();
    let previous: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let refused: SocketAddr = "127.0.0.3:0".parse().expect("address");
    // Every WSK call completes after DELAY: within the bound at first.
    wsk_sample_driver::set_control_timeout_ms(5_000);
    let rig = Rig::with(KernelConfig {
        completion: CompletionMode::Delayed(DELAY),
        ..KernelConfig::default()
    });
    let v4 = Receiver::v4();
    assert_eq!(rig.configure(ConfigAction::Bind(previous)), STATUS_SUCCESS);
    // Now the old socket's close outlasts the bound: the Bind fails.
    wsk_sample_driver::set_control_timeout_ms(20);
    assert_eq!(
        rig.configure(ConfigAction::Bind(refused)),
        STATUS_DEVICE_BUSY
    );
    wsk_sample_driver::set_control_timeout_ms(5_000);
    std::thread::sleep(DELAY * 2);
    rig.send_ok(v4.address(), b"after a failed bind");
    let (_, from) = v4.receive();
    assert_eq!(
        rig.stats().local_v4.map(|local| local.ip()),
        Some(previous.ip()),
        "the socket was bound to the address CONFIGURE reported as failed"
    );
    assert_eq!(from.ip(), previous.ip());
    let report = rig.unload();
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_resize_that_cannot_build_the_new_pool_keeps_the_old_one() {
    let _turn = one_at_a_time();
    let old = wsk_sample_driver::DEFAULT_SLOT_COUNT;
    // One MDL per slot and per receive buffer: the first `old` are the boot pool's, the next
    // 2 x RECEIVE_BUFFERS the two receivers' (built after the pool at load). The new pool's 11th
    // slot fails, and so does the next allocation (a rebuild of the old pool after destroying it).
    let mdl = |nth| Fault {
        site: FaultSite::MdlAllocate,
        nth,
        status: 0,
    };
    let first = u64::from(old) + 2 * wsk_sample_driver::RECEIVE_BUFFERS as u64 + 11;
    let rig = Rig::with(KernelConfig {
        faults: vec![mdl(first), mdl(first + 1)],
        ..KernelConfig::default()
    });
    assert_eq!(
        rig.configure(ConfigAction::PoolSlots(old * 2)),
        STATUS_INSUFFICIENT_RESOURCES
    );
    let stats = rig.stats();
    assert_eq!((stats.pool_slots, stats.pool_free), (old, old));
    let v4 = Receiver::v4();
    rig.send_ok(v4.address(), b"the old pool still sends");
    assert_eq!(v4.receive().0, b"the old pool still sends");
    let report = rig.unload();
    assert!(report.is_clean(), "{report}");
}
