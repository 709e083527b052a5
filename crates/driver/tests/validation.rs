//! Every way a request can be wrong: the documented status, nothing sent, nothing leaked.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::net::SocketAddr;

use test_fixtures::{Receiver, Rig};
use wdk_model::Caller;
use wdk_model::harness::{Access, HarnessError};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{
    Destination, Family, IOCTL_WSK_SAMPLE_QUERY_STATS, IOCTL_WSK_SAMPLE_SEND, MAX_UDP_PAYLOAD_V4,
    MAX_UDP_PAYLOAD_V6, SEND_HEADER_SIZE, SEND_REPLY_SIZE, STATS_REPLY_SIZE, USER_DEVICE_PATH,
    ctl_code, encode_send, encode_send_request,
};

/// A well-formed request, as raw bytes to mutate.
fn request(to: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let mut input = vec![0u8; SEND_HEADER_SIZE + payload.len()];
    encode_send_request(Some(to), payload, &mut input).expect("valid");
    input
}

/// A request for the socket's fixed destination.
fn fixed_request(family: Family, payload: &[u8]) -> Vec<u8> {
    let mut input = vec![0u8; SEND_HEADER_SIZE + payload.len()];
    encode_send(Destination::Fixed(family), payload, &mut input).expect("valid");
    input
}

/// A header announcing `length` payload bytes, followed by that many bytes (bypassing the
/// encoder's own checks, as a hostile caller would).
fn raw_request(to: SocketAddr, length: usize) -> Vec<u8> {
    let mut input = request(to, b"x");
    input.truncate(SEND_HEADER_SIZE);
    input[40..44].copy_from_slice(&(length as u32).to_le_bytes());
    input.resize(SEND_HEADER_SIZE + length, 0xAB);
    input
}

