//! The KMDF subset the driver uses, callable through `call_unsafe_wdf_function_binding!` with
//! the same arguments as the real table functions (without the DriverGlobals argument).
#![allow(non_snake_case)]

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::HashMap;

use crate::constants::*;
use crate::kernel::{self, Kernel, lock, rules};
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
}

pub(crate) struct QueueRecord {
    pub device: usize,
    pub device_control: PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL,
    pub io_stop: PFN_WDF_IO_QUEUE_IO_STOP,
}

pub(crate) struct RequestRecord {
    /// The METHOD_BUFFERED system buffer: input and output share it, as on Windows.
    pub buffer: Vec<u8>,
    pub input_len: usize,
    pub output_len: usize,
    pub completion: Option<(NTSTATUS, u64)>,
    /// The queue that presented it (for EvtIoStop at device removal).
    pub queue: usize,
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

    fn is(&self, handle: usize, kind: ObjectKind) -> bool {
        self.objects.get(&handle).is_some_and(|o| o.kind == kind)
    }
}

fn bad_handle(kernel: &Kernel, routine: &str, handle: usize, kind: ObjectKind) {
    kernel.violate(
        rules::WDF_BAD_HANDLE,
        format!("{routine}({handle:#x}) is not a live {kind:?}"),
    );
}

/// Reads a UNICODE_STRING, checking its fields the way the framework does.
///
/// # Safety
/// `string` must be NULL or point to a UNICODE_STRING whose Buffer holds Length bytes.
pub(crate) unsafe fn read_unicode(string: PCUNICODE_STRING) -> Option<String> {
    // SAFETY: the caller's guarantee.
    let s = unsafe { string.as_ref() }?;
    if s.Buffer.is_null() || s.Length % 2 != 0 || s.Length > s.MaximumLength {
        return None;
    }
    // SAFETY: the caller guarantees Buffer holds Length bytes.
    let units = unsafe { std::slice::from_raw_parts(s.Buffer, usize::from(s.Length / 2)) };
    String::from_utf16(units).ok()
}

/// Applies object attributes: validates Size, allocates the typed context, records cleanup.
/// Returns whether the attributes ask for PASSIVE_LEVEL callbacks.
///
/// # Safety
/// `attributes` must be NULL or point to WDF_OBJECT_ATTRIBUTES.
unsafe fn apply_attributes(
    kernel: &Kernel,
    state: &mut WdfState,
    routine: &str,
    handle: usize,
    attributes: PWDF_OBJECT_ATTRIBUTES,
) -> Result<Option<bool>, NTSTATUS> {
    // SAFETY: the caller's guarantee.
    let Some(attributes) = (unsafe { attributes.as_ref() }) else {
        return Ok(None);
    };
    if attributes.Size as usize != size_of::<WDF_OBJECT_ATTRIBUTES>() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!(
                "{routine}: WDF_OBJECT_ATTRIBUTES.Size is {}",
                attributes.Size
            ),
        );
        return Err(STATUS_INFO_LENGTH_MISMATCH);
    }
    if attributes.ExecutionLevel == _WDF_EXECUTION_LEVEL::WdfExecutionLevelInvalid
        || attributes.SynchronizationScope
            == _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeInvalid
    {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("{routine}: ExecutionLevel/SynchronizationScope left at 0 (Invalid); WDF_OBJECT_ATTRIBUTES_INIT sets them to InheritFromParent"),
        );
        return Err(STATUS_INVALID_PARAMETER);
    }
    let passive = attributes.ExecutionLevel == _WDF_EXECUTION_LEVEL::WdfExecutionLevelPassive;
    if let Some(object) = state.objects.get_mut(&handle) {
        object.cleanup = attributes.EvtCleanupCallback;
        // SAFETY: a non-null ContextTypeInfo points at the driver's static type record.
        if let Some(info) = unsafe { attributes.ContextTypeInfo.as_ref() } {
            let size = info.ContextSize.max(attributes.ContextSizeOverride).max(1);
            let Ok(layout) = Layout::from_size_align(size, 16) else {
                return Err(STATUS_INVALID_PARAMETER);
            };
            // SAFETY: nonzero size.
            let memory = unsafe { alloc_zeroed(layout) };
            if memory.is_null() {
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            object.context = Some(ObjectContext {
                type_key: type_key(attributes.ContextTypeInfo),
                memory: memory as usize,
                layout,
            });
        }
    }
    Ok(Some(passive))
}

