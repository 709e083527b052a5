//! Receive-event callbacks (issue 14): the socket's WSK_CLIENT_DATAGRAM_DISPATCH, its
//! WskReceiveFromEvent, and the indication lists the driver keeps.
//!
//! The socket is created with [`DISPATCH`] and its receiver as the socket context (Learn,
//! PFN_WSK_SOCKET: Dispatch and SocketContext); the callback runs only once
//! SO_WSK_EVENT_CALLBACK enables it (Learn, SO_WSK_EVENT_CALLBACK: after the bind, without an
//! IRP). With the callback enabled no receive is posted, so the provider indicates every
//! datagram (a posted WskReceiveFrom would take precedence: Learn, PFN_WSK_RECEIVE_FROM_EVENT).
//!
//! The callback runs at IRQL <= DISPATCH_LEVEL (Learn, PFN_WSK_RECEIVE_FROM_EVENT). For each
//! datagram of the list:
//! - Receive mode, a request waiting and no list held: the datagram is copied into the request
//!   and the request completed.
//! - Receive mode otherwise: the rest of the list is kept ([`HeldIndication`]) and the callback
//!   returns STATUS_PENDING; requests take its datagrams in order, and the request that takes
//!   the last one gives the list back with exactly one WskRelease (Learn,
//!   PFN_WSK_RELEASE_DATA_INDICATION_LIST). At most [`HELD_LISTS`] lists are kept; beyond that
//!   the datagrams are dropped (`dropped_no_request`) and the list is not kept.
//! - Echo mode: the datagram is copied into an idle receive buffer and sent back from it (the
//!   echo path of the IRP mode); with no idle buffer it is dropped (`dropped_echo`).
//!
//! Every datagram copied out, the callback returns STATUS_SUCCESS and never touches the list
//! again. STATUS_DATA_NOT_ACCEPTED is never returned: it would disable the callback until the
//! driver enabled it again (Learn, PFN_WSK_RECEIVE_FROM_EVENT), which nothing here would do.
//! A NULL list means the socket no longer works (Learn): it is counted as a receive error; the
//! next mode change closes the socket.
//!
//! Stopping (the engine, at PASSIVE_LEVEL with the control lock): the callback is disabled
//! with an IRP, which completes once the calls in progress have returned (Learn,
//! SO_WSK_EVENT_CALLBACK), then [`Receiver::stop`] gives every held list back, all before
//! WskCloseSocket (closing does not release them: Learn, PFN_WSK_RELEASE_DATA_INDICATION_LIST).
//! The purge and device cleanup stop without the disable: there `stop` sets the mode Off under
//! the lock first, after which no callback keeps a list, and the close that follows waits for
//! the callbacks in progress (Learn, PFN_WSK_CLOSE_SOCKET remarks). The callback gets only the
//! receiver, not the socket, so it must never run for any socket but the receiver's current
//! one while receiving: the engine starts receiving only once every parked socket (close not
//! issued, so perhaps still enabled) is closed.
//!
//! Synchronisation: `held` is touched only under the receiver's `lock`, like `backlog`; a
//! held list's datagrams are read only under it, and a list leaves `held` (under it) before
//! it is released. A list may be released by a request before the callback that kept it has
//! returned STATUS_PENDING; ownership passed when the callback put it in `held`, and the
//! callback does not touch it after that. A request releases the list it emptied after
//! dropping `lock`, inside the receiver's posting window (entered under `lock`), so `stop`,
//! which waits for the window after emptying `held`, returns only once that WskRelease has
//! returned, and the engine's WskCloseSocket never overlaps or follows it.

use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use wdk_sys::{
    CSHORT, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL, NTSTATUS, PVOID, STATUS_PENDING,
    STATUS_SUCCESS,
};
use wsk_sample_ioctl::{RECEIVE_FLAG_TRUNCATED, RECEIVE_HEADER_SIZE, ReceiveMode, ReceiveReply};

use super::pool::{BUFFER_SIZE, BUSY, IDLE};
use super::{Receiver, retrieve};
use crate::request::Request;
use crate::wsk::SockAddrStorage;
use crate::wsk::abi::{WSK_CLIENT_DATAGRAM_DISPATCH, WSK_DATAGRAM_INDICATION, WSK_SOCKET};

