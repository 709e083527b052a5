//! WDM device objects behind KMDF devices, their reference counts, and
//! `IoSetCompletionRoutineEx`.
//!
//! Sources. Learn, IoSetCompletionRoutineEx: the routine takes a DeviceObject that the I/O
//! manager references until the completion routine has returned, allocates a context (so it can
//! fail with STATUS_INSUFFICIENT_RESOURCES), and calls the driver's routine through a wrapper
//! in ntoskrnl that drops the reference and frees the context afterwards; an IRP that is
//! never sent leaks that context. KMDF uses it only once a request is certain to be sent and
//! falls back to IoSetCompletionRoutine when it fails (Windows-Driver-Frameworks,
//! src/framework/shared/inc/private/km/fxirpkm.hpp `FxIrp::SetCompletionRoutineEx`;
//! src/framework/shared/targets/general/fxiotarget.cpp, the comment before
//! `SetCompletionRoutine(Request)` in FxIoTarget::SubmitLocked). Learn, IoDeleteDevice and
//! "Unloading a driver" (DriverUnload): a device object with outstanding references is deleted
//! only when the last one drops, and the image is unloaded only once the driver's device
//! objects are gone. The model hands out one WDM device object per WDFDEVICE
//! (`WdfDeviceWdmGetDeviceObject`), marks it delete-pending at device removal, and defers
//! EvtDriverUnload until every reference has dropped.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::constants::{
    SL_INVOKE_ON_CANCEL, SL_INVOKE_ON_ERROR, SL_INVOKE_ON_SUCCESS, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER,
};
use crate::kernel::{self, FaultSite, KernelState, lock, rules};
use crate::types::{
    BOOLEAN, IO_STACK_LOCATION, NTSTATUS, PDEVICE_OBJECT, PIO_COMPLETION_ROUTINE, PIRP, PVOID,
};

/// One WDM device object.
struct DeviceObject {
    /// The WDFDEVICE it belongs to.
    wdf: usize,
    /// References taken by IoSetCompletionRoutineEx and not yet dropped by its wrapper.
    references: u64,
    /// IoDeleteDevice has run (the KMDF device was removed); the object goes when
    /// `references` reaches zero.
    delete_pending: bool,
}

/// What IoSetCompletionRoutineEx allocates: the driver's routine and context, and the device
/// object it references.
struct ExContext {
    routine: unsafe extern "C" fn(PDEVICE_OBJECT, PIRP, PVOID) -> NTSTATUS,
    context: PVOID,
    device: usize,
}

#[derive(Default)]
pub(crate) struct DeviceObjectTable {
    /// Device object address by WDFDEVICE handle.
    by_wdf: HashMap<usize, usize>,
    objects: HashMap<usize, DeviceObject>,
    /// Live ExContext allocations, with the IRP each was set on.
    contexts: HashMap<usize, usize>,
    /// Every device of the driver has been removed (IoDeleteDevice has run for all).
    pub(crate) devices_gone: bool,
}

impl KernelState {
    /// This kernel's device objects: its slot (`kernel::slots`), filled by `crate::boot`.
    fn device_objects(&self) -> &Mutex<DeviceObjectTable> {
        self.slot()
    }
}

impl DeviceObjectTable {
    fn referenced(&self) -> u64 {
        self.objects.values().map(|o| o.references).sum()
    }
}

impl Drop for DeviceObjectTable {
    /// The stand-in objects live as long as their kernel (an address is never reused while it
    /// runs); they go with it.
    fn drop(&mut self) {
        for (&address, _) in self.objects.iter() {
            // SAFETY: every key of `objects` came from `Box::into_raw` in `for_device` and is
            // freed only here, once.
            drop(unsafe { Box::from_raw(address as *mut [u64; 8]) });
        }
    }
}

