//! Datagram sockets: the provider dispatch tables and how each call is checked, carried out
//! over a host UDP socket, and completed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::abi::*;
use super::address;
use super::provider::client_captured;
use crate::constants::*;
use crate::irp;
use crate::kernel::{
    self, CompletionMode, DestinationPolicy, FaultSite, KernelState as Kernel, rules,
};
use crate::mdl::{self, Segment};
use crate::types::*;

/// The provider's socket object; the WSK_SOCKET the client sees is its first field.
#[repr(C)]
pub(crate) struct ModelSocket {
    header: WSK_SOCKET,
    id: u64,
}

/// A socket's fixed addresses. Windows keeps two settings (Learn, SIO_WSK_SET_REMOTE_ADDRESS:
/// sends go there and only datagrams from it are received; SIO_WSK_SET_SENDTO_ADDRESS: sends go
/// there, receives are not filtered), each set and cleared by its own control code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub remote: Option<SocketAddr>,
    pub send_to: Option<SocketAddr>,
}

pub(crate) struct SocketRecord {
    pub id: u64,
    pub family: u16,
    pub host: Arc<Socket>,
    pub bound: Option<SocketAddr>,
    pub fixed: Fixed,
    /// Dispatch calls currently executing (not IRPs pending).
    pub executing: u32,
    /// IRPs accepted and not yet completed.
    pub pending: u32,
    pub closing: bool,
    /// The close's IRP and the status it completes with (a failure only when injected: the
    /// socket is closed and freed all the same, PFN_WSK_CLOSE_SOCKET).
    pub close_irp: Option<(usize, NTSTATUS)>,
    /// Sends parked by [`CompletionMode::NeverForSends`] until close cancels them.
    pub stuck: Vec<(usize, Vec<Segment>)>,
    /// Posted WskReceiveFrom IRPs and the receiver thread (`super::receive`).
    pub receive: super::receive::ReceiveState,
    /// Receive-event callbacks and indication lists (`super::events`).
    pub events: super::events::EventState,
}

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

/// What a closed socket's WSK_SOCKET points at: every entry reports the stale use.
static CLOSED_DISPATCH: WSK_PROVIDER_DATAGRAM_DISPATCH = WSK_PROVIDER_DATAGRAM_DISPATCH {
    WskControlSocket: Some(closed_control),
    WskCloseSocket: Some(closed_close),
    WskBind: Some(closed_bind),
    WskSendTo: Some(closed_send_to),
    WskReceiveFrom: Some(closed_receive_from),
    WskRelease: Some(closed_release),
    WskGetLocalAddress: Some(closed_get_local_address),
    WskSendMessages: Some(closed_send_messages),
};

unsafe extern "system" fn unsupported() -> NTSTATUS {
    STATUS_NOT_SUPPORTED
}

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

// ---------------------------------------------------------------------------------------------
// Completion plumbing
// ---------------------------------------------------------------------------------------------

type Work = Box<dyn FnOnce(&Arc<Kernel>) -> (NTSTATUS, u64) + Send>;

/// Carries out `work` and completes `irp` with its result, inline or from a provider thread as
/// the kernel's completion mode says. Returns what the WSK call returns.
fn complete_with(kernel: &Arc<Kernel>, irp: PIRP, socket: Option<usize>, work: Work) -> NTSTATUS {
    let irp = irp as usize;
    let finish = move |kernel: &Arc<Kernel>| {
        let (status, information) = work(kernel);
        irp::complete(kernel, irp as PIRP, status, information);
        if let Some(socket) = socket {
            finish_pending(kernel, socket);
        }
        status
    };
    match kernel.config.completion {
        CompletionMode::Inline => finish(kernel),
        CompletionMode::Async | CompletionMode::NeverForSends => submit(
            kernel,
            Box::new(move |k| {
                let _ = finish(k);
            }),
        ),
        CompletionMode::Delayed(delay) | CompletionMode::NeverForSendsSlowControl(delay) => submit(
            kernel,
            Box::new(move |k| {
                std::thread::sleep(delay);
                let _ = finish(k);
            }),
        ),
        CompletionMode::OtherThreadBeforeReturn => {
            let done = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
            let signal = done.clone();
            let status = submit(
                kernel,
                Box::new(move |k| {
                    let _ = finish(k);
                    *crate::kernel::lock(&signal.0) = true;
                    signal.1.notify_all();
                }),
            );
            let mut finished = crate::kernel::lock(&done.0);
            while !*finished {
                finished = done.1.wait(finished).unwrap_or_else(|p| p.into_inner());
            }
            status
        }
    }
}

