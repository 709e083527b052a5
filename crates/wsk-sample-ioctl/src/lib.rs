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
//! | [`IOCTL_WSK_SAMPLE_QUERY_STATS`] = `0x8057_6004` | `0x801` | buffered | read | none | [`Stats`] (256 bytes) |
//! | [`IOCTL_WSK_SAMPLE_CONFIGURE`] = `0x8057_A008` | `0x802` | buffered | write | config request (48 bytes) | none |
//! | [`IOCTL_WSK_SAMPLE_SEND_BATCH`] = `0x8057_A00C` | `0x803` | buffered | write | batch request | [`BatchReply`] (24 bytes) |
//! | [`IOCTL_WSK_SAMPLE_RECEIVE`], `_RECEIVE_STATS`, `_RECEIVE_MODE` | `0x804`-`0x806` | buffered | read, read, write | see the receive module | |
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
//! | 2 | 2 | flags | [`SEND_FLAG_FIXED_DESTINATION`] or 0 |
//! | 4 | 4 | header_size | [`SEND_HEADER_SIZE`] (48) |
//! | 8 | 32 | destination | a wire address; with [`SEND_FLAG_FIXED_DESTINATION`], only the family (2 or 23) is set and the datagram goes to that socket's fixed destination |
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
//! # Batch request (input of `IOCTL_WSK_SAMPLE_SEND_BATCH`)
//!
//! | Offset | Size | Field | Notes |
//! |-------:|-----:|-------|-------|
//! | 0 | 2 | version | [`ABI_VERSION`] (1) |
//! | 2 | 2 | flags | [`SEND_FLAG_FIXED_DESTINATION`] or 0 |
//! | 4 | 4 | header_size | [`BATCH_HEADER_SIZE`] (48) |
//! | 8 | 32 | destination | as in a send request; every datagram goes there |
//! | 40 | 4 | count | datagrams, 1 ..= [`MAX_BATCH_DATAGRAMS`] |
//! | 44 | 4 | total_length | sum of the lengths, at most [`MAX_BATCH_BYTES`] |
//! | 48 | 4 × count | lengths | each 1 ..= the family maximum |
//! | … | total_length | payloads | the datagrams, back to back, in order |
//!
//! # Batch reply (output of `IOCTL_WSK_SAMPLE_SEND_BATCH`, 24 bytes)
//!
//! | Offset | Size | Field |
//! |-------:|-----:|-------|
//! | 0 | 2 | version (1) |
//! | 2 | 2 | reserved (0) |
//! | 4 | 4 | datagrams_sent |
//! | 8 | 8 | bytes_sent |
//! | 16 | 8 | first_sequence (the driver's sequence number of the first datagram) |
//!
//! # Config request (input of `IOCTL_WSK_SAMPLE_CONFIGURE`, 48 bytes)
//!
//! | Offset | Size | Field | Notes |
//! |-------:|-----:|-------|-------|
//! | 0 | 2 | version | [`ABI_VERSION`] (1) |
//! | 2 | 2 | family | the socket to configure: 2 (IPv4) or 23 (IPv6) |
//! | 4 | 4 | action | 1 bind, 2 fixed remote, 3 fixed send-to, 4 clear the fixed address, 5 pool size |
//! | 8 | 32 | address | bind: local address (port 0 = ephemeral); 2 and 3: the destination; 4: all zero |
//! | 40 | 8 | value | action 5: the number of send slots ([`MIN_POOL_SLOTS`] ..= [`MAX_POOL_SLOTS`]); otherwise 0 |
//!
//! The address's family must be the request's family. Action 5 applies to the whole driver: family
//! and address are 0, and the driver refuses it (STATUS_DEVICE_BUSY) unless no send is in flight.
//!
//! # Stats reply (output of `IOCTL_WSK_SAMPLE_QUERY_STATS`, 256 bytes)
//!
//! | Offset | Size | Field |
//! |-------:|-----:|-------|
//! | 0 | 2 | version (1) |
//! | 2 | 2 | reserved (0) |
//! | 4 | 4 | size (256) |
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
//! | 160 | 32 | fixed_v4 (wire address, family 0 if none) |
//! | 192 | 32 | fixed_v6 (wire address, family 0 if none) |
//! | 224 | 4 | fixed_kind_v4: 0 none, 1 remote (SIO_WSK_SET_REMOTE_ADDRESS), 2 send-to (SIO_WSK_SET_SENDTO_ADDRESS) |
//! | 228 | 4 | fixed_kind_v6 (same values) |
//! | 232 | 8 | batches (batch requests completed) |
//! | 240 | 8 | failed_busy (was reserved: a reader that predates it sees 0 from an older driver) |
//! | 248 | 8 | reserved (0) |

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

