//! WskSendTo and WskSendMessages: the checks they share, where a datagram goes (an explicit or
//! a fixed address), accounting and fault injection; the datagrams themselves are
//! `datagram.rs`'s.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use super::abi::*;
use super::calls::{Pin, SocketView, add_pending, enter_call, fail, read_address, socket_snapshot};
use super::datagram::{Datagram, issue_send, take_datagram, unpin_all};
use super::record::Fixed;
use crate::constants::*;
use crate::kernel::{self, FaultSite, KernelState, rules};
use crate::types::*;

/// Where a datagram goes: the explicit address, or the socket's fixed one where Learn defines
/// that (PFN_WSK_SEND_TO: a NULL RemoteAddress sends to the fixed remote or fixed send-to
/// address). PFN_WSK_SEND_MESSAGES says nothing of the kind, and with both fixed addresses set
/// the documentation does not say which wins: both are refused as ambiguous.
///
/// # Safety
/// `remote` must be NULL or point to a SOCKADDR of the size its family implies.
unsafe fn destination(
    kernel: &KernelState,
    call: &str,
    batched: bool,
    family: u16,
    fixed: Fixed,
    remote: *const SOCKADDR,
) -> Result<(SocketAddr, bool), NTSTATUS> {
    if remote.is_null() {
        let ambiguous = |why: &str| {
            kernel.violate(
                rules::WSK_AMBIGUOUS_DESTINATION,
                format!("{call} with RemoteAddress NULL {why}"),
            );
            Err(STATUS_INVALID_PARAMETER)
        };
        return match (batched, fixed.remote, fixed.send_to) {
            (true, _, _) => ambiguous("(WskSendMessages documents no fixed-address fallback)"),
            (false, Some(_), Some(_)) => {
                ambiguous("while both a fixed remote and a fixed send-to address are set")
            }
            (false, Some(address), None) | (false, None, Some(address)) => Ok((address, true)),
            (false, None, None) => {
                kernel.violate(
                    rules::WSK_NULL_REMOTE_ADDRESS,
                    format!(
                        "{call} with RemoteAddress NULL and no fixed remote or send-to address"
                    ),
                );
                Err(STATUS_INVALID_PARAMETER)
            }
        };
    }
    // SAFETY: the caller's guarantee.
    let address = unsafe { read_address(kernel, call, family, remote) }?;
    if address.port() == 0 {
        return Err(STATUS_INVALID_ADDRESS);
    }
    Ok((address, false))
}

/// Checks shared by WskSendTo and WskSendMessages before any datagram is taken.
fn check_send_call(
    kernel: &KernelState,
    call: &str,
    bound: Option<SocketAddr>,
    flags: ULONG,
    control_length: ULONG,
    control: PVOID,
) -> Result<(), NTSTATUS> {
    if flags != 0 {
        kernel.violate(
            rules::WSK_FLAGS_NOT_ZERO,
            format!("{call} with Flags {flags:#x}"),
        );
        return Err(STATUS_INVALID_PARAMETER);
    }
    if control_length != 0 || !control.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            format!("the model supports {call} without control information"),
        );
        return Err(STATUS_NOT_SUPPORTED);
    }
    if bound.is_none() {
        kernel.violate(
            rules::WSK_NOT_BOUND,
            format!("{call} on a socket that is not bound"),
        );
        return Err(STATUS_INVALID_DEVICE_STATE);
    }
    Ok(())
}

/// Which send call, for messages, counters and fault injection.
struct SendCall {
    name: &'static str,
    site: FaultSite,
    batched: bool,
}

