//! The driver's WDF object contexts (driver, device, receive queue) and the lookups through
//! them: what the framework callbacks above (IOCTL dispatch, device plumbing) use to find the
//! engine. Each context is written once, before any callback that reads it can run (see
//! src/device.rs), and read afterwards.

use core::ptr::NonNull;

use wdk_sys::{WDFOBJECT, WDFQUEUE, call_unsafe_wdf_function_binding};

use crate::engine::Engine;
use crate::receive::Receiver;
use crate::wdf_init::{ContextType, WdfObjectGetTypedContext, wdf_declare_context_type};

/// Driver-wide state, in the WDFDRIVER's context.
pub struct DriverContext {
    pub engine: *mut Engine,
}

/// Per-device state, in the WDFDEVICE's context.
pub struct DeviceContext {
    pub engine: *mut Engine,
}

wdf_declare_context_type!(
    pub DRIVER_CONTEXT_TYPE,
    DriverContext,
    c"WskSampleDriverContext"
);
wdf_declare_context_type!(
    pub DEVICE_CONTEXT_TYPE,
    DeviceContext,
    c"WskSampleDeviceContext"
);

/// A receive queue's state: the receiver it feeds (inside the engine, which outlives it).
pub struct ReceiveQueueContext {
    pub receiver: *const Receiver,
}

wdf_declare_context_type!(
    pub RECEIVE_QUEUE_CONTEXT_TYPE,
    ReceiveQueueContext,
    c"WskSampleReceiveQueueContext"
);

/// The typed context of a WDF object.
///
/// # Safety
/// `object` must be live and carry a context of `context`'s type holding a `T`.
pub unsafe fn context_of<T>(
    object: WDFOBJECT,
    context: &'static ContextType,
) -> Option<NonNull<T>> {
    // SAFETY: the caller's guarantee.
    NonNull::new(unsafe { WdfObjectGetTypedContext(object, context) }.cast())
}

/// The engine behind a device's queue.
pub fn engine_of_queue(queue: WDFQUEUE) -> Option<&'static Engine> {
    // SAFETY: the framework passes a live queue of our device.
    let device = unsafe { call_unsafe_wdf_function_binding!(WdfIoQueueGetDevice, queue) };
    // SAFETY: our device carries a DeviceContext.
    let context = unsafe { context_of::<DeviceContext>(device.cast(), &DEVICE_CONTEXT_TYPE) }?;
    // SAFETY: the context lives as long as the device, which outlives this callback.
    let engine = unsafe { context.as_ref() }.engine;
    // SAFETY: the engine outlives the device (freed in EvtDriverUnload, after device removal).
    unsafe { engine.as_ref() }
}