/// Indication lists a receiver keeps at most.
pub const HELD_LISTS: usize = 8;

/// The client dispatch table every socket is created with.
pub static DISPATCH: WSK_CLIENT_DATAGRAM_DISPATCH = WSK_CLIENT_DATAGRAM_DISPATCH {
    WskReceiveFromEvent: Some(receive_from_event),
};

/// An indication list the callback kept (returned STATUS_PENDING for): the driver's until it
/// is given back, exactly once, by [`HeldIndication::release`], which consumes it.
pub struct HeldIndication {
    socket: *mut WSK_SOCKET,
    head: NonNull<WSK_DATAGRAM_INDICATION>,
    /// The next datagram not yet taken (never NULL while the list is held).
    next: NonNull<WSK_DATAGRAM_INDICATION>,
}

impl HeldIndication {
    /// Gives the list back to WSK (WskRelease). The socket is open: lists are released before
    /// the engine closes it.
    pub fn release(self) {
        // SAFETY: a list this socket indicated and the callback kept, released once (`self` is
        // consumed); the socket is open: a request releases inside the posting window, which
        // `stop` waits for, and `stop` releases the rest itself, both before the engine's close.
        let _ = unsafe { crate::wsk::release_indications(self.socket, self.head.as_ptr()) };
    }
}

/// The lists kept, oldest first (under the receiver's lock).
pub struct Held {
    items: [Option<HeldIndication>; HELD_LISTS],
    head: usize,
    len: usize,
}

impl Held {
    pub const EMPTY: Held = Held {
        items: [const { None }; HELD_LISTS],
        head: 0,
        len: 0,
    };

    fn push(&mut self, list: HeldIndication) -> Result<(), HeldIndication> {
        if self.len >= HELD_LISTS {
            return Err(list);
        }
        match self.items.get_mut((self.head + self.len) % HELD_LISTS) {
            Some(place) => {
                *place = Some(list);
                self.len += 1;
                Ok(())
            }
            None => Err(list),
        }
    }

    fn front_mut(&mut self) -> Option<&mut HeldIndication> {
        if self.len == 0 {
            return None;
        }
        self.items.get_mut(self.head)?.as_mut()
    }

    pub fn pop(&mut self) -> Option<HeldIndication> {
        if self.len == 0 {
            return None;
        }
        let list = self.items.get_mut(self.head)?.take();
        self.head = (self.head + 1) % HELD_LISTS;
        self.len -= 1;
        list
    }
}

/// The node after `node`.
///
/// # Safety
/// `node` is a live indication the caller may read.
unsafe fn next(node: NonNull<WSK_DATAGRAM_INDICATION>) -> *mut WSK_DATAGRAM_INDICATION {
    // SAFETY: the caller's guarantee.
    unsafe { (*node.as_ptr()).Next }
}

/// Calls `f` with each piece of the datagram's bytes, in order, following its MDL chain from
/// WSK_BUF.Offset for WSK_BUF.Length bytes. False if a piece is not mapped to a system address
/// (MmGetSystemAddressForMdlSafe's fast path: nonpaged or already mapped); the driver does
/// not map MDLs itself.
///
/// # Safety
/// `node` is a live indication the caller may read.
unsafe fn for_each_piece(node: NonNull<WSK_DATAGRAM_INDICATION>, mut f: impl FnMut(&[u8])) -> bool {
    // SAFETY: the caller's guarantee.
    let buffer = unsafe { &(*node.as_ptr()).Buffer };
    let mut remaining = usize::try_from(buffer.Length).unwrap_or(0);
    let mut offset = buffer.Offset as usize;
    let mut mdl = buffer.Mdl;
    while remaining > 0 {
        let Some(current) = NonNull::new(mdl) else {
            return false;
        };
        // SAFETY: an MDL of the indication, live while the list is.
        let m = unsafe { &*current.as_ptr() };
        // wdm.h's MDL flags are u32 constants; MdlFlags is a CSHORT.
        let mapped = (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) as CSHORT;
        if m.MdlFlags & mapped == 0 {
            return false;
        }
        let available = (m.ByteCount as usize).saturating_sub(offset);
        let take = available.min(remaining);
        if take > 0 {
            // SAFETY: the MDL maps ByteCount bytes at MappedSystemVa; `offset` is inside.
            let start = unsafe { m.MappedSystemVa.cast::<u8>().add(offset) };
            // SAFETY: `take` bytes from `start` lie within the mapped ByteCount bytes.
            let piece = unsafe { core::slice::from_raw_parts(start, take) };
            f(piece);
        }
        remaining -= take;
        offset = 0;
        mdl = m.Next;
    }
    true
}

