//! Tests pin the ABI to hand-written bytes and offsets, independent of the
//! private offset constants, so reordering a field fails here.

use super::*;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use proptest::prelude::*;
use std::format;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

fn v4(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port))
}

fn v6(ip: Ipv6Addr, port: u16, flow: u32, scope: u32) -> SocketAddr {
    SocketAddr::V6(SocketAddrV6::new(ip, port, flow, scope))
}

/// 192.0.2.1:5000
fn sample_v4() -> SocketAddr {
    v4(192, 0, 2, 1, 5000)
}

/// [2001:db8::1%7]:443 with flow info 0x000A_BCDE
fn sample_v6() -> SocketAddr {
    v6(
        Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1),
        443,
        0x000A_BCDE,
        7,
    )
}

#[rustfmt::skip]
const SAMPLE_V4_BYTES: [u8; 32] = [
    2, 0,                   // family AF_INET
    0x88, 0x13,             // port 5000, little-endian
    0, 0, 0, 0,             // flow info
    0, 0, 0, 0,             // scope id
    0, 0, 0, 0,             // reserved
    192, 0, 2, 1,           // address
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

#[rustfmt::skip]
const SAMPLE_V6_BYTES: [u8; 32] = [
    23, 0,                  // family AF_INET6
    0xBB, 0x01,             // port 443, little-endian
    0xDE, 0xBC, 0x0A, 0x00, // flow info
    7, 0, 0, 0,             // scope id
    0, 0, 0, 0,             // reserved
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];

fn encode_addr(addr: Option<SocketAddr>) -> [u8; 32] {
    let mut out = [0xAA; 32];
    encode_address(addr, &mut out);
    out
}

fn request(destination: Option<SocketAddr>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0; send_request_len(payload.len())];
    let n = encode_send_request(destination, payload, &mut out).expect("valid request");
    assert_eq!(n, out.len());
    out
}

fn set_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn set_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn sample_stats() -> Stats {
    Stats {
        requests: 0x0101_0101_0101_0101,
        datagrams_sent: 0x0202_0202_0202_0202,
        bytes_sent: 0x0303_0303_0303_0303,
        in_flight: 0x0404_0404_0404_0404,
        failed_validation: 0x0505_0505_0505_0505,
        failed_no_resources: 0x0606_0606_0606_0606,
        failed_not_ready: 0x0707_0707_0707_0707,
        failed_transport: 0x0808_0808_0808_0808,
        failed_cancelled: 0x0909_0909_0909_0909,
        pool_slots: 0x0A0A_0A0A,
        pool_free: 0x0B0B_0B0B,
        slot_size: 0x0C0C_0C0C,
        local_v4: Some(sample_v4()),
        local_v6: Some(sample_v6()),
    }
}

/// The 160 bytes of `sample_stats()`, built from literal offsets.
fn sample_stats_bytes() -> [u8; 160] {
    let mut b = [0u8; 160];
    b[0] = 1; // version
    b[4] = 160; // size
    for (i, at) in [8, 16, 24, 32, 40, 48, 56, 64, 72].into_iter().enumerate() {
        b[at..at + 8].fill(i as u8 + 1);
    }
    b[80..84].fill(0x0A);
    b[84..88].fill(0x0B);
    b[88..92].fill(0x0C);
    b[96..128].copy_from_slice(&SAMPLE_V4_BYTES);
    b[128..160].copy_from_slice(&SAMPLE_V6_BYTES);
    b
}

fn nt(v: u32) -> i32 {
    v as i32
}

// ---------------------------------------------------------------------------
// Control codes and names
// ---------------------------------------------------------------------------

#[test]
fn ctl_code_matches_windows_macro() {
    // CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
    assert_eq!(ctl_code(0x22, 0x800, 0, 0), 0x0022_2000);
    // IOCTL_DISK_GET_DRIVE_GEOMETRY = CTL_CODE(7, 0, 0, 0)
    assert_eq!(
        ctl_code(7, 0, METHOD_BUFFERED, FILE_ANY_ACCESS),
        0x0007_0000
    );
    // FSCTL_GET_REPARSE_POINT = CTL_CODE(9, 42, METHOD_BUFFERED, FILE_ANY_ACCESS)
    assert_eq!(ctl_code(9, 42, 0, 0), 0x0009_00A8);
    // (0x8057 << 16) | (2 << 14) | (0x800 << 2) | 0
    assert_eq!(IOCTL_WSK_SAMPLE_SEND, 0x8057_A000);
    // (0x8057 << 16) | (1 << 14) | (0x801 << 2) | 0
    assert_eq!(IOCTL_WSK_SAMPLE_QUERY_STATS, 0x8057_6004);
}

#[test]
fn ctl_code_fields_decode() {
    assert_eq!(required_access(IOCTL_WSK_SAMPLE_SEND), FILE_WRITE_DATA);
    assert_eq!(
        required_access(IOCTL_WSK_SAMPLE_QUERY_STATS),
        FILE_READ_DATA
    );
    assert_eq!(function_code(IOCTL_WSK_SAMPLE_SEND), 0x800);
    assert_eq!(function_code(IOCTL_WSK_SAMPLE_QUERY_STATS), 0x801);
    assert_eq!(IOCTL_WSK_SAMPLE_SEND & 3, METHOD_BUFFERED);
    assert_eq!(IOCTL_WSK_SAMPLE_QUERY_STATS >> 16, FILE_DEVICE_WSK_SAMPLE);
    assert_eq!(required_access(ctl_code(0x22, 1, 0, 3)), 3);
    assert_eq!(function_code(ctl_code(0x22, 0xFFF, 3, 3)), 0xFFF);
}

