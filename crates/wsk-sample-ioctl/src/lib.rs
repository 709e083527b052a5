//! IOCTL ABI shared by the `wsk-sample` driver and the `wskctl` tool.
//!
//! Both sides link this crate so the control codes, names and byte layouts
//! cannot drift apart. Everything is encoded explicitly as little-endian with
//! `to_le_bytes`/`from_le_bytes`; no `#[repr(C)]` structure is ever reinterpreted,
//! so padding, alignment and endianness never leak into the ABI. Decoders accept
//! only the single canonical encoding of each value (reserved fields zero, unused
//! address octets zero), so `encode(decode(bytes)) == bytes` whenever decoding
//! succeeds, and never panic on any input.
//!
//! # Control codes
//!
//! | Code | Function | Method | Access | Input | Output |
//! |------|----------|--------|--------|-------|--------|
//! | [`IOCTL_WSK_SAMPLE_SEND`] = `0x8057_A000` | `0x800` | buffered | write | send request | [`SendReply`] (16 bytes) |
//! | [`IOCTL_WSK_SAMPLE_QUERY_STATS`] = `0x8057_6004` | `0x801` | buffered | read | none | [`Stats`] (160 bytes) |
//!
//! # Wire address (32 bytes)
//!
//! | Offset | Size | Field | Notes |
//! |-------:|-----:|-------|-------|
//! | 0 | 2 | family | [`WIRE_AF_UNSPEC`] (0), [`WIRE_AF_INET`] (2) or [`WIRE_AF_INET6`] (23) |
//! | 2 | 2 | port | host-order value stored little-endian (not network order) |
//! | 4 | 4 | flow_info | IPv6 only; 0 for IPv4 |
//! | 8 | 4 | scope_id | IPv6 only; 0 for IPv4 |
//! | 12 | 4 | reserved | must be 0 |
//! | 16 | 16 | address | octets in network order; IPv4 uses 16..20, the rest must be 0 |
//!
//! Family 0 means "no address": every other byte must then be 0.
//!
//! # Send request (input of `IOCTL_WSK_SAMPLE_SEND`): 48-byte header + payload
//!
//! | Offset | Size | Field | Notes |
//! |-------:|-----:|-------|-------|
//! | 0 | 2 | version | [`ABI_VERSION`] (1) |
//! | 2 | 2 | flags | no flags are defined; see [`SEND_FLAGS_KNOWN`] |
//! | 4 | 4 | header_size | [`SEND_HEADER_SIZE`] (48) |
//! | 8 | 32 | destination | wire address; family 0 = the socket's fixed destination |
//! | 40 | 4 | payload_length | 1 ..= family maximum |
//! | 44 | 4 | reserved | must be 0 |
//! | 48 | payload_length | payload | the datagram |
//!
//! # Send reply (output of `IOCTL_WSK_SAMPLE_SEND`, 16 bytes)
//!
//! | Offset | Size | Field |
//! |-------:|-----:|-------|
//! | 0 | 2 | version (1) |
//! | 2 | 2 | reserved (0) |
//! | 4 | 4 | bytes_sent |
//! | 8 | 8 | sequence |
//!
//! # Stats reply (output of `IOCTL_WSK_SAMPLE_QUERY_STATS`, 160 bytes)
//!
//! | Offset | Size | Field |
//! |-------:|-----:|-------|
//! | 0 | 2 | version (1) |
//! | 2 | 2 | reserved (0) |
//! | 4 | 4 | size (160) |
//! | 8 | 8 | requests |
//! | 16 | 8 | datagrams_sent |
//! | 24 | 8 | bytes_sent |
//! | 32 | 8 | in_flight |
//! | 40 | 8 | failed_validation |
//! | 48 | 8 | failed_no_resources |
//! | 56 | 8 | failed_not_ready |
//! | 64 | 8 | failed_transport |
//! | 72 | 8 | failed_cancelled |
//! | 80 | 4 | pool_slots |
//! | 84 | 4 | pool_free |
//! | 88 | 4 | slot_size |
//! | 92 | 4 | reserved (0) |
//! | 96 | 32 | local_v4 (wire address, family 0 if no IPv4 socket) |
//! | 128 | 32 | local_v6 (wire address, family 0 if no IPv6 socket) |

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

// Tests run on the host and use std (vec!, format!, proptest); the library does not.
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------
// Control codes
// ---------------------------------------------------------------------------

/// Device type of the sample's control device; values from 0x8000 up are
/// reserved for vendors, so this cannot collide with a Microsoft device type.
pub const FILE_DEVICE_WSK_SAMPLE: u32 = 0x8057;
/// Transfer method: the I/O manager copies input and output through a system
/// buffer, so the driver never touches user addresses.
pub const METHOD_BUFFERED: u32 = 0;
/// Access bits: any handle may issue the request.
pub const FILE_ANY_ACCESS: u32 = 0;
/// Access bits: the handle must have been opened with read access.
pub const FILE_READ_DATA: u32 = 1;
/// Access bits: the handle must have been opened with write access.
pub const FILE_WRITE_DATA: u32 = 2;

/// Builds a control code exactly like the `CTL_CODE` macro of the Windows headers.
pub const fn ctl_code(device_type: u32, function: u32, method: u32, access: u32) -> u32 {
    (device_type << 16) | (access << 14) | (function << 2) | method
}

/// Sends one UDP datagram. Requires write access because it causes network traffic.
pub const IOCTL_WSK_SAMPLE_SEND: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x800,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);
/// Returns the driver's counters. Read access suffices: it changes nothing.
pub const IOCTL_WSK_SAMPLE_QUERY_STATS: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x801,
    METHOD_BUFFERED,
    FILE_READ_DATA,
);

/// The access bits encoded in a control code (what the I/O manager checks
/// against the handle's granted access before the driver sees the request).
pub const fn required_access(code: u32) -> u32 {
    (code >> 14) & 3
}

