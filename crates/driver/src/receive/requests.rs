//! The receive IOCTLs: RECEIVE (pended until a datagram arrives), RECEIVE_STATS and
//! RECEIVE_MODE. Validation goes through the ABI crate; every path completes the request
//! exactly once (here on failure, or when a datagram completes it, or KMDF cancels it in the
//! manual queue). Requests are [`Request`] values as everywhere else in the driver: completed
//! by value, and given up (consumed) while they wait in the manual queue, where they are the
//! framework's until [`Request::retrieve_next`] hands them back.

use wdk_sys::{NTSTATUS, STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH, STATUS_SUCCESS};
use wsk_sample_ioctl::{
    ModeRequest, RECEIVE_FLAG_TRUNCATED, RECEIVE_HEADER_SIZE, RECEIVE_STATS_SIZE, ReceiveReply,
    ReceiveRequest,
};

use super::pool::Buffer;
use crate::engine::{Engine, Failure, FailureKind};
use crate::request::Request;
use crate::wsk::Family;

fn invalid(status: NTSTATUS) -> Failure {
    Failure::new(status, FailureKind::Validation)
}

/// The request the dispatcher still owns (it always does when a handler starts).
fn owned(request: &Option<Request>) -> Result<&Request, Failure> {
    request
        .as_ref()
        .ok_or(invalid(wdk_sys::STATUS_INVALID_DEVICE_REQUEST))
}

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

/// IOCTL_WSK_SAMPLE_RECEIVE: a too-small output buffer is refused before anything is taken
/// (STATUS_BUFFER_TOO_SMALL); a family not receiving gets STATUS_INVALID_DEVICE_STATE, one in
/// echo mode STATUS_DEVICE_BUSY. On success the receiver has taken the request.
pub fn receive(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let owned = owned(request)?;
    owned
        .output_buffer(RECEIVE_HEADER_SIZE)
        .map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    let bytes = owned
        .input_buffer()
        .map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let decoded = ReceiveRequest::decode(bytes).map_err(|e| invalid(e.ntstatus()))?;
    engine
        .receiver(Family::from(decoded.family))
        .take_request(request)
        .map_err(|status| {
            // The family's state refuses it before anything is taken: counted as validation.
            let kind = match status {
                wdk_sys::STATUS_INVALID_DEVICE_STATE | wdk_sys::STATUS_DEVICE_BUSY => {
                    FailureKind::Validation
                }
                _ => FailureKind::NotReady,
            };
            Failure::new(status, kind)
        })
}

/// IOCTL_WSK_SAMPLE_RECEIVE_STATS.
pub fn receive_stats(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let out = owned(request)?
        .output_buffer(RECEIVE_STATS_SIZE)
        .map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    // SAFETY: the framework guarantees at least RECEIVE_STATS_SIZE writable bytes.
    let out = unsafe { &mut *out.cast::<[u8; RECEIVE_STATS_SIZE]>() };
    engine.receive_stats().encode(out);
    if let Some(request) = request.take() {
        request.complete(STATUS_SUCCESS, RECEIVE_STATS_SIZE as u64);
    }
    Ok(())
}

/// IOCTL_WSK_SAMPLE_RECEIVE_MODE (synchronous, bounded waits inside).
pub fn receive_mode(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let bytes = owned(request)?
        .input_buffer()
        .map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let decoded = ModeRequest::decode(bytes).map_err(|e| invalid(e.ntstatus()))?;
    engine.set_receive_mode(Family::from(decoded.family), decoded.mode, decoded.delivery)?;
    if let Some(request) = request.take() {
        request.complete(STATUS_SUCCESS, 0);
    }
    Ok(())
}