#[test]
fn names_and_constants() {
    assert_eq!(POOL_TAG, 0x536B_7357);
    assert_eq!(POOL_TAG.to_le_bytes(), *b"WskS");
    assert_eq!(DEVICE_NAME, "\\Device\\WskSample");
    assert_eq!(SYMBOLIC_LINK_NAME, "\\DosDevices\\WskSample");
    assert_eq!(USER_DEVICE_PATH, "\\\\.\\WskSample");
    assert_eq!(HARDWARE_ID, "Root\\WskSample");
    assert_eq!(WIRE_AF_INET, 2);
    assert_eq!(WIRE_AF_INET6, 23);
    assert_eq!(MAX_UDP_PAYLOAD_V4, 65_535 - 20 - 8);
    assert_eq!(MAX_UDP_PAYLOAD_V6, 65_535 - 8);
}

#[test]
fn guid_display() {
    assert_eq!(
        DEVICE_INTERFACE_GUID.to_string(),
        "{FE07D4E4-E55E-4002-9855-94FDE0BB7C6D}"
    );
    let small = Guid {
        data1: 1,
        data2: 2,
        data3: 3,
        data4: [0, 1, 2, 3, 4, 5, 6, 0xab],
    };
    assert_eq!(small.to_string(), "{00000001-0002-0003-0001-0203040506AB}");
}

// ---------------------------------------------------------------------------
// Status codes
// ---------------------------------------------------------------------------

#[test]
fn status_values_and_names() {
    use status::*;
    let expected: &[(i32, u32, &str)] = &[
        (STATUS_SUCCESS, 0, "STATUS_SUCCESS"),
        (STATUS_PENDING, 0x103, "STATUS_PENDING"),
        (
            STATUS_BUFFER_OVERFLOW,
            0x8000_0005,
            "STATUS_BUFFER_OVERFLOW",
        ),
        (STATUS_DEVICE_BUSY, 0x8000_0011, "STATUS_DEVICE_BUSY"),
        (STATUS_UNSUCCESSFUL, 0xC000_0001, "STATUS_UNSUCCESSFUL"),
        (
            STATUS_NOT_IMPLEMENTED,
            0xC000_0002,
            "STATUS_NOT_IMPLEMENTED",
        ),
        (
            STATUS_INFO_LENGTH_MISMATCH,
            0xC000_0004,
            "STATUS_INFO_LENGTH_MISMATCH",
        ),
        (STATUS_INVALID_HANDLE, 0xC000_0008, "STATUS_INVALID_HANDLE"),
        (
            STATUS_INVALID_PARAMETER,
            0xC000_000D,
            "STATUS_INVALID_PARAMETER",
        ),
        (
            STATUS_INVALID_DEVICE_REQUEST,
            0xC000_0010,
            "STATUS_INVALID_DEVICE_REQUEST",
        ),
        (
            STATUS_MORE_PROCESSING_REQUIRED,
            0xC000_0016,
            "STATUS_MORE_PROCESSING_REQUIRED",
        ),
        (STATUS_NO_MEMORY, 0xC000_0017, "STATUS_NO_MEMORY"),
        (STATUS_ACCESS_DENIED, 0xC000_0022, "STATUS_ACCESS_DENIED"),
        (
            STATUS_BUFFER_TOO_SMALL,
            0xC000_0023,
            "STATUS_BUFFER_TOO_SMALL",
        ),
        (STATUS_DELETE_PENDING, 0xC000_0056, "STATUS_DELETE_PENDING"),
        (
            STATUS_REVISION_MISMATCH,
            0xC000_0059,
            "STATUS_REVISION_MISMATCH",
        ),
        (
            STATUS_INSUFFICIENT_RESOURCES,
            0xC000_009A,
            "STATUS_INSUFFICIENT_RESOURCES",
        ),
        (
            STATUS_DEVICE_NOT_READY,
            0xC000_00A3,
            "STATUS_DEVICE_NOT_READY",
        ),
        (STATUS_IO_TIMEOUT, 0xC000_00B5, "STATUS_IO_TIMEOUT"),
        (
            STATUS_FILE_FORCED_CLOSED,
            0xC000_00B6,
            "STATUS_FILE_FORCED_CLOSED",
        ),
        (STATUS_NOT_SUPPORTED, 0xC000_00BB, "STATUS_NOT_SUPPORTED"),
        (
            STATUS_INVALID_USER_BUFFER,
            0xC000_00E8,
            "STATUS_INVALID_USER_BUFFER",
        ),
        (STATUS_CANCELLED, 0xC000_0120, "STATUS_CANCELLED"),
        (
            STATUS_INVALID_ADDRESS,
            0xC000_0141,
            "STATUS_INVALID_ADDRESS",
        ),
        (
            STATUS_INVALID_DEVICE_STATE,
            0xC000_0184,
            "STATUS_INVALID_DEVICE_STATE",
        ),
        (
            STATUS_INVALID_BUFFER_SIZE,
            0xC000_0206,
            "STATUS_INVALID_BUFFER_SIZE",
        ),
        (
            STATUS_INVALID_ADDRESS_COMPONENT,
            0xC000_0207,
            "STATUS_INVALID_ADDRESS_COMPONENT",
        ),
        (
            STATUS_ADDRESS_ALREADY_EXISTS,
            0xC000_020A,
            "STATUS_ADDRESS_ALREADY_EXISTS",
        ),
        (STATUS_NOT_FOUND, 0xC000_0225, "STATUS_NOT_FOUND"),
        (
            STATUS_CONNECTION_REFUSED,
            0xC000_0236,
            "STATUS_CONNECTION_REFUSED",
        ),
        (
            STATUS_ADDRESS_ALREADY_ASSOCIATED,
            0xC000_0238,
            "STATUS_ADDRESS_ALREADY_ASSOCIATED",
        ),
        (
            STATUS_NETWORK_UNREACHABLE,
            0xC000_023C,
            "STATUS_NETWORK_UNREACHABLE",
        ),
        (
            STATUS_HOST_UNREACHABLE,
            0xC000_023D,
            "STATUS_HOST_UNREACHABLE",
        ),
        (
            STATUS_PORT_UNREACHABLE,
            0xC000_023F,
            "STATUS_PORT_UNREACHABLE",
        ),
        (STATUS_DEVICE_REMOVED, 0xC000_02B6, "STATUS_DEVICE_REMOVED"),
        (STATUS_NOINTERFACE, 0xC000_02B9, "STATUS_NOINTERFACE"),
    ];
    for &(value, raw, name) in expected {
        assert_eq!(value, raw as i32, "{name}");
        assert_eq!(status::name(value), Some(name));
        let meaning = status::describe(value);
        assert!(!meaning.is_empty() && meaning != "unknown status", "{name}");
    }
    // The table holds nothing the list above does not check, and no duplicates.
    assert_eq!(status::all().count(), expected.len());
    for (value, name) in status::all() {
        assert_eq!(
            status::all().filter(|(v, _)| *v == value).count(),
            1,
            "{name}"
        );
    }
}

