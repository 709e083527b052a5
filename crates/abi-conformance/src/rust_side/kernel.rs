//! The kernel model's stand-ins for wdk-sys (types and constants at the root of `wdk_model`).
//!
//! Not compared, because Wine 8's headers do not define them: `POOL_FLAGS` and `POOL_FLAG_*`
//! (ExAllocatePool2), `PASSIVE_LEVEL`/`APC_LEVEL`/`DISPATCH_LEVEL`, and the KMDF (`WDF_*`)
//! structures. The C enum types (`EVENT_TYPE`, `MODE`, …) are compared by their enumerators
//! only: GCC gives an enum without negative values an unsigned type, MSVC (and bindgen) `int`.

use super::{Recorder, record_constants, record_structs};
use crate::fact::Fact;

pub(super) fn model_kernel_facts() -> Vec<Fact> {
    let mut recorder = Recorder::default();
    record_scalar_types(&mut recorder);
    record_io_structs(&mut recorder);
    record_support_structs(&mut recorder);
    record_kernel_constants(&mut recorder);
    recorder.into_facts()
}

/// Integer typedefs: size, alignment and signedness (`ULONG` must be 4 bytes and unsigned on
/// every host, which `c_ulong` is not).
fn record_scalar_types(recorder: &mut Recorder) {
    record_structs!(recorder, wdk_model => {
        NTSTATUS as "NTSTATUS" {},
        ULONG as "ULONG" {},
        LONG as "LONG" {},
        USHORT as "USHORT" {},
        CSHORT as "CSHORT" {},
        UCHAR as "UCHAR" {},
        CHAR as "CHAR" {},
        CCHAR as "CCHAR" {},
        LONGLONG as "LONGLONG" {},
        ULONG64 as "ULONG64" {},
        ULONG_PTR as "ULONG_PTR" {},
        SIZE_T as "SIZE_T" {},
        BOOLEAN as "BOOLEAN" {},
        WCHAR as "WCHAR" {},
        KIRQL as "KIRQL" {},
        KPROCESSOR_MODE as "KPROCESSOR_MODE" {},
        KPRIORITY as "KPRIORITY" {},
        KSPIN_LOCK as "KSPIN_LOCK" {},
        DEVICE_TYPE as "DEVICE_TYPE" {},
    });
}

/// IRP, IO_STACK_LOCATION, MDL and IO_STATUS_BLOCK, member by member.
fn record_io_structs(recorder: &mut Recorder) {
    record_structs!(recorder, wdk_model => {
        IRP as "IRP" {
            Type, Size, MdlAddress, Flags,
            AssociatedIrp, AssociatedIrp.MasterIrp, AssociatedIrp.IrpCount, AssociatedIrp.SystemBuffer,
            ThreadListEntry, ThreadListEntry.Flink, ThreadListEntry.Blink,
            IoStatus, IoStatus.__bindgen_anon_1.Status, IoStatus.__bindgen_anon_1.Pointer, IoStatus.Information,
            RequestorMode, PendingReturned, StackCount, CurrentLocation, Cancel, CancelIrql,
            ApcEnvironment, AllocationFlags,
            __bindgen_anon_1.UserIosb,
            // Windows 11's wdm.h; see the exclusions.
            __bindgen_anon_1.IoRingContext,
            UserEvent,
            Overlay, Overlay.AsynchronousParameters, Overlay.AsynchronousParameters.UserApcRoutine,
            Overlay.AsynchronousParameters.UserApcContext, Overlay.AllocationSize,
            CancelRoutine, UserBuffer,
            Tail, Tail.Overlay,
            Tail.Overlay.__bindgen_anon_1.DeviceQueueEntry,
            Tail.Overlay.__bindgen_anon_1.__bindgen_anon_1.DriverContext,
            Tail.Overlay.Thread, Tail.Overlay.AuxiliaryBuffer,
            Tail.Overlay.__bindgen_anon_2.ListEntry,
            Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation,
            Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.PacketType,
            Tail.Overlay.OriginalFileObject,
            Tail.Apc, Tail.CompletionKey,
        },
        IO_STACK_LOCATION as "IO_STACK_LOCATION" {
            MajorFunction, MinorFunction, Flags, Control,
            Parameters,
            Parameters.DeviceIoControl,
            Parameters.DeviceIoControl.OutputBufferLength,
            Parameters.DeviceIoControl.InputBufferLength,
            Parameters.DeviceIoControl.IoControlCode,
            Parameters.DeviceIoControl.Type3InputBuffer,
            Parameters.Others,
            Parameters.Others.Argument1, Parameters.Others.Argument2,
            Parameters.Others.Argument3, Parameters.Others.Argument4,
            DeviceObject, FileObject, CompletionRoutine, Context,
        },
        MDL as "MDL" { Next, Size, MdlFlags, Process, MappedSystemVa, StartVa, ByteCount, ByteOffset },
        IO_STATUS_BLOCK as "IO_STATUS_BLOCK" { __bindgen_anon_1.Status, __bindgen_anon_1.Pointer, Information },
    });
}

