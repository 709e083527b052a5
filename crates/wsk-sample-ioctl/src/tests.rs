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

/// 198.51.100.7:53, distinct from `sample_v4()` so a field written to the
/// wrong slot shows up.
fn other_v4() -> SocketAddr {
    v4(198, 51, 100, 7, 53)
}

/// [fe80::1%3]:8080 with flow info 0x0001_2345
fn other_v6() -> SocketAddr {
    v6(
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        8080,
        0x0001_2345,
        3,
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

#[rustfmt::skip]
const OTHER_V4_BYTES: [u8; 32] = [
    2, 0,                   // family AF_INET
    53, 0,                  // port 53, little-endian
    0, 0, 0, 0,             // flow info
    0, 0, 0, 0,             // scope id
    0, 0, 0, 0,             // reserved
    198, 51, 100, 7,        // address
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

#[rustfmt::skip]
const OTHER_V6_BYTES: [u8; 32] = [
    23, 0,                  // family AF_INET6
    0x90, 0x1F,             // port 8080, little-endian
    0x45, 0x23, 0x01, 0x00, // flow info
    3, 0, 0, 0,             // scope id
    0, 0, 0, 0,             // reserved
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];

fn encode_addr(addr: Option<SocketAddr>) -> [u8; 32] {
    let mut out = [0xAA; 32];
    encode_address(addr, &mut out);
    out
}

/// A send request to an explicit address, through the `Option` encoder.
fn request(destination: Option<SocketAddr>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0; send_request_len(payload.len())];
    let n = encode_send_request(destination, payload, &mut out).expect("valid request");
    assert_eq!(n, out.len());
    out
}

/// A send request to any destination, through [`encode_send`].
fn request_to(destination: Destination, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0; send_request_len(payload.len())];
    let n = encode_send(destination, payload, &mut out).expect("valid request");
    assert_eq!(n, out.len());
    out
}

/// A send header built by hand: version 1, header size 48, the given flags,
/// destination bytes and payload.
fn raw_request(flags: u16, destination: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    set_u16(&mut b, 0, 1);
    set_u16(&mut b, 2, flags);
    set_u32(&mut b, 4, 48);
    b[8..40].copy_from_slice(destination);
    set_u32(&mut b, 40, payload.len() as u32);
    b.extend_from_slice(payload);
    b
}

/// The destination field of a fixed-destination send: only the family.
fn fixed_family_bytes(family: u16) -> [u8; 32] {
    let mut b = [0u8; 32];
    set_u16(&mut b, 0, family);
    b
}

/// A configure request built by hand from literal offsets.
fn config_bytes(family: u16, action: u32, address: &[u8; 32]) -> [u8; 48] {
    let mut b = [0u8; 48];
    set_u16(&mut b, 0, 1); // version
    set_u16(&mut b, 2, family);
    set_u32(&mut b, 4, action);
    b[8..40].copy_from_slice(address);
    // 40..48: value, zero for every action but the pool size
    b
}

/// A pool-size request built by hand: family and address 0, action 5, the
/// slot count at 40.
fn pool_bytes(value: u64) -> [u8; 48] {
    let mut b = config_bytes(0, 5, &[0; 32]);
    b[40..48].copy_from_slice(&value.to_le_bytes());
    b
}

fn encode_config(action: ConfigAction) -> Result<[u8; 48], AbiError> {
    let mut out = [0xAA; 48];
    action.encode(&mut out).map(|()| out)
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
        fixed_v4: Some(FixedDestination::Remote(other_v4())),
        fixed_v6: Some(FixedDestination::SendTo(other_v6())),
        batches: 0x0D0D_0D0D_0D0D_0D0D,
        failed_busy: 0x0E0E_0E0E_0E0E_0E0E,
    }
}

/// The header of an otherwise empty stats reply: version 1, size 256.
fn stats_header() -> [u8; 256] {
    let mut b = [0u8; 256];
    b[0] = 1; // version
    b[4..8].copy_from_slice(&[0x00, 0x01, 0, 0]); // size 256
    b
}

/// The 256 bytes of `sample_stats()`, built from literal offsets.
fn sample_stats_bytes() -> [u8; 256] {
    let mut b = stats_header();
    for (i, at) in [8, 16, 24, 32, 40, 48, 56, 64, 72].into_iter().enumerate() {
        b[at..at + 8].fill(i as u8 + 1);
    }
    b[80..84].fill(0x0A);
    b[84..88].fill(0x0B);
    b[88..92].fill(0x0C);
    b[96..128].copy_from_slice(&SAMPLE_V4_BYTES);
    b[128..160].copy_from_slice(&SAMPLE_V6_BYTES);
    b[160..192].copy_from_slice(&OTHER_V4_BYTES); // fixed_v4
    b[192..224].copy_from_slice(&OTHER_V6_BYTES); // fixed_v6
    b[224..228].copy_from_slice(&[1, 0, 0, 0]); // fixed_kind_v4: remote
    b[228..232].copy_from_slice(&[2, 0, 0, 0]); // fixed_kind_v6: send-to
    b[232..240].fill(0x0D); // batches
    b[240..248].fill(0x0E); // failed_busy
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
    // (0x8057 << 16) | (2 << 14) | (0x802 << 2) | 0
    assert_eq!(IOCTL_WSK_SAMPLE_CONFIGURE, 0x8057_A008);
    // (0x8057 << 16) | (2 << 14) | (0x803 << 2) | 0
    assert_eq!(IOCTL_WSK_SAMPLE_SEND_BATCH, 0x8057_A00C);
}

#[test]
fn ctl_code_fields_decode() {
    assert_eq!(required_access(IOCTL_WSK_SAMPLE_SEND), FILE_WRITE_DATA);
    assert_eq!(
        required_access(IOCTL_WSK_SAMPLE_QUERY_STATS),
        FILE_READ_DATA
    );
    // Configuring changes what the driver sends, so it needs write access.
    assert_eq!(required_access(IOCTL_WSK_SAMPLE_CONFIGURE), FILE_WRITE_DATA);
    assert_eq!(
        required_access(IOCTL_WSK_SAMPLE_SEND_BATCH),
        FILE_WRITE_DATA
    );
    assert_eq!(function_code(IOCTL_WSK_SAMPLE_SEND), 0x800);
    assert_eq!(function_code(IOCTL_WSK_SAMPLE_QUERY_STATS), 0x801);
    assert_eq!(function_code(IOCTL_WSK_SAMPLE_CONFIGURE), 0x802);
    assert_eq!(function_code(IOCTL_WSK_SAMPLE_SEND_BATCH), 0x803);
    for code in [
        IOCTL_WSK_SAMPLE_SEND,
        IOCTL_WSK_SAMPLE_QUERY_STATS,
        IOCTL_WSK_SAMPLE_CONFIGURE,
        IOCTL_WSK_SAMPLE_SEND_BATCH,
    ] {
        assert_eq!(code & 3, METHOD_BUFFERED);
        assert_eq!(code >> 16, FILE_DEVICE_WSK_SAMPLE);
    }
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
    assert_eq!(WIRE_AF_UNSPEC, 0);
    assert_eq!(WIRE_AF_INET, 2);
    assert_eq!(WIRE_AF_INET6, 23);
    assert_eq!(MAX_UDP_PAYLOAD_V4, 65_535 - 20 - 8);
    assert_eq!(MAX_UDP_PAYLOAD_V6, 65_535 - 8);
    assert_eq!(ABI_VERSION, 1);
    assert_eq!(WIRE_ADDRESS_SIZE, 32);
    assert_eq!(SEND_HEADER_SIZE, 48);
    assert_eq!(SEND_REPLY_SIZE, 16);
    assert_eq!(CONFIG_REQUEST_SIZE, 48);
    assert_eq!(STATS_REPLY_SIZE, 256);
    assert_eq!(SEND_FLAG_FIXED_DESTINATION, 0x0001);
    assert_eq!(SEND_FLAGS_KNOWN, 0x0001);
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
// Families and destinations
// ---------------------------------------------------------------------------

#[test]
fn family_wire_values() {
    assert_eq!(Family::V4.wire(), 2);
    assert_eq!(Family::V6.wire(), 23);
    assert_eq!(Family::from_wire(2), Some(Family::V4));
    assert_eq!(Family::from_wire(23), Some(Family::V6));
    for value in [0u16, 1, 10, 22, 24, 0xFFFF] {
        assert_eq!(Family::from_wire(value), None, "{value}");
    }
    for family in [Family::V4, Family::V6] {
        assert_eq!(Family::from_wire(family.wire()), Some(family));
    }
    assert_eq!(Family::V4.max_payload(), 65_507);
    assert_eq!(Family::V6.max_payload(), 65_527);
    assert_eq!(Family::of(&sample_v4()), Family::V4);
    assert_eq!(Family::of(&sample_v6()), Family::V6);
    // An IPv4-mapped IPv6 address still travels on the IPv6 socket.
    let mapped = v6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped(), 1, 0, 0);
    assert_eq!(Family::of(&mapped), Family::V6);
}

