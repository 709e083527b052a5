//! The kernel model's kernel types, spelled exactly as wdk-sys's bindgen output spells them
//! (Windows x64 layouts).
//!
//! Only the items the driver uses exist here. Field names, nesting (`__bindgen_anon_N`) and
//! integer types follow the real bindings so that driver code compiles unchanged on both.
//!
//! Plain data only, no behaviour: this is the bottom crate of the model, re-exported at the root
//! of `wdk-model` (and as its `crate::types`), and named as `wdk_sys` off Windows by the WSK ABI
//! crate (`wsk-abi`), which the model itself depends on. See docs/ARCHITECTURE.md, "Crates".
#![no_std]
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    missing_docs
)]

use core::ffi::c_void;

pub type NTSTATUS = i32;
pub type ULONG = u32;
pub type LONG = i32;
pub type USHORT = u16;
pub type CSHORT = i16;
pub type UCHAR = u8;
pub type CHAR = i8;
pub type CCHAR = i8;
pub type LONGLONG = i64;
pub type ULONG64 = u64;
pub type ULONG_PTR = u64;
pub type SIZE_T = ULONG_PTR;
pub type BOOLEAN = u8;
pub type PVOID = *mut c_void;
pub type WCHAR = u16;
pub type PWCH = *mut WCHAR;
pub type PCHAR = *mut CHAR;
pub type LPCSTR = *const CHAR;
pub type PCSTR = *const CHAR;
pub type KIRQL = UCHAR;
pub type PKIRQL = *mut KIRQL;
pub type KPROCESSOR_MODE = CCHAR;
pub type KPRIORITY = LONG;
pub type POOL_FLAGS = ULONG64;
pub type KSPIN_LOCK = ULONG_PTR;
pub type PKSPIN_LOCK = *mut KSPIN_LOCK;
pub type DEVICE_TYPE = ULONG;

/// bindgen's `derive_default` zero-fills every struct and union.
macro_rules! zeroed_default {
    ($($ty:ty),* $(,)?) => {$(
        impl Default for $ty {
            fn default() -> Self {
                // SAFETY: every field of these C structures (integers, raw pointers, `Option`
                // of function pointers, unions of those) is valid when all bits are zero.
                unsafe { core::mem::zeroed() }
            }
        }
    )*};
}

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _LIST_ENTRY {
    pub Flink: *mut _LIST_ENTRY,
    pub Blink: *mut _LIST_ENTRY,
}
pub type LIST_ENTRY = _LIST_ENTRY;

