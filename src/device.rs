//! KMDF plumbing: DriverEntry, the root-enumerated device (name, symbolic link, interface,
//! SDDL, secure open, buffered I/O, PASSIVE_LEVEL callbacks), its default queue, and unload.

use core::ptr::NonNull;

use wdk_sys::{
    _WDF_DEVICE_IO_TYPE, _WDF_EXECUTION_LEVEL, _WDF_IO_QUEUE_DISPATCH_TYPE,
    _WDF_SYNCHRONIZATION_SCOPE, _WDF_TRI_STATE, FILE_DEVICE_SECURE_OPEN, GUID, NTSTATUS,
    PCUNICODE_STRING, PDRIVER_OBJECT, PWDFDEVICE_INIT, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_SUCCESS, UNICODE_STRING, WDF_DRIVER_CONFIG, WDF_IO_QUEUE_CONFIG, WDF_OBJECT_ATTRIBUTES,
    WDF_OBJECT_CONTEXT_TYPE_INFO, WDFDEVICE, WDFDRIVER, WDFOBJECT, WDFQUEUE,
    call_unsafe_wdf_function_binding,
};
use wsk_sample_ioctl::{
    DEVICE_INTERFACE_GUID, DEVICE_NAME, DEVICE_SDDL, FILE_DEVICE_WSK_SAMPLE, POOL_TAG,
    SYMBOLIC_LINK_NAME,
};

use crate::engine::{DEFAULT_SLOT_COUNT, Engine};
use crate::ioctl;

/// Driver-wide state, in the WDFDRIVER's context.
struct DriverContext {
    engine: *mut Engine,
}

/// Per-device state, in the WDFDEVICE's context.
pub struct DeviceContext {
    pub engine: *mut Engine,
}

/// A context type record as WDF_DECLARE_CONTEXT_TYPE makes one: static, naming itself as the
/// unique type.
#[repr(transparent)]
struct ContextType(WDF_OBJECT_CONTEXT_TYPE_INFO);

// SAFETY: immutable static data; its pointers point at other static data.
unsafe impl Sync for ContextType {}

impl ContextType {
    fn info(&'static self) -> *const WDF_OBJECT_CONTEXT_TYPE_INFO {
        &self.0
    }
}

static DRIVER_CONTEXT_TYPE: ContextType = ContextType(WDF_OBJECT_CONTEXT_TYPE_INFO {
    Size: size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
    ContextName: c"WskSampleDriverContext".as_ptr(),
    ContextSize: size_of::<DriverContext>(),
    UniqueType: &raw const DRIVER_CONTEXT_TYPE.0,
    EvtDriverGetUniqueContextType: None,
});

static DEVICE_CONTEXT_TYPE: ContextType = ContextType(WDF_OBJECT_CONTEXT_TYPE_INFO {
    Size: size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
    ContextName: c"WskSampleDeviceContext".as_ptr(),
    ContextSize: size_of::<DeviceContext>(),
    UniqueType: &raw const DEVICE_CONTEXT_TYPE.0,
    EvtDriverGetUniqueContextType: None,
});

/// An ASCII string as UTF-16, at compile time, for UNICODE_STRINGs over static data. Only
/// evaluated in constants: an out-of-range index is a build error, never a runtime panic.
#[allow(clippy::indexing_slicing)]
const fn utf16<const N: usize>(text: &str) -> [u16; N] {
    let bytes = text.as_bytes();
    assert!(bytes.len() == N);
    let mut out = [0u16; N];
    let mut i = 0;
    while i < N {
        assert!(bytes[i].is_ascii());
        out[i] = bytes[i] as u16;
        i += 1;
    }
    out
}

static DEVICE_NAME_UTF16: [u16; DEVICE_NAME.len()] = utf16(DEVICE_NAME);
static SYMBOLIC_LINK_UTF16: [u16; SYMBOLIC_LINK_NAME.len()] = utf16(SYMBOLIC_LINK_NAME);
static SDDL_UTF16: [u16; DEVICE_SDDL.len()] = utf16(DEVICE_SDDL);

fn unicode_string(text: &'static [u16]) -> UNICODE_STRING {
    let bytes = (text.len() * 2) as u16;
    // The callee only reads through a PCUNICODE_STRING; the static is never written.
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: text.as_ptr().cast_mut(),
    }
}