#[test]
fn status_unknown_and_success() {
    assert_eq!(status::name(0x1234), None);
    assert_eq!(status::describe(nt(0xC0DE_0000)), "unknown status");
    assert!(status::nt_success(status::STATUS_SUCCESS));
    assert!(status::nt_success(status::STATUS_PENDING));
    assert!(!status::nt_success(status::STATUS_DEVICE_BUSY));
    assert!(!status::nt_success(status::STATUS_CANCELLED));
}

#[test]
fn abi_error_display_is_distinct_and_nonempty() {
    let all = [
        AbiError::InputTooShort,
        AbiError::LengthMismatch,
        AbiError::OutputTooSmall,
        AbiError::UnsupportedVersion,
        AbiError::BadHeaderSize,
        AbiError::UnknownFlags,
        AbiError::ReservedNotZero,
        AbiError::BadFamily,
        AbiError::PortZero,
        AbiError::BadAddress,
        AbiError::EmptyPayload,
        AbiError::PayloadTooLarge,
    ];
    let texts: Vec<_> = all.iter().map(|e| e.to_string()).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(!t.is_empty());
        assert!(!texts[..i].contains(t), "duplicate text {t}");
        assert!(status::name(all[i].ntstatus()).is_some());
    }
    assert!(AbiError::PayloadTooLarge.to_string().contains("65,507"));
}

// ---------------------------------------------------------------------------
// Wire address
// ---------------------------------------------------------------------------

#[test]
fn address_v4_exact_bytes() {
    assert_eq!(encode_addr(Some(sample_v4())), SAMPLE_V4_BYTES);
    assert_eq!(decode_address(&SAMPLE_V4_BYTES), Ok(Some(sample_v4())));
}

#[test]
fn address_v6_exact_bytes() {
    assert_eq!(encode_addr(Some(sample_v6())), SAMPLE_V6_BYTES);
    assert_eq!(decode_address(&SAMPLE_V6_BYTES), Ok(Some(sample_v6())));
}

#[test]
fn address_none_is_all_zero() {
    assert_eq!(encode_addr(None), [0; 32]);
    assert_eq!(decode_address(&[0; 32]), Ok(None));
    assert_eq!(decode_bind_address(&[0; 32]), Ok(None));
}

#[test]
fn address_round_trips() {
    let addrs = [
        sample_v4(),
        sample_v6(),
        v4(255, 255, 255, 255, 65535),
        v4(127, 0, 0, 1, 1),
        v6(Ipv6Addr::LOCALHOST, 9, 0, 0),
        v6(
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0x1234, 0x5678, 0x9abc, 0xdef0),
            53,
            0xFFFF_FFFF,
            0xFFFF_FFFF,
        ),
        v6(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped(), 8080, 0, 3),
    ];
    for a in addrs {
        let bytes = encode_addr(Some(a));
        assert_eq!(decode_address(&bytes), Ok(Some(a)));
        assert_eq!(decode_bind_address(&bytes), Ok(Some(a)));
    }
}

#[test]
fn bind_address_allows_port_zero() {
    for a in [v4(0, 0, 0, 0, 0), v6(Ipv6Addr::UNSPECIFIED, 0, 0, 5)] {
        let bytes = encode_addr(Some(a));
        assert_eq!(decode_bind_address(&bytes), Ok(Some(a)));
        assert_eq!(decode_address(&bytes), Err(AbiError::PortZero));
    }
}

