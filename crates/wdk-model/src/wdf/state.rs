//! KMDF's state in one kernel: the framework's objects, devices, queues and requests, kept
//! in the WDF slot of the kernel core (`kernel::slots`).

use std::alloc::{Layout, dealloc};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use crate::kernel::{KernelState, rules};
use crate::types::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Driver,
    DeviceInit,
    Device,
    Queue,
    Request,
}

pub(crate) struct ObjectContext {
    /// The context type's unique identity (`UniqueType`, or the record itself).
    pub type_key: usize,
    pub memory: usize,
    pub layout: Layout,
}

pub(crate) struct WdfObject {
    pub kind: ObjectKind,
    pub context: Option<ObjectContext>,
    pub cleanup: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
}

#[derive(Default, Clone)]
pub(crate) struct DeviceSettings {
    pub name: Option<String>,
    pub sddl: Option<String>,
    pub characteristics: u32,
    pub io_type: WDF_DEVICE_IO_TYPE,
    pub device_type: u32,
}

pub(crate) struct DeviceRecord {
    pub handle: usize,
    pub settings: DeviceSettings,
    pub passive: bool,
    pub symbolic_links: Vec<String>,
    pub interfaces: Vec<GUID>,
    pub default_queue: Option<usize>,
    /// Its other (manual) queues, deleted with it.
    pub other_queues: Vec<usize>,
    /// Surprise removal has begun: the queue is purging.
    pub purging: bool,
}

pub(crate) struct QueueRecord {
    pub device: usize,
    pub device_control: PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL,
    pub io_stop: PFN_WDF_IO_QUEUE_IO_STOP,
    /// Settings.Parallel.NumberOfPresentedRequests (m_MaxParallelQueuePresentedRequests).
    pub max_presented: u32,
    /// Callbacks at PASSIVE_LEVEL (the queue's execution level, inherited from the device).
    pub passive: bool,
    /// WdfIoQueueDispatchManual: requests wait in `waiting` until the driver retrieves them.
    pub manual: bool,
    /// Requests in the queue, framework-owned (FxIoQueue's m_Queue, a cancel-safe FxIrpQueue),
    /// oldest first.
    pub waiting: std::collections::VecDeque<usize>,
}

pub(crate) struct RequestRecord {
    /// The METHOD_BUFFERED system buffer: input and output share it, as on Windows.
    pub buffer: Vec<u8>,
    pub input_len: usize,
    pub output_len: usize,
    pub completion: Option<(NTSTATUS, u64)>,
    /// The queue that presented it (for EvtIoStop at device removal).
    pub queue: usize,
    /// Where it is in a purge (FxIoQueue's m_PowerNotify / m_PowerDriverNotified lists).
    pub stop: StopState,
    /// The file object (handle) it came through: IRP_MJ_CLEANUP cancels the queued ones.
    pub file: usize,
    /// In a manual queue's `waiting` list (framework-owned), not in the driver's hands.
    pub queued: bool,
}

/// A driver-owned request's place in a queue purge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum StopState {
    /// Not (yet) delivered to EvtIoStop.
    #[default]
    NotNotified,
    /// Delivered to EvtIoStop and not acknowledged: WdfRequestStopAcknowledge is valid
    /// (the verifier's FXREQUEST_FLAG_DRIVER_IN_EVTIOSTOP_CONTEXT is set).
    Notified,
    /// Acknowledged with WdfRequestStopAcknowledge: back on the driver-owned list.
    Acknowledged,
}

#[derive(Default)]
pub(crate) struct WdfState {
    pub objects: HashMap<usize, WdfObject>,
    pub driver: Option<usize>,
    pub device_add: PFN_WDF_DRIVER_DEVICE_ADD,
    pub unload: PFN_WDF_DRIVER_UNLOAD,
    pub driver_passive: bool,
    pub device_inits: HashMap<usize, DeviceSettings>,
    pub devices: Vec<DeviceRecord>,
    pub queues: HashMap<usize, QueueRecord>,
    pub requests: HashMap<usize, RequestRecord>,
    /// Threads inside an EvtIoDeviceControl call right now. A purge waits for it to reach zero
    /// as well as for every request to complete, as KMDF's queue does: FxIoQueue counts its
    /// callers into the driver in m_Dispatching (fxioqueue.cpp, DispatchEvents) and the purge
    /// and power-stop states finish only when the last dispatching routine unwinds
    /// (fxioqueue.cpp, ProcessPowerEvents: "m_Dispatching == 1").
    pub dispatching: usize,
}

/// KMDF's state in one kernel: its slot (`kernel::slots`), filled by `crate::boot`.
#[derive(Default)]
pub(crate) struct Wdf {
    /// The framework's objects, devices, queues and requests.
    state: Mutex<WdfState>,
    /// Notified whenever a request completes or leaves a queue (the harness waits on it).
    changed: Condvar,
}

impl KernelState {
    /// KMDF's state in this kernel (for this module and the harness, which plays the PnP and
    /// I/O managers on top of it).
    pub(crate) fn wdf(&self) -> &Mutex<WdfState> {
        &self.slot::<Wdf>().state
    }

    /// Notified when a request completes or leaves a queue.
    pub(crate) fn wdf_changed(&self) -> &Condvar {
        &self.slot::<Wdf>().changed
    }
}

impl WdfState {
    pub(crate) fn new_object(&mut self, kind: ObjectKind) -> usize {
        let handle = Box::into_raw(Box::new(0u64)) as usize;
        self.objects.insert(
            handle,
            WdfObject {
                kind,
                context: None,
                cleanup: None,
            },
        );
        handle
    }

    /// Removes an object and frees its handle and context memory; returns its cleanup callback.
    pub(crate) fn delete_object(&mut self, handle: usize) -> PFN_WDF_OBJECT_CONTEXT_CLEANUP {
        let object = self.objects.remove(&handle)?;
        if let Some(context) = object.context {
            // SAFETY: allocated in `attach_context` with this layout; removed with the object.
            unsafe { dealloc(context.memory as *mut u8, context.layout) };
        }
        // SAFETY: every handle came from Box::into_raw in `new_object` and is removed once.
        drop(unsafe { Box::from_raw(handle as *mut u64) });
        object.cleanup
    }

    pub(super) fn is(&self, handle: usize, kind: ObjectKind) -> bool {
        self.objects.get(&handle).is_some_and(|o| o.kind == kind)
    }
}

pub(super) fn bad_handle(kernel: &KernelState, routine: &str, handle: usize, kind: ObjectKind) {
    kernel.violate(
        rules::WDF_BAD_HANDLE,
        format!("{routine}({handle:#x}) is not a live {kind:?}"),
    );
}