mod receive;
pub use receive::*;

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
/// Sends a batch of datagrams to one destination with one WskSendMessages. Needs write access.
pub const IOCTL_WSK_SAMPLE_SEND_BATCH: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x803,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);
/// Configures a socket (bind address, fixed destination) or the driver (pool size).
pub const IOCTL_WSK_SAMPLE_CONFIGURE: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x802,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);
/// Returns the driver's counters and configuration. Read access suffices: it changes nothing.
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
/// Name of the kernel service that runs the driver (`AddService` and `KmdfService` in the INX,
/// `sc query WskSample`). The driver never names its own service; the INX and the docs do.
pub const SERVICE_NAME: &str = "WskSample";
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
pub const SEND_FLAGS_KNOWN: u16 = SEND_FLAG_FIXED_DESTINATION;
/// Send to the fixed destination configured on the socket of the family the destination field
/// names (the driver then passes WSK a NULL RemoteAddress).
pub const SEND_FLAG_FIXED_DESTINATION: u16 = 0x0001;
/// Size of a configure request.
pub const CONFIG_REQUEST_SIZE: usize = 48;
/// Size of a batch request's fixed header.
pub const BATCH_HEADER_SIZE: usize = 48;
/// Most datagrams in one batch.
pub const MAX_BATCH_DATAGRAMS: usize = 256;
/// Most payload bytes in one batch: one send slot, which the batch's datagrams share.
pub const MAX_BATCH_BYTES: usize = 65_536;
/// Size of a batch reply.
pub const BATCH_REPLY_SIZE: usize = 24;
/// Fewest send slots the pool may be configured with.
pub const MIN_POOL_SLOTS: u32 = 1;
/// Most send slots the pool may be configured with (each slot holds 64 KiB of nonpaged memory).
pub const MAX_POOL_SLOTS: u32 = 256;
/// Size of the send reply.
pub const SEND_REPLY_SIZE: usize = 16;
/// Size of the stats reply.
pub const STATS_REPLY_SIZE: usize = 256;

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
const T_FIXED_V4: usize = 160;
const T_FIXED_V6: usize = 192;
const T_FIXED_KIND_V4: usize = 224;
const T_FIXED_KIND_V6: usize = 228;
const T_BATCHES: usize = 232;
const T_FAILED_BUSY: usize = 240;
const T_RESERVED3: usize = 248;

const C_VERSION: usize = 0;
const C_FAMILY: usize = 2;
const C_ACTION: usize = 4;
const C_ADDRESS: usize = 8;
const C_VALUE: usize = 40;

const B_COUNT: usize = 40;
const B_TOTAL: usize = 44;

const BR_VERSION: usize = 0;
const BR_RESERVED: usize = 2;
const BR_DATAGRAMS: usize = 4;
const BR_BYTES: usize = 8;
const BR_FIRST_SEQUENCE: usize = 16;

