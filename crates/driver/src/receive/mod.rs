//! The receive path (issue 14): per address family, a pool of receive buffers posted with
//! WskReceiveFrom on the family's socket, re-posted from the completion routine, and handed
//! to pended receive requests waiting in a manual WDF queue (the inverted-call pattern).
//!
//! - `pool.rs`: the buffers (nonpaged memory, MDL and IRP built once).
//! - `requests.rs`: completing a pended receive request with a datagram (the receive IOCTLs
//!   themselves are dispatched in src/ioctl/receive.rs).
//! - `events.rs`: the other delivery, WskReceiveFromEvent (its own synchronisation note).
//!
//! A datagram that completes a receive goes to the oldest request waiting in the family's
//! manual queue (WdfIoQueueRetrieveNextRequest) and its buffer is posted again at once. With
//! no request waiting it is held (the buffer stays out of WSK) while at least one other
//! buffer is still posted; with every other buffer already holding a datagram it is dropped
//! (counted as `dropped_no_request`) and the buffer is posted again. A request that finds a
//! held datagram completes at once; otherwise it is forwarded to the manual queue
//! (WdfRequestForwardToIoQueue), where closing its handle cancels it (KMDF's
//! FxIoQueue::FlushByFileObject at IRP_MJ_CLEANUP).
//!
//! Synchronisation: `lock` (a spin lock) guards `backlog`, `queue` and every change of
//! `mode`, so "is a request waiting / is a datagram held" is decided once for both sides.
//! `socket` is written at PASSIVE_LEVEL under the engine's control lock before the posting
//! window opens, and read only inside it. `posting` is the re-post window: every
//! WskReceiveFrom, echo WskSendTo and a request's WskRelease (events.rs) runs holding it, and
//! `stop` closes it and waits for the calls to return, so none overlaps the WskCloseSocket the
//! engine issues next (Learn, PFN_WSK_CLOSE_SOCKET).
//! `live` counts buffers that are not idle (posted, held, or being delivered); device cleanup
//! (`Engine::shutdown`) stops the receiver, closes the socket and waits for `live` to drain,
//! EvtDriverUnload (`Engine::destroy`) frees the buffers, and a completion routine's last
//! access to the receiver is its release.
//!
//! Receive and echo IRPs are datapath IRPs: their completion routines are set with plain
//! IoSetCompletionRoutine, like the send slots' (no allocation per datagram), not with the
//! control path's IoSetCompletionRoutineEx `Arm`; docs/ARCHITECTURE.md, "The unload window",
//! says what that leaves open.

pub mod events;
pub mod pool;
pub mod requests;

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU16, AtomicU64, Ordering};

use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_CANCELLED, STATUS_MORE_PROCESSING_REQUIRED,
    WDFQUEUE,
};
use wsk_sample_ioctl::{Delivery, ReceiveMode, ReceiveStats};

use crate::irp::{self, result_of};
use crate::kernel::SpinLock;
use crate::request::Request;
use crate::rundown::Rundown;
use crate::wsk::abi::{MSG_TRUNC, WSK_SOCKET};
use crate::wsk::{self, Family, Issued};
use pool::{BUSY, Buffer, IDLE};

/// Receive buffers per family.
pub const BUFFERS: usize = 8;
/// How long `stop` waits for executing posts to return.
const STOP_WAIT_MS: u32 = 5_000;

/// Datagrams held for requests, oldest first (under the receiver's lock).
struct Backlog {
    items: [*mut Buffer; BUFFERS],
    head: usize,
    len: usize,
}

impl Backlog {
    fn push(&mut self, buffer: NonNull<Buffer>) -> bool {
        if self.len >= BUFFERS {
            return false;
        }
        let at = (self.head + self.len) % BUFFERS;
        if let Some(slot) = self.items.get_mut(at) {
            *slot = buffer.as_ptr();
            self.len += 1;
            return true;
        }
        false
    }