#[test]
fn destination_and_action_families() {
    assert_eq!(Destination::Address(sample_v4()).family(), Family::V4);
    assert_eq!(Destination::Address(sample_v6()).family(), Family::V6);
    assert_eq!(Destination::Fixed(Family::V4).family(), Family::V4);
    assert_eq!(Destination::Fixed(Family::V6).family(), Family::V6);
    for (a, family) in [(sample_v4(), Family::V4), (sample_v6(), Family::V6)] {
        assert_eq!(ConfigAction::Bind(a).family(), Some(family));
        assert_eq!(ConfigAction::FixedRemote(a).family(), Some(family));
        assert_eq!(ConfigAction::FixedSendTo(a).family(), Some(family));
        assert_eq!(ConfigAction::ClearFixed(family).family(), Some(family));
        assert_eq!(FixedDestination::Remote(a).address(), a);
        assert_eq!(FixedDestination::SendTo(a).address(), a);
    }
    // The pool size is driver-wide.
    assert_eq!(ConfigAction::PoolSlots(8).family(), None);
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
        AbiError::UnknownAction,
        AbiError::BadCount,
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

#[rustfmt::skip]
fn sample_fixed_request_bytes() -> Vec<u8> {
    let mut b = vec![
        1, 0,                   // version
        1, 0,                   // flags: fixed destination
        48, 0, 0, 0,            // header size
        23, 0,                  // destination: family AF_INET6 ...
    ];
    b.extend_from_slice(&[0; 30]); // ... and nothing else
    b.extend_from_slice(&[
        2, 0, 0, 0,             // payload length
        0, 0, 0, 0,             // reserved
        b'o', b'k',             // payload
    ]);
    b
}

/// Flags and destination field of `destination`, built by hand.
fn destination_field(destination: Destination) -> (u16, [u8; 32]) {
    match destination {
        Destination::Address(a) => (0, encode_addr(Some(a))),
        Destination::Fixed(Family::V4) => (1, fixed_family_bytes(2)),
        Destination::Fixed(Family::V6) => (1, fixed_family_bytes(23)),
    }
}

#[test]
fn send_request_exact_bytes() {
    let expected = sample_request_bytes();
    assert_eq!(request(Some(sample_v4()), b"hi!"), expected);
    assert_eq!(
        request_to(Destination::Address(sample_v4()), b"hi!"),
        expected
    );
    let decoded = decode_send_request(&expected).unwrap();
    assert_eq!(
        decoded,
        SendRequest {
            destination: Destination::Address(sample_v4()),
            payload: b"hi!"
        }
    );
}

#[test]
fn send_request_v6_exact_destination_bytes() {
    let bytes = request(Some(sample_v6()), &[0x5A; 10]);
    assert_eq!(bytes.len(), 58);
    assert_eq!(&bytes[2..4], &[0, 0]);
    assert_eq!(&bytes[8..40], &SAMPLE_V6_BYTES);
    assert_eq!(&bytes[40..44], &[10, 0, 0, 0]);
    assert_eq!(&bytes[48..], &[0x5A; 10]);
}

#[test]
fn send_fixed_destination_exact_bytes() {
    let expected = sample_fixed_request_bytes();
    assert_eq!(expected.len(), 50);
    assert_eq!(request_to(Destination::Fixed(Family::V6), b"ok"), expected);
    assert_eq!(
        decode_send_request(&expected),
        Ok(SendRequest {
            destination: Destination::Fixed(Family::V6),
            payload: b"ok"
        })
    );
    // IPv4: only the family byte differs.
    let mut expected_v4 = expected.clone();
    expected_v4[8] = 2;
    assert_eq!(
        request_to(Destination::Fixed(Family::V4), b"ok"),
        expected_v4
    );
    assert_eq!(
        decode_send_request(&expected_v4).unwrap().destination,
        Destination::Fixed(Family::V4)
    );
}

#[test]
fn send_fixed_flag_without_family() {
    // The flag with family 0 (the old "fixed destination" encoding) or an
    // unknown family names no socket.
    for family in [0u16, 1, 10, 22, 0xFFFF] {
        let b = raw_request(1, &fixed_family_bytes(family), b"x");
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::BadFamily, "family {family}");
        assert_eq!(err.ntstatus(), nt(0xC000_0207));
    }
}

#[test]
fn send_fixed_flag_with_stray_bytes() {
    // With the flag, everything after the family must be zero: port, flow
    // info, scope id, reserved field and octets alike.
    for family in [2u16, 23] {
        for i in 2..32 {
            let mut dest = fixed_family_bytes(family);
            dest[i] = 0x80;
            let b = raw_request(1, &dest, b"x");
            let err = decode_send_request(&b).unwrap_err();
            assert_eq!(err, AbiError::BadAddress, "family {family} byte {i}");
            assert_eq!(err.ntstatus(), nt(0xC000_0207));
        }
    }
    // A full address plus the flag is refused rather than silently ignored.
    for dest in [SAMPLE_V4_BYTES, SAMPLE_V6_BYTES] {
        let b = raw_request(1, &dest, b"x");
        assert_eq!(decode_send_request(&b), Err(AbiError::BadAddress));
    }
}

#[test]
fn send_family_zero_without_flag() {
    // Family 0 no longer means "fixed destination": without the flag the
    // destination must be an address.
    let b = raw_request(0, &[0; 32], b"x");
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::BadFamily);
    assert_eq!(err.ntstatus(), nt(0xC000_0207));
    let mut out = [0u8; 64];
    assert_eq!(
        encode_send_request(None, b"x", &mut out),
        Err(AbiError::BadFamily)
    );
    // Forgetting the flag on a family-only field leaves 0.0.0.0 port 0.
    let b = raw_request(0, &fixed_family_bytes(2), b"x");
    assert_eq!(decode_send_request(&b), Err(AbiError::PortZero));
}

