//! The KMDF header helpers the driver needs, ported from the KMDF 1.31 public headers
//! (`wdfdriver.h`, `wdfobject.h`, `wdfio.h`). They are `FORCEINLINE` C functions and macros,
//! so wdk-sys has none of them; every structure the driver hands to the framework starts here,
//! exactly as a C driver's would.
//!
//! Each port keeps the header's name and does what the header does, field for field, and the
//! golden tests at the bottom list every field each helper produces. A field the framework
//! reads but the helper leaves at zero is the bug this module exists to prevent: the default
//! queue was once built by hand with `Settings.Parallel.NumberOfPresentedRequests` left at 0,
//! and KMDF never presents a request to a parallel queue whose driver-owned count is at or
//! above that number (`fxioqueue.cpp`, `FxIoQueue::Initialize` and the dispatch loop), so on
//! Windows no IOCTL would ever have reached the driver.
//!
//! `WDF_STRUCTURE_SIZE(T)` is `sizeof(T)` here: the header only consults the framework's
//! structure table when the client was built for a newer KMDF than the one running it, and
//! KMDF 1.31 runs this 1.31 client (`wdffuncenum.h`).
#![allow(non_snake_case)]

use wdk_sys::{
    _WDF_EXECUTION_LEVEL, _WDF_IO_QUEUE_DISPATCH_TYPE, _WDF_SYNCHRONIZATION_SCOPE, _WDF_TRI_STATE,
    PFN_WDF_DRIVER_DEVICE_ADD, WDF_DRIVER_CONFIG, WDF_IO_QUEUE_CONFIG, WDF_IO_QUEUE_DISPATCH_TYPE,
    WDF_OBJECT_ATTRIBUTES, WDF_OBJECT_CONTEXT_TYPE_INFO, WDFOBJECT,
    call_unsafe_wdf_function_binding,
};

/// `WDF_DRIVER_CONFIG_INIT` (wdfdriver.h): zero the structure, set `Size` and
/// `EvtDriverDeviceAdd`.
pub fn WDF_DRIVER_CONFIG_INIT(
    Config: &mut WDF_DRIVER_CONFIG,
    EvtDriverDeviceAdd: PFN_WDF_DRIVER_DEVICE_ADD,
) {
    *Config = WDF_DRIVER_CONFIG::default();
    Config.Size = size_of::<WDF_DRIVER_CONFIG>() as u32;
    Config.EvtDriverDeviceAdd = EvtDriverDeviceAdd;
}

/// `WDF_OBJECT_ATTRIBUTES_INIT` (wdfobject.h): zero the structure, set `Size`, and inherit
/// the execution level and synchronization scope from the parent.
pub fn WDF_OBJECT_ATTRIBUTES_INIT(Attributes: &mut WDF_OBJECT_ATTRIBUTES) {
    *Attributes = WDF_OBJECT_ATTRIBUTES::default();
    Attributes.Size = size_of::<WDF_OBJECT_ATTRIBUTES>() as u32;
    Attributes.ExecutionLevel = _WDF_EXECUTION_LEVEL::WdfExecutionLevelInheritFromParent;
    Attributes.SynchronizationScope =
        _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeInheritFromParent;
}

/// `WDF_OBJECT_ATTRIBUTES_SET_CONTEXT_TYPE` (wdfobject.h): the attributes name the context
/// type's *unique* type record.
pub fn WDF_OBJECT_ATTRIBUTES_SET_CONTEXT_TYPE(
    Attributes: &mut WDF_OBJECT_ATTRIBUTES,
    TypeInfo: &'static ContextType,
) {
    Attributes.ContextTypeInfo = TypeInfo.0.UniqueType;
}

/// `WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE` (wdfobject.h): the two above, in that order.
pub fn WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(
    Attributes: &mut WDF_OBJECT_ATTRIBUTES,
    TypeInfo: &'static ContextType,
) {
    WDF_OBJECT_ATTRIBUTES_INIT(Attributes);
    WDF_OBJECT_ATTRIBUTES_SET_CONTEXT_TYPE(Attributes, TypeInfo);
}

/// `WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE` (wdfio.h): zero the structure, set `Size`,
/// `PowerManaged = WdfUseDefault`, `DefaultQueue = TRUE`, the dispatch type, and for a parallel
/// queue `Settings.Parallel.NumberOfPresentedRequests = (ULONG)-1` (no limit).
pub fn WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(
    Config: &mut WDF_IO_QUEUE_CONFIG,
    DispatchType: WDF_IO_QUEUE_DISPATCH_TYPE,
) {
    *Config = WDF_IO_QUEUE_CONFIG::default();
    Config.Size = size_of::<WDF_IO_QUEUE_CONFIG>() as u32;
    Config.PowerManaged = _WDF_TRI_STATE::WdfUseDefault;
    Config.DefaultQueue = 1;
    Config.DispatchType = DispatchType;
    if Config.DispatchType == _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel {
        Config.Settings.Parallel.NumberOfPresentedRequests = u32::MAX;
    }
}