// The size fields as they travel; compared as u32 so a large wire value can
// never truncate into a match.
const SEND_HEADER_SIZE_WIRE: u32 = SEND_HEADER_SIZE as u32;
const STATS_REPLY_SIZE_WIRE: u32 = STATS_REPLY_SIZE as u32;
const BATCH_HEADER_SIZE_WIRE: u32 = BATCH_HEADER_SIZE as u32;

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
    assert!(T_FIXED_V4 == T_LOCAL_V6 + WIRE_ADDRESS_SIZE);
    assert!(T_FIXED_V6 == T_FIXED_V4 + WIRE_ADDRESS_SIZE);
    assert!(
        T_FIXED_KIND_V4 == T_FIXED_V6 + WIRE_ADDRESS_SIZE && T_FIXED_KIND_V6 == T_FIXED_KIND_V4 + 4
    );
    assert!(T_BATCHES == T_FIXED_KIND_V6 + 4 && T_FAILED_BUSY == T_BATCHES + 8);
    assert!(T_RESERVED3 == T_FAILED_BUSY + 8 && T_RESERVED3 + 8 == STATS_REPLY_SIZE);
    assert!(STATS_REPLY_SIZE == 256);
    assert!(C_FAMILY == C_VERSION + 2 && C_ACTION == C_FAMILY + 2 && C_ADDRESS == C_ACTION + 4);
    assert!(C_VALUE == C_ADDRESS + WIRE_ADDRESS_SIZE && C_VALUE + 8 == CONFIG_REQUEST_SIZE);
    assert!(
        B_COUNT == S_PAYLOAD_LENGTH && B_TOTAL == B_COUNT + 4 && B_TOTAL + 4 == BATCH_HEADER_SIZE
    );
    assert!(BR_DATAGRAMS == 4 && BR_BYTES == 8 && BR_FIRST_SEQUENCE + 8 == BATCH_REPLY_SIZE);
    assert!(MAX_BATCH_DATAGRAMS * 4 + MAX_BATCH_BYTES < u32::MAX as usize);

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
    /// A configure request names an action this driver does not know.
    UnknownAction,
    /// A batch has no datagrams, more than [`MAX_BATCH_DATAGRAMS`], or more than
    /// [`MAX_BATCH_BYTES`] of payload; or a pool size is out of range.
    BadCount,
}

impl AbiError {
    /// The NTSTATUS the driver completes a refused request with.
    pub const fn ntstatus(self) -> i32 {
        use status::*;
        match self {
            Self::InputTooShort | Self::LengthMismatch => STATUS_INFO_LENGTH_MISMATCH,
            Self::OutputTooSmall => STATUS_BUFFER_TOO_SMALL,
            Self::UnsupportedVersion | Self::BadHeaderSize => STATUS_REVISION_MISMATCH,
            Self::UnknownFlags | Self::ReservedNotZero | Self::UnknownAction => {
                STATUS_INVALID_PARAMETER
            }
            Self::BadFamily | Self::PortZero | Self::BadAddress => STATUS_INVALID_ADDRESS_COMPONENT,
            Self::EmptyPayload | Self::PayloadTooLarge | Self::BadCount => {
                STATUS_INVALID_BUFFER_SIZE
            }
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
            Self::UnknownAction => {
                "configure action is not 1 (bind), 2 (fixed remote), 3 (fixed send-to), 4 (clear) \
                 or 5 (pool size)"
            }
            Self::BadCount => {
                "count out of range: a batch carries 1 to 256 datagrams and at most 65,536 payload \
                 bytes; the pool has 1 to 256 slots"
            }
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
// Families and destinations
// ---------------------------------------------------------------------------

/// The two address families the driver keeps a socket for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (wire value 2).
    V4,
    /// IPv6 (wire value 23).
    V6,
}

impl Family {
    /// The family of an address.
    pub const fn of(address: &SocketAddr) -> Family {
        match address {
            SocketAddr::V4(_) => Family::V4,
            SocketAddr::V6(_) => Family::V6,
        }
    }

    /// The Windows AF value used on the wire.
    pub const fn wire(self) -> u16 {
        match self {
            Family::V4 => WIRE_AF_INET,
            Family::V6 => WIRE_AF_INET6,
        }
    }

    /// The family with this wire value, if any.
    pub const fn from_wire(value: u16) -> Option<Family> {
        match value {
            WIRE_AF_INET => Some(Family::V4),
            WIRE_AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    /// The largest UDP payload of this family.
    pub const fn max_payload(self) -> usize {
        match self {
            Family::V4 => MAX_UDP_PAYLOAD_V4,
            Family::V6 => MAX_UDP_PAYLOAD_V6,
        }
    }
}

/// Where a send goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// This address (it overrides a fixed destination for this datagram).
    Address(SocketAddr),
    /// The fixed destination configured on this family's socket.
    Fixed(Family),
}

impl Destination {
    /// The family of the socket the datagram leaves from.
    pub const fn family(&self) -> Family {
        match self {
            Destination::Address(address) => Family::of(address),
            Destination::Fixed(family) => *family,
        }
    }
}

/// A fixed destination set on a socket, as the stats report it. In JSON (feature `serde`):
/// `{"kind": "remote" | "send_to", "address": "…"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "kind", content = "address", rename_all = "snake_case")
)]
pub enum FixedDestination {
    /// Set with SIO_WSK_SET_REMOTE_ADDRESS (sends go there; only its datagrams are received).
    Remote(SocketAddr),
    /// Set with SIO_WSK_SET_SENDTO_ADDRESS (sends go there; anyone may send to the socket).
    SendTo(SocketAddr),
}

impl FixedDestination {
    /// The address.
    pub const fn address(&self) -> SocketAddr {
        match self {
            FixedDestination::Remote(a) | FixedDestination::SendTo(a) => *a,
        }
    }