#[test]
fn address_bad_family() {
    for family in [1u16, 10, 3, 0xFFFF] {
        let mut b = SAMPLE_V4_BYTES;
        set_u16(&mut b, 0, family);
        assert_eq!(decode_address(&b), Err(AbiError::BadFamily));
        assert_eq!(decode_bind_address(&b), Err(AbiError::BadFamily));
    }
    assert_eq!(
        AbiError::BadFamily.ntstatus(),
        status::STATUS_INVALID_ADDRESS_COMPONENT
    );
    assert_eq!(AbiError::BadFamily.ntstatus(), nt(0xC000_0207));
}

#[test]
fn address_reserved_not_zero() {
    for base in [SAMPLE_V4_BYTES, SAMPLE_V6_BYTES, [0; 32]] {
        let mut b = base;
        b[15] = 1;
        assert_eq!(decode_address(&b), Err(AbiError::ReservedNotZero));
    }
}

#[test]
fn address_port_zero() {
    for base in [SAMPLE_V4_BYTES, SAMPLE_V6_BYTES] {
        let mut b = base;
        set_u16(&mut b, 2, 0);
        assert_eq!(decode_address(&b), Err(AbiError::PortZero));
    }
    assert_eq!(AbiError::PortZero.ntstatus(), nt(0xC000_0207));
}

#[test]
fn address_bad_address() {
    // IPv4 with octets past the first four.
    for i in 20..32 {
        let mut b = SAMPLE_V4_BYTES;
        b[i] = 1;
        assert_eq!(decode_address(&b), Err(AbiError::BadAddress), "octet {i}");
    }
    // IPv4 with flow info or scope id.
    let mut b = SAMPLE_V4_BYTES;
    set_u32(&mut b, 4, 1);
    assert_eq!(decode_address(&b), Err(AbiError::BadAddress));
    let mut b = SAMPLE_V4_BYTES;
    set_u32(&mut b, 8, 1);
    assert_eq!(decode_bind_address(&b), Err(AbiError::BadAddress));
    // "No address" with anything but zeros (the reserved field has its own error).
    for i in (2..12).chain(16..32) {
        let mut b = [0u8; 32];
        b[i] = 0x80;
        assert_eq!(decode_address(&b), Err(AbiError::BadAddress), "byte {i}");
        assert_eq!(
            decode_bind_address(&b),
            Err(AbiError::BadAddress),
            "byte {i}"
        );
    }
    assert_eq!(AbiError::BadAddress.ntstatus(), nt(0xC000_0207));
}

// ---------------------------------------------------------------------------
// Send request
// ---------------------------------------------------------------------------

#[rustfmt::skip]
fn sample_request_bytes() -> Vec<u8> {
    let mut b = vec![
        1, 0,                   // version
        0, 0,                   // flags
        48, 0, 0, 0,            // header size
    ];
    b.extend_from_slice(&SAMPLE_V4_BYTES); // destination
    b.extend_from_slice(&[
        3, 0, 0, 0,             // payload length
        0, 0, 0, 0,             // reserved
        b'h', b'i', b'!',       // payload
    ]);
    b
}

#[test]
fn send_request_exact_bytes() {
    let expected = sample_request_bytes();
    assert_eq!(request(Some(sample_v4()), b"hi!"), expected);
    let decoded = decode_send_request(&expected).unwrap();
    assert_eq!(
        decoded,
        SendRequest {
            destination: Some(sample_v4()),
            payload: b"hi!"
        }
    );
}

#[test]
fn send_request_v6_exact_destination_bytes() {
    let bytes = request(Some(sample_v6()), &[0x5A; 10]);
    assert_eq!(bytes.len(), 58);
    assert_eq!(&bytes[8..40], &SAMPLE_V6_BYTES);
    assert_eq!(&bytes[40..44], &[10, 0, 0, 0]);
    assert_eq!(&bytes[48..], &[0x5A; 10]);
}

#[test]
fn send_request_round_trips() {
    let payload: Vec<u8> = (0..=255).collect();
    for dest in [
        None,
        Some(sample_v4()),
        Some(sample_v6()),
        Some(v6(Ipv6Addr::LOCALHOST, 7, 0xFFFFF, 12)),
    ] {
        let bytes = request(dest, &payload);
        let decoded = decode_send_request(&bytes).unwrap();
        assert_eq!(decoded.destination, dest);
        assert_eq!(decoded.payload, &payload[..]);
    }
}

#[test]
fn send_request_maximum_payloads_accepted() {
    let big = vec![7u8; MAX_UDP_PAYLOAD_V6];
    let small = &big[..MAX_UDP_PAYLOAD_V4];
    let r = request(Some(sample_v4()), small);
    assert_eq!(decode_send_request(&r).unwrap().payload.len(), 65_507);
    for dest in [None, Some(sample_v6())] {
        let r = request(dest, &big);
        assert_eq!(decode_send_request(&r).unwrap().payload.len(), 65_527);
    }
}

#[test]
fn send_request_len_saturates() {
    assert_eq!(send_request_len(0), 48);
    assert_eq!(send_request_len(100), 148);
    assert_eq!(send_request_len(usize::MAX), usize::MAX);
}

#[test]
fn encode_send_request_writes_only_its_length() {
    let mut out = [0xEE; 100];
    let n = encode_send_request(None, b"abc", &mut out).unwrap();
    assert_eq!(n, 51);
    assert_eq!(&out[51..], &[0xEE; 49]);
    assert_eq!(&out[8..40], &[0; 32]);
    assert_eq!(decode_send_request(&out[..n]).unwrap().payload, b"abc");
}