/// `WDF_IO_QUEUE_CONFIG_INIT` (wdfio.h): as the default-queue form without `DefaultQueue`.
/// A manual queue keeps `Settings` zero (FxIoQueue::Initialize refuses a non-zero
/// NumberOfPresentedRequests on it).
pub fn WDF_IO_QUEUE_CONFIG_INIT(
    Config: &mut WDF_IO_QUEUE_CONFIG,
    DispatchType: WDF_IO_QUEUE_DISPATCH_TYPE,
) {
    *Config = WDF_IO_QUEUE_CONFIG::default();
    Config.Size = size_of::<WDF_IO_QUEUE_CONFIG>() as u32;
    Config.PowerManaged = _WDF_TRI_STATE::WdfUseDefault;
    Config.DispatchType = DispatchType;
    if Config.DispatchType == _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel {
        Config.Settings.Parallel.NumberOfPresentedRequests = u32::MAX;
    }
}

/// A context type record as `WDF_DECLARE_CONTEXT_TYPE_WITH_NAME` (wdfobject.h) declares one:
/// `{ sizeof(WDF_OBJECT_CONTEXT_TYPE_INFO), "<name>", sizeof(<type>), <itself>, NULL }`, in
/// static memory. Declare one with [`wdf_declare_context_type!`].
#[repr(transparent)]
pub struct ContextType(pub WDF_OBJECT_CONTEXT_TYPE_INFO);

// SAFETY: immutable static data; its pointers point at other static data.
unsafe impl Sync for ContextType {}

/// Declares a `static` [`ContextType`] for `$context`, named `$name`, whose `UniqueType`
/// points at itself, as `WDF_DECLARE_CONTEXT_TYPE_WITH_NAME` does.
macro_rules! wdf_declare_context_type {
    ($vis:vis $static:ident, $context:ty, $name:literal) => {
        $vis static $static: $crate::wdf_init::ContextType =
            $crate::wdf_init::ContextType(wdk_sys::WDF_OBJECT_CONTEXT_TYPE_INFO {
                Size: size_of::<wdk_sys::WDF_OBJECT_CONTEXT_TYPE_INFO>() as u32,
                ContextName: $name.as_ptr(),
                ContextSize: size_of::<$context>(),
                UniqueType: &raw const $static.0,
                EvtDriverGetUniqueContextType: None,
            });
    };
}
pub(crate) use wdf_declare_context_type;

/// The casting function `WDF_DECLARE_CASTING_FUNCTION` (wdfobject.h) generates:
/// `WdfObjectGetTypedContextWorker(Handle, <type info>->UniqueType)`. NULL if the object has
/// no context of that type.
///
/// # Safety
/// `Handle` must be a live framework object.
pub unsafe fn WdfObjectGetTypedContext(
    Handle: WDFOBJECT,
    TypeInfo: &'static ContextType,
) -> *mut core::ffi::c_void {
    // SAFETY: the caller's guarantee; the type record is static.
    unsafe {
        call_unsafe_wdf_function_binding!(
            WdfObjectGetTypedContextWorker,
            Handle,
            TypeInfo.0.UniqueType
        )
    }
}

#[cfg(test)]
mod tests {
    //! Golden values: what the C helpers produce, field by field, for Windows x64 (facts read
    //! from the KMDF 1.31 headers; the sizes are the x64 `sizeof` of each structure).
    use super::*;
    use wdk_sys::{NTSTATUS, PWDFDEVICE_INIT, WDFDRIVER};

    unsafe extern "C" fn device_add(_driver: WDFDRIVER, _init: PWDFDEVICE_INIT) -> NTSTATUS {
        0
    }

    struct Context {
        _value: [u64; 3],
    }
    wdf_declare_context_type!(TEST_CONTEXT, Context, c"TestContext");

    /// Fills a structure with a non-zero pattern, so a helper that forgets to zero a field
    /// is caught.
    fn dirty<T>(value: &mut T) {
        // SAFETY: the structures under test are plain C data; any byte pattern is a valid
        // bit pattern for their integer and pointer fields, and Option<fn> fields are
        // overwritten by every helper or read only as raw words below.
        unsafe { core::ptr::write_bytes(value as *mut T as *mut u8, 0xA5, size_of::<T>()) };
    }

    fn words<T>(value: &T) -> &[u8] {
        // SAFETY: reading the bytes of a plain C structure.
        unsafe { core::slice::from_raw_parts(value as *const T as *const u8, size_of::<T>()) }
    }

