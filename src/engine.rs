//! The WSK engine: one per driver. It registers as a WSK client at load, captures the provider
//! and creates a bound datagram socket per address family on first use, sends through the slot
//! pool, counts what happened, and tears everything down in order at unload.

use core::cell::UnsafeCell;
use core::net::SocketAddr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use wdk_sys::ntddk::IoFreeIrp;
use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_CANCELLED, STATUS_DELETE_PENDING,
    STATUS_DEVICE_BUSY, STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_MORE_PROCESSING_REQUIRED, WDFREQUEST,
};
use wsk_sample_ioctl::{SEND_REPLY_SIZE, SendReply, Stats};

use crate::kernel::{self, Event, EventKind};
use crate::slots::{Slot, SlotPool};
use crate::sync_call::{CallKind, SyncCall};
use crate::wsk::abi::*;
use crate::wsk::{self, Family, SockAddrStorage};
use crate::{ioctl, irp};

/// Bytes per send slot: room for the largest UDP datagram (65,527 bytes over IPv6).
pub const SLOT_SIZE: u32 = 65_536;
/// Slots in the pool: datagrams that can be in flight at once.
pub const DEFAULT_SLOT_COUNT: u32 = 32;
/// How long the first send waits for the WSK provider to become ready.
const CAPTURE_WAIT_MS: u32 = 2_000;
/// Bound on each control-path WSK call (socket, bind, local address, close).
const CONTROL_TIMEOUT_MS: u32 = 5_000;
/// How long a send waits for a free slot before failing with STATUS_INSUFFICIENT_RESOURCES.
const SLOT_WAIT_MS: u32 = 1_000;
/// How long unload waits for sends in flight before closing the sockets (which cancels them).
const DRAIN_TIMEOUT_MS: u32 = 10_000;

static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: MAKE_WSK_VERSION(1, 0),
    Reserved: 0,
    WskClientEvent: None,
};

/// Which counter a failed request adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Validation,
    NoResources,
    NotReady,
    Transport,
    Cancelled,
}

/// A request that failed before reaching WSK.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    pub status: NTSTATUS,
    pub kind: FailureKind,
}

impl Failure {
    pub fn new(status: NTSTATUS, kind: FailureKind) -> Self {
        Failure { status, kind }
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    datagrams_sent: AtomicU64,
    bytes_sent: AtomicU64,
    failed_validation: AtomicU64,
    failed_no_resources: AtomicU64,
    failed_not_ready: AtomicU64,
    failed_transport: AtomicU64,
    failed_cancelled: AtomicU64,
}

/// Work in flight, and the refusal of new work once unload begins (the pattern of
/// EX_RUNDOWN_REF, with a bounded wait).
struct Rundown {
    active: AtomicU64,
    closing: AtomicBool,
    drained: Event,
}

impl Rundown {
    fn acquire(&self) -> bool {
        if self.closing.load(Ordering::SeqCst) {
            return false;
        }
        self.active.fetch_add(1, Ordering::SeqCst);
        if self.closing.load(Ordering::SeqCst) {
            self.release();
            return false;
        }
        true
    }

    fn release(&self) {
        if self.active.fetch_sub(1, Ordering::SeqCst) == 1 && self.closing.load(Ordering::SeqCst) {
            self.drained.set();
        }
    }

    /// Refuses new work and waits up to `timeout_ms` for work in flight; true once drained.
    fn wait(&self, timeout_ms: u32) -> bool {
        self.closing.store(true, Ordering::SeqCst);
        let mut waited = 0;
        while self.active.load(Ordering::SeqCst) != 0 {
            if waited >= timeout_ms {
                return false;
            }
            let step = (timeout_ms - waited).min(100);
            self.drained.wait(step);
            waited += step;
        }
        true
    }

