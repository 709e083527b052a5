//! IRPs: allocation with the real initial state, ownership while the provider holds one, and
//! completion the way `IofCompleteRequest` walks the stack locations.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use crate::constants::*;
use crate::kernel::{self, FaultSite, KernelState, lock, rules};
use crate::types::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IrpState {
    /// The driver owns it.
    Driver,
    /// Submitted to the provider (the operation named), not yet completed.
    Provider(&'static str),
    /// Its completion routine is running.
    Completing,
}

#[derive(Debug)]
pub(crate) struct IrpRecord {
    pub state: IrpState,
    pub layout: Layout,
    /// The provider completed it and IoReuseIrp has not run since (IRP_NOT_REINITIALIZED).
    pub completed: bool,
}

/// Freed IRPs are kept (poisoned) for a while so that a stale pointer is recognised as a use
/// after free instead of landing in someone else's memory.
const QUARANTINE: usize = 4096;
const FREED_FILL: u8 = 0xDF;

#[derive(Debug, Default)]
pub(crate) struct IrpTable {
    pub live: HashMap<usize, IrpRecord>,
    quarantine: VecDeque<(usize, Layout)>,
}

impl KernelState {
    /// This kernel's IRP table: its slot (`kernel::slots`), filled by `crate::boot`.
    fn irps(&self) -> &Mutex<IrpTable> {
        self.slot()
    }
}

impl IrpTable {
    fn was_freed(&self, irp: usize) -> bool {
        self.quarantine.iter().any(|&(a, _)| a == irp)
    }
}

impl Drop for IrpTable {
    fn drop(&mut self) {
        for (address, layout) in self.quarantine.drain(..) {
            // SAFETY: quarantined IRPs were allocated with this layout and are not live.
            unsafe { dealloc(address as *mut u8, layout) };
        }
    }
}

fn irp_layout(stack_size: usize) -> Option<Layout> {
    Layout::from_size_align(
        size_of::<IRP>() + stack_size * size_of::<IO_STACK_LOCATION>(),
        16,
    )
    .ok()
}

/// # Safety
/// `irp` must point to an IRP with at least `index + 1` stack locations.
unsafe fn stack_location(irp: PIRP, index: usize) -> PIO_STACK_LOCATION {
    // SAFETY: the stack locations follow the IRP header inside its allocation.
    unsafe { irp.add(1).cast::<IO_STACK_LOCATION>().add(index) }
}

/// # Safety
/// `irp` must be a live IRP.
unsafe fn current_location_ptr(irp: PIRP) -> *mut PIO_STACK_LOCATION {
    // SAFETY: the caller guarantees the IRP is live.
    unsafe {
        &raw mut (*irp)
            .Tail
            .Overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
    }
}

/// Allocates an IRP the way the I/O manager does: zeroed, `Type` IO_TYPE_IRP, `StackCount` n,
/// `CurrentLocation` n + 1 and `CurrentStackLocation` one past the last location.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn IoAllocateIrp(StackSize: CCHAR, ChargeQuota: BOOLEAN) -> PIRP {
    let kernel = kernel::current();
    let _ = ChargeQuota;
    if !kernel::require_irql(&kernel, "IoAllocateIrp", kernel::DISPATCH) {
        return core::ptr::null_mut();
    }
    if kernel.injected_fault(FaultSite::IrpAllocate).is_some() || StackSize < 1 {
        return core::ptr::null_mut();
    }
    let stack_size = StackSize as usize;
    let Some(layout) = irp_layout(stack_size) else {
        return core::ptr::null_mut();
    };
    // SAFETY: nonzero size.
    let irp = unsafe { alloc_zeroed(layout) }.cast::<IRP>();
    if irp.is_null() {
        return irp;
    }
    // SAFETY: fresh zeroed allocation of an IRP followed by `stack_size` stack locations.
    unsafe {
        (*irp).Type = IO_TYPE_IRP as CSHORT;
        (*irp).Size = layout.size() as USHORT;
        (*irp).StackCount = StackSize;
        (*irp).CurrentLocation = StackSize + 1;
        *current_location_ptr(irp) = stack_location(irp, stack_size);
    }
    lock(kernel.irps()).live.insert(
        irp as usize,
        IrpRecord {
            state: IrpState::Driver,
            layout,
            completed: false,
        },
    );
    kernel
        .counters
        .irp_allocations
        .fetch_add(1, Ordering::Relaxed);
    irp
}

