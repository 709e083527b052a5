//! WskSocket and the provider's dispatch tables: the provider NPI's (WskSocket) and a datagram
//! socket's (every call, each in its own file below this one).

use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};

use super::abi::*;
use super::address;
use super::bind::{wsk_bind, wsk_control_socket, wsk_get_local_address};
use super::calls::{complete_with, fail, map_io_error};
use super::close::wsk_close_socket;
use super::provider::client_captured;
use super::record::{Fixed, ModelSocket, SocketRecord};
use super::send::{wsk_send_messages, wsk_send_to};
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, FaultSite, rules};
use crate::types::*;

pub(crate) static PROVIDER_DISPATCH: WSK_PROVIDER_DISPATCH = WSK_PROVIDER_DISPATCH {
    Version: MAKE_WSK_VERSION_1_0,
    Reserved: 0,
    WskSocket: Some(wsk_socket),
    WskSocketConnect: Some(unsupported),
    WskControlClient: Some(unsupported),
    WskGetAddressInfo: Some(unsupported),
    WskFreeAddressInfo: Some(unsupported),
    WskGetNameInfo: Some(unsupported),
};

static DATAGRAM_DISPATCH: WSK_PROVIDER_DATAGRAM_DISPATCH = WSK_PROVIDER_DATAGRAM_DISPATCH {
    WskControlSocket: Some(wsk_control_socket),
    WskCloseSocket: Some(wsk_close_socket),
    WskBind: Some(wsk_bind),
    WskSendTo: Some(wsk_send_to),
    WskReceiveFrom: Some(super::receive::wsk_receive_from),
    WskRelease: Some(super::events::wsk_release),
    WskGetLocalAddress: Some(wsk_get_local_address),
    WskSendMessages: Some(wsk_send_messages),
};

/// A provider that predates Windows 8 has no WskSendMessages.
static DATAGRAM_DISPATCH_NO_SEND_MESSAGES: WSK_PROVIDER_DATAGRAM_DISPATCH =
    WSK_PROVIDER_DATAGRAM_DISPATCH {
        WskSendMessages: None,
        ..DATAGRAM_DISPATCH
    };

unsafe extern "system" fn unsupported() -> NTSTATUS {
    STATUS_NOT_SUPPORTED
}

#[allow(non_snake_case, clippy::too_many_arguments)]
unsafe extern "system" fn wsk_socket(
    Client: *mut WSK_CLIENT,
    AddressFamily: USHORT,
    SocketType: USHORT,
    Protocol: ULONG,
    Flags: ULONG,
    SocketContext: PVOID,
    Dispatch: *const core::ffi::c_void,
    OwningProcess: PEPROCESS,
    OwningThread: PETHREAD,
    SecurityDescriptor: PVOID,
    Irp: PIRP,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WskSocket", kernel::DISPATCH) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    if !client_captured(&kernel, Client) {
        kernel.violate(
            rules::WSK_NPI_NOT_CAPTURED,
            "WskSocket through a provider NPI that is not captured (released?)",
        );
        return STATUS_INVALID_PARAMETER;
    }
    if Irp.is_null() {
        kernel.violate(rules::WSK_BAD_ARGUMENT, "WskSocket with a NULL IRP");
        return STATUS_INVALID_PARAMETER;
    }
    if !irp::take_for_provider(&kernel, Irp, "WskSocket") {
        return STATUS_INVALID_PARAMETER;
    }
    if !OwningProcess.is_null() || !OwningThread.is_null() || !SecurityDescriptor.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "the model supports WskSocket with NULL owning process, thread and security descriptor",
        );
        return fail(&kernel, Irp, None, STATUS_NOT_SUPPORTED);
    }
    let domain = match AddressFamily {
        AF_INET => Domain::IPV4,
        AF_INET6 => Domain::IPV6,
        other => {
            kernel.violate(rules::WSK_BAD_ARGUMENT, format!("WskSocket with address family {other} (AF_INET is 2, AF_INET6 is 23 on Windows)"));
            return fail(&kernel, Irp, None, STATUS_INVALID_PARAMETER);
        }
    };
    if SocketType != SOCK_DGRAM || Protocol != IPPROTO_UDP || Flags != WSK_FLAG_DATAGRAM_SOCKET {
        kernel.note(format!("WSK: WskSocket(type {SocketType}, protocol {Protocol}, flags {Flags}) not supported by the model"));
        return fail(&kernel, Irp, None, STATUS_NOT_SUPPORTED);
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskSocket) {
        return fail(&kernel, Irp, None, status);
    }
    let host = match Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)) {
        Ok(socket) => socket,
        Err(error) => return fail(&kernel, Irp, None, map_io_error(&error)),
    };
    // Winsock's default: an AF_INET6 socket is IPv6-only.
    if AddressFamily == AF_INET6 && host.set_only_v6(true).is_err() {
        return fail(&kernel, Irp, None, STATUS_UNSUCCESSFUL);
    }
    let _ = host.set_send_buffer_size(4 << 20);
    // As large as wskctl's user-mode receivers ask for (listen, recv-bench), so receive
    // comparisons start from the same host buffering.
    let _ = host.set_recv_buffer_size(8 << 20);
    let dispatch = if kernel.config.send_messages_supported {
        &DATAGRAM_DISPATCH
    } else {
        &DATAGRAM_DISPATCH_NO_SEND_MESSAGES
    };
    let mut wsk = kernel.wsk().lock();
    wsk.sockets_created += 1;
    let id = wsk.sockets_created;
    let socket = Box::into_raw(Box::new(ModelSocket {
        header: WSK_SOCKET {
            Dispatch: (dispatch as *const WSK_PROVIDER_DATAGRAM_DISPATCH).cast(),
        },
        id,
    }));
    wsk.sockets.insert(
        socket as usize,
        SocketRecord {
            id,
            family: AddressFamily,
            host: Arc::new(host),
            bound: None,
            fixed: Fixed::default(),
            executing: 0,
            pending: 0,
            closing: false,
            close_irp: None,
            stuck: Vec::new(),
            receive: Default::default(),
            events: super::record::EventState::new(Dispatch as usize, SocketContext as usize),
        },
    );
    drop(wsk);
    kernel.note(format!(
        "WSK: WskSocket: datagram socket #{id} ({})",
        address::family_name(AddressFamily)
    ));
    let information = socket as u64;
    complete_with(
        &kernel,
        Irp,
        None,
        Box::new(move |_| (STATUS_SUCCESS, information)),
    )
}