#[test]
fn send_request_round_trips() {
    let payload: Vec<u8> = (0..=255).collect();
    for dest in [
        Destination::Fixed(Family::V4),
        Destination::Fixed(Family::V6),
        Destination::Address(sample_v4()),
        Destination::Address(sample_v6()),
        Destination::Address(v6(Ipv6Addr::LOCALHOST, 7, 0xFFFFF, 12)),
    ] {
        let bytes = request_to(dest, &payload);
        let decoded = decode_send_request(&bytes).unwrap();
        assert_eq!(decoded.destination, dest);
        assert_eq!(decoded.payload, &payload[..]);
        let (flags, field) = destination_field(dest);
        assert_eq!(bytes[2..4], flags.to_le_bytes());
        assert_eq!(bytes[8..40], field);
        if let Destination::Address(a) = dest {
            assert_eq!(request(Some(a), &payload), bytes);
        }
    }
}

#[test]
fn send_request_maximum_payloads_accepted() {
    let big = vec![7u8; MAX_UDP_PAYLOAD_V6];
    let small = &big[..MAX_UDP_PAYLOAD_V4];
    for dest in [
        Destination::Address(sample_v4()),
        Destination::Fixed(Family::V4),
    ] {
        let r = request_to(dest, small);
        assert_eq!(decode_send_request(&r).unwrap().payload.len(), 65_507);
    }
    for dest in [
        Destination::Address(sample_v6()),
        Destination::Fixed(Family::V6),
    ] {
        let r = request_to(dest, &big);
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
    let n = encode_send(Destination::Fixed(Family::V6), b"abc", &mut out).unwrap();
    assert_eq!(n, 51);
    assert_eq!(&out[51..], &[0xEE; 49]);
    assert_eq!(&out[2..4], &[1, 0]);
    assert_eq!(out[8..40], fixed_family_bytes(23));
    assert_eq!(decode_send_request(&out[..n]).unwrap().payload, b"abc");

    // Reusing the buffer for an address clears the flag.
    let n = encode_send_request(Some(sample_v4()), b"abc", &mut out).unwrap();
    assert_eq!(n, 51);
    assert_eq!(&out[51..], &[0xEE; 49]);
    assert_eq!(&out[2..4], &[0, 0]);
    assert_eq!(out[8..40], SAMPLE_V4_BYTES);
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
        encode_send(Destination::Fixed(Family::V4), b"abc", &mut out),
        Err(AbiError::OutputTooSmall)
    );
    assert_eq!(
        encode_send_request(Some(sample_v4()), b"abc", &mut []),
        Err(AbiError::OutputTooSmall)
    );
    let mut exact = [0u8; 51];
    assert_eq!(
        encode_send_request(Some(sample_v4()), b"abc", &mut exact),
        Ok(51)
    );
    assert_eq!(
        encode_send(Destination::Fixed(Family::V6), b"abc", &mut exact),
        Ok(51)
    );
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
    // Bit 0 is SEND_FLAG_FIXED_DESTINATION; every other bit is unknown, alone
    // or next to the known one.
    for bit in 1..16 {
        for extra in [0u16, 1] {
            for mut b in [sample_request_bytes(), sample_fixed_request_bytes()] {
                set_u16(&mut b, 2, (1 << bit) | extra);
                let err = decode_send_request(&b).unwrap_err();
                assert_eq!(err, AbiError::UnknownFlags, "bit {bit}");
                assert_eq!(err.ntstatus(), status::STATUS_INVALID_PARAMETER);
                assert_eq!(err.ntstatus(), nt(0xC000_000D));
            }
        }
    }
}

#[test]
fn send_reserved_not_zero() {
    let mut b = sample_request_bytes();
    set_u32(&mut b, 44, 0x0100_0000);
    let err = decode_send_request(&b).unwrap_err();
    assert_eq!(err, AbiError::ReservedNotZero);
    assert_eq!(err.ntstatus(), nt(0xC000_000D));
    let mut b = sample_fixed_request_bytes();
    b[47] = 1;
    assert_eq!(decode_send_request(&b), Err(AbiError::ReservedNotZero));
    // The destination's own reserved field (8 + 12).
    let mut b = sample_request_bytes();
    b[20] = 1;
    assert_eq!(decode_send_request(&b), Err(AbiError::ReservedNotZero));
}

#[test]
fn send_bad_family() {
    for family in [1u16, 10, 0xFFFF] {
        let mut b = sample_request_bytes();
        set_u16(&mut b, 8, family);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::BadFamily);
        assert_eq!(err.ntstatus(), nt(0xC000_0207));
    }
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
        assert_eq!(
            encode_send(Destination::Address(dest), b"x", &mut out),
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
    for mut b in [sample_request_bytes(), sample_fixed_request_bytes()] {
        b.truncate(48);
        set_u32(&mut b, 40, 0);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::EmptyPayload);
        assert_eq!(err.ntstatus(), status::STATUS_INVALID_BUFFER_SIZE);
        assert_eq!(err.ntstatus(), nt(0xC000_0206));
    }
    let mut out = [0u8; 64];
    assert_eq!(
        encode_send_request(Some(sample_v4()), &[], &mut out),
        Err(AbiError::EmptyPayload)
    );
    assert_eq!(
        encode_send(Destination::Fixed(Family::V6), &[], &mut out),
        Err(AbiError::EmptyPayload)
    );
}

#[test]
fn send_payload_too_large() {
    let too_big_v6 = vec![0u8; MAX_UDP_PAYLOAD_V6 + 1];
    let too_big_v4 = &too_big_v6[..MAX_UDP_PAYLOAD_V4 + 1];
    let mut out = vec![0u8; send_request_len(too_big_v6.len())];
    for (dest, payload) in [
        (Destination::Address(sample_v4()), too_big_v4),
        (Destination::Address(sample_v6()), &too_big_v6[..]),
        // A fixed destination gets its family's maximum.
        (Destination::Fixed(Family::V4), too_big_v4),
        (Destination::Fixed(Family::V6), &too_big_v6[..]),
    ] {
        assert_eq!(
            encode_send(dest, payload, &mut out),
            Err(AbiError::PayloadTooLarge)
        );
        if let Destination::Address(a) = dest {
            assert_eq!(
                encode_send_request(Some(a), payload, &mut out),
                Err(AbiError::PayloadTooLarge)
            );
        }
        // Build the same request by hand, since the encoder refuses it.
        let (flags, field) = destination_field(dest);
        let b = raw_request(flags, &field, payload);
        let err = decode_send_request(&b).unwrap_err();
        assert_eq!(err, AbiError::PayloadTooLarge);
        assert_eq!(err.ntstatus(), nt(0xC000_0206));
    }
    assert_eq!(max_payload_for(None), MAX_UDP_PAYLOAD_V6);
    assert_eq!(max_payload_for(Some(sample_v4())), MAX_UDP_PAYLOAD_V4);
    assert_eq!(max_payload_for(Some(sample_v6())), MAX_UDP_PAYLOAD_V6);
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
    assert_eq!(
        ok.destination,
        Destination::Address(v4(0x33, 0x33, 0x33, 0x33, 9))
    );
}