/// The function number encoded in a control code.
pub const fn function_code(code: u32) -> u32 {
    (code >> 2) & 0xFFF
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// NT name of the control device the driver creates.
pub const DEVICE_NAME: &str = r"\Device\WskSample";
/// Symbolic link that makes the device reachable from Win32 as `\\.\WskSample`.
pub const SYMBOLIC_LINK_NAME: &str = r"\DosDevices\WskSample";
/// Path the tool passes to `CreateFileW`.
pub const USER_DEVICE_PATH: &str = r"\\.\WskSample";
/// Hardware id of the root-enumerated device node (must match the INX).
pub const HARDWARE_ID: &str = r"Root\WskSample";
/// Device security: only SYSTEM and Administrators may open the device, since
/// it lets the caller send arbitrary datagrams from kernel mode.
pub const DEVICE_SDDL: &str = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";
/// Pool tag for the driver's allocations; little-endian so pool tools show `WskS`.
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"WskS");

/// A GUID with the field split of the Windows `GUID` structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guid {
    /// First 8 hex digits.
    pub data1: u32,
    /// Next 4 hex digits.
    pub data2: u16,
    /// Next 4 hex digits.
    pub data3: u16,
    /// Last 16 hex digits, in display order.
    pub data4: [u8; 8],
}

/// Device interface class the driver registers, so tools can find the device
/// without relying on the symbolic link name.
/// `{FE07D4E4-E55E-4002-9855-94FDE0BB7C6D}`
pub const DEVICE_INTERFACE_GUID: Guid = Guid {
    data1: 0xFE07_D4E4,
    data2: 0xE55E,
    data3: 0x4002,
    data4: [0x98, 0x55, 0x94, 0xFD, 0xE0, 0xBB, 0x7C, 0x6D],
};

impl fmt::Display for Guid {
    /// Registry form: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, uppercase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g, h, i] = self.data4;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{a:02X}{b:02X}-{c:02X}{d:02X}{e:02X}{g:02X}{h:02X}{i:02X}}}",
            self.data1, self.data2, self.data3
        )
    }
}

// ---------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------

/// Version of every structure in this crate; bumped on any layout change.
pub const ABI_VERSION: u16 = 1;
/// Largest UDP payload over IPv4: 65,535 minus 20 (IP header) minus 8 (UDP header).
pub const MAX_UDP_PAYLOAD_V4: usize = 65_507;
/// Largest UDP payload over IPv6 without jumbograms: 65,535 minus 8 (UDP header).
pub const MAX_UDP_PAYLOAD_V6: usize = 65_527;
/// Wire family "no address" (Windows `AF_UNSPEC`).
pub const WIRE_AF_UNSPEC: u16 = 0;
/// Wire family IPv4 (Windows `AF_INET`).
pub const WIRE_AF_INET: u16 = 2;
/// Wire family IPv6 (Windows `AF_INET6`; 23, unlike Linux's 10).
pub const WIRE_AF_INET6: u16 = 23;

/// Size of an encoded wire address.
pub const WIRE_ADDRESS_SIZE: usize = 32;
/// Size of the send request header that precedes the payload.
pub const SEND_HEADER_SIZE: usize = 48;
/// Send flags this version understands; a request with any other bit is refused
/// so a future flag is never silently ignored by an older driver.
pub const SEND_FLAGS_KNOWN: u16 = 0;
/// Size of the send reply.
pub const SEND_REPLY_SIZE: usize = 16;
/// Size of the stats reply.
pub const STATS_REPLY_SIZE: usize = 160;

// Field offsets. Each layout is asserted below to be contiguous and to end at
// its structure's size, so a field cannot overlap another or fall off the end.
const A_FAMILY: usize = 0;
const A_PORT: usize = 2;
const A_FLOW_INFO: usize = 4;
const A_SCOPE_ID: usize = 8;
const A_RESERVED: usize = 12;
const A_ADDRESS: usize = 16;

const S_VERSION: usize = 0;
const S_FLAGS: usize = 2;
const S_HEADER_SIZE: usize = 4;
const S_DESTINATION: usize = 8;
const S_PAYLOAD_LENGTH: usize = 40;
const S_RESERVED: usize = 44;

const R_VERSION: usize = 0;
const R_RESERVED: usize = 2;
const R_BYTES_SENT: usize = 4;
const R_SEQUENCE: usize = 8;

const T_VERSION: usize = 0;
const T_RESERVED: usize = 2;
const T_SIZE: usize = 4;
const T_REQUESTS: usize = 8;
const T_DATAGRAMS_SENT: usize = 16;
const T_BYTES_SENT: usize = 24;
const T_IN_FLIGHT: usize = 32;
const T_FAILED_VALIDATION: usize = 40;
const T_FAILED_NO_RESOURCES: usize = 48;
const T_FAILED_NOT_READY: usize = 56;
const T_FAILED_TRANSPORT: usize = 64;
const T_FAILED_CANCELLED: usize = 72;
const T_POOL_SLOTS: usize = 80;
const T_POOL_FREE: usize = 84;
const T_SLOT_SIZE: usize = 88;
const T_RESERVED2: usize = 92;
const T_LOCAL_V4: usize = 96;
const T_LOCAL_V6: usize = 128;

// The size fields as they travel; compared as u32 so a large wire value can
// never truncate into a match.
const SEND_HEADER_SIZE_WIRE: u32 = SEND_HEADER_SIZE as u32;
const STATS_REPLY_SIZE_WIRE: u32 = STATS_REPLY_SIZE as u32;