fn type_key(info: PCWDF_OBJECT_CONTEXT_TYPE_INFO) -> usize {
    // SAFETY: a non-null type record is the driver's static data.
    match unsafe { info.as_ref() } {
        Some(record) if !record.UniqueType.is_null() => record.UniqueType as usize,
        _ => info as usize,
    }
}

/// `WdfDriverCreate`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDriverCreate(
    DriverObject: PDRIVER_OBJECT,
    RegistryPath: PCUNICODE_STRING,
    DriverAttributes: PWDF_OBJECT_ATTRIBUTES,
    DriverConfig: PWDF_DRIVER_CONFIG,
    Driver: *mut WDFDRIVER,
) -> NTSTATUS {
    let kernel = kernel::current();
    let _ = RegistryPath;
    if !kernel::require_irql(&kernel, "WdfDriverCreate", kernel::PASSIVE) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: the driver passes its config.
    let Some(config) = (unsafe { DriverConfig.as_ref() }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate without a WDF_DRIVER_CONFIG",
        );
        return STATUS_INVALID_PARAMETER;
    };
    if config.Size as usize != size_of::<WDF_DRIVER_CONFIG>() || DriverObject.is_null() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("WdfDriverCreate: WDF_DRIVER_CONFIG.Size is {}", config.Size),
        );
        return STATUS_INFO_LENGTH_MISMATCH;
    }
    if config.EvtDriverDeviceAdd.is_none() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate: a PnP driver needs EvtDriverDeviceAdd",
        );
        return STATUS_INVALID_PARAMETER;
    }
    let mut state = lock(&kernel.wdf);
    if state.driver.is_some() {
        drop(state);
        kernel.violate(rules::WDF_BAD_CONFIG, "WdfDriverCreate called twice");
        return STATUS_INVALID_DEVICE_STATE;
    }
    let handle = state.new_object(ObjectKind::Driver);
    // SAFETY: the driver passes NULL or attributes.
    match unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfDriverCreate",
            handle,
            DriverAttributes,
        )
    } {
        Ok(passive) => state.driver_passive = passive.unwrap_or(false),
        Err(status) => {
            state.delete_object(handle);
            return status;
        }
    }
    state.driver = Some(handle);
    state.device_add = config.EvtDriverDeviceAdd;
    state.unload = config.EvtDriverUnload;
    drop(state);
    if !Driver.is_null() {
        // SAFETY: the driver passes a place for the handle.
        unsafe { *Driver = handle as WDFDRIVER };
    }
    kernel.note("KMDF: WdfDriverCreate: driver object created");
    STATUS_SUCCESS
}

fn with_init<R>(
    routine: &str,
    init: PWDFDEVICE_INIT,
    f: impl FnOnce(&mut DeviceSettings) -> R,
) -> Option<R> {
    let kernel = kernel::current();
    let mut state = lock(&kernel.wdf);
    match state.device_inits.get_mut(&(init as usize)) {
        Some(settings) => Some(f(settings)),
        None => {
            drop(state);
            bad_handle(&kernel, routine, init as usize, ObjectKind::DeviceInit);
            None
        }
    }
}

/// `WdfDeviceInitAssignName`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceInitAssignName(
    DeviceInit: PWDFDEVICE_INIT,
    DeviceName: PCUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(name) = (unsafe { read_unicode(DeviceName) }) else {
        kernel::current().violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceInitAssignName with a malformed UNICODE_STRING",
        );
        return STATUS_INVALID_PARAMETER;
    };
    with_init("WdfDeviceInitAssignName", DeviceInit, |s| {
        s.name = Some(name)
    })
    .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS)
}

/// `WdfDeviceInitAssignSDDLString`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceInitAssignSDDLString(
    DeviceInit: PWDFDEVICE_INIT,
    SDDLString: PCUNICODE_STRING,
) -> NTSTATUS {
    let kernel = kernel::current();
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(sddl) =
        (unsafe { read_unicode(SDDLString) }).filter(|s| crate::sddl::parse(s).is_some())
    else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceInitAssignSDDLString with a malformed SDDL string",
        );
        return STATUS_INVALID_PARAMETER;
    };
    let named = with_init("WdfDeviceInitAssignSDDLString", DeviceInit, |s| {
        let named = s.name.is_some();
        s.sddl = Some(sddl);
        named
    });
    match named {
        None => STATUS_INVALID_HANDLE,
        Some(false) => {
            kernel.violate(
                rules::WDF_BAD_CONFIG,
                "WdfDeviceInitAssignSDDLString before WdfDeviceInitAssignName",
            );
            STATUS_INVALID_DEVICE_REQUEST
        }
        Some(true) => STATUS_SUCCESS,
    }
}