#[test]
fn send_fixed_checks_run_in_documented_order() {
    // With the flag: family, then the other destination bytes, then payload size.
    let mut b = vec![0u8; 48];
    set_u16(&mut b, 0, 1);
    set_u16(&mut b, 2, 1);
    set_u32(&mut b, 4, 48);
    b[8..40].copy_from_slice(&[0x33; 32]); // family 0x3333, stray bytes
    assert_eq!(decode_send_request(&b), Err(AbiError::BadFamily));
    set_u16(&mut b, 8, 2);
    assert_eq!(decode_send_request(&b), Err(AbiError::BadAddress));
    b[10..40].fill(0);
    assert_eq!(decode_send_request(&b), Err(AbiError::EmptyPayload));
    let payload = vec![1u8; MAX_UDP_PAYLOAD_V4 + 1];
    set_u32(&mut b, 40, payload.len() as u32);
    b.extend_from_slice(&payload);
    assert_eq!(decode_send_request(&b), Err(AbiError::PayloadTooLarge));
    // The same payload fits the IPv6 socket.
    set_u16(&mut b, 8, 23);
    let ok = decode_send_request(&b).unwrap();
    assert_eq!(ok.destination, Destination::Fixed(Family::V6));
    assert_eq!(ok.payload.len(), MAX_UDP_PAYLOAD_V4 + 1);
}

// ---------------------------------------------------------------------------
// Configure request
// ---------------------------------------------------------------------------

#[rustfmt::skip]
const SAMPLE_CONFIG_BYTES: [u8; 48] = [
    1, 0,                   // version
    2, 0,                   // family AF_INET
    1, 0, 0, 0,             // action: bind
    2, 0,                   // address: family AF_INET
    0x88, 0x13,             //   port 5000, little-endian
    0, 0, 0, 0,             //   flow info
    0, 0, 0, 0,             //   scope id
    0, 0, 0, 0,             //   reserved
    192, 0, 2, 1,           //   address
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, // reserved
];

#[test]
fn config_exact_bytes() {
    let bind = ConfigAction::Bind(sample_v4());
    assert_eq!(encode_config(bind), Ok(SAMPLE_CONFIG_BYTES));
    assert_eq!(ConfigAction::decode(&SAMPLE_CONFIG_BYTES), Ok(bind));
}

#[test]
fn config_every_action_exact_bytes() {
    let zero = [0u8; 32];
    let cases = [
        (
            ConfigAction::Bind(sample_v4()),
            config_bytes(2, 1, &SAMPLE_V4_BYTES),
        ),
        (
            ConfigAction::Bind(sample_v6()),
            config_bytes(23, 1, &SAMPLE_V6_BYTES),
        ),
        (
            ConfigAction::FixedRemote(other_v4()),
            config_bytes(2, 2, &OTHER_V4_BYTES),
        ),
        (
            ConfigAction::FixedRemote(other_v6()),
            config_bytes(23, 2, &OTHER_V6_BYTES),
        ),
        (
            ConfigAction::FixedSendTo(sample_v4()),
            config_bytes(2, 3, &SAMPLE_V4_BYTES),
        ),
        (
            ConfigAction::FixedSendTo(sample_v6()),
            config_bytes(23, 3, &SAMPLE_V6_BYTES),
        ),
        (
            ConfigAction::ClearFixed(Family::V4),
            config_bytes(2, 4, &zero),
        ),
        (
            ConfigAction::ClearFixed(Family::V6),
            config_bytes(23, 4, &zero),
        ),
        (ConfigAction::PoolSlots(1), pool_bytes(1)),
        (ConfigAction::PoolSlots(256), pool_bytes(256)),
    ];
    for (action, bytes) in cases {
        assert_eq!(encode_config(action), Ok(bytes), "{action:?}");
        assert_eq!(ConfigAction::decode(&bytes), Ok(action), "{action:?}");
    }
}

#[test]
fn config_round_trips_both_families() {
    let unspecified_v4 = v4(0, 0, 0, 0, 0);
    let unspecified_v6 = v6(Ipv6Addr::UNSPECIFIED, 0, 0, 5);
    let max_v6 = v6(
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0x1234, 0x5678, 0x9abc, 0xdef0),
        65535,
        0xFFFF_FFFF,
        0xFFFF_FFFF,
    );
    let mut actions = Vec::new();
    for a in [
        sample_v4(),
        other_v4(),
        v4(255, 255, 255, 255, 1),
        sample_v6(),
        other_v6(),
        max_v6,
    ] {
        actions.push(ConfigAction::Bind(a));
        actions.push(ConfigAction::FixedRemote(a));
        actions.push(ConfigAction::FixedSendTo(a));
    }
    // Bind takes port 0 (an ephemeral port).
    actions.push(ConfigAction::Bind(unspecified_v4));
    actions.push(ConfigAction::Bind(unspecified_v6));
    actions.push(ConfigAction::ClearFixed(Family::V4));
    actions.push(ConfigAction::ClearFixed(Family::V6));
    for action in actions {
        let bytes = encode_config(action).unwrap();
        assert_eq!(ConfigAction::decode(&bytes), Ok(action), "{action:?}");
        // Field placement, independent of the encoder's constants.
        let (family, code, address) = match action {
            ConfigAction::Bind(a) => (Family::of(&a).wire(), 1u32, Some(a)),
            ConfigAction::FixedRemote(a) => (Family::of(&a).wire(), 2, Some(a)),
            ConfigAction::FixedSendTo(a) => (Family::of(&a).wire(), 3, Some(a)),
            ConfigAction::ClearFixed(f) => (f.wire(), 4, None),
            ConfigAction::PoolSlots(_) => unreachable!("socket actions only"),
        };
        let address = match address {
            Some(a) => encode_addr(Some(a)),
            None => [0; 32],
        };
        assert_eq!(bytes, config_bytes(family, code, &address), "{action:?}");
    }
}

#[test]
fn config_pool_slots() {
    // Family and address 0, the slot count in the value field.
    for n in [MIN_POOL_SLOTS, 2, 64, MAX_POOL_SLOTS] {
        let action = ConfigAction::PoolSlots(n);
        let expected = pool_bytes(u64::from(n));
        assert_eq!(encode_config(action), Ok(expected));
        assert_eq!(ConfigAction::decode(&expected), Ok(action));
    }
    assert_eq!((MIN_POOL_SLOTS, MAX_POOL_SLOTS), (1, 256));
}

#[test]
fn config_bad_count() {
    // Pool sizes outside 1 ..= 256, including values that would truncate to
    // a valid u32.
    for n in [0u64, 257, 0xFFFF_FFFF, 0x1_0000_0001, u64::MAX] {
        let err = ConfigAction::decode(&pool_bytes(n)).unwrap_err();
        assert_eq!(err, AbiError::BadCount, "{n}");
        assert_eq!(err.ntstatus(), status::STATUS_INVALID_BUFFER_SIZE);
        assert_eq!(err.ntstatus(), nt(0xC000_0206));
    }
    for n in [0u32, 257, u32::MAX] {
        assert_eq!(
            encode_config(ConfigAction::PoolSlots(n)),
            Err(AbiError::BadCount)
        );
    }
}

#[test]
fn config_pool_slots_is_driver_wide() {
    // A family or any address byte on the pool-size action is refused.
    for family in [2u16, 23, 1] {
        let mut b = pool_bytes(8);
        set_u16(&mut b, 2, family);
        let err = ConfigAction::decode(&b).unwrap_err();
        assert_eq!(err, AbiError::BadAddress, "family {family}");
        assert_eq!(err.ntstatus(), nt(0xC000_0207));
    }
    for i in 8..40 {
        let mut b = pool_bytes(8);
        b[i] = 0x80;
        assert_eq!(
            ConfigAction::decode(&b),
            Err(AbiError::BadAddress),
            "byte {i}"
        );
    }
}

#[test]
fn config_input_too_short() {
    for len in [0, 1, 8, 40, 47] {
        let err = ConfigAction::decode(&SAMPLE_CONFIG_BYTES[..len]).unwrap_err();
        assert_eq!(err, AbiError::InputTooShort, "len {len}");
        assert_eq!(err.ntstatus(), nt(0xC000_0004));
    }
}

