//! Self-tests of the model's WSK and unload rules from issue 11: a small WSK client written
//! here, done right (a clean report) and then broken in one way per test; each break must be
//! reported under the rule it breaks. The rules cite their sources (Learn pages) in kernel.rs.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use libtest_mimic::Failed;
use wdk_model::harness::{Kernel, Report};

use crate::common::Case;
use wdk_model::ntddk::*;
use wdk_model::wsk::abi::*;
use wdk_model::wsk::{WskCaptureProviderNPI, WskDeregister, WskRegister, WskReleaseProviderNPI};
use wdk_model::*;

const TAG: u32 = u32::from_le_bytes(*b"Test");

type Routine = unsafe extern "C" fn(PDEVICE_OBJECT, PIRP, PVOID) -> NTSTATUS;

#[derive(Default)]
struct Outcome {
    status: AtomicI32,
    information: AtomicU64,
    calls: AtomicU32,
}

/// # Safety
/// `context` is an Outcome that outlives the call; `irp` is handed back to its routine.
unsafe fn record(irp: PIRP, context: PVOID) {
    // SAFETY: the caller's guarantee.
    let outcome = unsafe { &*context.cast::<Outcome>() };
    // SAFETY: the caller's guarantee.
    let (status, information) = unsafe {
        (
            (*irp).IoStatus.__bindgen_anon_1.Status,
            (*irp).IoStatus.Information,
        )
    };
    outcome.status.store(status, Ordering::SeqCst);
    outcome.information.store(information, Ordering::SeqCst);
    outcome.calls.fetch_add(1, Ordering::SeqCst);
}