/// `WdfDeviceInitSetCharacteristics`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceInitSetCharacteristics(
    DeviceInit: PWDFDEVICE_INIT,
    DeviceCharacteristics: ULONG,
    OrInValues: BOOLEAN,
) {
    with_init("WdfDeviceInitSetCharacteristics", DeviceInit, |s| {
        s.characteristics = if OrInValues != 0 {
            s.characteristics | DeviceCharacteristics
        } else {
            DeviceCharacteristics
        };
    });
}

/// `WdfDeviceInitSetIoType`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceInitSetIoType(DeviceInit: PWDFDEVICE_INIT, IoType: WDF_DEVICE_IO_TYPE) {
    with_init("WdfDeviceInitSetIoType", DeviceInit, |s| s.io_type = IoType);
}

/// `WdfDeviceInitSetDeviceType`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceInitSetDeviceType(DeviceInit: PWDFDEVICE_INIT, DeviceType: DEVICE_TYPE) {
    with_init("WdfDeviceInitSetDeviceType", DeviceInit, |s| {
        s.device_type = DeviceType
    });
}

/// `WdfDeviceCreate`: consumes the WDFDEVICE_INIT (sets `*DeviceInit` to NULL on success).
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceCreate(
    DeviceInit: *mut PWDFDEVICE_INIT,
    DeviceAttributes: PWDF_OBJECT_ATTRIBUTES,
    Device: *mut WDFDEVICE,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfDeviceCreate", kernel::PASSIVE) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: the driver passes the address of its PWDFDEVICE_INIT.
    let init = unsafe { DeviceInit.as_ref() }.map_or(0, |p| *p as usize);
    let mut state = lock(&kernel.wdf);
    let Some(settings) = state.device_inits.get(&init).cloned() else {
        drop(state);
        bad_handle(&kernel, "WdfDeviceCreate", init, ObjectKind::DeviceInit);
        return STATUS_INVALID_PARAMETER;
    };
    let handle = state.new_object(ObjectKind::Device);
    // SAFETY: the driver passes NULL or attributes.
    let passive = match unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfDeviceCreate",
            handle,
            DeviceAttributes,
        )
    } {
        Ok(passive) => passive.unwrap_or(state.driver_passive),
        Err(status) => {
            state.delete_object(handle);
            return status;
        }
    };
    state.device_inits.remove(&init);
    state.objects.remove(&init);
    // SAFETY: the DeviceInit handle came from Box::into_raw in `new_object`.
    drop(unsafe { Box::from_raw(init as *mut u64) });
    state.devices.push(DeviceRecord {
        handle,
        settings,
        passive,
        symbolic_links: Vec::new(),
        interfaces: Vec::new(),
        default_queue: None,
    });
    drop(state);
    // SAFETY: the driver passes writable places for both.
    unsafe {
        *DeviceInit = core::ptr::null_mut();
        *Device = handle as WDFDEVICE;
    }
    kernel.note("KMDF: WdfDeviceCreate: device object created");
    STATUS_SUCCESS
}

fn with_device<R>(
    routine: &str,
    device: WDFDEVICE,
    f: impl FnOnce(&mut DeviceRecord) -> R,
) -> Option<R> {
    let kernel = kernel::current();
    let mut state = lock(&kernel.wdf);
    match state
        .devices
        .iter_mut()
        .find(|d| d.handle == device as usize)
    {
        Some(record) => Some(f(record)),
        None => {
            drop(state);
            bad_handle(&kernel, routine, device as usize, ObjectKind::Device);
            None
        }
    }
}