fn submit(kernel: &Arc<Kernel>, job: super::workers::Job) -> NTSTATUS {
    if !kernel.workers().submit(job) {
        panic!("kernel model: the provider was shut down while the driver still issued calls");
    }
    STATUS_PENDING
}

/// Completes an IRP straight away with a status (the call's arguments were refused).
pub(crate) fn fail(
    kernel: &Arc<Kernel>,
    irp: PIRP,
    socket: Option<usize>,
    status: NTSTATUS,
) -> NTSTATUS {
    let information = if status < 0 { UNDEFINED_INFORMATION } else { 0 };
    complete_with(
        kernel,
        irp,
        socket,
        Box::new(move |_| (status, information)),
    )
}

/// IoStatus.Information of a call that failed: Learn defines it only on success (PFN_WSK_SEND_TO,
/// PFN_WSK_SEND_MESSAGES: "if the operation succeeds, ... Information contains the number of
/// bytes sent"), so the model leaves a value no driver may use; one that counts it shows.
pub(crate) const UNDEFINED_INFORMATION: u64 = 0x0BAD_1FF0;

/// A SOCKADDR input as the driver passed it: WSK may read it until the IRP completes, so at
/// completion the model compares the memory with this copy and reports a rewrite.
pub(crate) struct Pin {
    call: &'static str,
    address: usize,
    bytes: Vec<u8>,
}

impl Pin {
    /// # Safety
    /// `address` must be readable for `len` bytes until the IRP completes (the WSK contract).
    pub(crate) unsafe fn take(call: &'static str, address: *const u8, len: usize) -> Pin {
        // SAFETY: the caller's guarantee.
        let bytes = unsafe { std::slice::from_raw_parts(address, len) }.to_vec();
        Pin {
            call,
            address: address as usize,
            bytes,
        }
    }

    /// # Safety
    /// As for [`Pin::take`].
    unsafe fn sockaddr(call: &'static str, address: *const SOCKADDR) -> Pin {
        // SAFETY: the caller's guarantee; the family field is readable.
        let len = match unsafe { (*address).sa_family } {
            AF_INET6 => size_of::<SOCKADDR_IN6>(),
            _ => size_of::<SOCKADDR_IN>(),
        };
        // SAFETY: the caller's guarantee.
        unsafe { Pin::take(call, address.cast(), len) }
    }

    fn check(&self, kernel: &Kernel) {
        // SAFETY: the driver keeps its inputs readable until completion (the WSK contract the
        // rule checks); the model reads them as the provider would.
        let now =
            unsafe { std::slice::from_raw_parts(self.address as *const u8, self.bytes.len()) };
        if now != self.bytes.as_slice() {
            kernel.violate(
                rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
                format!(
                    "the {}-byte SOCKADDR at {:#x} passed to {} changed before its IRP completed",
                    self.bytes.len(),
                    self.address,
                    self.call
                ),
            );
        }
    }
}

/// Completes an IRP with `status` (as [`fail`]), first checking that the pinned inputs are
/// unchanged.
fn complete_pinned(
    kernel: &Arc<Kernel>,
    irp: PIRP,
    socket: Option<usize>,
    pins: Vec<Pin>,
    status: NTSTATUS,
) -> NTSTATUS {
    complete_with(
        kernel,
        irp,
        socket,
        Box::new(move |kernel| {
            pins.iter().for_each(|pin| pin.check(kernel));
            (status, 0)
        }),
    )
}