#[test]
fn config_length_mismatch() {
    for extra in [1usize, 48] {
        let mut long = SAMPLE_CONFIG_BYTES.to_vec();
        long.resize(48 + extra, 0);
        let err = ConfigAction::decode(&long).unwrap_err();
        assert_eq!(err, AbiError::LengthMismatch);
        assert_eq!(err.ntstatus(), status::STATUS_INFO_LENGTH_MISMATCH);
        assert_eq!(err.ntstatus(), nt(0xC000_0004));
    }
}

#[test]
fn config_unsupported_version() {
    for version in [0u16, 2, 0x0100, 0xFFFF] {
        let mut b = SAMPLE_CONFIG_BYTES;
        set_u16(&mut b, 0, version);
        let err = ConfigAction::decode(&b).unwrap_err();
        assert_eq!(err, AbiError::UnsupportedVersion);
        assert_eq!(err.ntstatus(), status::STATUS_REVISION_MISMATCH);
        assert_eq!(err.ntstatus(), nt(0xC000_0059));
    }
}

#[test]
fn config_reserved_not_zero() {
    // The value field (40..48) is reserved for every action but the pool size.
    for base in [SAMPLE_CONFIG_BYTES, config_bytes(23, 4, &[0; 32])] {
        for i in 40..48 {
            let mut b = base;
            b[i] = 0x01;
            let err = ConfigAction::decode(&b).unwrap_err();
            assert_eq!(err, AbiError::ReservedNotZero, "byte {i}");
            assert_eq!(err.ntstatus(), status::STATUS_INVALID_PARAMETER);
            assert_eq!(err.ntstatus(), nt(0xC000_000D));
        }
    }
    // The address's own reserved field (8 + 12).
    for action in [1u32, 2, 3] {
        let mut b = config_bytes(2, action, &SAMPLE_V4_BYTES);
        b[8 + 12] = 1;
        assert_eq!(ConfigAction::decode(&b), Err(AbiError::ReservedNotZero));
    }
}

#[test]
fn config_bad_family() {
    // The request's family names no socket.
    for family in [0u16, 1, 10, 22, 0xFFFF] {
        for (action, address) in [(1u32, SAMPLE_V4_BYTES), (4, [0; 32])] {
            let b = config_bytes(family, action, &address);
            let err = ConfigAction::decode(&b).unwrap_err();
            assert_eq!(err, AbiError::BadFamily, "family {family}");
            assert_eq!(err.ntstatus(), nt(0xC000_0207));
        }
    }
    for action in [1u32, 2, 3] {
        // The address's family differs from the request's.
        let b = config_bytes(2, action, &SAMPLE_V6_BYTES);
        assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
        let b = config_bytes(23, action, &SAMPLE_V4_BYTES);
        assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
        // No address where one is required.
        for family in [2u16, 23] {
            let b = config_bytes(family, action, &[0; 32]);
            assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
        }
        // An address family the wire format does not know.
        let mut address = SAMPLE_V4_BYTES;
        set_u16(&mut address, 0, 10);
        let b = config_bytes(2, action, &address);
        assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
    }
}

#[test]
fn config_unknown_action() {
    for action in [0u32, 6, 7, 0x100, 0x0001_0005, u32::MAX] {
        for address in [SAMPLE_V4_BYTES, [0; 32]] {
            let b = config_bytes(2, action, &address);
            let err = ConfigAction::decode(&b).unwrap_err();
            assert_eq!(err, AbiError::UnknownAction, "action {action}");
            assert_eq!(err.ntstatus(), status::STATUS_INVALID_PARAMETER);
            assert_eq!(err.ntstatus(), nt(0xC000_000D));
        }
    }
}

#[test]
fn config_bad_address() {
    // Clear takes no address: every byte of the field must be zero, even a
    // well-formed address of the right family.
    for family in [2u16, 23] {
        for i in 0..32 {
            let mut address = [0u8; 32];
            address[i] = 0x80;
            let b = config_bytes(family, 4, &address);
            let err = ConfigAction::decode(&b).unwrap_err();
            assert_eq!(err, AbiError::BadAddress, "family {family} byte {i}");
            assert_eq!(err.ntstatus(), nt(0xC000_0207));
        }
    }
    let b = config_bytes(2, 4, &SAMPLE_V4_BYTES);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadAddress));
    // Bytes an IPv4 address does not use.
    for action in [1u32, 2, 3] {
        let mut address = SAMPLE_V4_BYTES;
        address[20] = 9; // fifth octet
        let b = config_bytes(2, action, &address);
        assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadAddress));
        let mut address = SAMPLE_V4_BYTES;
        set_u32(&mut address, 8, 1); // scope id
        let b = config_bytes(2, action, &address);
        assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadAddress));
    }
}

#[test]
fn config_port_zero() {
    // A fixed destination needs a port; a bind address may leave it to the stack.
    for (family, address) in [
        (2u16, v4(192, 0, 2, 1, 0)),
        (23, v6(Ipv6Addr::LOCALHOST, 0, 0, 0)),
    ] {
        for action in [2u32, 3] {
            let b = config_bytes(family, action, &encode_addr(Some(address)));
            let err = ConfigAction::decode(&b).unwrap_err();
            assert_eq!(err, AbiError::PortZero, "action {action}");
            assert_eq!(err.ntstatus(), nt(0xC000_0207));
        }
        assert_eq!(
            encode_config(ConfigAction::FixedRemote(address)),
            Err(AbiError::PortZero)
        );
        assert_eq!(
            encode_config(ConfigAction::FixedSendTo(address)),
            Err(AbiError::PortZero)
        );
        let bind = ConfigAction::Bind(address);
        let b = config_bytes(family, 1, &encode_addr(Some(address)));
        assert_eq!(encode_config(bind), Ok(b));
        assert_eq!(ConfigAction::decode(&b), Ok(bind));
    }
}

#[test]
fn config_encode_writes_every_byte() {
    // Stale buffer contents never reach the reserved field or the address.
    for action in [
        ConfigAction::ClearFixed(Family::V4),
        ConfigAction::Bind(sample_v4()),
    ] {
        let mut out = [0xFF; 48];
        action.encode(&mut out).unwrap();
        assert_eq!(out[40..48], [0; 8]);
        assert_eq!(ConfigAction::decode(&out), Ok(action));
    }
}

#[test]
fn config_checks_run_in_documented_order() {
    // Length, version, value field (socket actions), family, action, then the address.
    let mut b = [0xFFu8; 48];
    assert_eq!(ConfigAction::decode(&b[..47]), Err(AbiError::InputTooShort));
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::UnsupportedVersion));
    set_u16(&mut b, 0, 1);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::ReservedNotZero));
    b[40..48].fill(0);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
    set_u16(&mut b, 2, 2);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::UnknownAction));
    set_u32(&mut b, 4, 2);
    // Address family 0xFFFF.
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
    set_u16(&mut b, 8, 2);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::ReservedNotZero));
    set_u32(&mut b, 8 + 12, 0);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadAddress));
    set_u32(&mut b, 8 + 4, 0);
    set_u32(&mut b, 8 + 8, 0);
    b[8 + 20..40].fill(0);
    set_u16(&mut b, 8 + 2, 0);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::PortZero));
    set_u16(&mut b, 8 + 2, 7);
    assert_eq!(
        ConfigAction::decode(&b),
        Ok(ConfigAction::FixedRemote(v4(255, 255, 255, 255, 7)))
    );
    // The request family must match the address family.
    set_u16(&mut b, 2, 23);
    assert_eq!(ConfigAction::decode(&b), Err(AbiError::BadFamily));
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
    let mut out = [0xAA; 256];
    sample_stats().encode(&mut out);
    assert_eq!(out, sample_stats_bytes());
    assert_eq!(Stats::decode(&sample_stats_bytes()), Ok(sample_stats()));
}

