//! The receive side of a datagram socket: WskReceiveFrom with posted IRPs.
//!
//! What the model does, and where it comes from (Learn, PFN_WSK_RECEIVE_FROM, wsk.h):
//! - `Flags` is reserved and must be 0 (WSK_BAD_ARGUMENT otherwise).
//! - `Buffer` describes where the datagram goes; its MDLs must be nonpaged or locked, as for a
//!   send, and they are pinned until the IRP completes (freeing one is a stop).
//! - `RemoteAddress` (optional, nonpaged, big enough for the socket's family) receives the
//!   source; `ControlLength` (optional) receives the size of the control information, 0 when
//!   there is none (the model delivers none); `ControlFlags` (optional) receives MSG_BCAST,
//!   MSG_MCAST, MSG_TRUNC ("the datagram was truncated because it was larger than the buffer")
//!   or MSG_CTRUNC.
//! - On success `IoStatus.Information` is the number of bytes received into the buffer.
//! - The socket must be bound (the model refuses an unbound one with
//!   STATUS_INVALID_DEVICE_STATE, as it does sends).
//! - A fixed remote address (SIO_WSK_SET_REMOTE_ADDRESS) filters what is received: datagrams
//!   from any other source are dropped (Learn, SIO_WSK_SET_REMOTE_ADDRESS).
//! - Posted receives are completed with STATUS_CANCELLED when the socket is closed, before the
//!   close itself completes (Learn, PFN_WSK_CLOSE_SOCKET remarks: calling WskCloseSocket makes
//!   the subsystem cancel and complete every pending IRP from earlier calls on the socket).
//!
//! The host side: one receiver thread per socket (a provider thread: it enters the kernel and
//! completes IRPs at DISPATCH_LEVEL through [`irp::complete`]). It reads from the host socket
//! only while a receive is posted, so datagrams that arrive with none posted wait in the host
//! socket's buffer, as they would in the transport's.

use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::abi::*;
use super::address;
use super::socket::{CallGuard, add_pending, enter_call, fail, finish_pending, socket_snapshot};
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, FaultSite, KernelState as Kernel, rules};
use crate::mdl::{self, Segment};
use crate::types::*;

/// Windows ws2def.h: the datagram was larger than the buffer.
pub const MSG_TRUNC: ULONG = 0x0100;

/// The largest datagram the host can deliver (an IPv6 UDP payload of 65,527 bytes fits).
const HOST_BUFFER: usize = 65_536;

/// How long the receiver thread blocks in one host read or park before it looks again.
const POLL: Duration = Duration::from_millis(5);

/// A WskReceiveFrom IRP the provider holds until a datagram arrives or the socket closes.
pub(crate) struct PostedReceive {
    irp: usize,
    segments: Vec<Segment>,
    /// Output pointers (NULL when the driver passed none).
    remote: usize,
    control_length: usize,
    control_flags: usize,
}

/// The receive state of a socket (in its `SocketRecord`, under the provider lock).
#[derive(Default)]
pub(crate) struct ReceiveState {
    pub posted: VecDeque<PostedReceive>,
    /// The receiver thread, once started (unparked when a receive is posted).
    pub thread: Option<std::thread::Thread>,
    /// Joined when the socket is freed, so its host socket (and port) is gone when the close
    /// completes, as a closed Windows socket's address is free again.
    pub handle: Option<std::thread::JoinHandle<()>>,
}

/// Waits for a closed socket's receiver thread to let go of the host socket.
pub(crate) fn join(handle: Option<std::thread::JoinHandle<()>>) {
    if let Some(handle) = handle
        && handle.thread().id() != std::thread::current().id()
    {
        let _ = handle.join();
    }
}

/// Completes every posted receive of a closing socket with STATUS_CANCELLED.
pub(crate) fn cancel_posted(kernel: &Arc<Kernel>, socket: usize, posted: VecDeque<PostedReceive>) {
    for receive in posted {
        mdl::pin(kernel, &receive.segments, false);
        irp::complete(kernel, receive.irp as PIRP, STATUS_CANCELLED, 0);
        finish_pending(kernel, socket);
    }
}