fn object_attributes(context: &'static ContextType) -> WDF_OBJECT_ATTRIBUTES {
    WDF_OBJECT_ATTRIBUTES {
        Size: size_of::<WDF_OBJECT_ATTRIBUTES>() as u32,
        ExecutionLevel: _WDF_EXECUTION_LEVEL::WdfExecutionLevelPassive,
        SynchronizationScope: _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeNone,
        ContextTypeInfo: context.info(),
        ..WDF_OBJECT_ATTRIBUTES::default()
    }
}

/// The typed context of a WDF object.
///
/// # Safety
/// `object` must be live and carry a context of `context`'s type holding a `T`.
unsafe fn context_of<T>(object: WDFOBJECT, context: &'static ContextType) -> Option<NonNull<T>> {
    // SAFETY: the caller's guarantee.
    let memory = unsafe {
        call_unsafe_wdf_function_binding!(WdfObjectGetTypedContextWorker, object, context.info())
    };
    NonNull::new(memory.cast())
}

/// The engine behind a device's queue.
pub fn engine_of_queue(queue: WDFQUEUE) -> Option<&'static Engine> {
    // SAFETY: the framework passes a live queue of our device.
    let device = unsafe { call_unsafe_wdf_function_binding!(WdfIoQueueGetDevice, queue) };
    // SAFETY: our device carries a DeviceContext.
    let context = unsafe { context_of::<DeviceContext>(device.cast(), &DEVICE_CONTEXT_TYPE) }?;
    // SAFETY: the engine outlives the device (freed in EvtDriverUnload, after device removal).
    unsafe { context.as_ref().engine.as_ref() }
}

