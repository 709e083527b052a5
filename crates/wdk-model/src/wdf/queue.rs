//! I/O queues: `WdfIoQueueCreate`, `WdfIoQueueGetDevice`, `WdfIoQueueRetrieveNextRequest`, and
//! the cancellation of queued requests.

use super::object::{apply_attributes, resolve_passive};
use super::state::*;
use crate::constants::*;
use crate::kernel::{self, lock, rules};
use crate::types::*;

/// `WdfIoQueueCreate`. The model supports the device's default queue, parallel dispatch.
///
/// What the framework checks, in its order: WdfIoQueueCreate (fxioqueueapi.cpp) takes the
/// v1.7, v1.9 and current sizes (else STATUS_INFO_LENGTH_MISMATCH; the model takes the current
/// one), a non-default queue needs a Queue pointer (STATUS_INVALID_PARAMETER_4), a second
/// default queue is STATUS_INVALID_DEVICE_STATE; FxIoQueue::Initialize (fxioqueue.cpp) applies
/// the attributes (ConfigureConstraints), rejects a DispatchType out of range
/// (STATUS_INVALID_PARAMETER), a non-manual queue without any EvtIo* callback
/// (STATUS_WDF_NO_CALLBACK), a sequential or manual queue with NumberOfPresentedRequests != 0
/// (STATUS_INVALID_PARAMETER), and copies NumberOfPresentedRequests into
/// m_MaxParallelQueuePresentedRequests *without* rejecting 0: such a queue is created and
/// never presents a request (rule WDF_QUEUE_PRESENTS_NOTHING, recorded here and again when a
/// request arrives). PowerManaged: WdfUseDefault is TRUE for a non-filter device.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfIoQueueCreate(
    Device: WDFDEVICE,
    Config: PWDF_IO_QUEUE_CONFIG,
    QueueAttributes: PWDF_OBJECT_ATTRIBUTES,
    Queue: *mut WDFQUEUE,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfIoQueueCreate", kernel::DISPATCH) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: the driver passes its config.
    let Some(config) = (unsafe { Config.as_ref() }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfIoQueueCreate without a WDF_IO_QUEUE_CONFIG",
        );
        return STATUS_INVALID_PARAMETER;
    };
    let refuse = |status: NTSTATUS, why: String| {
        kernel.violate(rules::WDF_BAD_CONFIG, format!("WdfIoQueueCreate: {why}"));
        status
    };
    if config.Size as usize != size_of::<WDF_IO_QUEUE_CONFIG>() {
        return refuse(
            STATUS_INFO_LENGTH_MISMATCH,
            format!("WDF_IO_QUEUE_CONFIG.Size is {}", config.Size),
        );
    }
    if config.DefaultQueue == 0 && Queue.is_null() {
        return refuse(
            STATUS_INVALID_PARAMETER_4,
            "a non-default queue needs a Queue pointer".into(),
        );
    }
    let device = Device as usize;
    {
        let state = lock(kernel.wdf());
        if !state.is(device, ObjectKind::Device) {
            drop(state);
            bad_handle(&kernel, "WdfIoQueueCreate", device, ObjectKind::Device);
            return STATUS_INVALID_HANDLE;
        }
        let has_default = state
            .devices
            .iter()
            .any(|d| d.handle == device && d.default_queue.is_some());
        if config.DefaultQueue != 0 && has_default {
            drop(state);
            return refuse(
                STATUS_INVALID_DEVICE_STATE,
                "the device already has a default queue".into(),
            );
        }
    }
    use _WDF_IO_QUEUE_DISPATCH_TYPE::*;
    let dispatch = config.DispatchType;
    if dispatch <= WdfIoQueueDispatchInvalid || dispatch > WdfIoQueueDispatchManual {
        return refuse(
            STATUS_INVALID_PARAMETER,
            format!("DispatchType {dispatch} out of range"),
        );
    }
    let callbacks = config.EvtIoDefault.is_some()
        || config.EvtIoRead.is_some()
        || config.EvtIoWrite.is_some()
        || config.EvtIoDeviceControl.is_some()
        || config.EvtIoInternalDeviceControl.is_some();
    if dispatch != WdfIoQueueDispatchManual && !callbacks {
        return refuse(
            STATUS_WDF_NO_CALLBACK,
            "a dispatching queue needs an EvtIo* callback".into(),
        );
    }
    if dispatch == WdfIoQueueDispatchManual && callbacks {
        return refuse(
            STATUS_INVALID_PARAMETER,
            "a manual queue takes no EvtIo* callbacks".into(),
        );
    }
    // SAFETY: every variant of the union is a ULONG.
    let presented = unsafe { config.Settings.Parallel.NumberOfPresentedRequests };
    if dispatch != WdfIoQueueDispatchParallel && presented != 0 {
        return refuse(
            STATUS_INVALID_PARAMETER,
            format!("NumberOfPresentedRequests {presented} on a sequential or manual queue"),
        );
    }
    let manual = dispatch == WdfIoQueueDispatchManual;
    if !(dispatch == WdfIoQueueDispatchParallel && config.DefaultQueue != 0
        || manual && config.DefaultQueue == 0)
    {
        return refuse(
            STATUS_NOT_SUPPORTED,
            "the model supports a parallel default queue and manual non-default queues only".into(),
        );
    }
    if config.EvtIoCanceledOnQueue.is_some() {
        // FxIoQueue::CancelForQueue calls it instead of completing the request; not modelled.
        return refuse(
            STATUS_NOT_SUPPORTED,
            "EvtIoCanceledOnQueue is not modelled (the framework completes cancelled queued requests with STATUS_CANCELLED without it)".into(),
        );
    }
    if config.PowerManaged < _WDF_TRI_STATE::WdfFalse
        || config.PowerManaged > _WDF_TRI_STATE::WdfUseDefault
    {
        // FxIoQueue::Initialize: ASSERTMSG("Invalid value in WDF_IO_QUEUE_CONFIG PowerManaged").
        return refuse(
            STATUS_INVALID_PARAMETER,
            format!(
                "PowerManaged {} is not a WDF_TRI_STATE",
                config.PowerManaged
            ),
        );
    }
    if presented == 0 && !manual {
        kernel.violate(
            rules::WDF_QUEUE_PRESENTS_NOTHING,
            "WdfIoQueueCreate: a parallel queue with Settings.Parallel.NumberOfPresentedRequests = 0 (the framework accepts it and never presents a request)",
        );
    }
    let mut state = lock(kernel.wdf());
    let handle = state.new_object(ObjectKind::Queue);
    // SAFETY: the driver passes NULL or attributes.
    let level = match unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfIoQueueCreate",
            handle,
            QueueAttributes,
            true,
        )
    } {
        Ok(level) => level,
        Err(status) => {
            state.delete_object(handle);
            return status;
        }
    };
    let device_passive = state
        .devices
        .iter()
        .find(|d| d.handle == device)
        .is_some_and(|d| d.passive);
    state.queues.insert(
        handle,
        QueueRecord {
            device,
            device_control: config.EvtIoDeviceControl,
            io_stop: config.EvtIoStop,
            max_presented: presented,
            passive: resolve_passive(level, device_passive),
            manual,
            waiting: std::collections::VecDeque::new(),
        },
    );
    if let Some(record) = state.devices.iter_mut().find(|d| d.handle == device) {
        if manual {
            record.other_queues.push(handle);
        } else {
            record.default_queue = Some(handle);
        }
    }
    drop(state);
    if !Queue.is_null() {
        // SAFETY: the driver passes a place for the handle.
        unsafe { *Queue = handle as WDFQUEUE };
    }
    STATUS_SUCCESS
}