#[test]
fn every_malformed_send_is_refused_with_its_documented_status() {
    let rig = Rig::new();
    let receiver = Receiver::v4();
    let v4 = receiver.address();
    let v6: SocketAddr = "[::1]:9".parse().expect("address");
    let good = request(v4, b"hello");
    let with = |at: usize, bytes: &[u8]| {
        let mut input = good.clone();
        input[at..at + bytes.len()].copy_from_slice(bytes);
        input
    };
    let cases: Vec<(&str, Vec<u8>, usize, i32)> = vec![
        (
            "empty input",
            vec![],
            SEND_REPLY_SIZE,
            STATUS_INFO_LENGTH_MISMATCH,
        ),
        (
            "input shorter than the header",
            good[..20].to_vec(),
            SEND_REPLY_SIZE,
            STATUS_INFO_LENGTH_MISMATCH,
        ),
        (
            "unknown version",
            with(0, &2u16.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_REVISION_MISMATCH,
        ),
        (
            "wrong header size",
            with(4, &40u32.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_REVISION_MISMATCH,
        ),
        (
            "unknown flags",
            with(2, &2u16.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INVALID_PARAMETER,
        ),
        (
            "reserved field set",
            with(44, &1u32.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INVALID_PARAMETER,
        ),
        (
            "Linux AF_INET6 value",
            with(8, &10u16.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "port 0",
            with(10, &0u16.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "payload length larger than the input",
            with(40, &6u32.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INFO_LENGTH_MISMATCH,
        ),
        (
            "payload length smaller than the input",
            with(40, &4u32.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INFO_LENGTH_MISMATCH,
        ),
        (
            "zero-length datagram",
            raw_request(v4, 0),
            SEND_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "IPv4 payload over 65,507",
            raw_request(v4, MAX_UDP_PAYLOAD_V4 + 1),
            SEND_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "IPv6 payload over 65,527",
            raw_request(v6, MAX_UDP_PAYLOAD_V6 + 1),
            SEND_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "no destination and no fixed-destination flag",
            with(8, &[0u8; 32]),
            SEND_REPLY_SIZE,
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "fixed-destination flag with a full address",
            with(2, &1u16.to_le_bytes()),
            SEND_REPLY_SIZE,
            STATUS_INVALID_ADDRESS_COMPONENT,
        ),
        (
            "fixed destination never configured",
            fixed_request(Family::V4, b"x"),
            SEND_REPLY_SIZE,
            STATUS_INVALID_ADDRESS,
        ),
        (
            "output buffer too small",
            good.clone(),
            SEND_REPLY_SIZE - 1,
            STATUS_BUFFER_TOO_SMALL,
        ),
        ("no output buffer", good.clone(), 0, STATUS_BUFFER_TOO_SMALL),
    ];
    for (index, (what, input, output_len, expected)) in cases.iter().enumerate() {
        let result = rig.ioctl(IOCTL_WSK_SAMPLE_SEND, input, *output_len);
        assert_eq!(
            result.status,
            *expected,
            "{what}: got {:#010x} ({:?})",
            result.status,
            name(result.status)
        );
        assert!(
            result.output.is_empty(),
            "{what}: a failed request returns no output"
        );
        assert_eq!(
            rig.stats().failed_validation,
            index as u64 + 1,
            "{what} is counted as a validation failure"
        );
    }
    assert_eq!(rig.kernel.counters().wsk_send_to, 0, "nothing reached WSK");
    receiver.assert_nothing_more();
    let stats = rig.stats();
    assert_eq!(stats.datagrams_sent, 0);
    assert_eq!(stats.pool_free, stats.pool_slots);
    // The driver still works afterwards.
    rig.send_ok(v4, b"after");
    assert_eq!(receiver.receive().0, b"after");
    rig.finish();
}

#[test]
fn unknown_control_codes_and_short_stats_buffers_are_refused() {
    let rig = Rig::new();
    let unknown = ctl_code(wsk_sample_ioctl::FILE_DEVICE_WSK_SAMPLE, 0x8FF, 0, 0);
    assert_eq!(
        rig.ioctl(unknown, b"anything", 64).status,
        STATUS_INVALID_DEVICE_REQUEST
    );
    let other_device = ctl_code(0x22, 0x800, 0, 2);
    assert_eq!(
        rig.ioctl(other_device, &[], 0).status,
        STATUS_INVALID_DEVICE_REQUEST
    );
    let short = rig.ioctl(IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE - 1);
    assert_eq!(short.status, STATUS_BUFFER_TOO_SMALL);
    let stats = rig.stats();
    assert_eq!(stats.failed_validation, 3);
    assert_eq!(stats.requests, 4);
    rig.finish();
}

#[test]
fn only_administrators_open_the_device_and_reading_handles_cannot_send() {
    let rig = Rig::new();
    let denied = rig
        .kernel
        .open(USER_DEVICE_PATH, Access::READ, Caller::User);
    assert_eq!(denied.err(), Some(HarnessError::AccessDenied));
    assert!(
        rig.kernel
            .open(USER_DEVICE_PATH, Access::READ_WRITE, Caller::System)
            .is_ok()
    );
    assert!(matches!(
        rig.kernel
            .open(r"\\.\NoSuchDevice", Access::READ, Caller::Administrator),
        Err(HarnessError::NoSuchDevice(_))
    ));
    let reader = rig
        .kernel
        .open(USER_DEVICE_PATH, Access::READ, Caller::Administrator)
        .expect("admins may read");
    let receiver = Receiver::v4();
    let send = rig.kernel.device_io_control(
        &reader,
        IOCTL_WSK_SAMPLE_SEND,
        &request(receiver.address(), b"x"),
        SEND_REPLY_SIZE,
    );
    assert_eq!(send.expect("completed").status, STATUS_ACCESS_DENIED);
    // Configuring and batching need write access too.
    let mut configure = [0u8; wsk_sample_ioctl::CONFIG_REQUEST_SIZE];
    wsk_sample_ioctl::ConfigAction::FixedRemote(receiver.address())
        .encode(&mut configure)
        .expect("valid");
    let configured = rig
        .kernel
        .device_io_control(
            &reader,
            wsk_sample_ioctl::IOCTL_WSK_SAMPLE_CONFIGURE,
            &configure,
            0,
        )
        .expect("completed");
    assert_eq!(configured.status, STATUS_ACCESS_DENIED);
    let mut batch = vec![0u8; wsk_sample_ioctl::batch_request_len(1, 1)];
    let one: [&[u8]; 1] = [b"x"];
    wsk_sample_ioctl::encode_batch(Destination::Address(receiver.address()), &one, &mut batch)
        .expect("valid");
    let batched = rig
        .kernel
        .device_io_control(
            &reader,
            wsk_sample_ioctl::IOCTL_WSK_SAMPLE_SEND_BATCH,
            &batch,
            wsk_sample_ioctl::BATCH_REPLY_SIZE,
        )
        .expect("completed");
    assert_eq!(batched.status, STATUS_ACCESS_DENIED);
    let stats = rig
        .kernel
        .device_io_control(&reader, IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE)
        .expect("completed");
    assert_eq!(stats.status, STATUS_SUCCESS);
    assert_eq!(
        rig.stats().fixed_v4,
        None,
        "the read-only handle configured nothing"
    );
    assert_eq!(rig.kernel.counters().wsk_send_to, 0);
    receiver.assert_nothing_more();
    // Closed before the orderly unload: an open handle would veto the removal.
    drop(reader);
    rig.finish();
}

#[test]
fn stats_output_has_no_uninitialised_bytes() {
    let rig = Rig::new();
    // The model fills system buffers with 0xC5 before the driver sees them.
    let stats = rig.ioctl(IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE);
    assert_eq!(stats.output.len(), STATS_REPLY_SIZE);
    assert!(
        stats.output.windows(4).all(|w| w != [0xC5; 4]),
        "stats reply leaks buffer contents: {:x?}",
        stats.output
    );
    let receiver = Receiver::v4();
    let reply = rig.send(receiver.address(), b"x");
    assert!(
        !reply.output.windows(4).any(|w| w == [0xC5; 4]),
        "send reply leaks buffer contents: {:x?}",
        reply.output
    );
    rig.finish();
}