    const fn kind(this: Option<FixedDestination>) -> u32 {
        match this {
            None => 0,
            Some(FixedDestination::Remote(_)) => 1,
            Some(FixedDestination::SendTo(_)) => 2,
        }
    }

    fn from_wire(kind: u32, address: Option<SocketAddr>) -> Result<Option<Self>, AbiError> {
        match (kind, address) {
            (0, None) => Ok(None),
            (1, Some(a)) => Ok(Some(FixedDestination::Remote(a))),
            (2, Some(a)) => Ok(Some(FixedDestination::SendTo(a))),
            (0..=2, _) => Err(AbiError::BadAddress),
            _ => Err(AbiError::UnknownAction),
        }
    }
}

// ---------------------------------------------------------------------------
// Send request
// ---------------------------------------------------------------------------

/// A decoded `IOCTL_WSK_SAMPLE_SEND` input, borrowing the payload from the
/// request buffer so the driver never copies it twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendRequest<'a> {
    /// Where to send.
    pub destination: Destination,
    /// The datagram, never empty and never above the family maximum.
    pub payload: &'a [u8],
}

/// Total request size for a payload of `payload_len` bytes (saturating, so an
/// absurd length yields a size no buffer can satisfy instead of wrapping).
pub const fn send_request_len(payload_len: usize) -> usize {
    SEND_HEADER_SIZE.saturating_add(payload_len)
}

