//! Requests: buffers, completion, stop acknowledgement and forwarding.

use super::state::*;
use crate::constants::*;
use crate::kernel::{self, lock, rules};
use crate::types::*;

fn retrieve_buffer(
    routine: &str,
    request: WDFREQUEST,
    minimum: usize,
    buffer: *mut PVOID,
    length: *mut usize,
    output: bool,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, routine, kernel::DISPATCH) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    if buffer.is_null() {
        // FxPointerNotNull: a verifier break, then the framework would write through NULL.
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("{routine} with a NULL Buffer pointer"),
        );
        return STATUS_INVALID_PARAMETER;
    }
    let mut state = lock(kernel.wdf());
    let Some(record) = state
        .requests
        .get_mut(&(request as usize))
        .filter(|r| r.completion.is_none())
    else {
        drop(state);
        bad_handle(&kernel, routine, request as usize, ObjectKind::Request);
        return STATUS_INVALID_HANDLE;
    };
    let available = if output {
        record.output_len
    } else {
        record.input_len
    };
    // FxRequest::GetDeviceControlOutputMemoryObject: a zero-length buffer is
    // STATUS_BUFFER_TOO_SMALL; WdfRequestRetrieve*Buffer: so is one below RequiredLength.
    if available == 0 || available < minimum {
        return STATUS_BUFFER_TOO_SMALL;
    }
    // SAFETY: the driver passes places for the results.
    unsafe {
        *buffer = record.buffer.as_mut_ptr().cast();
        if !length.is_null() {
            *length = available;
        }
    }
    STATUS_SUCCESS
}

/// `WdfRequestRetrieveInputBuffer`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfRequestRetrieveInputBuffer(
    Request: WDFREQUEST,
    MinimumRequiredSize: usize,
    Buffer: *mut PVOID,
    Length: *mut usize,
) -> NTSTATUS {
    retrieve_buffer(
        "WdfRequestRetrieveInputBuffer",
        Request,
        MinimumRequiredSize,
        Buffer,
        Length,
        false,
    )
}

/// `WdfRequestRetrieveOutputBuffer`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfRequestRetrieveOutputBuffer(
    Request: WDFREQUEST,
    MinimumRequiredSize: usize,
    Buffer: *mut PVOID,
    Length: *mut usize,
) -> NTSTATUS {
    retrieve_buffer(
        "WdfRequestRetrieveOutputBuffer",
        Request,
        MinimumRequiredSize,
        Buffer,
        Length,
        true,
    )
}

/// `WdfRequestCompleteWithInformation`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfRequestCompleteWithInformation(
    Request: WDFREQUEST,
    Status: NTSTATUS,
    Information: ULONG_PTR,
) {
    let kernel = kernel::current();
    if !kernel::require_irql(
        &kernel,
        "WdfRequestCompleteWithInformation",
        kernel::DISPATCH,
    ) {
        return;
    }
    let mut state = lock(kernel.wdf());
    let Some(record) = state.requests.get_mut(&(Request as usize)) else {
        drop(state);
        kernel.violate(
            rules::WDF_REQUEST_COMPLETED_TWICE,
            format!(
                "WdfRequestComplete({:#x}): not an outstanding request (completed already?)",
                Request as usize
            ),
        );
        return;
    };
    if record.completion.is_some() {
        drop(state);
        kernel.violate(
            rules::WDF_REQUEST_COMPLETED_TWICE,
            format!(
                "request {:#x} completed again with {Status:#010x}",
                Request as usize
            ),
        );
        return;
    }
    // FxRequest::VerifyCompleteInternal (a KMDF Verifier check; the model runs as if the
    // verifier is on): for a user-mode IRP_MJ_DEVICE_CONTROL the length is validated only when
    // the output length is above 0 (with 0 the Information may count input bytes used), and
    // only for NT_SUCCESS statuses (a warning may report a larger size needed).
    if Status >= 0 && record.output_len > 0 && Information > record.output_len as u64 {
        let detail = format!(
            "request {:#x} completed with Information {Information} but its output buffer holds {}",
            Request as usize, record.output_len
        );
        drop(state);
        kernel.violate(rules::WDF_INFORMATION_TOO_LARGE, detail);
        return;
    }
    record.completion = Some((Status, Information));
    drop(state);
    kernel.wdf_changed().notify_all();
}

/// `WdfRequestComplete`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfRequestComplete(Request: WDFREQUEST, Status: NTSTATUS) {
    // SAFETY: same contract.
    unsafe { WdfRequestCompleteWithInformation(Request, Status, 0) }
}