/// The WDM device object of a live WDFDEVICE, made on first use.
pub(crate) fn for_device(kernel: &KernelState, device: usize) -> PDEVICE_OBJECT {
    let mut table = lock(kernel.device_objects());
    if let Some(&address) = table.by_wdf.get(&device) {
        return address as PDEVICE_OBJECT;
    }
    // A distinct, never reused address stands for the object (its contents are opaque).
    let address = Box::into_raw(Box::new([0u64; 8])) as usize;
    table.by_wdf.insert(device, address);
    table.objects.insert(
        address,
        DeviceObject {
            wdf: device,
            references: 0,
            delete_pending: false,
        },
    );
    address as PDEVICE_OBJECT
}

/// Device removal: KMDF's IoDeleteDevice for `device`'s WDM object.
pub(crate) fn delete_device(kernel: &KernelState, device: usize) {
    let mut table = lock(kernel.device_objects());
    if let Some(address) = table.by_wdf.remove(&device)
        && let Some(object) = table.objects.get_mut(&address)
    {
        object.delete_pending = true;
        if object.references > 0 {
            let references = object.references;
            drop(table);
            kernel.note(format!(
                "I/O manager: device object {address:#x} delete-pending, {references} reference(s) left"
            ));
        }
    }
}

/// Every device is removed: from here an IRP issued with a plain completion routine can
/// complete with nothing holding the driver image.
pub(crate) fn all_devices_gone(kernel: &KernelState) {
    lock(kernel.device_objects()).devices_gone = true;
}

