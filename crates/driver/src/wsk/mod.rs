//! WSK for this driver: the raw ABI ([`abi`]) and thin wrappers that say which dispatch entry
//! each call goes through and what its arguments must be.

pub mod abi;
mod address;

use abi::*;
use wdk_sys::ntddk::IoFreeIrp;
use wdk_sys::{NTSTATUS, PIRP, PVOID, STATUS_NOT_SUPPORTED};

pub use address::{Family, SockAddrStorage};

/// What a wrapper reports: the WSK call took the IRP (its completion routine will run), or the
/// call could not be made and the IRP did not reach WSK (a control call's IRP is freed, a send
/// IRP stays its owner's).
pub enum Issued {
    Submitted,
    NotSubmitted(NTSTATUS),
}

/// Sets a control call's completion routine on its IRP. The control-call wrappers below call
/// [`SetCompletion::set`] only once they know the dispatch entry exists, immediately before
/// they hand the IRP over; the one implementation is the synchronous call's `Arm`
/// (src/sync_call.rs), which says why it must not be set earlier.
pub trait SetCompletion {
    /// # Safety
    /// `irp` is the call's fresh IRP with a free stack location, handed to WSK right after.
    unsafe fn set(&self, irp: PIRP);
}

/// A dispatch entry the provider does not offer: the IRP never reaches WSK, so no completion
/// will come for it. It is freed here and the call fails synchronously (issue 11: no stranded
/// IRP).
///
/// # Safety
/// `irp` is a driver IRP that was not handed to anyone.
unsafe fn not_submitted(irp: PIRP) -> Issued {
    // SAFETY: the caller's guarantee.
    unsafe { IoFreeIrp(irp) };
    Issued::NotSubmitted(STATUS_NOT_SUPPORTED)
}

/// A send entry the provider does not offer: the IRP never reaches WSK and stays the caller's
/// (a send IRP belongs to its slot, which reuses it), and the call fails synchronously.
fn send_refused() -> Issued {
    Issued::NotSubmitted(STATUS_NOT_SUPPORTED)
}

/// What a WSK dispatch call returned once it took the IRP: the completion routine runs on
/// every outcome, so the status itself carries nothing more.
fn submitted(_status: NTSTATUS) -> Issued {
    Issued::Submitted
}

/// # Safety
/// `socket` must be a live datagram socket.
unsafe fn dispatch<'a>(socket: *mut WSK_SOCKET) -> &'a WSK_PROVIDER_DATAGRAM_DISPATCH {
    // SAFETY: a datagram socket's Dispatch points at the provider's datagram dispatch table,
    // which stays valid while the socket is open.
    let table = unsafe { (*socket).Dispatch };
    // SAFETY: as above: the provider's datagram dispatch table, valid while the socket is.
    unsafe { &*table.cast::<WSK_PROVIDER_DATAGRAM_DISPATCH>() }
}

/// `WskSocket` for a UDP datagram socket of `family`; the socket arrives in the IRP's
/// IoStatus.Information.
///
/// # Safety
/// `provider` must be a captured provider NPI; `irp` a driver IRP with a completion routine set.
pub unsafe fn create_datagram_socket(
    provider: &WSK_PROVIDER_NPI,
    family: Family,
    events: (PVOID, *const WSK_CLIENT_DATAGRAM_DISPATCH),
    irp: PIRP,
    arm: &impl SetCompletion,
) -> Issued {
    // SAFETY: a captured NPI's dispatch table stays valid until it is released.
    let Some(create) = (unsafe { &*provider.Dispatch }).WskSocket else {
        // SAFETY: the IRP was not handed to anyone.
        return unsafe { not_submitted(irp) };
    };
    // SAFETY: the call's IRP, handed to WSK just below.
    unsafe { arm.set(irp) };
    let null: PVOID = core::ptr::null_mut();
    let (context, dispatch) = events;
    // SAFETY: the caller's guarantees; the socket context and the client dispatch table (for
    // WskReceiveFromEvent, called only once enabled) stay valid while the socket is open.
    submitted(unsafe {
        create(
            provider.Client,
            family.af(),
            SOCK_DGRAM,
            IPPROTO_UDP,
            WSK_FLAG_DATAGRAM_SOCKET,
            context,
            dispatch.cast(),
            null.cast(),
            null.cast(),
            null,
            irp,
        )
    })
}

/// `WskBind`.
///
/// # Safety
/// `socket` live; `address` stays valid until the IRP completes; `irp` as above.
pub unsafe fn bind(
    socket: *mut WSK_SOCKET,
    address: *mut SOCKADDR,
    irp: PIRP,
    arm: &impl SetCompletion,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskBind {
        Some(bind) => {
            // SAFETY: an IRP the caller owns, about to go to WSK: its routine is set now.
            unsafe { arm.set(irp) };
            // SAFETY: the caller's guarantees; Flags must be 0; the IRP goes to WSK right after
            // its routine is set.
            submitted(unsafe { bind(socket, address, 0, irp) })
        }
        // SAFETY: the IRP was not handed to anyone.
        None => unsafe { not_submitted(irp) },
    }
}

