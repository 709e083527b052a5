//! Control-path WSK calls (socket, bind, local address, control, close) made synchronous at
//! PASSIVE_LEVEL. The call's state lives in driver memory, not on the stack, so a completion
//! that arrives after the waiter gave up lands safely: the state machine below decides who
//! owns the result, and a socket that arrives late is kept for unload to close.
//!
//! The SOCKADDR a call passes to WSK (WskBind's LocalAddress, the SIO_WSK_SET_*_ADDRESS
//! input, WskGetLocalAddress's output) lives here too, in [`SyncCall::address`]: the provider
//! may read or write it until the IRP completes (the subsystem completes the IRP once the
//! operation is done, Learn "Using IRPs with Winsock Kernel Functions"; the driver takes the
//! strict side that inputs are read until then), and only the caller that moved the state from
//! IDLE to WAITING writes it. A call
//! abandoned after a timeout keeps the state out of IDLE until its completion, so nobody can
//! rewrite the address while an abandoned IRP may still read it.

use core::cell::UnsafeCell;

use crate::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, AtomicU64, Ordering};

use wdk_sys::DEVICE_OBJECT;

use wdk_sys::ntddk::{IoFreeIrp, IoSetCompletionRoutineEx};
use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_DEVICE_BUSY, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_IO_TIMEOUT, STATUS_MORE_PROCESSING_REQUIRED,
};

use crate::irp;
use crate::kernel::{Event, EventKind};
use crate::wsk::abi::{SOCKADDR, WSK_SOCKET};
use crate::wsk::{Issued, SetCompletion, SockAddrStorage};

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const DONE: u8 = 2;
const ABANDONED: u8 = 3;
/// The completion won the race (it moved WAITING here) and is still signalling the waiter; it
/// publishes DONE as its very last access to the SyncCall. The waiter acts only on DONE.
const COMPLETING: u8 = 4;

/// Places for sockets created late (see [`SyncCall`]'s `orphans`).
const ORPHAN_PLACES: usize = 2;

/// How long the waiter polls between checks when it waits for good.
const POLL_MS: u32 = 100;

/// What the call creates, so a late completion knows what it must not lose.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    CreatesSocket,
    Other,
}

/// How long a caller waits for the completion.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// At most this many milliseconds; then the call is abandoned (its IRP stays with WSK).
    Bounded(u32),
    /// Until it completes: for unload, where WSK always completes the IRP (WskCloseSocket
    /// cancels whatever else is pending, Learn PFN_WSK_CLOSE_SOCKET). It first waits for an
    /// abandoned earlier call to complete.
    UntilDone,
}

/// A finished call: IoStatus.Information and the SOCKADDR buffer as the provider left it.
pub struct Done {
    pub information: u64,
    pub address: SockAddrStorage,
}

/// Why a call did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failed {
    /// The call never reached WSK (no IRP, no dispatch entry, or an abandoned call still
    /// outstanding): nothing was done, and it may be made again.
    NotIssued(NTSTATUS),
    /// WSK completed the IRP with this failure.
    Completed(NTSTATUS),
    /// The bounded wait ran out; the IRP is still with WSK and completes later.
    TimedOut,
}

impl Failed {
    pub fn status(self) -> NTSTATUS {
        match self {
            Failed::NotIssued(status) | Failed::Completed(status) => status,
            Failed::TimedOut => STATUS_IO_TIMEOUT,
        }
    }
}

pub struct SyncCall {
    state: AtomicU8,
    creates_socket: AtomicU8,
    status: AtomicI32,
    information: AtomicU64,
    completed: Event,
    /// Signalled by a late completion just before it returns the call to IDLE (its last access;
    /// waiters act on IDLE, not on the event).
    settled: Event,
    /// The call's SOCKADDR input/output. Written only by the caller that moved `state` from
    /// IDLE to WAITING (before issuing) and read back by it after DONE; between those, and
    /// until the completion of an abandoned call, only the provider touches it.
    address: UnsafeCell<SockAddrStorage>,
    /// Sockets whose creation completed after the waiter gave up ("orphans"). A late
    /// completion stores into the first empty place (compare-exchange from null, never
    /// overwriting one); the holder of the engine's control lock takes them with
    /// [`SyncCall::take_orphan`] and closes them: before each new socket is created and at
    /// unload. Two places suffice: when the creator empties them, at most one abandoned call
    /// is outstanding (the SyncCall runs one call at a time) and the creator's own call may be
    /// abandoned next, so at most two orphans can arrive before the next take.
    orphans: [AtomicPtr<WSK_SOCKET>; ORPHAN_PLACES],
    /// The WDM device object every call's completion routine is set on with
    /// IoSetCompletionRoutineEx, so that the device (and so the driver image) stays until the
    /// routine has returned. Stored by [`SyncCall::attach_device`] before the device's queue
    /// exists and cleared by [`SyncCall::detach_device`] in the device's cleanup after the last
    /// call has settled; both under the engine's control lock or before any request, read by
    /// [`Arm`]'s [`SetCompletion::set`] under that lock. NULL: the routine is set without a
    /// reference.
    device: AtomicPtr<DEVICE_OBJECT>,
}