/// The image unload waits for the last device object reference (the I/O manager unloads the
/// driver only once its device objects are deleted). Bounded here; false if references remain.
pub(crate) fn wait_unreferenced(kernel: &KernelState) -> bool {
    let deadline = Instant::now() + kernel.config.request_timeout;
    loop {
        let referenced = lock(kernel.device_objects()).referenced();
        if referenced == 0 {
            return true;
        }
        if Instant::now() >= deadline {
            kernel.note(format!(
                "I/O manager: {referenced} device object reference(s) never dropped: the driver never unloads"
            ));
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// References still held (for the leak report).
pub(crate) fn references_left(kernel: &KernelState) -> u64 {
    lock(kernel.device_objects()).referenced()
}

/// Whether `routine` is the I/O manager's wrapper (a completion routine set with
/// IoSetCompletionRoutineEx).
pub(crate) fn is_wrapper(routine: PIO_COMPLETION_ROUTINE) -> bool {
    routine.is_some_and(|r| core::ptr::eq(r as *const (), unload_safe_completion as *const ()))
}

/// An IRP handed to WSK: once the driver's devices are gone its completion routine must be the
/// wrapper, or nothing keeps the image mapped until the routine has returned.
pub(crate) fn check_submission(
    kernel: &KernelState,
    op: &str,
    address: usize,
    routine: PIO_COMPLETION_ROUTINE,
) {
    if lock(kernel.device_objects()).devices_gone && !is_wrapper(routine) {
        kernel.violate(
            rules::COMPLETION_ROUTINE_UNPROTECTED,
            format!("{op} given IRP {address:#x} with a plain completion routine after the driver's devices were deleted"),
        );
    }
}

/// IoFreeIrp / IoReuseIrp on a live, driver-owned IRP: a stack location still holding the
/// wrapper means the IRP never went out, so its context is never freed and its device object
/// reference never dropped.
///
/// # Safety
/// `irp` is a live IRP (its header and stack locations readable).
pub(crate) unsafe fn check_discard(kernel: &KernelState, op: &str, irp: PIRP) {
    // SAFETY: the caller's guarantee.
    let count = usize::from(unsafe { (*irp).StackCount } as u8);
    for index in 0..count {
        // SAFETY: within the IRP's stack locations, which follow its header.
        let location = unsafe { &*irp.add(1).cast::<IO_STACK_LOCATION>().add(index) };
        if !is_wrapper(location.CompletionRoutine) {
            continue;
        }
        let address = irp as usize;
        let leaked = lock(kernel.device_objects())
            .contexts
            .get(&(location.Context as usize))
            == Some(&address);
        if leaked {
            kernel.violate(
                rules::COMPLETION_EX_CONTEXT_LEAKED,
                format!("{op}({address:#x}) on an IRP that was never sent, with its IoSetCompletionRoutineEx context still set"),
            );
        }
    }
}

/// `IoSetCompletionRoutineEx`.
///
/// # Safety
/// Same contract as the real routine: `Irp` is a live IRP the caller owns, with a free stack
/// location.
#[allow(non_snake_case)]
pub unsafe fn IoSetCompletionRoutineEx(
    DeviceObject: PDEVICE_OBJECT,
    Irp: PIRP,
    CompletionRoutine: PIO_COMPLETION_ROUTINE,
    Context: PVOID,
    InvokeOnSuccess: BOOLEAN,
    InvokeOnError: BOOLEAN,
    InvokeOnCancel: BOOLEAN,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "IoSetCompletionRoutineEx", kernel::DISPATCH) {
        return STATUS_INVALID_PARAMETER;
    }
    let device = DeviceObject as usize;
    let live = lock(kernel.device_objects())
        .objects
        .get(&device)
        .is_some_and(|o| !o.delete_pending);
    if !live {
        kernel.violate(
            rules::COMPLETION_EX_DEVICE_NOT_LIVE,
            format!("IoSetCompletionRoutineEx given device object {device:#x}, which is not a live device object of the driver"),
        );
        return STATUS_INVALID_PARAMETER;
    }
    let Some(routine) = CompletionRoutine else {
        kernel.violate(
            rules::COMPLETION_ROUTINE_NOT_SET,
            "IoSetCompletionRoutineEx given a NULL routine",
        );
        return STATUS_INVALID_PARAMETER;
    };
    if kernel
        .injected_fault(FaultSite::CompletionContext)
        .is_some()
    {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    let context = Box::into_raw(Box::new(ExContext {
        routine,
        context: Context,
        device,
    }));
    {
        let mut table = lock(kernel.device_objects());
        table.contexts.insert(context as usize, Irp as usize);
        if let Some(object) = table.objects.get_mut(&device) {
            object.references += 1;
        }
    }
    let mut control = 0;
    for (flag, on) in [
        (SL_INVOKE_ON_SUCCESS, InvokeOnSuccess),
        (SL_INVOKE_ON_ERROR, InvokeOnError),
        (SL_INVOKE_ON_CANCEL, InvokeOnCancel),
    ] {
        if on != 0 {
            control |= flag;
        }
    }
    // SAFETY: the caller's guarantee: a live IRP with a free next stack location, which is
    // the one before the current one (CurrentLocation is 1-based).
    unsafe {
        let next = usize::from((*Irp).CurrentLocation as u8).saturating_sub(2);
        let location = &mut *Irp.add(1).cast::<IO_STACK_LOCATION>().add(next);
        location.CompletionRoutine = Some(unload_safe_completion);
        location.Context = context.cast();
        location.Control = control as u8;
    }
    0
}

/// The I/O manager's wrapper: calls the driver's routine, then (in ntoskrnl, after the driver's
/// code has returned) drops the device object reference and frees the context.
unsafe extern "C" fn unload_safe_completion(
    device: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    // SAFETY: set by IoSetCompletionRoutineEx above; taken once, here.
    let ex = unsafe { Box::from_raw(context.cast::<ExContext>()) };
    // SAFETY: the driver's routine with its own context, as the I/O manager calls it.
    let result = unsafe { (ex.routine)(device, irp, ex.context) };
    let kernel = kernel::current();
    let mut table = lock(kernel.device_objects());
    table.contexts.remove(&(context as usize));
    if let Some(object) = table.objects.get_mut(&ex.device) {
        object.references = object.references.saturating_sub(1);
        if object.delete_pending && object.references == 0 {
            let wdf = object.wdf;
            drop(table);
            kernel.note(format!(
                "I/O manager: last reference to the device object of WDFDEVICE {wdf:#x} dropped"
            ));
        }
    }
    result
}
