//! EvtIoDeviceControl: validates each request against the IOCTL ABI and hands it to the
//! engine. Every path completes the request exactly once: here on failure, or in the send's
//! completion routine.

use wdk_sys::{
    _WDF_REQUEST_STOP_ACTION_FLAGS, NTSTATUS, PVOID, STATUS_BUFFER_TOO_SMALL,
    STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_DEVICE_REQUEST, STATUS_SUCCESS, ULONG, WDFQUEUE,
    WDFREQUEST, call_unsafe_wdf_function_binding,
};
use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, ConfigAction, IOCTL_WSK_SAMPLE_CONFIGURE, IOCTL_WSK_SAMPLE_QUERY_STATS,
    IOCTL_WSK_SAMPLE_SEND, IOCTL_WSK_SAMPLE_SEND_BATCH, SEND_REPLY_SIZE, STATS_REPLY_SIZE,
    decode_batch_request, decode_send_request,
};
use wsk_sample_ioctl::{
    IOCTL_WSK_SAMPLE_RECEIVE, IOCTL_WSK_SAMPLE_RECEIVE_MODE, IOCTL_WSK_SAMPLE_RECEIVE_STATS,
};

use crate::device;
use crate::engine::{Engine, Failure, FailureKind};
use crate::receive::requests as receive;

/// Completes a request (callable at DISPATCH_LEVEL).
pub fn complete(request: WDFREQUEST, status: NTSTATUS, information: u64) {
    // SAFETY: a request the driver owns and has not completed.
    unsafe {
        call_unsafe_wdf_function_binding!(
            WdfRequestCompleteWithInformation,
            request,
            status,
            information
        )
    };
}

fn input_buffer(request: WDFREQUEST) -> Result<&'static [u8], NTSTATUS> {
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
    // SAFETY: the framework returns the system buffer with `length` readable bytes, valid until
    // the request completes; callers use the slice only before then.
    Ok(unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), length) })
}

fn output_buffer(request: WDFREQUEST, minimum: usize) -> Result<*mut u8, NTSTATUS> {
    let mut buffer: PVOID = core::ptr::null_mut();
    // SAFETY: a live request; the outputs are ours.
    let status = unsafe {
        call_unsafe_wdf_function_binding!(
            WdfRequestRetrieveOutputBuffer,
            request,
            minimum,
            &mut buffer,
            core::ptr::null_mut()
        )
    };
    if status < 0 {
        Err(status)
    } else {
        Ok(buffer.cast())
    }
}

/// EvtIoStop: at device removal (purge) the engine cancels every send still in flight, which
/// completes its request; the queue is not power managed, so no other stop action comes.
pub unsafe extern "C" fn evt_io_stop(queue: WDFQUEUE, request: WDFREQUEST, action_flags: ULONG) {
    let purge = _WDF_REQUEST_STOP_ACTION_FLAGS::WdfRequestStopActionPurge as ULONG;
    if action_flags & purge != 0 {
        if let Some(engine) = device::engine_of_queue(queue) {
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
    let Some(engine) = device::engine_of_queue(queue) else {
        complete(request, STATUS_INVALID_DEVICE_REQUEST, 0);
        return;
    };
    engine.count_request();
    let result = match code {
        IOCTL_WSK_SAMPLE_SEND => send(engine, request),
        IOCTL_WSK_SAMPLE_QUERY_STATS => query_stats(engine, request),
        IOCTL_WSK_SAMPLE_CONFIGURE => configure(engine, request),
        IOCTL_WSK_SAMPLE_SEND_BATCH => send_batch(engine, request),
        IOCTL_WSK_SAMPLE_RECEIVE => receive::receive(engine, request),
        IOCTL_WSK_SAMPLE_RECEIVE_STATS => receive::receive_stats(engine, request),
        IOCTL_WSK_SAMPLE_RECEIVE_MODE => receive::receive_mode(engine, request),
        _ => Err(Failure::new(
            STATUS_INVALID_DEVICE_REQUEST,
            FailureKind::Validation,
        )),
    };
    if let Err(failure) = result {
        engine.count_failure(failure.kind);
        complete(request, failure.status, 0);
    }
}

fn invalid(status: NTSTATUS) -> Failure {
    Failure::new(status, FailureKind::Validation)
}

/// Validates a send and starts it; the completion routine completes the request.
fn send(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    // The output buffer is checked first: it shares the system buffer with the input, and the
    // reply is written only after the payload has been copied out.
    let reply =
        output_buffer(request, SEND_REPLY_SIZE).map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    // An empty input is just a short one.
    let input = input_buffer(request).map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let send = decode_send_request(input).map_err(|e| invalid(e.ntstatus()))?;
    engine.send(request, reply, send.destination, send.payload)
}

/// Validates a batch and starts it; its completion routine completes the request.
fn send_batch(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    let reply =
        output_buffer(request, BATCH_REPLY_SIZE).map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    let input = input_buffer(request).map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let batch = decode_batch_request(input).map_err(|e| invalid(e.ntstatus()))?;
    engine.send_batch(request, reply, &batch)
}

/// Applies a configure request synchronously (bounded waits inside).
fn configure(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    let input = input_buffer(request).map_err(|_| invalid(STATUS_INFO_LENGTH_MISMATCH))?;
    let action = ConfigAction::decode(input).map_err(|e| invalid(e.ntstatus()))?;
    engine.configure(action)?;
    complete(request, STATUS_SUCCESS, 0);
    Ok(())
}

fn query_stats(engine: &Engine, request: WDFREQUEST) -> Result<(), Failure> {
    let output =
        output_buffer(request, STATS_REPLY_SIZE).map_err(|_| invalid(STATUS_BUFFER_TOO_SMALL))?;
    // SAFETY: the framework guarantees at least STATS_REPLY_SIZE writable bytes.
    let out = unsafe { &mut *output.cast::<[u8; STATS_REPLY_SIZE]>() };
    engine.stats().encode(out);
    complete(request, STATUS_SUCCESS, STATS_REPLY_SIZE as u64);
    Ok(())
}