/// Checks shared by the encoder and the decoder, in the decoder's order.
fn check_send(destination: Destination, payload_len: usize) -> Result<(), AbiError> {
    if payload_len == 0 {
        return Err(AbiError::EmptyPayload);
    }
    if payload_len > destination.family().max_payload() {
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
///
/// `None` is refused with [`AbiError::BadFamily`]: a send names its destination, or uses
/// [`encode_send`] with [`Destination::Fixed`].
pub fn encode_send_request(
    destination: Option<SocketAddr>,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, AbiError> {
    let destination = destination.ok_or(AbiError::BadFamily)?;
    encode_send(Destination::Address(destination), payload, out)
}

/// Encodes a send request to `destination` into `out`; see [`encode_send_request`].
pub fn encode_send(
    destination: Destination,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, AbiError> {
    if let Destination::Address(addr) = destination
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
    put_u32::<S_HEADER_SIZE, L>(header, SEND_HEADER_SIZE_WIRE);
    put::<S_DESTINATION, WIRE_ADDRESS_SIZE, L>(header, encode_destination(destination));
    let flags = match destination {
        Destination::Address(_) => 0,
        Destination::Fixed(_) => SEND_FLAG_FIXED_DESTINATION,
    };
    put_u16::<S_FLAGS, L>(header, flags);
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
    let fixed = get_u16::<S_FLAGS, L>(header) & SEND_FLAG_FIXED_DESTINATION != 0;
    let destination =
        decode_destination(&take::<S_DESTINATION, WIRE_ADDRESS_SIZE, L>(header), fixed)?;
    check_send(destination, payload_length)?;
    let payload = input
        .get(SEND_HEADER_SIZE..)
        .ok_or(AbiError::InputTooShort)?;
    Ok(SendRequest {
        destination,
        payload,
    })
}

/// The wire form of a destination: an address, or for a fixed destination only the family.
fn encode_destination(destination: Destination) -> [u8; WIRE_ADDRESS_SIZE] {
    let mut wire = [0; WIRE_ADDRESS_SIZE];
    match destination {
        Destination::Address(address) => encode_address(Some(address), &mut wire),
        Destination::Fixed(family) => {
            put_u16::<A_FAMILY, WIRE_ADDRESS_SIZE>(&mut wire, family.wire())
        }
    }
    wire
}

/// Decodes a destination field: a full address, or (with the fixed-destination flag) a
/// family with every other byte zero.
fn decode_destination(
    wire: &[u8; WIRE_ADDRESS_SIZE],
    fixed: bool,
) -> Result<Destination, AbiError> {
    if !fixed {
        return decode_address(wire)?
            .map(Destination::Address)
            .ok_or(AbiError::BadFamily);
    }
    let family = Family::from_wire(get_u16::<A_FAMILY, WIRE_ADDRESS_SIZE>(wire))
        .ok_or(AbiError::BadFamily)?;
    if wire[2..] != [0; WIRE_ADDRESS_SIZE - 2] {
        return Err(AbiError::BadAddress);
    }
    Ok(Destination::Fixed(family))
}

// ---------------------------------------------------------------------------
// Batch request
// ---------------------------------------------------------------------------

/// A decoded `IOCTL_WSK_SAMPLE_SEND_BATCH` input, borrowing from the request buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchRequest<'a> {
    /// Where every datagram goes.
    pub destination: Destination,
    lengths: &'a [u8],
    payloads: &'a [u8],
}

impl<'a> BatchRequest<'a> {
    /// Number of datagrams (1 ..= [`MAX_BATCH_DATAGRAMS`]).
    pub fn count(&self) -> usize {
        self.lengths.len() / 4
    }

    /// Total payload bytes (at most [`MAX_BATCH_BYTES`]).
    pub fn total_length(&self) -> usize {
        self.payloads.len()
    }

    /// All payloads back to back, in order.
    pub fn payloads(&self) -> &'a [u8] {
        self.payloads
    }

    /// The datagram lengths, in order (validated by the decoder).
    pub fn lengths(&self) -> impl Iterator<Item = usize> + 'a {
        self.lengths.chunks_exact(4).map(|raw| {
            raw.iter()
                .rev()
                .fold(0usize, |n, &b| (n << 8) | usize::from(b))
        })
    }

    /// The datagrams, in order. Lengths were validated by the decoder, so every slice is in
    /// range; the iterator stops rather than panics if that ever failed.
    pub fn datagrams(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let payloads = self.payloads;
        let mut offset = 0usize;
        self.lengths().map_while(move |length| {
            let datagram = payloads.get(offset..offset.checked_add(length)?)?;
            offset += length;
            Some(datagram)
        })
    }
}

/// Total request size for `count` datagrams of `total_length` bytes in all (saturating).
pub const fn batch_request_len(count: usize, total_length: usize) -> usize {
    BATCH_HEADER_SIZE
        .saturating_add(count.saturating_mul(4))
        .saturating_add(total_length)
}

/// Encodes a batch of `datagrams` to `destination` into `out`; returns the bytes written.
/// Refuses what [`decode_batch_request`] refuses.
pub fn encode_batch(
    destination: Destination,
    datagrams: &[&[u8]],
    out: &mut [u8],
) -> Result<usize, AbiError> {
    if let Destination::Address(addr) = destination
        && addr.port() == 0
    {
        return Err(AbiError::PortZero);
    }
    let total = datagrams
        .iter()
        .fold(0usize, |sum, d| sum.saturating_add(d.len()));
    if datagrams.is_empty() || datagrams.len() > MAX_BATCH_DATAGRAMS || total > MAX_BATCH_BYTES {
        return Err(AbiError::BadCount);
    }
    for datagram in datagrams {
        check_send(destination, datagram.len())?;
    }
    let size = batch_request_len(datagrams.len(), total);
    let out = out.get_mut(..size).ok_or(AbiError::OutputTooSmall)?;
    let (header, rest) = out
        .split_at_mut_checked(BATCH_HEADER_SIZE)
        .ok_or(AbiError::OutputTooSmall)?;
    let header: &mut [u8; BATCH_HEADER_SIZE] =
        header.try_into().map_err(|_| AbiError::OutputTooSmall)?;
    const L: usize = BATCH_HEADER_SIZE;
    *header = [0; L];
    put_u16::<S_VERSION, L>(header, ABI_VERSION);
    let flags = match destination {
        Destination::Address(_) => 0,
        Destination::Fixed(_) => SEND_FLAG_FIXED_DESTINATION,
    };
    put_u16::<S_FLAGS, L>(header, flags);
    put_u32::<S_HEADER_SIZE, L>(header, BATCH_HEADER_SIZE_WIRE);
    put::<S_DESTINATION, WIRE_ADDRESS_SIZE, L>(header, encode_destination(destination));
    // Both fit in u32: count <= 256 and total <= 65,536 (checked above).
    put_u32::<B_COUNT, L>(header, datagrams.len() as u32);
    put_u32::<B_TOTAL, L>(header, total as u32);
    let (lengths, payloads) = rest
        .split_at_mut_checked(datagrams.len() * 4)
        .ok_or(AbiError::OutputTooSmall)?;
    let mut offset = 0;
    for (slot, datagram) in lengths.chunks_exact_mut(4).zip(datagrams) {
        slot.copy_from_slice(&(datagram.len() as u32).to_le_bytes());
        let target = payloads
            .get_mut(offset..offset + datagram.len())
            .ok_or(AbiError::OutputTooSmall)?;
        target.copy_from_slice(datagram);
        offset += datagram.len();
    }
    Ok(size)
}

/// Decodes and validates an `IOCTL_WSK_SAMPLE_SEND_BATCH` input buffer.
///
/// Checks, in order: length ≥ 48, version, header size, flags, count and total length in
/// range, input length = 48 + 4 × count + total, destination, then each datagram's length
/// (1 ..= the family maximum) and that the lengths add up to the total.
pub fn decode_batch_request(input: &[u8]) -> Result<BatchRequest<'_>, AbiError> {
    const L: usize = BATCH_HEADER_SIZE;
    let header = prefix::<L>(input)?;
    if get_u16::<S_VERSION, L>(header) != ABI_VERSION {
        return Err(AbiError::UnsupportedVersion);
    }
    if get_u32::<S_HEADER_SIZE, L>(header) != BATCH_HEADER_SIZE_WIRE {
        return Err(AbiError::BadHeaderSize);
    }
    let flags = get_u16::<S_FLAGS, L>(header);
    if flags & !SEND_FLAGS_KNOWN != 0 {
        return Err(AbiError::UnknownFlags);
    }
    let count = usize::try_from(get_u32::<B_COUNT, L>(header)).map_err(|_| AbiError::BadCount)?;
    let total = usize::try_from(get_u32::<B_TOTAL, L>(header)).map_err(|_| AbiError::BadCount)?;
    if count == 0 || count > MAX_BATCH_DATAGRAMS || total > MAX_BATCH_BYTES {
        return Err(AbiError::BadCount);
    }
    if batch_request_len(count, total) != input.len() {
        return Err(AbiError::LengthMismatch);
    }
    let fixed = flags & SEND_FLAG_FIXED_DESTINATION != 0;
    let destination =
        decode_destination(&take::<S_DESTINATION, WIRE_ADDRESS_SIZE, L>(header), fixed)?;
    let body = input.get(L..).ok_or(AbiError::InputTooShort)?;
    let (lengths, payloads) = body
        .split_at_checked(count * 4)
        .ok_or(AbiError::LengthMismatch)?;
    let request = BatchRequest {
        destination,
        lengths,
        payloads,
    };
    let mut sum = 0usize;
    for length in request.lengths() {
        check_send(destination, length)?;
        sum = sum.saturating_add(length);
    }
    if sum != total {
        return Err(AbiError::LengthMismatch);
    }
    Ok(request)
}

