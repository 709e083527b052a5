//! Receive-event callbacks of a datagram socket: SO_WSK_EVENT_CALLBACK, WskReceiveFromEvent
//! indications, and WskRelease of retained indication lists.
//!
//! What the model does, and where it comes from:
//! - WskSocket's `SocketContext` and `Dispatch` (a WSK_CLIENT_DATAGRAM_DISPATCH) are kept with
//!   the socket; the callback is called only once it is enabled with SO_WSK_EVENT_CALLBACK
//!   (Learn, PFN_WSK_RECEIVE_FROM_EVENT remarks).
//! - SO_WSK_EVENT_CALLBACK (Learn, SO_WSK_EVENT_CALLBACK): WskControlSocket(WskSetOption,
//!   SO_WSK_EVENT_CALLBACK, SOL_SOCKET) with a WSK_EVENT_CALLBACK_CONTROL whose NpiId points at
//!   NPI_WSK_INTERFACE_ID; only after the socket is bound; enabling takes no IRP ("a WSK
//!   application does not specify a pointer to an IRP ... to enable"); disabling names the one
//!   event with WSK_EVENT_DISABLE and may pass an IRP, which completes only after every
//!   in-progress call of the callback has returned (without one: STATUS_EVENT_PENDING).
//!   The valid event for a datagram socket is WSK_EVENT_RECEIVE_FROM. Fault injection reaches
//!   it through the control site ([`crate::kernel::FaultSite::WskControl`]).
//! - Delivery (Learn, PFN_WSK_RECEIVE_FROM_EVENT remarks): a posted WskReceiveFrom takes
//!   precedence; the callback runs only when no receive IRP is queued. It runs on the
//!   provider's receiver thread at DISPATCH_LEVEL with WSK_FLAG_AT_DISPATCH_LEVEL set.
//! - The indication list (one datagram per list here) lives in provider pool: the
//!   WSK_DATAGRAM_INDICATION, its RemoteAddress, its MDL and the bytes, on pages of their own.
//!   STATUS_SUCCESS (or STATUS_DATA_NOT_ACCEPTED) gives it back when the callback returns;
//!   STATUS_PENDING keeps it with the client until exactly one WskRelease (Learn,
//!   PFN_WSK_RECEIVE_FROM_EVENT return values; PFN_WSK_RELEASE_DATA_INDICATION_LIST). Memory
//!   the provider took back is quarantined by the special pool: a touch stops under
//!   WSK_INDICATION_TOUCHED_AFTER_RETURN or WSK_INDICATION_USED_AFTER_RELEASE.
//! - A WskRelease that arrives while the callback that indicated the list is still running is
//!   accepted when that callback then returns STATUS_PENDING: Learn does not order the two,
//!   and a client cannot (once it has handed the list to another thread, returning is its last
//!   act). Returning STATUS_SUCCESS for a list it released is a double release.
//! - STATUS_DATA_NOT_ACCEPTED disables the callback until it is enabled again (Learn). The
//!   transport's buffering of the refused datagram is not modelled: it is dropped.
//! - Closing does not release retained lists; the client must release them before
//!   WskCloseSocket (Learn, PFN_WSK_RELEASE_DATA_INDICATION_LIST remarks):
//!   WSK_INDICATION_NOT_RELEASED. No callback starts once WskCloseSocket is called, and the
//!   close completes only after the callbacks in progress have returned (Learn,
//!   PFN_WSK_CLOSE_SOCKET remarks: the receiver thread is joined before the close completes).
//!
//! Here: the indications, WskRelease, what close does to retained lists, and the NULL-list
//! failure indication. SO_WSK_EVENT_CALLBACK is `event_control.rs` (above the receiver thread,
//! `receiver.rs`, which enabling starts and which calls [`indicate`]); the per-socket state
//! (`EventState`, `ListState`) is `record.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use super::abi::*;
use super::address;
use super::record::ListState;
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, KernelState, rules};
use crate::pool;
use crate::types::*;

/// Pool tag of the provider's indication lists ('WskI').
const INDICATION_TAG: ULONG = u32::from_le_bytes(*b"WskI");

const PAGE: usize = PAGE_SIZE as usize;

/// The offsets of one indication allocation.
struct Layout {
    remote: usize,
    mdl: usize,
    data: usize,
    size: usize,
}

