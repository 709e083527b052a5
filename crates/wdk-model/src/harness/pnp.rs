//! The PnP manager's part: device removal (the queue purge with EvtIoStop, the wait for
//! requests, the cleanup callbacks), the driver's unload, and the checks around the driver's
//! callbacks.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::devobj;
use crate::kernel::{self, KernelState, lock, rules};
use crate::types::*;
use crate::wdf::{self, StopState};

pub(super) fn check_irql(core: &KernelState, callback: &str) {
    if kernel::irql() != kernel::PASSIVE {
        core.violate(
            rules::IRQL_NOT_RESTORED,
            format!("{callback} returned at IRQL {}", kernel::irql()),
        );
        kernel::set_irql(kernel::PASSIVE);
    }
}

pub(super) fn remove_devices(core: &KernelState) {
    core.note("PnP: removing the device");
    {
        let mut state = lock(core.wdf());
        for device in state.devices.iter_mut() {
            device.purging = true;
        }
        // The purge cancels what waits in the queues (FxIoQueue::QueuePurge: requests
        // not yet presented are completed with STATUS_CANCELLED).
        let cancelled = wdf::cancel_queued(&mut state, |_| true);
        drop(state);
        if cancelled > 0 {
            core.note(format!(
                "KMDF: purge cancelled {cancelled} queued request(s)"
            ));
            core.wdf_changed().notify_all();
        }
    }
    stop_outstanding_requests(core);
    let deadline = Instant::now() + core.config.request_timeout;
    let mut state = lock(core.wdf());
    loop {
        let outstanding = state
            .requests
            .values()
            .filter(|r| r.completion.is_none())
            .count();
        // The purge also waits until no EvtIoDeviceControl is still running (see
        // `WdfState::dispatching`): only then does the device's cleanup run.
        if outstanding == 0 && state.dispatching == 0 {
            break;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            let dispatching = state.dispatching;
            drop(state);
            core.violate(rules::WDF_REQUEST_NOT_COMPLETED, format!("{outstanding} request(s) still outstanding and {dispatching} EvtIoDeviceControl call(s) still running at device removal: KMDF would wait forever"));
            state = lock(core.wdf());
            break;
        };
        state = core
            .wdf_changed()
            .wait_timeout(state, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    let devices = std::mem::take(&mut state.devices);
    drop(state);
    for device in devices {
        let cleanups = {
            let mut state = lock(core.wdf());
            let mut cleanups = Vec::new();
            for q in device.default_queue.iter().chain(&device.other_queues) {
                state.queues.remove(q);
                cleanups.extend(
                    state
                        .objects
                        .get(q)
                        .and_then(|o| o.cleanup)
                        .map(|f| (f, *q)),
                );
            }
            cleanups.extend(
                state
                    .objects
                    .get(&device.handle)
                    .and_then(|o| o.cleanup)
                    .map(|f| (f, device.handle)),
            );
            cleanups
        };
        for (cleanup, object) in cleanups {
            // SAFETY: the driver's cleanup callback for an object that is still live.
            unsafe { cleanup(object as WDFOBJECT) };
            check_irql(core, "EvtCleanupCallback");
        }
        let mut state = lock(core.wdf());
        for queue in device.default_queue.iter().chain(&device.other_queues) {
            state.delete_object(*queue);
        }
        state.delete_object(device.handle);
        drop(state);
        devobj::delete_device(core, device.handle);
    }
    devobj::all_devices_gone(core);
}

/// The purge's notification loop, as FxIoQueue::ProcessPowerEvents does it
/// (FxIoQueuePowerPurgeNotifyingDriver, fxioqueue.cpp): one request at a time, taken from
/// the driver-owned list under the queue lock, EvtIoStop called with the lock dropped. A
/// request the driver completes meanwhile leaves the list, so it is never notified; one
/// already notified is not notified again.
fn stop_outstanding_requests(core: &KernelState) {
    loop {
        let next = {
            let mut state = lock(core.wdf());
            let found = state
                .requests
                .iter()
                .filter(|(_, r)| {
                    r.completion.is_none() && !r.queued && r.stop == StopState::NotNotified
                })
                .map(|(&request, r)| (request, r.queue))
                .min();
            let Some((request, queue)) = found else {
                break;
            };
            let stop = state.queues.get(&queue).and_then(|q| q.io_stop);
            let passive = state.queues.get(&queue).is_some_and(|q| q.passive);
            if let Some(record) = state.requests.get_mut(&request) {
                record.stop = StopState::Notified;
            }
            stop.map(|f| (f, queue, request, passive))
        };
        // Without EvtIoStop the framework just waits for the driver to complete it.
        let Some((io_stop, queue, request, passive)) = next else {
            continue;
        };
        core.note("KMDF: EvtIoStop (purge) for a request the driver owns");
        let level = if passive {
            kernel::PASSIVE
        } else {
            kernel::DISPATCH
        };
        kernel::set_irql(level);
        // SAFETY: the driver's callback with its live queue and a request it owns.
        unsafe {
            io_stop(
                queue as WDFQUEUE,
                request as WDFREQUEST,
                _WDF_REQUEST_STOP_ACTION_FLAGS::WdfRequestStopActionPurge as ULONG,
            )
        };
        if kernel::irql() != level {
            core.violate(
                rules::IRQL_NOT_RESTORED,
                format!("EvtIoStop returned at IRQL {}", kernel::irql()),
            );
        }
        kernel::set_irql(kernel::PASSIVE);
    }
}

pub(super) fn unload_driver(core: &KernelState) {
    let (driver, unload) = {
        let state = lock(core.wdf());
        (state.driver, state.unload)
    };
    let Some(driver) = driver else { return };
    // The I/O manager unloads a driver only once its device objects are deleted, and a
    // referenced one (IoSetCompletionRoutineEx holds one until its routine has returned)
    // is deleted only when the last reference drops (Learn, IoDeleteDevice).
    devobj::wait_unreferenced(core);
    if let Some(unload) = unload {
        core.note("kernel: calling EvtDriverUnload");
        // SAFETY: the driver's unload callback with its live driver handle.
        unsafe { unload(driver as WDFDRIVER) };
        check_irql(core, "EvtDriverUnload");
    }
    delete_driver_object(core);
    check_completion_routines(core);
}

/// After unload no completion routine of the driver may still run: its code is about to
/// be unmapped.
pub(super) fn check_completion_routines(core: &KernelState) {
    // A routine that has signalled its waiter may still be returning (its epilogue); give
    // it a moment. One still running after that is doing real work in an unloaded driver.
    let grace = Instant::now() + std::time::Duration::from_millis(500);
    let mut running = core.completion_routines_running.load(Ordering::SeqCst);
    while running > 0 && Instant::now() < grace {
        std::thread::sleep(std::time::Duration::from_millis(1));
        running = core.completion_routines_running.load(Ordering::SeqCst);
    }
    if running > 0 {
        core.violate(
            rules::UNLOAD_WITH_COMPLETION_RUNNING,
            format!("{running} completion routine(s) still running when the driver unloaded"),
        );
    }
}

/// Runs the driver object's cleanup callback and deletes it.
pub(super) fn delete_driver_object(core: &KernelState) {
    let (driver, cleanup) = {
        let state = lock(core.wdf());
        let Some(driver) = state.driver else { return };
        (driver, state.objects.get(&driver).and_then(|o| o.cleanup))
    };
    if let Some(cleanup) = cleanup {
        // SAFETY: the driver's cleanup callback for its still-live driver object.
        unsafe { cleanup(driver as WDFOBJECT) };
    }
    let mut state = lock(core.wdf());
    state.delete_object(driver);
    state.driver = None;
}