/// Sets a call's completion routine on its IRP ([`SetCompletion`], src/wsk/). A WSK wrapper
/// calls [`SetCompletion::set`] once it knows
/// the dispatch entry exists, immediately before it hands the IRP over: IoSetCompletionRoutineEx
/// allocates a context that only the I/O manager's wrapper frees, after the routine has run, so
/// an IRP freed unsent would leak it and its device reference (KMDF sets it only once the
/// request is certain to be sent: Windows-Driver-Frameworks
/// src/framework/shared/targets/general/fxiotarget.cpp, FxIoTarget::SubmitLocked).
pub struct Arm<'a> {
    call: &'a SyncCall,
}

impl SetCompletion for Arm<'_> {
    /// IoSetCompletionRoutineEx on the attached device object, all three invoke flags; if
    /// there is none or the call fails (it allocates: STATUS_INSUFFICIENT_RESOURCES), plain
    /// IoSetCompletionRoutine, as KMDF's FxIrp::SetCompletionRoutineEx falls back
    /// (src/framework/shared/inc/private/km/fxirpkm.hpp). The fallback only loses the unload
    /// guarantee for this call; it is rare (an allocation failure) and a unload then relies on
    /// the routine's last act being a signal followed by a return.
    ///
    /// # Safety
    /// `irp` is this call's fresh IRP with a free stack location, handed to WSK right after.
    unsafe fn set(&self, irp: PIRP) {
        let context: PVOID = (self.call as *const SyncCall).cast_mut().cast();
        let device = self.call.device.load(Ordering::Acquire);
        if !device.is_null() {
            // SAFETY: a live device object of this driver (attached, not yet detached); the
            // caller's IRP; `self.call` outlives the call (see `SyncCall::init`).
            let status =
                unsafe { IoSetCompletionRoutineEx(device, irp, Some(complete), context, 1, 1, 1) };
            if status >= 0 {
                return;
            }
        }
        // SAFETY: the caller's guarantee.
        unsafe { irp::set_completion_routine(irp, complete, context) };
    }
}

impl SyncCall {
    /// # Safety
    /// `this` points to writable nonpaged memory that outlives every call made through it.
    pub unsafe fn init(this: *mut SyncCall) {
        // Each field is written once; a field's place makes no reference to the uninitialised
        // memory, and writing it drops nothing.
        // SAFETY: the caller's guarantee: `this` is writable memory.
        let state = unsafe { &raw mut (*this).state };
        // SAFETY: a writable, uninitialised field.
        unsafe { state.write(AtomicU8::new(IDLE)) };
        // SAFETY: the caller's guarantee: `this` is writable memory.
        let creates_socket = unsafe { &raw mut (*this).creates_socket };
        // SAFETY: a writable, uninitialised field.
        unsafe { creates_socket.write(AtomicU8::new(0)) };
        // SAFETY: the caller's guarantee: `this` is writable memory.
        let status = unsafe { &raw mut (*this).status };
        // SAFETY: a writable, uninitialised field.
        unsafe { status.write(AtomicI32::new(0)) };
        // SAFETY: the caller's guarantee: `this` is writable memory.
        let information = unsafe { &raw mut (*this).information };
        // SAFETY: a writable, uninitialised field.
        unsafe { information.write(AtomicU64::new(0)) };
        // SAFETY: the caller's guarantee: `this` is writable memory.
        let address = unsafe { &raw mut (*this).address };
        // SAFETY: a writable, uninitialised field.
        unsafe { address.write(UnsafeCell::new(SockAddrStorage::ZERO)) };
        // SAFETY: the caller's guarantee: `this` is writable memory.
        let orphans = unsafe { &raw mut (*this).orphans };
        // SAFETY: a writable, uninitialised field.
        unsafe {
            orphans.write(core::array::from_fn(|_| {
                AtomicPtr::new(core::ptr::null_mut())
            }))
        };
        // SAFETY: the caller's guarantee.
        let device = unsafe { &raw mut (*this).device };
        // SAFETY: a writable, uninitialised field.
        unsafe { device.write(AtomicPtr::new(core::ptr::null_mut())) };
        // SAFETY: the caller's guarantee.
        let completed = unsafe { &raw mut (*this).completed };
        // SAFETY: the event's place, which stays put while the SyncCall lives.
        unsafe { Event::init(completed, EventKind::Notification, false) };
        // SAFETY: the caller's guarantee.
        let settled = unsafe { &raw mut (*this).settled };
        // SAFETY: the event's place, which stays put while the SyncCall lives.
        unsafe { Event::init(settled, EventKind::Synchronization, false) };
    }