fn layout(len: usize) -> Layout {
    let remote = size_of::<WSK_DATAGRAM_INDICATION>().next_multiple_of(16);
    let mdl = remote + 32;
    let pages = len / PAGE + 2;
    let data = (mdl + size_of::<MDL>() + pages * size_of::<u64>()).next_multiple_of(16);
    Layout {
        remote,
        mdl,
        data,
        size: data + len.max(1),
    }
}

/// Builds a one-datagram indication list in provider pool. None if the host has no memory.
fn build(kernel: &KernelState, bytes: &[u8], source: SocketAddr) -> Option<usize> {
    let at = layout(bytes.len());
    let base = pool::provider_allocate(kernel, at.size, INDICATION_TAG)?;
    let data = base + at.data;
    let pages = (data % PAGE + bytes.len()).div_ceil(PAGE).max(1);
    let node = base as *mut WSK_DATAGRAM_INDICATION;
    let mdl = (base + at.mdl) as *mut MDL;
    // SAFETY: a fresh, zeroed allocation of `at.size` bytes owned by the provider; every write
    // below lies inside it (the layout reserves room for each part).
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), data as *mut u8, bytes.len());
        address::write(source, (base + at.remote) as *mut SOCKADDR);
        (*mdl).Size = (size_of::<MDL>() + pages * size_of::<u64>()) as CSHORT;
        (*mdl).MdlFlags = MDL_SOURCE_IS_NONPAGED_POOL as CSHORT;
        (*mdl).MappedSystemVa = data as PVOID;
        (*mdl).StartVa = (data & !(PAGE - 1)) as PVOID;
        (*mdl).ByteOffset = (data % PAGE) as ULONG;
        (*mdl).ByteCount = bytes.len() as ULONG;
        let frames = mdl.add(1).cast::<u64>();
        for page in 0..pages {
            frames.add(page).write((data / PAGE + page) as u64);
        }
        node.write(WSK_DATAGRAM_INDICATION {
            Next: std::ptr::null_mut(),
            Buffer: WSK_BUF {
                Mdl: mdl,
                Offset: 0,
                Length: bytes.len() as SIZE_T,
            },
            ControlInfo: std::ptr::null_mut(),
            ControlInfoLength: 0,
            RemoteAddress: (base + at.remote) as *mut SOCKADDR,
        });
    }
    Some(base)
}

/// Hands a datagram to the socket's WskReceiveFromEvent if it is enabled (the caller found no
/// posted receive). False if the event is not enabled: the datagram is the caller's to drop.
pub(crate) fn indicate(
    kernel: &Arc<KernelState>,
    socket: usize,
    bytes: &[u8],
    source: SocketAddr,
) -> bool {
    let (dispatch, context) = {
        let mut wsk = kernel.wsk().lock();
        let Some(record) = wsk.sockets.get_mut(&socket) else {
            return false;
        };
        // No callback once WskCloseSocket has been called (Learn, PFN_WSK_CLOSE_SOCKET).
        if record.closing || !record.events.enabled || record.events.dispatch == 0 {
            return false;
        }
        record.events.in_progress += 1;
        (record.events.dispatch, record.events.context)
    };
    let Some(list) = build(kernel, bytes, source) else {
        finish_call(kernel, socket);
        return false;
    };
    if let Some(record) = kernel.wsk().lock().sockets.get_mut(&socket) {
        record.events.lists.insert(list, ListState::Indicating);
    }
    kernel
        .counters
        .datagrams_received
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    kernel.note(format!(
        "WSK: WskReceiveFromEvent: {} bytes from {source} (list {list:#x})",
        bytes.len()
    ));
    // SAFETY: the client's dispatch table, which it keeps valid while the socket is open
    // (Learn, WskSocket: Dispatch).
    let callback =
        unsafe { (*(dispatch as *const WSK_CLIENT_DATAGRAM_DISPATCH)).WskReceiveFromEvent };
    let status = match callback {
        Some(callback) => kernel::at_irql(kernel::DISPATCH, || {
            // SAFETY: the client's callback, called as wsk.h declares it, with a list it may
            // read until it returns (or until WskRelease if it returns STATUS_PENDING).
            unsafe {
                callback(
                    context as PVOID,
                    WSK_FLAG_AT_DISPATCH_LEVEL,
                    list as *mut WSK_DATAGRAM_INDICATION,
                )
            }
        }),
        None => STATUS_DATA_NOT_ACCEPTED,
    };
    returned(kernel, socket, list, status);
    finish_call(kernel, socket);
    true
}