#[test]
fn send_input_too_short() {
    for len in [0, 1, 47] {
        let bytes = &sample_request_bytes()[..len];
        let err = decode_send_request(bytes).unwrap_err();
        assert_eq!(err, AbiError::InputTooShort);
        assert_eq!(err.ntstatus(), status::STATUS_INFO_LENGTH_MISMATCH);
        assert_eq!(err.ntstatus(), nt(0xC000_0004));
    }
}

#[test]
fn send_length_mismatch() {
    let good = sample_request_bytes();
    // One byte short, one byte long, header only.
    let mut long = good.clone();
    long.push(0);
    for bytes in [&good[..good.len() - 1], &long[..], &good[..48]] {
        let err = decode_send_request(bytes).unwrap_err();
        assert_eq!(err, AbiError::LengthMismatch);
        assert_eq!(err.ntstatus(), nt(0xC000_0004));
    }
    // A payload length that would overflow the arithmetic.
    let mut huge = good.clone();
    set_u32(&mut huge, 40, u32::MAX);
    assert_eq!(decode_send_request(&huge), Err(AbiError::LengthMismatch));
}

#[test]
fn send_output_too_small() {
    let mut out = [0u8; 50];
    let err = encode_send_request(Some(sample_v4()), b"abc", &mut out).unwrap_err();
    assert_eq!(err, AbiError::OutputTooSmall);
    assert_eq!(err.ntstatus(), status::STATUS_BUFFER_TOO_SMALL);
    assert_eq!(err.ntstatus(), nt(0xC000_0023));
    assert_eq!(
        encode_send_request(None, b"abc", &mut []),
        Err(AbiError::OutputTooSmall)
    );
    let mut exact = [0u8; 51];
    assert_eq!(encode_send_request(None, b"abc", &mut exact), Ok(51));
}

#[test]
fn send_unsupported_version() {
    for version in [0u16, 2, 0xFFFF] {
        let mut b = sample_request_bytes();
        set_u16(&mut b, 0, version);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::UnsupportedVersion);
        assert_eq!(err.ntstatus(), status::STATUS_REVISION_MISMATCH);
        assert_eq!(err.ntstatus(), nt(0xC000_0059));
    }
}

#[test]
fn send_bad_header_size() {
    for size in [0u32, 32, 47, 49, 64, u32::MAX] {
        let mut b = sample_request_bytes();
        set_u32(&mut b, 4, size);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::BadHeaderSize);
        assert_eq!(err.ntstatus(), nt(0xC000_0059));
    }
}

#[test]
fn send_unknown_flags() {
    for bit in 0..16 {
        let mut b = sample_request_bytes();
        set_u16(&mut b, 2, 1 << bit);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::UnknownFlags);
        assert_eq!(err.ntstatus(), status::STATUS_INVALID_PARAMETER);
        assert_eq!(err.ntstatus(), nt(0xC000_000D));
    }
}

#[test]
fn send_reserved_not_zero() {
    let mut b = sample_request_bytes();
    set_u32(&mut b, 44, 0x0100_0000);
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::ReservedNotZero);
    assert_eq!(err.ntstatus(), nt(0xC000_000D));
    // The destination's own reserved field (8 + 12).
    let mut b = sample_request_bytes();
    b[20] = 1;
    assert_eq!(decode_send_request(&b), Err(AbiError::ReservedNotZero));
}

#[test]
fn send_bad_family() {
    let mut b = sample_request_bytes();
    set_u16(&mut b, 8, 10);
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::BadFamily);
    assert_eq!(err.ntstatus(), nt(0xC000_0207));
}

#[test]
fn send_port_zero() {
    let mut b = sample_request_bytes();
    set_u16(&mut b, 10, 0);
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::PortZero);
    assert_eq!(err.ntstatus(), nt(0xC000_0207));
    let mut out = [0u8; 64];
    for dest in [v4(1, 2, 3, 4, 0), v6(Ipv6Addr::LOCALHOST, 0, 0, 0)] {
        assert_eq!(
            encode_send_request(Some(dest), b"x", &mut out),
            Err(AbiError::PortZero)
        );
    }
}

#[test]
fn send_bad_address() {
    let mut b = sample_request_bytes();
    b[8 + 20] = 9; // fifth IPv4 octet
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::BadAddress);
    assert_eq!(err.ntstatus(), nt(0xC000_0207));
}

#[test]
fn send_empty_payload() {
    let mut b = sample_request_bytes();
    b.truncate(48);
    set_u32(&mut b, 40, 0);
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::EmptyPayload);
    assert_eq!(err.ntstatus(), status::STATUS_INVALID_BUFFER_SIZE);
    assert_eq!(err.ntstatus(), nt(0xC000_0206));
    let mut out = [0u8; 64];
    assert_eq!(
        encode_send_request(None, &[], &mut out),
        Err(AbiError::EmptyPayload)
    );
}

