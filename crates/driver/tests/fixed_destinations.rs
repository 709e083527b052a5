//! Fixed destinations (SIO_WSK_SET_REMOTE_ADDRESS, SIO_WSK_SET_SENDTO_ADDRESS): sends without an
//! address go to the fixed one through a NULL RemoteAddress, an address overrides it, clear
//! removes it, and rebinding is refused while the family has sends in flight.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::SocketAddr;
use std::time::Duration;

use test_fixtures::{Receiver, Rig};
use wdk_model::{CompletionMode, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{
    CONFIG_REQUEST_SIZE, ConfigAction, Destination, Family, FixedDestination,
    IOCTL_WSK_SAMPLE_CONFIGURE,
};

fn receiver(family: Family) -> Receiver {
    match family {
        Family::V4 => Receiver::v4(),
        Family::V6 => Receiver::v6(),
    }
}

fn fixed_of(rig: &Rig, family: Family) -> Option<FixedDestination> {
    let stats = rig.stats();
    match family {
        Family::V4 => stats.fixed_v4,
        Family::V6 => stats.fixed_v6,
    }
}

fn sends_go_to_the_fixed_address(family: Family, remote: bool) {
    let rig = Rig::new();
    let target = receiver(family);
    let action = if remote {
        ConfigAction::FixedRemote(target.address())
    } else {
        ConfigAction::FixedSendTo(target.address())
    };
    assert_eq!(rig.configure(action), STATUS_SUCCESS);
    let expected = if remote {
        FixedDestination::Remote(target.address())
    } else {
        FixedDestination::SendTo(target.address())
    };
    assert_eq!(fixed_of(&rig, family), Some(expected));
    let before = rig.kernel.counters();
    for i in 0..10u8 {
        let result = rig.send_to(Destination::Fixed(family), &[i; 100]);
        assert_eq!(result.status, STATUS_SUCCESS);
        assert_eq!(target.receive().0, vec![i; 100]);
    }
    let after = rig.kernel.counters();
    assert_eq!(
        after.wsk_send_to_null_remote - before.wsk_send_to_null_remote,
        10,
        "every send passed WSK a NULL RemoteAddress"
    );
    target.assert_nothing_more();
    rig.finish();
}

#[test]
fn fixed_remote_delivers_over_ipv4() {
    sends_go_to_the_fixed_address(Family::V4, true);
}

#[test]
fn fixed_remote_delivers_over_ipv6() {
    sends_go_to_the_fixed_address(Family::V6, true);
}

#[test]
fn fixed_sendto_delivers_over_ipv4() {
    sends_go_to_the_fixed_address(Family::V4, false);
}

#[test]
fn fixed_sendto_delivers_over_ipv6() {
    sends_go_to_the_fixed_address(Family::V6, false);
}

#[test]
fn an_explicit_address_overrides_the_fixed_one_and_clear_removes_it() {
    for family in [Family::V4, Family::V6] {
        let rig = Rig::new();
        let fixed = receiver(family);
        let other = receiver(family);
        assert_eq!(
            rig.configure(ConfigAction::FixedSendTo(fixed.address())),
            STATUS_SUCCESS
        );
        rig.send_ok(other.address(), b"override");
        assert_eq!(other.receive().0, b"override");
        fixed.assert_nothing_more();
        assert_eq!(
            rig.configure(ConfigAction::ClearFixed(family)),
            STATUS_SUCCESS
        );
        assert_eq!(fixed_of(&rig, family), None);
        let refused = rig.send_to(Destination::Fixed(family), b"nowhere");
        assert_eq!(
            refused.status, STATUS_INVALID_ADDRESS,
            "no fixed destination any more"
        );
        let sends_before = rig.kernel.counters().wsk_send_to;
        assert_eq!(
            rig.configure(ConfigAction::ClearFixed(family)),
            STATUS_SUCCESS,
            "clearing twice is harmless"
        );
        assert_eq!(rig.kernel.counters().wsk_send_to, sends_before);
        fixed.assert_nothing_more();
        rig.finish();
    }
}

#[test]
fn a_bound_local_port_is_the_source_port_the_receiver_sees() {
    for (family, local) in [(Family::V4, "127.0.0.1:0"), (Family::V6, "[::1]:0")] {
        let rig = Rig::new();
        let target = receiver(family);
        // Pick a free port by asking the host, then bind the driver's socket to it.
        let probe = std::net::UdpSocket::bind(local).expect("probe");
        let chosen: SocketAddr = probe.local_addr().expect("address");
        drop(probe);
        assert_eq!(rig.configure(ConfigAction::Bind(chosen)), STATUS_SUCCESS);
        rig.send_ok(target.address(), b"from a known port");
        let (_, from) = target.receive();
        assert_eq!(from, chosen);
        let stats = rig.stats();
        let local = if family == Family::V4 {
            stats.local_v4
        } else {
            stats.local_v6
        };
        assert_eq!(local, Some(chosen));
        // Rebinding while idle recreates the socket on a new port.
        assert_eq!(
            rig.configure(ConfigAction::Bind(SocketAddr::new(chosen.ip(), 0))),
            STATUS_SUCCESS
        );
        rig.send_ok(target.address(), b"from a new port");
        let (_, from) = target.receive();
        assert_ne!(from.port(), chosen.port());
        rig.finish();
    }
}

#[test]
fn rebinding_is_refused_while_sends_are_in_flight() {
    let config = KernelConfig {
        completion: CompletionMode::Delayed(Duration::from_millis(600)),
        ..KernelConfig::default()
    };
    let rig = std::sync::Arc::new(Rig::with(config));
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
    let busy = rig.configure(ConfigAction::Bind("127.0.0.1:0".parse().expect("address")));
    assert_eq!(busy, STATUS_DEVICE_BUSY);
    // The other family is not busy.
    assert_eq!(
        rig.configure(ConfigAction::Bind("[::1]:0".parse().expect("address"))),
        STATUS_SUCCESS
    );
    sender.join().expect("sender");
    assert_eq!(target.receive().0, b"slow");
    assert_eq!(
        rig.configure(ConfigAction::Bind("127.0.0.1:0".parse().expect("address"))),
        STATUS_SUCCESS
    );
    let Ok(rig) = std::sync::Arc::try_unwrap(rig) else {
        panic!("rig still shared")
    };
    rig.finish();
}

#[test]
fn malformed_configurations_are_refused_and_leave_nothing_behind() {
    let rig = Rig::new();
    let mut valid = [0u8; CONFIG_REQUEST_SIZE];
    ConfigAction::FixedRemote("127.0.0.1:9".parse().expect("address"))
        .encode(&mut valid)
        .expect("valid");
    let with = |at: usize, bytes: &[u8]| {
        let mut input = valid.to_vec();
        input[at..at + bytes.len()].copy_from_slice(bytes);
        input
    };
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("empty", vec![], STATUS_INFO_LENGTH_MISMATCH),
        ("short", valid[..40].to_vec(), STATUS_INFO_LENGTH_MISMATCH),
        (
            "unknown version",
            with(0, &9u16.to_le_bytes()),
            STATUS_REVISION_MISMATCH,
        ),
        (
            "family mismatch (IPv6 request, IPv4 address)",
            with(2, &23u16.to_le_bytes()),
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "unknown family",
            with(2, &10u16.to_le_bytes()),
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "unknown action",
            with(4, &7u32.to_le_bytes()),
            STATUS_INVALID_PARAMETER,
        ),
        (
            "destination port 0",
            with(10, &0u16.to_le_bytes()),
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "reserved set",
            with(40, &1u64.to_le_bytes()),
            STATUS_INVALID_PARAMETER,
        ),
    ];
    for (what, input, expected) in cases {
        let status = rig.ioctl(IOCTL_WSK_SAMPLE_CONFIGURE, &input, 0).status;
        assert_eq!(status, expected, "{what}: got {status:#010x}");
    }
    assert_eq!(rig.kernel.counters().wsk_send_to, 0);
    assert_eq!(rig.stats().fixed_v4, None);
    rig.finish();
}
