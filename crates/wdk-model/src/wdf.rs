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

/// Reads a UNICODE_STRING, checking its fields as FxValidateUnicodeString
/// (src/framework/shared/inc/private/common/fxvalidatefunctions.hpp) does: Length and
/// MaximumLength even, Buffer non-NULL when MaximumLength > 0, Length <= MaximumLength (the
/// framework's failure status for each is STATUS_INVALID_PARAMETER).
///
/// # Safety
/// `string` must be NULL or point to a UNICODE_STRING whose Buffer holds Length bytes.
pub(crate) unsafe fn read_unicode(string: PCUNICODE_STRING) -> Option<String> {
    // SAFETY: the caller's guarantee.
    let s = unsafe { string.as_ref() }?;
    if s.Length % 2 != 0
        || s.MaximumLength % 2 != 0
        || (s.MaximumLength > 0 && s.Buffer.is_null())
        || s.Length > s.MaximumLength
    {
        return None;
    }
    if s.Buffer.is_null() {
        return Some(String::new());
    }
    // SAFETY: the caller guarantees Buffer holds Length bytes.
    let units = unsafe { std::slice::from_raw_parts(s.Buffer, usize::from(s.Length / 2)) };
    String::from_utf16(units).ok()
}

/// Applies object attributes the way FxValidateObjectAttributes
/// (src/framework/shared/object/fxvalidatefunctions.cpp) checks them: Size (else
/// STATUS_INFO_LENGTH_MISMATCH), the context type record, ContextSizeOverride, ParentObject where
/// none is allowed (STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED), then the ExecutionLevel and
/// SynchronizationScope ranges (STATUS_WDF_OBJECT_ATTRIBUTES_INVALID; 0 is Invalid, which is
/// what a zeroed structure without WDF_OBJECT_ATTRIBUTES_INIT holds). Allocates the typed
/// context and records the cleanup callback. Returns the requested execution level (NULL
/// attributes: InheritFromParent), which the caller resolves against the parent.
///
/// # Safety
/// `attributes` must be NULL or point to WDF_OBJECT_ATTRIBUTES.
unsafe fn apply_attributes(
    kernel: &Kernel,
    state: &mut WdfState,
    routine: &str,
    handle: usize,
    attributes: PWDF_OBJECT_ATTRIBUTES,
    parent_allowed: bool,
) -> Result<WDF_EXECUTION_LEVEL, NTSTATUS> {
    // SAFETY: the caller's guarantee.
    let Some(attributes) = (unsafe { attributes.as_ref() }) else {
        return Ok(_WDF_EXECUTION_LEVEL::WdfExecutionLevelInheritFromParent);
    };
    let refuse = |status: NTSTATUS, why: String| {
        kernel.violate(rules::WDF_BAD_CONFIG, format!("{routine}: {why}"));
        Err(status)
    };
    if attributes.Size as usize != size_of::<WDF_OBJECT_ATTRIBUTES>() {
        return refuse(
            STATUS_INFO_LENGTH_MISMATCH,
            format!("WDF_OBJECT_ATTRIBUTES.Size is {}", attributes.Size),
        );
    }
    // SAFETY: a non-null ContextTypeInfo points at the driver's static type record.
    let info = unsafe { attributes.ContextTypeInfo.as_ref() };
    if let Some(info) = info {
        if info.Size as usize != size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() {
            return refuse(
                STATUS_INFO_LENGTH_MISMATCH,
                format!("WDF_OBJECT_CONTEXT_TYPE_INFO.Size is {}", info.Size),
            );
        }
        if info.ContextSize > 0 && info.ContextName.is_null() {
            return refuse(
                STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
                "a context type with a size needs a ContextName".into(),
            );
        }
    }
    if attributes.ContextSizeOverride > 0
        && info.is_none_or(|i| attributes.ContextSizeOverride < i.ContextSize)
    {
        return refuse(
            STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
            "ContextSizeOverride without a context type, or below its ContextSize".into(),
        );
    }
    if !parent_allowed && !attributes.ParentObject.is_null() {
        return refuse(
            STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED,
            "this object takes no ParentObject".into(),
        );
    }
    let level = attributes.ExecutionLevel;
    let scope = attributes.SynchronizationScope;
    if level == _WDF_EXECUTION_LEVEL::WdfExecutionLevelInvalid
        || level > _WDF_EXECUTION_LEVEL::WdfExecutionLevelDispatch
        || scope == _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeInvalid
        || scope > _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeNone
    {
        return refuse(
            STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
            format!(
                "ExecutionLevel {level} / SynchronizationScope {scope} out of range (0 is Invalid; WDF_OBJECT_ATTRIBUTES_INIT sets InheritFromParent)"
            ),
        );
    }
    if let Some(object) = state.objects.get_mut(&handle) {
        object.cleanup = attributes.EvtCleanupCallback;
        if let Some(info) = info {
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
    Ok(level)
}

/// Resolves InheritFromParent against the parent's effective level (FxDriver::Initialize,
/// FxDeviceBase::ConfigureConstraints, FxIoQueue::ConfigureConstraints): true for PASSIVE_LEVEL.
fn resolve_passive(level: WDF_EXECUTION_LEVEL, parent_passive: bool) -> bool {
    match level {
        _WDF_EXECUTION_LEVEL::WdfExecutionLevelPassive => true,
        _WDF_EXECUTION_LEVEL::WdfExecutionLevelDispatch => false,
        _ => parent_passive,
    }
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
    // fxdriverapi.cpp, WdfDriverCreate: the current size (the v1.1 size is the older layout
    // without DriverPoolTag, which this model does not take), then DriverInitFlags, then
    // "only one time per PDRIVER_OBJECT".
    if config.Size as usize != size_of::<WDF_DRIVER_CONFIG>() || DriverObject.is_null() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("WdfDriverCreate: WDF_DRIVER_CONFIG.Size is {}", config.Size),
        );
        return STATUS_INFO_LENGTH_MISMATCH;
    }
    // WdfDriverInitNonPnpDriver | WdfDriverInitNoDispatchOverride | WdfDriverInitCompanion.
    if config.DriverInitFlags & !0x13 != 0 || config.DriverInitFlags & 0x10 != 0 {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!(
                "WdfDriverCreate: DriverInitFlags {:#x} invalid (Companion is for UMDF companions)",
                config.DriverInitFlags
            ),
        );
        return STATUS_INVALID_PARAMETER;
    }
    if config.DriverInitFlags & 0x3 == 0x1 && config.EvtDriverDeviceAdd.is_some() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate: WdfDriverInitNonPnpDriver with an EvtDriverDeviceAdd",
        );
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller passes the system's registry path.
    if RegistryPath.is_null() || unsafe { read_unicode(RegistryPath) }.is_none() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate: malformed RegistryPath",
        );
        return STATUS_INVALID_PARAMETER;
    }
    let mut state = lock(&kernel.wdf);
    if state.driver.is_some() {
        drop(state);
        kernel.violate(rules::WDF_BAD_CONFIG, "WdfDriverCreate called twice");
        return STATUS_DRIVER_INTERNAL_ERROR;
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
            false,
        )
    } {
        // FxDriver's constructor: a kernel-mode driver defaults to WdfExecutionLevelDispatch.
        Ok(level) => state.driver_passive = resolve_passive(level, false),
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
    // fxdeviceinitapi.cpp, WdfDeviceInitAssignSDDLString: NULL clears the SDDL; otherwise only
    // FxValidateUnicodeString. The SDDL text itself is not parsed here, and the call may come
    // before or after WdfDeviceInitAssignName: WdfDeviceCreate checks both.
    if SDDLString.is_null() {
        return with_init("WdfDeviceInitAssignSDDLString", DeviceInit, |s| {
            s.sddl = None
        })
        .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS);
    }
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(sddl) = (unsafe { read_unicode(SDDLString) }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceInitAssignSDDLString with a malformed UNICODE_STRING",
        );
        return STATUS_INVALID_PARAMETER;
    };
    with_init("WdfDeviceInitAssignSDDLString", DeviceInit, |s| {
        s.sddl = Some(sddl)
    })
    .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS)
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
    // fxdeviceapi.cpp, WdfDeviceCreate: an SDDL needs a name (STATUS_INVALID_SECURITY_DESCR);
    // FxDevice::CreateDevice then hands it to IoCreateDeviceSecure (MxCreateDeviceSecure), which
    // is where the SDDL text is parsed and a malformed one fails the create.
    if let Some(sddl) = settings.sddl.as_deref() {
        let problem = if settings.name.is_none() {
            Some((
                STATUS_INVALID_SECURITY_DESCR,
                "an SDDL string but no WdfDeviceInitAssignName",
            ))
        } else if crate::sddl::parse(sddl).is_none() {
            Some((STATUS_INVALID_PARAMETER, "a malformed SDDL string"))
        } else {
            None
        };
        if let Some((status, why)) = problem {
            drop(state);
            kernel.violate(rules::WDF_BAD_CONFIG, format!("WdfDeviceCreate: {why}"));
            return status;
        }
    }
    let handle = state.new_object(ObjectKind::Device);
    // SAFETY: the driver passes NULL or attributes.
    let passive = match unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfDeviceCreate",
            handle,
            DeviceAttributes,
            false,
        )
    } {
        Ok(level) => resolve_passive(level, state.driver_passive),
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
        other_queues: Vec::new(),
        purging: false,
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
    let kernel = kernel::current();
    // fxdeviceapi.cpp, WdfDeviceCreateSymbolicLink: Length 0 is STATUS_INVALID_DEVICE_REQUEST,
    // then FxValidateUnicodeString, then a second link on the same device is
    // STATUS_INVALID_DEVICE_REQUEST. FxDevice::CreateSymbolicLink (fxdevicekm.cpp) links to
    // the device's name, or for an unnamed PnP device to its PDO's name; IoCreateSymbolicLink
    // fails an existing link name with STATUS_OBJECT_NAME_COLLISION.
    // SAFETY: the driver passes a UNICODE_STRING.
    if unsafe { SymbolicLinkName.as_ref() }.is_none_or(|s| s.Length == 0) {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceCreateSymbolicLink with an empty name",
        );
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(link) = (unsafe { read_unicode(SymbolicLinkName) }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceCreateSymbolicLink with a malformed UNICODE_STRING",
        );
        return STATUS_INVALID_PARAMETER;
    };
    let taken = lock(&kernel.wdf).devices.iter().any(|d| {
        d.symbolic_links
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&link))
    });
    if taken {
        return STATUS_OBJECT_NAME_COLLISION;
    }
    let result = with_device("WdfDeviceCreateSymbolicLink", Device, |d| {
        if !d.symbolic_links.is_empty() {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        d.symbolic_links.push(link.clone());
        STATUS_SUCCESS
    });
    let status = result.unwrap_or(STATUS_INVALID_HANDLE);
    if status == STATUS_INVALID_DEVICE_REQUEST {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("WdfDeviceCreateSymbolicLink({link}): the device already has a symbolic link"),
        );
    }
    if status == STATUS_SUCCESS {
        kernel.note(format!("KMDF: WdfDeviceCreateSymbolicLink: {link}"));
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
        let state = lock(&kernel.wdf);
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
    let mut state = lock(&kernel.wdf);
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
    if buffer.is_null() {
        // FxPointerNotNull: a verifier break, then the framework would write through NULL.
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("{routine} with a NULL Buffer pointer"),
        );
        return STATUS_INVALID_PARAMETER;
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
    let mut state = lock(&kernel.wdf);
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
    kernel.wdf_changed.notify_all();
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
    let mut state = lock(&kernel.wdf);
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
    kernel.wdf_changed.notify_all();
    STATUS_SUCCESS
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
    let mut state = lock(&kernel.wdf);
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

/// `WdfDeviceWdmGetDeviceObject`: the WDM device object KMDF created for the device
/// (FxDevice's m_DeviceObject; see crate::devobj for what the model does with it).
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceWdmGetDeviceObject(Device: WDFDEVICE) -> PDEVICE_OBJECT {
    let kernel = kernel::current();
    let live = lock(&kernel.wdf)
        .devices
        .iter()
        .any(|d| d.handle == Device as usize);
    if !live {
        kernel.violate(
            rules::WDF_BAD_HANDLE,
            format!(
                "WdfDeviceWdmGetDeviceObject({:#x}): not a live device",
                Device as usize
            ),
        );
        return core::ptr::null_mut();
    }
    crate::devobj::for_device(&kernel, Device as usize)
}
