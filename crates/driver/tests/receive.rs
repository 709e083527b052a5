//! The receive path with posted WskReceiveFrom IRPs (issue 14): truncation, bad requests get
//! clear statuses and lose nothing, unload with receives posted is clean, and the kernel echo
//! reuses its buffers and IRPs (no allocation per datagram). What both deliveries must do alike
//! (exact bytes and source for every size on IPv4 and IPv6, datagrams kept in order, closing the
//! handle cancels a pended receive) is in receive_events.rs, run once per delivery.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use test_fixtures::{Rig, free_port, pattern};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::*;

const MAX: usize = 65_536;

/// A rig whose `family` socket is bound to a free loopback port and receiving.
fn receiving(host: &str) -> (Arc<Rig>, SocketAddr) {
    let rig = Rig::new();
    let address = free_port(host);
    assert_eq!(rig.configure(ConfigAction::Bind(address)), STATUS_SUCCESS);
    let status = rig.set_receive_mode(Family::of(&address), ReceiveMode::Receive, Delivery::Irp);
    assert_eq!(status, STATUS_SUCCESS, "start receiving");
    (Arc::new(rig), address)
}

#[test]
fn a_datagram_longer_than_the_request_is_truncated_and_says_so() {
    let (rig, address) = receiving("127.0.0.1");
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    let payload = pattern(1_000, 7);
    client.send_to(&payload, address).expect("send");
    let result = rig.receive(Family::V4, RECEIVE_HEADER_SIZE + 100);
    assert_eq!(result.status, STATUS_SUCCESS);
    let (reply, data) = ReceiveReply::decode(&result.output).expect("reply");
    assert!(reply.truncated());
    assert_eq!(reply.datagram_length, 1_000);
    assert_eq!(data, &payload[..100]);
    assert_eq!(rig.receive_stats().truncated, 1);
    Arc::into_inner(rig).expect("one owner").finish();
}

#[test]
fn bad_receive_requests_get_clear_statuses_and_lose_nothing() {
    let (rig, address) = receiving("127.0.0.1");
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    client.send_to(b"kept", address).expect("send");
    std::thread::sleep(Duration::from_millis(50));
    // Too small for the header: refused before anything is taken.
    let small = rig.receive(Family::V4, RECEIVE_HEADER_SIZE - 1);
    assert_eq!(small.status, STATUS_BUFFER_TOO_SMALL);
    // A family that is not receiving.
    let other = rig.receive(Family::V6, 100);
    assert_eq!(other.status, STATUS_INVALID_DEVICE_STATE);
    // A malformed request.
    let bad = rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE, &[0; 3], 100);
    assert_eq!(bad.status, STATUS_INFO_LENGTH_MISMATCH);
    // Switching to echo while receiving needs "off" first.
    let echo = ModeRequest {
        family: Family::V4,
        mode: ReceiveMode::Echo,
        delivery: wsk_sample_ioctl::Delivery::Irp,
    };
    let echo = rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &echo.encode(), 0);
    assert_eq!(echo.status, STATUS_DEVICE_BUSY);
    // The datagram is still there.
    let result = rig.receive(Family::V4, 100);
    let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
    assert_eq!(data, b"kept");
    Arc::into_inner(rig).expect("one owner").finish();
}

#[test]
fn unload_with_receives_posted_and_a_request_pending_is_clean() {
    let (rig, _address) = receiving("::1");
    let waiter = {
        let rig = rig.clone();
        std::thread::spawn(move || rig.receive(Family::V6, 100).status)
    };
    std::thread::sleep(Duration::from_millis(100));
    // Stopping receiving cancels the pended request.
    let off = ModeRequest {
        family: Family::V6,
        mode: ReceiveMode::Off,
        delivery: wsk_sample_ioctl::Delivery::Irp,
    };
    assert_eq!(
        rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &off.encode(), 0)
            .status,
        STATUS_SUCCESS
    );
    assert_eq!(waiter.join().expect("thread"), STATUS_CANCELLED);
    assert_eq!(rig.receive_stats().requests_cancelled, 1);
    // Receiving again, then unload with every buffer posted.
    let on = ModeRequest {
        family: Family::V6,
        mode: ReceiveMode::Receive,
        delivery: wsk_sample_ioctl::Delivery::Irp,
    };
    assert_eq!(
        rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &on.encode(), 0)
            .status,
        STATUS_SUCCESS
    );
    assert_eq!(rig.receive_stats().posted, 8);
    Arc::into_inner(rig).expect("one owner").finish();
}

/// A rig whose family socket is bound to a free loopback port in echo mode.
fn echoing(host: &str) -> (Rig, SocketAddr) {
    let rig = Rig::new();
    let address = free_port(host);
    assert_eq!(rig.configure(ConfigAction::Bind(address)), STATUS_SUCCESS);
    let status = rig.set_receive_mode(Family::of(&address), ReceiveMode::Echo, Delivery::Irp);
    assert_eq!(status, STATUS_SUCCESS, "start echoing");
    (rig, address)
}

fn echo_sizes(host: &str, sizes: &[usize]) {
    let (rig, address) = echoing(host);
    let client = UdpSocket::bind((host, 0)).expect("client");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buffer = vec![0u8; MAX];
    let irps_before = rig.kernel.counters().irp_allocations;
    let pool_before = rig.kernel.counters().pool_allocations;
    for (i, &size) in sizes.iter().enumerate() {
        let payload = pattern(size, i as u8);
        client.send_to(&payload, address).expect("send");
        let (n, from) = client.recv_from(&mut buffer).expect("the echo");
        assert_eq!(from, address, "the echo comes from the driver's socket");
        assert_eq!(&buffer[..n], payload.as_slice(), "{size}-byte echo");
    }
    // No copy and no allocation per datagram: the receive buffer and its IRP are reused.
    let counters = rig.kernel.counters();
    assert_eq!(counters.irp_allocations, irps_before);
    assert_eq!(counters.pool_allocations, pool_before);
    // The client may get the last echo before the send's completion routine has counted it.
    let mut stats = rig.receive_stats();
    for _ in 0..200 {
        if stats.echoed == sizes.len() as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
        stats = rig.receive_stats();
    }
    assert_eq!(stats.echoed, sizes.len() as u64);
    assert_eq!(stats.dropped_echo, 0);
    // A receive request while echo owns the socket gets a clear status.
    let busy = rig.receive(Family::of(&address), 100);
    assert_eq!(busy.status, STATUS_DEVICE_BUSY);
    rig.finish();
}

#[test]
fn the_kernel_echo_returns_every_byte_over_ipv4() {
    echo_sizes("127.0.0.1", &[1, 2, 64, 1_472, 30_000, 65_507]);
}

#[test]
fn the_kernel_echo_returns_every_byte_over_ipv6() {
    echo_sizes("::1", &[1, 1_452, 65_527]);
}