/// Right: record, free, hand the IRP back.
unsafe extern "C" fn free_and_stop(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: see `record`; our IRP.
    unsafe {
        record(irp, context);
        IoFreeIrp(irp);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Sets `routine` with all three invoke flags in the IRP's next stack location.
///
/// # Safety
/// `irp` is a live driver IRP with a free stack location.
unsafe fn set_routine(irp: PIRP, routine: Routine, context: PVOID) {
    // SAFETY: the caller's guarantee; the next location is the one below current.
    unsafe {
        let next = (*irp)
            .Tail
            .Overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
            .sub(1);
        (*next).CompletionRoutine = Some(routine);
        (*next).Context = context;
        (*next).Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
    }
}

/// A driver-allocated IRP with `routine` set for success, error and cancel.
fn irp(routine: Routine, outcome: &Outcome) -> PIRP {
    // SAFETY: kernel code of the running test kernel.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    assert!(!irp.is_null());
    // SAFETY: a fresh IRP with one stack location.
    unsafe { set_routine(irp, routine, (outcome as *const Outcome).cast_mut().cast()) };
    irp
}

static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: MAKE_WSK_VERSION_1_0,
    Reserved: 0,
    WskClientEvent: None,
};

struct Client {
    registration: Box<WSK_REGISTRATION>,
    npi: WSK_PROVIDER_NPI,
}

impl Client {
    /// Registers (optionally capturing the provider NPI).
    fn register(capture: bool) -> Client {
        let mut registration = Box::new(WSK_REGISTRATION {
            ReservedRegistrationState: 0,
            ReservedRegistrationContext: std::ptr::null_mut(),
            ReservedRegistrationLock: 0,
        });
        let mut client = WSK_CLIENT_NPI {
            ClientContext: std::ptr::null_mut(),
            Dispatch: &CLIENT_DISPATCH,
        };
        let mut npi = WSK_PROVIDER_NPI {
            Client: std::ptr::null_mut(),
            Dispatch: std::ptr::null(),
        };
        // SAFETY: valid arguments that outlive the registration.
        unsafe {
            assert_eq!(WskRegister(&mut client, &mut *registration), STATUS_SUCCESS);
            if capture {
                assert_eq!(
                    WskCaptureProviderNPI(&mut *registration, WSK_NO_WAIT, &mut npi),
                    STATUS_SUCCESS
                );
            }
        }
        Client { registration, npi }
    }

    fn connect() -> Client {
        Client::register(true)
    }

    fn socket(&self, family: u16) -> *mut WSK_SOCKET {
        let outcome = Outcome::default();
        // SAFETY: a captured NPI and a fresh IRP.
        unsafe {
            let create = (*self.npi.Dispatch).WskSocket.expect("WskSocket");
            let null = std::ptr::null_mut();
            create(
                self.npi.Client,
                family,
                SOCK_DGRAM,
                IPPROTO_UDP,
                WSK_FLAG_DATAGRAM_SOCKET,
                null,
                std::ptr::null(),
                null.cast(),
                null.cast(),
                null,
                irp(free_and_stop, &outcome),
            );
        }
        wait(&outcome);
        assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
        outcome.information.load(Ordering::SeqCst) as *mut WSK_SOCKET
    }

    fn bind(&self, socket: *mut WSK_SOCKET, address: &str) {
        let outcome = Outcome::default();
        let mut raw = sockaddr(address.parse().expect("address"));
        // SAFETY: a live socket; the address outlives the completion (waited for below).
        unsafe {
            dispatch(socket).WskBind.expect("WskBind")(
                socket,
                raw.as_mut_ptr().cast(),
                0,
                irp(free_and_stop, &outcome),
            )
        };
        wait(&outcome);
        assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
    }

    /// SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS: sets (Some) or clears (None).
    fn set_fixed(&self, socket: *mut WSK_SOCKET, code: u32, address: Option<SocketAddr>) {
        let outcome = Outcome::default();
        let mut raw = address.map(sockaddr);
        let (size, input) = match raw.as_mut() {
            Some(raw) if raw[0] == AF_INET as u8 => (16, raw.as_mut_ptr().cast()),
            Some(raw) => (28, raw.as_mut_ptr().cast()),
            None => (0, std::ptr::null_mut()),
        };
        // SAFETY: a live bound socket; the input outlives the completion (waited for below).
        unsafe {
            dispatch(socket).WskControlSocket.expect("control")(
                socket,
                WSK_IOCTL,
                code,
                0,
                size,
                input,
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                irp(free_and_stop, &outcome),
            )
        };
        wait(&outcome);
        assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
    }

    /// Closes and returns the close's final status.
    fn close(&self, socket: *mut WSK_SOCKET) -> NTSTATUS {
        let outcome = Outcome::default();
        // SAFETY: a live socket, not used afterwards (unless a test breaks that on purpose).
        unsafe {
            dispatch(socket).WskCloseSocket.expect("close")(socket, irp(free_and_stop, &outcome))
        };
        wait(&outcome);
        outcome.status.load(Ordering::SeqCst)
    }

    fn disconnect(mut self) {
        // SAFETY: captured and registered in `connect`.
        unsafe {
            WskReleaseProviderNPI(&mut *self.registration);
            WskDeregister(&mut *self.registration);
        }
    }
}

fn wait(outcome: &Outcome) {
    for _ in 0..5_000 {
        if outcome.calls.load(Ordering::SeqCst) > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the IRP never completed");
}

/// # Safety
/// `socket` must be a datagram socket (live, or closed on purpose).
unsafe fn dispatch<'a>(socket: *mut WSK_SOCKET) -> &'a WSK_PROVIDER_DATAGRAM_DISPATCH {
    // SAFETY: the caller's guarantee.
    unsafe { &*(*socket).Dispatch.cast() }
}

/// A Windows SOCKADDR in a buffer big enough for either family.
fn sockaddr(address: SocketAddr) -> Vec<u8> {
    let mut raw = vec![0u8; 28];
    match address {
        SocketAddr::V4(v4) => {
            raw[0..2].copy_from_slice(&AF_INET.to_le_bytes());
            raw[2..4].copy_from_slice(&v4.port().to_be_bytes());
            raw[4..8].copy_from_slice(&v4.ip().octets());
        }
        SocketAddr::V6(v6) => {
            raw[0..2].copy_from_slice(&AF_INET6.to_le_bytes());
            raw[2..4].copy_from_slice(&v6.port().to_be_bytes());
            raw[8..24].copy_from_slice(&v6.ip().octets());
        }
    }
    raw
}

/// A nonpaged buffer with an MDL built for it, and a list node over it.
struct PoolBuffer {
    memory: PVOID,
    mdl: PMDL,
    list: WSK_BUF_LIST,
}

impl PoolBuffer {
    fn new(bytes: &[u8]) -> Box<PoolBuffer> {
        // SAFETY: kernel code; the memory is sized for the bytes.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, bytes.len() as u64, TAG);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), memory.cast(), bytes.len());
            let mdl = IoAllocateMdl(memory, bytes.len() as u32, 0, 0, std::ptr::null_mut());
            MmBuildMdlForNonPagedPool(mdl);
            Box::new(PoolBuffer {
                memory,
                mdl,
                list: WSK_BUF_LIST {
                    Next: std::ptr::null_mut(),
                    Buffer: WSK_BUF {
                        Mdl: mdl,
                        Offset: 0,
                        Length: bytes.len() as u64,
                    },
                },
            })
        }
    }

    fn free(self) {
        // SAFETY: allocated in `new`, no longer in use.
        unsafe {
            IoFreeMdl(self.mdl);
            ExFreePoolWithTag(self.memory, TAG);
        }
    }
}

/// WskSendTo of `buffer` to `remote` (a SOCKADDR the caller keeps, or NULL).
fn send_to(
    socket: *mut WSK_SOCKET,
    buffer: &mut PoolBuffer,
    remote: *mut u8,
    irp: PIRP,
) -> NTSTATUS {
    // SAFETY: a live socket; the caller keeps the buffer and address until completion.
    unsafe {
        dispatch(socket).WskSendTo.expect("WskSendTo")(
            socket,
            &mut buffer.list.Buffer,
            0,
            remote.cast(),
            0,
            std::ptr::null_mut(),
            irp,
        )
    }
}

fn kernel(completion: CompletionMode) -> Kernel {
    Kernel::boot(KernelConfig {
        completion,
        ..KernelConfig::default()
    })
}

fn listener() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    socket
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected a clean report:\n{report}");
}