    fn pop(&mut self) -> Option<NonNull<Buffer>> {
        if self.len == 0 {
            return None;
        }
        let item = self.items.get(self.head).copied()?;
        self.head = (self.head + 1) % BUFFERS;
        self.len -= 1;
        NonNull::new(item)
    }
}

#[derive(Default)]
struct Counters {
    datagrams: AtomicU64,
    bytes: AtomicU64,
    delivered: AtomicU64,
    truncated: AtomicU64,
    dropped_no_request: AtomicU64,
    dropped_echo: AtomicU64,
    echoed: AtomicU64,
    receive_errors: AtomicU64,
    requests_cancelled: AtomicU64,
}

/// One family's receive side; lives inside the engine.
pub struct Receiver {
    family: Family,
    /// Built once at engine creation, read-only afterwards.
    buffers: [AtomicPtr<Buffer>; BUFFERS],
    lock: SpinLock,
    backlog: UnsafeCell<Backlog>,
    /// The family's manual queue (a WDFQUEUE), NULL before the device exists and after its
    /// cleanup. Under `lock`.
    queue: AtomicPtr<c_void>,
    /// A `ReceiveMode` wire value; changed under `lock`.
    mode: AtomicU16,
    /// A `Delivery` wire value; written under `lock` with `mode` when receiving starts (while
    /// the mode is Off), read by the completion routines and the event callback.
    delivery: AtomicU16,
    /// Indication lists kept by the event callback (events.rs); under `lock`.
    held: UnsafeCell<events::Held>,
    socket: AtomicPtr<WSK_SOCKET>,
    posting: Rundown,
    live: Rundown,
    stats: Counters,
}

// SAFETY: the UnsafeCell is touched only under `lock`; everything else is atomic or a kernel
// object (see the module's synchronisation note).
unsafe impl Sync for Receiver {}

impl Receiver {
    /// Initialises a receiver in place (zeroed memory) and builds its buffers. False if an
    /// allocation failed (the buffers built so far are freed).
    ///
    /// # Safety
    /// `this` points to zeroed memory that stays put for the receiver's life.
    pub unsafe fn init(this: *mut Receiver, family: Family) -> bool {
        // Each field is written in place before use; a place expression makes no reference.
        // SAFETY: the caller's guarantee: `this` is the receiver's place.
        let family_place = unsafe { &raw mut (*this).family };
        // SAFETY: writable; the zeroed value needs no drop.
        unsafe { family_place.write(family) };
        // SAFETY: as for `family`.
        let lock = unsafe { &raw mut (*this).lock };
        // SAFETY: the spin lock's place, which stays put.
        unsafe { SpinLock::init(lock) };
        // SAFETY: as for `family`.
        let posting = unsafe { &raw mut (*this).posting };
        // SAFETY: the rundown's place, which stays put.
        unsafe { Rundown::init(posting) };
        // SAFETY: as for `family`.
        let live = unsafe { &raw mut (*this).live };
        // SAFETY: as for `posting`.
        unsafe { Rundown::init(live) };
        // SAFETY: as for `family`.
        let backlog = unsafe { &raw mut (*this).backlog };
        // SAFETY: writable; the zeroed value needs no drop.
        unsafe {
            backlog.write(UnsafeCell::new(Backlog {
                items: [core::ptr::null_mut(); BUFFERS],
                head: 0,
                len: 0,
            }))
        };
        // SAFETY: as for `family`.
        let held = unsafe { &raw mut (*this).held };
        // SAFETY: writable; the zeroed value needs no drop.
        unsafe { held.write(UnsafeCell::new(events::Held::EMPTY)) };
        // SAFETY: as for `family`.
        let stats = unsafe { &raw mut (*this).stats };
        // SAFETY: writable; the zeroed value needs no drop.
        unsafe { stats.write(Counters::default()) };
        // SAFETY: every field is initialised (`buffers`, `queue`, `mode` and `socket` by the
        // zeroed memory: null and Off), and nothing else uses the receiver yet.
        let receiver = unsafe { &*this };
        receiver.posting.close();
        for place in &receiver.buffers {
            let Some(buffer) = Buffer::build(this) else {
                // SAFETY: no buffer was ever posted; nothing else uses them.
                unsafe { receiver.destroy_buffers() };
                return false;
            };
            place.store(buffer.as_ptr(), Ordering::Release);
        }
        true
    }