#[test]
fn stats_round_trips() {
    let mut s = sample_stats();
    let mut out = [0; 256];
    let fixed_v4 = [
        None,
        Some(FixedDestination::Remote(sample_v4())),
        Some(FixedDestination::SendTo(v4(255, 255, 255, 255, 65535))),
    ];
    let fixed_v6 = [
        None,
        Some(FixedDestination::SendTo(sample_v6())),
        Some(FixedDestination::Remote(v6(Ipv6Addr::LOCALHOST, 1, 0, 0))),
    ];
    for (v4addr, v6addr) in [
        (None, None),
        (Some(v4(0, 0, 0, 0, 0)), None),
        (None, Some(v6(Ipv6Addr::UNSPECIFIED, 0, 0, 0))),
        (Some(sample_v4()), Some(sample_v6())),
    ] {
        for f4 in fixed_v4 {
            for f6 in fixed_v6 {
                s.local_v4 = v4addr;
                s.local_v6 = v6addr;
                s.fixed_v4 = f4;
                s.fixed_v6 = f6;
                s.encode(&mut out);
                assert_eq!(Stats::decode(&out), Ok(s));
            }
        }
    }
    s.batches = u64::MAX;
    s.encode(&mut out);
    assert_eq!(Stats::decode(&out), Ok(s));
    Stats::default().encode(&mut out);
    assert_eq!(out, stats_header());
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
            + 0x0E0E_0E0E_0E0E_0E0E
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
    assert_eq!(Stats::decode(&good[..255]), Err(AbiError::InputTooShort));
    // A reply in the old 160-byte layout.
    assert_eq!(Stats::decode(&good[..160]), Err(AbiError::InputTooShort));
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(Stats::decode(&long), Err(AbiError::LengthMismatch));

    let mut b = good;
    set_u16(&mut b, 0, 0);
    assert_eq!(Stats::decode(&b), Err(AbiError::UnsupportedVersion));
    for size in [128u32, 160, 255, 257, 0x0001_0100] {
        let mut b = good;
        set_u32(&mut b, 4, size);
        assert_eq!(Stats::decode(&b), Err(AbiError::BadHeaderSize), "{size}");
    }
    let mut b = good;
    set_u16(&mut b, 2, 1);
    assert_eq!(Stats::decode(&b), Err(AbiError::ReservedNotZero));
    let mut b = good;
    set_u32(&mut b, 92, 1);
    assert_eq!(Stats::decode(&b), Err(AbiError::ReservedNotZero));
    // The trailing reserved bytes, each on its own.
    for i in 248..256 {
        let mut b = good;
        b[i] = 0x40;
        let err = Stats::decode(&b).unwrap_err();
        assert_eq!(err, AbiError::ReservedNotZero, "byte {i}");
        assert_eq!(err.ntstatus(), nt(0xC000_000D));
    }

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
fn stats_fixed_destination_errors() {
    let good = sample_stats_bytes();
    // Each slot: (address offset, kind offset, its own address, the other family's).
    for (at, kind_at, own, other) in [
        (160, 224, OTHER_V4_BYTES, OTHER_V6_BYTES),
        (192, 228, OTHER_V6_BYTES, OTHER_V4_BYTES),
    ] {
        // The other family's address in this slot.
        let mut b = good;
        b[at..at + 32].copy_from_slice(&other);
        let err = Stats::decode(&b).unwrap_err();
        assert_eq!(err, AbiError::BadFamily, "slot {at}");
        assert_eq!(err.ntstatus(), nt(0xC000_0207));
        // An address family the wire format does not know.
        let mut b = good;
        set_u16(&mut b, at, 10);
        assert_eq!(Stats::decode(&b), Err(AbiError::BadFamily), "slot {at}");

        // Kind "none" with an address.
        let mut b = good;
        set_u32(&mut b, kind_at, 0);
        let err = Stats::decode(&b).unwrap_err();
        assert_eq!(err, AbiError::BadAddress, "slot {at}");
        assert_eq!(err.ntstatus(), nt(0xC000_0207));
        // Kind remote or send-to without an address.
        for kind in [1u32, 2] {
            let mut b = good;
            b[at..at + 32].fill(0);
            set_u32(&mut b, kind_at, kind);
            assert_eq!(
                Stats::decode(&b),
                Err(AbiError::BadAddress),
                "slot {at} kind {kind}"
            );
        }
        // Stray bytes in an absent address.
        let mut b = good;
        b[at..at + 32].fill(0);
        set_u32(&mut b, kind_at, 0);
        assert_eq!(Stats::decode(&b).map(|_| ()), Ok(()));
        b[at + 31] = 1;
        assert_eq!(Stats::decode(&b), Err(AbiError::BadAddress), "slot {at}");

        // Unknown kinds, with or without an address.
        for kind in [3u32, 4, 0x100, u32::MAX] {
            for address in [own, [0; 32]] {
                let mut b = good;
                b[at..at + 32].copy_from_slice(&address);
                set_u32(&mut b, kind_at, kind);
                let err = Stats::decode(&b).unwrap_err();
                assert_eq!(err, AbiError::UnknownAction, "slot {at} kind {kind}");
                assert_eq!(err.ntstatus(), status::STATUS_INVALID_PARAMETER);
            }
        }

        // A fixed destination is a destination: port 0 is refused (the
        // configure request refuses it too).
        let mut b = good;
        set_u16(&mut b, at + 2, 0);
        assert_eq!(Stats::decode(&b), Err(AbiError::PortZero), "slot {at}");
        // The address's reserved field.
        let mut b = good;
        b[at + 12] = 1;
        assert_eq!(
            Stats::decode(&b),
            Err(AbiError::ReservedNotZero),
            "slot {at}"
        );
    }
}

#[test]
fn stats_counter_offsets() {
    // Each counter set alone lands at its documented offset.
    type Setter = fn(&mut Stats);
    let fields: [(usize, Setter); 14] = [
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
        (232, |s| s.batches = 0xA1),
        (240, |s| s.failed_busy = 0xA1),
    ];
    for (at, set) in fields {
        let mut s = Stats::default();
        set(&mut s);
        let mut out = [0; 256];
        s.encode(&mut out);
        let mut expected = stats_header();
        expected[at] = 0xA1;
        assert_eq!(out, expected, "offset {at}");
        assert_eq!(Stats::decode(&expected), Ok(s));
    }
    // All eight bytes of the batch counter, little-endian.
    let s = Stats {
        batches: 0x1122_3344_5566_7788,
        ..Stats::default()
    };
    let mut out = [0; 256];
    s.encode(&mut out);
    assert_eq!(
        out[232..240],
        [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]
    );
}

#[test]
fn stats_fixed_destination_offsets() {
    // Each fixed destination set alone: address at 160 or 192, kind at 224 or 228.
    type Setter = fn(&mut Stats);
    let fields: [(usize, [u8; 32], usize, u8, Setter); 4] = [
        (160, OTHER_V4_BYTES, 224, 1, |s| {
            s.fixed_v4 = Some(FixedDestination::Remote(other_v4()));
        }),
        (160, OTHER_V4_BYTES, 224, 2, |s| {
            s.fixed_v4 = Some(FixedDestination::SendTo(other_v4()));
        }),
        (192, OTHER_V6_BYTES, 228, 1, |s| {
            s.fixed_v6 = Some(FixedDestination::Remote(other_v6()));
        }),
        (192, OTHER_V6_BYTES, 228, 2, |s| {
            s.fixed_v6 = Some(FixedDestination::SendTo(other_v6()));
        }),
    ];
    for (at, address, kind_at, kind, set) in fields {
        let mut s = Stats::default();
        set(&mut s);
        let mut out = [0; 256];
        s.encode(&mut out);
        let mut expected = stats_header();
        expected[at..at + 32].copy_from_slice(&address);
        expected[kind_at] = kind;
        assert_eq!(out, expected, "offset {at} kind {kind}");
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

fn arb_family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::V4), Just(Family::V6)]
}