/// Frees an IRP.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn IoFreeIrp(Irp: PIRP) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "IoFreeIrp", kernel::DISPATCH) {
        return;
    }
    let address = Irp as usize;
    let irps = lock(kernel.irps());
    let problem = match irps.live.get(&address).map(|r| r.state) {
        None if irps.was_freed(address) => Some((
            rules::IRP_DOUBLE_FREE,
            format!("IoFreeIrp({address:#x}) on an IRP already freed"),
        )),
        None => Some((rules::IRP_UNKNOWN, format!("IoFreeIrp({address:#x})"))),
        Some(IrpState::Provider(op)) => Some((
            rules::IRP_FREED_WHILE_OWNED,
            format!("IoFreeIrp({address:#x}) while {op} still owns it"),
        )),
        Some(IrpState::Driver | IrpState::Completing) => None,
    };
    if let Some((rule, detail)) = problem {
        drop(irps);
        kernel.violate(rule, detail);
        return;
    }
    drop(irps);
    // SAFETY: live and driver-owned (checked above).
    unsafe { crate::devobj::check_discard(&kernel, "IoFreeIrp", Irp) };
    let mut irps = lock(kernel.irps());
    let Some(record) = irps.live.remove(&address) else {
        return;
    };
    // SAFETY: the IRP is live and now removed from the table; poison it so stale reads show.
    unsafe { core::ptr::write_bytes(Irp.cast::<u8>(), FREED_FILL, record.layout.size()) };
    irps.quarantine.push_back((address, record.layout));
    if irps.quarantine.len() > QUARANTINE
        && let Some((old, layout)) = irps.quarantine.pop_front()
    {
        // SAFETY: quarantined memory was allocated with this layout and is no longer live.
        unsafe { dealloc(old as *mut u8, layout) };
    }
    drop(irps);
    kernel.counters.irp_frees.fetch_add(1, Ordering::Relaxed);
}

/// Reinitialises an IRP for another call, as Wine's ntoskrnl `IoReuseIrp` does: keeps
/// `AllocationFlags`, runs `IoInitializeIrp(irp, irp->Size, irp->StackCount)` (zero the whole
/// IRP with its stack locations, `Type` IO_TYPE_IRP, `Size`, `StackCount`, `CurrentLocation`
/// StackCount + 1, `CurrentStackLocation` one past the last location), restores
/// `AllocationFlags` and stores `Iostatus` in `IoStatus.Status`. So `Cancel`, `PendingReturned`
/// and the old completion routine are gone. Learn (IoReuseIrp): IRQL <= DISPATCH_LEVEL, only
/// for IRPs the driver allocated (raw memory or IoAllocateIrp); Learn, "Reusing IRPs": an IRP
/// from IoAllocateIrp is reused by calling IoReuseIrp.
///
/// Checked: the caller's IRQL; the IRP is one from IoAllocateIrp (IRP_UNKNOWN), not freed
/// (IRP_USE_AFTER_FREE), and not held by the provider (IRP_REUSED_WHILE_OWNED: never
/// submitted, or completed, including from its own completion routine).
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn IoReuseIrp(Irp: PIRP, Iostatus: NTSTATUS) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "IoReuseIrp", kernel::DISPATCH) {
        return;
    }
    let address = Irp as usize;
    let irps = lock(kernel.irps());
    let state = irps.live.get(&address).map(|r| r.state);
    let freed = irps.was_freed(address);
    drop(irps);
    match state {
        Some(IrpState::Driver | IrpState::Completing) => {}
        Some(IrpState::Provider(op)) => {
            return kernel.violate(
                rules::IRP_REUSED_WHILE_OWNED,
                format!("IoReuseIrp({address:#x}) while {op} owns it"),
            );
        }
        None if freed => {
            return kernel.violate(
                rules::IRP_USE_AFTER_FREE,
                format!("IoReuseIrp({address:#x})"),
            );
        }
        None => return kernel.violate(rules::IRP_UNKNOWN, format!("IoReuseIrp({address:#x})")),
    }
    // SAFETY: live and driver-owned (checked above).
    unsafe { crate::devobj::check_discard(&kernel, "IoReuseIrp", Irp) };
    // SAFETY: the IRP is live and driver-owned.
    unsafe {
        let stack_count = (*Irp).StackCount;
        let size = (*Irp).Size;
        let allocation_flags = (*Irp).AllocationFlags;
        core::ptr::write_bytes(Irp.cast::<u8>(), 0, size as usize);
        (*Irp).Type = IO_TYPE_IRP as CSHORT;
        (*Irp).Size = size;
        (*Irp).AllocationFlags = allocation_flags;
        (*Irp).StackCount = stack_count;
        (*Irp).CurrentLocation = stack_count + 1;
        (*Irp).IoStatus.__bindgen_anon_1.Status = Iostatus;
        *current_location_ptr(Irp) = stack_location(Irp, stack_count as usize);
    }
    if let Some(record) = lock(kernel.irps()).live.get_mut(&address) {
        record.completed = false;
    }
}

