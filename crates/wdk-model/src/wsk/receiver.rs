//! The host side of a socket's receives: one receiver thread per socket (a provider thread: it
//! enters the kernel and completes IRPs at DISPATCH_LEVEL through [`irp::complete`]). It reads
//! from the host socket only while a receive is posted or the receive event is enabled, so
//! datagrams that arrive with neither wait in the host socket's buffer, as they would in the
//! transport's. A datagram goes to the oldest posted WskReceiveFrom (`receive.rs`), or else to
//! the receive-event callback (`events.rs`).

use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::abi::*;
use super::address;
use super::calls::finish_pending;
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, KernelState};
use crate::mdl;
use crate::types::*;

/// The largest datagram the host can deliver (an IPv6 UDP payload of 65,527 bytes fits).
const HOST_BUFFER: usize = 65_536;

/// How long the receiver thread blocks in one host read or park before it looks again.
const POLL: Duration = Duration::from_millis(5);

pub(crate) fn start_receiver(kernel: &Arc<KernelState>, socket: usize, host: Arc<socket2::Socket>) {
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

fn next_step(kernel: &KernelState, socket: usize) -> Next {
    match kernel.wsk().lock().sockets.get(&socket) {
        None => Next::Exit,
        Some(record) if record.closing => Next::Exit,
        Some(record) if record.receive.posted.is_empty() && !record.events.enabled => Next::Wait,
        Some(_) => Next::Read,
    }
}

fn receiver(kernel: &Weak<KernelState>, socket: usize, host: &socket2::Socket) {
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
fn deliver(kernel: &Arc<KernelState>, socket: usize, bytes: &[u8], source: SocketAddr) {
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