const _: () = {
    assert!(A_FAMILY == 0 && A_PORT == A_FAMILY + 2 && A_FLOW_INFO == A_PORT + 2);
    assert!(A_SCOPE_ID == A_FLOW_INFO + 4 && A_RESERVED == A_SCOPE_ID + 4);
    assert!(A_ADDRESS == A_RESERVED + 4 && A_ADDRESS + 16 == WIRE_ADDRESS_SIZE);

    assert!(S_VERSION == 0 && S_FLAGS == S_VERSION + 2 && S_HEADER_SIZE == S_FLAGS + 2);
    assert!(S_DESTINATION == S_HEADER_SIZE + 4);
    assert!(S_PAYLOAD_LENGTH == S_DESTINATION + WIRE_ADDRESS_SIZE);
    assert!(S_RESERVED == S_PAYLOAD_LENGTH + 4 && S_RESERVED + 4 == SEND_HEADER_SIZE);
    assert!(SEND_HEADER_SIZE == 48);

    assert!(R_VERSION == 0 && R_RESERVED == R_VERSION + 2 && R_BYTES_SENT == R_RESERVED + 2);
    assert!(R_SEQUENCE == R_BYTES_SENT + 4 && R_SEQUENCE + 8 == SEND_REPLY_SIZE);
    assert!(SEND_REPLY_SIZE == 16);

    assert!(T_VERSION == 0 && T_RESERVED == T_VERSION + 2 && T_SIZE == T_RESERVED + 2);
    assert!(T_REQUESTS == T_SIZE + 4 && T_DATAGRAMS_SENT == T_REQUESTS + 8);
    assert!(T_BYTES_SENT == T_DATAGRAMS_SENT + 8 && T_IN_FLIGHT == T_BYTES_SENT + 8);
    assert!(T_FAILED_VALIDATION == T_IN_FLIGHT + 8);
    assert!(T_FAILED_NO_RESOURCES == T_FAILED_VALIDATION + 8);
    assert!(T_FAILED_NOT_READY == T_FAILED_NO_RESOURCES + 8);
    assert!(T_FAILED_TRANSPORT == T_FAILED_NOT_READY + 8);
    assert!(T_FAILED_CANCELLED == T_FAILED_TRANSPORT + 8);
    assert!(T_POOL_SLOTS == T_FAILED_CANCELLED + 8 && T_POOL_FREE == T_POOL_SLOTS + 4);
    assert!(T_SLOT_SIZE == T_POOL_FREE + 4 && T_RESERVED2 == T_SLOT_SIZE + 4);
    assert!(T_LOCAL_V4 == T_RESERVED2 + 4 && T_LOCAL_V6 == T_LOCAL_V4 + WIRE_ADDRESS_SIZE);
    assert!(T_LOCAL_V6 + WIRE_ADDRESS_SIZE == STATS_REPLY_SIZE);
    assert!(STATS_REPLY_SIZE == 160);

    // Sizes travel in u32 fields.
    assert!(MAX_UDP_PAYLOAD_V4 < MAX_UDP_PAYLOAD_V6 && MAX_UDP_PAYLOAD_V6 <= u32::MAX as usize);
    assert!(SEND_HEADER_SIZE_WIRE as usize == SEND_HEADER_SIZE);
    assert!(STATS_REPLY_SIZE_WIRE as usize == STATS_REPLY_SIZE);

    // Vendor device type and function ranges, and the codes as documented.
    assert!(FILE_DEVICE_WSK_SAMPLE >= 0x8000 && FILE_DEVICE_WSK_SAMPLE <= 0xFFFF);
    assert!(function_code(IOCTL_WSK_SAMPLE_SEND) >= 0x800);
    assert!(IOCTL_WSK_SAMPLE_SEND == 0x8057_A000);
    assert!(IOCTL_WSK_SAMPLE_QUERY_STATS == 0x8057_6004);
};

// ---------------------------------------------------------------------------
// Field access. Offsets are const generics and checked at compile time, and
// every access goes through `get`, so no code path here can panic.
// ---------------------------------------------------------------------------

fn take<const AT: usize, const N: usize, const LEN: usize>(bytes: &[u8; LEN]) -> [u8; N] {
    const { assert!(AT + N <= LEN, "field lies outside its structure") };
    bytes
        .get(AT..AT + N)
        .and_then(|field| field.try_into().ok())
        .unwrap_or([0; N])
}

fn put<const AT: usize, const N: usize, const LEN: usize>(out: &mut [u8; LEN], value: [u8; N]) {
    const { assert!(AT + N <= LEN, "field lies outside its structure") };
    if let Some(field) = out
        .get_mut(AT..AT + N)
        .and_then(|field| <&mut [u8; N]>::try_from(field).ok())
    {
        *field = value;
    }
}

fn get_u16<const AT: usize, const LEN: usize>(bytes: &[u8; LEN]) -> u16 {
    u16::from_le_bytes(take::<AT, 2, LEN>(bytes))
}

fn get_u32<const AT: usize, const LEN: usize>(bytes: &[u8; LEN]) -> u32 {
    u32::from_le_bytes(take::<AT, 4, LEN>(bytes))
}

fn get_u64<const AT: usize, const LEN: usize>(bytes: &[u8; LEN]) -> u64 {
    u64::from_le_bytes(take::<AT, 8, LEN>(bytes))
}

fn put_u16<const AT: usize, const LEN: usize>(out: &mut [u8; LEN], value: u16) {
    put::<AT, 2, LEN>(out, value.to_le_bytes());
}

fn put_u32<const AT: usize, const LEN: usize>(out: &mut [u8; LEN], value: u32) {
    put::<AT, 4, LEN>(out, value.to_le_bytes());
}

fn put_u64<const AT: usize, const LEN: usize>(out: &mut [u8; LEN], value: u64) {
    put::<AT, 8, LEN>(out, value.to_le_bytes());
}

/// The fixed-size prefix of `bytes`, or `InputTooShort`.
fn prefix<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], AbiError> {
    bytes
        .get(..N)
        .and_then(|head| head.try_into().ok())
        .ok_or(AbiError::InputTooShort)
}