/// One IRP of `socket` finished; the last one lets a pending close complete.
pub(crate) fn finish_pending(kernel: &Arc<Kernel>, socket: usize) {
    let mut wsk = kernel.wsk().lock();
    let Some(record) = wsk.sockets.get_mut(&socket) else {
        return;
    };
    record.pending -= 1;
    if !(record.closing && record.pending == 0) {
        return;
    }
    let close_irp = record.close_irp.take();
    let receiver = record.receive.handle.take();
    wsk.sockets.remove(&socket);
    wsk.closed.push(socket);
    drop(wsk);
    super::receive::join(receiver);
    // SAFETY: the socket memory stays allocated (in `closed`) until the kernel goes away.
    unsafe {
        (*(socket as *mut ModelSocket)).header.Dispatch = (&raw const CLOSED_DISPATCH).cast()
    };
    kernel.note("WSK: WskCloseSocket: socket closed");
    if let Some((irp, status)) = close_irp {
        irp::complete(kernel, irp as PIRP, status, 0);
    }
}

/// Accounts one dispatch call on a socket: checks the caller and the socket, and counts the
/// call as executing until the guard drops.
pub(crate) struct CallGuard {
    pub(crate) kernel: Arc<Kernel>,
    pub(crate) socket: usize,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(record) = self.kernel.wsk().lock().sockets.get_mut(&self.socket) {
            record.executing -= 1;
        }
    }
}

pub(crate) fn enter_call(
    call: &'static str,
    socket: *mut WSK_SOCKET,
    irp: PIRP,
    max_irql: KIRQL,
) -> Option<CallGuard> {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, call, max_irql) {
        return None;
    }
    if irp.is_null() {
        kernel.violate(rules::WSK_BAD_ARGUMENT, format!("{call} with a NULL IRP"));
        return None;
    }
    let key = socket as usize;
    let mut wsk = kernel.wsk().lock();
    let Some(record) = wsk.sockets.get_mut(&key).filter(|r| !r.closing) else {
        drop(wsk);
        kernel.violate(
            rules::WSK_SOCKET_INVALID,
            format!("{call} on {key:#x}, which is not a live socket"),
        );
        return None;
    };
    record.executing += 1;
    drop(wsk);
    if !irp::take_for_provider(&kernel, irp, call) {
        if let Some(record) = kernel.wsk().lock().sockets.get_mut(&key) {
            record.executing -= 1;
        }
        return None;
    }
    Some(CallGuard {
        kernel,
        socket: key,
    })
}

/// Marks one more IRP pending on the socket (completion will call [`finish_pending`]).
pub(crate) fn add_pending(kernel: &Kernel, socket: usize) {
    if let Some(record) = kernel.wsk().lock().sockets.get_mut(&socket) {
        record.pending += 1;
    }
}

fn map_io_error(error: &std::io::Error) -> NTSTATUS {
    use std::io::ErrorKind::*;
    match error.kind() {
        AddrInUse => STATUS_ADDRESS_ALREADY_EXISTS,
        AddrNotAvailable => STATUS_INVALID_ADDRESS,
        ConnectionRefused => STATUS_PORT_UNREACHABLE,
        HostUnreachable => STATUS_HOST_UNREACHABLE,
        NetworkUnreachable => STATUS_NETWORK_UNREACHABLE,
        PermissionDenied => STATUS_ACCESS_DENIED,
        InvalidInput => STATUS_INVALID_PARAMETER,
        OutOfMemory => STATUS_INSUFFICIENT_RESOURCES,
        _ => STATUS_UNSUCCESSFUL,
    }
}

// ---------------------------------------------------------------------------------------------
// Provider dispatch: WskSocket
// ---------------------------------------------------------------------------------------------

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
            events: super::events::EventState::new(Dispatch as usize, SocketContext as usize),
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

// ---------------------------------------------------------------------------------------------
// WskBind, WskGetLocalAddress, WskControlSocket
// ---------------------------------------------------------------------------------------------

