//! The receive path in both deliveries (issue 14): posted WskReceiveFrom IRPs (the default) and
//! the WskReceiveFromEvent callback. The same checks run for each: exact bytes and source for
//! every size up to the largest datagram on IPv4 and IPv6, datagrams arriving before a request
//! kept in order (in event mode: indication lists retained with STATUS_PENDING and released
//! by the request that takes their last datagram), closing the handle cancels a pended
//! receive, the kernel echo, and unload with datagrams kept and a request pending is clean.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use test_fixtures::{Rig, free_port, pattern};
use wdk_model::Caller;
use wdk_model::harness::{Access, IoMode};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::*;

const MAX: usize = 65_536;
const BOTH: [Delivery; 2] = [Delivery::Irp, Delivery::Events];

/// A rig whose `host` family socket is bound to a free port and in `mode` via `delivery`.
fn started(host: &str, mode: ReceiveMode, delivery: Delivery) -> (Arc<Rig>, SocketAddr) {
    let rig = Rig::new();
    let address = free_port(host);
    assert_eq!(rig.configure(ConfigAction::Bind(address)), STATUS_SUCCESS);
    assert_eq!(
        rig.set_receive_mode(Family::of(&address), mode, delivery),
        STATUS_SUCCESS,
        "start {mode:?} with {delivery:?}"
    );
    (Arc::new(rig), address)
}

fn finish(rig: Arc<Rig>) {
    Arc::into_inner(rig).expect("one owner").finish();
}

fn round_trip_sizes(host: &str, sizes: &[usize], delivery: Delivery) {
    let (rig, address) = started(host, ReceiveMode::Receive, delivery);
    let client = UdpSocket::bind((host, 0)).expect("client");
    let _ = socket2::SockRef::from(&client).set_send_buffer_size(1 << 20);
    let family = Family::of(&address);
    for (i, &size) in sizes.iter().enumerate() {
        let payload = pattern(size, i as u8);
        let waiter = {
            let rig = rig.clone();
            std::thread::spawn(move || rig.receive(family, RECEIVE_HEADER_SIZE + MAX))
        };
        std::thread::sleep(Duration::from_millis(2));
        client.send_to(&payload, address).expect("send");
        let result = waiter.join().expect("receiver thread");
        assert_eq!(result.status, STATUS_SUCCESS, "{delivery:?}: {size} bytes");
        let (reply, data) = ReceiveReply::decode(&result.output).expect("a well-formed reply");
        assert!(!reply.truncated());
        assert_eq!(reply.datagram_length as usize, size);
        assert_eq!(
            data,
            payload.as_slice(),
            "{delivery:?}: {size}-byte datagram"
        );
        assert_eq!(reply.source, Some(client.local_addr().expect("address")));
    }
    let stats = rig.receive_stats();
    assert_eq!(stats.delivered, sizes.len() as u64);
    assert_eq!(stats.dropped_no_request, 0);
    if delivery == Delivery::Events {
        assert_eq!(stats.posted, 0, "nothing is posted in event mode");
    }
    finish(rig);
}

#[test]
fn every_ipv4_size_arrives_exactly_in_both_deliveries() {
    for delivery in BOTH {
        round_trip_sizes(
            "127.0.0.1",
            &[1, 2, 63, 64, 1_472, 1_473, 8_192, 65_000, 65_507],
            delivery,
        );
    }
}

#[test]
fn every_ipv6_size_arrives_exactly_in_both_deliveries() {
    for delivery in BOTH {
        round_trip_sizes("::1", &[1, 2, 64, 1_452, 9_000, 65_507, 65_527], delivery);
    }
}

#[test]
fn datagrams_that_arrive_before_a_request_are_kept_in_order_in_both_deliveries() {
    for delivery in BOTH {
        let (rig, address) = started("127.0.0.1", ReceiveMode::Receive, delivery);
        let client = UdpSocket::bind("127.0.0.1:0").expect("client");
        for i in 0..5u8 {
            client.send_to(&[i; 10], address).expect("send");
        }
        std::thread::sleep(Duration::from_millis(100));
        for i in 0..5u8 {
            let result = rig.receive(Family::V4, 100);
            assert_eq!(result.status, STATUS_SUCCESS, "{delivery:?}");
            let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
            assert_eq!(data, [i; 10], "{delivery:?}: datagram {i}");
        }
        finish(rig);
    }
}

