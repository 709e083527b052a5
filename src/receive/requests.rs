//! The receive IOCTLs: RECEIVE (pended until a datagram arrives), RECEIVE_STATS and
//! RECEIVE_MODE. Validation goes through the ABI crate; every path completes the request
//! exactly once (here on failure, or when a datagram completes it, or KMDF cancels it in the
//! manual queue).

use wdk_sys::{
    NTSTATUS, PVOID, STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH, STATUS_SUCCESS,
    WDFREQUEST, call_unsafe_wdf_function_binding,
};
use wsk_sample_ioctl::{
    ModeRequest, RECEIVE_FLAG_TRUNCATED, RECEIVE_HEADER_SIZE, RECEIVE_STATS_SIZE, ReceiveReply,
    ReceiveRequest,
};

use super::pool::Buffer;
use crate::engine::{Engine, Failure, FailureKind};
use crate::ioctl;
use crate::wsk::Family;

fn invalid(status: NTSTATUS) -> Failure {
    Failure::new(status, FailureKind::Validation)
}

/// The request's output buffer and its length (at least `minimum` bytes).
fn output(request: WDFREQUEST, minimum: usize) -> Result<(*mut u8, usize), NTSTATUS> {
    let mut buffer: PVOID = core::ptr::null_mut();
    let mut length = 0usize;
    // SAFETY: a live request the driver owns; the outputs are ours.
    let status = unsafe {
        call_unsafe_wdf_function_binding!(
            WdfRequestRetrieveOutputBuffer,
            request,
            minimum,
            &mut buffer,
            &mut length
        )
    };
    if status < 0 {
        Err(status)
    } else {
        Ok((buffer.cast(), length))
    }
}

fn input(request: WDFREQUEST) -> Result<&'static [u8], NTSTATUS> {
    let mut buffer: PVOID = core::ptr::null_mut();
    let mut length = 0usize;
    // SAFETY: a live request; the outputs are ours.
    let status = unsafe {
        call_unsafe_wdf_function_binding!(
            WdfRequestRetrieveInputBuffer,
            request,
            1,
            &mut buffer,
            &mut length
        )
    };
    if status < 0 {
        return Err(status);
    }
    // SAFETY: the system buffer holds `length` readable bytes until the request completes;
    // callers use the slice only before then.
    Ok(unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), length) })
}

/// Writes the reply (header, then as much of the datagram as fits) and completes `request`.
/// Truncation: a datagram longer than the output buffer's room past the header is cut; the
/// reply says so with RECEIVE_FLAG_TRUNCATED and the full `datagram_length`. Callable at
/// DISPATCH_LEVEL. `count` is told (truncated or not) before the request completes, so a
/// caller that sees the completion sees the counters too.
pub fn complete_with_datagram(request: WDFREQUEST, buffer: &Buffer, count: impl FnOnce(bool)) {
    // SAFETY: the caller owns the buffer and it holds a completed datagram.
    let datagram = unsafe { buffer.datagram() };
    let Ok((out, length)) = output(request, RECEIVE_HEADER_SIZE) else {
        // Checked when the request arrived; a framework refusal now completes it plainly.
        ioctl::complete(request, STATUS_BUFFER_TOO_SMALL, 0);
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
    // valid until the request completes below; `copied` <= `room` fits after the header, and
    // the source (the receive buffer) does not overlap the system buffer.
    unsafe {
        reply.encode(&mut *out.cast::<[u8; RECEIVE_HEADER_SIZE]>());
        core::ptr::copy_nonoverlapping(datagram.as_ptr(), out.add(RECEIVE_HEADER_SIZE), copied);
    }
    count(truncated);
    ioctl::complete(
        request,
        STATUS_SUCCESS,
        (RECEIVE_HEADER_SIZE + copied) as u64,
    );
}

/// IOCTL_WSK_SAMPLE_RECEIVE: a too-small output buffer is refused before anything is taken
/// (STATUS_BUFFER_TOO_SMALL); a family not receiving gets STATUS_INVALID_DEVICE_STATE, one in
/// echo mode STATUS_DEVICE_BUSY.
pub fn receive(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    output(request, RECEIVE_HEADER_SIZE).map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    let bytes = input(request).map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
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
pub fn receive_stats(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    let (out, _) =
        output(request, RECEIVE_STATS_SIZE).map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    // SAFETY: the framework guarantees at least RECEIVE_STATS_SIZE writable bytes.
    let out = unsafe { &mut *out.cast::<[u8; RECEIVE_STATS_SIZE]>() };
    engine.receive_stats().encode(out);
    ioctl::complete(request, STATUS_SUCCESS, RECEIVE_STATS_SIZE as u64);
    Ok(())
}

/// IOCTL_WSK_SAMPLE_RECEIVE_MODE (synchronous, bounded waits inside).
pub fn receive_mode(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    let bytes = input(request).map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let decoded = ModeRequest::decode(bytes).map_err(|e| invalid(e.ntstatus()))?;
    engine.set_receive_mode(Family::from(decoded.family), decoded.mode)?;
    ioctl::complete(request, STATUS_SUCCESS, 0);
    Ok(())
}
