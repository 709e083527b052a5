//! EvtIoDeviceControl: validates each request against the IOCTL ABI and hands it to the
//! engine. Every path completes the request exactly once: here on failure, in the send's
//! completion routine, or, for a pended receive, when a datagram or a cancellation takes it
//! back out of its manual queue (src/receive/).

use wdk_sys::{
    _WDF_REQUEST_STOP_ACTION_FLAGS, NTSTATUS, STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_SUCCESS, ULONG, WDFQUEUE, WDFREQUEST,
    call_unsafe_wdf_function_binding,
};
use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, ConfigAction, IOCTL_WSK_SAMPLE_CONFIGURE, IOCTL_WSK_SAMPLE_QUERY_STATS,
    IOCTL_WSK_SAMPLE_SEND, IOCTL_WSK_SAMPLE_SEND_BATCH, SEND_REPLY_SIZE, STATS_REPLY_SIZE,
    decode_batch_request, decode_send_request,
};
use wsk_sample_ioctl::{
    IOCTL_WSK_SAMPLE_RECEIVE, IOCTL_WSK_SAMPLE_RECEIVE_MODE, IOCTL_WSK_SAMPLE_RECEIVE_STATS,
};

mod receive;

use crate::context;
use crate::engine::Engine;
use crate::failure::{Failure, FailureKind};
use crate::request::Request;

/// EvtIoStop: at device removal (purge) the engine cancels every send still in flight, which
/// completes its request; the queue is not power managed, so no other stop action comes.
pub unsafe extern "C" fn evt_io_stop(queue: WDFQUEUE, request: WDFREQUEST, action_flags: ULONG) {
    let purge = _WDF_REQUEST_STOP_ACTION_FLAGS::WdfRequestStopActionPurge as ULONG;
    if action_flags & purge != 0 {
        if let Some(engine) = context::engine_of_queue(queue) {
            engine.cancel_in_flight();
        }
    } else {
        // SAFETY: a request the driver owns; it stays with the driver across the stop.
        unsafe { call_unsafe_wdf_function_binding!(WdfRequestStopAcknowledge, request, 0) };
    }
}

/// The queue's device-control callback, at PASSIVE_LEVEL.
pub unsafe extern "C" fn evt_io_device_control(
    queue: WDFQUEUE,
    request: WDFREQUEST,
    _output_length: usize,
    _input_length: usize,
    code: ULONG,
) {
    // SAFETY: the framework presents the request to the driver here, not completed; this is
    // its only owner.
    let Some(request) = (unsafe { Request::from_framework(request) }) else {
        return;
    };
    let Some(engine) = context::engine_of_queue(queue) else {
        request.complete(STATUS_INVALID_DEVICE_REQUEST, 0);
        return;
    };
    engine.count_request();
    // The request stays here until a handler completes it or hands it to the send path.
    let mut request = Some(request);
    let result = match code {
        IOCTL_WSK_SAMPLE_SEND => send(engine, &mut request),
        IOCTL_WSK_SAMPLE_QUERY_STATS => query_stats(engine, &mut request),
        IOCTL_WSK_SAMPLE_CONFIGURE => configure(engine, &mut request),
        IOCTL_WSK_SAMPLE_SEND_BATCH => send_batch(engine, &mut request),
        IOCTL_WSK_SAMPLE_RECEIVE => receive::receive(engine, &mut request),
        IOCTL_WSK_SAMPLE_RECEIVE_STATS => receive::receive_stats(engine, &mut request),
        IOCTL_WSK_SAMPLE_RECEIVE_MODE => receive::receive_mode(engine, &mut request),
        _ => Err(Failure::new(
            STATUS_INVALID_DEVICE_REQUEST,
            FailureKind::Validation,
        )),
    };
    if let Err(failure) = result {
        engine.count_failure(failure.kind);
        if let Some(request) = request {
            request.complete(failure.status, 0);
        }
    }
}

fn invalid(status: NTSTATUS) -> Failure {
    Failure::new(status, FailureKind::Validation)
}

/// Validates a send and starts it; on success the send path has taken the request and its
/// completion routine completes it.
fn send(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let owned = request
        .as_ref()
        .ok_or(invalid(STATUS_INVALID_DEVICE_REQUEST))?;
    // The output buffer is checked first: it shares the system buffer with the input, and the
    // reply is written only after the payload has been copied out.
    let reply = owned
        .output_buffer(SEND_REPLY_SIZE)
        .map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    // An empty input is just a short one.
    let input = owned
        .input_buffer()
        .map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let send = decode_send_request(input).map_err(|e| invalid(e.ntstatus()))?;
    engine.send(request, reply, send.destination, send.payload)
}

/// Validates a batch and starts it; on success its completion routine completes the request.
fn send_batch(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let owned = request
        .as_ref()
        .ok_or(invalid(STATUS_INVALID_DEVICE_REQUEST))?;
    let reply = owned
        .output_buffer(BATCH_REPLY_SIZE)
        .map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    let input = owned
        .input_buffer()
        .map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let batch = decode_batch_request(input).map_err(|e| invalid(e.ntstatus()))?;
    engine.send_batch(request, reply, &batch)
}

/// Applies a configure request synchronously (bounded waits inside).
fn configure(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let owned = request
        .as_ref()
        .ok_or(invalid(STATUS_INVALID_DEVICE_REQUEST))?;
    let input = owned
        .input_buffer()
        .map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let action = ConfigAction::decode(input).map_err(|e| invalid(e.ntstatus()))?;
    engine.configure(action)?;
    if let Some(request) = request.take() {
        request.complete(STATUS_SUCCESS, 0);
    }
    Ok(())
}

fn query_stats(engine: &Engine, request: &mut Option<Request>) -> Result<(), Failure> {
    let owned = request
        .as_ref()
        .ok_or(invalid(STATUS_INVALID_DEVICE_REQUEST))?;
    let output = owned
        .output_buffer(STATS_REPLY_SIZE)
        .map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    // SAFETY: the framework guarantees at least STATS_REPLY_SIZE writable bytes.
    let out = unsafe { &mut *output.cast::<[u8; STATS_REPLY_SIZE]>() };
    engine.stats().encode(out);
    if let Some(request) = request.take() {
        request.complete(STATUS_SUCCESS, STATS_REPLY_SIZE as u64);
    }
    Ok(())
}
