//! The model's self-tests: a small WSK client written here, first done right (a clean report,
//! so the checks raise no false alarms), then broken in one way per test; each break must be
//! caught and reported under the rule it breaks.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use wdk_model::harness::{Kernel, Report};
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
    /// The SOCKADDR passed with the call: WSK may read it until the IRP completes, and the
    /// outcome outlives the IRP.
    address: std::sync::Mutex<Option<Vec<u8>>>,
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

/// Keeps the IRP (to reuse or misuse it later).
unsafe extern "C" fn keep(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: see `record`.
    unsafe { record(irp, context) };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Wrong: frees the IRP but lets the I/O manager carry on completing it.
unsafe extern "C" fn free_and_continue(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: see `record`; our IRP.
    unsafe {
        record(irp, context);
        IoFreeIrp(irp);
    }
    STATUS_SUCCESS
}

/// A driver-allocated IRP with `routine` set for success, error and cancel.
fn irp(routine: Routine, outcome: &Outcome) -> PIRP {
    // SAFETY: kernel code of the running test kernel.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    assert!(!irp.is_null());
    // SAFETY: a fresh IRP with one stack location; the next location is the one below current.
    unsafe {
        let next = (*irp)
            .Tail
            .Overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
            .sub(1);
        (*next).CompletionRoutine = Some(routine);
        (*next).Context = (outcome as *const Outcome).cast_mut().cast();
        (*next).Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
    }
    irp
}

static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: MAKE_WSK_VERSION_1_0,
    Reserved: 0,
    WskClientEvent: None,
};

fn new_registration() -> Box<WSK_REGISTRATION> {
    Box::new(WSK_REGISTRATION {
        ReservedRegistrationState: 0,
        ReservedRegistrationContext: std::ptr::null_mut(),
        ReservedRegistrationLock: 0,
    })
}

struct Client {
    registration: Box<WSK_REGISTRATION>,
    npi: WSK_PROVIDER_NPI,
}

impl Client {
    fn connect() -> Client {
        let mut registration = new_registration();
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
            assert_eq!(
                WskCaptureProviderNPI(&mut *registration, WSK_NO_WAIT, &mut npi),
                STATUS_SUCCESS
            );
        }
        Client { registration, npi }
    }

    /// Creates a socket and waits for its completion.
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

    fn close(&self, socket: *mut WSK_SOCKET) {
        let outcome = Outcome::default();
        // SAFETY: a live socket, not used afterwards.
        unsafe {
            dispatch(socket).WskCloseSocket.expect("close")(socket, irp(free_and_stop, &outcome))
        };
        wait(&outcome);
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
/// `socket` must be a live datagram socket.
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

/// A nonpaged buffer with an MDL built for it.
struct PoolBuffer {
    memory: PVOID,
    mdl: PMDL,
    wsk_buf: WSK_BUF,
}

impl PoolBuffer {
    fn new(bytes: &[u8]) -> PoolBuffer {
        // SAFETY: kernel code; the memory is sized for the bytes.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, bytes.len() as u64, TAG);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), memory.cast(), bytes.len());
            let mdl = IoAllocateMdl(memory, bytes.len() as u32, 0, 0, std::ptr::null_mut());
            MmBuildMdlForNonPagedPool(mdl);
            PoolBuffer {
                memory,
                mdl,
                wsk_buf: WSK_BUF {
                    Mdl: mdl,
                    Offset: 0,
                    Length: bytes.len() as u64,
                },
            }
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

fn send(
    socket: *mut WSK_SOCKET,
    buffer: &mut PoolBuffer,
    to: Option<SocketAddr>,
    routine: Routine,
    outcome: &Outcome,
) -> NTSTATUS {
    let mut raw = to.map(sockaddr);
    let remote = raw
        .as_mut()
        .map_or(std::ptr::null_mut(), |r| r.as_mut_ptr().cast());
    // The heap buffer does not move: it stays where `remote` points until the outcome goes.
    *outcome.address.lock().expect("address") = raw;
    // SAFETY: a live socket; the address lives in the outcome until the IRP completes.
    unsafe {
        dispatch(socket).WskSendTo.expect("WskSendTo")(
            socket,
            &mut buffer.wsk_buf,
            0,
            remote,
            0,
            std::ptr::null_mut(),
            irp(routine, outcome),
        )
    }
}

fn inline_kernel() -> Kernel {
    Kernel::boot(KernelConfig {
        completion: CompletionMode::Inline,
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

fn nowhere() -> Option<SocketAddr> {
    Some("127.0.0.1:9".parse().expect("address"))
}

fn assert_broke(report: &Report, rule: Rule) {
    assert!(
        report.broke(rule),
        "expected {} to be reported; report:\n{report}",
        rule.id
    );
}

#[test]
fn a_correct_client_sends_and_leaves_a_clean_report() {
    for completion in [CompletionMode::Inline, CompletionMode::Async] {
        let kernel = Kernel::boot(KernelConfig {
            completion,
            ..KernelConfig::default()
        });
        let listener = listener();
        kernel.run(|| {
            let client = Client::connect();
            let outcome = Outcome::default();
            let socket = client.socket(AF_INET);
            client.bind(socket, "127.0.0.1:0");
            let mut buffer = PoolBuffer::new(b"correct");
            send(
                socket,
                &mut buffer,
                Some(listener.local_addr().expect("address")),
                free_and_stop,
                &outcome,
            );
            let mut datagram = [0u8; 16];
            let (n, _) = listener.recv_from(&mut datagram).expect("arrives");
            assert_eq!(&datagram[..n], b"correct");
            wait(&outcome);
            assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
            assert_eq!(outcome.information.load(Ordering::SeqCst), 7);
            client.close(socket);
            buffer.free();
            client.disconnect();
        });
        let report = kernel.unload();
        assert!(report.is_clean(), "{completion:?}: {report}");
    }
}

#[test]
fn a_completion_routine_returning_success_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"x");
        send(socket, &mut buffer, nowhere(), free_and_continue, &outcome);
        assert_eq!(outcome.calls.load(Ordering::SeqCst), 1);
    });
    assert_broke(&kernel.unload(), rules::COMPLETION_ROUTINE_RETURN);
}

#[test]
fn an_irp_freed_twice_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong.
        unsafe {
            let irp = IoAllocateIrp(1, 0);
            IoFreeIrp(irp);
            IoFreeIrp(irp);
        }
    });
    assert_broke(&kernel.unload(), rules::IRP_DOUBLE_FREE);
}