    /// Frees every buffer.
    ///
    /// # Safety
    /// No buffer is live (`live` drained) and nothing uses the receiver any more.
    pub unsafe fn destroy_buffers(&self) {
        for place in &self.buffers {
            if let Some(buffer) = NonNull::new(place.swap(core::ptr::null_mut(), Ordering::AcqRel))
            {
                // SAFETY: the caller's guarantee: idle and unreferenced.
                unsafe { Buffer::destroy(buffer) };
            }
        }
    }

    pub fn mode(&self) -> ReceiveMode {
        ReceiveMode::from_wire(self.mode.load(Ordering::Acquire)).unwrap_or_default()
    }

    pub fn delivery(&self) -> Delivery {
        Delivery::from_wire(self.delivery.load(Ordering::Acquire)).unwrap_or_default()
    }

    /// Remembers the family's manual queue (EvtDriverDeviceAdd).
    pub fn set_queue(&self, queue: WDFQUEUE) {
        let _guard = self.lock.lock();
        self.queue.store(queue.cast(), Ordering::Release);
    }

    /// The queue is being deleted (its EvtCleanupCallback): stop using it.
    pub fn forget_queue(&self) {
        let _guard = self.lock.lock();
        self.queue.store(core::ptr::null_mut(), Ordering::Release);
    }