/// `WdfDeviceCreateSymbolicLink`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceCreateSymbolicLink(
    Device: WDFDEVICE,
    SymbolicLinkName: PCUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(link) = (unsafe { read_unicode(SymbolicLinkName) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let result = with_device("WdfDeviceCreateSymbolicLink", Device, |d| {
        if d.settings.name.is_none() {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        d.symbolic_links.push(link.clone());
        STATUS_SUCCESS
    });
    let status = result.unwrap_or(STATUS_INVALID_HANDLE);
    if status == STATUS_SUCCESS {
        kernel::current().note(format!("KMDF: WdfDeviceCreateSymbolicLink: {link}"));
    }
    status
}

/// `WdfDeviceCreateDeviceInterface`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceCreateDeviceInterface(
    Device: WDFDEVICE,
    InterfaceClassGUID: *const GUID,
    ReferenceString: PCUNICODE_STRING,
) -> NTSTATUS {
    let _ = ReferenceString;
    // SAFETY: the driver passes a GUID.
    let Some(guid) = (unsafe { InterfaceClassGUID.as_ref() }).copied() else {
        return STATUS_INVALID_PARAMETER;
    };
    with_device("WdfDeviceCreateDeviceInterface", Device, |d| {
        d.interfaces.push(guid)
    })
    .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS)
}

/// `WdfIoQueueCreate`. The model supports the device's default queue.
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
    // SAFETY: the driver passes its config.
    let Some(config) = (unsafe { Config.as_ref() }) else {
        return STATUS_INVALID_PARAMETER;
    };
    if config.Size as usize != size_of::<WDF_IO_QUEUE_CONFIG>() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!(
                "WdfIoQueueCreate: WDF_IO_QUEUE_CONFIG.Size is {}",
                config.Size
            ),
        );
        return STATUS_INFO_LENGTH_MISMATCH;
    }
    if config.DispatchType != _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!(
                "WdfIoQueueCreate: DispatchType {} (the model supports parallel default queues)",
                config.DispatchType
            ),
        );
        return STATUS_INVALID_PARAMETER;
    }
    if config.DefaultQueue == 0 {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfIoQueueCreate: the model supports the default queue only",
        );
        return STATUS_INVALID_PARAMETER;
    }
    let mut state = lock(&kernel.wdf);
    let device = Device as usize;
    if !state.is(device, ObjectKind::Device) {
        drop(state);
        bad_handle(&kernel, "WdfIoQueueCreate", device, ObjectKind::Device);
        return STATUS_INVALID_HANDLE;
    }
    let handle = state.new_object(ObjectKind::Queue);
    // SAFETY: the driver passes NULL or attributes.
    if let Err(status) = unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfIoQueueCreate",
            handle,
            QueueAttributes,
        )
    } {
        state.delete_object(handle);
        return status;
    }
    state.queues.insert(
        handle,
        QueueRecord {
            device,
            device_control: config.EvtIoDeviceControl,
            io_stop: config.EvtIoStop,
        },
    );
    if let Some(record) = state.devices.iter_mut().find(|d| d.handle == device) {
        record.default_queue = Some(handle);
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
    let device = lock(&kernel.wdf)
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

/// `WdfObjectGetTypedContextWorker`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfObjectGetTypedContextWorker(
    Handle: WDFOBJECT,
    TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> PVOID {
    let kernel = kernel::current();
    let state = lock(&kernel.wdf);
    let found = state
        .objects
        .get(&(Handle as usize))
        .map(|o| o.context.as_ref().map(|c| (c.type_key, c.memory)));
    drop(state);
    match found {
        Some(Some((key, memory))) if key == type_key(TypeInfo) => memory as PVOID,
        Some(_) => {
            kernel.violate(
                rules::WDF_BAD_HANDLE,
                format!(
                    "WdfObjectGetTypedContextWorker({:#x}): the object has no context of that type",
                    Handle as usize
                ),
            );
            core::ptr::null_mut()
        }
        None => {
            kernel.violate(
                rules::WDF_BAD_HANDLE,
                format!(
                    "WdfObjectGetTypedContextWorker({:#x}): not a live object",
                    Handle as usize
                ),
            );
            core::ptr::null_mut()
        }
    }
}

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
    let mut state = lock(&kernel.wdf);
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
    if available == 0 || available < minimum {
        return STATUS_BUFFER_TOO_SMALL;
    }
    if buffer.is_null() {
        return STATUS_INVALID_PARAMETER;
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
    let mut state = lock(&kernel.wdf);
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
    if Status >= 0 && Information > record.output_len as u64 {
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
    kernel.wdf_changed.notify_all();
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
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfRequestStopAcknowledge(Request: WDFREQUEST, Requeue: BOOLEAN) {
    let _ = Requeue;
    let kernel = kernel::current();
    if !lock(&kernel.wdf).requests.contains_key(&(Request as usize)) {
        bad_handle(
            &kernel,
            "WdfRequestStopAcknowledge",
            Request as usize,
            ObjectKind::Request,
        );
    }
}
