//! Small safe wrappers over the kernel routines the driver uses: pool memory, events, spin
//! locks, timeouts. Everything here lives in nonpaged pool owned by the driver.
//!
//! Under `cfg(loom)` (host model checking, see src/sync.rs) `Event`, `SpinLock` and `delay` are
//! built on loom's primitives instead, with the same interface.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use wdk_sys::POOL_FLAG_NON_PAGED;
use wdk_sys::ntddk::{ExAllocatePool2, ExFreePoolWithTag};
#[cfg(not(loom))]
use wdk_sys::ntddk::{
    KeAcquireSpinLockRaiseToDpc, KeClearEvent, KeDelayExecutionThread, KeInitializeEvent,
    KeInitializeSpinLock, KeReleaseSpinLock, KeSetEvent, KeWaitForSingleObject,
};
#[cfg(not(loom))]
use wdk_sys::{
    _EVENT_TYPE, _KWAIT_REASON, _MODE, KEVENT, KIRQL, KSPIN_LOCK, LARGE_INTEGER, STATUS_SUCCESS,
};
use wsk_sample_ioctl::POOL_TAG;

#[cfg(loom)]
pub use loom_kernel::{Event, SpinLock, delay};

/// Allocates zeroed nonpaged pool for a `T` with the driver's tag. The memory is not a `T`
/// yet: the caller initialises it in place (kernel objects such as [`Event`] must be
/// initialised where they will live) and only then treats it as one.
pub fn allocate<T>() -> Option<NonNull<MaybeUninit<T>>> {
    allocate_bytes(size_of::<T>()).map(NonNull::cast)
}

/// Allocates `size` zeroed bytes of nonpaged pool with the driver's tag.
pub fn allocate_bytes(size: usize) -> Option<NonNull<u8>> {
    // SAFETY: a plain allocation; the result is checked for NULL.
    let memory = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, size as u64, POOL_TAG) };
    NonNull::new(memory.cast())
}

/// Frees memory from [`allocate`] or [`allocate_bytes`].
///
/// # Safety
/// `memory` must come from those functions and not be used afterwards.
pub unsafe fn free<T>(memory: NonNull<T>) {
    // SAFETY: the caller's guarantee; same tag as the allocation.
    unsafe { ExFreePoolWithTag(memory.as_ptr().cast(), POOL_TAG) };
}

#[cfg(not(loom))]
/// A relative timeout for KeWaitForSingleObject (negative, in 100 ns units).
pub fn relative_timeout(milliseconds: u32) -> LARGE_INTEGER {
    LARGE_INTEGER {
        QuadPart: -i64::from(milliseconds) * 10_000,
    }
}

/// Sleeps the calling thread for about `milliseconds` (KeDelayExecutionThread, non-alertable,
/// kernel mode; IRQL <= APC_LEVEL). The real sleep is rounded up to the system timer's
/// resolution.
#[cfg(not(loom))]
pub fn delay(milliseconds: u32) {
    let mut interval = relative_timeout(milliseconds);
    // SAFETY: the interval outlives the call; a non-alertable kernel-mode wait.
    let status = unsafe { KeDelayExecutionThread(_MODE::KernelMode as i8, 0, &mut interval) };
    // Non-alertable and KernelMode, so it cannot end early with STATUS_ALERTED or
    // STATUS_USER_APC (Learn, KeDelayExecutionThread): the interval elapsed.
    let _ = status;
}

/// A KEVENT living in driver-owned nonpaged memory.
///
/// An `Event` cannot be constructed by value: KeInitializeEvent makes the dispatcher header's
/// wait list point at itself, so a KEVENT must be initialised where it lives and never move
/// afterwards. The only initialiser is the in-place [`Event::init`], and every container that
/// holds an event ([`ControlLock`], SlotPool, SyncCall, the engine) is itself built in place by
/// an initialiser that runs `init` before anyone can get a reference to the container: the
/// engine's memory is `MaybeUninit<Engine>` ([`allocate`]) until `Engine::create` has
/// initialised every field, and only then is it handed out as an `Engine`.
#[cfg(not(loom))]
#[repr(transparent)]
pub struct Event(UnsafeCell<KEVENT>);

#[cfg(not(loom))]
// SAFETY: a KEVENT is designed to be signalled and waited on from any thread; every access
// goes through the kernel's routines.
unsafe impl Sync for Event {}

/// Notification events stay signalled until cleared; synchronization events wake one waiter
/// and reset themselves.
#[derive(Clone, Copy)]
pub enum EventKind {
    Notification,
    Synchronization,
}

#[cfg(not(loom))]
impl Event {
    /// Initialises the event in place.
    ///
    /// # Safety
    /// `this` must point to writable memory that stays put for the event's life.
    pub unsafe fn init(this: *mut Event, kind: EventKind, signalled: bool) {
        let kind = match kind {
            EventKind::Notification => _EVENT_TYPE::NotificationEvent,
            EventKind::Synchronization => _EVENT_TYPE::SynchronizationEvent,
        };
        // SAFETY: the caller's guarantee; Event is a transparent KEVENT.
        unsafe { KeInitializeEvent(this.cast(), kind, u8::from(signalled)) };
    }