/// The provider takes an IRP for `op`: checks that it is live and driver-owned, that the
/// caller set a completion routine with all three invoke flags in the next stack location,
/// and advances to that location as `IoCallDriver` would.
pub(crate) fn take_for_provider(kernel: &KernelState, irp: PIRP, op: &'static str) -> bool {
    let address = irp as usize;
    let mut irps = lock(kernel.irps());
    let problem = match irps.live.get(&address).map(|r| r.state) {
        None if irps.was_freed(address) => Some((
            rules::IRP_USE_AFTER_FREE,
            format!("{op} given IRP {address:#x}, already freed"),
        )),
        None => Some((rules::IRP_UNKNOWN, format!("{op} given IRP {address:#x}"))),
        Some(IrpState::Provider(other)) => Some((
            rules::IRP_RESUBMITTED,
            format!("{op} given IRP {address:#x} which {other} still owns"),
        )),
        Some(IrpState::Driver | IrpState::Completing)
            if irps.live.get(&address).is_some_and(|r| r.completed) =>
        {
            Some((
                rules::IRP_NOT_REINITIALIZED,
                format!(
                    "{op} given IRP {address:#x}, which completed and was not passed to IoReuseIrp since"
                ),
            ))
        }
        Some(IrpState::Completing) => None,
        Some(IrpState::Driver) => None,
    };
    if let Some((rule, detail)) = problem {
        drop(irps);
        kernel.violate(rule, detail);
        return false;
    }
    // SAFETY: the IRP is live and driver-owned (checked above, table locked).
    let (current, stack_count) = unsafe { ((*irp).CurrentLocation, (*irp).StackCount) };
    if current < 2 || current > stack_count + 1 {
        drop(irps);
        kernel.violate(
            rules::IRP_NO_STACK_LOCATION,
            format!("{op} given IRP {address:#x} with CurrentLocation {current} of {stack_count}"),
        );
        return false;
    }
    // SAFETY: as above; `current - 2` is a valid stack location index.
    let next = unsafe { &*stack_location(irp, (current - 2) as usize) };
    let invoke_all = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
    crate::devobj::check_submission(kernel, op, address, next.CompletionRoutine);
    if next.CompletionRoutine.is_none() || next.Control & invoke_all != invoke_all {
        drop(irps);
        kernel.violate(
            rules::COMPLETION_ROUTINE_NOT_SET,
            format!("{op} given IRP {address:#x} whose next stack location has routine set: {}, Control {:#04x}", next.CompletionRoutine.is_some(), next.Control),
        );
        return false;
    }
    // SAFETY: as above.
    unsafe {
        (*irp).CurrentLocation = current - 1;
        *current_location_ptr(irp) = stack_location(irp, (current - 2) as usize);
    }
    if let Some(record) = irps.live.get_mut(&address) {
        record.state = IrpState::Provider(op);
    }
    true
}

