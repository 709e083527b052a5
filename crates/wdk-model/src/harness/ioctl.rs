//! DeviceIoControl as the I/O manager and KMDF's default queue do it: access check, the
//! METHOD_BUFFERED system buffer, presentation to EvtIoDeviceControl, and the wait for
//! completion.

use std::time::Instant;

use super::handle::Handle;
use super::outcome::{HarnessError, IoResult};
use crate::constants::*;
use crate::kernel::{self, KernelState, Violation, lock, rules};
use crate::pool;
use crate::types::*;
use crate::wdf::{self, ObjectKind, StopState};

/// DeviceIoControl on `handle`, once the kernel is entered and a driver loaded (see
/// [`Kernel::device_io_control`](super::Kernel::device_io_control)).
pub(super) fn device_io_control(
    core: &KernelState,
    handle: &Handle,
    code: u32,
    input: &[u8],
    output_len: usize,
) -> Result<IoResult, HarnessError> {
    if handle.is_closed() {
        return Ok(IoResult {
            status: STATUS_INVALID_HANDLE,
            information: 0,
            output: Vec::new(),
        });
    }
    let required = (code >> 14) & 3;
    if (required & 1 != 0 && !handle.access.read) || (required & 2 != 0 && !handle.access.write) {
        return Ok(IoResult {
            status: STATUS_ACCESS_DENIED,
            information: 0,
            output: Vec::new(),
        });
    }
    let _serialised = handle
        .synchronous
        .as_ref()
        .map(|lock| lock.lock().unwrap_or_else(|p| p.into_inner()));
    let fail = |status| {
        Ok(IoResult {
            status,
            information: 0,
            output: Vec::new(),
        })
    };
    let deadline = Instant::now() + core.config.request_timeout;
    let (request, queue, callback, passive) = {
        let mut state = lock(core.wdf());
        loop {
            let Some(device) = state.devices.iter().find(|d| d.handle == handle.device) else {
                return fail(STATUS_DELETE_PENDING);
            };
            if device.purging {
                // The queue is purging (surprise removal): FxIoQueue fails new requests
                // with STATUS_CANCELLED.
                return fail(STATUS_CANCELLED);
            }
            let Some(queue) = device.default_queue else {
                return fail(STATUS_INVALID_DEVICE_REQUEST);
            };
            let Some(record) = state.queues.get(&queue) else {
                return fail(STATUS_INVALID_DEVICE_REQUEST);
            };
            let Some(callback) = record.device_control else {
                return fail(STATUS_INVALID_DEVICE_REQUEST);
            };
            if record.max_presented == 0 {
                drop(state);
                let violation = Violation {
                    rule: rules::WDF_QUEUE_PRESENTS_NOTHING,
                    detail: format!(
                        "IOCTL {code:#010x} sent to a parallel queue with NumberOfPresentedRequests = 0: it stays in the queue forever and DeviceIoControl never returns"
                    ),
                };
                core.violate(violation.rule, violation.detail.clone());
                return Err(HarnessError::RuleBroken(violation));
            }
            let (max, passive) = (record.max_presented, record.passive);
            let presented = state
                .requests
                .values()
                .filter(|r| r.queue == queue && r.completion.is_none())
                .count();
            if (presented as u64) < u64::from(max) {
                // Poison the part of the system buffer past the input so an output field
                // the driver forgot to write shows up as 0xC5 bytes.
                let mut buffer = vec![pool::UNINITIALIZED_FILL; input.len().max(output_len)];
                buffer[..input.len()].copy_from_slice(input);
                let request = state.new_object(ObjectKind::Request);
                state.requests.insert(
                    request,
                    wdf::RequestRecord {
                        buffer,
                        input_len: input.len(),
                        output_len,
                        completion: None,
                        queue,
                        stop: StopState::NotNotified,
                        file: handle.file(),
                        queued: false,
                    },
                );
                state.dispatching += 1;
                break (request, queue, callback, passive);
            }
            // The request waits in the queue until the driver completes one it holds.
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err(HarnessError::RequestNotCompleted);
            };
            state = core
                .wdf_changed()
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    };
    // KMDF presents requests at PASSIVE_LEVEL only when the queue's execution level (its
    // own, or inherited from the device and the driver) asks for it.
    let level = if passive {
        kernel::PASSIVE
    } else {
        kernel::DISPATCH
    };
    kernel::set_irql(level);
    // SAFETY: the driver's callback with live queue and request handles.
    unsafe {
        callback(
            queue as WDFQUEUE,
            request as WDFREQUEST,
            output_len,
            input.len(),
            code,
        )
    };
    {
        let mut state = lock(core.wdf());
        state.dispatching -= 1;
        core.wdf_changed().notify_all();
    }
    if kernel::irql() != level {
        core.violate(
            rules::IRQL_NOT_RESTORED,
            format!("EvtIoDeviceControl returned at IRQL {}", kernel::irql()),
        );
    }
    kernel::set_irql(kernel::PASSIVE);
    let result = wait_for(core, request);
    pool::check_recent(core, "after a DeviceIoControl");
    result
}

fn wait_for(core: &KernelState, request: usize) -> Result<IoResult, HarnessError> {
    let deadline = Instant::now() + core.config.request_timeout;
    let mut state = lock(core.wdf());
    loop {
        let completion = state.requests.get(&request).and_then(|r| r.completion);
        if let Some((status, information)) = completion {
            let record = state.requests.remove(&request);
            state.delete_object(request);
            let mut output = Vec::new();
            // The I/O manager (IopCompleteRequest, IRP_BUFFERED_IO with
            // IRP_INPUT_OPERATION) copies a buffered IOCTL's output back unless the status
            // is an error (NT_ERROR: severity 3): success, informational and warning
            // statuses (e.g. STATUS_BUFFER_OVERFLOW) all copy Information bytes.
            let nt_error = (status as u32) >> 30 == 3;
            if !nt_error && let Some(record) = record {
                let copied = (information as usize).min(record.output_len);
                output = record.buffer[..copied].to_vec();
            }
            return Ok(IoResult {
                status,
                information,
                output,
            });
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Err(HarnessError::RequestNotCompleted);
        };
        state = core
            .wdf_changed()
            .wait_timeout(state, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