/// `WskGetLocalAddress`.
///
/// # Safety
/// As for [`bind`], with `address` an output with room for the family's SOCKADDR.
pub unsafe fn get_local_address(
    socket: *mut WSK_SOCKET,
    address: *mut SOCKADDR,
    irp: PIRP,
    arm: &impl SetCompletion,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskGetLocalAddress {
        Some(get) => {
            // SAFETY: an IRP the caller owns, about to go to WSK: its routine is set now.
            unsafe { arm.set(irp) };
            // SAFETY: the caller's guarantees; the IRP goes to WSK right after its routine is set.
            submitted(unsafe { get(socket, address, irp) })
        }
        // SAFETY: the IRP was not handed to anyone.
        None => unsafe { not_submitted(irp) },
    }
}

/// `WskSendTo` of one datagram; `remote` NULL sends to the socket's fixed address. Unlike the
/// control calls, a refused send does not free `irp`: it stays the caller's.
///
/// # Safety
/// `socket` live; `buffer`, its MDL chain and `remote` stay valid and unchanged until the IRP
/// completes; `irp` as above.
pub unsafe fn send_to(
    socket: *mut WSK_SOCKET,
    buffer: *mut WSK_BUF,
    remote: *mut SOCKADDR,
    irp: PIRP,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskSendTo {
        Some(send) => {
            // SAFETY: the caller's guarantees; Flags 0 and no control information.
            submitted(unsafe { send(socket, buffer, 0, remote, 0, core::ptr::null_mut(), irp) })
        }
        None => send_refused(),
    }
}

/// `WskReceiveFrom` into one buffer: the datagram, its source and the control flags land in
/// driver memory when the IRP completes (no control information is asked for).
///
/// # Safety
/// `socket` live and bound; `buffer`, its MDL, `remote` (room for the family's SOCKADDR) and
/// `flags` stay valid until the IRP completes; `irp` as above.
pub unsafe fn receive_from(
    socket: *mut WSK_SOCKET,
    buffer: *mut WSK_BUF,
    remote: *mut SOCKADDR,
    flags: *mut u32,
    irp: PIRP,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskReceiveFrom {
        // SAFETY: the caller's guarantees; Flags 0, no ControlLength (so no ControlInfo).
        Some(receive) => submitted(unsafe {
            receive(
                socket,
                buffer,
                0,
                remote,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                flags,
                irp,
            )
        }),
        // SAFETY: the IRP was not handed to anyone.
        None => unsafe { not_submitted(irp) },
    }
}

/// `WskCloseSocket`: cancels pending IRPs; no other call may be executing on the socket.
///
/// # Safety
/// `socket` live and not used after this call; `irp` as above.
pub unsafe fn close(socket: *mut WSK_SOCKET, irp: PIRP, arm: &impl SetCompletion) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskCloseSocket {
        Some(close) => {
            // SAFETY: an IRP the caller owns, about to go to WSK: its routine is set now.
            unsafe { arm.set(irp) };
            // SAFETY: the caller's guarantees; the IRP goes to WSK right after its routine is set.
            submitted(unsafe { close(socket, irp) })
        }
        // SAFETY: the IRP was not handed to anyone.
        None => unsafe { not_submitted(irp) },
    }
}

/// `WskControlSocket(WskIoctl, code, 0, input…)` with no output: how SIO_WSK_SET_REMOTE_ADDRESS
/// and SIO_WSK_SET_SENDTO_ADDRESS are set (an address) or cleared (no input).
///
/// # Safety
/// `socket` live and bound; `input` NULL or valid for `input_size` bytes until the IRP
/// completes; `irp` as above.
pub unsafe fn control_ioctl(
    socket: *mut WSK_SOCKET,
    code: u32,
    input: *mut SOCKADDR,
    input_size: usize,
    irp: PIRP,
    arm: &impl SetCompletion,
) -> Issued {
    // SAFETY: the caller's guarantees; the level is ignored for WskIoctl.
    unsafe {
        control_with_irp(
            socket,
            (WSK_IOCTL, code, 0),
            (input.cast(), input_size),
            irp,
            arm,
        )
    }
}

/// `WskControlSocket(request_type, code, level, input…)` with no output and an IRP, which is
/// armed (its completion routine set) only once the dispatch entry is known to exist.
///
/// # Safety
/// `socket` live and bound; `input` NULL or valid for its size until the IRP completes; `irp`
/// as for [`bind`].
unsafe fn control_with_irp(
    socket: *mut WSK_SOCKET,
    (request_type, code, level): (u32, u32, u32),
    (input, input_size): (PVOID, usize),
    irp: PIRP,
    arm: &impl SetCompletion,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskControlSocket {
        Some(control) => {
            // SAFETY: an IRP the caller owns, about to go to WSK: its routine is set now.
            unsafe { arm.set(irp) };
            // SAFETY: the caller's guarantees; the IRP goes to WSK right after its routine is
            // set.
            submitted(unsafe {
                control(
                    socket,
                    request_type,
                    code,
                    level,
                    input_size as u64,
                    input,
                    0,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    irp,
                )
            })
        }
        // SAFETY: the IRP was not handed to anyone.
        None => unsafe { not_submitted(irp) },
    }
}

