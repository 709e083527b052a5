//! Races of the receive-event path (receive/events.rs) against the engine stopping the
//! receiver and closing its socket. The model reports a WskCloseSocket with a list still
//! retained (WSK_INDICATION_NOT_RELEASED) and any WskRelease on a socket that is no longer
//! live (WSK_SOCKET_INVALID); Learn, PFN_WSK_CLOSE_SOCKET: no call on the socket may be in
//! progress when it is closed, and PFN_WSK_RELEASE_DATA_INDICATION_LIST: every retained list
//! is released before the close.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use test_fixtures::{Rig, pattern};
use wdk_model::harness::{Access, IoMode};
use wdk_model::{Caller, Fault, FaultSite, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::*;

const MAX: usize = 65_536;
/// Rounds of the failed-enable race (cheap: no datagram, about 1 ms each).
const ENABLE_ROUNDS: u32 = 1_600;
/// The races run one at a time, so that their timing does not depend on each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
/// Rounds of the race; the request starts 0 to 79 µs after the stopper, a microsecond later
/// each round (the window found the bug within this range on a loaded 2-core machine).
const ROUNDS: u32 = 400;

/// What ends receiving while the request runs.
#[derive(Clone, Copy, Debug)]
enum Stopper {
    /// RECEIVE_MODE Off: disable the callback, `stop`, close.
    ModeOff,
    /// A rebind (CONFIG Bind): `stop` without the disable, close, a new socket.
    Rebind,
}

/// A request that takes the last datagram of a kept list releases the list (WskRelease) while
/// another thread ends receiving, which stops the receiver and closes the socket. The release
/// must not overlap or follow that close: `stop` waits for it. Each round keeps one large
/// datagram (so completing the request copies 60 KB, a wide window), then races the request
/// against the stopper, the request a few microseconds later each round.
fn request_releasing_the_last_list_races(stopper: Stopper) {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let rig = Arc::new(Rig::new());
    let address: SocketAddr = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port");
    assert_eq!(rig.configure(ConfigAction::Bind(address)), STATUS_SUCCESS);
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    let payload = pattern(60_000, 7);
    let mut outcomes = [0u32; 2];
    for round in 0..ROUNDS {
        assert_eq!(
            rig.set_receive_mode(Family::V4, ReceiveMode::Receive, Delivery::Events),
            STATUS_SUCCESS,
            "{stopper:?} round {round}: start"
        );
        let before = rig.receive_stats().datagrams;
        client.send_to(&payload, address).expect("send");
        let deadline = Instant::now() + Duration::from_secs(5);
        while rig.receive_stats().datagrams == before {
            assert!(
                Instant::now() < deadline,
                "{stopper:?} round {round}: never indicated"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        let barrier = Arc::new(Barrier::new(2));
        let taker = {
            let (rig, barrier) = (rig.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_micros(u64::from(round % 80)) {
                    std::hint::spin_loop();
                }
                rig.receive(Family::V4, RECEIVE_HEADER_SIZE + MAX).status
            })
        };
        barrier.wait();
        let stopped = match stopper {
            Stopper::ModeOff => {
                rig.set_receive_mode(Family::V4, ReceiveMode::Off, Delivery::Events)
            }
            Stopper::Rebind => rig.configure(ConfigAction::Bind(address)),
        };
        assert_eq!(stopped, STATUS_SUCCESS, "{stopper:?} round {round}: stop");
        let status = taker.join().expect("taker thread");
        match status {
            STATUS_SUCCESS => outcomes[0] += 1,
            STATUS_INVALID_DEVICE_STATE | STATUS_CANCELLED => outcomes[1] += 1,
            other => panic!("{stopper:?} round {round}: the request ended with {other:#x}"),
        }
        let violations = rig.kernel.violations();
        assert!(
            violations.is_empty(),
            "{stopper:?} round {round}: {violations:#?} (outcomes so far {outcomes:?})"
        );
    }
    eprintln!("{stopper:?}: requests that took the datagram / came too late: {outcomes:?}");
    Arc::into_inner(rig).expect("one owner").finish();
}

#[test]
fn a_request_releasing_the_last_list_never_races_the_close_of_mode_off() {
    request_releasing_the_last_list_races(Stopper::ModeOff);
}

#[test]
fn a_request_releasing_the_last_list_never_races_the_close_of_a_rebind() {
    request_releasing_the_last_list_races(Stopper::Rebind);
}

/// Receiving on the family's wildcard socket in event mode; its local address.
fn receiving_on_a_new_socket(rig: &Rig) -> SocketAddr {
    assert_eq!(
        rig.set_receive_mode(Family::V4, ReceiveMode::Receive, Delivery::Events),
        STATUS_SUCCESS
    );
    let local = rig.stats().local_v4.expect("the socket's local address");
    SocketAddr::from(([127, 0, 0, 1], local.port()))
}

/// A socket whose close could not be issued is parked (engine/socket.rs) with its event
/// callback still enabled when the disable could not be issued either: here the four IRPs of
/// switching off (the disable and three tries of the close) cannot be allocated. The callback
/// has no socket parameter, only the receiver as context (Learn, PFN_WSK_RECEIVE_FROM_EVENT),
/// so a datagram reaching the parked socket while the next run receives on a new socket would
/// be kept as a list of the new socket: released to the wrong socket, and never released
/// before the parked socket's own close. Receiving again must first close what is parked.
#[test]
fn a_parked_socket_never_indicates_into_the_next_run() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let fail = |nth| Fault {
        site: FaultSite::IrpAllocate,
        nth,
        status: 0,
    };
    // How many IRPs loading and starting take (the model counts a site's calls once a fault
    // is configured: one that never fires), so that the next four (switching off) fail.
    let probe = Rig::with(KernelConfig {
        faults: vec![fail(u64::MAX)],
        ..KernelConfig::default()
    });
    receiving_on_a_new_socket(&probe);
    let started = probe.kernel.site_calls(FaultSite::IrpAllocate);
    probe.finish();
    let rig = Rig::with(KernelConfig {
        faults: (started + 1..=started + 4).map(fail).collect(),
        ..KernelConfig::default()
    });
    let old = receiving_on_a_new_socket(&rig);
    assert_eq!(
        rig.set_receive_mode(Family::V4, ReceiveMode::Off, Delivery::Events),
        STATUS_SUCCESS
    );
    assert_eq!(
        rig.kernel.site_calls(FaultSite::IrpAllocate),
        started + 4,
        "the disable and the three tries of the close found no IRP"
    );
    // IRPs can be allocated again: the parked socket is closed first, then a new one receives.
    let new = receiving_on_a_new_socket(&rig);
    assert_ne!(new, old);
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    let _ = client.send_to(b"to the parked socket", old);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        rig.receive_stats().datagrams,
        0,
        "nothing the parked socket receives reaches the receiver's new run"
    );
    client.send_to(b"to the new socket", new).expect("send");
    let result = rig.ioctl(
        IOCTL_WSK_SAMPLE_RECEIVE,
        &ReceiveRequest { family: Family::V4 }.encode(),
        100,
    );
    assert_eq!(result.status, STATUS_SUCCESS);
    let (_, data) = ReceiveReply::decode(&result.output).expect("a reply");
    assert_eq!(data, b"to the new socket");
    let violations = rig.kernel.violations();
    assert!(violations.is_empty(), "{violations:#?}");
    rig.finish();
}