/// The smaller structures the driver touches.
fn record_support_structs(recorder: &mut Recorder) {
    record_structs!(recorder, wdk_model => {
        LIST_ENTRY as "LIST_ENTRY" { Flink, Blink },
        LARGE_INTEGER as "LARGE_INTEGER" { __bindgen_anon_1.LowPart, __bindgen_anon_1.HighPart, QuadPart },
        UNICODE_STRING as "UNICODE_STRING" { Length, MaximumLength, Buffer },
        GUID as "GUID" { Data1, Data2, Data3, Data4 },
        // `Lock`/`LockNV`: WDK wdm.h names; see the exclusions.
        DISPATCHER_HEADER as "DISPATCHER_HEADER" {
            __bindgen_anon_1.Lock, __bindgen_anon_1.LockNV, SignalState, WaitListHead,
        },
        KEVENT as "KEVENT" { Header, Header.__bindgen_anon_1.Lock, Header.SignalState, Header.WaitListHead },
        // Opaque in the model: only its size (and alignment) must be right.
        DRIVER_OBJECT as "DRIVER_OBJECT" {},
    });
}

fn record_kernel_constants(recorder: &mut Recorder) {
    record_constants!(recorder, wdk_model => {
        STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_PENDING, STATUS_DEVICE_BUSY, STATUS_UNSUCCESSFUL,
        STATUS_NOT_IMPLEMENTED, STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_HANDLE,
        STATUS_INVALID_PARAMETER, STATUS_INVALID_DEVICE_REQUEST, STATUS_MORE_PROCESSING_REQUIRED,
        STATUS_ACCESS_DENIED, STATUS_BUFFER_TOO_SMALL, STATUS_OBJECT_NAME_NOT_FOUND,
        STATUS_OBJECT_NAME_COLLISION, STATUS_DELETE_PENDING, STATUS_INSUFFICIENT_RESOURCES,
        STATUS_DEVICE_NOT_READY, STATUS_IO_TIMEOUT, STATUS_FILE_FORCED_CLOSED, STATUS_NOT_SUPPORTED,
        STATUS_CANCELLED, STATUS_INVALID_ADDRESS, STATUS_INVALID_DEVICE_STATE,
        STATUS_ADDRESS_ALREADY_EXISTS, STATUS_ADDRESS_ALREADY_ASSOCIATED, STATUS_NETWORK_UNREACHABLE,
        STATUS_HOST_UNREACHABLE, STATUS_PORT_UNREACHABLE, STATUS_NOINTERFACE,
        IO_TYPE_IRP, IO_NO_INCREMENT,
        SL_PENDING_RETURNED, SL_INVOKE_ON_CANCEL, SL_INVOKE_ON_SUCCESS, SL_INVOKE_ON_ERROR,
        MDL_MAPPED_TO_SYSTEM_VA, MDL_PAGES_LOCKED, MDL_SOURCE_IS_NONPAGED_POOL, MDL_PARTIAL,
        PAGE_SIZE, FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_NETWORK, TRUE, FALSE,
    });
    record_constants!(recorder, wdk_model::_EVENT_TYPE => { NotificationEvent, SynchronizationEvent });
    record_constants!(recorder, wdk_model::_KWAIT_REASON => { Executive, UserRequest });
    record_constants!(recorder, wdk_model::_MODE => { KernelMode, UserMode });
}