/// Output of `IOCTL_WSK_SAMPLE_SEND_BATCH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BatchReply {
    /// Datagrams the transport reported sent.
    pub datagrams_sent: u32,
    /// Payload bytes the transport reported sent.
    pub bytes_sent: u64,
    /// The driver's sequence number of the batch's first datagram.
    pub first_sequence: u64,
}

impl BatchReply {
    /// Writes the 24-byte reply, reserved field included.
    pub fn encode(&self, out: &mut [u8; BATCH_REPLY_SIZE]) {
        const L: usize = BATCH_REPLY_SIZE;
        *out = [0; L];
        put_u16::<BR_VERSION, L>(out, ABI_VERSION);
        put_u16::<BR_RESERVED, L>(out, 0);
        put_u32::<BR_DATAGRAMS, L>(out, self.datagrams_sent);
        put_u64::<BR_BYTES, L>(out, self.bytes_sent);
        put_u64::<BR_FIRST_SEQUENCE, L>(out, self.first_sequence);
    }

    /// Decodes a reply; `bytes` must be exactly 24 bytes long.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = BATCH_REPLY_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<BR_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u16::<BR_RESERVED, L>(bytes) != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        Ok(Self {
            datagrams_sent: get_u32::<BR_DATAGRAMS, L>(bytes),
            bytes_sent: get_u64::<BR_BYTES, L>(bytes),
            first_sequence: get_u64::<BR_FIRST_SEQUENCE, L>(bytes),
        })
    }
}

