//! Control-path WSK calls (socket, bind, local address, close) made synchronous with a bounded
//! wait at PASSIVE_LEVEL. The call's state lives in driver memory, not on the stack, so a
//! completion that arrives after the waiter gave up lands safely: the state machine below
//! decides who owns the result, and a socket that arrives late is kept for unload to close.

use crate::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, AtomicU64, Ordering};

use wdk_sys::ntddk::IoFreeIrp;
use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_DEVICE_BUSY, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_IO_TIMEOUT, STATUS_MORE_PROCESSING_REQUIRED,
};

use crate::irp;
use crate::kernel::{Event, EventKind};
use crate::wsk::abi::WSK_SOCKET;

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const DONE: u8 = 2;
const ABANDONED: u8 = 3;

/// What the call creates, so a late completion knows what it must not lose.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    CreatesSocket,
    Other,
}

pub struct SyncCall {
    state: AtomicU8,
    creates_socket: AtomicU8,
    status: AtomicI32,
    information: AtomicU64,
    completed: Event,
    /// A socket whose creation completed after the waiter gave up; closed at unload.
    pub orphan: AtomicPtr<WSK_SOCKET>,
}

impl SyncCall {
    /// # Safety
    /// `this` points to writable nonpaged memory that outlives every call made through it.
    pub unsafe fn init(this: *mut SyncCall) {
        // SAFETY: the caller's guarantee.
        unsafe {
            (*this).state = AtomicU8::new(IDLE);
            (*this).creates_socket = AtomicU8::new(0);
            (*this).status = AtomicI32::new(0);
            (*this).information = AtomicU64::new(0);
            (*this).orphan = AtomicPtr::new(core::ptr::null_mut());
            Event::init(&raw mut (*this).completed, EventKind::Notification, false);
        }
    }

    /// Allocates an IRP, lets `issue` pass it to WSK, and waits up to `timeout_ms` for the
    /// completion. Returns IoStatus.Information on success.
    pub fn call(
        &self,
        kind: CallKind,
        timeout_ms: u32,
        issue: impl FnOnce(PIRP) -> NTSTATUS,
    ) -> Result<u64, NTSTATUS> {
        if self
            .state
            .compare_exchange(IDLE, WAITING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // An earlier call timed out and its IRP is still with the provider.
            return Err(STATUS_DEVICE_BUSY);
        }
        let Some(irp) = irp::allocate_irp() else {
            self.state.store(IDLE, Ordering::Release);
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        };
        self.creates_socket
            .store(u8::from(kind == CallKind::CreatesSocket), Ordering::Relaxed);
        self.completed.clear();
        // SAFETY: a fresh IRP with one stack location; `self` outlives the call (see `init`).
        unsafe {
            irp::set_completion_routine(irp, complete, (self as *const Self).cast_mut().cast())
        };
        // The provider completes the IRP on every outcome, so the returned status carries
        // nothing the completion will not.
        let _ = issue(irp);
        if !self.completed.wait(timeout_ms)
            && self
                .state
                .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Err(STATUS_IO_TIMEOUT);
        }
        let status = self.status.load(Ordering::Acquire);
        let information = self.information.load(Ordering::Acquire);
        self.state.store(IDLE, Ordering::Release);
        if status >= 0 {
            Ok(information)
        } else {
            Err(status)
        }
    }
}

/// Records the result, frees the IRP, and wakes the waiter (or, if it gave up, keeps what
/// must not be lost). Runs at DISPATCH_LEVEL; never calls WSK.
unsafe extern "C" fn complete(_device: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: the context is the SyncCall that issued this IRP; it outlives the call.
    let call = unsafe { &*context.cast::<SyncCall>() };
    // SAFETY: the provider hands the IRP back to us in this routine.
    let (status, information) = unsafe {
        (
            (*irp).IoStatus.__bindgen_anon_1.Status,
            (*irp).IoStatus.Information,
        )
    };
    // SAFETY: our IRP, not used after this.
    unsafe { IoFreeIrp(irp) };
    call.status.store(status, Ordering::Release);
    call.information.store(information, Ordering::Release);
    if call
        .state
        .compare_exchange(WAITING, DONE, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        call.completed.set();
    } else {
        if status >= 0 && call.creates_socket.load(Ordering::Relaxed) == 1 {
            call.orphan
                .store(information as *mut WSK_SOCKET, Ordering::Release);
        }
        call.state.store(IDLE, Ordering::Release);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}