/// Completes an IRP the provider owns, as `IofCompleteRequest` does: sets IoStatus, then walks
/// the stack locations upwards calling each completion routine whose invoke flags match the
/// outcome, at DISPATCH_LEVEL, stopping at STATUS_MORE_PROCESSING_REQUIRED.
///
/// Each flag is tested on its own (any match calls the routine): SL_INVOKE_ON_SUCCESS when
/// NT_SUCCESS(status), SL_INVOKE_ON_ERROR when not, SL_INVOKE_ON_CANCEL when `Irp->Cancel` is
/// set, as in Wine's ntoskrnl IoCompleteRequest (which tests `status == STATUS_SUCCESS` where
/// Windows tests NT_SUCCESS). `Irp->Cancel` is set only by IoCancelIrp, which neither the
/// driver nor the model's provider calls: completing with STATUS_CANCELLED does not set it.
pub(crate) fn complete(kernel: &KernelState, irp: PIRP, status: NTSTATUS, information: u64) {
    let address = irp as usize;
    {
        let mut irps = lock(kernel.irps());
        match irps.live.get_mut(&address) {
            Some(record) if matches!(record.state, IrpState::Provider(_)) => {
                record.state = IrpState::Completing;
                record.completed = true;
            }
            other => {
                let state = other.map(|r| r.state);
                drop(irps);
                kernel.violate(rules::IRP_FREED_WHILE_OWNED, format!("IRP {address:#x} changed hands before the provider completed it (state {state:?})"));
                return;
            }
        }
    }
    // SAFETY: the IRP is live and in the Completing state; the driver must not free it until
    // its completion routine runs.
    unsafe {
        (*irp).IoStatus.__bindgen_anon_1.Status = status;
        (*irp).IoStatus.Information = information;
    }
    kernel::at_irql(kernel::DISPATCH, || walk_stack(kernel, irp, status));
}

/// Whether a completion routine with these SL_INVOKE_ON_* flags runs: each flag on its own.
fn invokes(control: u32, status: NTSTATUS, cancel: bool) -> bool {
    (status >= 0 && control & SL_INVOKE_ON_SUCCESS != 0)
        || (status < 0 && control & SL_INVOKE_ON_ERROR != 0)
        || (cancel && control & SL_INVOKE_ON_CANCEL != 0)
}