#[test]
fn send_payload_too_large() {
    let too_big_v6 = vec![0u8; MAX_UDP_PAYLOAD_V6 + 1];
    let too_big_v4 = &too_big_v6[..MAX_UDP_PAYLOAD_V4 + 1];
    let mut out = vec![0u8; send_request_len(too_big_v6.len())];
    for (dest, payload) in [
        (Some(sample_v4()), too_big_v4),
        (Some(sample_v6()), &too_big_v6[..]),
        (None, &too_big_v6[..]),
    ] {
        assert_eq!(
            encode_send_request(dest, payload, &mut out),
            Err(AbiError::PayloadTooLarge)
        );
        // Build the same request by hand, since the encoder refuses it.
        let mut b = vec![0u8; 48];
        set_u16(&mut b, 0, 1);
        set_u32(&mut b, 4, 48);
        b[8..40].copy_from_slice(&encode_addr(dest));
        set_u32(&mut b, 40, payload.len() as u32);
        b.extend_from_slice(payload);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::PayloadTooLarge);
        assert_eq!(err.ntstatus(), nt(0xC000_0206));
    }
    assert_eq!(max_payload_for(None), MAX_UDP_PAYLOAD_V6);
    assert_eq!(max_payload_for(Some(sample_v4())), MAX_UDP_PAYLOAD_V4);
}

#[test]
fn send_checks_run_in_documented_order() {
    // Start with every fault present, then fix them one at a time.
    let mut b = vec![0xFFu8; 48];
    b[8..40].copy_from_slice(&[0x33; 32]); // family 0x3333
    assert_eq!(decode_send_request(&b), Err(AbiError::UnsupportedVersion));
    set_u16(&mut b, 0, 1);
    assert_eq!(decode_send_request(&b), Err(AbiError::BadHeaderSize));
    set_u32(&mut b, 4, 48);
    assert_eq!(decode_send_request(&b), Err(AbiError::UnknownFlags));
    set_u16(&mut b, 2, 0);
    assert_eq!(decode_send_request(&b), Err(AbiError::ReservedNotZero));
    set_u32(&mut b, 44, 0);
    assert_eq!(decode_send_request(&b), Err(AbiError::LengthMismatch));
    set_u32(&mut b, 40, 0);
    assert_eq!(decode_send_request(&b), Err(AbiError::BadFamily));
    set_u16(&mut b, 8, 2);
    assert_eq!(decode_send_request(&b), Err(AbiError::ReservedNotZero));
    set_u32(&mut b, 20, 0);
    assert_eq!(decode_send_request(&b), Err(AbiError::BadAddress));
    set_u32(&mut b, 12, 0);
    set_u32(&mut b, 16, 0);
    b[28..40].fill(0);
    set_u16(&mut b, 10, 0);
    assert_eq!(decode_send_request(&b), Err(AbiError::PortZero));
    set_u16(&mut b, 10, 9);
    assert_eq!(decode_send_request(&b), Err(AbiError::EmptyPayload));
    let payload = vec![1u8; MAX_UDP_PAYLOAD_V4 + 1];
    set_u32(&mut b, 40, payload.len() as u32);
    b.extend_from_slice(&payload);
    assert_eq!(decode_send_request(&b), Err(AbiError::PayloadTooLarge));
    b.pop();
    set_u32(&mut b, 40, MAX_UDP_PAYLOAD_V4 as u32);
    let ok = decode_send_request(&b).unwrap();
    assert_eq!(ok.destination, Some(v4(0x33, 0x33, 0x33, 0x33, 9)));
}

// ---------------------------------------------------------------------------
// Send reply
// ---------------------------------------------------------------------------

#[test]
fn send_reply_exact_bytes() {
    let reply = SendReply {
        bytes_sent: 0x0102_0304,
        sequence: 0x1122_3344_5566_7788,
    };
    let mut out = [0xAA; 16];
    reply.encode(&mut out);
    #[rustfmt::skip]
    let expected = [
        1, 0,                                           // version
        0, 0,                                           // reserved
        0x04, 0x03, 0x02, 0x01,                         // bytes_sent
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // sequence
    ];
    assert_eq!(out, expected);
    assert_eq!(SendReply::decode(&expected), Ok(reply));
}

#[test]
fn send_reply_round_trips() {
    for reply in [
        SendReply::default(),
        SendReply {
            bytes_sent: 1,
            sequence: 1,
        },
        SendReply {
            bytes_sent: u32::MAX,
            sequence: u64::MAX,
        },
    ] {
        let mut out = [0; 16];
        reply.encode(&mut out);
        assert_eq!(SendReply::decode(&out), Ok(reply));
    }
}

#[test]
fn send_reply_errors() {
    let mut good = [0; 16];
    SendReply {
        bytes_sent: 5,
        sequence: 9,
    }
    .encode(&mut good);
    assert_eq!(SendReply::decode(&good[..15]), Err(AbiError::InputTooShort));
    assert_eq!(SendReply::decode(&[]), Err(AbiError::InputTooShort));
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(SendReply::decode(&long), Err(AbiError::LengthMismatch));
    let mut b = good;
    b[0] = 2;
    assert_eq!(SendReply::decode(&b), Err(AbiError::UnsupportedVersion));
    let mut b = good;
    b[3] = 1;
    assert_eq!(SendReply::decode(&b), Err(AbiError::ReservedNotZero));
}

// ---------------------------------------------------------------------------
// Stats reply
// ---------------------------------------------------------------------------

#[test]
fn stats_exact_bytes() {
    let mut out = [0xAA; 160];
    sample_stats().encode(&mut out);
    assert_eq!(out, sample_stats_bytes());
    assert_eq!(Stats::decode(&sample_stats_bytes()), Ok(sample_stats()));
}

