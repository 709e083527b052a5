//! The datagrams of a send: taken from the driver's WSK_BUFs (validated, pinned, snapshotted),
//! sent from its pinned memory on the host socket at completion time, and unpinned; and the
//! send's completion, as the completion mode says (including sends that never complete until
//! close cancels them).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use socket2::{SockAddr, Socket};

use super::abi::*;
use super::calls::{CallGuard, Pin, complete_with, map_io_error};
use crate::constants::*;
use crate::kernel::{CompletionMode, DestinationPolicy, KernelState, rules};
use crate::mdl::{self, Segment};
use crate::types::*;

fn allowed(kernel: &KernelState, destination: &SocketAddr) -> bool {
    kernel.config.destinations == DestinationPolicy::Any || destination.ip().is_loopback()
}

/// A datagram accepted for sending: where its bytes are and what they were when submitted.
pub(crate) struct Datagram {
    pub segments: Vec<Segment>,
    pub snapshot: Vec<u8>,
}

/// # Safety
/// `buffer` must point to a WSK_BUF.
pub(crate) unsafe fn take_datagram(
    kernel: &KernelState,
    buffer: *const WSK_BUF,
) -> Result<Datagram, NTSTATUS> {
    // SAFETY: the caller's guarantee.
    let buffer = unsafe { &*buffer };
    let (Ok(offset), Ok(length)) = (
        usize::try_from(buffer.Offset),
        usize::try_from(buffer.Length),
    ) else {
        return Err(STATUS_INVALID_PARAMETER);
    };
    if length == 0 {
        // Learn, WSK_BUF: a zero Length (and then a NULL Mdl) is documented for WskReceive
        // only; what WskSendTo / WskSendMessages do with it is not, so the model refuses it.
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "a zero-length WSK_BUF in a send: Learn documents Length 0 for WskReceive only",
        );
        return Err(STATUS_INVALID_PARAMETER);
    }
    let Some(segments) = mdl::validate_chain(kernel, buffer.Mdl, offset, length) else {
        return Err(STATUS_INVALID_PARAMETER);
    };
    mdl::pin(kernel, &segments, true);
    let snapshot = mdl::gather(&segments);
    Ok(Datagram { segments, snapshot })
}

/// Sends the datagrams (at completion time) straight from the driver's pinned memory, then
/// releases the pins. A datagram whose bytes differ from the submission snapshot is reported:
/// the driver changed a buffer WSK still owned.
fn transmit(
    kernel: &Arc<KernelState>,
    host: &Socket,
    to: SocketAddr,
    datagrams: &[Datagram],
) -> (NTSTATUS, u64) {
    for datagram in datagrams {
        if !mdl::matches(&datagram.segments, &datagram.snapshot) {
            kernel.violate(
                rules::BUFFER_MODIFIED_WHILE_PENDING,
                format!(
                    "a {}-byte datagram to {to} changed between submission and send",
                    datagram.snapshot.len()
                ),
            );
        }
    }
    let result = if allowed(kernel, &to) {
        send_all(host, &SockAddr::from(to), datagrams)
    } else {
        kernel.note(format!(
            "WSK: send to {to} refused: the model only sends to loopback"
        ));
        (STATUS_NETWORK_UNREACHABLE, 0, 0)
    };
    kernel
        .counters
        .datagrams_sent
        .fetch_add(result.2, Ordering::Relaxed);
    unpin_all(kernel, datagrams);
    (result.0, result.1)
}

/// The iovecs of one datagram, pointing into the driver's pinned memory.
fn io_slices(datagram: &Datagram) -> Vec<std::io::IoSlice<'_>> {
    datagram
        .segments
        .iter()
        .map(|segment| {
            // SAFETY: the segment lies in a live, pinned pool allocation (validate_chain + pin)
            // that cannot be freed until the pins are released after the send.
            std::io::IoSlice::new(unsafe {
                std::slice::from_raw_parts(segment.address as *const u8, segment.len)
            })
        })
        .collect()
}

/// Sends every datagram to `target`: one sendmsg for a single datagram, sendmmsg for several
/// (as Windows sends a WskSendMessages list). Returns (status, bytes, datagrams) sent.
fn send_all(host: &Socket, target: &SockAddr, datagrams: &[Datagram]) -> (NTSTATUS, u64, u64) {
    if let [datagram] = datagrams {
        return match host.send_to_vectored(&io_slices(datagram), target) {
            Ok(n) => (STATUS_SUCCESS, n as u64, 1),
            Err(error) => (map_io_error(&error), 0, 0),
        };
    }
    let slices: Vec<Vec<std::io::IoSlice<'_>>> = datagrams.iter().map(io_slices).collect();
    let mut headers: Vec<libc::mmsghdr> = slices
        .iter()
        .map(|iov| {
            // SAFETY: an all-zero msghdr is valid; the fields set below point at live data.
            let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
            header.msg_hdr.msg_name = target.as_ptr() as *mut libc::c_void;
            header.msg_hdr.msg_namelen = target.len();
            header.msg_hdr.msg_iov = iov.as_ptr() as *mut libc::iovec;
            header.msg_hdr.msg_iovlen = iov.len();
            header
        })
        .collect();
    let mut done = 0usize;
    let mut bytes = 0u64;
    while done < headers.len() {
        let remaining = &mut headers[done..];
        // SAFETY: every header points at the target address and at iovecs over pinned memory,
        // all alive for this call; IoSlice is ABI-compatible with iovec.
        let sent = unsafe {
            libc::sendmmsg(
                std::os::fd::AsRawFd::as_raw_fd(host),
                remaining.as_mut_ptr(),
                remaining.len() as libc::c_uint,
                0,
            )
        };
        if sent < 0 {
            let error = std::io::Error::last_os_error();
            return (map_io_error(&error), bytes, done as u64);
        }
        let sent = sent as usize;
        bytes += remaining[..sent]
            .iter()
            .map(|h| u64::from(h.msg_len))
            .sum::<u64>();
        done += sent;
    }
    (STATUS_SUCCESS, bytes, done as u64)
}

pub(crate) fn unpin_all(kernel: &KernelState, datagrams: &[Datagram]) {
    for datagram in datagrams {
        mdl::pin(kernel, &datagram.segments, false);
    }
}

/// Issues a send of `datagrams` on the socket, honouring the completion mode (including
/// sends that never complete until close).
pub(crate) fn issue_send(
    kernel: &Arc<KernelState>,
    guard: CallGuard,
    irp: PIRP,
    to: SocketAddr,
    host: Arc<Socket>,
    datagrams: Vec<Datagram>,
    pins: Vec<Pin>,
) -> NTSTATUS {
    let key = guard.socket;
    drop(guard);
    if matches!(
        kernel.config.completion,
        CompletionMode::NeverForSends | CompletionMode::NeverForSendsSlowControl(_)
    ) {
        let segments = datagrams.into_iter().flat_map(|d| d.segments).collect();
        if let Some(record) = kernel.wsk().lock().sockets.get_mut(&key) {
            record.stuck.push((irp as usize, segments));
        }
        return STATUS_PENDING;
    }
    complete_with(
        kernel,
        irp,
        Some(key),
        Box::new(move |kernel| {
            pins.iter().for_each(|pin| pin.check(kernel));
            let cancelled = kernel
                .wsk()
                .lock()
                .sockets
                .get(&key)
                .is_none_or(|r| r.closing);
            if cancelled {
                unpin_all(kernel, &datagrams);
                return (STATUS_CANCELLED, 0);
            }
            transmit(kernel, &host, to, &datagrams)
        }),
    )
}
