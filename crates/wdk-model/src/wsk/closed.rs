//! What a closed socket's WSK_SOCKET points at: a dispatch table whose every entry reports the
//! stale use (WskCloseSocket is final: Learn, PFN_WSK_CLOSE_SOCKET). It uses nothing of the
//! provider's state, so the bookkeeping that closes a socket (`calls.rs`) can install it.

use super::abi::*;
use crate::constants::*;
use crate::kernel::{self, rules};
use crate::types::*;

/// What a closed socket's WSK_SOCKET points at: every entry reports the stale use.
pub(crate) static CLOSED_DISPATCH: WSK_PROVIDER_DATAGRAM_DISPATCH =
    WSK_PROVIDER_DATAGRAM_DISPATCH {
        WskControlSocket: Some(closed_control),
        WskCloseSocket: Some(closed_close),
        WskBind: Some(closed_bind),
        WskSendTo: Some(closed_send_to),
        WskReceiveFrom: Some(closed_receive_from),
        WskRelease: Some(closed_release),
        WskGetLocalAddress: Some(closed_get_local_address),
        WskSendMessages: Some(closed_send_messages),
    };

fn stale_use(call: &str, socket: *mut WSK_SOCKET) -> NTSTATUS {
    kernel::current().violate(
        rules::WSK_SOCKET_INVALID,
        format!(
            "{call} on socket {:#x} after WskCloseSocket",
            socket as usize
        ),
    );
    STATUS_INVALID_HANDLE
}
unsafe extern "system" fn closed_control(
    s: *mut WSK_SOCKET,
    _: ULONG,
    _: ULONG,
    _: ULONG,
    _: SIZE_T,
    _: PVOID,
    _: SIZE_T,
    _: PVOID,
    _: *mut SIZE_T,
    _: PIRP,
) -> NTSTATUS {
    stale_use("WskControlSocket", s)
}
unsafe extern "system" fn closed_close(s: *mut WSK_SOCKET, _: PIRP) -> NTSTATUS {
    stale_use("WskCloseSocket", s)
}
unsafe extern "system" fn closed_bind(
    s: *mut WSK_SOCKET,
    _: *mut SOCKADDR,
    _: ULONG,
    _: PIRP,
) -> NTSTATUS {
    stale_use("WskBind", s)
}
unsafe extern "system" fn closed_send_to(
    s: *mut WSK_SOCKET,
    _: *mut WSK_BUF,
    _: ULONG,
    _: *mut SOCKADDR,
    _: ULONG,
    _: PVOID,
    _: PIRP,
) -> NTSTATUS {
    stale_use("WskSendTo", s)
}
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn closed_receive_from(
    s: *mut WSK_SOCKET,
    _: *mut WSK_BUF,
    _: ULONG,
    _: *mut SOCKADDR,
    _: *mut ULONG,
    _: PVOID,
    _: *mut ULONG,
    _: PIRP,
) -> NTSTATUS {
    stale_use("WskReceiveFrom", s)
}
unsafe extern "system" fn closed_release(
    s: *mut WSK_SOCKET,
    _: PWSK_DATAGRAM_INDICATION,
) -> NTSTATUS {
    stale_use("WskRelease", s)
}
unsafe extern "system" fn closed_get_local_address(
    s: *mut WSK_SOCKET,
    _: *mut SOCKADDR,
    _: PIRP,
) -> NTSTATUS {
    stale_use("WskGetLocalAddress", s)
}
unsafe extern "system" fn closed_send_messages(
    s: *mut WSK_SOCKET,
    _: *mut WSK_BUF_LIST,
    _: ULONG,
    _: *mut SOCKADDR,
    _: ULONG,
    _: PVOID,
    _: PIRP,
) -> NTSTATUS {
    stale_use("WskSendMessages", s)
}