    fn in_flight(&self) -> u64 {
        self.active.load(Ordering::SeqCst)
    }
}

pub struct Engine {
    registration: WSK_REGISTRATION,
    registered: bool,
    provider: UnsafeCell<WSK_PROVIDER_NPI>,
    captured: AtomicBool,
    sockets: [AtomicPtr<WSK_SOCKET>; 2],
    local: [UnsafeCell<SockAddrStorage>; 2],
    bind_address: UnsafeCell<SockAddrStorage>,
    /// A synchronization event used as a mutex over the control path (socket creation).
    control_lock: Event,
    control: SyncCall,
    rundown: Rundown,
    slots: SlotPool,
    stats: Counters,
    sequence: AtomicU64,
}

// SAFETY: the fields mutated after init are atomics, kernel objects, or UnsafeCells written only
// under `control_lock` (provider NPI, local and bind addresses) before the socket pointer that
// publishes them is stored with Release ordering.
unsafe impl Sync for Engine {}

impl Engine {
    /// Allocates the engine, builds the slot pool and registers as a WSK client. Never waits
    /// for the provider: that happens on the first send.
    pub fn create(slot_count: u32) -> Result<NonNull<Engine>, NTSTATUS> {
        let memory = kernel::allocate::<Engine>().ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        let engine = memory.as_ptr();
        // SAFETY: fresh zeroed nonpaged memory, sized for an Engine; zero is a valid value for
        // every field, and the kernel objects are initialised in place before use.
        unsafe {
            Event::init(
                &raw mut (*engine).control_lock,
                EventKind::Synchronization,
                true,
            );
            Event::init(
                &raw mut (*engine).rundown.drained,
                EventKind::Notification,
                false,
            );
            SyncCall::init(&raw mut (*engine).control);
            if !SlotPool::init(&raw mut (*engine).slots, slot_count, SLOT_SIZE, engine) {
                kernel::free(memory);
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            let mut client = WSK_CLIENT_NPI {
                ClientContext: engine.cast(),
                Dispatch: &CLIENT_DISPATCH,
            };
            let status = WskRegister(&mut client, &raw mut (*engine).registration);
            if status < 0 {
                (*engine).slots.destroy();
                kernel::free(memory);
                return Err(status);
            }
            (*engine).registered = true;
        }
        Ok(memory)
    }

    /// The bound socket for `family`, created and bound on first use.
    fn socket_for(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let existing = self.sockets[family.index()].load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        if !self.control_lock.wait(CONTROL_TIMEOUT_MS) {
            return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources));
        }
        let result = self.open_socket(family);
        self.control_lock.set();
        result
    }

    /// With `control_lock` held.
    fn open_socket(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let existing = self.sockets[family.index()].load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        self.capture_provider()?;
        let not_ready = |status| Failure::new(status, FailureKind::NotReady);
        // SAFETY: the provider NPI is captured (above) and only written under the lock we hold.
        let provider = unsafe { &*self.provider.get() };
        // SAFETY: the NPI is captured; the IRP comes from SyncCall with its routine set.
        let created =
            self.control
                .call(CallKind::CreatesSocket, CONTROL_TIMEOUT_MS, |irp| unsafe {
                    wsk::create_datagram_socket(provider, family, irp)
                });
        let socket = created.map_err(not_ready)? as *mut WSK_SOCKET;
        if socket.is_null() {
            return Err(not_ready(STATUS_DEVICE_NOT_READY));
        }
        // SAFETY: written under the control lock; the provider reads it during the call.
        let bind_address = unsafe { &mut *self.bind_address.get() };
        *bind_address = SockAddrStorage::wildcard(family);
        // SAFETY: a live socket; the address lives in the engine until the IRP completes.
        let bound = self
            .control
            .call(CallKind::Other, CONTROL_TIMEOUT_MS, |irp| unsafe {
                wsk::bind(socket, bind_address.as_mut_ptr(), irp)
            });
        if let Err(status) = bound {
            self.close_socket(socket);
            return Err(not_ready(status));
        }
        // SAFETY: written by the provider under the control lock, read only after the socket
        // pointer is published below.
        let local = unsafe { &mut *self.local[family.index()].get() };
        // SAFETY: a live, bound socket; the output lives in the engine.
        let named = self
            .control
            .call(CallKind::Other, CONTROL_TIMEOUT_MS, |irp| unsafe {
                wsk::get_local_address(socket, local.as_mut_ptr(), irp)
            });
        if named.is_err() {
            *local = SockAddrStorage::ZERO;
        }
        self.sockets[family.index()].store(socket, Ordering::Release);
        Ok(socket)
    }

    /// With `control_lock` held.
    fn capture_provider(&self) -> Result<(), Failure> {
        if self.captured.load(Ordering::Acquire) {
            return Ok(());
        }
        let registration = (&raw const self.registration).cast_mut();
        // SAFETY: registered in `create`; the NPI is written under the control lock. The wait
        // is bounded and happens at PASSIVE_LEVEL (EvtIoDeviceControl runs there).
        let status =
            unsafe { WskCaptureProviderNPI(registration, CAPTURE_WAIT_MS, self.provider.get()) };
        if status < 0 {
            return Err(Failure::new(STATUS_DEVICE_NOT_READY, FailureKind::NotReady));
        }
        self.captured.store(true, Ordering::Release);
        Ok(())
    }