/// `WdfIoQueueGetDevice`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfIoQueueGetDevice(Queue: WDFQUEUE) -> WDFDEVICE {
    let kernel = kernel::current();
    let device = lock(kernel.wdf())
        .queues
        .get(&(Queue as usize))
        .map(|q| q.device);
    device.map_or_else(
        || {
            bad_handle(
                &kernel,
                "WdfIoQueueGetDevice",
                Queue as usize,
                ObjectKind::Queue,
            );
            core::ptr::null_mut()
        },
        |d| d as WDFDEVICE,
    )
}

/// `WdfIoQueueRetrieveNextRequest`: takes the oldest request from a manual queue.
///
/// FxIoQueue::GetRequest (fxioqueue.cpp): only manual and sequential queues
/// (else STATUS_INVALID_DEVICE_STATE); an empty queue gives STATUS_NO_MORE_ENTRIES; the
/// request becomes driver-owned.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfIoQueueRetrieveNextRequest(
    Queue: WDFQUEUE,
    OutRequest: *mut WDFREQUEST,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfIoQueueRetrieveNextRequest", kernel::DISPATCH) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    if OutRequest.is_null() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfIoQueueRetrieveNextRequest with a NULL OutRequest",
        );
        return STATUS_INVALID_PARAMETER;
    }
    let queue = Queue as usize;
    let mut state = lock(kernel.wdf());
    let Some(record) = state.queues.get_mut(&queue) else {
        drop(state);
        bad_handle(
            &kernel,
            "WdfIoQueueRetrieveNextRequest",
            queue,
            ObjectKind::Queue,
        );
        return STATUS_INVALID_HANDLE;
    };
    if !record.manual {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let Some(request) = record.waiting.pop_front() else {
        return STATUS_NO_MORE_ENTRIES;
    };
    if let Some(record) = state.requests.get_mut(&request) {
        record.queued = false;
    }
    drop(state);
    // SAFETY: checked non-null; the driver passes a place for the handle.
    unsafe { *OutRequest = request as WDFREQUEST };
    STATUS_SUCCESS
}

/// Cancels the queued requests that match `filter` as FxIoQueue::CancelForQueue does without
/// EvtIoCanceledOnQueue: each leaves the queue and is completed with STATUS_CANCELLED.
/// Returns how many.
pub(crate) fn cancel_queued(
    state: &mut WdfState,
    filter: impl Fn(&RequestRecord) -> bool,
) -> usize {
    let mut cancelled = 0;
    let WdfState {
        queues, requests, ..
    } = state;
    for queue in queues.values_mut() {
        queue.waiting.retain(|request| {
            let Some(record) = requests.get_mut(request) else {
                return false;
            };
            if !filter(record) {
                return true;
            }
            record.queued = false;
            record.completion = Some((STATUS_CANCELLED, 0));
            cancelled += 1;
            false
        });
    }
    cancelled
}