/// `WdfRequestStopAcknowledge`: the driver keeps the request across a stop.
///
/// FxRequest::StopAcknowledge (fxrequest.cpp) first runs VerifyStopAcknowledge: the request must
/// be in EvtIoStop context (delivered to EvtIoStop, not yet acknowledged; else
/// VerifyRequestIsInEvtIoStopContext breaks with STATUS_INVALID_DEVICE_REQUEST and the call is
/// ignored), and with Requeue the request must be driver-owned and not cancelable. The
/// acknowledgement moves the request back to the driver-owned list
/// (FxIoQueue::ProcessAcknowledgedRequests); with Requeue it goes back to the head of the
/// queue, which during a purge the framework cancels (completed with STATUS_CANCELLED).
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfRequestStopAcknowledge(Request: WDFREQUEST, Requeue: BOOLEAN) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfRequestStopAcknowledge", kernel::DISPATCH) {
        return;
    }
    let mut state = lock(kernel.wdf());
    let Some(record) = state.requests.get_mut(&(Request as usize)) else {
        drop(state);
        bad_handle(
            &kernel,
            "WdfRequestStopAcknowledge",
            Request as usize,
            ObjectKind::Request,
        );
        return;
    };
    if record.completion.is_some() || record.stop != StopState::Notified {
        let detail = format!(
            "WdfRequestStopAcknowledge({:#x}) on a request {}",
            Request as usize,
            if record.completion.is_some() {
                "already completed"
            } else if record.stop == StopState::Acknowledged {
                "already acknowledged"
            } else {
                "that EvtIoStop was not called for"
            }
        );
        drop(state);
        kernel.violate(rules::WDF_STOP_ACK_NOT_STOPPING, detail);
        return;
    }
    record.stop = StopState::Acknowledged;
    if Requeue != 0 {
        record.completion = Some((STATUS_CANCELLED, 0));
        drop(state);
        kernel.note("KMDF: a request acknowledged with requeue during a purge is cancelled");
    } else {
        drop(state);
    }
    kernel.wdf_changed().notify_all();
}

/// `WdfRequestForwardToIoQueue`: moves a request the driver owns into another queue of the
/// same device.
///
/// FxIoQueue::ForwardRequest (fxioqueue.cpp) runs VerifyForwardRequest (the destination must
/// differ from the request's queue and belong to the same device, else
/// STATUS_INVALID_DEVICE_REQUEST), then ForwardRequestWorker, which ends in
/// QueueRequestFromForward: a queue that is not accepting requests (purging) refuses with
/// STATUS_WDF_BUSY and the driver still owns the request. Once queued, the request is the
/// framework's again until WdfIoQueueRetrieveNextRequest hands it back.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfRequestForwardToIoQueue(
    Request: WDFREQUEST,
    DestinationQueue: WDFQUEUE,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfRequestForwardToIoQueue", kernel::DISPATCH) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let request = Request as usize;
    let destination = DestinationQueue as usize;
    let mut state = lock(kernel.wdf());
    let Some(source) = state
        .requests
        .get(&request)
        .filter(|r| r.completion.is_none() && !r.queued)
        .map(|r| r.queue)
    else {
        drop(state);
        bad_handle(
            &kernel,
            "WdfRequestForwardToIoQueue",
            request,
            ObjectKind::Request,
        );
        return STATUS_INVALID_HANDLE;
    };
    let Some(target) = state.queues.get(&destination) else {
        drop(state);
        bad_handle(
            &kernel,
            "WdfRequestForwardToIoQueue",
            destination,
            ObjectKind::Queue,
        );
        return STATUS_INVALID_HANDLE;
    };
    let same_device = state.queues.get(&source).map(|q| q.device) == Some(target.device);
    if destination == source || !same_device {
        drop(state);
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfRequestForwardToIoQueue to the request's own queue or another device's (VerifyForwardRequest: STATUS_INVALID_DEVICE_REQUEST)",
        );
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    let device = target.device;
    let purging = state
        .devices
        .iter()
        .find(|d| d.handle == device)
        .is_none_or(|d| d.purging);
    if purging {
        return STATUS_WDF_BUSY;
    }
    if let Some(target) = state.queues.get_mut(&destination) {
        target.waiting.push_back(request);
    }
    if let Some(record) = state.requests.get_mut(&request) {
        record.queue = destination;
        record.queued = true;
    }
    drop(state);
    kernel.wdf_changed().notify_all();
    STATUS_SUCCESS
}