fn arb_destination(min_port: u16) -> impl Strategy<Value = Destination> {
    prop_oneof![
        arb_addr(min_port).prop_map(Destination::Address),
        arb_family().prop_map(Destination::Fixed),
    ]
}

/// Configure actions; `min_port` applies to the fixed destinations only,
/// since a bind address may always have port 0.
fn arb_config(min_port: u16) -> impl Strategy<Value = ConfigAction> {
    prop_oneof![
        arb_addr(0).prop_map(ConfigAction::Bind),
        arb_addr(min_port).prop_map(ConfigAction::FixedRemote),
        arb_addr(min_port).prop_map(ConfigAction::FixedSendTo),
        arb_family().prop_map(ConfigAction::ClearFixed),
        (MIN_POOL_SLOTS..=MAX_POOL_SLOTS).prop_map(ConfigAction::PoolSlots),
    ]
}

/// Every configure action, including the ones the encoder refuses.
fn arb_any_config() -> impl Strategy<Value = ConfigAction> {
    prop_oneof![
        arb_config(0),
        any::<u32>().prop_map(ConfigAction::PoolSlots)
    ]
}

/// A fixed destination for one slot (ports from 1: the stats carry only
/// what a configure request can set).
fn arb_fixed(
    address: impl Strategy<Value = Option<SocketAddr>>,
) -> impl Strategy<Value = Option<FixedDestination>> {
    (address, any::<bool>()).prop_map(|(address, remote)| {
        address.map(|a| {
            if remote {
                FixedDestination::Remote(a)
            } else {
                FixedDestination::SendTo(a)
            }
        })
    })
}

fn arb_stats() -> impl Strategy<Value = Stats> {
    (
        any::<[u64; 11]>(),
        any::<[u32; 3]>(),
        arb_v4(0),
        arb_v6(0),
        arb_fixed(arb_v4(1)),
        arb_fixed(arb_v6(1)),
    )
        .prop_map(|(c, p, local_v4, local_v6, fixed_v4, fixed_v6)| Stats {
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
            fixed_v4,
            fixed_v6,
            batches: c[9],
            failed_busy: c[10],
        })
}

/// Wire values that hit every branch of a family or kind field often.
fn arb_wire_family() -> impl Strategy<Value = u16> {
    prop_oneof![Just(0u16), Just(2), Just(23), any::<u16>()]
}

fn arb_kind() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..=3, any::<u32>()]
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
        // Bias toward the fixed-size structures (the whole stats reply, the
        // send header), where the interesting fields are.
        let limit = bytes.len().min(256);
        bytes[i % limit] ^= m;
    }
}

/// The errors `Stats::decode` may report for one fixed-destination slot
/// holding `address` with `kind`; empty means the slot is valid.
fn fixed_slot_errors(kind: u32, address: Option<SocketAddr>, family: Family) -> Vec<AbiError> {
    let mut errors = Vec::new();
    if let Some(a) = address {
        if a.port() == 0 {
            errors.push(AbiError::PortZero);
        }
        if Family::of(&a) != family {
            errors.push(AbiError::BadFamily);
        }
    }
    match (kind, address) {
        (0, None) | (1 | 2, Some(_)) => {}
        (0..=2, _) => errors.push(AbiError::BadAddress),
        _ => errors.push(AbiError::UnknownAction),
    }
    errors
}

fn fixed_slot_value(kind: u32, address: Option<SocketAddr>) -> Option<FixedDestination> {
    match kind {
        1 => address.map(FixedDestination::Remote),
        2 => address.map(FixedDestination::SendTo),
        _ => None,
    }
}