#[test]
fn a_send_on_an_unbound_socket_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let mut buffer = PoolBuffer::new(b"x");
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
        assert_eq!(
            outcome.status.load(Ordering::SeqCst),
            STATUS_INVALID_DEVICE_STATE
        );
    });
    assert_broke(&kernel.unload(), rules::WSK_NOT_BOUND);
}

#[test]
fn a_null_remote_address_without_a_fixed_one_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET6);
        client.bind(socket, "[::1]:0");
        let mut buffer = PoolBuffer::new(b"x");
        send(socket, &mut buffer, None, free_and_stop, &outcome);
        assert_eq!(
            outcome.calls.load(Ordering::SeqCst),
            1,
            "the IRP still completes"
        );
    });
    assert_broke(&kernel.unload(), rules::WSK_NULL_REMOTE_ADDRESS);
}

#[test]
fn an_mdl_over_memory_that_is_not_nonpaged_pool_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let host_memory = [0u8; 64];
        // SAFETY: deliberately wrong: host memory, not pool.
        unsafe {
            let mdl = IoAllocateMdl(
                host_memory.as_ptr().cast_mut().cast(),
                64,
                0,
                0,
                std::ptr::null_mut(),
            );
            MmBuildMdlForNonPagedPool(mdl);
            IoFreeMdl(mdl);
        }
    });
    assert_broke(&kernel.unload(), rules::MDL_NOT_NONPAGED);
}

#[test]
fn an_mdl_never_built_or_locked_is_refused_by_wsk() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        // SAFETY: deliberately wrong: the MDL is never built.
        let mut buffer = unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG);
            let mdl = IoAllocateMdl(memory, 16, 0, 0, std::ptr::null_mut());
            PoolBuffer {
                memory,
                mdl,
                wsk_buf: WSK_BUF {
                    Mdl: mdl,
                    Offset: 0,
                    Length: 16,
                },
            }
        };
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
    });
    assert_broke(&kernel.unload(), rules::MDL_NOT_LOCKED);
}

#[test]
fn a_wsk_buf_longer_than_its_mdl_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(&[1u8; 32]);
        buffer.wsk_buf.Length = 33;
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
    });
    assert_broke(&kernel.unload(), rules::WSK_BUF_RANGE);
}

#[test]
fn a_leaked_irp_is_reported() {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately leaked.
        let irp = unsafe { IoAllocateIrp(1, 0) };
        assert!(!irp.is_null());
    });
    let report = kernel.unload();
    assert_broke(&report, rules::LEAK);
    assert!(report.leaks.iter().any(|l| l.contains("IRP")), "{report}");
}

#[test]
fn deregistering_with_an_open_socket_is_reported_as_the_hang_it_would_be() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let _socket = client.socket(AF_INET);
        client.disconnect();
    });
    let report = kernel.unload();
    assert_broke(&report, rules::WSK_DEREGISTER_HANG);
    assert!(
        report.leaks.iter().any(|l| l.contains("socket")),
        "{report}"
    );
}

