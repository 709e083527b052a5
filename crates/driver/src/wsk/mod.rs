//! WSK for this driver: the raw ABI ([`abi`]) and thin wrappers that say which dispatch entry
//! each call goes through and what its arguments must be.

pub mod abi;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use abi::*;
use wdk_sys::ntddk::IoFreeIrp;
use wdk_sys::{NTSTATUS, PIRP, PVOID, STATUS_NOT_SUPPORTED};

pub use crate::sync_call::{Arm, Issued};

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

/// A SOCKADDR_IN or SOCKADDR_IN6 in storage large enough for either, kept in driver memory
/// because WSK reads it when the call starts and the completion may come later.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct SockAddrStorage {
    bytes: [u8; 32],
}

impl SockAddrStorage {
    pub const ZERO: SockAddrStorage = SockAddrStorage { bytes: [0; 32] };

    pub fn from_socket_addr(address: SocketAddr) -> Self {
        let mut storage = Self::ZERO;
        storage.set(address);
        storage
    }

    pub fn set(&mut self, address: SocketAddr) {
        self.bytes = [0; 32];
        match address {
            SocketAddr::V4(v4) => {
                self.bytes[0..2].copy_from_slice(&AF_INET.to_le_bytes());
                self.bytes[2..4].copy_from_slice(&v4.port().to_be_bytes());
                self.bytes[4..8].copy_from_slice(&v4.ip().octets());
            }
            SocketAddr::V6(v6) => {
                self.bytes[0..2].copy_from_slice(&AF_INET6.to_le_bytes());
                self.bytes[2..4].copy_from_slice(&v6.port().to_be_bytes());
                self.bytes[4..8].copy_from_slice(&v6.flowinfo().to_le_bytes());
                self.bytes[8..24].copy_from_slice(&v6.ip().octets());
                self.bytes[24..28].copy_from_slice(&v6.scope_id().to_le_bytes());
            }
        }
    }

    /// The wildcard address of `family` with port 0 (ephemeral).
    pub fn wildcard(family: Family) -> Self {
        Self::from_socket_addr(match family {
            Family::V4 => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            Family::V6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        })
    }

    /// `N` bytes at `at` (zeros if out of range, which the constant offsets below never are).
    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        self.bytes
            .get(at..at + N)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; N])
    }

    /// Decodes what WskGetLocalAddress wrote.
    pub fn to_socket_addr(self) -> Option<SocketAddr> {
        let family = u16::from_le_bytes(self.field(0));
        let port = u16::from_be_bytes(self.field(2));
        match family {
            AF_INET => {
                let ip = Ipv4Addr::from(self.field::<4>(4));
                Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
            }
            AF_INET6 => {
                let ip = Ipv6Addr::from(self.field::<16>(8));
                let (flow, scope) = (
                    u32::from_le_bytes(self.field(4)),
                    u32::from_le_bytes(self.field(24)),
                );
                Some(SocketAddr::V6(SocketAddrV6::new(ip, port, flow, scope)))
            }
            _ => None,
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut SOCKADDR {
        (self as *mut Self).cast()
    }
}

/// The two address families the driver keeps a socket for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl core::fmt::Display for Family {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

impl Family {
    pub fn af(self) -> u16 {
        match self {
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
        }
    }
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
    arm: &Arm,
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
    arm: &Arm,
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
    arm: &Arm,
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
pub unsafe fn close(socket: *mut WSK_SOCKET, irp: PIRP, arm: &Arm) -> Issued {
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
    arm: &Arm,
) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskControlSocket {
        Some(control) => {
            // SAFETY: an IRP the caller owns, about to go to WSK: its routine is set now.
            unsafe { arm.set(irp) };
            // SAFETY: the caller's guarantees; the level is ignored for WskIoctl; the IRP goes to
            // WSK right after its routine is set.
            submitted(unsafe {
                control(
                    socket,
                    WSK_IOCTL,
                    code,
                    0,
                    input_size as u64,
                    input.cast(),
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

impl From<wsk_sample_ioctl::Family> for Family {
    fn from(family: wsk_sample_ioctl::Family) -> Family {
        match family {
            wsk_sample_ioctl::Family::V4 => Family::V4,
            wsk_sample_ioctl::Family::V6 => Family::V6,
        }
    }
}

impl SockAddrStorage {
    /// Bytes of the SOCKADDR for the stored family (what WSK is told the input size is).
    pub fn len(&self) -> usize {
        match u16::from_le_bytes([self.bytes[0], self.bytes[1]]) {
            AF_INET => size_of::<SOCKADDR_IN>(),
            _ => size_of::<SOCKADDR_IN6>(),
        }
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

/// NPI_WSK_INTERFACE_ID where SO_WSK_EVENT_CALLBACK's NpiId can point at it.
static WSK_INTERFACE: [u8; 16] = NPI_WSK_INTERFACE_ID;

/// A WSK_EVENT_CALLBACK_CONTROL in static memory (the provider may read it until the call's
/// IRP completes).
struct EventControl(WSK_EVENT_CALLBACK_CONTROL);
// SAFETY: read-only after initialisation; the pointer is to another static.
unsafe impl Sync for EventControl {}

static ENABLE_RECEIVE_FROM: EventControl = EventControl(WSK_EVENT_CALLBACK_CONTROL {
    NpiId: &raw const WSK_INTERFACE,
    EventMask: WSK_EVENT_RECEIVE_FROM,
});
static DISABLE_RECEIVE_FROM: EventControl = EventControl(WSK_EVENT_CALLBACK_CONTROL {
    NpiId: &raw const WSK_INTERFACE,
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
pub unsafe fn disable_receive_from_event(socket: *mut WSK_SOCKET, irp: PIRP, arm: &Arm) -> Issued {
    // SAFETY: the caller's guarantees.
    match unsafe { dispatch(socket) }.WskControlSocket {
        Some(control) => {
            // SAFETY: an IRP the caller owns, about to go to WSK: its routine is set now.
            unsafe { arm.set(irp) };
            // SAFETY: the caller's guarantees; the input is static.
            submitted(unsafe {
                control(
                    socket,
                    WSK_SET_OPTION,
                    SO_WSK_EVENT_CALLBACK,
                    SOL_SOCKET,
                    size_of::<WSK_EVENT_CALLBACK_CONTROL>() as u64,
                    (&raw const DISABLE_RECEIVE_FROM.0).cast_mut().cast(),
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
