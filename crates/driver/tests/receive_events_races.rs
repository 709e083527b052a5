//! Races of the receive-event path (receive/events.rs) against the engine stopping the
//! receiver and closing its socket. The model reports a WskCloseSocket with a list still
//! retained (WSK_INDICATION_NOT_RELEASED) and any WskRelease on a socket that is no longer
//! live (WSK_SOCKET_INVALID); Learn, PFN_WSK_CLOSE_SOCKET: no call on the socket may be in
//! progress when it is closed, and PFN_WSK_RELEASE_DATA_INDICATION_LIST: every retained list
//! is released before the close.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use test_fixtures::{Rig, pattern};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::*;

const MAX: usize = 65_536;
/// Rounds of the race; each starts the request a little later after the switch-off.
const ROUNDS: u32 = 600;

fn set_mode(rig: &Rig, family: Family, mode: ReceiveMode, delivery: Delivery) -> i32 {
    let request = ModeRequest {
        family,
        mode,
        delivery,
    };
    rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &request.encode(), 0)
        .status
}

fn receive(rig: &Rig, family: Family, output: usize) -> i32 {
    rig.ioctl(
        IOCTL_WSK_SAMPLE_RECEIVE,
        &ReceiveRequest { family }.encode(),
        output,
    )
    .status
}

/// A request that takes the last datagram of a kept list releases the list (WskRelease) while
/// another thread switches receiving off, which stops the receiver and closes the socket. The
/// release must not overlap or follow that close: `stop` waits for it. Each round keeps one
/// large datagram (so completing the request copies 64 KiB, a wide window), then races the
/// request against the switch-off, the request a few microseconds later each round.
#[test]
fn a_request_releasing_the_last_list_never_races_the_close() {
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
            set_mode(&rig, Family::V4, ReceiveMode::Receive, Delivery::Events),
            STATUS_SUCCESS,
            "round {round}: start"
        );
        let before = rig.receive_stats().datagrams;
        client.send_to(&payload, address).expect("send");
        let deadline = Instant::now() + Duration::from_secs(5);
        while rig.receive_stats().datagrams == before {
            assert!(Instant::now() < deadline, "round {round}: never indicated");
            std::thread::sleep(Duration::from_micros(200));
        }
        let barrier = Arc::new(Barrier::new(2));
        let taker = {
            let (rig, barrier) = (rig.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_micros(u64::from(round % 150) * 2) {
                    std::hint::spin_loop();
                }
                receive(&rig, Family::V4, RECEIVE_HEADER_SIZE + MAX)
            })
        };
        barrier.wait();
        assert_eq!(
            set_mode(&rig, Family::V4, ReceiveMode::Off, Delivery::Events),
            STATUS_SUCCESS,
            "round {round}: stop"
        );
        let status = taker.join().expect("taker thread");
        match status {
            STATUS_SUCCESS => outcomes[0] += 1,
            STATUS_INVALID_DEVICE_STATE | STATUS_CANCELLED => outcomes[1] += 1,
            other => panic!("round {round}: the request ended with {other:#x}"),
        }
        let violations = rig.kernel.violations();
        assert!(
            violations.is_empty(),
            "round {round}: {violations:#?} (outcomes so far {outcomes:?})"
        );
    }
    eprintln!("requests that took the datagram / came too late: {outcomes:?}");
    Arc::into_inner(rig).expect("one owner").finish();
}
