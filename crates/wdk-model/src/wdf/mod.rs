//! The KMDF subset the driver uses, callable through `call_unsafe_wdf_function_binding!` with
//! the same arguments as the real table functions (without the DriverGlobals argument).
//!
//! Layout: `state` holds the framework's tables (in the kernel core's WDF slot); `object`
//! attributes and contexts; `driver` the driver object and WDFDEVICE_INIT; `device`
//! devices; `queue` I/O queues; `request` requests. Each method module uses `state` and
//! `object`, never another method module; this file only re-exports.
#![allow(non_snake_case)]

mod device;
mod driver;
mod object;
mod queue;
mod request;
mod state;

pub use device::{
    WdfDeviceCreate, WdfDeviceCreateDeviceInterface, WdfDeviceCreateSymbolicLink,
    WdfDeviceWdmGetDeviceObject,
};
pub use driver::{
    WdfDeviceInitAssignName, WdfDeviceInitAssignSDDLString, WdfDeviceInitSetCharacteristics,
    WdfDeviceInitSetDeviceType, WdfDeviceInitSetIoType, WdfDriverCreate,
};
pub use object::WdfObjectGetTypedContextWorker;
pub(crate) use queue::cancel_queued;
pub use queue::{WdfIoQueueCreate, WdfIoQueueGetDevice, WdfIoQueueRetrieveNextRequest};
pub use request::{
    WdfRequestComplete, WdfRequestCompleteWithInformation, WdfRequestForwardToIoQueue,
    WdfRequestRetrieveInputBuffer, WdfRequestRetrieveOutputBuffer, WdfRequestStopAcknowledge,
};
pub(crate) use state::{ObjectKind, RequestRecord, StopState, Wdf};
