//! The send request.

use core::net::SocketAddr;

use crate::address::*;
use crate::error::*;
use crate::layout::*;

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
pub(crate) fn check_send(destination: Destination, payload_len: usize) -> Result<(), AbiError> {
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
pub(crate) fn encode_destination(destination: Destination) -> [u8; WIRE_ADDRESS_SIZE] {
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
pub(crate) fn decode_destination(
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
