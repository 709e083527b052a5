//! What every socket call shares: entering a call ([`enter_call`], [`CallGuard`]), counting its
//! IRPs pending ([`add_pending`], [`finish_pending`], whose last one lets a close complete and
//! frees the socket), completing an IRP inline or from a provider thread as the completion mode
//! says ([`complete_with`], [`fail`]), pinning SOCKADDR inputs ([`Pin`]), reading address
//! arguments, and a socket's view for a call ([`socket_snapshot`]).

use std::net::SocketAddr;
use std::sync::Arc;

use socket2::Socket;

use super::abi::*;
use super::address;
use super::closed::CLOSED_DISPATCH;
use super::record::{Fixed, ModelSocket, join};
use crate::constants::*;
use crate::irp;
use crate::kernel::{self, CompletionMode, KernelState, rules};
use crate::types::*;

type Work = Box<dyn FnOnce(&Arc<KernelState>) -> (NTSTATUS, u64) + Send>;

/// Carries out `work` and completes `irp` with its result, inline or from a provider thread as
/// the kernel's completion mode says. Returns what the WSK call returns.
pub(crate) fn complete_with(
    kernel: &Arc<KernelState>,
    irp: PIRP,
    socket: Option<usize>,
    work: Work,
) -> NTSTATUS {
    let irp = irp as usize;
    let finish = move |kernel: &Arc<KernelState>| {
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

pub(crate) fn submit(kernel: &Arc<KernelState>, job: super::workers::Job) -> NTSTATUS {
    if !kernel.workers().submit(job) {
        panic!("kernel model: the provider was shut down while the driver still issued calls");
    }
    STATUS_PENDING
}

/// Completes an IRP straight away with a status (the call's arguments were refused).
pub(crate) fn fail(
    kernel: &Arc<KernelState>,
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
    pub(crate) unsafe fn sockaddr(call: &'static str, address: *const SOCKADDR) -> Pin {
        // SAFETY: the caller's guarantee; the family field is readable.
        let len = match unsafe { (*address).sa_family } {
            AF_INET6 => size_of::<SOCKADDR_IN6>(),
            _ => size_of::<SOCKADDR_IN>(),
        };
        // SAFETY: the caller's guarantee.
        unsafe { Pin::take(call, address.cast(), len) }
    }

    pub(crate) fn check(&self, kernel: &KernelState) {
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
pub(crate) fn complete_pinned(
    kernel: &Arc<KernelState>,
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
pub(crate) fn finish_pending(kernel: &Arc<KernelState>, socket: usize) {
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
    join(receiver);
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
    pub(crate) kernel: Arc<KernelState>,
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
pub(crate) fn add_pending(kernel: &KernelState, socket: usize) {
    if let Some(record) = kernel.wsk().lock().sockets.get_mut(&socket) {
        record.pending += 1;
    }
}

pub(crate) fn map_io_error(error: &std::io::Error) -> NTSTATUS {
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

/// Reads an address argument and checks its family against the socket's.
///
/// # Safety
/// `address` must be NULL or point to a SOCKADDR of the size its family implies.
pub(crate) unsafe fn read_address(
    kernel: &KernelState,
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

pub(crate) fn socket_snapshot(kernel: &KernelState, socket: usize) -> Option<SocketView> {
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