#[allow(non_snake_case, clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn wsk_receive_from(
    Socket: *mut WSK_SOCKET,
    Buffer: *mut WSK_BUF,
    Flags: ULONG,
    RemoteAddress: *mut SOCKADDR,
    ControlLength: *mut ULONG,
    ControlInfo: PVOID,
    ControlFlags: *mut ULONG,
    Irp: PIRP,
) -> NTSTATUS {
    let _ = ControlInfo;
    let Some(guard) = enter_call("WskReceiveFrom", Socket, Irp, kernel::DISPATCH) else {
        return STATUS_INVALID_PARAMETER;
    };
    let kernel = guard.kernel.clone();
    let key = guard.socket;
    let Some(view) = socket_snapshot(&kernel, key) else {
        return STATUS_INVALID_HANDLE;
    };
    add_pending(&kernel, key);
    if Flags != 0 {
        kernel.violate(
            rules::WSK_FLAGS_NOT_ZERO,
            format!(
                "WskReceiveFrom with Flags {Flags:#x}: the parameter is reserved and must be 0"
            ),
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    }
    if view.bound.is_none() {
        kernel.violate(
            rules::WSK_NOT_BOUND,
            "WskReceiveFrom on a socket that is not bound",
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_DEVICE_STATE);
    }
    if Buffer.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "WskReceiveFrom with a NULL WSK_BUF",
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    }
    // SAFETY: checked non-null; the driver passes a WSK_BUF.
    let buffer = unsafe { &*Buffer };
    let (Ok(offset), Ok(length)) = (
        usize::try_from(buffer.Offset),
        usize::try_from(buffer.Length),
    ) else {
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    };
    if length == 0 {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "WskReceiveFrom with a zero-length WSK_BUF: no datagram byte could be received",
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    }
    let Some(segments) = mdl::validate_chain(&kernel, buffer.Mdl, offset, length) else {
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    };
    if let Some(status) = kernel.injected_fault(FaultSite::WskReceiveFrom) {
        return fail(&kernel, Irp, Some(key), status);
    }
    mdl::pin(&kernel, &segments, true);
    kernel
        .counters
        .wsk_receive_from
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let posted = PostedReceive {
        irp: Irp as usize,
        segments,
        remote: RemoteAddress as usize,
        control_length: ControlLength as usize,
        control_flags: ControlFlags as usize,
    };
    let start = {
        let mut wsk = kernel.wsk().lock();
        let Some(record) = wsk.sockets.get_mut(&key) else {
            return STATUS_INVALID_HANDLE;
        };
        record.receive.posted.push_back(posted);
        match &record.receive.thread {
            Some(thread) => {
                thread.unpark();
                false
            }
            None => true,
        }
    };
    if start {
        start_receiver(&kernel, key, view.host.clone());
    }
    drop::<CallGuard>(guard);
    STATUS_PENDING
}

pub(crate) fn start_receiver(kernel: &Arc<Kernel>, socket: usize, host: Arc<socket2::Socket>) {
    let weak = Arc::downgrade(kernel);
    let _ = host.set_read_timeout(Some(POLL));
    let spawned = std::thread::Builder::new()
        .name("wsk-receive".into())
        .spawn(move || receiver(&weak, socket, &host));
    match spawned {
        Ok(handle) => {
            if let Some(record) = kernel.wsk().lock().sockets.get_mut(&socket) {
                record.receive.thread = Some(handle.thread().clone());
                record.receive.handle = Some(handle);
            }
        }
        Err(_) => panic!("kernel model: cannot start a receiver thread"),
    }
}

/// What the receiver thread should do next.
enum Next {
    Exit,
    Wait,
    Read,
}