#[test]
fn stats_round_trips() {
    let mut s = sample_stats();
    let mut out = [0; 160];
    for (v4addr, v6addr) in [
        (None, None),
        (Some(v4(0, 0, 0, 0, 0)), None),
        (None, Some(v6(Ipv6Addr::UNSPECIFIED, 0, 0, 0))),
        (Some(sample_v4()), Some(sample_v6())),
    ] {
        s.local_v4 = v4addr;
        s.local_v6 = v6addr;
        s.encode(&mut out);
        assert_eq!(Stats::decode(&out), Ok(s));
    }
    Stats::default().encode(&mut out);
    assert_eq!(Stats::decode(&out), Ok(Stats::default()));
}

#[test]
fn stats_failed_total() {
    let s = sample_stats();
    assert_eq!(
        s.failed_total(),
        0x0505_0505_0505_0505
            + 0x0606_0606_0606_0606
            + 0x0707_0707_0707_0707
            + 0x0808_0808_0808_0808
            + 0x0909_0909_0909_0909
    );
    let saturated = Stats {
        failed_transport: u64::MAX,
        failed_cancelled: 1,
        ..Stats::default()
    };
    assert_eq!(saturated.failed_total(), u64::MAX);
    assert_eq!(Stats::default().failed_total(), 0);
}

#[test]
fn stats_errors() {
    let good = sample_stats_bytes();
    assert_eq!(Stats::decode(&good[..159]), Err(AbiError::InputTooShort));
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(Stats::decode(&long), Err(AbiError::LengthMismatch));

    let mut b = good;
    set_u16(&mut b, 0, 0);
    assert_eq!(Stats::decode(&b), Err(AbiError::UnsupportedVersion));
    let mut b = good;
    set_u32(&mut b, 4, 128);
    assert_eq!(Stats::decode(&b), Err(AbiError::BadHeaderSize));
    let mut b = good;
    set_u16(&mut b, 2, 1);
    assert_eq!(Stats::decode(&b), Err(AbiError::ReservedNotZero));
    let mut b = good;
    set_u32(&mut b, 92, 1);
    assert_eq!(Stats::decode(&b), Err(AbiError::ReservedNotZero));

    // Swapped families.
    let mut b = good;
    b[96..128].copy_from_slice(&SAMPLE_V6_BYTES);
    assert_eq!(Stats::decode(&b), Err(AbiError::BadFamily));
    let mut b = good;
    b[128..160].copy_from_slice(&SAMPLE_V4_BYTES);
    assert_eq!(Stats::decode(&b), Err(AbiError::BadFamily));
    // Address faults inside the local addresses.
    let mut b = good;
    b[96 + 30] = 1;
    assert_eq!(Stats::decode(&b), Err(AbiError::BadAddress));
    let mut b = good;
    set_u16(&mut b, 128, 99);
    assert_eq!(Stats::decode(&b), Err(AbiError::BadFamily));
}

#[test]
fn stats_counter_offsets() {
    // Each counter set alone lands at its documented offset.
    type Setter = fn(&mut Stats);
    let fields: [(usize, Setter); 12] = [
        (8, |s| s.requests = 0xA1),
        (16, |s| s.datagrams_sent = 0xA1),
        (24, |s| s.bytes_sent = 0xA1),
        (32, |s| s.in_flight = 0xA1),
        (40, |s| s.failed_validation = 0xA1),
        (48, |s| s.failed_no_resources = 0xA1),
        (56, |s| s.failed_not_ready = 0xA1),
        (64, |s| s.failed_transport = 0xA1),
        (72, |s| s.failed_cancelled = 0xA1),
        (80, |s| s.pool_slots = 0xA1),
        (84, |s| s.pool_free = 0xA1),
        (88, |s| s.slot_size = 0xA1),
    ];
    for (at, set) in fields {
        let mut s = Stats::default();
        set(&mut s);
        let mut out = [0; 160];
        s.encode(&mut out);
        let mut expected = [0u8; 160];
        expected[0] = 1;
        expected[4] = 160;
        expected[at] = 0xA1;
        assert_eq!(out, expected, "offset {at}");
        assert_eq!(Stats::decode(&expected), Ok(s));
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn arb_addr(min_port: u16) -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), min_port..=u16::MAX)
            .prop_map(|(o, p)| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(o), p))),
        (
            any::<[u8; 16]>(),
            min_port..=u16::MAX,
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(|(o, p, f, s)| SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(o),
                p,
                f,
                s
            ))),
    ]
}

fn arb_v4(min_port: u16) -> impl Strategy<Value = Option<SocketAddr>> {
    proptest::option::of(
        (any::<[u8; 4]>(), min_port..=u16::MAX)
            .prop_map(|(o, p)| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(o), p))),
    )
}

fn arb_v6(min_port: u16) -> impl Strategy<Value = Option<SocketAddr>> {
    proptest::option::of(
        (
            any::<[u8; 16]>(),
            min_port..=u16::MAX,
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(|(o, p, f, s)| SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(o), p, f, s))),
    )
}

