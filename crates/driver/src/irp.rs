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
    // SAFETY: the caller's guarantee: a live IRP. A place expression, no read yet.
    let overlay = unsafe { &raw const (*irp).Tail.Overlay };
    // SAFETY: while the driver owns the IRP, Tail.Overlay holds the I/O manager's overlay (the
    // union's active member for an IRP not queued to a device's StartIo).
    let anon = unsafe { &(*overlay).__bindgen_anon_2 };
    // SAFETY: the active member: CurrentStackLocation (the packet-type word is unused here).
    let current = unsafe { anon.__bindgen_anon_1.CurrentStackLocation };
    // SAFETY: the caller's guarantee of a free stack location: the current location pointer
    // is one past the next one, inside the IRP's stack location array.
    unsafe { current.sub(1) }
}

/// `IoSetCompletionRoutine(irp, routine, context, TRUE, TRUE, TRUE)`: the routine runs on
/// success, error and cancel alike, so it can always take the IRP back.
///
/// # Safety
/// As for [`next_stack_location`].
pub unsafe fn set_completion_routine(irp: PIRP, routine: CompletionRoutine, context: PVOID) {
    // SAFETY: the caller's guarantee.
    let location = unsafe { next_stack_location(irp) };
    // SAFETY: the next stack location of a live IRP the caller owns: no one else writes it.
    let location = unsafe { &mut *location };
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

/// Reads a completed IRP's status and information (the IRP stays with its owner: a send slot
/// or a receive buffer, src/receive/).
///
/// # Safety
/// `irp` is a driver IRP handed back to its completion routine.
pub unsafe fn result_of(irp: PIRP) -> (NTSTATUS, u64) {
    // SAFETY: the caller's guarantee: the IRP is ours to read.
    let io_status = unsafe { &(*irp).IoStatus };
    // SAFETY: a completed IRP's IoStatus holds a Status (the union's NTSTATUS member).
    let status = unsafe { io_status.__bindgen_anon_1.Status };
    (status, io_status.Information)
}