/// A reply buffer must be exactly its size: shorter is truncated, longer means
/// the two sides disagree about the layout.
fn exact<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], AbiError> {
    let fixed = prefix::<N>(bytes)?;
    if bytes.len() == N {
        Ok(fixed)
    } else {
        Err(AbiError::LengthMismatch)
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a buffer could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiError {
    /// The input is shorter than the fixed part of the structure.
    InputTooShort,
    /// The input length disagrees with the length the structure declares.
    LengthMismatch,
    /// The output buffer cannot hold the encoded structure.
    OutputTooSmall,
    /// The version field is not [`ABI_VERSION`].
    UnsupportedVersion,
    /// The declared header or structure size is not the one this version uses.
    BadHeaderSize,
    /// A flag bit outside [`SEND_FLAGS_KNOWN`] is set.
    UnknownFlags,
    /// A reserved field is not zero.
    ReservedNotZero,
    /// The address family is not 0, 2 or 23, or not the one the field requires.
    BadFamily,
    /// A destination address has port 0, which cannot be sent to.
    PortZero,
    /// An address has non-zero bytes where its family allows none.
    BadAddress,
    /// The payload is empty.
    EmptyPayload,
    /// The payload exceeds the largest UDP datagram for the address family.
    PayloadTooLarge,
}

impl AbiError {
    /// The NTSTATUS the driver completes a refused request with.
    pub const fn ntstatus(self) -> i32 {
        use status::*;
        match self {
            Self::InputTooShort | Self::LengthMismatch => STATUS_INFO_LENGTH_MISMATCH,
            Self::OutputTooSmall => STATUS_BUFFER_TOO_SMALL,
            Self::UnsupportedVersion | Self::BadHeaderSize => STATUS_REVISION_MISMATCH,
            Self::UnknownFlags | Self::ReservedNotZero => STATUS_INVALID_PARAMETER,
            Self::BadFamily | Self::PortZero | Self::BadAddress => STATUS_INVALID_ADDRESS_COMPONENT,
            Self::EmptyPayload | Self::PayloadTooLarge => STATUS_INVALID_BUFFER_SIZE,
        }
    }
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InputTooShort => "input buffer is shorter than the fixed part of the structure",
            Self::LengthMismatch => {
                "buffer length does not match the length the structure declares"
            }
            Self::OutputTooSmall => "output buffer is too small for the encoded structure",
            Self::UnsupportedVersion => "structure version is not supported (expected version 1)",
            Self::BadHeaderSize => "declared header size does not match this ABI version",
            Self::UnknownFlags => "request sets flags this driver does not know",
            Self::ReservedNotZero => "a reserved field is not zero",
            Self::BadFamily => {
                "address family is not valid here (expected none, IPv4 (2) or IPv6 (23))"
            }
            Self::PortZero => "destination port is 0",
            Self::BadAddress => "address has non-zero bytes in fields its family does not use",
            Self::EmptyPayload => "payload is empty (the driver does not send empty datagrams)",
            Self::PayloadTooLarge => {
                "payload is larger than the largest UDP datagram for the address family \
                 (65,507 bytes for IPv4, 65,527 for IPv6)"
            }
        })
    }
}

impl core::error::Error for AbiError {}

// ---------------------------------------------------------------------------
// Wire address
// ---------------------------------------------------------------------------

/// Encodes `addr` (or "no address" for `None`) into its 32-byte wire form.
///
/// Always writes all 32 bytes, so stale buffer contents never leak into the
/// reserved or unused fields.
pub fn encode_address(addr: Option<SocketAddr>, out: &mut [u8; WIRE_ADDRESS_SIZE]) {
    *out = [0; WIRE_ADDRESS_SIZE];
    match addr {
        None => {}
        Some(SocketAddr::V4(v4)) => {
            put_u16::<A_FAMILY, WIRE_ADDRESS_SIZE>(out, WIRE_AF_INET);
            put_u16::<A_PORT, WIRE_ADDRESS_SIZE>(out, v4.port());
            put::<A_ADDRESS, 4, WIRE_ADDRESS_SIZE>(out, v4.ip().octets());
        }
        Some(SocketAddr::V6(v6)) => {
            put_u16::<A_FAMILY, WIRE_ADDRESS_SIZE>(out, WIRE_AF_INET6);
            put_u16::<A_PORT, WIRE_ADDRESS_SIZE>(out, v6.port());
            put_u32::<A_FLOW_INFO, WIRE_ADDRESS_SIZE>(out, v6.flowinfo());
            put_u32::<A_SCOPE_ID, WIRE_ADDRESS_SIZE>(out, v6.scope_id());
            put::<A_ADDRESS, 16, WIRE_ADDRESS_SIZE>(out, v6.ip().octets());
        }
    }
}

/// Decodes a destination address; port 0 is refused with [`AbiError::PortZero`]
/// because a datagram cannot be sent to it.
///
/// Checks, in order: family ([`AbiError::BadFamily`]), the reserved field
/// ([`AbiError::ReservedNotZero`]), bytes the family does not use
/// ([`AbiError::BadAddress`]), then the port. Address values themselves
/// (unspecified, broadcast, multicast) are left to the transport.
pub fn decode_address(bytes: &[u8; WIRE_ADDRESS_SIZE]) -> Result<Option<SocketAddr>, AbiError> {
    decode_wire(bytes, false)
}

/// Decodes a local (bind) address, where port 0 means "any ephemeral port".
pub fn decode_bind_address(
    bytes: &[u8; WIRE_ADDRESS_SIZE],
) -> Result<Option<SocketAddr>, AbiError> {
    decode_wire(bytes, true)
}

fn decode_wire(
    bytes: &[u8; WIRE_ADDRESS_SIZE],
    allow_port_zero: bool,
) -> Result<Option<SocketAddr>, AbiError> {
    const L: usize = WIRE_ADDRESS_SIZE;
    let family = get_u16::<A_FAMILY, L>(bytes);
    let port = get_u16::<A_PORT, L>(bytes);
    let flow_info = get_u32::<A_FLOW_INFO, L>(bytes);
    let scope_id = get_u32::<A_SCOPE_ID, L>(bytes);
    let reserved = get_u32::<A_RESERVED, L>(bytes);
    let octets = take::<A_ADDRESS, 16, L>(bytes);

    if !matches!(family, WIRE_AF_UNSPEC | WIRE_AF_INET | WIRE_AF_INET6) {
        return Err(AbiError::BadFamily);
    }
    if reserved != 0 {
        return Err(AbiError::ReservedNotZero);
    }
    let addr = match family {
        WIRE_AF_INET => {
            let [a, b, c, d, rest @ ..] = octets;
            if flow_info != 0 || scope_id != 0 || rest != [0; 12] {
                return Err(AbiError::BadAddress);
            }
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port))
        }
        WIRE_AF_INET6 => SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(octets),
            port,
            flow_info,
            scope_id,
        )),
        _ => {
            // "No address": the port, flow info, scope and octets must be zero too.
            return if port != 0 || flow_info != 0 || scope_id != 0 || octets != [0; 16] {
                Err(AbiError::BadAddress)
            } else {
                Ok(None)
            };
        }
    };
    if port == 0 && !allow_port_zero {
        return Err(AbiError::PortZero);
    }
    Ok(Some(addr))
}