fn next_step(kernel: &Kernel, socket: usize) -> Next {
    match kernel.wsk().lock().sockets.get(&socket) {
        None => Next::Exit,
        Some(record) if record.closing => Next::Exit,
        Some(record) if record.receive.posted.is_empty() && !record.events.enabled => Next::Wait,
        Some(_) => Next::Read,
    }
}

fn receiver(kernel: &Weak<Kernel>, socket: usize, host: &socket2::Socket) {
    let mut buffer = vec![MaybeUninit::<u8>::uninit(); HOST_BUFFER];
    loop {
        let Some(kernel) = kernel.upgrade() else {
            return;
        };
        match next_step(&kernel, socket) {
            Next::Exit => return,
            Next::Wait => {
                drop(kernel);
                std::thread::park_timeout(POLL);
                continue;
            }
            Next::Read => {}
        }
        let (length, source) = match host.recv_from(&mut buffer) {
            Ok((length, source)) => (length, source.as_socket()),
            Err(_) => continue,
        };
        // SAFETY: recv_from initialised the first `length` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), length) };
        let Some(source) = source else {
            continue;
        };
        let _entered = kernel::enter(&kernel);
        kernel::set_irql(kernel::PASSIVE);
        deliver(&kernel, socket, bytes, source);
    }
}

/// Hands one datagram to the oldest posted receive (or drops it if the socket filters its
/// source or is closing), and completes that IRP.
fn deliver(kernel: &Arc<Kernel>, socket: usize, bytes: &[u8], source: SocketAddr) {
    let receive = {
        let mut wsk = kernel.wsk().lock();
        let Some(record) = wsk.sockets.get_mut(&socket) else {
            return;
        };
        if record.closing {
            return;
        }
        if record.fixed.remote.is_some_and(|remote| remote != source) {
            drop(wsk);
            kernel.note(format!(
                "WSK: datagram from {source} dropped: the socket's remote address filters it"
            ));
            return;
        }
        let Some(receive) = record.receive.posted.pop_front() else {
            // No receive posted: the event callback, if enabled, gets the datagram (a posted
            // WskReceiveFrom takes precedence, Learn PFN_WSK_RECEIVE_FROM_EVENT remarks).
            drop(wsk);
            if !super::events::indicate(kernel, socket, bytes, source) {
                kernel.note(format!(
                    "WSK: datagram from {source} dropped: no receive posted, no event enabled"
                ));
            }
            return;
        };
        receive
    };
    let mut copied = 0usize;
    for segment in &receive.segments {
        let Some(rest) = bytes.get(copied..) else {
            break;
        };
        let take = rest.len().min(segment.len);
        // SAFETY: the segment lies in a live pool allocation pinned since the receive was
        // posted (validate_chain + pin); the source is `take` readable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(rest.as_ptr(), segment.address as *mut u8, take);
        }
        copied += take;
    }
    let truncated = copied < bytes.len();
    mdl::pin(kernel, &receive.segments, false);
    // SAFETY: the driver passed NULL or outputs of the documented types, which it keeps valid
    // until the IRP completes (the WSK contract); a RemoteAddress has room for the socket's
    // family (Learn, PFN_WSK_RECEIVE_FROM).
    unsafe {
        if receive.remote != 0 {
            address::write(source, receive.remote as *mut SOCKADDR);
        }
        if receive.control_length != 0 {
            *(receive.control_length as *mut ULONG) = 0;
        }
        if receive.control_flags != 0 {
            *(receive.control_flags as *mut ULONG) = if truncated { MSG_TRUNC } else { 0 };
        }
    }
    kernel.note(format!(
        "WSK: WskReceiveFrom: {} of {} bytes from {source}{}",
        copied,
        bytes.len(),
        if truncated { " (MSG_TRUNC)" } else { "" }
    ));
    kernel
        .counters
        .datagrams_received
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    irp::complete(kernel, receive.irp as PIRP, STATUS_SUCCESS, copied as u64);
    finish_pending(kernel, socket);
}
