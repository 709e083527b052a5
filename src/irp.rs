//! The IRP helpers the WDK implements as inline functions (so wdk-sys has none): written once
//! here, against the real IRP layout.

use wdk_sys::ntddk::{IoAllocateIrp, IoFreeIrp, IoReuseIrp};
use wdk_sys::{
    IO_STACK_LOCATION, NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, SL_INVOKE_ON_CANCEL,
    SL_INVOKE_ON_ERROR, SL_INVOKE_ON_SUCCESS, STATUS_UNSUCCESSFUL,
};

/// A completion routine as the I/O manager calls it.
pub type CompletionRoutine = unsafe extern "C" fn(PDEVICE_OBJECT, PIRP, PVOID) -> NTSTATUS;

/// `IoAllocateIrp(1, FALSE)`: one stack location, for the completion routine of a WSK call.
pub fn allocate_irp() -> Option<PIRP> {
    // SAFETY: a plain allocation; NULL is checked.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    (!irp.is_null()).then_some(irp)
}

/// `IoGetNextIrpStackLocation`: the location below the current one.
///
/// # Safety
/// `irp` must be a live IRP the caller owns, with a free stack location.
pub unsafe fn next_stack_location(irp: PIRP) -> *mut IO_STACK_LOCATION {
    // SAFETY: the caller's guarantee; the current location pointer is one past the next one.
    unsafe {
        (*irp)
            .Tail
            .Overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
            .sub(1)
    }
}

/// `IoSetCompletionRoutine(irp, routine, context, TRUE, TRUE, TRUE)`: the routine runs on
/// success, error and cancel alike, so it can always take the IRP back.
///
/// # Safety
/// As for [`next_stack_location`].
pub unsafe fn set_completion_routine(irp: PIRP, routine: CompletionRoutine, context: PVOID) {
    // SAFETY: the caller's guarantee.
    let location = unsafe { &mut *next_stack_location(irp) };
    location.CompletionRoutine = Some(routine);
    location.Context = context;
    location.Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
}

/// `IoReuseIrp(irp, STATUS_UNSUCCESSFUL)`: reinitialises a driver-allocated IRP for its next
/// WSK call, as Learn's IoReuseIrp page asks of an IRP "previously allocated ... with
/// IoAllocateIrp". What it does (Wine's ntoskrnl `IoReuseIrp`): `IoInitializeIrp` over the
/// IRP's own `Size` and `StackCount` (zeroes it, so `Cancel` and the stack locations are clear,
/// `CurrentLocation` is `StackCount + 1`), keeps `AllocationFlags` and stores the status in
/// `IoStatus.Status`. STATUS_UNSUCCESSFUL is what the IRP then reports until a provider
/// completes it: a status no successful send leaves behind. Callable at IRQL <= DISPATCH_LEVEL.
///
/// # Safety
/// `irp` came from [`allocate_irp`], is not freed, and no provider owns it: it was never
/// submitted, or its completion routine has run.
pub unsafe fn reuse(irp: PIRP) {
    // SAFETY: the caller's guarantee.
    unsafe { IoReuseIrp(irp, STATUS_UNSUCCESSFUL) };
}

/// `IoFreeIrp`.
///
/// # Safety
/// `irp` came from [`allocate_irp`], no provider owns it, and it is not used afterwards.
pub unsafe fn free(irp: PIRP) {
    // SAFETY: the caller's guarantee.
    unsafe { IoFreeIrp(irp) };
}