// ---------------------------------------------------------------------------------------------
// Close is final
// ---------------------------------------------------------------------------------------------

fn failing_close_kernel() -> Kernel {
    Kernel::boot(KernelConfig {
        completion: CompletionMode::Async,
        faults: vec![Fault {
            site: FaultSite::WskClose,
            nth: 1,
            status: STATUS_INSUFFICIENT_RESOURCES,
        }],
        ..KernelConfig::default()
    })
}

fn a_close_that_fails_still_closes_and_one_close_is_clean() -> Result<(), Failed> {
    let kernel = failing_close_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        assert_eq!(client.close(socket), STATUS_INSUFFICIENT_RESOURCES);
        // Nothing else is called on the socket; deregistering does not hang.
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn a_retry_after_a_failed_close_is_caught() -> Report {
    let kernel = failing_close_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        assert_ne!(client.close(socket), STATUS_SUCCESS);
        // Deliberately wrong: the old driver's CLOSE_ATTEMPTS retry.
        let outcome = Outcome::default();
        let irp = irp(free_and_stop, &outcome);
        // SAFETY: deliberately wrong: the socket was closed (the close failed, but it is final).
        let status = unsafe { dispatch(socket).WskCloseSocket.expect("close")(socket, irp) };
        assert_eq!(status, STATUS_INVALID_HANDLE);
        // SAFETY: the refused IRP is still ours.
        unsafe { IoFreeIrp(irp) };
        client.disconnect();
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// WSK from a completion routine; IoReuseIrp
// ---------------------------------------------------------------------------------------------

/// Closes the socket (the context) from the completion of the bind, reusing the bind's IRP.
unsafe extern "C" fn close_from_completion(
    _: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    // SAFETY: the context is the socket; the IRP is ours again (it completed), so it may be
    // reused for the next call (Learn, Using IRPs with Winsock Kernel Functions; IoReuseIrp).
    unsafe {
        let socket = context.cast::<WSK_SOCKET>();
        IoReuseIrp(irp, STATUS_SUCCESS);
        set_routine(irp, free_only, std::ptr::null_mut());
        dispatch(socket).WskCloseSocket.expect("close")(socket, irp);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}

unsafe extern "C" fn free_only(_: PDEVICE_OBJECT, irp: PIRP, _: PVOID) -> NTSTATUS {
    // SAFETY: our IRP.
    unsafe { IoFreeIrp(irp) };
    STATUS_MORE_PROCESSING_REQUIRED
}

fn a_wsk_call_from_a_completion_routine_is_legal() -> Result<(), Failed> {
    for completion in [CompletionMode::Inline, CompletionMode::Async] {
        let kernel = kernel(completion);
        kernel.run(|| {
            let client = Client::connect();
            let socket = client.socket(AF_INET);
            let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
            // SAFETY: a fresh IRP whose routine gets the socket as context; the address lives
            // until the sleep below is over.
            unsafe {
                let irp = IoAllocateIrp(1, 0);
                set_routine(irp, close_from_completion, socket.cast());
                dispatch(socket).WskBind.expect("bind")(socket, raw.as_mut_ptr().cast(), 0, irp);
            }
            std::thread::sleep(Duration::from_millis(200));
            client.disconnect();
        });
        assert_clean(&kernel.unload());
    }
    Ok(())
}

fn reusing_an_irp_wsk_still_owns_is_caught() -> Report {
    let kernel = kernel(CompletionMode::NeverForSends);
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"stuck");
        let mut remote = sockaddr(target.local_addr().expect("address"));
        let outcome = Outcome::default();
        let irp = irp(free_and_stop, &outcome);
        send_to(socket, &mut buffer, remote.as_mut_ptr(), irp);
        // SAFETY: deliberately wrong: the send is pending, WSK owns the IRP.
        unsafe { IoReuseIrp(irp, STATUS_SUCCESS) };
        client.close(socket);
        wait(&outcome);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// Inputs stay untouched until completion
// ---------------------------------------------------------------------------------------------

fn delayed_kernel() -> Kernel {
    kernel(CompletionMode::Delayed(Duration::from_millis(200)))
}

/// Binds with a SOCKADDR that `rewrite` may change while the IRP is pending.
fn bind_and(rewrite: bool) -> Report {
    let kernel = delayed_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        let outcome = Outcome::default();
        // SAFETY: a live socket; the address lives until after the completion.
        unsafe {
            dispatch(socket).WskBind.expect("bind")(
                socket,
                raw.as_mut_ptr().cast(),
                0,
                irp(free_and_stop, &outcome),
            )
        };
        if rewrite {
            // Deliberately wrong: the old driver rewrote `bind_address` after a timed-out call.
            raw.copy_from_slice(&sockaddr("127.0.0.2:0".parse().expect("address")));
        }
        wait(&outcome);
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn a_bind_address_left_alone_until_completion_is_clean() -> Result<(), Failed> {
    assert_clean(&bind_and(false));
    Ok(())
}

fn a_bind_address_rewritten_while_pending_is_caught() -> Report {
    bind_and(true)
}

fn a_control_input_rewritten_while_pending_is_caught() -> Report {
    let kernel = delayed_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut raw = sockaddr("127.0.0.1:9".parse().expect("address"));
        let outcome = Outcome::default();
        // SAFETY: a live bound socket; the input lives until after the completion.
        unsafe {
            dispatch(socket).WskControlSocket.expect("control")(
                socket,
                WSK_IOCTL,
                SIO_WSK_SET_SENDTO_ADDRESS,
                0,
                16,
                raw.as_mut_ptr().cast(),
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                irp(free_and_stop, &outcome),
            )
        };
        // Deliberately wrong: the old driver rewrote `fixed_address` after a timed-out call.
        raw.copy_from_slice(&sockaddr("127.0.0.1:10".parse().expect("address")));
        wait(&outcome);
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn a_remote_address_rewritten_while_its_send_is_pending_is_caught() -> Report {
    let kernel = delayed_kernel();
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"x");
        let mut remote = sockaddr(target.local_addr().expect("address"));
        let outcome = Outcome::default();
        send_to(
            socket,
            &mut buffer,
            remote.as_mut_ptr(),
            irp(free_and_stop, &outcome),
        );
        // Deliberately wrong: the address is reused while the send is pending.
        remote[3] ^= 1;
        wait(&outcome);
        buffer.free();
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// Remote and send-to: two settings; NULL RemoteAddress only where documented
// ---------------------------------------------------------------------------------------------

fn remote_and_send_to_are_two_settings() -> Result<(), Failed> {
    let kernel = kernel(CompletionMode::Async);
    let (first, second) = (listener(), listener());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let remote = Some(first.local_addr().expect("address"));
        let send_to_address = Some(second.local_addr().expect("address"));
        // Set send-to, then set and clear remote: send-to is still set.
        client.set_fixed(socket, SIO_WSK_SET_SENDTO_ADDRESS, send_to_address);
        client.set_fixed(socket, SIO_WSK_SET_REMOTE_ADDRESS, remote);
        client.set_fixed(socket, SIO_WSK_SET_REMOTE_ADDRESS, None);
        let mut buffer = PoolBuffer::new(b"to send-to");
        let outcome = Outcome::default();
        send_to(
            socket,
            &mut buffer,
            std::ptr::null_mut(),
            irp(free_and_stop, &outcome),
        );
        wait(&outcome);
        assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
        buffer.free();
        client.close(socket);
        client.disconnect();
    });
    let mut received = [0u8; 64];
    let (n, _) = second
        .recv_from(&mut received)
        .expect("the send-to address receives");
    assert_eq!(&received[..n], b"to send-to");
    assert_clean(&kernel.unload());
    Ok(())
}

fn a_null_remote_address_with_both_fixed_addresses_set_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    let (first, second) = (listener(), listener());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        client.set_fixed(socket, SIO_WSK_SET_REMOTE_ADDRESS, first.local_addr().ok());
        // Deliberately wrong: the other kind is set without clearing the first.
        client.set_fixed(socket, SIO_WSK_SET_SENDTO_ADDRESS, second.local_addr().ok());
        let mut buffer = PoolBuffer::new(b"which?");
        let outcome = Outcome::default();
        send_to(
            socket,
            &mut buffer,
            std::ptr::null_mut(),
            irp(free_and_stop, &outcome),
        );
        wait(&outcome);
        buffer.free();
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn send_messages_with_a_null_remote_address_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        client.set_fixed(socket, SIO_WSK_SET_SENDTO_ADDRESS, target.local_addr().ok());
        let mut buffer = PoolBuffer::new(b"batch");
        let outcome = Outcome::default();
        // SAFETY: a live socket; the list lives until completion (waited for below).
        unsafe {
            // Deliberately wrong: PFN_WSK_SEND_MESSAGES documents no fixed-address fallback.
            dispatch(socket).WskSendMessages.expect("WskSendMessages")(
                socket,
                &mut buffer.list,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                irp(free_and_stop, &outcome),
            )
        };
        wait(&outcome);
        buffer.free();
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn a_zero_length_send_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"x");
        // Deliberately undocumented: an empty datagram (over a real MDL, as a slot would be).
        buffer.list.Buffer.Length = 0;
        let mut remote = sockaddr(target.local_addr().expect("address"));
        let outcome = Outcome::default();
        send_to(
            socket,
            &mut buffer,
            remote.as_mut_ptr(),
            irp(free_and_stop, &outcome),
        );
        wait(&outcome);
        buffer.free();
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// Unload
// ---------------------------------------------------------------------------------------------

fn a_client_that_pairs_everything_unloads_clean() -> Result<(), Failed> {
    let kernel = kernel(CompletionMode::Async);
    kernel.run(|| Client::connect().disconnect());
    assert_clean(&kernel.unload());
    Ok(())
}

fn an_unload_with_the_registration_alive_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    kernel.run(|| {
        // Deliberately wrong: registered, never deregistered.
        let _client = Client::register(false);
    });
    kernel.unload()
}

fn an_unload_with_the_capture_held_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    kernel.run(|| {
        // Deliberately wrong: captured, never released (nor deregistered, which would hang).
        let _client = Client::connect();
    });
    kernel.unload()
}