#[repr(C)]
#[derive(Copy, Clone)]
pub union _LARGE_INTEGER {
    pub __bindgen_anon_1: _LARGE_INTEGER__bindgen_ty_1,
    pub QuadPart: LONGLONG,
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _LARGE_INTEGER__bindgen_ty_1 {
    pub LowPart: ULONG,
    pub HighPart: LONG,
}
pub type LARGE_INTEGER = _LARGE_INTEGER;
pub type PLARGE_INTEGER = *mut LARGE_INTEGER;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _UNICODE_STRING {
    pub Length: USHORT,
    pub MaximumLength: USHORT,
    pub Buffer: PWCH,
}
pub type UNICODE_STRING = _UNICODE_STRING;
pub type PUNICODE_STRING = *mut UNICODE_STRING;
pub type PCUNICODE_STRING = *const UNICODE_STRING;

#[repr(C)]
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub struct _GUID {
    pub Data1: ULONG,
    pub Data2: USHORT,
    pub Data3: USHORT,
    pub Data4: [UCHAR; 8],
}
pub type GUID = _GUID;

// ---------------------------------------------------------------------------------------------
// I/O status, IRP, stack location, MDL
// ---------------------------------------------------------------------------------------------

#[repr(C)]
#[derive(Copy, Clone)]
pub union _IO_STATUS_BLOCK__bindgen_ty_1 {
    pub Status: NTSTATUS,
    pub Pointer: PVOID,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _IO_STATUS_BLOCK {
    pub __bindgen_anon_1: _IO_STATUS_BLOCK__bindgen_ty_1,
    pub Information: ULONG_PTR,
}
pub type IO_STATUS_BLOCK = _IO_STATUS_BLOCK;
pub type PIO_STATUS_BLOCK = *mut IO_STATUS_BLOCK;

/// Opaque kernel objects the driver only ever holds pointers to.
#[repr(C)]
pub struct _DEVICE_OBJECT {
    _opaque: [u8; 0],
}
pub type DEVICE_OBJECT = _DEVICE_OBJECT;
pub type PDEVICE_OBJECT = *mut DEVICE_OBJECT;
#[repr(C)]
pub struct _FILE_OBJECT {
    _opaque: [u8; 0],
}
pub type PFILE_OBJECT = *mut _FILE_OBJECT;
#[repr(C)]
pub struct _EPROCESS {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct _KPROCESS {
    _opaque: [u8; 0],
}
/// ntifs.h makes PEPROCESS a `_KPROCESS` pointer; the MDL names `_EPROCESS` directly.
pub type PEPROCESS = *mut _KPROCESS;
#[repr(C)]
pub struct _ETHREAD {
    _opaque: [u8; 0],
}
pub type PETHREAD = *mut _ETHREAD;

/// The driver object handed to DriverEntry. The model never lets the driver see its fields, so
/// only its real size is kept.
#[repr(C)]
pub struct _DRIVER_OBJECT {
    _opaque: [u64; 42],
}
pub type DRIVER_OBJECT = _DRIVER_OBJECT;
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;

pub type PIO_COMPLETION_ROUTINE = Option<
    unsafe extern "C" fn(DeviceObject: PDEVICE_OBJECT, Irp: *mut _IRP, Context: PVOID) -> NTSTATUS,
>;
pub type PDRIVER_CANCEL =
    Option<unsafe extern "C" fn(DeviceObject: PDEVICE_OBJECT, Irp: *mut _IRP)>;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _MDL {
    pub Next: *mut _MDL,
    pub Size: CSHORT,
    pub MdlFlags: CSHORT,
    pub Process: *mut _EPROCESS,
    pub MappedSystemVa: PVOID,
    pub StartVa: PVOID,
    pub ByteCount: ULONG,
    pub ByteOffset: ULONG,
}
pub type MDL = _MDL;
pub type PMDL = *mut MDL;

#[repr(C)]
#[derive(Copy, Clone)]
pub union _IRP__bindgen_ty_1 {
    pub MasterIrp: *mut _IRP,
    pub IrpCount: LONG,
    pub SystemBuffer: PVOID,
}

#[repr(C)]
#[derive(Copy, Clone)]
pub union _IRP__bindgen_ty_2 {
    pub UserIosb: PIO_STATUS_BLOCK,
    pub IoRingContext: PVOID,
}

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _IRP__bindgen_ty_3__bindgen_ty_1 {
    pub UserApcRoutine: PVOID,
    pub UserApcContext: PVOID,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _IRP__bindgen_ty_3 {
    pub AsynchronousParameters: _IRP__bindgen_ty_3__bindgen_ty_1,
    pub AllocationSize: LARGE_INTEGER,
}

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1 {
    pub DriverContext: [PVOID; 4],
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_1 {
    pub DeviceQueueEntry: [u64; 3],
    pub __bindgen_anon_1: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2__bindgen_ty_1 {
    pub CurrentStackLocation: *mut _IO_STACK_LOCATION,
    pub PacketType: ULONG,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2 {
    pub ListEntry: LIST_ENTRY,
    pub __bindgen_anon_1: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2__bindgen_ty_1,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _IRP__bindgen_ty_4__bindgen_ty_1 {
    pub __bindgen_anon_1: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_1,
    pub Thread: PETHREAD,
    pub AuxiliaryBuffer: PCHAR,
    pub __bindgen_anon_2: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2,
    pub OriginalFileObject: PFILE_OBJECT,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _IRP__bindgen_ty_4 {
    pub Overlay: _IRP__bindgen_ty_4__bindgen_ty_1,
    /// A KAPC (88 bytes on x64); the driver never uses it.
    pub Apc: [u64; 11],
    pub CompletionKey: PVOID,
}

#[repr(C, align(16))]
#[derive(Copy, Clone)]
pub struct _IRP {
    pub Type: CSHORT,
    pub Size: USHORT,
    pub MdlAddress: PMDL,
    pub Flags: ULONG,
    pub AssociatedIrp: _IRP__bindgen_ty_1,
    pub ThreadListEntry: LIST_ENTRY,
    pub IoStatus: IO_STATUS_BLOCK,
    pub RequestorMode: KPROCESSOR_MODE,
    pub PendingReturned: BOOLEAN,
    pub StackCount: CHAR,
    pub CurrentLocation: CHAR,
    pub Cancel: BOOLEAN,
    pub CancelIrql: KIRQL,
    pub ApcEnvironment: CCHAR,
    pub AllocationFlags: UCHAR,
    pub __bindgen_anon_1: _IRP__bindgen_ty_2,
    pub UserEvent: PKEVENT,
    pub Overlay: _IRP__bindgen_ty_3,
    pub CancelRoutine: PDRIVER_CANCEL,
    pub UserBuffer: PVOID,
    pub Tail: _IRP__bindgen_ty_4,
}
pub type IRP = _IRP;
pub type PIRP = *mut IRP;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_DeviceIoControl {
    pub OutputBufferLength: ULONG,
    pub _padding0: u32,
    pub InputBufferLength: ULONG,
    pub _padding1: u32,
    pub IoControlCode: ULONG,
    pub _padding2: u32,
    pub Type3InputBuffer: PVOID,
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_Others {
    pub Argument1: PVOID,
    pub Argument2: PVOID,
    pub Argument3: PVOID,
    pub Argument4: PVOID,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _IO_STACK_LOCATION__bindgen_ty_1 {
    pub DeviceIoControl: _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_DeviceIoControl,
    pub Others: _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_Others,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _IO_STACK_LOCATION {
    pub MajorFunction: UCHAR,
    pub MinorFunction: UCHAR,
    pub Flags: UCHAR,
    pub Control: UCHAR,
    pub Parameters: _IO_STACK_LOCATION__bindgen_ty_1,
    pub DeviceObject: PDEVICE_OBJECT,
    pub FileObject: PFILE_OBJECT,
    pub CompletionRoutine: PIO_COMPLETION_ROUTINE,
    pub Context: PVOID,
}
pub type IO_STACK_LOCATION = _IO_STACK_LOCATION;
pub type PIO_STACK_LOCATION = *mut IO_STACK_LOCATION;

// ---------------------------------------------------------------------------------------------
// Dispatcher objects
// ---------------------------------------------------------------------------------------------

#[repr(C)]
#[derive(Copy, Clone)]
pub union _DISPATCHER_HEADER__bindgen_ty_1 {
    pub Lock: LONG,
    pub LockNV: LONG,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _DISPATCHER_HEADER {
    pub __bindgen_anon_1: _DISPATCHER_HEADER__bindgen_ty_1,
    pub SignalState: LONG,
    pub WaitListHead: LIST_ENTRY,
}
pub type DISPATCHER_HEADER = _DISPATCHER_HEADER;

#[repr(C)]
#[derive(Copy, Clone)]
pub struct _KEVENT {
    pub Header: DISPATCHER_HEADER,
}
pub type KEVENT = _KEVENT;
pub type PKEVENT = *mut KEVENT;
pub type PRKEVENT = *mut KEVENT;

/// C enums become modules of constants (bindgen `ModuleConsts`).
pub mod _EVENT_TYPE {
    pub type Type = core::ffi::c_int;
    pub const NotificationEvent: Type = 0;
    pub const SynchronizationEvent: Type = 1;
}
pub use self::_EVENT_TYPE::Type as EVENT_TYPE;

pub mod _KWAIT_REASON {
    pub type Type = core::ffi::c_int;
    pub const Executive: Type = 0;
    pub const UserRequest: Type = 6;
}
pub use self::_KWAIT_REASON::Type as KWAIT_REASON;

pub mod _MODE {
    pub type Type = core::ffi::c_int;
    pub const KernelMode: Type = 0;
    pub const UserMode: Type = 1;
}
pub use self::_MODE::Type as MODE;

zeroed_default!(
    _LIST_ENTRY,
    _LARGE_INTEGER,
    _UNICODE_STRING,
    _GUID,
    _IO_STATUS_BLOCK,
    _MDL,
    _IRP,
    _IO_STACK_LOCATION,
    _DISPATCHER_HEADER,
    _KEVENT,
);

// ---------------------------------------------------------------------------------------------
// KMDF
// ---------------------------------------------------------------------------------------------

macro_rules! wdf_handles {
    ($($handle:ident => $opaque:ident),* $(,)?) => {$(
        #[repr(C)]
        pub struct $opaque {
            _opaque: [u8; 0],
        }
        pub type $handle = *mut $opaque;
    )*};
}
/// `WDFOBJECT` is a plain `HANDLE`.
pub type WDFOBJECT = PVOID;
wdf_handles!(
    WDFDRIVER => WDFDRIVER__,
    WDFDEVICE => WDFDEVICE__,
    WDFQUEUE => WDFQUEUE__,
    WDFREQUEST => WDFREQUEST__,
);

#[repr(C)]
pub struct WDFDEVICE_INIT {
    _opaque: [u8; 0],
}
pub type PWDFDEVICE_INIT = *mut WDFDEVICE_INIT;

pub type PFN_WDF_DRIVER_DEVICE_ADD =
    Option<unsafe extern "C" fn(Driver: WDFDRIVER, DeviceInit: PWDFDEVICE_INIT) -> NTSTATUS>;
pub type PFN_WDF_DRIVER_UNLOAD = Option<unsafe extern "C" fn(Driver: WDFDRIVER)>;
pub type PFN_WDF_OBJECT_CONTEXT_CLEANUP = Option<unsafe extern "C" fn(Object: WDFOBJECT)>;
pub type PFN_WDF_OBJECT_CONTEXT_DESTROY = Option<unsafe extern "C" fn(Object: WDFOBJECT)>;
pub type PFN_WDF_IO_QUEUE_IO_DEFAULT =
    Option<unsafe extern "C" fn(Queue: WDFQUEUE, Request: WDFREQUEST)>;
pub type PFN_WDF_IO_QUEUE_IO_READ =
    Option<unsafe extern "C" fn(Queue: WDFQUEUE, Request: WDFREQUEST, Length: usize)>;
pub type PFN_WDF_IO_QUEUE_IO_WRITE =
    Option<unsafe extern "C" fn(Queue: WDFQUEUE, Request: WDFREQUEST, Length: usize)>;
pub type PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL = Option<
    unsafe extern "C" fn(
        Queue: WDFQUEUE,
        Request: WDFREQUEST,
        OutputBufferLength: usize,
        InputBufferLength: usize,
        IoControlCode: ULONG,
    ),
>;
pub type PFN_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL = PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL;
pub type PFN_WDF_IO_QUEUE_IO_STOP =
    Option<unsafe extern "C" fn(Queue: WDFQUEUE, Request: WDFREQUEST, ActionFlags: ULONG)>;
pub type PFN_WDF_IO_QUEUE_IO_RESUME =
    Option<unsafe extern "C" fn(Queue: WDFQUEUE, Request: WDFREQUEST)>;
pub type PFN_WDF_IO_QUEUE_IO_CANCELED_ON_QUEUE =
    Option<unsafe extern "C" fn(Queue: WDFQUEUE, Request: WDFREQUEST)>;
pub type PFN_GET_UNIQUE_CONTEXT_TYPE =
    Option<unsafe extern "C" fn() -> PCWDF_OBJECT_CONTEXT_TYPE_INFO>;

pub mod _WDF_EXECUTION_LEVEL {
    pub type Type = core::ffi::c_int;
    pub const WdfExecutionLevelInvalid: Type = 0;
    pub const WdfExecutionLevelInheritFromParent: Type = 1;
    pub const WdfExecutionLevelPassive: Type = 2;
    pub const WdfExecutionLevelDispatch: Type = 3;
}
pub use self::_WDF_EXECUTION_LEVEL::Type as WDF_EXECUTION_LEVEL;

pub mod _WDF_SYNCHRONIZATION_SCOPE {
    pub type Type = core::ffi::c_int;
    pub const WdfSynchronizationScopeInvalid: Type = 0;
    pub const WdfSynchronizationScopeInheritFromParent: Type = 1;
    pub const WdfSynchronizationScopeDevice: Type = 2;
    pub const WdfSynchronizationScopeQueue: Type = 3;
    pub const WdfSynchronizationScopeNone: Type = 4;
}
pub use self::_WDF_SYNCHRONIZATION_SCOPE::Type as WDF_SYNCHRONIZATION_SCOPE;

pub mod _WDF_IO_QUEUE_DISPATCH_TYPE {
    pub type Type = core::ffi::c_int;
    pub const WdfIoQueueDispatchInvalid: Type = 0;
    pub const WdfIoQueueDispatchSequential: Type = 1;
    pub const WdfIoQueueDispatchParallel: Type = 2;
    pub const WdfIoQueueDispatchManual: Type = 3;
}
pub use self::_WDF_IO_QUEUE_DISPATCH_TYPE::Type as WDF_IO_QUEUE_DISPATCH_TYPE;

/// Component IDs for DbgPrintEx (dpfilter.h), the ones Learn names for drivers.
pub mod _DPFLTR_TYPE {
    pub type Type = core::ffi::c_int;
    pub const DPFLTR_IHVVIDEO_ID: Type = 78;
    pub const DPFLTR_IHVAUDIO_ID: Type = 79;
    pub const DPFLTR_IHVNETWORK_ID: Type = 80;
    pub const DPFLTR_IHVSTREAMING_ID: Type = 81;
    pub const DPFLTR_IHVBUS_ID: Type = 82;
    pub const DPFLTR_IHVDRIVER_ID: Type = 77;
}
pub use self::_DPFLTR_TYPE::Type as DPFLTR_TYPE;
pub mod _WDF_TRI_STATE {
    pub type Type = core::ffi::c_int;
    pub const WdfFalse: Type = 0;
    pub const WdfTrue: Type = 1;
    pub const WdfUseDefault: Type = 2;
}
pub use self::_WDF_TRI_STATE::Type as WDF_TRI_STATE;

pub mod _WDF_REQUEST_STOP_ACTION_FLAGS {
    pub type Type = core::ffi::c_int;
    pub const WdfRequestStopActionInvalid: Type = 0;
    pub const WdfRequestStopActionSuspend: Type = 1;
    /// The device is being removed: the request must be completed.
    pub const WdfRequestStopActionPurge: Type = 2;
    pub const WdfRequestStopRequestCancelable: Type = 0x1000_0000;
}
pub use self::_WDF_REQUEST_STOP_ACTION_FLAGS::Type as WDF_REQUEST_STOP_ACTION_FLAGS;

pub mod _WDF_DEVICE_IO_TYPE {
    pub type Type = core::ffi::c_int;
    pub const WdfDeviceIoUndefined: Type = 0;
    pub const WdfDeviceIoNeither: Type = 1;
    pub const WdfDeviceIoBuffered: Type = 2;
    pub const WdfDeviceIoDirect: Type = 3;
}
pub use self::_WDF_DEVICE_IO_TYPE::Type as WDF_DEVICE_IO_TYPE;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _WDF_OBJECT_CONTEXT_TYPE_INFO {
    pub Size: ULONG,
    pub ContextName: LPCSTR,
    pub ContextSize: usize,
    pub UniqueType: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
    pub EvtDriverGetUniqueContextType: PFN_GET_UNIQUE_CONTEXT_TYPE,
}
pub type WDF_OBJECT_CONTEXT_TYPE_INFO = _WDF_OBJECT_CONTEXT_TYPE_INFO;
pub type PCWDF_OBJECT_CONTEXT_TYPE_INFO = *const _WDF_OBJECT_CONTEXT_TYPE_INFO;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _WDF_OBJECT_ATTRIBUTES {
    pub Size: ULONG,
    pub EvtCleanupCallback: PFN_WDF_OBJECT_CONTEXT_CLEANUP,
    pub EvtDestroyCallback: PFN_WDF_OBJECT_CONTEXT_DESTROY,
    pub ExecutionLevel: WDF_EXECUTION_LEVEL,
    pub SynchronizationScope: WDF_SYNCHRONIZATION_SCOPE,
    pub ParentObject: WDFOBJECT,
    pub ContextSizeOverride: usize,
    pub ContextTypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
}
pub type WDF_OBJECT_ATTRIBUTES = _WDF_OBJECT_ATTRIBUTES;
pub type PWDF_OBJECT_ATTRIBUTES = *mut WDF_OBJECT_ATTRIBUTES;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _WDF_DRIVER_CONFIG {
    pub Size: ULONG,
    pub EvtDriverDeviceAdd: PFN_WDF_DRIVER_DEVICE_ADD,
    pub EvtDriverUnload: PFN_WDF_DRIVER_UNLOAD,
    pub DriverInitFlags: ULONG,
    pub DriverPoolTag: ULONG,
}
pub type WDF_DRIVER_CONFIG = _WDF_DRIVER_CONFIG;
pub type PWDF_DRIVER_CONFIG = *mut WDF_DRIVER_CONFIG;

#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct _WDF_IO_QUEUE_CONFIG__bindgen_ty_1__bindgen_ty_1 {
    pub NumberOfPresentedRequests: ULONG,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub union _WDF_IO_QUEUE_CONFIG__bindgen_ty_1 {
    pub Parallel: _WDF_IO_QUEUE_CONFIG__bindgen_ty_1__bindgen_ty_1,
}
#[repr(C)]
#[derive(Copy, Clone)]
pub struct _WDF_IO_QUEUE_CONFIG {
    pub Size: ULONG,
    pub DispatchType: WDF_IO_QUEUE_DISPATCH_TYPE,
    pub PowerManaged: WDF_TRI_STATE,
    pub AllowZeroLengthRequests: BOOLEAN,
    pub DefaultQueue: BOOLEAN,
    pub EvtIoDefault: PFN_WDF_IO_QUEUE_IO_DEFAULT,
    pub EvtIoRead: PFN_WDF_IO_QUEUE_IO_READ,
    pub EvtIoWrite: PFN_WDF_IO_QUEUE_IO_WRITE,
    pub EvtIoDeviceControl: PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL,
    pub EvtIoInternalDeviceControl: PFN_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL,
    pub EvtIoStop: PFN_WDF_IO_QUEUE_IO_STOP,
    pub EvtIoResume: PFN_WDF_IO_QUEUE_IO_RESUME,
    pub EvtIoCanceledOnQueue: PFN_WDF_IO_QUEUE_IO_CANCELED_ON_QUEUE,
    pub Settings: _WDF_IO_QUEUE_CONFIG__bindgen_ty_1,
    pub Driver: WDFDRIVER,
}
pub type WDF_IO_QUEUE_CONFIG = _WDF_IO_QUEUE_CONFIG;
pub type PWDF_IO_QUEUE_CONFIG = *mut WDF_IO_QUEUE_CONFIG;

zeroed_default!(
    _WDF_OBJECT_CONTEXT_TYPE_INFO,
    _WDF_OBJECT_ATTRIBUTES,
    _WDF_DRIVER_CONFIG,
    _WDF_IO_QUEUE_CONFIG,
);

// ---------------------------------------------------------------------------------------------
// Layouts: the real Windows x64 sizes and offsets (shared/reference/wsk-abi.md).
// ---------------------------------------------------------------------------------------------
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<IRP>() == 208);
    assert!(offset_of!(IRP, MdlAddress) == 8);
    assert!(offset_of!(IRP, Flags) == 16);
    assert!(offset_of!(IRP, AssociatedIrp) == 24);
    assert!(offset_of!(IRP, ThreadListEntry) == 32);
    assert!(offset_of!(IRP, IoStatus) == 48);
    assert!(offset_of!(IRP, RequestorMode) == 64);
    assert!(offset_of!(IRP, PendingReturned) == 65);
    assert!(offset_of!(IRP, StackCount) == 66);
    assert!(offset_of!(IRP, CurrentLocation) == 67);
    assert!(offset_of!(IRP, Cancel) == 68);
    assert!(offset_of!(IRP, CancelIrql) == 69);
    assert!(offset_of!(IRP, ApcEnvironment) == 70);
    assert!(offset_of!(IRP, AllocationFlags) == 71);
    assert!(offset_of!(IRP, __bindgen_anon_1) == 72);
    assert!(offset_of!(IRP, UserEvent) == 80);
    assert!(offset_of!(IRP, Overlay) == 88);
    assert!(offset_of!(IRP, CancelRoutine) == 104);
    assert!(offset_of!(IRP, UserBuffer) == 112);
    assert!(offset_of!(IRP, Tail) == 120);
    assert!(
        offset_of!(IRP, Tail)
            + offset_of!(_IRP__bindgen_ty_4__bindgen_ty_1, __bindgen_anon_2)
            + offset_of!(
                _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2,
                __bindgen_anon_1
            )
            == 184
    );
    assert!(size_of::<IO_STATUS_BLOCK>() == 16);
    assert!(offset_of!(IO_STATUS_BLOCK, Information) == 8);
    assert!(size_of::<IO_STACK_LOCATION>() == 72);
    assert!(offset_of!(IO_STACK_LOCATION, Parameters) == 8);
    assert!(
        offset_of!(IO_STACK_LOCATION, Parameters)
            + offset_of!(
                _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_DeviceIoControl,
                InputBufferLength
            )
            == 16
    );
    assert!(
        offset_of!(IO_STACK_LOCATION, Parameters)
            + offset_of!(
                _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_DeviceIoControl,
                IoControlCode
            )
            == 24
    );
    assert!(
        offset_of!(IO_STACK_LOCATION, Parameters)
            + offset_of!(
                _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_DeviceIoControl,
                Type3InputBuffer
            )
            == 32
    );
    assert!(offset_of!(IO_STACK_LOCATION, DeviceObject) == 40);
    assert!(offset_of!(IO_STACK_LOCATION, FileObject) == 48);
    assert!(offset_of!(IO_STACK_LOCATION, CompletionRoutine) == 56);
    assert!(offset_of!(IO_STACK_LOCATION, Context) == 64);
    assert!(size_of::<MDL>() == 48);
    assert!(offset_of!(MDL, Size) == 8);
    assert!(offset_of!(MDL, MdlFlags) == 10);
    assert!(offset_of!(MDL, Process) == 16);
    assert!(offset_of!(MDL, MappedSystemVa) == 24);
    assert!(offset_of!(MDL, StartVa) == 32);
    assert!(offset_of!(MDL, ByteCount) == 40);
    assert!(offset_of!(MDL, ByteOffset) == 44);
    assert!(size_of::<KEVENT>() == 24);
    assert!(size_of::<KSPIN_LOCK>() == 8);
    assert!(size_of::<UNICODE_STRING>() == 16);
    assert!(size_of::<GUID>() == 16);
    assert!(size_of::<LARGE_INTEGER>() == 8);
};