    #[test]
    fn driver_config_init() {
        let mut config = WDF_DRIVER_CONFIG::default();
        dirty(&mut config);
        WDF_DRIVER_CONFIG_INIT(&mut config, Some(device_add));
        assert_eq!(config.Size, 32);
        assert_eq!(
            config.EvtDriverDeviceAdd.map(|f| f as usize),
            Some(device_add as *const () as usize)
        );
        assert!(config.EvtDriverUnload.is_none());
        assert_eq!(config.DriverInitFlags, 0);
        assert_eq!(config.DriverPoolTag, 0);
        // Every byte but Size and EvtDriverDeviceAdd is zero (RtlZeroMemory), padding too.
        let bytes = words(&config);
        assert!(bytes[4..8].iter().chain(&bytes[16..]).all(|&b| b == 0));
    }

    #[test]
    fn object_attributes_init() {
        let mut attributes = WDF_OBJECT_ATTRIBUTES::default();
        dirty(&mut attributes);
        WDF_OBJECT_ATTRIBUTES_INIT(&mut attributes);
        assert_eq!(attributes.Size, 56);
        assert!(attributes.EvtCleanupCallback.is_none());
        assert!(attributes.EvtDestroyCallback.is_none());
        assert_eq!(
            attributes.ExecutionLevel, 1,
            "WdfExecutionLevelInheritFromParent"
        );
        assert_eq!(
            attributes.SynchronizationScope, 1,
            "WdfSynchronizationScopeInheritFromParent"
        );
        assert!(attributes.ParentObject.is_null());
        assert_eq!(attributes.ContextSizeOverride, 0);
        assert!(attributes.ContextTypeInfo.is_null());
        let bytes = words(&attributes);
        assert!(bytes[4..24].iter().chain(&bytes[32..]).all(|&b| b == 0));
    }

    #[test]
    fn object_attributes_init_context_type() {
        let mut attributes = WDF_OBJECT_ATTRIBUTES::default();
        dirty(&mut attributes);
        WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(&mut attributes, &TEST_CONTEXT);
        assert_eq!(attributes.Size, 56);
        assert_eq!(attributes.ExecutionLevel, 1);
        assert_eq!(attributes.SynchronizationScope, 1);
        assert_eq!(attributes.ContextSizeOverride, 0);
        // The unique type, which for a declared type is the record itself.
        assert_eq!(attributes.ContextTypeInfo, TEST_CONTEXT.0.UniqueType);
        assert_eq!(attributes.ContextTypeInfo, &raw const TEST_CONTEXT.0);
    }

    #[test]
    fn declared_context_type() {
        let info = &TEST_CONTEXT.0;
        assert_eq!(info.Size, 40);
        // SAFETY: a static C string.
        let name = unsafe { core::ffi::CStr::from_ptr(info.ContextName) };
        assert_eq!(name.to_str(), Ok("TestContext"));
        assert_eq!(info.ContextSize, 24);
        assert_eq!(info.UniqueType, info as *const _);
        assert!(info.EvtDriverGetUniqueContextType.is_none());
    }

    #[test]
    fn io_queue_config_init_default_queue_parallel() {
        let mut config = WDF_IO_QUEUE_CONFIG::default();
        dirty(&mut config);
        WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(
            &mut config,
            _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel,
        );
        assert_eq!(config.Size, 96);
        assert_eq!(config.DispatchType, 2, "WdfIoQueueDispatchParallel");
        assert_eq!(config.PowerManaged, 2, "WdfUseDefault");
        assert_eq!(config.AllowZeroLengthRequests, 0);
        assert_eq!(config.DefaultQueue, 1);
        assert!(config.EvtIoDefault.is_none());
        assert!(config.EvtIoRead.is_none());
        assert!(config.EvtIoWrite.is_none());
        assert!(config.EvtIoDeviceControl.is_none());
        assert!(config.EvtIoInternalDeviceControl.is_none());
        assert!(config.EvtIoStop.is_none());
        assert!(config.EvtIoResume.is_none());
        assert!(config.EvtIoCanceledOnQueue.is_none());
        // SAFETY: the union's only member.
        let presented = unsafe { config.Settings.Parallel.NumberOfPresentedRequests };
        assert_eq!(presented, u32::MAX, "(ULONG)-1: no limit");
        assert!(config.Driver.is_null());
        let bytes = words(&config);
        assert!(bytes[14..16].iter().chain(&bytes[84..88]).all(|&b| b == 0));
    }

    #[test]
    fn io_queue_config_init_default_queue_sequential() {
        let mut config = WDF_IO_QUEUE_CONFIG::default();
        dirty(&mut config);
        WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(
            &mut config,
            _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchSequential,
        );
        assert_eq!(config.DispatchType, 1, "WdfIoQueueDispatchSequential");
        assert_eq!(config.DefaultQueue, 1);
        // SAFETY: the union's only member.
        let presented = unsafe { config.Settings.Parallel.NumberOfPresentedRequests };
        assert_eq!(
            presented, 0,
            "only a parallel queue gets the no-limit value"
        );
    }
}
