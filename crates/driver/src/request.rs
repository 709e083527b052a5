//! [`Request`]: a WDFREQUEST the driver owns, completed by value.
//!
//! KMDF's WdfRequestCompleteWithInformation (KMDF source, `fxrequestapi.cpp`,
//! `WDFEXPORT(WdfRequestCompleteWithInformation)`, `__drv_maxIRQL(DISPATCH_LEVEL)`) says that
//! "any default reference counts implied by handle are invalid after completion": the handle is
//! dead once the request is completed, and a second completion is a verifier break
//! (`FxRequest::VerifyRequestIsNotCompleted`). So the handle is a move-only value and
//! [`Request::complete`] consumes it: a request cannot be completed twice, and the compiler
//! warns (`#[must_use]`) when one is created and ignored.
//!
//! A `Request` dropped without being completed is a driver bug (on Windows that request would
//! hang until the device is removed). The driver cannot panic, so `Drop` completes it with
//! STATUS_DRIVER_INTERNAL_ERROR and traces an error: the caller sees a failure instead of a hang, and
//! the model's request bookkeeping still sees exactly one completion. No driver path drops a
//! request on purpose.

use core::ffi::c_void;
use core::ptr::NonNull;

use wdk_sys::{
    NTSTATUS, PVOID, STATUS_DRIVER_INTERNAL_ERROR, WDFQUEUE, WDFREQUEST,
    call_unsafe_wdf_function_binding,
};

use crate::trace::trace;

/// A framework request the driver owns and has not completed. Not `Copy`, not `Clone`.
#[must_use = "a request must be completed (Request::complete)"]
pub struct Request(NonNull<c_void>);

// SAFETY: a WDFREQUEST may be completed from any thread at IRQL <= DISPATCH_LEVEL (the send
// path completes it from a WSK completion routine); the handle is owned by one `Request`.
unsafe impl Send for Request {}

impl Request {
    /// Takes ownership of a request the framework presented to the driver.
    ///
    /// # Safety
    /// `raw` was presented to the driver (EvtIoDeviceControl), is not completed, and no other
    /// `Request` owns it.
    pub unsafe fn from_framework(raw: WDFREQUEST) -> Option<Request> {
        NonNull::new(raw.cast::<c_void>()).map(Request)
    }

    fn raw(&self) -> WDFREQUEST {
        self.0.as_ptr().cast()
    }

    /// Completes the request with `status` and `information` (callable at DISPATCH_LEVEL).
    /// Consumes the handle: it is invalid after completion.
    pub fn complete(self, status: NTSTATUS, information: u64) {
        let raw = self.raw();
        core::mem::forget(self);
        // SAFETY: a request the driver owns (the `from_framework` contract) and, since this
        // consumes its only owner, has not completed.
        unsafe {
            call_unsafe_wdf_function_binding!(
                WdfRequestCompleteWithInformation,
                raw,
                status,
                information
            )
        };
    }

    /// The request's input buffer (WdfRequestRetrieveInputBuffer, minimum 1 byte).
    ///
    /// The framework's system buffer stays valid until the request completes; the slice's
    /// lifetime is the caller's to keep within that (it is used before the request moves on).
    pub fn input_buffer<'a>(&self) -> Result<&'a [u8], NTSTATUS> {
        let mut buffer: PVOID = core::ptr::null_mut();
        let mut length = 0usize;
        // SAFETY: a live request; the outputs are ours.
        let status = unsafe {
            call_unsafe_wdf_function_binding!(
                WdfRequestRetrieveInputBuffer,
                self.raw(),
                1,
                &mut buffer,
                &mut length
            )
        };
        if status < 0 {
            return Err(status);
        }
        // SAFETY: the framework returns the system buffer with `length` readable bytes, valid
        // until the request completes; callers use the slice only before then.
        Ok(unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), length) })
    }

    /// The request's output buffer, at least `minimum` bytes (WdfRequestRetrieveOutputBuffer),
    /// valid until the request completes.
    pub fn output_buffer(&self, minimum: usize) -> Result<*mut u8, NTSTATUS> {
        self.output_buffer_with_length(minimum)
            .map(|(buffer, _)| buffer)
    }

    /// As [`Request::output_buffer`], with the buffer's whole length (at least `minimum`).
    pub fn output_buffer_with_length(&self, minimum: usize) -> Result<(*mut u8, usize), NTSTATUS> {
        let mut buffer: PVOID = core::ptr::null_mut();
        let mut length = 0usize;
        // SAFETY: a live request; the outputs are ours.
        let status = unsafe {
            call_unsafe_wdf_function_binding!(
                WdfRequestRetrieveOutputBuffer,
                self.raw(),
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

    /// `WdfRequestForwardToIoQueue`: hands the request to `queue` (a queue of the same device,
    /// not the one that presented it). On success the request is the framework's again (KMDF
    /// source, `fxioqueue.cpp`, FxIoQueue::ForwardRequest / QueueRequestFromForward), so the
    /// handle is consumed: the driver gets it back only from [`Request::retrieve_next`]. On
    /// failure (e.g. STATUS_WDF_BUSY from a purging queue) the driver still owns it and gets
    /// it back to complete.
    ///
    /// # Safety
    /// `queue` is a live queue of the request's device.
    pub unsafe fn forward_to(self, queue: WDFQUEUE) -> Result<(), (Request, NTSTATUS)> {
        // SAFETY: a request the driver owns; the caller's guarantee for the queue.
        let status = unsafe {
            call_unsafe_wdf_function_binding!(WdfRequestForwardToIoQueue, self.raw(), queue)
        };
        if status < 0 {
            return Err((self, status));
        }
        core::mem::forget(self);
        Ok(())
    }

    /// `WdfIoQueueRetrieveNextRequest`: the oldest request waiting in a manual queue, now the
    /// driver's (FxIoQueue::GetRequest); None if the queue is empty or refuses. Callable at
    /// DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `queue` is a live manual queue of the driver's device, and the requests in it were put
    /// there by [`Request::forward_to`] (so no other `Request` owns them).
    pub unsafe fn retrieve_next(queue: WDFQUEUE) -> Option<Request> {
        let mut raw: WDFREQUEST = core::ptr::null_mut();
        // SAFETY: the caller's guarantee for the queue; the output is ours.
        let status = unsafe {
            call_unsafe_wdf_function_binding!(WdfIoQueueRetrieveNextRequest, queue, &mut raw)
        };
        if status < 0 {
            return None;
        }
        NonNull::new(raw.cast::<c_void>()).map(Request)
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        trace!(
            Error,
            "request {:p} dropped without completion: completing with STATUS_DRIVER_INTERNAL_ERROR",
            self.raw()
        );
        let raw = self.raw();
        // SAFETY: as in `complete`: the only owner, not completed, and dropped once.
        unsafe {
            call_unsafe_wdf_function_binding!(
                WdfRequestCompleteWithInformation,
                raw,
                STATUS_DRIVER_INTERNAL_ERROR,
                0
            )
        };
    }
}