/// Reads an address argument and checks its family against the socket's.
///
/// # Safety
/// `address` must be NULL or point to a SOCKADDR of the size its family implies.
unsafe fn read_address(
    kernel: &Kernel,
    call: &str,
    family: u16,
    address: *const SOCKADDR,
) -> Result<SocketAddr, NTSTATUS> {
    if address.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            format!("{call} with a NULL address"),
        );
        return Err(STATUS_INVALID_PARAMETER);
    }
    // SAFETY: the caller guarantees the memory.
    match unsafe { address::read(address) } {
        Some(parsed) if address::family_of(&parsed) == family => Ok(parsed),
        parsed => {
            // SAFETY: the family field is readable (caller's guarantee).
            let given = unsafe { (*address).sa_family };
            kernel.violate(
                rules::WSK_FAMILY_MISMATCH,
                format!(
                    "{call}: address family {given} ({parsed:?}) on an {} socket",
                    address::family_name(family)
                ),
            );
            Err(STATUS_INVALID_ADDRESS)
        }
    }
}

/// What a call needs to know about its socket, read once under the provider lock.
pub(crate) struct SocketView {
    pub(crate) family: u16,
    pub(crate) host: Arc<Socket>,
    pub(crate) bound: Option<SocketAddr>,
    pub(crate) fixed: Fixed,
    pub(crate) id: u64,
}

pub(crate) fn socket_snapshot(kernel: &Kernel, socket: usize) -> Option<SocketView> {
    kernel
        .wsk()
        .lock()
        .sockets
        .get(&socket)
        .map(|r| SocketView {
            family: r.family,
            host: r.host.clone(),
            bound: r.bound,
            fixed: r.fixed,
            id: r.id,
        })
}

#[allow(non_snake_case)]
unsafe extern "system" fn wsk_bind(
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
unsafe extern "system" fn wsk_get_local_address(
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
unsafe extern "system" fn wsk_control_socket(
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
        return super::events::control(Socket, Level, InputSize, InputBuffer, OutputSize, Irp);
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

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

/// Where a datagram goes: the explicit address, or the socket's fixed one where Learn defines
/// that (PFN_WSK_SEND_TO: a NULL RemoteAddress sends to the fixed remote or fixed send-to
/// address). PFN_WSK_SEND_MESSAGES says nothing of the kind, and with both fixed addresses set
/// the documentation does not say which wins: both are refused as ambiguous.
///
/// # Safety
/// `remote` must be NULL or point to a SOCKADDR of the size its family implies.
unsafe fn destination(
    kernel: &Kernel,
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

fn allowed(kernel: &Kernel, destination: &SocketAddr) -> bool {
    kernel.config.destinations == DestinationPolicy::Any || destination.ip().is_loopback()
}

/// Checks shared by WskSendTo and WskSendMessages before any datagram is taken.
fn check_send_call(
    kernel: &Kernel,
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

/// A datagram accepted for sending: where its bytes are and what they were when submitted.
struct Datagram {
    segments: Vec<Segment>,
    snapshot: Vec<u8>,
}

/// # Safety
/// `buffer` must point to a WSK_BUF.
unsafe fn take_datagram(kernel: &Kernel, buffer: *const WSK_BUF) -> Result<Datagram, NTSTATUS> {
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
    kernel: &Arc<Kernel>,
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

fn unpin_all(kernel: &Kernel, datagrams: &[Datagram]) {
    for datagram in datagrams {
        mdl::pin(kernel, &datagram.segments, false);
    }
}

/// Issues a send of `datagrams` on the socket, honouring the completion mode (including
/// sends that never complete until close).
fn issue_send(
    kernel: &Arc<Kernel>,
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
    take: impl FnOnce(&Kernel) -> Result<Vec<Datagram>, NTSTATUS>,
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
unsafe extern "system" fn wsk_send_to(
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
unsafe extern "system" fn wsk_send_messages(
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

// ---------------------------------------------------------------------------------------------
// WskCloseSocket
// ---------------------------------------------------------------------------------------------

#[allow(non_snake_case)]
unsafe extern "system" fn wsk_close_socket(Socket: *mut WSK_SOCKET, Irp: PIRP) -> NTSTATUS {
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