fn an_unload_while_a_completion_routine_runs_is_caught() -> Report {
    unsafe extern "C" fn slow(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
        // SAFETY: see `record`; our IRP.
        unsafe { record(irp, context) };
        // Deliberately wrong: still running long after its waiter went on to unload.
        std::thread::sleep(Duration::from_secs(2));
        // SAFETY: our IRP.
        unsafe { IoFreeIrp(irp) };
        STATUS_MORE_PROCESSING_REQUIRED
    }
    let kernel = kernel(CompletionMode::Async);
    let outcome = Box::leak(Box::new(Outcome::default()));
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let close = irp(slow, outcome);
        // SAFETY: a live socket, not used afterwards.
        unsafe { dispatch(socket).WskCloseSocket.expect("close")(socket, close) };
        wait(outcome);
        client.disconnect();
    });
    kernel.unload()
}

/// This file's broken clients, for the table in broken_clients.rs.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
            name: "a_bind_address_rewritten_while_pending_is_caught",
            also: &[],
            run: a_bind_address_rewritten_while_pending_is_caught,
        },
        Case {
            rule: rules::WSK_SOCKET_INVALID,
            name: "a_retry_after_a_failed_close_is_caught",
            also: &[],
            run: a_retry_after_a_failed_close_is_caught,
        },
        Case {
            rule: rules::IRP_REUSED_WHILE_OWNED,
            name: "reusing_an_irp_wsk_still_owns_is_caught",
            also: &[],
            run: reusing_an_irp_wsk_still_owns_is_caught,
        },
        Case {
            rule: rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
            name: "a_control_input_rewritten_while_pending_is_caught",
            also: &[],
            run: a_control_input_rewritten_while_pending_is_caught,
        },
        Case {
            rule: rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
            name: "a_remote_address_rewritten_while_its_send_is_pending_is_caught",
            also: &[],
            run: a_remote_address_rewritten_while_its_send_is_pending_is_caught,
        },
        Case {
            rule: rules::WSK_AMBIGUOUS_DESTINATION,
            name: "a_null_remote_address_with_both_fixed_addresses_set_is_caught",
            also: &[],
            run: a_null_remote_address_with_both_fixed_addresses_set_is_caught,
        },
        Case {
            rule: rules::WSK_AMBIGUOUS_DESTINATION,
            name: "send_messages_with_a_null_remote_address_is_caught",
            also: &[],
            run: send_messages_with_a_null_remote_address_is_caught,
        },
        Case {
            rule: rules::WSK_BAD_ARGUMENT,
            name: "a_zero_length_send_is_caught",
            also: &[],
            run: a_zero_length_send_is_caught,
        },
        Case {
            rule: rules::WSK_UNLOAD_WITH_REGISTRATION,
            name: "an_unload_with_the_registration_alive_is_caught",
            // Its consequences: what it never gave back is also reported as leaked.
            also: &[rules::LEAK],
            run: an_unload_with_the_registration_alive_is_caught,
        },
        Case {
            rule: rules::WSK_UNLOAD_WITH_CAPTURE,
            name: "an_unload_with_the_capture_held_is_caught",
            // Its consequences: what it never gave back is also reported as leaked.
            also: &[rules::WSK_UNLOAD_WITH_REGISTRATION, rules::LEAK],
            run: an_unload_with_the_capture_held_is_caught,
        },
        Case {
            rule: rules::UNLOAD_WITH_COMPLETION_RUNNING,
            name: "an_unload_while_a_completion_routine_runs_is_caught",
            // Its consequences: what it never gave back is also reported as leaked.
            also: &[rules::LEAK],
            run: an_unload_while_a_completion_routine_runs_is_caught,
        },
    ]
}

/// A check that expects no rule broken.
pub type Check = fn() -> Result<(), Failed>;

/// Behaviour this file checks that breaks no rule (clean reports, documented outcomes).
pub fn checks() -> Vec<(&'static str, Check)> {
    vec![
        (
            "a_close_that_fails_still_closes_and_one_close_is_clean",
            a_close_that_fails_still_closes_and_one_close_is_clean,
        ),
        (
            "a_wsk_call_from_a_completion_routine_is_legal",
            a_wsk_call_from_a_completion_routine_is_legal,
        ),
        (
            "a_bind_address_left_alone_until_completion_is_clean",
            a_bind_address_left_alone_until_completion_is_clean,
        ),
        (
            "remote_and_send_to_are_two_settings",
            remote_and_send_to_are_two_settings,
        ),
        (
            "a_client_that_pairs_everything_unloads_clean",
            a_client_that_pairs_everything_unloads_clean,
        ),
    ]
}
