//! WskCloseSocket: the top of the socket's calls, since closing stops the receive events
//! (`events.rs`), cancels the posted receives (`receive.rs`) and the stuck sends, and completes
//! once every IRP of the socket has (`calls.rs`).

use super::abi::*;
use super::calls::{complete_with, enter_call, fail, finish_pending, submit};
use crate::constants::*;
use crate::kernel::{self, CompletionMode, FaultSite, rules};
use crate::mdl;
use crate::types::*;

#[allow(non_snake_case)]
pub(crate) unsafe extern "system" fn wsk_close_socket(
    Socket: *mut WSK_SOCKET,
    Irp: PIRP,
) -> NTSTATUS {
    let Some(guard) = enter_call("WskCloseSocket", Socket, Irp, kernel::DISPATCH) else {
        return STATUS_INVALID_PARAMETER;
    };
    let kernel = guard.kernel.clone();
    let key = guard.socket;
    // Close is final (Learn, PFN_WSK_CLOSE_SOCKET: after WskCloseSocket the application makes
    // no further call to the socket's functions, and the subsystem frees the WSK_SOCKET). Wine's
    // netio.sys (dlls/netio.sys/netio.c, wsk_close_socket) does the same independently: it
    // frees the socket whatever closesocket returned and completes the IRP with that status.
    // So an injected failure only changes the status the close IRP completes with: the socket
    // is gone either way, and any later call is a stale use.
    let close_status = kernel
        .injected_fault(FaultSite::WskClose)
        .unwrap_or(STATUS_SUCCESS);
    let mut wsk = kernel.wsk().lock();
    let Some(record) = wsk.sockets.get_mut(&key) else {
        return STATUS_INVALID_HANDLE;
    };
    if record.executing > 1 {
        let others = record.executing - 1;
        drop(wsk);
        kernel.violate(
            rules::WSK_CLOSE_OVERLAP,
            format!("WskCloseSocket while {others} other call(s) on the socket are executing"),
        );
        drop(guard);
        return fail(&kernel, Irp, None, STATUS_INVALID_DEVICE_STATE);
    }
    record.closing = true;
    record.close_irp = Some((Irp as usize, close_status));
    drop(wsk);
    super::events::close(&kernel, key);
    let mut wsk = kernel.wsk().lock();
    let Some(record) = wsk.sockets.get_mut(&key) else {
        return STATUS_INVALID_HANDLE;
    };
    let stuck = std::mem::take(&mut record.stuck);
    let posted = std::mem::take(&mut record.receive.posted);
    // The close itself counts as pending so that it completes after every cancelled IRP.
    record.pending += 1;
    drop(wsk);
    drop(guard);
    kernel.note(format!(
        "WSK: WskCloseSocket: closing ({} stuck send(s) cancelled)",
        stuck.len()
    ));
    // Posted receives are cancelled (Learn, PFN_WSK_CLOSE_SOCKET remarks: the subsystem cancels
    // and completes every pending IRP; the close, still counted pending, completes after them).
    super::receive::cancel_posted(&kernel, key, posted);
    for (irp, segments) in stuck {
        let kernel2 = kernel.clone();
        complete_with(
            &kernel2,
            irp as PIRP,
            Some(key),
            Box::new(move |kernel| {
                mdl::pin(kernel, &segments, false);
                (STATUS_CANCELLED, 0)
            }),
        );
    }
    // Dropping the close's own pending count may complete the close right here (inline) or
    // leave it to the last pending IRP.
    match kernel.config.completion {
        CompletionMode::Inline => {
            finish_pending(&kernel, key);
            close_status
        }
        // The delay applies to the close too, as to every other completion.
        CompletionMode::Delayed(delay) | CompletionMode::NeverForSendsSlowControl(delay) => submit(
            &kernel,
            Box::new(move |k| {
                std::thread::sleep(delay);
                finish_pending(k, key);
            }),
        ),
        _ => submit(&kernel, Box::new(move |k| finish_pending(k, key))),
    }
}