/// The errors `ConfigAction::decode` may report for a request with a valid
/// version and the given value field; `Ok` holds the action it must return.
fn config_expectation(
    family: u16,
    action: u32,
    address: Option<SocketAddr>,
    value: u64,
) -> Result<ConfigAction, Vec<AbiError>> {
    if action == 5 {
        // Driver-wide: no family, no address, the slot count in the value.
        if family != 0 || address.is_some() {
            return Err(vec![AbiError::BadAddress]);
        }
        return match u32::try_from(value) {
            Ok(n) if (1..=256).contains(&n) => Ok(ConfigAction::PoolSlots(n)),
            _ => Err(vec![AbiError::BadCount]),
        };
    }
    if value != 0 {
        return Err(vec![AbiError::ReservedNotZero]);
    }
    let Some(family) = Family::from_wire(family) else {
        return Err(vec![AbiError::BadFamily]);
    };
    let mut errors = Vec::new();
    let value = match (action, address) {
        (1..=3, None) => {
            errors.push(AbiError::BadFamily);
            None
        }
        (1..=3, Some(a)) => {
            if Family::of(&a) != family {
                errors.push(AbiError::BadFamily);
            }
            if action != 1 && a.port() == 0 {
                errors.push(AbiError::PortZero);
            }
            Some(match action {
                1 => ConfigAction::Bind(a),
                2 => ConfigAction::FixedRemote(a),
                _ => ConfigAction::FixedSendTo(a),
            })
        }
        (4, None) => Some(ConfigAction::ClearFixed(family)),
        (4, Some(_)) => {
            errors.push(AbiError::BadAddress);
            None
        }
        _ => {
            errors.push(AbiError::UnknownAction);
            None
        }
    };
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(errors),
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
        dest in arb_destination(1),
        payload in proptest::collection::vec(any::<u8>(), 1..2048),
    ) {
        let bytes = request_to(dest, &payload);
        let decoded = decode_send_request(&bytes).unwrap();
        prop_assert_eq!(decoded.destination, dest);
        prop_assert_eq!(decoded.payload, &payload[..]);
        // The fixed-destination flag is set exactly for a fixed destination.
        let fixed = matches!(dest, Destination::Fixed(_));
        prop_assert_eq!(bytes[2..4] == [1, 0], fixed);
        prop_assert!(bytes[2..4] == [0, 0] || fixed);
    }

    #[test]
    fn prop_send_request_decode_is_canonical(
        dest in arb_destination(1),
        payload in proptest::collection::vec(any::<u8>(), 1..64),
        mutations in arb_mutations(),
    ) {
        let mut bytes = request_to(dest, &payload);
        mutate(&mut bytes, &mutations);
        if let Ok(decoded) = decode_send_request(&bytes) {
            prop_assert_eq!(request_to(decoded.destination, decoded.payload), bytes);
        }
    }

    #[test]
    fn prop_send_request_decode_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = decode_send_request(&bytes);
    }

    #[test]
    fn prop_send_fixed_field_decode(
        flags in prop_oneof![Just(0u16), Just(1), any::<u16>()],
        family in arb_wire_family(),
        rest in prop_oneof![Just([0u8; 30]), any::<[u8; 30]>()],
        payload in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        // Near-valid headers around the flag and the destination family.
        let mut field = [0u8; 32];
        set_u16(&mut field, 0, family);
        field[2..].copy_from_slice(&rest);
        let bytes = raw_request(flags, &field, &payload);
        if let Ok(decoded) = decode_send_request(&bytes) {
            prop_assert_eq!(&request_to(decoded.destination, decoded.payload), &bytes);
        }
        if flags == 1 {
            let expected = match Family::from_wire(family) {
                None => Err(AbiError::BadFamily),
                Some(_) if rest != [0; 30] => Err(AbiError::BadAddress),
                Some(f) => Ok(Destination::Fixed(f)),
            };
            prop_assert_eq!(decode_send_request(&bytes).map(|r| r.destination), expected);
        }
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
        if dest.is_none() {
            prop_assert_eq!(
                encode_send_request(dest, &payload, &mut out),
                Err(AbiError::BadFamily)
            );
        }
    }

    #[test]
    fn prop_encode_send_never_panics(
        dest in arb_destination(0),
        payload in proptest::collection::vec(any::<u8>(), 0..128),
        out_len in 0usize..200,
    ) {
        let mut out = vec![0u8; out_len];
        if let Ok(n) = encode_send(dest, &payload, &mut out) {
            prop_assert_eq!(n, 48 + payload.len());
            prop_assert_eq!(decode_send_request(&out[..n]).map(|r| r.destination), Ok(dest));
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
    fn prop_config_round_trip(action in arb_config(1)) {
        let bytes = encode_config(action).unwrap();
        prop_assert_eq!(ConfigAction::decode(&bytes), Ok(action));
        prop_assert_eq!(
            u16::from_le_bytes([bytes[2], bytes[3]]),
            action.family().map_or(0, Family::wire)
        );
    }

    #[test]
    fn prop_config_encode_never_panics(action in arb_any_config()) {
        let mut out = [0u8; 48];
        match action.encode(&mut out) {
            Ok(()) => prop_assert_eq!(ConfigAction::decode(&out), Ok(action)),
            // Only a fixed destination with port 0 and an out-of-range pool
            // size are refused.
            Err(AbiError::PortZero) => {
                let refused = matches!(
                    action,
                    ConfigAction::FixedRemote(a) | ConfigAction::FixedSendTo(a) if a.port() == 0
                );
                prop_assert!(refused);
            }
            Err(AbiError::BadCount) => {
                let refused =
                    matches!(action, ConfigAction::PoolSlots(n) if !(1..=256).contains(&n));
                prop_assert!(refused);
            }
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
    }

    #[test]
    fn prop_config_decode_is_canonical(action in arb_config(1), mutations in arb_mutations()) {
        let mut bytes = encode_config(action).unwrap();
        mutate(&mut bytes, &mutations);
        if let Ok(decoded) = ConfigAction::decode(&bytes) {
            prop_assert_eq!(encode_config(decoded), Ok(bytes));
        }
    }

    #[test]
    fn prop_config_decode_matches_model(
        family in arb_wire_family(),
        action in prop_oneof![0u32..=6, any::<u32>()],
        address in proptest::option::of(arb_addr(0)),
        value in prop_oneof![Just(0u64), 0u64..=300, any::<u64>()],
    ) {
        let mut bytes = config_bytes(family, action, &encode_addr(address));
        bytes[40..48].copy_from_slice(&value.to_le_bytes());
        let decoded = ConfigAction::decode(&bytes);
        match config_expectation(family, action, address, value) {
            Ok(expected) => prop_assert_eq!(decoded, Ok(expected)),
            Err(allowed) => {
                let err = decoded.unwrap_err();
                prop_assert!(allowed.contains(&err), "{:?} not in {:?}", err, allowed);
            }
        }
    }

    #[test]
    fn prop_config_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = ConfigAction::decode(&bytes);
    }

    #[test]
    fn prop_config_decode_near_valid(
        family in arb_wire_family(),
        action in prop_oneof![0u32..=6, any::<u32>()],
        address in any::<[u8; 32]>(),
        address_family in arb_wire_family(),
        value in prop_oneof![Just(0u64), 0u64..=300],
    ) {
        // Version 1 and a plausible value, so decoding reaches an arbitrary address field.
        let mut address = address;
        set_u16(&mut address, 0, address_family);
        let mut bytes = config_bytes(family, action, &address);
        bytes[40..48].copy_from_slice(&value.to_le_bytes());
        if let Ok(decoded) = ConfigAction::decode(&bytes) {
            prop_assert_eq!(encode_config(decoded), Ok(bytes));
        }
    }

    #[test]
    fn prop_stats_round_trip(stats in arb_stats()) {
        let mut out = [0; 256];
        stats.encode(&mut out);
        prop_assert_eq!(Stats::decode(&out), Ok(stats));
    }

    #[test]
    fn prop_stats_decode_is_canonical(stats in arb_stats(), mutations in arb_mutations()) {
        let mut bytes = [0; 256];
        stats.encode(&mut bytes);
        mutate(&mut bytes, &mutations);
        if let Ok(decoded) = Stats::decode(&bytes) {
            let mut out = [0; 256];
            decoded.encode(&mut out);
            prop_assert_eq!(out, bytes);
        }
    }

    #[test]
    fn prop_stats_fixed_fields_match_model(
        stats in arb_stats(),
        kind_v4 in arb_kind(),
        kind_v6 in arb_kind(),
        address_v4 in proptest::option::of(arb_addr(0)),
        address_v6 in proptest::option::of(arb_addr(0)),
    ) {
        // Any address (either family, port 0) with any kind, in both slots.
        let mut bytes = [0; 256];
        stats.encode(&mut bytes);
        bytes[160..192].copy_from_slice(&encode_addr(address_v4));
        bytes[192..224].copy_from_slice(&encode_addr(address_v6));
        set_u32(&mut bytes, 224, kind_v4);
        set_u32(&mut bytes, 228, kind_v6);
        let mut allowed = fixed_slot_errors(kind_v4, address_v4, Family::V4);
        allowed.extend(fixed_slot_errors(kind_v6, address_v6, Family::V6));
        let decoded = Stats::decode(&bytes);
        if allowed.is_empty() {
            let expected = Stats {
                fixed_v4: fixed_slot_value(kind_v4, address_v4),
                fixed_v6: fixed_slot_value(kind_v6, address_v6),
                ..stats
            };
            prop_assert_eq!(decoded, Ok(expected));
            let mut out = [0; 256];
            expected.encode(&mut out);
            prop_assert_eq!(out, bytes);
        } else {
            let err = decoded.unwrap_err();
            prop_assert!(allowed.contains(&err), "{:?} not in {:?}", err, allowed);
        }
    }

    #[test]
    fn prop_stats_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Stats::decode(&bytes);
    }

    #[test]
    fn prop_stats_tail_decode_never_panics(
        stats in arb_stats(),
        tail in proptest::collection::vec(any::<u8>(), 96),
    ) {
        // A valid header with arbitrary fixed destinations, kinds, batches and reserved bytes.
        let mut bytes = [0; 256];
        stats.encode(&mut bytes);
        bytes[160..256].copy_from_slice(&tail);
        if let Ok(decoded) = Stats::decode(&bytes) {
            let mut out = [0; 256];
            decoded.encode(&mut out);
            prop_assert_eq!(out, bytes);
        }
    }

    #[test]
    fn prop_status_lookups_never_panic(value in any::<i32>()) {
        let _ = status::name(value);
        prop_assert!(!status::describe(value).is_empty());
        let _ = format!("{}", Guid { data1: value as u32, data2: 0, data3: 0, data4: [0; 8] });
    }
}