/// Starting event mode sets the mode to Receive before it enables the callback; when the
/// enable fails the mode goes back to Off. A request that arrived in between was queued to
/// wait for a datagram: it must not be left waiting in a family that is not receiving (where
/// nothing would ever complete it). Every enable fails here (SO_WSK_EVENT_CALLBACK through the
/// control site); each round starts the request a microsecond later after the start.
#[test]
fn a_request_racing_a_failed_enable_is_never_left_waiting() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let fail = |nth| Fault {
        site: FaultSite::WskControl,
        nth,
        status: STATUS_INSUFFICIENT_RESOURCES,
    };
    let rig = Arc::new(Rig::with(KernelConfig {
        faults: (1..=u64::from(ENABLE_ROUNDS)).map(fail).collect(),
        ..KernelConfig::default()
    }));
    let mut outcomes = [0u32; 2];
    for round in 0..ENABLE_ROUNDS {
        let handle = Arc::new(
            rig.kernel
                .open_with(
                    USER_DEVICE_PATH,
                    Access::READ_WRITE,
                    Caller::Administrator,
                    IoMode::Overlapped,
                )
                .expect("a second handle"),
        );
        let barrier = Arc::new(Barrier::new(2));
        let taker = {
            let (rig, handle, barrier) = (rig.clone(), handle.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_micros(u64::from(round % 80)) {
                    std::hint::spin_loop();
                }
                rig.kernel.device_io_control(
                    &handle,
                    IOCTL_WSK_SAMPLE_RECEIVE,
                    &ReceiveRequest { family: Family::V4 }.encode(),
                    100,
                )
            })
        };
        barrier.wait();
        assert_eq!(
            rig.set_receive_mode(Family::V4, ReceiveMode::Receive, Delivery::Events),
            STATUS_INSUFFICIENT_RESOURCES,
            "round {round}: the enable fails"
        );
        let deadline = Instant::now() + Duration::from_millis(500);
        while !taker.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let waiting = !taker.is_finished();
        // Closing the handle cancels a request left waiting, so the round can end either way.
        handle.close();
        let result = taker.join().expect("taker").expect("completed");
        assert!(
            !waiting,
            "round {round}: the request was left waiting after the failed start \
             (outcomes so far {outcomes:?})"
        );
        match result.status {
            STATUS_INVALID_DEVICE_STATE => outcomes[0] += 1,
            STATUS_CANCELLED => outcomes[1] += 1,
            other => panic!("round {round}: the request ended with {other:#x}"),
        }
    }
    eprintln!("refused / cancelled by the failed start: {outcomes:?}");
    assert!(rig.kernel.violations().is_empty());
    Arc::into_inner(rig).expect("one owner").finish();
}