#[test]
fn a_passive_only_call_at_dispatch_level_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut lock: KSPIN_LOCK = 0;
        let mut registration = new_registration();
        let mut client = WSK_CLIENT_NPI {
            ClientContext: std::ptr::null_mut(),
            Dispatch: &CLIENT_DISPATCH,
        };
        // SAFETY: deliberately wrong: WskRegister at DISPATCH_LEVEL.
        unsafe {
            let previous = KeAcquireSpinLockRaiseToDpc(&mut lock);
            let status = WskRegister(&mut client, &mut *registration);
            KeReleaseSpinLock(&mut lock, previous);
            assert_ne!(status, STATUS_SUCCESS);
        }
    });
    assert_broke(&kernel.unload(), rules::IRQL_TOO_HIGH);
}

#[test]
fn an_irp_without_all_three_invoke_flags_is_refused() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let irp = irp(free_and_stop, &outcome);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        // SAFETY: clear InvokeOnCancel in the location we set, then pass the IRP to WSK.
        unsafe {
            let next = (*irp)
                .Tail
                .Overlay
                .__bindgen_anon_2
                .__bindgen_anon_1
                .CurrentStackLocation
                .sub(1);
            (*next).Control &= !(SL_INVOKE_ON_CANCEL as u8);
            dispatch(socket).WskBind.expect("bind")(socket, raw.as_mut_ptr().cast(), 0, irp);
            IoFreeIrp(irp);
        }
    });
    assert_broke(&kernel.unload(), rules::COMPLETION_ROUTINE_NOT_SET);
}

#[test]
fn a_buffer_changed_while_its_send_is_pending_is_caught() {
    let config = KernelConfig {
        completion: CompletionMode::Delayed(Duration::from_millis(100)),
        ..KernelConfig::default()
    };
    let kernel = Kernel::boot(config);
    let listener = listener();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"before");
        send(
            socket,
            &mut buffer,
            Some(listener.local_addr().expect("address")),
            keep,
            &outcome,
        );
        // SAFETY: deliberately wrong: rewrite the buffer before the send completes.
        unsafe { std::ptr::copy_nonoverlapping(b"after!".as_ptr(), buffer.memory.cast(), 6) };
        let mut datagram = [0u8; 16];
        listener.recv_from(&mut datagram).expect("arrives");
    });
    assert_broke(&kernel.unload(), rules::BUFFER_MODIFIED_WHILE_PENDING);
}

#[test]
fn freeing_a_buffer_while_its_send_is_pending_is_caught() {
    let kernel = Kernel::boot(KernelConfig {
        completion: CompletionMode::NeverForSends,
        ..KernelConfig::default()
    });
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"pending");
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
        // SAFETY: deliberately wrong: free the MDL and memory of a pending send.
        unsafe {
            IoFreeMdl(buffer.mdl);
            ExFreePoolWithTag(buffer.memory, TAG);
        }
    });
    let report = kernel.unload();
    assert_broke(&report, rules::MDL_FREED_WHILE_PENDING);
    assert_broke(&report, rules::BUFFER_FREED_WHILE_PENDING);
}

#[test]
fn a_call_on_a_closed_socket_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        client.close(socket);
        let mut buffer = PoolBuffer::new(b"x");
        let irp = irp(free_and_stop, &outcome);
        // SAFETY: deliberately wrong: the socket is closed.
        let status = unsafe {
            dispatch(socket).WskSendTo.expect("send")(
                socket,
                &mut buffer.wsk_buf,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                irp,
            )
        };
        assert_eq!(status, STATUS_INVALID_HANDLE);
    });
    assert_broke(&kernel.unload(), rules::WSK_SOCKET_INVALID);
}

#[test]
fn pool_freed_with_the_wrong_tag_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong tag.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG);
            ExFreePoolWithTag(memory, u32::from_le_bytes(*b"Oops"));
        }
    });
    let report = kernel.unload();
    assert_broke(&report, rules::POOL_TAG_MISMATCH);
    assert!(
        report.leaks.iter().any(|l| l.contains("'Test'")),
        "{report}"
    );
}

#[test]
fn releasing_an_npi_never_captured_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let mut registration = client.registration;
        // SAFETY: deliberately unbalanced: two releases for one capture.
        unsafe {
            WskReleaseProviderNPI(&mut *registration);
            WskReleaseProviderNPI(&mut *registration);
            WskDeregister(&mut *registration);
        }
    });
    assert_broke(&kernel.unload(), rules::WSK_UNBALANCED);
}

#[test]
fn a_spin_lock_acquired_twice_by_its_owner_is_caught() {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut lock: KSPIN_LOCK = 0;
        // SAFETY: deliberately wrong: recursive acquisition (a deadlock on Windows).
        unsafe {
            let first = KeAcquireSpinLockRaiseToDpc(&mut lock);
            let _second = KeAcquireSpinLockRaiseToDpc(&mut lock);
            KeReleaseSpinLock(&mut lock, first);
        }
    });
    assert_broke(&kernel.unload(), rules::SPIN_LOCK_MISUSE);
}