/// The largest payload a datagram to `destination` may carry. With no
/// destination the IPv6 limit applies; the driver rechecks against the
/// family of its fixed destination.
pub const fn max_payload_for(destination: Option<SocketAddr>) -> usize {
    match destination {
        Some(SocketAddr::V4(_)) => MAX_UDP_PAYLOAD_V4,
        Some(SocketAddr::V6(_)) | None => MAX_UDP_PAYLOAD_V6,
    }
}

// ---------------------------------------------------------------------------
// Send request
// ---------------------------------------------------------------------------

/// A decoded `IOCTL_WSK_SAMPLE_SEND` input, borrowing the payload from the
/// request buffer so the driver never copies it twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendRequest<'a> {
    /// Where to send; `None` means the socket's fixed destination.
    pub destination: Option<SocketAddr>,
    /// The datagram, never empty and never above the family maximum.
    pub payload: &'a [u8],
}

/// Total request size for a payload of `payload_len` bytes (saturating, so an
/// absurd length yields a size no buffer can satisfy instead of wrapping).
pub const fn send_request_len(payload_len: usize) -> usize {
    SEND_HEADER_SIZE.saturating_add(payload_len)
}

/// Checks shared by the encoder and the decoder, in the decoder's order.
fn check_send(destination: Option<SocketAddr>, payload_len: usize) -> Result<(), AbiError> {
    if payload_len == 0 {
        return Err(AbiError::EmptyPayload);
    }
    if payload_len > max_payload_for(destination) {
        return Err(AbiError::PayloadTooLarge);
    }
    Ok(())
}

/// Encodes a send request into `out` and returns the number of bytes written.
///
/// Refuses exactly what [`decode_send_request`] refuses (port 0, empty or
/// oversized payload), so the tool cannot build a request the driver rejects;
/// [`AbiError::OutputTooSmall`] if `out` is shorter than
/// [`send_request_len`]`(payload.len())`.
pub fn encode_send_request(
    destination: Option<SocketAddr>,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, AbiError> {
    if let Some(addr) = destination
        && addr.port() == 0
    {
        return Err(AbiError::PortZero);
    }
    check_send(destination, payload.len())?;
    let payload_length = u32::try_from(payload.len()).map_err(|_| AbiError::PayloadTooLarge)?;
    let total = send_request_len(payload.len());
    let (header, body) = out
        .get_mut(..total)
        .and_then(|used| used.split_at_mut_checked(SEND_HEADER_SIZE))
        .ok_or(AbiError::OutputTooSmall)?;
    let header: &mut [u8; SEND_HEADER_SIZE] =
        header.try_into().map_err(|_| AbiError::OutputTooSmall)?;
    if body.len() != payload.len() {
        return Err(AbiError::OutputTooSmall);
    }

    const L: usize = SEND_HEADER_SIZE;
    *header = [0; L];
    put_u16::<S_VERSION, L>(header, ABI_VERSION);
    put_u16::<S_FLAGS, L>(header, 0);
    put_u32::<S_HEADER_SIZE, L>(header, SEND_HEADER_SIZE_WIRE);
    let mut wire = [0; WIRE_ADDRESS_SIZE];
    encode_address(destination, &mut wire);
    put::<S_DESTINATION, WIRE_ADDRESS_SIZE, L>(header, wire);
    put_u32::<S_PAYLOAD_LENGTH, L>(header, payload_length);
    put_u32::<S_RESERVED, L>(header, 0);
    body.copy_from_slice(payload);
    Ok(total)
}

/// Decodes and validates an `IOCTL_WSK_SAMPLE_SEND` input buffer.
///
/// Checks, in order: length ≥ 48, version, header size, flags, reserved field,
/// total length = 48 + payload_length, destination, then the payload size.
///
/// Empty payloads are refused with [`AbiError::EmptyPayload`] even though UDP
/// allows empty datagrams: the driver describes the payload with an MDL, and a
/// zero-length MDL cannot be built.
pub fn decode_send_request(input: &[u8]) -> Result<SendRequest<'_>, AbiError> {
    const L: usize = SEND_HEADER_SIZE;
    let header = prefix::<L>(input)?;
    if get_u16::<S_VERSION, L>(header) != ABI_VERSION {
        return Err(AbiError::UnsupportedVersion);
    }
    if get_u32::<S_HEADER_SIZE, L>(header) != SEND_HEADER_SIZE_WIRE {
        return Err(AbiError::BadHeaderSize);
    }
    if get_u16::<S_FLAGS, L>(header) & !SEND_FLAGS_KNOWN != 0 {
        return Err(AbiError::UnknownFlags);
    }
    if get_u32::<S_RESERVED, L>(header) != 0 {
        return Err(AbiError::ReservedNotZero);
    }
    let payload_length = usize::try_from(get_u32::<S_PAYLOAD_LENGTH, L>(header))
        .map_err(|_| AbiError::LengthMismatch)?;
    if SEND_HEADER_SIZE.checked_add(payload_length) != Some(input.len()) {
        return Err(AbiError::LengthMismatch);
    }
    let destination = decode_address(&take::<S_DESTINATION, WIRE_ADDRESS_SIZE, L>(header))?;
    check_send(destination, payload_length)?;
    let payload = input
        .get(SEND_HEADER_SIZE..)
        .ok_or(AbiError::InputTooShort)?;
    Ok(SendRequest {
        destination,
        payload,
    })
}

// ---------------------------------------------------------------------------
// Send reply
// ---------------------------------------------------------------------------

/// Output of `IOCTL_WSK_SAMPLE_SEND`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SendReply {
    /// Bytes the transport reported sent.
    pub bytes_sent: u32,
    /// The driver's send sequence number for this datagram, starting at 1, so
    /// the tool can correlate a send with driver traces and the stats counters.
    pub sequence: u64,
}

