//! A socket's addresses: WskBind, WskGetLocalAddress and WskControlSocket (the fixed remote and
//! send-to addresses; SO_WSK_EVENT_CALLBACK is handed to `event_control.rs`).

use socket2::SockAddr;

use super::abi::*;
use super::address;
use super::calls::{
    Pin, SocketView, add_pending, complete_pinned, complete_with, enter_call, fail, map_io_error,
    read_address, socket_snapshot,
};
use crate::constants::*;
use crate::kernel::{self, FaultSite, rules};
use crate::types::*;

#[allow(non_snake_case)]
pub(crate) unsafe extern "system" fn wsk_bind(
    Socket: *mut WSK_SOCKET,
    LocalAddress: *mut SOCKADDR,
    Flags: ULONG,
    Irp: PIRP,
) -> NTSTATUS {
    let Some(guard) = enter_call("WskBind", Socket, Irp, kernel::DISPATCH) else {
        return STATUS_INVALID_PARAMETER;
    };
    let kernel = guard.kernel.clone();
    let key = guard.socket;
    let Some(SocketView {
        family,
        host,
        bound,
        id,
        ..
    }) = socket_snapshot(&kernel, key)
    else {
        return STATUS_INVALID_HANDLE;
    };
    add_pending(&kernel, key);
    if Flags != 0 {
        kernel.violate(
            rules::WSK_FLAGS_NOT_ZERO,
            format!("WskBind with Flags {Flags:#x}"),
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    }
    // SAFETY: the driver passes a SOCKADDR of its socket's family.
    let local = match unsafe { read_address(&kernel, "WskBind", family, LocalAddress) } {
        Ok(local) => local,
        Err(status) => return fail(&kernel, Irp, Some(key), status),
    };
    // SAFETY: a readable SOCKADDR of the socket's family (read above).
    let pins = vec![unsafe { Pin::sockaddr("WskBind", LocalAddress) }];
    if bound.is_some() {
        return fail(&kernel, Irp, Some(key), STATUS_ADDRESS_ALREADY_ASSOCIATED);
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskBind) {
        return fail(&kernel, Irp, Some(key), status);
    }
    let result = host
        .bind(&SockAddr::from(local))
        .and_then(|()| host.local_addr())
        .map(|a| a.as_socket());
    let status = match result {
        Ok(Some(actual)) => {
            if let Some(record) = kernel.wsk().lock().sockets.get_mut(&key) {
                record.bound = Some(actual);
            }
            kernel.note(format!("WSK: WskBind: socket #{id} bound to {actual}"));
            STATUS_SUCCESS
        }
        Ok(None) => STATUS_UNSUCCESSFUL,
        Err(error) => map_io_error(&error),
    };
    drop(guard);
    complete_pinned(&kernel, Irp, Some(key), pins, status)
}

#[allow(non_snake_case)]
pub(crate) unsafe extern "system" fn wsk_get_local_address(
    Socket: *mut WSK_SOCKET,
    LocalAddress: *mut SOCKADDR,
    Irp: PIRP,
) -> NTSTATUS {
    let Some(guard) = enter_call("WskGetLocalAddress", Socket, Irp, kernel::DISPATCH) else {
        return STATUS_INVALID_PARAMETER;
    };
    let kernel = guard.kernel.clone();
    let key = guard.socket;
    let Some(SocketView { bound, .. }) = socket_snapshot(&kernel, key) else {
        return STATUS_INVALID_HANDLE;
    };
    add_pending(&kernel, key);
    if LocalAddress.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "WskGetLocalAddress with a NULL output address",
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskGetLocalAddress) {
        return fail(&kernel, Irp, Some(key), status);
    }
    let Some(bound) = bound else {
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_DEVICE_STATE);
    };
    let out = LocalAddress as usize;
    drop(guard);
    complete_with(
        &kernel,
        Irp,
        Some(key),
        Box::new(move |_| {
            // SAFETY: the driver keeps the output SOCKADDR (of its socket's family) until the
            // IRP completes.
            unsafe { address::write(bound, out as *mut SOCKADDR) };
            (STATUS_SUCCESS, 0)
        }),
    )
}

