//! KMDF plumbing: DriverEntry, the root-enumerated device (name, symbolic link, interface,
//! SDDL, secure open, buffered I/O, PASSIVE_LEVEL callbacks), its default queue, and unload.

use core::ptr::NonNull;

use wdk_sys::{
    _WDF_DEVICE_IO_TYPE, _WDF_EXECUTION_LEVEL, _WDF_IO_QUEUE_DISPATCH_TYPE,
    _WDF_SYNCHRONIZATION_SCOPE, _WDF_TRI_STATE, FILE_DEVICE_SECURE_OPEN, GUID, NTSTATUS,
    PCUNICODE_STRING, PDRIVER_OBJECT, PWDFDEVICE_INIT, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_SUCCESS, UNICODE_STRING, WDF_DRIVER_CONFIG, WDF_IO_QUEUE_CONFIG, WDF_OBJECT_ATTRIBUTES,
    WDFDEVICE, WDFDRIVER, WDFOBJECT, WDFQUEUE, call_unsafe_wdf_function_binding,
};
use wsk_sample_ioctl::{
    DEVICE_INTERFACE_GUID, DEVICE_NAME, DEVICE_SDDL, FILE_DEVICE_WSK_SAMPLE, POOL_TAG,
    SYMBOLIC_LINK_NAME,
};

use crate::context::{
    DEVICE_CONTEXT_TYPE, DRIVER_CONTEXT_TYPE, DeviceContext, DriverContext,
    RECEIVE_QUEUE_CONTEXT_TYPE, ReceiveQueueContext, context_of,
};
use crate::engine::{DEFAULT_SLOT_COUNT, Engine};
use crate::ioctl;
use crate::receive::Receiver;
use crate::trace::{Status, trace};
use crate::wdf_init::{
    ContextType, WDF_DRIVER_CONFIG_INIT, WDF_IO_QUEUE_CONFIG_INIT,
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE, WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE,
};
use crate::wsk::Family;

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

/// Attributes for the driver and device objects: their context type, and callbacks at
/// PASSIVE_LEVEL. KMDF's own default for a kernel-mode driver object is
/// WdfExecutionLevelDispatch (`fxdriver.cpp`, FxDriver's constructor); the device sets Passive
/// explicitly and the default queue inherits it, so EvtIoDeviceControl may wait.
fn object_attributes(context: &'static ContextType) -> WDF_OBJECT_ATTRIBUTES {
    let mut attributes = WDF_OBJECT_ATTRIBUTES::default();
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&mut attributes, context);
    attributes.ExecutionLevel = _WDF_EXECUTION_LEVEL::WdfExecutionLevelPassive;
    attributes.SynchronizationScope = _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeNone;
    attributes
}

/// The driver's entry point: creates the WDF driver object and the WSK engine. It never waits
/// for WSK: the provider is captured on the first send.
///
/// # Safety
/// Called by the system with its driver object and registry path.
pub unsafe extern "system" fn driver_entry(
    driver: PDRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    let mut config = WDF_DRIVER_CONFIG::default();
    WDF_DRIVER_CONFIG_INIT(&mut config, Some(evt_driver_device_add));
    config.EvtDriverUnload = Some(evt_driver_unload);
    config.DriverPoolTag = POOL_TAG;
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
        trace!(
            Error,
            "DriverEntry: WdfDriverCreate failed with {}",
            Status(status)
        );
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
            trace!(
                Info,
                "loaded (KMDF 1.31 driver, registered as a WSK client)"
            );
            STATUS_SUCCESS
        }
        Err(status) => {
            trace!(
                Error,
                "DriverEntry: the WSK engine could not start: {}",
                Status(status)
            );
            status
        }
    }
}