impl SendReply {
    /// Writes the 16-byte reply, reserved field included.
    pub fn encode(&self, out: &mut [u8; SEND_REPLY_SIZE]) {
        const L: usize = SEND_REPLY_SIZE;
        *out = [0; L];
        put_u16::<R_VERSION, L>(out, ABI_VERSION);
        put_u16::<R_RESERVED, L>(out, 0);
        put_u32::<R_BYTES_SENT, L>(out, self.bytes_sent);
        put_u64::<R_SEQUENCE, L>(out, self.sequence);
    }

    /// Decodes a reply; `bytes` must be exactly 16 bytes long.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = SEND_REPLY_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<R_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u16::<R_RESERVED, L>(bytes) != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        Ok(Self {
            bytes_sent: get_u32::<R_BYTES_SENT, L>(bytes),
            sequence: get_u64::<R_SEQUENCE, L>(bytes),
        })
    }
}

// ---------------------------------------------------------------------------
// Stats reply
// ---------------------------------------------------------------------------

/// Output of `IOCTL_WSK_SAMPLE_QUERY_STATS`: the driver's counters since load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// Send requests received.
    pub requests: u64,
    /// Datagrams the transport completed successfully.
    pub datagrams_sent: u64,
    /// Payload bytes of those datagrams.
    pub bytes_sent: u64,
    /// Sends handed to WSK and not yet completed.
    pub in_flight: u64,
    /// Requests refused by the ABI checks.
    pub failed_validation: u64,
    /// Requests refused because no buffer slot or memory was available.
    pub failed_no_resources: u64,
    /// Requests refused because the socket was not (or no longer) ready.
    pub failed_not_ready: u64,
    /// Sends the transport completed with an error.
    pub failed_transport: u64,
    /// Requests cancelled before they completed.
    pub failed_cancelled: u64,
    /// Slots in the driver's preallocated send buffer pool.
    pub pool_slots: u32,
    /// Slots currently free.
    pub pool_free: u32,
    /// Size of each slot in bytes.
    pub slot_size: u32,
    /// Local address of the IPv4 socket; must be IPv4 or `None`.
    pub local_v4: Option<SocketAddr>,
    /// Local address of the IPv6 socket; must be IPv6 or `None`.
    pub local_v6: Option<SocketAddr>,
}

impl Stats {
    /// Writes the 160-byte reply, reserved fields included. The addresses are
    /// written as given; [`Stats::decode`] refuses an IPv6 address in
    /// `local_v4` or vice versa.
    pub fn encode(&self, out: &mut [u8; STATS_REPLY_SIZE]) {
        const L: usize = STATS_REPLY_SIZE;
        *out = [0; L];
        put_u16::<T_VERSION, L>(out, ABI_VERSION);
        put_u16::<T_RESERVED, L>(out, 0);
        put_u32::<T_SIZE, L>(out, STATS_REPLY_SIZE_WIRE);
        put_u64::<T_REQUESTS, L>(out, self.requests);
        put_u64::<T_DATAGRAMS_SENT, L>(out, self.datagrams_sent);
        put_u64::<T_BYTES_SENT, L>(out, self.bytes_sent);
        put_u64::<T_IN_FLIGHT, L>(out, self.in_flight);
        put_u64::<T_FAILED_VALIDATION, L>(out, self.failed_validation);
        put_u64::<T_FAILED_NO_RESOURCES, L>(out, self.failed_no_resources);
        put_u64::<T_FAILED_NOT_READY, L>(out, self.failed_not_ready);
        put_u64::<T_FAILED_TRANSPORT, L>(out, self.failed_transport);
        put_u64::<T_FAILED_CANCELLED, L>(out, self.failed_cancelled);
        put_u32::<T_POOL_SLOTS, L>(out, self.pool_slots);
        put_u32::<T_POOL_FREE, L>(out, self.pool_free);
        put_u32::<T_SLOT_SIZE, L>(out, self.slot_size);
        put_u32::<T_RESERVED2, L>(out, 0);
        let mut wire = [0; WIRE_ADDRESS_SIZE];
        encode_address(self.local_v4, &mut wire);
        put::<T_LOCAL_V4, WIRE_ADDRESS_SIZE, L>(out, wire);
        encode_address(self.local_v6, &mut wire);
        put::<T_LOCAL_V6, WIRE_ADDRESS_SIZE, L>(out, wire);
    }

    /// Decodes a reply; `bytes` must be exactly 160 bytes long.
    ///
    /// Checks, in order: length, version, size field, reserved fields, then
    /// the local addresses (bind rules: port 0 allowed; each must have its
    /// slot's family or be absent, else [`AbiError::BadFamily`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = STATS_REPLY_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<T_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u32::<T_SIZE, L>(bytes) != STATS_REPLY_SIZE_WIRE {
            return Err(AbiError::BadHeaderSize);
        }
        if get_u16::<T_RESERVED, L>(bytes) != 0 || get_u32::<T_RESERVED2, L>(bytes) != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        let local_v4 = decode_bind_address(&take::<T_LOCAL_V4, WIRE_ADDRESS_SIZE, L>(bytes))?;
        if matches!(local_v4, Some(SocketAddr::V6(_))) {
            return Err(AbiError::BadFamily);
        }
        let local_v6 = decode_bind_address(&take::<T_LOCAL_V6, WIRE_ADDRESS_SIZE, L>(bytes))?;
        if matches!(local_v6, Some(SocketAddr::V4(_))) {
            return Err(AbiError::BadFamily);
        }
        Ok(Self {
            requests: get_u64::<T_REQUESTS, L>(bytes),
            datagrams_sent: get_u64::<T_DATAGRAMS_SENT, L>(bytes),
            bytes_sent: get_u64::<T_BYTES_SENT, L>(bytes),
            in_flight: get_u64::<T_IN_FLIGHT, L>(bytes),
            failed_validation: get_u64::<T_FAILED_VALIDATION, L>(bytes),
            failed_no_resources: get_u64::<T_FAILED_NO_RESOURCES, L>(bytes),
            failed_not_ready: get_u64::<T_FAILED_NOT_READY, L>(bytes),
            failed_transport: get_u64::<T_FAILED_TRANSPORT, L>(bytes),
            failed_cancelled: get_u64::<T_FAILED_CANCELLED, L>(bytes),
            pool_slots: get_u32::<T_POOL_SLOTS, L>(bytes),
            pool_free: get_u32::<T_POOL_FREE, L>(bytes),
            slot_size: get_u32::<T_SLOT_SIZE, L>(bytes),
            local_v4,
            local_v6,
        })
    }

    /// Sum of all `failed_*` counters, saturating so corrupt counters cannot
    /// overflow.
    pub fn failed_total(&self) -> u64 {
        self.failed_validation
            .saturating_add(self.failed_no_resources)
            .saturating_add(self.failed_not_ready)
            .saturating_add(self.failed_transport)
            .saturating_add(self.failed_cancelled)
    }
}