/// What the provider does with `list` once the callback returned `status`. The socket may be
/// gone already (closed while the callback ran: its record is removed before the close waits
/// for the receiver thread), and then the list is still this call's.
fn returned(kernel: &Arc<KernelState>, socket: usize, list: usize, status: NTSTATUS) {
    let mut wsk = kernel.wsk().lock();
    let (closing, state) = match wsk.sockets.get(&socket) {
        Some(record) => (record.closing, record.events.lists.get(&list).copied()),
        None => (true, Some(ListState::Indicating)),
    };
    let retain = status == STATUS_PENDING && state == Some(ListState::Indicating) && !closing;
    if let Some(record) = wsk.sockets.get_mut(&socket) {
        if retain {
            record.events.lists.insert(list, ListState::Retained);
        } else {
            record.events.lists.remove(&list);
        }
        if status == STATUS_DATA_NOT_ACCEPTED {
            // Learn: the subsystem disables the callback until it is enabled again.
            record.events.enabled = false;
        }
    }
    drop(wsk);
    let take_back = match (status, state) {
        (STATUS_PENDING, Some(ListState::Indicating)) if closing => {
            kernel.violate(
                rules::WSK_INDICATION_NOT_RELEASED,
                format!(
                    "WskReceiveFromEvent retained list {list:#x} (STATUS_PENDING) while the socket \
                     was being closed: it can no longer be released before WskCloseSocket"
                ),
            );
            true
        }
        (STATUS_PENDING, _) => false,
        (_, Some(ListState::ReleasedDuringCall)) => {
            kernel.violate(
                rules::WSK_INDICATION_RELEASED_TWICE,
                format!(
                    "list {list:#x} was released with WskRelease and the callback then returned \
                     {status:#x}, which gives it back a second time (only STATUS_PENDING retains)"
                ),
            );
            false
        }
        (_, _) => true,
    };
    if take_back {
        pool::provider_free(
            kernel,
            list,
            rules::WSK_INDICATION_TOUCHED_AFTER_RETURN,
            format!(
                "the WSK provider when WskReceiveFromEvent returned {status:#x}: without \
                 STATUS_PENDING the list is the provider's again"
            ),
        );
    }
}

/// One call of the callback returned; the last one completes the disable IRPs waiting for it.
fn finish_call(kernel: &Arc<KernelState>, socket: usize) {
    let irps = {
        let mut wsk = kernel.wsk().lock();
        let Some(record) = wsk.sockets.get_mut(&socket) else {
            return;
        };
        record.events.in_progress -= 1;
        if record.events.in_progress != 0 {
            return;
        }
        std::mem::take(&mut record.events.disable_irps)
    };
    for irp in irps {
        irp::complete(kernel, irp as PIRP, STATUS_SUCCESS, 0);
        super::calls::finish_pending(kernel, socket);
    }
}

/// WskRelease (datagram sockets): takes back a list retained with STATUS_PENDING.
#[allow(non_snake_case)]
pub(crate) unsafe extern "system" fn wsk_release(
    Socket: *mut WSK_SOCKET,
    DatagramIndication: PWSK_DATAGRAM_INDICATION,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WskRelease", kernel::DISPATCH) {
        return STATUS_INVALID_PARAMETER;
    }
    let key = Socket as usize;
    let list = DatagramIndication as usize;
    let mut wsk = kernel.wsk().lock();
    let Some(record) = wsk.sockets.get_mut(&key) else {
        drop(wsk);
        kernel.violate(
            rules::WSK_SOCKET_INVALID,
            format!("WskRelease on {key:#x}, which is not a live socket"),
        );
        return STATUS_INVALID_HANDLE;
    };
    let events = &mut record.events;
    match events.lists.get(&list).copied() {
        Some(ListState::Retained) => {
            events.lists.remove(&list);
        }
        Some(ListState::Indicating) => {
            events.lists.insert(list, ListState::ReleasedDuringCall);
        }
        Some(ListState::ReleasedDuringCall) => {
            drop(wsk);
            kernel.violate(
                rules::WSK_INDICATION_RELEASED_TWICE,
                format!("WskRelease of list {list:#x}, already released"),
            );
            return STATUS_INVALID_PARAMETER;
        }
        None => {
            let twice = events.released.contains(&list);
            drop(wsk);
            if twice {
                kernel.violate(
                    rules::WSK_INDICATION_RELEASED_TWICE,
                    format!("WskRelease of list {list:#x}, already released"),
                );
            } else {
                kernel.violate(
                    rules::WSK_BAD_ARGUMENT,
                    format!("WskRelease of {list:#x}, not a list this socket indicated and the client retained"),
                );
            }
            return STATUS_INVALID_PARAMETER;
        }
    }
    events.remember_release(list);
    drop(wsk);
    kernel.note(format!("WSK: WskRelease: list {list:#x} released"));
    pool::provider_free(
        &kernel,
        list,
        rules::WSK_INDICATION_USED_AFTER_RELEASE,
        "the WSK provider at WskRelease: a released list is the provider's again".into(),
    );
    STATUS_SUCCESS
}