#[test]
fn closing_the_handle_cancels_a_pended_receive_in_both_deliveries() {
    for delivery in BOTH {
        let (rig, address) = started("127.0.0.1", ReceiveMode::Receive, delivery);
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
        let waiter = {
            let (rig, handle) = (rig.clone(), handle.clone());
            std::thread::spawn(move || {
                rig.kernel.device_io_control(
                    &handle,
                    IOCTL_WSK_SAMPLE_RECEIVE,
                    &ReceiveRequest { family: Family::V4 }.encode(),
                    100,
                )
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiter.is_finished(), "{delivery:?}: the receive pends");
        handle.close();
        let result = waiter.join().expect("thread").expect("completed");
        assert_eq!(result.status, STATUS_CANCELLED, "{delivery:?}");
        let client = UdpSocket::bind("127.0.0.1:0").expect("client");
        client.send_to(b"after", address).expect("send");
        let result = rig.receive(Family::V4, 100);
        let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
        assert_eq!(data, b"after", "{delivery:?}: nothing was lost");
        drop(handle);
        finish(rig);
    }
}

#[test]
fn the_kernel_echo_returns_every_byte_in_both_deliveries() {
    for delivery in BOTH {
        for host in ["127.0.0.1", "::1"] {
            let (rig, address) = started(host, ReceiveMode::Echo, delivery);
            let client = UdpSocket::bind((host, 0)).expect("client");
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut buffer = vec![0u8; MAX];
            for (i, size) in [1usize, 64, 1_400, 30_000, 65_507].into_iter().enumerate() {
                let payload = pattern(size, i as u8);
                client.send_to(&payload, address).expect("send");
                let (n, from) = client.recv_from(&mut buffer).expect("the echo");
                assert_eq!(from, address);
                assert_eq!(
                    &buffer[..n],
                    payload.as_slice(),
                    "{delivery:?}: {size} bytes"
                );
            }
            finish(rig);
        }
    }
}

/// Unload (and before it, device cleanup) with datagrams kept: in event
/// mode the kept indication lists are released before the socket is closed, which the model
/// checks (WSK_INDICATION_NOT_RELEASED); `finish` asserts a clean report.
#[test]
fn unload_with_datagrams_kept_is_clean_in_both_deliveries() {
    for delivery in BOTH {
        let (rig, address) = started("::1", ReceiveMode::Receive, delivery);
        let client = UdpSocket::bind("[::1]:0").expect("client");
        for i in 0..3u8 {
            client.send_to(&[i; 100], address).expect("send");
        }
        std::thread::sleep(Duration::from_millis(100));
        // IPv4 is not receiving: a request there is refused, the IPv6 datagrams stay kept.
        assert_eq!(
            rig.receive(Family::V4, 200).status,
            STATUS_INVALID_DEVICE_STATE
        );
        finish(rig);
    }
}

/// Switching off with lists kept releases them (and cancels the waiting request); receiving
/// again afterwards works, in the other delivery too.
#[test]
fn switching_off_with_datagrams_kept_releases_them_and_receiving_resumes() {
    let (rig, address) = started("127.0.0.1", ReceiveMode::Receive, Delivery::Events);
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    for i in 0..3u8 {
        client.send_to(&[i; 10], address).expect("send");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        rig.set_receive_mode(Family::V4, ReceiveMode::Off, Delivery::Events),
        STATUS_SUCCESS
    );
    for delivery in [Delivery::Irp, Delivery::Events] {
        assert_eq!(
            rig.set_receive_mode(Family::V4, ReceiveMode::Receive, delivery),
            STATUS_SUCCESS
        );
        let waiter = {
            let rig = rig.clone();
            std::thread::spawn(move || rig.receive(Family::V4, 100))
        };
        std::thread::sleep(Duration::from_millis(20));
        client.send_to(b"again", address).expect("send");
        let result = waiter.join().expect("thread");
        let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
        assert_eq!(data, b"again", "{delivery:?}");
        assert_eq!(
            rig.set_receive_mode(Family::V4, ReceiveMode::Off, delivery),
            STATUS_SUCCESS
        );
    }
    finish(rig);
}

/// A NULL DataIndication (the socket no longer works, Learn PFN_WSK_RECEIVE_FROM_EVENT) is
/// counted as a receive error and touches nothing; switching off closes the socket, and
/// receiving again works on a new one.
#[test]
fn a_null_indication_counts_an_error_and_the_next_start_uses_a_new_socket() {
    let (rig, address) = started("127.0.0.1", ReceiveMode::Receive, Delivery::Events);
    assert_eq!(
        rig.kernel.fail_event_sockets(),
        1,
        "one socket has the event enabled"
    );
    assert_eq!(rig.receive_stats().receive_errors, 1);
    assert_eq!(
        rig.set_receive_mode(Family::V4, ReceiveMode::Off, Delivery::Events),
        STATUS_SUCCESS
    );
    assert_eq!(
        rig.set_receive_mode(Family::V4, ReceiveMode::Receive, Delivery::Events),
        STATUS_SUCCESS
    );
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    client.send_to(b"still here", address).expect("send");
    let result = rig.receive(Family::V4, 100);
    let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
    assert_eq!(data, b"still here");
    finish(rig);
}