/// The datagram's length (WSK_BUF.Length).
///
/// # Safety
/// As for [`for_each_piece`].
unsafe fn length(node: NonNull<WSK_DATAGRAM_INDICATION>) -> usize {
    // SAFETY: the caller's guarantee.
    usize::try_from(unsafe { (*node.as_ptr()).Buffer.Length }).unwrap_or(usize::MAX)
}

/// The datagram's source.
///
/// # Safety
/// As for [`for_each_piece`].
unsafe fn source(node: NonNull<WSK_DATAGRAM_INDICATION>) -> SockAddrStorage {
    let mut storage = SockAddrStorage::ZERO;
    // SAFETY: the caller's guarantee.
    let remote = unsafe { (*node.as_ptr()).RemoteAddress };
    if remote.is_null() {
        return storage;
    }
    // SAFETY: a SOCKADDR of the socket's family: its family field is readable.
    let family = unsafe { (*remote).sa_family };
    let size = if family == crate::wsk::abi::AF_INET6 {
        size_of::<crate::wsk::abi::SOCKADDR_IN6>()
    } else {
        size_of::<crate::wsk::abi::SOCKADDR_IN>()
    };
    // SAFETY: the provider's SOCKADDR holds `size` bytes for its family; the storage has 32.
    unsafe {
        core::ptr::copy_nonoverlapping(remote.cast::<u8>(), storage.as_mut_ptr().cast::<u8>(), size)
    };
    storage
}

/// Writes the reply for the datagram at `node` into `request`'s output buffer; returns the
/// request's Information and whether the datagram was truncated, or None if the buffer is
/// gone (the request is then completed plainly by the caller).
///
/// # Safety
/// As for [`for_each_piece`].
unsafe fn write_reply(
    request: &Request,
    node: NonNull<WSK_DATAGRAM_INDICATION>,
) -> Option<(u64, bool)> {
    let (out, size) = request
        .output_buffer_with_length(RECEIVE_HEADER_SIZE)
        .ok()?;
    // SAFETY: the caller's guarantee.
    let total = unsafe { length(node) };
    let room = size.saturating_sub(RECEIVE_HEADER_SIZE);
    let mut copied = 0usize;
    // SAFETY: `out` has `size` bytes; the header's end is inside (or one past) them.
    let payload = unsafe { out.add(RECEIVE_HEADER_SIZE) };
    let copy = |piece: &[u8]| {
        let take = piece.len().min(room - copied);
        // SAFETY: `copied` <= `room`: inside (or one past) the room after the header.
        let to = unsafe { payload.add(copied) };
        // SAFETY: `copied + take` <= `room` bytes fit after the header; the indication's
        // memory does not overlap the request's system buffer.
        unsafe { core::ptr::copy_nonoverlapping(piece.as_ptr(), to, take) };
        copied += take;
    };
    // SAFETY: the caller's guarantee.
    let readable = unsafe { for_each_piece(node, copy) };
    if !readable {
        copied = 0;
    }
    let truncated = copied < total;
    let reply = ReceiveReply {
        flags: if truncated { RECEIVE_FLAG_TRUNCATED } else { 0 },
        datagram_length: u32::try_from(total).unwrap_or(u32::MAX),
        copied: u32::try_from(copied).unwrap_or(u32::MAX),
        // SAFETY: the caller's guarantee.
        source: unsafe { source(node) }.to_socket_addr(),
    };
    // SAFETY: at least RECEIVE_HEADER_SIZE writable bytes at `out`, ours until completion.
    reply.encode(unsafe { &mut *out.cast::<[u8; RECEIVE_HEADER_SIZE]>() });
    Some(((RECEIVE_HEADER_SIZE + copied) as u64, truncated))
}