/// The driver's entry point: creates the WDF driver object and the WSK engine. It never waits
/// for WSK: the provider is captured on the first send.
///
/// # Safety
/// Called by the system with its driver object and registry path.
#[unsafe(export_name = "DriverEntry")]
pub unsafe extern "system" fn driver_entry(
    driver: PDRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    let mut config = WDF_DRIVER_CONFIG {
        Size: size_of::<WDF_DRIVER_CONFIG>() as u32,
        EvtDriverDeviceAdd: Some(evt_driver_device_add),
        EvtDriverUnload: Some(evt_driver_unload),
        DriverPoolTag: POOL_TAG,
        ..WDF_DRIVER_CONFIG::default()
    };
    let mut attributes = object_attributes(&DRIVER_CONTEXT_TYPE);
    let mut handle: WDFDRIVER = core::ptr::null_mut();
    // SAFETY: the system's driver object and registry path; our config and attributes.
    let status = unsafe {
        call_unsafe_wdf_function_binding!(
            WdfDriverCreate,
            driver,
            registry_path,
            &mut attributes,
            &mut config,
            &mut handle
        )
    };
    if status < 0 {
        return status;
    }
    // SAFETY: the driver object was just created with a DriverContext.
    let Some(mut context) =
        (unsafe { context_of::<DriverContext>(handle.cast(), &DRIVER_CONTEXT_TYPE) })
    else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    match Engine::create(DEFAULT_SLOT_COUNT) {
        Ok(engine) => {
            // SAFETY: our context, written once here before any callback can read it.
            unsafe { context.as_mut().engine = engine.as_ptr() };
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

unsafe extern "C" fn evt_driver_device_add(driver: WDFDRIVER, init: PWDFDEVICE_INIT) -> NTSTATUS {
    match add_device(driver, init) {
        Ok(()) => STATUS_SUCCESS,
        Err(status) => status,
    }
}

fn check(status: NTSTATUS) -> Result<(), NTSTATUS> {
    if status < 0 { Err(status) } else { Ok(()) }
}

fn add_device(driver: WDFDRIVER, mut init: PWDFDEVICE_INIT) -> Result<(), NTSTATUS> {
    // SAFETY: our driver object carries a DriverContext set in DriverEntry.
    let engine = unsafe { context_of::<DriverContext>(driver.cast(), &DRIVER_CONTEXT_TYPE) }
        .map(|c| {
            // SAFETY: as above.
            unsafe { c.as_ref().engine }
        })
        .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
    let name = unicode_string(&DEVICE_NAME_UTF16);
    let sddl = unicode_string(&SDDL_UTF16);
    let link = unicode_string(&SYMBOLIC_LINK_UTF16);
    // SAFETY: the framework's device init, used before WdfDeviceCreate consumes it; the
    // strings live in statics.
    unsafe {
        call_unsafe_wdf_function_binding!(WdfDeviceInitSetDeviceType, init, FILE_DEVICE_WSK_SAMPLE);
        call_unsafe_wdf_function_binding!(
            WdfDeviceInitSetIoType,
            init,
            _WDF_DEVICE_IO_TYPE::WdfDeviceIoBuffered
        );
        call_unsafe_wdf_function_binding!(
            WdfDeviceInitSetCharacteristics,
            init,
            FILE_DEVICE_SECURE_OPEN,
            1
        );
        check(call_unsafe_wdf_function_binding!(
            WdfDeviceInitAssignName,
            init,
            &name
        ))?;
        check(call_unsafe_wdf_function_binding!(
            WdfDeviceInitAssignSDDLString,
            init,
            &sddl
        ))?;
    }
    let mut attributes = object_attributes(&DEVICE_CONTEXT_TYPE);
    let mut device: WDFDEVICE = core::ptr::null_mut();
    // SAFETY: as above; on success the framework owns `init` and sets it to NULL.
    check(unsafe {
        call_unsafe_wdf_function_binding!(WdfDeviceCreate, &mut init, &mut attributes, &mut device)
    })?;
    // SAFETY: the device was just created with a DeviceContext.
    let mut context = unsafe { context_of::<DeviceContext>(device.cast(), &DEVICE_CONTEXT_TYPE) }
        .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
    // SAFETY: our context, written before the queue exists (so before any request).
    unsafe { context.as_mut().engine = engine };
    let interface = GUID {
        Data1: DEVICE_INTERFACE_GUID.data1,
        Data2: DEVICE_INTERFACE_GUID.data2,
        Data3: DEVICE_INTERFACE_GUID.data3,
        Data4: DEVICE_INTERFACE_GUID.data4,
    };
    // SAFETY: a live device; the name and GUID outlive the calls.
    unsafe {
        check(call_unsafe_wdf_function_binding!(
            WdfDeviceCreateSymbolicLink,
            device,
            &link
        ))?;
        check(call_unsafe_wdf_function_binding!(
            WdfDeviceCreateDeviceInterface,
            device,
            &interface,
            core::ptr::null()
        ))?;
    }
    let mut queue_config = WDF_IO_QUEUE_CONFIG {
        Size: size_of::<WDF_IO_QUEUE_CONFIG>() as u32,
        DispatchType: _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel,
        PowerManaged: _WDF_TRI_STATE::WdfFalse,
        DefaultQueue: 1,
        EvtIoDeviceControl: Some(ioctl::evt_io_device_control),
        EvtIoStop: Some(ioctl::evt_io_stop),
        ..WDF_IO_QUEUE_CONFIG::default()
    };
    // WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE (KMDF 1.31 wdfio.h) sets this to (ULONG)-1 for a
    // parallel queue: FxIoQueue::Initialize copies it into m_MaxParallelQueuePresentedRequests
    // and the dispatch loop presents nothing while m_DriverIoCount >= it, so 0 presents nothing.
    queue_config.Settings.Parallel.NumberOfPresentedRequests = u32::MAX;
    let mut queue: WDFQUEUE = core::ptr::null_mut();
    // SAFETY: a live device and our queue config; the queue inherits PASSIVE_LEVEL execution.
    check(unsafe {
        call_unsafe_wdf_function_binding!(
            WdfIoQueueCreate,
            device,
            &mut queue_config,
            core::ptr::null_mut(),
            &mut queue
        )
    })
}

unsafe extern "C" fn evt_driver_unload(driver: WDFDRIVER) {
    // SAFETY: our driver object with its DriverContext.
    let Some(mut context) =
        (unsafe { context_of::<DriverContext>(driver.cast(), &DRIVER_CONTEXT_TYPE) })
    else {
        return;
    };
    // SAFETY: our context; the engine is taken out so it is destroyed once.
    let engine = unsafe { core::mem::replace(&mut context.as_mut().engine, core::ptr::null_mut()) };
    if let Some(engine) = NonNull::new(engine) {
        // SAFETY: the device is gone (KMDF removes devices before EvtDriverUnload), so nothing
        // else uses the engine.
        unsafe { Engine::destroy(engine) };
    }
}

const _: () = assert!(GUID_SIZE == 16);
const GUID_SIZE: usize = size_of::<GUID>();
