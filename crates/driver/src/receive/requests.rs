//! Completing a pended receive request with a datagram (the receive IOCTLs that pend it are
//! dispatched in src/ioctl/receive.rs). Requests are [`Request`] values as everywhere else in
//! the driver: completed by value.

use wdk_sys::{STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS};
use wsk_sample_ioctl::{RECEIVE_FLAG_TRUNCATED, RECEIVE_HEADER_SIZE, ReceiveReply};

use super::pool::Buffer;
use crate::request::Request;

/// Writes the reply (header, then as much of the datagram as fits) and completes `request`.
/// Truncation: a datagram longer than the output buffer's room past the header is cut; the
/// reply says so with RECEIVE_FLAG_TRUNCATED and the full `datagram_length`. Callable at
/// DISPATCH_LEVEL. `count` is told (truncated or not) before the request completes, so a
/// caller that sees the completion sees the counters too.
pub fn complete_with_datagram(request: Request, buffer: &Buffer, count: impl FnOnce(bool)) {
    // SAFETY: the caller owns the buffer and it holds a completed datagram.
    let datagram = unsafe { buffer.datagram() };
    let Ok((out, length)) = request.output_buffer_with_length(RECEIVE_HEADER_SIZE) else {
        // Checked when the request arrived; a framework refusal now completes it plainly.
        request.complete(STATUS_BUFFER_TOO_SMALL, 0);
        return;
    };
    let room = length.saturating_sub(RECEIVE_HEADER_SIZE);
    let copied = datagram.len().min(room);
    let truncated = copied < datagram.len();
    let reply = ReceiveReply {
        flags: if truncated { RECEIVE_FLAG_TRUNCATED } else { 0 },
        datagram_length: u32::try_from(datagram.len()).unwrap_or(u32::MAX),
        copied: u32::try_from(copied).unwrap_or(u32::MAX),
        source: buffer.remote.to_socket_addr(),
    };
    // SAFETY: the framework gave `length` >= RECEIVE_HEADER_SIZE writable bytes at `out`,
    // valid until the request completes below, and nothing else refers to them.
    let header = unsafe { &mut *out.cast::<[u8; RECEIVE_HEADER_SIZE]>() };
    reply.encode(header);
    // SAFETY: `out` has `length` bytes, so the header's end is inside (or one past) them.
    let payload = unsafe { out.add(RECEIVE_HEADER_SIZE) };
    // SAFETY: `copied` <= `room` bytes fit after the header; the source (the receive buffer)
    // does not overlap the system buffer.
    unsafe { core::ptr::copy_nonoverlapping(datagram.as_ptr(), payload, copied) };
    count(truncated);
    request.complete(STATUS_SUCCESS, (RECEIVE_HEADER_SIZE + copied) as u64);
}