// ---------------------------------------------------------------------------
// Configure request
// ---------------------------------------------------------------------------

/// What an `IOCTL_WSK_SAMPLE_CONFIGURE` request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigAction {
    /// Bind the family's socket to this local address (recreating the socket if it exists).
    Bind(SocketAddr),
    /// Set a fixed remote address (SIO_WSK_SET_REMOTE_ADDRESS).
    FixedRemote(SocketAddr),
    /// Set a fixed send-to address (SIO_WSK_SET_SENDTO_ADDRESS).
    FixedSendTo(SocketAddr),
    /// Clear the family's fixed address.
    ClearFixed(Family),
    /// Rebuild the send pool with this many slots (refused while sends are in flight).
    PoolSlots(u32),
}

impl ConfigAction {
    /// The family of the socket the action applies to (`None` for driver-wide actions).
    pub const fn family(&self) -> Option<Family> {
        match self {
            ConfigAction::Bind(a) | ConfigAction::FixedRemote(a) | ConfigAction::FixedSendTo(a) => {
                Some(Family::of(a))
            }
            ConfigAction::ClearFixed(family) => Some(*family),
            ConfigAction::PoolSlots(_) => None,
        }
    }

    /// Writes the 48-byte request; refuses a destination with port 0.
    pub fn encode(&self, out: &mut [u8; CONFIG_REQUEST_SIZE]) -> Result<(), AbiError> {
        const L: usize = CONFIG_REQUEST_SIZE;
        let (action, address, value) = match *self {
            ConfigAction::Bind(a) => (1u32, Some(a), 0),
            ConfigAction::FixedRemote(a) | ConfigAction::FixedSendTo(a) if a.port() == 0 => {
                return Err(AbiError::PortZero);
            }
            ConfigAction::FixedRemote(a) => (2, Some(a), 0),
            ConfigAction::FixedSendTo(a) => (3, Some(a), 0),
            ConfigAction::ClearFixed(_) => (4, None, 0),
            ConfigAction::PoolSlots(n) if !(MIN_POOL_SLOTS..=MAX_POOL_SLOTS).contains(&n) => {
                return Err(AbiError::BadCount);
            }
            ConfigAction::PoolSlots(n) => (5, None, u64::from(n)),
        };
        *out = [0; L];
        put_u16::<C_VERSION, L>(out, ABI_VERSION);
        put_u16::<C_FAMILY, L>(out, self.family().map_or(WIRE_AF_UNSPEC, Family::wire));
        put_u32::<C_ACTION, L>(out, action);
        put_u64::<C_VALUE, L>(out, value);
        let mut wire = [0; WIRE_ADDRESS_SIZE];
        encode_address(address, &mut wire);
        put::<C_ADDRESS, WIRE_ADDRESS_SIZE, L>(out, wire);
        Ok(())
    }