#[allow(non_snake_case, clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn wsk_control_socket(
    Socket: *mut WSK_SOCKET,
    RequestType: ULONG,
    ControlCode: ULONG,
    Level: ULONG,
    InputSize: SIZE_T,
    InputBuffer: PVOID,
    OutputSize: SIZE_T,
    OutputBuffer: PVOID,
    OutputSizeReturned: *mut SIZE_T,
    Irp: PIRP,
) -> NTSTATUS {
    let _ = (OutputBuffer, OutputSizeReturned);
    if RequestType == WSK_SET_OPTION && ControlCode == SO_WSK_EVENT_CALLBACK {
        return super::event_control::control(
            Socket,
            Level,
            InputSize,
            InputBuffer,
            OutputSize,
            Irp,
        );
    }
    let Some(guard) = enter_call("WskControlSocket", Socket, Irp, kernel::DISPATCH) else {
        return STATUS_INVALID_PARAMETER;
    };
    let kernel = guard.kernel.clone();
    let key = guard.socket;
    let Some(SocketView {
        family, bound, id, ..
    }) = socket_snapshot(&kernel, key)
    else {
        return STATUS_INVALID_HANDLE;
    };
    add_pending(&kernel, key);
    let setting_remote = match (RequestType, ControlCode) {
        (WSK_IOCTL, SIO_WSK_SET_REMOTE_ADDRESS) => true,
        (WSK_IOCTL, SIO_WSK_SET_SENDTO_ADDRESS) => false,
        _ => return fail(&kernel, Irp, Some(key), STATUS_NOT_SUPPORTED),
    };
    let name = if setting_remote {
        "SIO_WSK_SET_REMOTE_ADDRESS"
    } else {
        "SIO_WSK_SET_SENDTO_ADDRESS"
    };
    if bound.is_none() {
        kernel.violate(
            rules::WSK_NOT_BOUND,
            format!("WskControlSocket({name}) before WskBind"),
        );
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_DEVICE_STATE);
    }
    if OutputSize != 0 {
        return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskControl) {
        return fail(&kernel, Irp, Some(key), status);
    }
    let (fixed, pins) = if InputSize == 0 || InputBuffer.is_null() {
        (None, Vec::new())
    } else {
        let needed = if family == AF_INET {
            size_of::<SOCKADDR_IN>()
        } else {
            size_of::<SOCKADDR_IN6>()
        };
        if (InputSize as usize) < needed {
            return fail(&kernel, Irp, Some(key), STATUS_INVALID_PARAMETER);
        }
        // SAFETY: InputSize covers a SOCKADDR of the socket's family.
        match unsafe { read_address(&kernel, name, family, InputBuffer.cast()) } {
            Ok(address) if address.port() == 0 => {
                return fail(&kernel, Irp, Some(key), STATUS_INVALID_ADDRESS);
            }
            // SAFETY: InputSize bytes are readable (the caller's contract).
            Ok(address) => (
                Some(address),
                vec![unsafe { Pin::take(name, InputBuffer.cast(), needed) }],
            ),
            Err(status) => return fail(&kernel, Irp, Some(key), status),
        }
    };
    let mut wsk = kernel.wsk().lock();
    if let Some(record) = wsk.sockets.get_mut(&key) {
        // Each code sets or clears its own setting only.
        if setting_remote {
            record.fixed.remote = fixed;
        } else {
            record.fixed.send_to = fixed;
        }
    }
    drop(wsk);
    kernel.note(match fixed {
        Some(address) => {
            format!("WSK: WskControlSocket({name}): socket #{id} sends to {address} by default")
        }
        None => format!("WSK: WskControlSocket({name}): socket #{id} address cleared"),
    });
    drop(guard);
    complete_pinned(&kernel, Irp, Some(key), pins, STATUS_SUCCESS)
}
