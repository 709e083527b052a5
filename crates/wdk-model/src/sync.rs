//! Events, waits, spin locks and IRQL.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::constants::*;
use crate::kernel::{self, lock, rules};
use crate::types::*;

/// The dispatcher lock: one mutex and condition variable per kernel, under which event states
/// change, so a waiter never misses a signal.
#[derive(Default)]
pub(crate) struct Dispatcher {
    lock: Mutex<HashSet<usize>>,
    signalled: Condvar,
}

impl kernel::KernelState {
    /// This kernel's dispatcher lock: its slot (`kernel::slots`), filled by `crate::boot`.
    fn dispatcher(&self) -> &Dispatcher {
        self.slot()
    }
}

/// # Safety
/// `event` must point to a live KEVENT.
unsafe fn signal_state<'a>(event: PRKEVENT) -> &'a AtomicI32 {
    // SAFETY: SignalState is a naturally aligned i32 inside the live KEVENT.
    unsafe { AtomicI32::from_ptr(&raw mut (*event).Header.SignalState) }
}

/// # Safety
/// `event` must point to a live KEVENT.
unsafe fn is_synchronization(event: PRKEVENT) -> bool {
    // SAFETY: the caller guarantees the event is live; the type is its first byte.
    unsafe { (*event).Header.__bindgen_anon_1.Lock & 0xFF == _EVENT_TYPE::SynchronizationEvent }
}

/// Initialises an event.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeInitializeEvent(Event: PRKEVENT, Type: EVENT_TYPE, State: BOOLEAN) {
    let kernel = kernel::current();
    let mut initialised = lock(&kernel.dispatcher().lock);
    // SAFETY: the caller provides writable KEVENT storage.
    unsafe {
        *Event = KEVENT::default();
        (*Event).Header.__bindgen_anon_1.Lock = Type & 0xFF;
        (*Event).Header.SignalState = LONG::from(State != 0);
    }
    initialised.insert(Event as usize);
}

fn check_initialised(
    kernel: &kernel::KernelState,
    initialised: &HashSet<usize>,
    event: PRKEVENT,
    routine: &str,
) -> bool {
    if initialised.contains(&(event as usize)) {
        return true;
    }
    kernel.violate(
        rules::EVENT_NOT_INITIALIZED,
        format!("{routine}({:#x})", event as usize),
    );
    false
}

/// Signals an event; returns its previous state.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeSetEvent(Event: PRKEVENT, Increment: KPRIORITY, Wait: BOOLEAN) -> LONG {
    let kernel = kernel::current();
    let _ = (Increment, Wait);
    if !kernel::require_irql(&kernel, "KeSetEvent", kernel::DISPATCH) {
        return 0;
    }
    let initialised = lock(&kernel.dispatcher().lock);
    if !check_initialised(&kernel, &initialised, Event, "KeSetEvent") {
        return 0;
    }
    // SAFETY: the event is initialised and the caller guarantees it is live.
    let previous = unsafe { signal_state(Event) }.swap(1, Ordering::SeqCst);
    kernel.dispatcher().signalled.notify_all();
    previous
}

/// Resets an event to not-signalled.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeClearEvent(Event: PRKEVENT) {
    let kernel = kernel::current();
    let initialised = lock(&kernel.dispatcher().lock);
    if check_initialised(&kernel, &initialised, Event, "KeClearEvent") {
        // SAFETY: initialised and live.
        unsafe { signal_state(Event) }.store(0, Ordering::SeqCst);
    }
}

/// Resets an event, returning its previous state.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeResetEvent(Event: PRKEVENT) -> LONG {
    let kernel = kernel::current();
    let initialised = lock(&kernel.dispatcher().lock);
    if !check_initialised(&kernel, &initialised, Event, "KeResetEvent") {
        return 0;
    }
    // SAFETY: initialised and live.
    unsafe { signal_state(Event) }.swap(0, Ordering::SeqCst)
}

/// Reads an event's state.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeReadStateEvent(Event: PRKEVENT) -> LONG {
    // SAFETY: the caller guarantees the event is live.
    unsafe { signal_state(Event) }.load(Ordering::SeqCst)
}

/// Converts a KE timeout (negative: relative, in 100 ns units; positive: absolute) into a
/// deadline. Absolute times count from boot in the model.
fn deadline(kernel: &kernel::KernelState, timeout: PLARGE_INTEGER) -> Option<Instant> {
    if timeout.is_null() {
        return None;
    }
    // SAFETY: a non-null timeout points at a LARGE_INTEGER.
    let ticks = unsafe { (*timeout).QuadPart };
    Some(if ticks < 0 {
        Instant::now() + Duration::from_nanos(ticks.unsigned_abs().saturating_mul(100))
    } else {
        kernel.booted_at + Duration::from_nanos((ticks as u64).saturating_mul(100))
    })
}