    /// Decodes a configure request; `bytes` must be exactly 48 bytes long.
    ///
    /// Checks, in order: length, version, the pool-size action (family and address 0, value
    /// in range), then for socket actions: value 0, family, action, and the address (of the
    /// request's family; none for clear).
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = CONFIG_REQUEST_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<C_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        let value = get_u64::<C_VALUE, L>(bytes);
        if get_u32::<C_ACTION, L>(bytes) == 5 {
            if get_u16::<C_FAMILY, L>(bytes) != WIRE_AF_UNSPEC
                || take::<C_ADDRESS, WIRE_ADDRESS_SIZE, L>(bytes) != [0; WIRE_ADDRESS_SIZE]
            {
                return Err(AbiError::BadAddress);
            }
            return match u32::try_from(value) {
                Ok(n) if (MIN_POOL_SLOTS..=MAX_POOL_SLOTS).contains(&n) => {
                    Ok(ConfigAction::PoolSlots(n))
                }
                _ => Err(AbiError::BadCount),
            };
        }
        if value != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        let family = Family::from_wire(get_u16::<C_FAMILY, L>(bytes)).ok_or(AbiError::BadFamily)?;
        let wire = take::<C_ADDRESS, WIRE_ADDRESS_SIZE, L>(bytes);
        let of_family = |address: Option<SocketAddr>| match address {
            Some(a) if Family::of(&a) == family => Ok(a),
            _ => Err(AbiError::BadFamily),
        };
        match get_u32::<C_ACTION, L>(bytes) {
            1 => Ok(ConfigAction::Bind(of_family(decode_bind_address(&wire)?)?)),
            2 => Ok(ConfigAction::FixedRemote(of_family(decode_address(
                &wire,
            )?)?)),
            3 => Ok(ConfigAction::FixedSendTo(of_family(decode_address(
                &wire,
            )?)?)),
            4 if wire == [0; WIRE_ADDRESS_SIZE] => Ok(ConfigAction::ClearFixed(family)),
            4 => Err(AbiError::BadAddress),
            _ => Err(AbiError::UnknownAction),
        }
    }
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
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
    /// Requests refused with STATUS_DEVICE_BUSY because other work was in the way: a send or
    /// receive-mode change while the family is being reconfigured, a reconfiguration while
    /// sends are in flight, or the control lock held past its bound.
    pub failed_busy: u64,
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
    /// Fixed destination of the IPv4 socket.
    pub fixed_v4: Option<FixedDestination>,
    /// Fixed destination of the IPv6 socket.
    pub fixed_v6: Option<FixedDestination>,
    /// Batch requests completed.
    pub batches: u64,
}

impl Stats {
    /// Writes the 256-byte reply, reserved fields included. The addresses are
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
        encode_address(self.fixed_v4.map(|f| f.address()), &mut wire);
        put::<T_FIXED_V4, WIRE_ADDRESS_SIZE, L>(out, wire);
        encode_address(self.fixed_v6.map(|f| f.address()), &mut wire);
        put::<T_FIXED_V6, WIRE_ADDRESS_SIZE, L>(out, wire);
        put_u32::<T_FIXED_KIND_V4, L>(out, FixedDestination::kind(self.fixed_v4));
        put_u32::<T_FIXED_KIND_V6, L>(out, FixedDestination::kind(self.fixed_v6));
        put_u64::<T_BATCHES, L>(out, self.batches);
        put_u64::<T_FAILED_BUSY, L>(out, self.failed_busy);
        put::<T_RESERVED3, 8, L>(out, [0; 8]);
    }

    /// Decodes a reply; `bytes` must be exactly 256 bytes long.
    ///
    /// Checks, in order: length, version, size field, reserved fields, the local
    /// addresses (bind rules: port 0 allowed; each must have its slot's family or
    /// be absent, else [`AbiError::BadFamily`]), then the fixed destinations (kind
    /// and address must agree, else [`AbiError::BadAddress`]; a kind above 2 is
    /// [`AbiError::UnknownAction`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = STATS_REPLY_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<T_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u32::<T_SIZE, L>(bytes) != STATS_REPLY_SIZE_WIRE {
            return Err(AbiError::BadHeaderSize);
        }
        if get_u16::<T_RESERVED, L>(bytes) != 0
            || get_u32::<T_RESERVED2, L>(bytes) != 0
            || take::<T_RESERVED3, 8, L>(bytes) != [0; 8]
        {
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
        let fixed = |at_wire: [u8; WIRE_ADDRESS_SIZE], kind: u32, family: Family| {
            let address = decode_address(&at_wire)?;
            if address.is_some_and(|a| Family::of(&a) != family) {
                return Err(AbiError::BadFamily);
            }
            FixedDestination::from_wire(kind, address)
        };
        let fixed_v4 = fixed(
            take::<T_FIXED_V4, WIRE_ADDRESS_SIZE, L>(bytes),
            get_u32::<T_FIXED_KIND_V4, L>(bytes),
            Family::V4,
        )?;
        let fixed_v6 = fixed(
            take::<T_FIXED_V6, WIRE_ADDRESS_SIZE, L>(bytes),
            get_u32::<T_FIXED_KIND_V6, L>(bytes),
            Family::V6,
        )?;
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
            fixed_v4,
            fixed_v6,
            batches: get_u64::<T_BATCHES, L>(bytes),
            failed_busy: get_u64::<T_FAILED_BUSY, L>(bytes),
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
            .saturating_add(self.failed_busy)
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