/// `WskSendMessages` of a WSK_BUF_LIST (one datagram per node, one destination for all).
/// `remote` is never NULL: the PFN_WSK_SEND_MESSAGES page, unlike PFN_WSK_SEND_TO's, does not
/// say a NULL RemoteAddress falls back to a fixed remote or send-to address, so the driver
/// always names the destination. A refused call does not free `irp`, as for [`send_to`].
///
/// # Safety
/// As for [`send_to`], for every node of the list and the nodes themselves.
pub unsafe fn send_messages(
    socket: *mut WSK_SOCKET,
    list: *mut WSK_BUF_LIST,
    remote: *mut SOCKADDR,
    irp: PIRP,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskSendMessages {
        Some(send) => {
            // SAFETY: the caller's guarantees; Flags 0 and no control information.
            submitted(unsafe { send(socket, list, 0, remote, 0, core::ptr::null_mut(), irp) })
        }
        None => send_refused(),
    }
}

/// Whether the socket's provider has WskSendMessages.
///
/// # Safety
/// `socket` must be a live datagram socket.
pub unsafe fn has_send_messages(socket: *mut WSK_SOCKET) -> bool {
    // SAFETY: the caller's guarantee.
    unsafe { dispatch(socket) }.WskSendMessages.is_some()
}

/// A WSK_EVENT_CALLBACK_CONTROL in static memory (the provider may read it until the call's
/// IRP completes); its NpiId points at the static NPI_WSK_INTERFACE_ID.
struct EventControl(WSK_EVENT_CALLBACK_CONTROL);
// SAFETY: read-only after initialisation; the pointer is to another static.
unsafe impl Sync for EventControl {}

static ENABLE_RECEIVE_FROM: EventControl = EventControl(WSK_EVENT_CALLBACK_CONTROL {
    NpiId: &raw const NPI_WSK_INTERFACE_ID,
    EventMask: WSK_EVENT_RECEIVE_FROM,
});
static DISABLE_RECEIVE_FROM: EventControl = EventControl(WSK_EVENT_CALLBACK_CONTROL {
    NpiId: &raw const NPI_WSK_INTERFACE_ID,
    EventMask: WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE,
});

/// `WskControlSocket(WskSetOption, SO_WSK_EVENT_CALLBACK, SOL_SOCKET)` enabling
/// WskReceiveFromEvent: synchronous, without an IRP (Learn, SO_WSK_EVENT_CALLBACK).
///
/// # Safety
/// `socket` live, bound, and created with a client dispatch table.
pub unsafe fn enable_receive_from_event(socket: *mut WSK_SOCKET) -> NTSTATUS {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskControlSocket {
        // SAFETY: the caller's guarantees; the input is static.
        Some(control) => unsafe {
            control(
                socket,
                WSK_SET_OPTION,
                SO_WSK_EVENT_CALLBACK,
                SOL_SOCKET,
                size_of::<WSK_EVENT_CALLBACK_CONTROL>() as u64,
                (&raw const ENABLE_RECEIVE_FROM.0).cast_mut().cast(),
                0,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            )
        },
        None => STATUS_NOT_SUPPORTED,
    }
}

/// The same option disabling WskReceiveFromEvent, with an IRP: it completes once every call of
/// the callback in progress has returned (Learn, SO_WSK_EVENT_CALLBACK).
///
/// # Safety
/// `socket` live and bound; `irp` as for [`bind`].
pub unsafe fn disable_receive_from_event(
    socket: *mut WSK_SOCKET,
    irp: PIRP,
    arm: &impl SetCompletion,
) -> Issued {
    // SAFETY: the caller's guarantees; the input is static.
    unsafe {
        control_with_irp(
            socket,
            (WSK_SET_OPTION, SO_WSK_EVENT_CALLBACK, SOL_SOCKET),
            (
                (&raw const DISABLE_RECEIVE_FROM.0).cast_mut().cast(),
                size_of::<WSK_EVENT_CALLBACK_CONTROL>(),
            ),
            irp,
            arm,
        )
    }
}

/// `WskRelease`: gives back an indication list kept with STATUS_PENDING.
///
/// # Safety
/// `socket` live; `list` a list it indicated, kept and not yet released; not used after.
pub unsafe fn release_indications(
    socket: *mut WSK_SOCKET,
    list: *mut WSK_DATAGRAM_INDICATION,
) -> NTSTATUS {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskRelease {
        // SAFETY: the caller's guarantees.
        Some(release) => unsafe { release(socket, list) },
        None => STATUS_NOT_SUPPORTED,
    }
}