unsafe extern "C" fn evt_driver_device_add(driver: WDFDRIVER, init: PWDFDEVICE_INIT) -> NTSTATUS {
    match add_device(driver, init) {
        Ok(()) => {
            trace!(Info, "device ready: {DEVICE_NAME}, {SYMBOLIC_LINK_NAME}");
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// A framework call's status as a Result; a failure is printed with the call's name.
fn check(call: &str, status: NTSTATUS) -> Result<(), NTSTATUS> {
    if status < 0 {
        trace!(
            Error,
            "EvtDriverDeviceAdd: {call} failed with {}",
            Status(status)
        );
        Err(status)
    } else {
        Ok(())
    }
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
    // SAFETY: `init` is the framework's device init, not yet consumed by WdfDeviceCreate.
    unsafe {
        call_unsafe_wdf_function_binding!(WdfDeviceInitSetDeviceType, init, FILE_DEVICE_WSK_SAMPLE)
    };
    // SAFETY: `init` is the framework's device init, not yet consumed by WdfDeviceCreate.
    unsafe {
        call_unsafe_wdf_function_binding!(
            WdfDeviceInitSetIoType,
            init,
            _WDF_DEVICE_IO_TYPE::WdfDeviceIoBuffered
        )
    };
    // SAFETY: `init` is the framework's device init, not yet consumed by WdfDeviceCreate.
    unsafe {
        call_unsafe_wdf_function_binding!(
            WdfDeviceInitSetCharacteristics,
            init,
            FILE_DEVICE_SECURE_OPEN,
            1
        )
    };
    check(
        "WdfDeviceInitAssignName",
        // SAFETY: `init` not yet consumed (above); `name` points into a static.
        unsafe { call_unsafe_wdf_function_binding!(WdfDeviceInitAssignName, init, &name) },
    )?;
    check(
        "WdfDeviceInitAssignSDDLString",
        // SAFETY: `init` not yet consumed (above); `sddl` points into a static.
        unsafe { call_unsafe_wdf_function_binding!(WdfDeviceInitAssignSDDLString, init, &sddl) },
    )?;
    let mut attributes = object_attributes(&DEVICE_CONTEXT_TYPE);
    attributes.EvtCleanupCallback = Some(evt_device_cleanup);
    let mut device: WDFDEVICE = core::ptr::null_mut();
    // SAFETY: as above; on success the framework owns `init` and sets it to NULL.
    check("WdfDeviceCreate", unsafe {
        call_unsafe_wdf_function_binding!(WdfDeviceCreate, &mut init, &mut attributes, &mut device)
    })?;
    // SAFETY: the device was just created with a DeviceContext.
    let mut context = unsafe { context_of::<DeviceContext>(device.cast(), &DEVICE_CONTEXT_TYPE) }
        .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
    // SAFETY: our context, written before the queue exists (so before any request).
    unsafe { context.as_mut().engine = engine };
    // SAFETY: a live device; KMDF's WDM device object lives until the device is deleted,
    // after its cleanup callback (`evt_device_cleanup`) has detached it from the engine.
    let wdm_device =
        unsafe { call_unsafe_wdf_function_binding!(WdfDeviceWdmGetDeviceObject, device) };
    // SAFETY: the engine lives until EvtDriverUnload, after this device's cleanup.
    if let Some(engine) = unsafe { engine.as_ref() } {
        engine.attach_device(wdm_device);
    }
    let interface = GUID {
        Data1: DEVICE_INTERFACE_GUID.data1,
        Data2: DEVICE_INTERFACE_GUID.data2,
        Data3: DEVICE_INTERFACE_GUID.data3,
        Data4: DEVICE_INTERFACE_GUID.data4,
    };
    check(
        "WdfDeviceCreateSymbolicLink",
        // SAFETY: a live device; the link name lives in a static.
        unsafe { call_unsafe_wdf_function_binding!(WdfDeviceCreateSymbolicLink, device, &link) },
    )?;
    check(
        "WdfDeviceCreateDeviceInterface",
        // SAFETY: a live device; the GUID outlives the call.
        unsafe {
            call_unsafe_wdf_function_binding!(
                WdfDeviceCreateDeviceInterface,
                device,
                &interface,
                core::ptr::null()
            )
        },
    )?;
    let mut queue_config = WDF_IO_QUEUE_CONFIG::default();
    WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(
        &mut queue_config,
        _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel,
    );
    // Not power managed, deliberately. WdfUseDefault would make this queue power managed (the
    // device is not a filter: `fxioqueue.cpp`, FxIoQueue::Initialize), so KMDF would hold
    // requests while the device is in a low-power state and call EvtIoStop with
    // WdfRequestStopActionSuspend for every send in flight at each sleep transition. A root-
    // enumerated software device has no hardware whose power state could make an IOCTL unsafe,
    // and WSK keeps working while the device is "off", so the queue dispatches regardless and
    // EvtIoStop comes only when the queue is purged at removal.
    queue_config.PowerManaged = _WDF_TRI_STATE::WdfFalse;
    queue_config.EvtIoDeviceControl = Some(ioctl::evt_io_device_control);
    queue_config.EvtIoStop = Some(ioctl::evt_io_stop);
    let mut queue: WDFQUEUE = core::ptr::null_mut();
    // SAFETY: a live device and our queue config; the queue inherits PASSIVE_LEVEL execution.
    check("WdfIoQueueCreate", unsafe {
        call_unsafe_wdf_function_binding!(
            WdfIoQueueCreate,
            device,
            &mut queue_config,
            core::ptr::null_mut(),
            &mut queue
        )
    })?;
    // SAFETY: the engine was created in DriverEntry and outlives the device.
    let engine = unsafe { &*engine };
    for family in [Family::V4, Family::V6] {
        create_receive_queue(device, engine.receiver(family))?;
    }
    Ok(())
}

/// A manual queue where pended receive requests wait for a datagram (inverted call): the
/// driver forwards them here (WdfRequestForwardToIoQueue) and takes them out from the receive
/// path (WdfIoQueueRetrieveNextRequest). Not power managed, like the default queue. Requests
/// waiting here are the framework's: closing their handle cancels them
/// (FxIoQueue::FlushByFileObject), and so does the purge at removal. Its cleanup tells the
/// receiver to stop using it.
fn create_receive_queue(device: WDFDEVICE, receiver: &Receiver) -> Result<(), NTSTATUS> {
    let mut config = WDF_IO_QUEUE_CONFIG::default();
    WDF_IO_QUEUE_CONFIG_INIT(
        &mut config,
        _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchManual,
    );
    config.PowerManaged = _WDF_TRI_STATE::WdfFalse;
    let mut attributes = WDF_OBJECT_ATTRIBUTES::default();
    WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&mut attributes, &RECEIVE_QUEUE_CONTEXT_TYPE);
    attributes.EvtCleanupCallback = Some(evt_receive_queue_cleanup);
    let mut queue: WDFQUEUE = core::ptr::null_mut();
    // SAFETY: a live device, our config and attributes.
    check("WdfIoQueueCreate (receive)", unsafe {
        call_unsafe_wdf_function_binding!(
            WdfIoQueueCreate,
            device,
            &mut config,
            &mut attributes,
            &mut queue
        )
    })?;
    // SAFETY: the queue was just created with a ReceiveQueueContext.
    let mut context =
        unsafe { context_of::<ReceiveQueueContext>(queue.cast(), &RECEIVE_QUEUE_CONTEXT_TYPE) }
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
    // SAFETY: our context, written before the queue is published to the receiver.
    unsafe { context.as_mut().receiver = receiver };
    receiver.set_queue(queue);
    Ok(())
}

unsafe extern "C" fn evt_receive_queue_cleanup(object: WDFOBJECT) {
    // SAFETY: our receive queue, with its context, still live during cleanup.
    let Some(context) =
        (unsafe { context_of::<ReceiveQueueContext>(object, &RECEIVE_QUEUE_CONTEXT_TYPE) })
    else {
        return;
    };
    // SAFETY: our context, live during the queue's cleanup.
    let receiver = unsafe { context.as_ref() }.receiver;
    // SAFETY: the receiver lives in the engine, freed only in EvtDriverUnload.
    if let Some(receiver) = unsafe { receiver.as_ref() } {
        receiver.forget_queue();
    }
}

/// The device's EvtCleanupCallback: the engine's final closes and drain ([`Engine::shutdown`]),
/// while the device's WDM device object still exists, so that every control call's completion
/// routine holds a reference on it until it has returned.
///
/// KMDF's order on removal (Windows-Driver-Frameworks, src/framework/shared/irphandlers/pnp/
/// pnpstatemachine.cpp): FxPkgPnp::PnpEventRemovedCommonCode purges the non-power-managed
/// queues (FxPkgIo::StopProcessingForPower(FxIoStopProcessingForPowerPurgeNonManaged), which
/// returns once every request of such a queue is completed or cancelled: fxpkgio.cpp), then
/// runs EvtDeviceSelfManagedIoCleanup, then `m_Device->EarlyDispose()`, which calls this. The
/// WDM device object is deleted later, in FxDevice::Destroy (core/km/fxdevicekm.cpp:
/// Mx::MxDeleteDevice, i.e. IoDeleteDevice, noting that "the device object may not go away
/// right away if there are pending references on it"), and EvtDriverUnload comes only once the
/// driver's device objects are gone.
unsafe extern "C" fn evt_device_cleanup(object: WDFOBJECT) {
    // SAFETY: our device, with its DeviceContext.
    let Some(context) = (unsafe { context_of::<DeviceContext>(object, &DEVICE_CONTEXT_TYPE) })
    else {
        return;
    };
    // SAFETY: the context lives as long as the device, which outlives this callback.
    let engine = unsafe { context.as_ref() }.engine;
    // SAFETY: the engine outlives the device (freed in EvtDriverUnload); NULL if the device
    // never got one.
    if let Some(engine) = unsafe { engine.as_ref() } {
        engine.shutdown();
    }
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
        // SAFETY: the device is gone (KMDF removes devices before EvtDriverUnload, and its
        // cleanup shut the engine down), so nothing else uses the engine.
        unsafe { Engine::destroy(engine) };
    }
    trace!(Info, "unloaded");
}

const _: () = assert!(GUID_SIZE == 16);
const GUID_SIZE: usize = size_of::<GUID>();
