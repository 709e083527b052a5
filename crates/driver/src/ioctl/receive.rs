//! The receive IOCTLs: RECEIVE (pended until a datagram arrives), RECEIVE_STATS and
//! RECEIVE_MODE. Validation goes through the ABI crate; every path completes the request
//! exactly once (here on failure, or when a datagram completes it in the receive path,
//! src/receive/requests.rs, or KMDF cancels it in the manual queue). Requests are [`Request`]
//! values as everywhere else in the driver: completed by value, and given up (consumed) while
//! they wait in the manual queue, where they are the framework's until
//! [`Request::retrieve_next`] hands them back.

use wdk_sys::{NTSTATUS, STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH, STATUS_SUCCESS};
use wsk_sample_ioctl::{ModeRequest, RECEIVE_HEADER_SIZE, RECEIVE_STATS_SIZE, ReceiveRequest};

use crate::engine::Engine;
use crate::failure::{Failure, FailureKind};
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