// ---------------------------------------------------------------------------
// NTSTATUS
// ---------------------------------------------------------------------------

/// NTSTATUS values the driver completes requests with or receives from WSK,
/// with names and one-line meanings for the tool's messages.
pub mod status {
    /// The operation completed successfully.
    pub const STATUS_SUCCESS: i32 = 0;
    /// The operation will complete asynchronously.
    pub const STATUS_PENDING: i32 = 0x0000_0103;
    /// Warning: the output buffer was too small and the data was truncated.
    pub const STATUS_BUFFER_OVERFLOW: i32 = 0x8000_0005u32 as i32;
    /// Warning: the device is busy.
    pub const STATUS_DEVICE_BUSY: i32 = 0x8000_0011u32 as i32;
    /// Generic failure.
    pub const STATUS_UNSUCCESSFUL: i32 = 0xC000_0001u32 as i32;
    /// The operation is not implemented.
    pub const STATUS_NOT_IMPLEMENTED: i32 = 0xC000_0002u32 as i32;
    /// A buffer length does not match what the request requires.
    pub const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004u32 as i32;
    /// An invalid handle was used.
    pub const STATUS_INVALID_HANDLE: i32 = 0xC000_0008u32 as i32;
    /// An invalid parameter was passed.
    pub const STATUS_INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
    /// The device does not handle this request.
    pub const STATUS_INVALID_DEVICE_REQUEST: i32 = 0xC000_0010u32 as i32;
    /// Completion routine return value: the IRP is not finished yet.
    pub const STATUS_MORE_PROCESSING_REQUIRED: i32 = 0xC000_0016u32 as i32;
    /// Not enough memory.
    pub const STATUS_NO_MEMORY: i32 = 0xC000_0017u32 as i32;
    /// Access was denied.
    pub const STATUS_ACCESS_DENIED: i32 = 0xC000_0022u32 as i32;
    /// The buffer is too small for the result.
    pub const STATUS_BUFFER_TOO_SMALL: i32 = 0xC000_0023u32 as i32;
    /// The object is being deleted.
    pub const STATUS_DELETE_PENDING: i32 = 0xC000_0056u32 as i32;
    /// The structure revision is not understood.
    pub const STATUS_REVISION_MISMATCH: i32 = 0xC000_0059u32 as i32;
    /// Not enough system resources.
    pub const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;
    /// The device is not ready.
    pub const STATUS_DEVICE_NOT_READY: i32 = 0xC000_00A3u32 as i32;
    /// The operation timed out.
    pub const STATUS_IO_TIMEOUT: i32 = 0xC000_00B5u32 as i32;
    /// The handle was closed forcibly.
    pub const STATUS_FILE_FORCED_CLOSED: i32 = 0xC000_00B6u32 as i32;
    /// The request is not supported.
    pub const STATUS_NOT_SUPPORTED: i32 = 0xC000_00BBu32 as i32;
    /// A user buffer is not valid.
    pub const STATUS_INVALID_USER_BUFFER: i32 = 0xC000_00E8u32 as i32;
    /// The request was cancelled.
    pub const STATUS_CANCELLED: i32 = 0xC000_0120u32 as i32;
    /// The address is not valid.
    pub const STATUS_INVALID_ADDRESS: i32 = 0xC000_0141u32 as i32;
    /// The device is in a state that does not allow the request.
    pub const STATUS_INVALID_DEVICE_STATE: i32 = 0xC000_0184u32 as i32;
    /// The buffer size is not valid.
    pub const STATUS_INVALID_BUFFER_SIZE: i32 = 0xC000_0206u32 as i32;
    /// A component of a network address is not valid.
    pub const STATUS_INVALID_ADDRESS_COMPONENT: i32 = 0xC000_0207u32 as i32;
    /// The address is already in use.
    pub const STATUS_ADDRESS_ALREADY_EXISTS: i32 = 0xC000_020Au32 as i32;
    /// The object was not found.
    pub const STATUS_NOT_FOUND: i32 = 0xC000_0225u32 as i32;
    /// The remote system refused the connection.
    pub const STATUS_CONNECTION_REFUSED: i32 = 0xC000_0236u32 as i32;
    /// The socket already has an address.
    pub const STATUS_ADDRESS_ALREADY_ASSOCIATED: i32 = 0xC000_0238u32 as i32;
    /// The network is unreachable.
    pub const STATUS_NETWORK_UNREACHABLE: i32 = 0xC000_023Cu32 as i32;
    /// The host is unreachable.
    pub const STATUS_HOST_UNREACHABLE: i32 = 0xC000_023Du32 as i32;
    /// The remote port is unreachable.
    pub const STATUS_PORT_UNREACHABLE: i32 = 0xC000_023Fu32 as i32;
    /// The device has been removed.
    pub const STATUS_DEVICE_REMOVED: i32 = 0xC000_02B6u32 as i32;
    /// The requested interface is not supported.
    pub const STATUS_NOINTERFACE: i32 = 0xC000_02B9u32 as i32;