    /// Signals the event (callable at DISPATCH_LEVEL).
    pub fn set(&self) {
        // SAFETY: the event was initialised with `init` and lives as long as `self`.
        unsafe { KeSetEvent(self.0.get(), 0, 0) };
    }

    /// Resets the event.
    pub fn clear(&self) {
        // SAFETY: as in `set`.
        unsafe { KeClearEvent(self.0.get()) };
    }

    /// Waits at PASSIVE_LEVEL for at most `milliseconds`; true if the event was signalled.
    pub fn wait(&self, milliseconds: u32) -> bool {
        let mut timeout = relative_timeout(milliseconds);
        // SAFETY: as in `set`; the timeout outlives the call.
        let status = unsafe {
            KeWaitForSingleObject(
                self.0.get().cast(),
                _KWAIT_REASON::Executive,
                _MODE::KernelMode as i8,
                0,
                &mut timeout,
            )
        };
        status == STATUS_SUCCESS
    }
}

#[cfg(not(loom))]
/// A KSPIN_LOCK in driver-owned nonpaged memory.
#[repr(transparent)]
pub struct SpinLock(UnsafeCell<KSPIN_LOCK>);

#[cfg(not(loom))]
// SAFETY: the kernel's spin lock routines serialise access across processors.
unsafe impl Sync for SpinLock {}

#[cfg(not(loom))]
impl SpinLock {
    /// Initialises the lock in place.
    ///
    /// # Safety
    /// `this` must point to writable memory that stays put for the lock's life.
    pub unsafe fn init(this: *mut SpinLock) {
        // SAFETY: the caller's guarantee; SpinLock is a transparent KSPIN_LOCK.
        unsafe { KeInitializeSpinLock(this.cast()) };
    }

    /// Acquires the lock, raising to DISPATCH_LEVEL until the guard drops.
    pub fn lock(&self) -> SpinLockGuard<'_> {
        // SAFETY: the lock was initialised with `init`.
        let previous = unsafe { KeAcquireSpinLockRaiseToDpc(self.0.get()) };
        SpinLockGuard {
            lock: self,
            previous,
        }
    }
}

#[cfg(not(loom))]
/// Holds a [`SpinLock`]; releases it and restores the IRQL on drop.
pub struct SpinLockGuard<'a> {
    lock: &'a SpinLock,
    previous: KIRQL,
}

#[cfg(not(loom))]
impl Drop for SpinLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard acquired the lock on this thread.
        unsafe { KeReleaseSpinLock(self.lock.0.get(), self.previous) };
    }
}

/// A mutex for the control path (PASSIVE_LEVEL only) that owns the state it guards: the state
/// is reachable only through the [`ControlGuard`] that [`ControlLock::lock`] returns, so nothing
/// touches it without holding the lock.
///
/// Built on a synchronization event that starts signalled, as KeInitializeEvent documents a
/// synchronization event (Learn, KeInitializeEvent: a waiter that is satisfied resets it, so
/// one thread at a time gets through; KeSetEvent lets the next one in). Unlike a KMUTEX or a
/// FAST_MUTEX it waits with a bound (`lock` takes a timeout) and does not raise the IRQL or
/// disable APCs, so the holder may make bounded waits of its own (SyncCall) at PASSIVE_LEVEL.
/// It is not recursive: a holder that calls `lock` again waits out its own timeout.
pub struct ControlLock<T> {
    event: Event,
    state: UnsafeCell<T>,
}

// SAFETY: the state is reached only through a guard, and one guard exists at a time (the
// event admits one waiter per set); `T: Send` because the holder may be any thread.
unsafe impl<T: Send> Sync for ControlLock<T> {}

impl<T> ControlLock<T> {
    /// Initialises the lock in place, unlocked, around `state`.
    ///
    /// # Safety
    /// `this` must point to writable memory that stays put for the lock's life (the event is a
    /// KEVENT, whose wait list points into itself).
    pub unsafe fn init(this: *mut ControlLock<T>, state: T) {
        // SAFETY: the caller's guarantee; a place expression, no reference is made.
        let event = unsafe { &raw mut (*this).event };
        // SAFETY: the caller's guarantee: writable memory that stays put.
        unsafe { Event::init(event, EventKind::Synchronization, true) };
        // SAFETY: as above.
        let cell = unsafe { &raw mut (*this).state };
        // SAFETY: as above; the cell is not initialised yet, so nothing is dropped.
        unsafe { cell.write(UnsafeCell::new(state)) };
    }