fn walk_stack(kernel: &KernelState, irp: PIRP, status: NTSTATUS) {
    let address = irp as usize;
    let mut last_result = None;
    loop {
        // SAFETY: the IRP is live: it is in the Completing state and every routine call below
        // is followed by a liveness check before the IRP is touched again.
        let (current, stack_count, cancel) = unsafe {
            (
                (*irp).CurrentLocation,
                (*irp).StackCount,
                (*irp).Cancel != 0,
            )
        };
        if current > stack_count {
            break;
        }
        // SAFETY: `current - 1` is a valid index (1 <= current <= stack_count).
        let location = unsafe { &mut *stack_location(irp, (current - 1) as usize) };
        let routine = location.CompletionRoutine;
        let context = location.Context;
        let control = location.Control as u32;
        // SAFETY: advancing within the stack locations (one past the last is allowed).
        unsafe {
            (*irp).PendingReturned = (control & SL_PENDING_RETURNED) as u8;
            (*irp).CurrentLocation = current + 1;
            *current_location_ptr(irp) = stack_location(irp, current as usize);
        }
        *location = IO_STACK_LOCATION::default();
        let Some(routine) = routine.filter(|_| invokes(control, status, cancel)) else {
            continue;
        };
        kernel
            .completion_routines_running
            .fetch_add(1, Ordering::SeqCst);
        kernel
            .counters
            .completion_routines
            .fetch_add(1, Ordering::Relaxed);
        // SAFETY: the driver set this routine for this IRP; it runs at DISPATCH_LEVEL with a
        // NULL device object, as for an IRP the driver allocated itself. It may call WSK
        // (every datagram dispatch function allows IRQL <= DISPATCH_LEVEL, Learn wsk.h
        // reference) and reuse the IRP it was handed (Learn, "Using IRPs with Winsock KernelState
        // Functions"; IoReuseIrp).
        let result = kernel::with_completion_routine(|| unsafe {
            routine(core::ptr::null_mut(), irp, context)
        });
        kernel
            .completion_routines_running
            .fetch_sub(1, Ordering::SeqCst);
        if kernel::irql() != kernel::DISPATCH {
            kernel.violate(
                rules::IRQL_NOT_RESTORED,
                format!(
                    "completion routine of IRP {address:#x} returned at IRQL {}",
                    kernel::irql()
                ),
            );
            kernel::set_irql(kernel::DISPATCH);
        }
        if kernel.tracing() {
            kernel.note(format!("IRP {address:#x}: completion routine ran at DISPATCH_LEVEL (status {status:#010x}) and returned {result:#010x}"));
        }
        if result == STATUS_MORE_PROCESSING_REQUIRED {
            // The driver has taken the IRP back (and has usually freed it already).
            let mut irps = lock(kernel.irps());
            if let Some(record) = irps.live.get_mut(&address)
                && record.state == IrpState::Completing
            {
                record.state = IrpState::Driver;
            }
            return;
        }
        last_result = Some(result);
        if !lock(kernel.irps()).live.contains_key(&address) {
            kernel.violate(
                rules::COMPLETION_ROUTINE_RETURN,
                format!("completion routine freed IRP {address:#x} and returned {result:#010x}: the I/O manager would keep completing freed memory"),
            );
            return;
        }
    }
    let detail = match last_result {
        Some(result) => format!(
            "completion routine of driver-allocated IRP {address:#x} returned {result:#010x}: with no thread to complete to, Windows bugchecks"
        ),
        None => format!(
            "no completion routine of driver-allocated IRP {address:#x} asked for status {status:#010x}"
        ),
    };
    kernel.violate(rules::COMPLETION_ROUTINE_RETURN, detail);
    if let Some(record) = lock(kernel.irps()).live.get_mut(&address) {
        record.state = IrpState::Driver;
    }
}

/// Live IRPs (for leak reports).
pub(crate) fn live_irps(kernel: &KernelState) -> Vec<(usize, IrpState)> {
    lock(kernel.irps())
        .live
        .iter()
        .map(|(&a, r)| (a, r.state))
        .collect()
}

/// Completes a request IRP in the I/O manager's sense; provided for completeness of the
/// surface, but this driver never owns a WDM IRP it must complete itself.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn IofCompleteRequest(Irp: PIRP, PriorityBoost: CCHAR) {
    let kernel = kernel::current();
    let _ = PriorityBoost;
    kernel.violate(
        rules::IRP_UNKNOWN,
        format!(
            "IofCompleteRequest({:#x}): a driver that allocated its own IRP must not complete it",
            Irp as usize
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_invoke_flag_is_tested_on_its_own() {
        // A cancelled IRP completes with an error status: ON_ERROR alone calls the routine.
        assert!(invokes(SL_INVOKE_ON_ERROR, STATUS_CANCELLED, true));
        assert!(invokes(SL_INVOKE_ON_CANCEL, STATUS_CANCELLED, true));
        // STATUS_CANCELLED without IoCancelIrp (Cancel clear) does not match ON_CANCEL alone.
        assert!(!invokes(SL_INVOKE_ON_CANCEL, STATUS_CANCELLED, false));
        assert!(invokes(SL_INVOKE_ON_SUCCESS, 0, false));
        assert!(!invokes(SL_INVOKE_ON_SUCCESS, STATUS_CANCELLED, false));
        // A warning is not NT_SUCCESS.
        assert!(invokes(SL_INVOKE_ON_ERROR, STATUS_DEVICE_BUSY, false));
        assert!(!invokes(SL_INVOKE_ON_SUCCESS, STATUS_DEVICE_BUSY, false));
        // An informational status is.
        assert!(invokes(SL_INVOKE_ON_SUCCESS, STATUS_PENDING, false));
    }
}
