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

// Tests run on the host and use std (vec!, format!, proptest); the library does not.
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

mod address;
mod batch;
mod codes;
mod config;
mod error;
mod layout;
mod receive;
mod reply;
mod send;
mod stats;
pub mod status;

pub use address::*;
pub use batch::*;
pub use codes::*;
pub use config::*;
pub use error::*;
pub use layout::*;
pub use receive::*;
pub use reply::*;
pub use send::*;
pub use stats::*;