    /// (value, C name, meaning) for every constant above.
    const TABLE: &[(i32, &str, &str)] = &[
        (
            STATUS_SUCCESS,
            "STATUS_SUCCESS",
            "the operation completed successfully",
        ),
        (
            STATUS_PENDING,
            "STATUS_PENDING",
            "the operation was started and will complete later",
        ),
        (
            STATUS_BUFFER_OVERFLOW,
            "STATUS_BUFFER_OVERFLOW",
            "the output buffer was too small; the data was truncated",
        ),
        (
            STATUS_DEVICE_BUSY,
            "STATUS_DEVICE_BUSY",
            "the device is busy; try again later",
        ),
        (
            STATUS_UNSUCCESSFUL,
            "STATUS_UNSUCCESSFUL",
            "the operation failed",
        ),
        (
            STATUS_NOT_IMPLEMENTED,
            "STATUS_NOT_IMPLEMENTED",
            "the requested operation is not implemented",
        ),
        (
            STATUS_INFO_LENGTH_MISMATCH,
            "STATUS_INFO_LENGTH_MISMATCH",
            "the buffer length does not match what the request requires",
        ),
        (
            STATUS_INVALID_HANDLE,
            "STATUS_INVALID_HANDLE",
            "the handle is not valid",
        ),
        (
            STATUS_INVALID_PARAMETER,
            "STATUS_INVALID_PARAMETER",
            "a parameter of the request is not valid",
        ),
        (
            STATUS_INVALID_DEVICE_REQUEST,
            "STATUS_INVALID_DEVICE_REQUEST",
            "the device does not handle this request",
        ),
        (
            STATUS_MORE_PROCESSING_REQUIRED,
            "STATUS_MORE_PROCESSING_REQUIRED",
            "the request needs more processing before it completes",
        ),
        (
            STATUS_NO_MEMORY,
            "STATUS_NO_MEMORY",
            "not enough memory to complete the request",
        ),
        (
            STATUS_ACCESS_DENIED,
            "STATUS_ACCESS_DENIED",
            "access was denied",
        ),
        (
            STATUS_BUFFER_TOO_SMALL,
            "STATUS_BUFFER_TOO_SMALL",
            "the buffer is too small for the result",
        ),
        (
            STATUS_DELETE_PENDING,
            "STATUS_DELETE_PENDING",
            "the device or file is being deleted",
        ),
        (
            STATUS_REVISION_MISMATCH,
            "STATUS_REVISION_MISMATCH",
            "the request uses a structure version the driver does not understand",
        ),
        (
            STATUS_INSUFFICIENT_RESOURCES,
            "STATUS_INSUFFICIENT_RESOURCES",
            "not enough memory or other resources to complete the request",
        ),
        (
            STATUS_DEVICE_NOT_READY,
            "STATUS_DEVICE_NOT_READY",
            "the device is not ready",
        ),
        (
            STATUS_IO_TIMEOUT,
            "STATUS_IO_TIMEOUT",
            "the operation timed out",
        ),
        (
            STATUS_FILE_FORCED_CLOSED,
            "STATUS_FILE_FORCED_CLOSED",
            "the handle was closed forcibly",
        ),
        (
            STATUS_NOT_SUPPORTED,
            "STATUS_NOT_SUPPORTED",
            "the request is not supported",
        ),
        (
            STATUS_INVALID_USER_BUFFER,
            "STATUS_INVALID_USER_BUFFER",
            "a user buffer is not valid",
        ),
        (
            STATUS_CANCELLED,
            "STATUS_CANCELLED",
            "the request was cancelled",
        ),
        (
            STATUS_INVALID_ADDRESS,
            "STATUS_INVALID_ADDRESS",
            "the address is not valid",
        ),
        (
            STATUS_INVALID_DEVICE_STATE,
            "STATUS_INVALID_DEVICE_STATE",
            "the device is not in a state that allows this request",
        ),
        (
            STATUS_INVALID_BUFFER_SIZE,
            "STATUS_INVALID_BUFFER_SIZE",
            "the buffer size is not valid for this request",
        ),
        (
            STATUS_INVALID_ADDRESS_COMPONENT,
            "STATUS_INVALID_ADDRESS_COMPONENT",
            "a part of the network address (family, port or octets) is not valid",
        ),
        (
            STATUS_ADDRESS_ALREADY_EXISTS,
            "STATUS_ADDRESS_ALREADY_EXISTS",
            "the address is already in use",
        ),
        (
            STATUS_NOT_FOUND,
            "STATUS_NOT_FOUND",
            "the object was not found",
        ),
        (
            STATUS_CONNECTION_REFUSED,
            "STATUS_CONNECTION_REFUSED",
            "the remote system refused the connection",
        ),
        (
            STATUS_ADDRESS_ALREADY_ASSOCIATED,
            "STATUS_ADDRESS_ALREADY_ASSOCIATED",
            "the socket is already bound to an address",
        ),
        (
            STATUS_NETWORK_UNREACHABLE,
            "STATUS_NETWORK_UNREACHABLE",
            "the remote network is not reachable",
        ),
        (
            STATUS_HOST_UNREACHABLE,
            "STATUS_HOST_UNREACHABLE",
            "the remote host is not reachable",
        ),
        (
            STATUS_PORT_UNREACHABLE,
            "STATUS_PORT_UNREACHABLE",
            "nothing is listening on the remote port",
        ),
        (
            STATUS_DEVICE_REMOVED,
            "STATUS_DEVICE_REMOVED",
            "the device has been removed",
        ),
        (
            STATUS_NOINTERFACE,
            "STATUS_NOINTERFACE",
            "the requested interface is not supported",
        ),
    ];

    fn entry(status: i32) -> Option<&'static (i32, &'static str, &'static str)> {
        TABLE.iter().find(|(value, _, _)| *value == status)
    }

    /// The C name of a known status (`"STATUS_INVALID_PARAMETER"`), else `None`.
    pub fn name(status: i32) -> Option<&'static str> {
        entry(status).map(|(_, name, _)| *name)
    }

    /// A one-line human meaning of a known status, else `"unknown status"`.
    pub fn describe(status: i32) -> &'static str {
        entry(status).map_or("unknown status", |(_, _, meaning)| *meaning)
    }

    /// `NT_SUCCESS`: true for success, informational and pending values.
    pub const fn nt_success(status: i32) -> bool {
        status >= 0
    }

    #[cfg(test)]
    pub(crate) fn all() -> impl Iterator<Item = (i32, &'static str)> {
        TABLE.iter().map(|(value, name, _)| (*value, *name))
    }
}