    /// From now on every call's completion routine holds a reference on `device` until it has
    /// returned. Called before any call can be made on this device's behalf.
    pub fn attach_device(&self, device: *mut DEVICE_OBJECT) {
        self.device.store(device, Ordering::Release);
    }

    /// The device is about to be deleted: no call may reference it any more. Called once no
    /// call is outstanding ([`SyncCall::settle`]).
    pub fn detach_device(&self) {
        self.device.store(core::ptr::null_mut(), Ordering::Release);
    }

    /// Takes one socket created late, if any: the caller (holding the engine's control lock)
    /// now owns it and must close it.
    pub fn take_orphan(&self) -> Option<*mut WSK_SOCKET> {
        self.orphans.iter().find_map(|place| {
            let socket = place.swap(core::ptr::null_mut(), Ordering::AcqRel);
            (!socket.is_null()).then_some(socket)
        })
    }

    /// Keeps a socket whose creation completed after its waiter gave up. Never overwrites:
    /// false if every place is taken (not reachable while creators take the orphans first).
    fn keep_orphan(&self, socket: *mut WSK_SOCKET) -> bool {
        self.orphans.iter().any(|place| {
            place
                .compare_exchange(
                    core::ptr::null_mut(),
                    socket,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
        })
    }

    /// Moves IDLE to WAITING; with [`Wait::UntilDone`], first waits out an abandoned call.
    fn begin(&self, wait: Wait) -> bool {
        loop {
            if self
                .state
                .compare_exchange(IDLE, WAITING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
            if wait != Wait::UntilDone {
                // An earlier call timed out and its IRP is still with the provider.
                return false;
            }
            self.settled.wait(POLL_MS);
        }
    }

    /// Waits until no call is outstanding, not even an abandoned one (whose completion may
    /// still record an orphan socket). For unload.
    pub fn settle(&self) {
        if self.begin(Wait::UntilDone) {
            self.state.store(IDLE, Ordering::Release);
        }
    }

    /// True once this call's completion has finished with the SyncCall: DONE, or COMPLETING,
    /// which becomes DONE within a few instructions (the routine runs at DISPATCH_LEVEL and
    /// its next accesses are the event set and the DONE store), waited out here.
    fn completion_finished(&self) -> bool {
        loop {
            match self.state.load(Ordering::Acquire) {
                DONE => return true,
                COMPLETING => pause(),
                _ => return false,
            }
        }
    }

    /// Waits for this call's completion: true once the state is DONE. The event alone is not
    /// proof (a wake-up counts only with the state DONE; an earlier SyncCall, which set the
    /// event after publishing DONE, let a stale set wake the next call: found by loom, see
    /// src/sync_call_loom.rs). The completion sets the event before it publishes DONE, so a
    /// waiter that saw DONE never meets a set still to come.
    fn wait_done(&self, wait: Wait) -> bool {
        loop {
            let step = match wait {
                Wait::Bounded(timeout_ms) => timeout_ms,
                Wait::UntilDone => POLL_MS,
            };
            let signalled = self.completed.wait(step);
            if self.completion_finished() {
                return true;
            }
            match (signalled, wait) {
                // A wake-up without this call's completion: consume it. The completion moves
                // the state out of WAITING before it sets the event, so a set cleared here is
                // seen in the state next round.
                (true, _) => {
                    self.completed.clear();
                    if self.completion_finished() {
                        return true;
                    }
                }
                (false, Wait::UntilDone) => {}
                (false, Wait::Bounded(_)) => return false,
            }
        }
    }

    /// Allocates an IRP, copies `input` into the call's SOCKADDR buffer, lets `issue` pass
    /// both to WSK (arming the completion routine with the given [`Arm`] first), and waits for the completion as `wait` says.
    pub fn call(
        &self,
        kind: CallKind,
        wait: Wait,
        input: SockAddrStorage,
        issue: impl FnOnce(PIRP, *mut SOCKADDR, &Arm) -> Issued,
    ) -> Result<Done, Failed> {
        if !self.begin(wait) {
            return Err(Failed::NotIssued(STATUS_DEVICE_BUSY));
        }
        let Some(irp) = irp::allocate_irp() else {
            self.state.store(IDLE, Ordering::Release);
            return Err(Failed::NotIssued(STATUS_INSUFFICIENT_RESOURCES));
        };
        self.creates_socket
            .store(u8::from(kind == CallKind::CreatesSocket), Ordering::Relaxed);
        self.completed.clear();
        // SAFETY: we moved the state from IDLE to WAITING, so no IRP refers to the buffer.
        unsafe { *self.address.get() = input };
        // The wrapper sets the completion routine (`Arm::set`) just before it hands the IRP to
        // WSK. The provider completes the IRP on every outcome, so the returned status carries
        // nothing the completion will not; a call that never reached WSK freed the IRP.
        let arm = Arm { call: self };
        if let Issued::NotSubmitted(status) = issue(irp, self.address.get().cast(), &arm) {
            self.state.store(IDLE, Ordering::Release);
            return Err(Failed::NotIssued(status));
        }
        let finished = self.wait_done(wait);
        if !finished
            && self
                .state
                .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Err(Failed::TimedOut);
        }
        // The completion won the race (COMPLETING or DONE): take the result once it is DONE.
        if !finished {
            let _done = self.completion_finished();
        }
        let status = self.status.load(Ordering::Acquire);
        let information = self.information.load(Ordering::Acquire);
        // SAFETY: DONE: the IRP has completed, nobody else touches the buffer.
        let address = unsafe { *self.address.get() };
        self.state.store(IDLE, Ordering::Release);
        if status >= 0 {
            Ok(Done {
                information,
                address,
            })
        } else {
            Err(Failed::Completed(status))
        }
    }
}

/// One step of the short wait for a completion that is publishing DONE.
fn pause() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// Records the result, frees the IRP, and wakes the waiter (or, if it gave up, keeps what
/// must not be lost). Runs at DISPATCH_LEVEL.
unsafe extern "C" fn complete(_device: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: the context is the SyncCall that issued this IRP; it outlives the call.
    let call = unsafe { &*context.cast::<SyncCall>() };
    // SAFETY: the provider hands the IRP back to us in this routine: ours to read.
    let io_status = unsafe { &(*irp).IoStatus };
    // SAFETY: a completed IRP's IoStatus holds a Status (the union's NTSTATUS member).
    let status = unsafe { io_status.__bindgen_anon_1.Status };
    let information = io_status.Information;
    // SAFETY: our IRP, not used after this.
    unsafe { IoFreeIrp(irp) };
    call.status.store(status, Ordering::Release);
    call.information.store(information, Ordering::Release);
    // The last access to the SyncCall on either path is the store of the state the waiter acts
    // on (DONE, or IDLE after an abandoned call): a waiter that sees it may tear the engine
    // down at once, and on IoSetCompletionRoutineEx's fallback nothing else keeps the memory
    // alive while this routine returns (the same rule as src/rundown.rs's release).
    if call
        .state
        .compare_exchange(WAITING, COMPLETING, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        call.completed.set();
        call.state.store(DONE, Ordering::Release);
    } else {
        if status >= 0 && call.creates_socket.load(Ordering::Relaxed) == 1 {
            // Never false while the engine empties the places before each creation (see
            // `orphans`); were it false, the socket would stay open and unload's WskDeregister
            // would wait on it, as it would have for an overwritten orphan.
            let _kept = call.keep_orphan(information as *mut WSK_SOCKET);
        }
        call.settled.set();
        call.state.store(IDLE, Ordering::Release);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}
