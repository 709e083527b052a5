//! Sizes, field offsets (asserted contiguous at compile time) and the panic-free field access every encoder and decoder goes through.

use crate::codes::*;
use crate::error::*;

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
pub(crate) const A_FAMILY: usize = 0;
pub(crate) const A_PORT: usize = 2;
pub(crate) const A_FLOW_INFO: usize = 4;
pub(crate) const A_SCOPE_ID: usize = 8;
pub(crate) const A_RESERVED: usize = 12;
pub(crate) const A_ADDRESS: usize = 16;

pub(crate) const S_VERSION: usize = 0;
pub(crate) const S_FLAGS: usize = 2;
pub(crate) const S_HEADER_SIZE: usize = 4;
pub(crate) const S_DESTINATION: usize = 8;
pub(crate) const S_PAYLOAD_LENGTH: usize = 40;
pub(crate) const S_RESERVED: usize = 44;

pub(crate) const R_VERSION: usize = 0;
pub(crate) const R_RESERVED: usize = 2;
pub(crate) const R_BYTES_SENT: usize = 4;
pub(crate) const R_SEQUENCE: usize = 8;

pub(crate) const T_VERSION: usize = 0;
pub(crate) const T_RESERVED: usize = 2;
pub(crate) const T_SIZE: usize = 4;
pub(crate) const T_REQUESTS: usize = 8;
pub(crate) const T_DATAGRAMS_SENT: usize = 16;
pub(crate) const T_BYTES_SENT: usize = 24;
pub(crate) const T_IN_FLIGHT: usize = 32;
pub(crate) const T_FAILED_VALIDATION: usize = 40;
pub(crate) const T_FAILED_NO_RESOURCES: usize = 48;
pub(crate) const T_FAILED_NOT_READY: usize = 56;
pub(crate) const T_FAILED_TRANSPORT: usize = 64;
pub(crate) const T_FAILED_CANCELLED: usize = 72;
pub(crate) const T_POOL_SLOTS: usize = 80;
pub(crate) const T_POOL_FREE: usize = 84;
pub(crate) const T_SLOT_SIZE: usize = 88;
pub(crate) const T_RESERVED2: usize = 92;
pub(crate) const T_LOCAL_V4: usize = 96;
pub(crate) const T_LOCAL_V6: usize = 128;
pub(crate) const T_FIXED_V4: usize = 160;
pub(crate) const T_FIXED_V6: usize = 192;
pub(crate) const T_FIXED_KIND_V4: usize = 224;
pub(crate) const T_FIXED_KIND_V6: usize = 228;
pub(crate) const T_BATCHES: usize = 232;
pub(crate) const T_FAILED_BUSY: usize = 240;
pub(crate) const T_RESERVED3: usize = 248;

pub(crate) const C_VERSION: usize = 0;
pub(crate) const C_FAMILY: usize = 2;
pub(crate) const C_ACTION: usize = 4;
pub(crate) const C_ADDRESS: usize = 8;
pub(crate) const C_VALUE: usize = 40;

pub(crate) const B_COUNT: usize = 40;
pub(crate) const B_TOTAL: usize = 44;

pub(crate) const BR_VERSION: usize = 0;
pub(crate) const BR_RESERVED: usize = 2;
pub(crate) const BR_DATAGRAMS: usize = 4;
pub(crate) const BR_BYTES: usize = 8;
pub(crate) const BR_FIRST_SEQUENCE: usize = 16;

// The size fields as they travel; compared as u32 so a large wire value can
// never truncate into a match.
pub(crate) const SEND_HEADER_SIZE_WIRE: u32 = SEND_HEADER_SIZE as u32;
pub(crate) const STATS_REPLY_SIZE_WIRE: u32 = STATS_REPLY_SIZE as u32;
pub(crate) const BATCH_HEADER_SIZE_WIRE: u32 = BATCH_HEADER_SIZE as u32;

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

pub(crate) fn take<const AT: usize, const N: usize, const LEN: usize>(
    bytes: &[u8; LEN],
) -> [u8; N] {
    const { assert!(AT + N <= LEN, "field lies outside its structure") };
    bytes
        .get(AT..AT + N)
        .and_then(|field| field.try_into().ok())
        .unwrap_or([0; N])
}

pub(crate) fn put<const AT: usize, const N: usize, const LEN: usize>(
    out: &mut [u8; LEN],
    value: [u8; N],
) {
    const { assert!(AT + N <= LEN, "field lies outside its structure") };
    if let Some(field) = out
        .get_mut(AT..AT + N)
        .and_then(|field| <&mut [u8; N]>::try_from(field).ok())
    {
        *field = value;
    }
}

pub(crate) fn get_u16<const AT: usize, const LEN: usize>(bytes: &[u8; LEN]) -> u16 {
    u16::from_le_bytes(take::<AT, 2, LEN>(bytes))
}

pub(crate) fn get_u32<const AT: usize, const LEN: usize>(bytes: &[u8; LEN]) -> u32 {
    u32::from_le_bytes(take::<AT, 4, LEN>(bytes))
}

pub(crate) fn get_u64<const AT: usize, const LEN: usize>(bytes: &[u8; LEN]) -> u64 {
    u64::from_le_bytes(take::<AT, 8, LEN>(bytes))
}

pub(crate) fn put_u16<const AT: usize, const LEN: usize>(out: &mut [u8; LEN], value: u16) {
    put::<AT, 2, LEN>(out, value.to_le_bytes());
}

pub(crate) fn put_u32<const AT: usize, const LEN: usize>(out: &mut [u8; LEN], value: u32) {
    put::<AT, 4, LEN>(out, value.to_le_bytes());
}

pub(crate) fn put_u64<const AT: usize, const LEN: usize>(out: &mut [u8; LEN], value: u64) {
    put::<AT, 8, LEN>(out, value.to_le_bytes());
}

/// The fixed-size prefix of `bytes`, or `InputTooShort`.
pub(crate) fn prefix<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], AbiError> {
    bytes
        .get(..N)
        .and_then(|head| head.try_into().ok())
        .ok_or(AbiError::InputTooShort)
}

/// A reply buffer must be exactly its size: shorter is truncated, longer means
/// the two sides disagree about the layout.
pub(crate) fn exact<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], AbiError> {
    let fixed = prefix::<N>(bytes)?;
    if bytes.len() == N {
        Ok(fixed)
    } else {
        Err(AbiError::LengthMismatch)
    }
}