/// Waits for an event (the only dispatcher object the model has).
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeWaitForSingleObject(
    Object: PVOID,
    WaitReason: KWAIT_REASON,
    WaitMode: KPROCESSOR_MODE,
    Alertable: BOOLEAN,
    Timeout: PLARGE_INTEGER,
) -> NTSTATUS {
    let kernel = kernel::current();
    let _ = (WaitReason, WaitMode, Alertable);
    let event = Object.cast::<KEVENT>();
    // SAFETY: a non-null timeout points at a LARGE_INTEGER.
    let zero_timeout = !Timeout.is_null() && unsafe { (*Timeout).QuadPart } == 0;
    let max = if zero_timeout { kernel::DISPATCH } else { 1 };
    if !kernel::require_irql(
        &kernel,
        "KeWaitForSingleObject (with a nonzero timeout)",
        max,
    ) {
        return STATUS_TIMEOUT;
    }
    if Timeout.is_null() && kernel.in_driver_entry.load(Ordering::SeqCst) {
        kernel.violate(
            rules::UNBOUNDED_WAIT_IN_DRIVER_ENTRY,
            "KeWaitForSingleObject with no timeout",
        );
    }
    let deadline = deadline(&kernel, Timeout);
    let mut initialised = lock(&kernel.dispatcher().lock);
    if !check_initialised(&kernel, &initialised, event, "KeWaitForSingleObject") {
        return STATUS_TIMEOUT;
    }
    loop {
        // SAFETY: the event is initialised and the caller guarantees it is live.
        let state = unsafe { signal_state(event) };
        if state.load(Ordering::SeqCst) != 0 {
            // SAFETY: as above.
            if unsafe { is_synchronization(event) } {
                state.store(0, Ordering::SeqCst);
            }
            return STATUS_SUCCESS;
        }
        let wait = match deadline {
            None => Duration::from_millis(100),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left,
                _ => return STATUS_TIMEOUT,
            },
        };
        initialised = kernel
            .dispatcher()
            .signalled
            .wait_timeout(initialised, wait)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// Sleeps the calling thread.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeDelayExecutionThread(
    WaitMode: KPROCESSOR_MODE,
    Alertable: BOOLEAN,
    Interval: PLARGE_INTEGER,
) -> NTSTATUS {
    let kernel = kernel::current();
    let _ = (WaitMode, Alertable);
    if !kernel::require_irql(&kernel, "KeDelayExecutionThread", 1) {
        return STATUS_SUCCESS;
    }
    if let Some(deadline) = deadline(&kernel, Interval) {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
    STATUS_SUCCESS
}

/// The calling thread's simulated IRQL.
///
/// # Safety
/// Always safe; `unsafe` to match the real binding.
#[allow(non_snake_case)]
pub unsafe fn KeGetCurrentIrql() -> KIRQL {
    kernel::irql()
}

static NEXT_THREAD_TAG: AtomicU64 = AtomicU64::new(1);
thread_local! {
    static THREAD_TAG: u64 = NEXT_THREAD_TAG.fetch_add(1, Ordering::Relaxed);
}

/// Acquires a spin lock, raising to DISPATCH_LEVEL; returns the previous IRQL.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeAcquireSpinLockRaiseToDpc(SpinLock: PKSPIN_LOCK) -> KIRQL {
    let kernel = kernel::current();
    let previous = kernel::irql();
    kernel::require_irql(&kernel, "KeAcquireSpinLockRaiseToDpc", kernel::DISPATCH);
    // SAFETY: a KSPIN_LOCK is a naturally aligned pointer-sized integer in live memory.
    let word = unsafe { AtomicU64::from_ptr(SpinLock) };
    let me = THREAD_TAG.with(|t| *t);
    if word.load(Ordering::Relaxed) == me {
        kernel.violate(
            rules::SPIN_LOCK_MISUSE,
            format!(
                "spin lock {:#x} acquired again by its owner (deadlock)",
                SpinLock as usize
            ),
        );
        kernel::set_irql(kernel::DISPATCH);
        return previous;
    }
    let mut spins = 0u32;
    while word
        .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        spins += 1;
        if spins.is_multiple_of(64) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    kernel::set_irql(kernel::DISPATCH);
    previous
}

/// Releases a spin lock and returns to `NewIrql`.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeReleaseSpinLock(SpinLock: PKSPIN_LOCK, NewIrql: KIRQL) {
    let kernel = kernel::current();
    // SAFETY: as in KeAcquireSpinLockRaiseToDpc.
    let word = unsafe { AtomicU64::from_ptr(SpinLock) };
    let me = THREAD_TAG.with(|t| *t);
    if word
        .compare_exchange(me, 0, Ordering::Release, Ordering::Relaxed)
        .is_err()
    {
        kernel.violate(
            rules::SPIN_LOCK_MISUSE,
            format!(
                "spin lock {:#x} released by a thread that does not hold it",
                SpinLock as usize
            ),
        );
    }
    kernel::set_irql(NewIrql);
}

const _: () = assert!(DISPATCH_LEVEL == kernel::DISPATCH as u32);

/// Initialises a spin lock.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn KeInitializeSpinLock(SpinLock: PKSPIN_LOCK) {
    // SAFETY: the caller provides writable KSPIN_LOCK storage.
    unsafe { SpinLock.write(0) };
}