    /// Closes a socket and waits (bounded) for the close to complete; true if it did.
    fn close_socket(&self, socket: *mut WSK_SOCKET) -> bool {
        // SAFETY: a live socket no other call is executing on (callers hold the control lock
        // and have stopped sends); it is not used afterwards.
        self.control
            .call(CallKind::Other, CONTROL_TIMEOUT_MS, |irp| unsafe {
                wsk::close(socket, irp)
            })
            .is_ok()
    }

    /// Sends one datagram for `request`, whose reply goes to `reply` (at least
    /// SEND_REPLY_SIZE bytes of the request's output buffer). On success the request is
    /// completed later, by the completion routine.
    pub fn send(
        &self,
        request: WDFREQUEST,
        reply: *mut u8,
        destination: SocketAddr,
        payload: &[u8],
    ) -> Result<(), Failure> {
        if !self.rundown.acquire() {
            return Err(Failure::new(STATUS_DELETE_PENDING, FailureKind::NotReady));
        }
        let result = self.start_send(request, reply, destination, payload);
        if result.is_err() {
            self.rundown.release();
        }
        result
    }

    fn start_send(
        &self,
        request: WDFREQUEST,
        reply: *mut u8,
        destination: SocketAddr,
        payload: &[u8],
    ) -> Result<(), Failure> {
        let socket = self.socket_for(Family::of(&destination))?;
        let no_resources = Failure::new(STATUS_INSUFFICIENT_RESOURCES, FailureKind::NoResources);
        let slot = self.slots.take(SLOT_WAIT_MS).ok_or(no_resources)?;
        let Some(irp) = irp::allocate_irp() else {
            // SAFETY: taken above and not handed to anyone.
            unsafe { self.slots.give_back(slot) };
            return Err(no_resources);
        };
        let slot_ptr = slot.as_ptr();
        // SAFETY: the slot is ours until its completion routine gives it back; its buffer holds
        // SLOT_SIZE bytes and the decoder bounds payloads to 65,527.
        unsafe {
            let length = payload.len().min(self.slots.slot_size() as usize);
            core::ptr::copy_nonoverlapping(payload.as_ptr(), (*slot_ptr).buffer.as_ptr(), length);
            (*slot_ptr).wsk_buf.Length = length as u64;
            (*slot_ptr).remote.set(destination);
            (*slot_ptr).request = request;
            (*slot_ptr).reply = reply;
            (*slot_ptr).sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
            irp::set_completion_routine(irp, send_complete, slot_ptr.cast());
            // From here the slot and the IRP belong to the provider and the completion routine
            // (which may already have run when this returns): neither is touched again.
            let _ = wsk::send_to(
                socket,
                &raw mut (*slot_ptr).wsk_buf,
                (*slot_ptr).remote.as_mut_ptr(),
                irp,
            );
        }
        Ok(())
    }

