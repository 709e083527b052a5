//! The batch request and its reply.

use crate::address::*;
use crate::error::*;
use crate::layout::*;
use crate::send::*;

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