/// WskReceiveFromEvent (IRQL <= DISPATCH_LEVEL, provider thread).
unsafe extern "system" fn receive_from_event(
    context: PVOID,
    _flags: u32,
    list: *mut WSK_DATAGRAM_INDICATION,
) -> NTSTATUS {
    // SAFETY: the socket context is the receiver the engine created the socket for; it
    // outlives the socket (the engine closes it before freeing the receivers, and the close
    // waits for the callbacks in progress: Learn, PFN_WSK_CLOSE_SOCKET).
    let Some(receiver) = (unsafe { context.cast::<Receiver>().as_ref() }) else {
        return STATUS_SUCCESS;
    };
    let Some(head) = NonNull::new(list) else {
        // Learn: the socket is no longer functional; the next mode change closes it.
        receiver
            .stats
            .receive_errors
            .fetch_add(1, Ordering::Relaxed);
        return STATUS_SUCCESS;
    };
    receiver.indicated(head)
}

/// The receiver-side work of the callback.
impl Receiver {
    fn indicated(&self, head: NonNull<WSK_DATAGRAM_INDICATION>) -> NTSTATUS {
        let mut node = head.as_ptr();
        while let Some(current) = NonNull::new(node) {
            // SAFETY: the list is ours until this callback returns (or until its release).
            let len = unsafe { length(current) };
            self.stats.datagrams.fetch_add(1, Ordering::Relaxed);
            self.stats.bytes.fetch_add(len as u64, Ordering::Relaxed);
            // SAFETY: as above.
            node = unsafe { next(current) };
        }
        let mut node = head.as_ptr();
        while let Some(current) = NonNull::new(node) {
            match self.mode() {
                ReceiveMode::Echo => self.echo_copy(current),
                ReceiveMode::Off => {
                    self.stats
                        .dropped_no_request
                        .fetch_add(1, Ordering::Relaxed);
                }
                ReceiveMode::Receive => {
                    let guard = self.lock.lock();
                    // SAFETY: `held` is touched only under `lock`, held here.
                    let held = unsafe { &mut *self.held.get() };
                    // The mode changes only under `lock` (see receive/mod.rs): read once here.
                    let receiving = self.mode() == ReceiveMode::Receive;
                    let waiting = if receiving && held.len == 0 {
                        retrieve(self.queue.load(Ordering::Acquire).cast())
                    } else {
                        None
                    };
                    if let Some(request) = waiting {
                        drop(guard);
                        self.complete_from(request, current);
                    } else if receiving {
                        let list = HeldIndication {
                            socket: self.socket.load(Ordering::Acquire),
                            head,
                            next: current,
                        };
                        if held.push(list).is_ok() {
                            // The list is the receiver's now; not touched here again.
                            return STATUS_PENDING;
                        }
                        drop(guard);
                        self.drop_rest(current);
                        return STATUS_SUCCESS;
                    } else {
                        drop(guard);
                        self.stats
                            .dropped_no_request
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            // SAFETY: ours until the callback returns.
            node = unsafe { next(current) };
        }
        STATUS_SUCCESS
    }

    /// Counts `from` and the datagrams after it as dropped.
    fn drop_rest(&self, from: NonNull<WSK_DATAGRAM_INDICATION>) {
        let mut node = from.as_ptr();
        while let Some(current) = NonNull::new(node) {
            self.stats
                .dropped_no_request
                .fetch_add(1, Ordering::Relaxed);
            // SAFETY: ours until the callback returns.
            node = unsafe { next(current) };
        }
    }

    /// Completes `request` with the datagram at `node` (readable by the caller).
    fn complete_from(&self, request: Request, node: NonNull<WSK_DATAGRAM_INDICATION>) {
        // SAFETY: the caller may read `node` for this call.
        let reply = unsafe { write_reply(&request, node) };
        self.finish_reply(request, reply);
    }

    /// Completes `request` with the reply `write_reply` built (`(Information, truncated)`),
    /// counting it as delivered first; without room for the header, STATUS_BUFFER_TOO_SMALL.
    fn finish_reply(&self, request: Request, reply: Option<(u64, bool)>) {
        match reply {
            Some((information, truncated)) => {
                self.count_delivered(truncated);
                request.complete(STATUS_SUCCESS, information);
            }
            None => request.complete(wdk_sys::STATUS_BUFFER_TOO_SMALL, 0),
        }
    }

    /// Echo in event mode: copies the datagram into an idle buffer and sends it back from it
    /// (its completion leaves the buffer idle again: `post` does not post in event mode).
    fn echo_copy(&self, node: NonNull<WSK_DATAGRAM_INDICATION>) {
        let found = self.buffers.iter().find_map(|place| {
            let buffer = NonNull::new(place.load(Ordering::Acquire))?;
            // SAFETY: a built buffer of this receiver.
            let state = unsafe { &buffer.as_ref().state };
            state
                .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
                .then_some(buffer)
        });
        let Some(buffer) = found else {
            self.stats.dropped_echo.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // A buffer out of the pool is counted in `live`; while `stop` drains it (its count
        // closed) no buffer may leave, so this one goes back and the datagram is not echoed.
        if !self.live.acquire() {
            // SAFETY: a built buffer of this receiver, ours (BUSY) since the exchange above.
            unsafe { buffer.as_ref() }
                .state
                .store(IDLE, Ordering::Release);
            self.stats.dropped_echo.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let b = buffer.as_ptr();
        // SAFETY: ours (BUSY): only its owner touches its plain fields.
        let memory = unsafe { (*b).memory };
        let mut copied = 0usize;
        let room = BUFFER_SIZE as usize;
        let copy = |piece: &[u8]| {
            let take = piece.len().min(room - copied);
            // SAFETY: the buffer holds BUFFER_SIZE bytes and `copied` <= that.
            let to = unsafe { memory.as_ptr().add(copied) };
            // SAFETY: copied + take <= BUFFER_SIZE; the buffer is ours and apart from the list.
            unsafe { core::ptr::copy_nonoverlapping(piece.as_ptr(), to, take) };
            copied += take;
        };
        // SAFETY: the list is ours until the callback returns.
        let readable = unsafe { for_each_piece(node, copy) };
        // SAFETY: the list is ours until the callback returns.
        let from = unsafe { source(node) };
        // SAFETY: ours (BUSY).
        unsafe { (*b).remote = from };
        // SAFETY: ours.
        unsafe { (*b).length = if readable { copied as u32 } else { 0 } };
        self.echo(buffer);
    }

    /// Receive mode: a request takes the next datagram of the oldest held list, if any
    /// (copied under `lock`, which keeps the list from being released meanwhile). Returns the
    /// request back if no list is held. The caller holds `lock` (`guard`, whatever type the
    /// lock's guard is: the kernel's, or loom's under `--cfg loom`), which this releases before
    /// completing the request.
    pub(super) fn take_held<G>(&self, request: Request, guard: G) -> Result<(), (Request, G)> {
        // SAFETY: `held` is touched only under `lock`, which the caller holds.
        let held = unsafe { &mut *self.held.get() };
        let Some(front) = held.front_mut() else {
            return Err((request, guard));
        };
        let node = front.next;
        // SAFETY: a held list's datagrams are readable under `lock`.
        let reply = unsafe { write_reply(&request, node) };
        // SAFETY: as above.
        let after = unsafe { next(node) };
        let finished = match NonNull::new(after) {
            Some(after) => {
                front.next = after;
                None
            }
            None => held.pop(),
        };
        // The WskRelease below runs after the lock is dropped, so it must not overlap the
        // engine's WskCloseSocket (Learn, PFN_WSK_CLOSE_SOCKET: no call on the socket may be in
        // progress when it is closed): it runs inside the posting window, entered here under
        // `lock`. The window is open: a list was held, so `stop` has not yet emptied `held`
        // (under `lock`), which it does before it closes the window and waits for it.
        let window = finished.is_some() && self.posting.acquire();
        let finished = match finished {
            Some(list) if !window => {
                // Unreachable by the argument above (a closed window means `stop` emptied
                // `held` first); released at once, under `lock`, rather than later.
                list.release();
                None
            }
            other => other,
        };
        drop(guard);
        self.finish_reply(request, reply);
        if let Some(list) = finished {
            list.release();
            self.posting.release();
        }
        Ok(())
    }
}

/// `ptr` as the socket context WskSocket takes.
pub fn context(receiver: &Receiver) -> *mut c_void {
    (receiver as *const Receiver).cast_mut().cast()
}