fn arb_stats() -> impl Strategy<Value = Stats> {
    (any::<[u64; 9]>(), any::<[u32; 3]>(), arb_v4(0), arb_v6(0)).prop_map(
        |(c, p, local_v4, local_v6)| Stats {
            requests: c[0],
            datagrams_sent: c[1],
            bytes_sent: c[2],
            in_flight: c[3],
            failed_validation: c[4],
            failed_no_resources: c[5],
            failed_not_ready: c[6],
            failed_transport: c[7],
            failed_cancelled: c[8],
            pool_slots: p[0],
            pool_free: p[1],
            slot_size: p[2],
            local_v4,
            local_v6,
        },
    )
}

/// Mutations applied to a valid encoding: (index seed, xor mask).
fn arb_mutations() -> impl Strategy<Value = Vec<(usize, u8)>> {
    proptest::collection::vec((any::<usize>(), 1..=u8::MAX), 1..4)
}

fn mutate(bytes: &mut [u8], mutations: &[(usize, u8)]) {
    if bytes.is_empty() {
        return;
    }
    for &(i, m) in mutations {
        // Bias toward the header, where the interesting fields are.
        let limit = bytes.len().min(160);
        bytes[i % limit] ^= m;
    }
}

proptest! {
    #[test]
    fn prop_address_round_trip(addr in proptest::option::of(arb_addr(1))) {
        let bytes = encode_addr(addr);
        prop_assert_eq!(decode_address(&bytes), Ok(addr));
        prop_assert_eq!(decode_bind_address(&bytes), Ok(addr));
    }

    #[test]
    fn prop_bind_address_round_trip(addr in proptest::option::of(arb_addr(0))) {
        prop_assert_eq!(decode_bind_address(&encode_addr(addr)), Ok(addr));
    }

    #[test]
    fn prop_address_decode_is_canonical(
        addr in proptest::option::of(arb_addr(0)),
        mutations in arb_mutations(),
    ) {
        let mut bytes = encode_addr(addr);
        mutate(&mut bytes, &mutations);
        if let Ok(decoded) = decode_bind_address(&bytes) {
            prop_assert_eq!(encode_addr(decoded), bytes);
        }
        if let Ok(decoded) = decode_address(&bytes) {
            prop_assert_eq!(encode_addr(decoded), bytes);
        }
    }

    #[test]
    fn prop_address_decode_never_panics(bytes in any::<[u8; 32]>()) {
        let _ = decode_address(&bytes);
        let _ = decode_bind_address(&bytes);
    }

    #[test]
    fn prop_send_request_round_trip(
        dest in proptest::option::of(arb_addr(1)),
        payload in proptest::collection::vec(any::<u8>(), 1..2048),
    ) {
        let bytes = request(dest, &payload);
        let decoded = decode_send_request(&bytes).unwrap();
        prop_assert_eq!(decoded.destination, dest);
        prop_assert_eq!(decoded.payload, &payload[..]);
    }

    #[test]
    fn prop_send_request_decode_is_canonical(
        dest in proptest::option::of(arb_addr(1)),
        payload in proptest::collection::vec(any::<u8>(), 1..64),
        mutations in arb_mutations(),
    ) {
        let mut bytes = request(dest, &payload);
        mutate(&mut bytes, &mutations);
        if let Ok(decoded) = decode_send_request(&bytes) {
            prop_assert_eq!(request(decoded.destination, decoded.payload), bytes);
        }
    }

    #[test]
    fn prop_send_request_decode_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = decode_send_request(&bytes);
    }

    #[test]
    fn prop_encode_send_request_never_panics(
        dest in proptest::option::of(arb_addr(0)),
        payload in proptest::collection::vec(any::<u8>(), 0..128),
        out_len in 0usize..200,
    ) {
        let mut out = vec![0u8; out_len];
        if let Ok(n) = encode_send_request(dest, &payload, &mut out) {
            prop_assert_eq!(n, 48 + payload.len());
            prop_assert!(decode_send_request(&out[..n]).is_ok());
        }
    }

    #[test]
    fn prop_send_reply_round_trip(bytes_sent in any::<u32>(), sequence in any::<u64>()) {
        let reply = SendReply { bytes_sent, sequence };
        let mut out = [0; 16];
        reply.encode(&mut out);
        prop_assert_eq!(SendReply::decode(&out), Ok(reply));
    }

    #[test]
    fn prop_send_reply_decode(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(reply) = SendReply::decode(&bytes) {
            let mut out = [0; 16];
            reply.encode(&mut out);
            prop_assert_eq!(&out[..], &bytes[..]);
        }
    }

    #[test]
    fn prop_stats_round_trip(stats in arb_stats()) {
        let mut out = [0; 160];
        stats.encode(&mut out);
        prop_assert_eq!(Stats::decode(&out), Ok(stats));
    }

    #[test]
    fn prop_stats_decode_is_canonical(stats in arb_stats(), mutations in arb_mutations()) {
        let mut bytes = [0; 160];
        stats.encode(&mut bytes);
        mutate(&mut bytes, &mutations);
        if let Ok(decoded) = Stats::decode(&bytes) {
            let mut out = [0; 160];
            decoded.encode(&mut out);
            prop_assert_eq!(out, bytes);
        }
    }

    #[test]
    fn prop_stats_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..320)) {
        let _ = Stats::decode(&bytes);
    }

    #[test]
    fn prop_status_lookups_never_panic(value in any::<i32>()) {
        let _ = status::name(value);
        prop_assert!(!status::describe(value).is_empty());
        let _ = format!("{}", Guid { data1: value as u32, data2: 0, data3: 0, data4: [0; 8] });
    }
}