    /// Acquires the lock at PASSIVE_LEVEL, waiting at most `milliseconds`; None on timeout.
    pub fn lock(&self, milliseconds: u32) -> Option<ControlGuard<'_, T>> {
        self.event
            .wait(milliseconds)
            .then_some(ControlGuard { lock: self })
    }
}

/// Holds a [`ControlLock`] and gives access to its state; releases the lock on drop.
#[must_use = "the lock is released as soon as the guard drops"]
pub struct ControlGuard<'a, T> {
    lock: &'a ControlLock<T>,
}

impl<T> core::ops::Deref for ControlGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock, so no other reference to the state exists.
        unsafe { &*self.lock.state.get() }
    }
}

impl<T> core::ops::DerefMut for ControlGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access through the guard.
        unsafe { &mut *self.lock.state.get() }
    }
}

impl<T> Drop for ControlGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.event.set();
    }
}

/// Loom builds only: the kernel primitives above with the same interface, built on
/// loom's, so that code which waits on them can run under the model checker. Time is not
/// modelled: a bounded wait yields to the other threads once and may then time out, so loom
/// explores both a wait that is satisfied and one that gives up.
#[cfg(loom)]
mod loom_kernel {
    use super::EventKind;
    use crate::sync::atomic::{AtomicBool, Ordering};

    /// Stands in for KeDelayExecutionThread: lets the other threads run.
    pub fn delay(_milliseconds: u32) {
        loom::thread::yield_now();
    }

    /// A KEVENT's semantics: a notification event stays signalled until cleared; a
    /// synchronization event satisfies one wait and resets itself.
    pub struct Event {
        signalled: AtomicBool,
        kind: EventKind,
    }

    impl Event {
        /// # Safety
        /// `this` points to writable memory that stays put for the event's life.
        pub unsafe fn init(this: *mut Event, kind: EventKind, signalled: bool) {
            let event = Event {
                signalled: AtomicBool::new(signalled),
                kind,
            };
            // SAFETY: the caller's guarantee.
            unsafe { this.write(event) };
        }

        pub fn set(&self) {
            self.signalled.store(true, Ordering::Release);
        }

        pub fn clear(&self) {
            self.signalled.store(false, Ordering::Relaxed);
        }

        fn satisfied(&self) -> bool {
            match self.kind {
                EventKind::Notification => self.signalled.load(Ordering::Acquire),
                EventKind::Synchronization => self
                    .signalled
                    .compare_exchange(true, false, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok(),
            }
        }

        pub fn wait(&self, _milliseconds: u32) -> bool {
            if self.satisfied() {
                return true;
            }
            loom::thread::yield_now();
            self.satisfied()
        }
    }

    /// A spin lock: loom's mutex (IRQL is not modelled).
    pub struct SpinLock(loom::sync::Mutex<()>);

    impl SpinLock {
        /// # Safety
        /// `this` points to writable memory that stays put for the lock's life.
        pub unsafe fn init(this: *mut SpinLock) {
            // SAFETY: the caller's guarantee.
            unsafe { this.write(SpinLock(loom::sync::Mutex::new(()))) };
        }

        pub fn lock(&self) -> SpinLockGuard<'_> {
            SpinLockGuard(
                self.0
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )
        }
    }

    pub struct SpinLockGuard<'a>(#[allow(dead_code)] loom::sync::MutexGuard<'a, ()>);
}

/// Model checks of [`ControlLock`] (`cargo loom`): over every interleaving loom explores, the
/// guard releases the lock when it drops (the lock is free once both holders are gone) and each
/// holder's update of the state is seen afterwards. The `inside` flag also asserts one holder at
/// a time, but that check is weak: with a lock that never excludes, it still passed, because
/// the loom Event's wait yields and loom's yield lets the holder finish first (seen once; a
/// stronger exclusion test is left to do).
#[cfg(all(test, loom))]
mod loom_tests {
    use loom::thread;

    use super::ControlLock;
    use core::sync::atomic::Ordering;
    use loom::sync::atomic::{AtomicBool, AtomicU32};

    #[test]
    fn guard_releases_on_drop_and_state_is_kept() {
        loom::model(|| {
            let mut memory = Box::new(core::mem::MaybeUninit::<ControlLock<u32>>::uninit());
            // SAFETY: boxed memory that stays put (leaked below) for the lock's life.
            unsafe { ControlLock::init(memory.as_mut_ptr(), 0) };
            // SAFETY: initialised just above.
            let lock: &'static ControlLock<u32> = Box::leak(unsafe { memory.assume_init() });
            let inside: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
            let entered: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
            let holder = move || {
                if let Some(mut state) = lock.lock(1) {
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    *state += 1;
                    entered.fetch_add(1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                }
            };
            let other = thread::spawn(holder);
            holder();
            other.join().unwrap();
            let state = lock.lock(1).expect("free once both holders are gone");
            assert_eq!(*state, entered.load(Ordering::SeqCst));
        });
    }
}
