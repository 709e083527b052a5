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
//! The receiver thread that completes them is `receiver.rs`.

use std::collections::VecDeque;
use std::sync::Arc;

use super::abi::*;
use super::calls::{CallGuard, add_pending, enter_call, fail, finish_pending, socket_snapshot};
use super::receiver::start_receiver;
use super::record::PostedReceive;
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, FaultSite, KernelState, rules};
use crate::mdl;
use crate::types::*;

/// Completes every posted receive of a closing socket with STATUS_CANCELLED.
pub(crate) fn cancel_posted(
    kernel: &Arc<KernelState>,
    socket: usize,
    posted: VecDeque<PostedReceive>,
) {
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