    /// Starts receiving on `socket` (bound) in `mode` (Receive or Echo): posts every buffer.
    /// At PASSIVE_LEVEL with the engine's control lock held. The same mode again changes
    /// nothing; another mode needs Off first (STATUS_DEVICE_BUSY), as do buffers from an
    /// earlier run still out.
    ///
    /// With [`Delivery::Events`] nothing is posted: WskReceiveFromEvent is enabled instead
    /// (events.rs); the socket was created with the receiver as its context.
    pub fn start(
        &self,
        socket: *mut WSK_SOCKET,
        mode: ReceiveMode,
        delivery: Delivery,
    ) -> Result<(), NTSTATUS> {
        let current = self.mode();
        if current == mode && self.delivery() == delivery {
            return Ok(());
        }
        if current != ReceiveMode::Off || mode == ReceiveMode::Off {
            return Err(wdk_sys::STATUS_DEVICE_BUSY);
        }
        if self.live.in_flight() != 0 {
            return Err(wdk_sys::STATUS_DEVICE_BUSY);
        }
        self.socket.store(socket, Ordering::Release);
        {
            let _guard = self.lock.lock();
            self.delivery.store(delivery.wire(), Ordering::Release);
            self.mode.store(mode.wire(), Ordering::Release);
        }
        self.posting.reopen();
        if delivery == Delivery::Events {
            // SAFETY: the family's socket, live and bound, created with the receiver as its
            // context and events::DISPATCH.
            let status = unsafe { wsk::enable_receive_from_event(socket) };
            if status < 0 {
                // Back to Off the way `stop` goes there: a request that came while the mode
                // was Receive waits in the queue, and nothing would complete it in mode Off.
                self.stop();
                return Err(status);
            }
            return Ok(());
        }
        for place in &self.buffers {
            let Some(buffer) = NonNull::new(place.load(Ordering::Acquire)) else {
                continue;
            };
            // SAFETY: a built buffer of this receiver.
            let state = unsafe { &buffer.as_ref().state };
            if state
                .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // `live` is open here (`drained` reopens it, and runs under the same control
                // lock); should it ever be closing, the buffer stays idle and is not posted.
                if !self.live.acquire() {
                    state.store(IDLE, Ordering::Release);
                    break;
                }
                self.post(buffer);
            }
        }
        Ok(())
    }

    /// Stops receiving (before the engine closes the socket, which cancels what is still
    /// posted): mode Off, held datagrams dropped, waiting requests cancelled, and the posting
    /// window closed once the posts executing now have returned. At PASSIVE_LEVEL.
    pub fn stop(&self) {
        let mut held = [core::ptr::null_mut::<Buffer>(); BUFFERS];
        let (queue, mut lists) = {
            let _guard = self.lock.lock();
            self.mode.store(ReceiveMode::Off.wire(), Ordering::Release);
            // SAFETY: `held` is touched only under `lock`, held here.
            let lists = core::mem::replace(unsafe { &mut *self.held.get() }, events::Held::EMPTY);
            // SAFETY: the backlog is touched only under `lock`, held here.
            let backlog = unsafe { &mut *self.backlog.get() };
            for place in &mut held {
                match backlog.pop() {
                    Some(buffer) => *place = buffer.as_ptr(),
                    None => break,
                }
            }
            (self.queue.load(Ordering::Acquire), lists)
        };
        for buffer in held.into_iter().filter_map(NonNull::new) {
            self.idle(buffer);
        }
        // Kept indication lists go back before the engine closes the socket (Learn,
        // PFN_WSK_RELEASE_DATA_INDICATION_LIST): each exactly once, by value.
        while let Some(list) = lists.pop() {
            list.release();
        }
        // Requests still waiting: mode is Off, so none is added after this drain.
        while let Some(request) = retrieve(queue.cast()) {
            self.stats
                .requests_cancelled
                .fetch_add(1, Ordering::Relaxed);
            request.complete(STATUS_CANCELLED, 0);
        }
        let _ = self.posting.wait(STOP_WAIT_MS);
    }

    /// Waits (at PASSIVE_LEVEL, about `timeout_ms`) until every buffer is idle.
    pub fn drained(&self, timeout_ms: u32) -> bool {
        let done = self.live.wait(timeout_ms);
        self.live.reopen();
        done
    }

    /// The receive counters of this family.
    pub fn add_stats(&self, stats: &mut ReceiveStats) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        stats.datagrams += get(&self.stats.datagrams);
        stats.bytes += get(&self.stats.bytes);
        stats.delivered += get(&self.stats.delivered);
        stats.truncated += get(&self.stats.truncated);
        stats.dropped_no_request += get(&self.stats.dropped_no_request);
        stats.dropped_echo += get(&self.stats.dropped_echo);
        stats.echoed += get(&self.stats.echoed);
        stats.receive_errors += get(&self.stats.receive_errors);
        stats.requests_cancelled += get(&self.stats.requests_cancelled);
        stats.buffers += BUFFERS as u32;
        let posted = self.live.in_flight();
        stats.posted += u32::try_from(posted).unwrap_or(u32::MAX);
        // The mode and the delivery are read apart, like the counters: a reading taken while
        // the mode changes may pair the new mode with the Irp reported while it was Off.
        let mode = self.mode();
        let delivery = if mode == ReceiveMode::Off {
            Delivery::Irp
        } else {
            self.delivery()
        };
        match self.family {
            Family::V4 => (stats.mode_v4, stats.delivery_v4) = (mode, delivery),
            Family::V6 => (stats.mode_v6, stats.delivery_v6) = (mode, delivery),
        }
    }

    /// A buffer leaves the receiver's hands. Its last access to the receiver is the release.
    fn idle(&self, buffer: NonNull<Buffer>) {
        // SAFETY: the caller owns the buffer; after the store it is nobody's.
        unsafe { buffer.as_ref() }
            .state
            .store(IDLE, Ordering::Release);
        self.live.release();
    }

    /// Posts `buffer` (owned by the caller, BUSY) with WskReceiveFrom inside the posting
    /// window; if the window is closed or the call cannot be issued the buffer goes idle.
    /// Callable at DISPATCH_LEVEL (from the completion routine: Learn, "Using IRPs with
    /// Winsock Kernel Functions", WSK calls are legal there and a completed IRP may be reused).
    fn post(&self, buffer: NonNull<Buffer>) {
        // With the event callback nothing is posted: the buffer only served an echo.
        if self.delivery() == Delivery::Events || !self.posting.acquire() {
            self.idle(buffer);
            return;
        }
        let socket = self.socket.load(Ordering::Acquire);
        let b = buffer.as_ptr();
        // SAFETY: the buffer is ours (BUSY): only its owner touches its plain fields.
        let irp = unsafe { (*b).irp };
        // SAFETY: the buffer's own IRP (from irp::allocate_irp) is not with WSK: it was never
        // posted, or its completion routine has run.
        unsafe { irp::reuse(irp) };
        // SAFETY: reinitialised just above, ours, its one stack location free.
        unsafe { irp::set_completion_routine(irp, receive_complete, b.cast()) };
        // SAFETY: ours (see above); a place expression, no reference is made.
        let wsk_buf = unsafe { &raw mut (*b).wsk_buf };
        // SAFETY: ours (see above).
        let remote = unsafe { (*b).remote.as_mut_ptr() };
        // SAFETY: ours; a place expression.
        let flags = unsafe { &raw mut (*b).flags };
        // SAFETY: the socket is live and bound while the posting window is open (`stop`
        // closes it before the engine closes the socket). The WSK_BUF, MDL, remote and flags
        // live in the buffer, which stays allocated until `live` drains.
        let issued = unsafe { wsk::receive_from(socket, wsk_buf, remote, flags, irp) };
        self.posting.release();
        if let Issued::NotSubmitted(_) = issued {
            self.stats.receive_errors.fetch_add(1, Ordering::Relaxed);
            self.idle(buffer);
        }
    }

    /// Echo mode: sends the datagram in `buffer` (owned by the caller) back to its source
    /// from the same memory, MDL and IRP (no copy, no allocation); the send's completion
    /// re-posts the buffer as a receive. Inside the posting window, like a post.
    fn echo(&self, buffer: NonNull<Buffer>) {
        let b = buffer.as_ptr();
        // SAFETY: ours (BUSY); the completion routine set `length`.
        let length = unsafe { (*b).length };
        // Learn's WSK_BUF page documents Length 0 for WskReceive only: an empty datagram is not
        // echoed (the model refuses a zero-length send).
        if length == 0 || !self.posting.acquire() {
            self.stats.dropped_echo.fetch_add(1, Ordering::Relaxed);
            self.post(buffer);
            return;
        }
        let socket = self.socket.load(Ordering::Acquire);
        // SAFETY: the buffer is ours (BUSY); the WSK_BUF now describes the received bytes.
        unsafe { (*b).wsk_buf.Length = u64::from(length) };
        // SAFETY: ours.
        let irp = unsafe { (*b).irp };
        // SAFETY: the buffer's own IRP, back from WSK (its receive completed), as in `post`:
        // reinitialised like a send slot's before each send.
        unsafe { irp::reuse(irp) };
        // SAFETY: reinitialised just above, ours, its one stack location free.
        unsafe { irp::set_completion_routine(irp, echo_complete, b.cast()) };
        // SAFETY: ours; a place expression.
        let wsk_buf = unsafe { &raw mut (*b).wsk_buf };
        // SAFETY: ours; `remote` (the source WSK wrote) is the destination.
        let remote = unsafe { (*b).remote.as_mut_ptr() };
        // SAFETY: the socket is live inside the posting window (as in `post`); the WSK_BUF
        // and `remote` stay unchanged in the buffer until the send completes.
        let issued = unsafe { wsk::send_to(socket, wsk_buf, remote, irp) };
        self.posting.release();
        if let Issued::NotSubmitted(_) = issued {
            self.stats.dropped_echo.fetch_add(1, Ordering::Relaxed);
            // SAFETY: ours; the send never reached WSK.
            unsafe { (*b).wsk_buf.Length = u64::from(pool::BUFFER_SIZE) };
            self.post(buffer);
        }
    }

    /// A datagram arrived in `buffer` (owned by the caller): echoed, to a waiting request,
    /// into the backlog, or dropped.
    fn deliver(&self, buffer: NonNull<Buffer>) {
        if self.mode() == ReceiveMode::Echo {
            self.echo(buffer);
            return;
        }
        let request = {
            let _guard = self.lock.lock();
            if self.mode() != ReceiveMode::Receive {
                None
            } else if let Some(request) = retrieve(self.queue.load(Ordering::Acquire).cast()) {
                Some(request)
            } else {
                // SAFETY: the backlog is touched only under `lock`, held here.
                let backlog = unsafe { &mut *self.backlog.get() };
                // Keep at least one buffer posted: hold at most BUFFERS - 1.
                if backlog.len < BUFFERS - 1 && backlog.push(buffer) {
                    return;
                }
                self.stats
                    .dropped_no_request
                    .fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        if let Some(request) = request {
            self.complete_request(request, buffer);
        }
        if self.mode() == ReceiveMode::Off {
            self.idle(buffer);
        } else {
            self.post(buffer);
        }
    }

    /// Completes `request` with the datagram in `buffer` (the caller owns the buffer).
    fn complete_request(&self, request: Request, buffer: NonNull<Buffer>) {
        // SAFETY: the caller owns the buffer, which holds a completed datagram.
        let buffer = unsafe { buffer.as_ref() };
        requests::complete_with_datagram(request, buffer, |truncated| {
            self.count_delivered(truncated);
        });
    }

    /// Counts a datagram handed to a request (and whether it was cut to fit), in either
    /// delivery, before the request completes.
    fn count_delivered(&self, truncated: bool) {
        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
        if truncated {
            self.stats.truncated.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A receive request (PASSIVE_LEVEL), taken from `request` unless refused: completed now
    /// with a held datagram, or forwarded to the manual queue (where it is the framework's
    /// until [`retrieve`] hands it back). Refused, it stays in `request` for the caller to
    /// complete. The caller has checked the output buffer's size.
    pub fn take_request(&self, request: &mut Option<Request>) -> Result<(), NTSTATUS> {
        let Some(owned) = request.take() else {
            return Err(wdk_sys::STATUS_INVALID_DEVICE_REQUEST);
        };
        match self.take_owned(owned) {
            Ok(()) => Ok(()),
            Err((owned, status)) => {
                *request = Some(owned);
                Err(status)
            }
        }
    }

    fn take_owned(&self, request: Request) -> Result<(), (Request, NTSTATUS)> {
        let (request, held) = {
            let guard = self.lock.lock();
            // The mode changes only under `lock`, held from here on (take_held gives it back
            // when it returns the request): read once.
            let mode = self.mode();
            let (request, _guard) = if mode == ReceiveMode::Receive {
                match self.take_held(request, guard) {
                    Ok(()) => return Ok(()),
                    Err(back) => back,
                }
            } else {
                (request, guard)
            };
            match mode {
                ReceiveMode::Off => return Err((request, wdk_sys::STATUS_INVALID_DEVICE_STATE)),
                ReceiveMode::Echo => return Err((request, wdk_sys::STATUS_DEVICE_BUSY)),
                ReceiveMode::Receive => {}
            }
            // SAFETY: the backlog is touched only under `lock`, held here.
            let backlog = unsafe { &mut *self.backlog.get() };
            match backlog.pop() {
                Some(buffer) => (request, buffer),
                None => {
                    let queue: WDFQUEUE = self.queue.load(Ordering::Acquire).cast();
                    if queue.is_null() {
                        return Err((request, wdk_sys::STATUS_DELETE_PENDING));
                    }
                    // SAFETY: the queue is one of our device's (set in EvtDriverDeviceAdd) and
                    // live: its cleanup clears `queue` under `lock`, held here.
                    return unsafe { request.forward_to(queue) };
                }
            }
        };
        self.complete_request(request, held);
        self.post(held);
        Ok(())
    }
}

/// The oldest request waiting in a manual queue, if any (callable at DISPATCH_LEVEL). Called
/// with the receiver's lock held or with `queue` read under it, as the queue's cleanup clears
/// it under that lock.
pub(super) fn retrieve(queue: WDFQUEUE) -> Option<Request> {
    if queue.is_null() {
        return None;
    }
    // SAFETY: a live manual queue of our device; every request in it was put there by
    // `Request::forward_to` (take_owned), so none has another owner.
    unsafe { Request::retrieve_next(queue) }
}

/// Completion of a WskReceiveFrom (DISPATCH_LEVEL): the datagram is delivered and the buffer
/// re-posted, or, for an error or a cancellation (the socket is closing), the buffer goes
/// idle. The IRP is the buffer's own and stays with it (STATUS_MORE_PROCESSING_REQUIRED).
unsafe extern "C" fn receive_complete(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    let Some(buffer) = NonNull::new(context.cast::<Buffer>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: WSK hands the buffer's IRP back.
    let (status, information) = unsafe { result_of(irp) };
    // SAFETY: the buffer is ours again (BUSY).
    let receiver = unsafe { (*buffer.as_ptr()).receiver };
    // SAFETY: the receiver outlives every live buffer (the engine frees it after `live`
    // drains, and this buffer is live until its `idle`).
    let receiver = unsafe { &*receiver };
    if status < 0 {
        if status != STATUS_CANCELLED {
            receiver
                .stats
                .receive_errors
                .fetch_add(1, Ordering::Relaxed);
        }
        receiver.idle(buffer);
        return STATUS_MORE_PROCESSING_REQUIRED;
    }
    let length = u32::try_from(information).unwrap_or(u32::MAX);
    // SAFETY: ours (see above).
    unsafe { (*buffer.as_ptr()).length = length };
    // SAFETY: ours; WSK wrote `flags` before completing.
    let flags = unsafe { (*buffer.as_ptr()).flags };
    if flags & MSG_TRUNC != 0 {
        // Cannot happen with 64 KiB buffers; counted so it would show.
        receiver.stats.truncated.fetch_add(1, Ordering::Relaxed);
    }
    receiver.stats.datagrams.fetch_add(1, Ordering::Relaxed);
    receiver
        .stats
        .bytes
        .fetch_add(u64::from(length), Ordering::Relaxed);
    receiver.deliver(buffer);
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Completion of an echo's WskSendTo (DISPATCH_LEVEL): counts it and re-posts the buffer as a
/// receive (or leaves it idle if receiving stopped).
unsafe extern "C" fn echo_complete(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    let Some(buffer) = NonNull::new(context.cast::<Buffer>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: WSK hands the buffer's IRP back.
    let (status, _) = unsafe { result_of(irp) };
    // SAFETY: the buffer is ours again (BUSY): its WSK_BUF describes the whole buffer again.
    unsafe { (*buffer.as_ptr()).wsk_buf.Length = u64::from(pool::BUFFER_SIZE) };
    // SAFETY: ours.
    let receiver = unsafe { (*buffer.as_ptr()).receiver };
    // SAFETY: the receiver outlives every live buffer (as in `receive_complete`).
    let receiver = unsafe { &*receiver };
    if status >= 0 {
        receiver.stats.echoed.fetch_add(1, Ordering::Relaxed);
    } else {
        receiver.stats.dropped_echo.fetch_add(1, Ordering::Relaxed);
    }
    if receiver.mode() == ReceiveMode::Off {
        receiver.idle(buffer);
    } else {
        receiver.post(buffer);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}