/// What WskSendTo and WskSendMessages share: the checks, the destination (explicit or fixed),
/// taking the datagrams (`take` validates and pins them), accounting, fault injection, and
/// issuing the send.
#[allow(clippy::too_many_arguments)]
fn send_call(
    call: SendCall,
    socket: *mut WSK_SOCKET,
    flags: ULONG,
    remote: *mut SOCKADDR,
    control_length: ULONG,
    control: PVOID,
    irp: PIRP,
    take: impl FnOnce(&KernelState) -> Result<Vec<Datagram>, NTSTATUS>,
) -> NTSTATUS {
    let Some(guard) = enter_call(call.name, socket, irp, kernel::DISPATCH) else {
        return STATUS_INVALID_PARAMETER;
    };
    let kernel = guard.kernel.clone();
    let key = guard.socket;
    let Some(SocketView {
        family,
        host,
        bound,
        fixed,
        ..
    }) = socket_snapshot(&kernel, key)
    else {
        return STATUS_INVALID_HANDLE;
    };
    add_pending(&kernel, key);
    if let Err(status) = check_send_call(&kernel, call.name, bound, flags, control_length, control)
    {
        return fail(&kernel, irp, Some(key), status);
    }
    // SAFETY: the driver passes NULL or a SOCKADDR of its socket's family.
    let (to, used_fixed) =
        match unsafe { destination(&kernel, call.name, call.batched, family, fixed, remote) } {
            Ok(found) => found,
            Err(status) => return fail(&kernel, irp, Some(key), status),
        };
    let datagrams = match take(&kernel) {
        Ok(datagrams) => datagrams,
        Err(status) => return fail(&kernel, irp, Some(key), status),
    };
    let counter = if call.batched {
        &kernel.counters.wsk_send_messages
    } else {
        &kernel.counters.wsk_send_to
    };
    counter.fetch_add(1, Ordering::Relaxed);
    if used_fixed {
        kernel
            .counters
            .wsk_send_to_null_remote
            .fetch_add(1, Ordering::Relaxed);
    }
    if let Some(status) = kernel.injected_fault(call.site) {
        unpin_all(&kernel, &datagrams);
        return fail(&kernel, irp, Some(key), status);
    }
    if kernel.tracing() {
        let bytes: usize = datagrams.iter().map(|d| d.snapshot.len()).sum();
        let via = if used_fixed {
            " (RemoteAddress NULL: fixed destination)"
        } else {
            ""
        };
        kernel.note(format!(
            "WSK: {}: {} datagram(s), {bytes} bytes to {to}{via}",
            call.name,
            datagrams.len()
        ));
    }
    let pins = if remote.is_null() {
        Vec::new()
    } else {
        // SAFETY: read above as a SOCKADDR of the socket's family.
        vec![unsafe { Pin::sockaddr(call.name, remote) }]
    };
    issue_send(&kernel, guard, irp, to, host, datagrams, pins)
}

#[allow(non_snake_case)]
pub(crate) unsafe extern "system" fn wsk_send_to(
    Socket: *mut WSK_SOCKET,
    Buffer: *mut WSK_BUF,
    Flags: ULONG,
    RemoteAddress: *mut SOCKADDR,
    ControlInfoLength: ULONG,
    ControlInfo: PVOID,
    Irp: PIRP,
) -> NTSTATUS {
    let call = SendCall {
        name: "WskSendTo",
        site: FaultSite::WskSendTo,
        batched: false,
    };
    send_call(
        call,
        Socket,
        Flags,
        RemoteAddress,
        ControlInfoLength,
        ControlInfo,
        Irp,
        |kernel| {
            if Buffer.is_null() {
                kernel.violate(rules::WSK_BAD_ARGUMENT, "WskSendTo with a NULL WSK_BUF");
                return Err(STATUS_INVALID_PARAMETER);
            }
            // SAFETY: checked non-null; the driver passes a WSK_BUF.
            unsafe { take_datagram(kernel, Buffer) }.map(|datagram| vec![datagram])
        },
    )
}

#[allow(non_snake_case)]
pub(crate) unsafe extern "system" fn wsk_send_messages(
    Socket: *mut WSK_SOCKET,
    BufferList: *mut WSK_BUF_LIST,
    Flags: ULONG,
    RemoteAddress: *mut SOCKADDR,
    ControlInfoLength: ULONG,
    ControlInfo: PVOID,
    Irp: PIRP,
) -> NTSTATUS {
    let call = SendCall {
        name: "WskSendMessages",
        site: FaultSite::WskSendMessages,
        batched: true,
    };
    send_call(
        call,
        Socket,
        Flags,
        RemoteAddress,
        ControlInfoLength,
        ControlInfo,
        Irp,
        |kernel| {
            let mut datagrams = Vec::new();
            let mut node = BufferList;
            while !node.is_null() {
                // SAFETY: each node is a live WSK_BUF_LIST the driver keeps until completion.
                match unsafe { take_datagram(kernel, &raw const (*node).Buffer) } {
                    Ok(datagram) => datagrams.push(datagram),
                    Err(status) => {
                        unpin_all(kernel, &datagrams);
                        return Err(status);
                    }
                }
                // SAFETY: as above.
                node = unsafe { (*node).Next };
            }
            if datagrams.is_empty() {
                kernel.violate(
                    rules::WSK_BAD_ARGUMENT,
                    "WskSendMessages with an empty buffer list",
                );
                return Err(STATUS_INVALID_PARAMETER);
            }
            Ok(datagrams)
        },
    )
}