/// WskCloseSocket was called: lists still retained were never released (Learn: closing does
/// not release them). Each is reported and taken back.
pub(crate) fn close(kernel: &KernelState, socket: usize) {
    let retained: Vec<usize> = {
        let mut wsk = kernel.wsk().lock();
        let Some(record) = wsk.sockets.get_mut(&socket) else {
            return;
        };
        let retained: Vec<usize> = record
            .events
            .lists
            .iter()
            .filter(|(_, state)| **state == ListState::Retained)
            .map(|(list, _)| *list)
            .collect();
        for list in &retained {
            record.events.lists.remove(list);
        }
        record.events.enabled = false;
        retained
    };
    for list in retained {
        kernel.violate(
            rules::WSK_INDICATION_NOT_RELEASED,
            format!(
                "WskCloseSocket with indication list {list:#x} still retained: every list kept \
                 with STATUS_PENDING needs its WskRelease before the socket is closed"
            ),
        );
        pool::provider_free(
            kernel,
            list,
            rules::WSK_INDICATION_USED_AFTER_RELEASE,
            "the WSK provider at WskCloseSocket (the list was never released)".into(),
        );
    }
}

/// Calls every enabled WskReceiveFromEvent once with a NULL list, which tells the client its
/// socket no longer works (Learn, PFN_WSK_RECEIVE_FROM_EVENT), on a provider thread at
/// DISPATCH_LEVEL. The socket stays as it is otherwise (the client must close it). Returns
/// how many callbacks were made.
pub(crate) fn indicate_failure(kernel: &Arc<KernelState>) -> usize {
    let targets: Vec<(usize, usize, usize)> = {
        let mut wsk = kernel.wsk().lock();
        wsk.sockets
            .iter_mut()
            .filter(|(_, r)| !r.closing && r.events.enabled && r.events.dispatch != 0)
            .map(|(key, r)| {
                r.events.in_progress += 1;
                (*key, r.events.dispatch, r.events.context)
            })
            .collect()
    };
    let count = targets.len();
    let worker = kernel.clone();
    let thread = std::thread::Builder::new()
        .name("wsk-event-failure".into())
        .spawn(move || {
            let _entered = kernel::enter(&worker);
            for (socket, dispatch, context) in targets {
                // SAFETY: the client's dispatch table, valid while the socket is open.
                let callback = unsafe {
                    (*(dispatch as *const WSK_CLIENT_DATAGRAM_DISPATCH)).WskReceiveFromEvent
                };
                if let Some(callback) = callback {
                    worker.note(
                        "WSK: WskReceiveFromEvent with a NULL list: socket no longer functional",
                    );
                    let _ = kernel::at_irql(kernel::DISPATCH, || {
                        // SAFETY: the client's callback; a NULL list is documented.
                        unsafe {
                            callback(
                                context as PVOID,
                                WSK_FLAG_AT_DISPATCH_LEVEL,
                                std::ptr::null_mut(),
                            )
                        }
                    });
                }
                finish_call(&worker, socket);
            }
        });
    match thread {
        Ok(handle) => {
            let _ = handle.join();
        }
        Err(_) => panic!("kernel model: cannot start a provider thread"),
    }
    count
}