    pub fn count_request(&self) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_failure(&self, kind: FailureKind) {
        let counter = match kind {
            FailureKind::Validation => &self.stats.failed_validation,
            FailureKind::NoResources => &self.stats.failed_no_resources,
            FailureKind::NotReady => &self.stats.failed_not_ready,
            FailureKind::Transport => &self.stats.failed_transport,
            FailureKind::Cancelled => &self.stats.failed_cancelled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let local = |family: Family| {
            if self.sockets[family.index()]
                .load(Ordering::Acquire)
                .is_null()
            {
                return None;
            }
            // SAFETY: published before the socket pointer (Release/Acquire) and not written again.
            unsafe { (*self.local[family.index()].get()).to_socket_addr() }
        };
        Stats {
            requests: get(&self.stats.requests),
            datagrams_sent: get(&self.stats.datagrams_sent),
            bytes_sent: get(&self.stats.bytes_sent),
            in_flight: self.rundown.in_flight(),
            failed_validation: get(&self.stats.failed_validation),
            failed_no_resources: get(&self.stats.failed_no_resources),
            failed_not_ready: get(&self.stats.failed_not_ready),
            failed_transport: get(&self.stats.failed_transport),
            failed_cancelled: get(&self.stats.failed_cancelled),
            pool_slots: self.slots.slot_count(),
            pool_free: self.slots.free_slots(),
            slot_size: self.slots.slot_size(),
            local_v4: local(Family::V4),
            local_v6: local(Family::V6),
        }
    }

    /// Unload, in the order WSK needs: refuse new sends, wait (bounded) for sends in flight,
    /// close the sockets (cancelling what is left), release the provider, deregister, free.
    /// If a close never completes, deregistering would hang and freeing would hand the
    /// provider freed memory, so the engine is deliberately leaked instead.
    ///
    /// # Safety
    /// Called once, at PASSIVE_LEVEL, after the device is gone; `engine` is not used after.
    pub unsafe fn destroy(engine: NonNull<Engine>) {
        // SAFETY: the caller's guarantee: the engine is live and nobody else uses it now.
        let this = unsafe { &mut *engine.as_ptr() };
        let drained = this.rundown.wait(DRAIN_TIMEOUT_MS);
        let mut closed_all = true;
        if this.control_lock.wait(CONTROL_TIMEOUT_MS) {
            for family in Family::ALL {
                let socket =
                    this.sockets[family.index()].swap(core::ptr::null_mut(), Ordering::AcqRel);
                if !socket.is_null() {
                    closed_all &= this.close_socket(socket);
                }
            }
            let orphan = this
                .control
                .orphan
                .swap(core::ptr::null_mut(), Ordering::AcqRel);
            if !orphan.is_null() {
                closed_all &= this.close_socket(orphan);
            }
            this.control_lock.set();
        } else {
            closed_all = false;
        }
        // Closing cancelled whatever was still in flight; those completions release the rundown.
        let drained = drained || this.rundown.wait(CONTROL_TIMEOUT_MS);
        if !closed_all || !drained {
            return;
        }
        let registration = &raw mut this.registration;
        if this.captured.swap(false, Ordering::AcqRel) {
            // SAFETY: captured once in `capture_provider`; released once here.
            unsafe { WskReleaseProviderNPI(registration) };
        }
        if this.registered {
            // SAFETY: every socket is closed and the capture released, so this returns.
            unsafe { WskDeregister(registration) };
        }
        // SAFETY: no send is in flight (drained) and no slot is in use.
        unsafe { this.slots.destroy() };
        // SAFETY: allocated in `create`; nothing refers to it any more.
        unsafe { kernel::free(engine) };
    }
}

/// Completion of a send: records the outcome, frees the IRP, returns the slot, completes the
/// user's request with the real status and bytes sent, and gives the IRP back to the driver.
/// Runs at DISPATCH_LEVEL; never calls WSK.
unsafe extern "C" fn send_complete(_device: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: the context is the slot that carried this send; it stays ours until given back.
    let (engine, request, reply, sequence) = unsafe {
        let s = slot.as_ptr();
        (&*(*s).engine, (*s).request, (*s).reply, (*s).sequence)
    };
    // SAFETY: the provider hands the IRP back in this routine.
    let (status, information) = unsafe {
        (
            (*irp).IoStatus.__bindgen_anon_1.Status,
            (*irp).IoStatus.Information,
        )
    };
    // SAFETY: our IRP (IoAllocateIrp in start_send), not used after this.
    unsafe { IoFreeIrp(irp) };
    let mut reply_length = 0;
    if status >= 0 {
        let bytes_sent = u32::try_from(information).unwrap_or(u32::MAX);
        // SAFETY: `reply` is the request's output buffer, retrieved with at least
        // SEND_REPLY_SIZE bytes and valid until the request completes below.
        let out = unsafe { &mut *reply.cast::<[u8; SEND_REPLY_SIZE]>() };
        SendReply {
            bytes_sent,
            sequence,
        }
        .encode(out);
        reply_length = SEND_REPLY_SIZE as u64;
        engine.stats.datagrams_sent.fetch_add(1, Ordering::Relaxed);
        engine
            .stats
            .bytes_sent
            .fetch_add(information, Ordering::Relaxed);
    } else if status == STATUS_CANCELLED {
        engine.count_failure(FailureKind::Cancelled);
    } else {
        engine.count_failure(FailureKind::Transport);
    }
    // SAFETY: the slot is not touched after this.
    unsafe { engine.slots.give_back(slot) };
    ioctl::complete(request, status, reply_length);
    engine.rundown.release();
    STATUS_MORE_PROCESSING_REQUIRED
}
