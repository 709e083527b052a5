//! SO_WSK_EVENT_CALLBACK: enabling and disabling WskReceiveFromEvent (the rules are in
//! `events.rs`'s module documentation). Above the receiver thread (`receiver.rs`), which
//! enabling starts.

use super::abi::*;
use super::calls::{add_pending, fail};
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, FaultSite, rules};
use crate::types::*;

/// ntstatus.h: the event is disabled once the callbacks in progress return.
pub const STATUS_EVENT_PENDING: NTSTATUS = 0x4000_0013;

/// WskControlSocket(WskSetOption, SO_WSK_EVENT_CALLBACK, SOL_SOCKET, ...): enables or disables
/// WskReceiveFromEvent. Called before the generic control checks, since enabling takes no IRP.
pub(crate) fn control(
    socket: *mut WSK_SOCKET,
    level: ULONG,
    input_size: SIZE_T,
    input: PVOID,
    output_size: SIZE_T,
    irp: PIRP,
) -> NTSTATUS {
    let kernel = kernel::current();
    const CALL: &str = "WskControlSocket(SO_WSK_EVENT_CALLBACK)";
    if !kernel::require_irql(&kernel, CALL, kernel::DISPATCH) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let key = socket as usize;
    let (bound, has_callback) = {
        let wsk = kernel.wsk().lock();
        match wsk.sockets.get(&key).filter(|r| !r.closing) {
            Some(record) => (
                record.bound.is_some(),
                record.events.dispatch != 0
                    // SAFETY: the client's dispatch table, valid while the socket is open.
                    && unsafe {
                        (*(record.events.dispatch as *const WSK_CLIENT_DATAGRAM_DISPATCH))
                            .WskReceiveFromEvent
                            .is_some()
                    },
            ),
            None => {
                drop(wsk);
                kernel.violate(
                    rules::WSK_SOCKET_INVALID,
                    format!("{CALL} on {key:#x}, which is not a live socket"),
                );
                return STATUS_INVALID_HANDLE;
            }
        }
    };
    // Refuses the call: an IRP, if one was passed, completes with `status`.
    let refuse = |status: NTSTATUS| {
        if irp.is_null() || !irp::take_for_provider(&kernel, irp, "WskControlSocket") {
            return status;
        }
        add_pending(&kernel, key);
        fail(&kernel, irp, Some(key), status)
    };
    let bad = |why: String| {
        kernel.violate(rules::WSK_BAD_ARGUMENT, format!("{CALL}: {why}"));
        refuse(STATUS_INVALID_PARAMETER)
    };
    if level != SOL_SOCKET {
        return bad(format!("Level {level:#x}, not SOL_SOCKET"));
    }
    if output_size != 0 {
        return bad("OutputSize must be 0".into());
    }
    if input.is_null() || (input_size as usize) < size_of::<WSK_EVENT_CALLBACK_CONTROL>() {
        return bad(format!(
            "InputBuffer must be a WSK_EVENT_CALLBACK_CONTROL ({input_size} bytes given)"
        ));
    }
    // SAFETY: checked non-null and large enough; the client passes a WSK_EVENT_CALLBACK_CONTROL.
    let request = unsafe { &*input.cast::<WSK_EVENT_CALLBACK_CONTROL>() };
    // SAFETY: NpiId points at an NPIID when not NULL (the client's contract).
    if request.NpiId.is_null() || unsafe { *request.NpiId } != NPI_WSK_INTERFACE_ID {
        return bad("NpiId must point at NPI_WSK_INTERFACE_ID".into());
    }
    let disable = request.EventMask & WSK_EVENT_DISABLE != 0;
    if request.EventMask & !WSK_EVENT_DISABLE != WSK_EVENT_RECEIVE_FROM {
        return bad(format!(
            "EventMask {:#x}: a datagram socket has WSK_EVENT_RECEIVE_FROM only, disabled one \
             event at a time",
            request.EventMask
        ));
    }
    if !bound {
        kernel.violate(
            rules::WSK_NOT_BOUND,
            format!("{CALL} before WskBind (Learn: only after the socket is bound)"),
        );
        return refuse(STATUS_INVALID_DEVICE_STATE);
    }
    if !disable && !irp.is_null() {
        return bad("enabling takes no IRP (Learn, SO_WSK_EVENT_CALLBACK)".into());
    }
    if !disable && !has_callback {
        return bad("WskSocket was given no WskReceiveFromEvent to enable".into());
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskControl) {
        return refuse(status);
    }
    if !disable {
        let start = {
            let mut wsk = kernel.wsk().lock();
            let Some(record) = wsk.sockets.get_mut(&key) else {
                return STATUS_INVALID_HANDLE;
            };
            record.events.enabled = true;
            match &record.receive.thread {
                Some(thread) => {
                    thread.unpark();
                    None
                }
                None => Some(record.host.clone()),
            }
        };
        if let Some(host) = start {
            super::receiver::start_receiver(&kernel, key, host);
        }
        kernel.note("WSK: SO_WSK_EVENT_CALLBACK: WskReceiveFromEvent enabled");
        return STATUS_SUCCESS;
    }
    kernel.note("WSK: SO_WSK_EVENT_CALLBACK: WskReceiveFromEvent disabled");
    let mut wsk = kernel.wsk().lock();
    let Some(record) = wsk.sockets.get_mut(&key) else {
        return STATUS_INVALID_HANDLE;
    };
    record.events.enabled = false;
    if record.events.in_progress == 0 {
        drop(wsk);
        if irp.is_null() {
            return STATUS_SUCCESS;
        }
        return refuse(STATUS_SUCCESS);
    }
    if irp.is_null() {
        return STATUS_EVENT_PENDING;
    }
    drop(wsk);
    if !irp::take_for_provider(&kernel, irp, "WskControlSocket") {
        return STATUS_INVALID_PARAMETER;
    }
    add_pending(&kernel, key);
    let mut wsk = kernel.wsk().lock();
    match wsk.sockets.get_mut(&key) {
        Some(record) if record.events.in_progress != 0 => {
            record.events.disable_irps.push(irp as usize);
            STATUS_PENDING
        }
        _ => {
            drop(wsk);
            fail(&kernel, irp, Some(key), STATUS_SUCCESS)
        }
    }
}
