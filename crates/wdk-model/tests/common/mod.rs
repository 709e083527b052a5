//! The model's self-tests' shared parts: a small WSK client (done right; the cases break it one
//! way each), and the [`Case`] every broken client is listed as.

#![allow(dead_code)] // each test crate that includes this module uses a different part of it

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use wdk_model::harness::{Kernel, Report};
use wdk_model::ntddk::*;
use wdk_model::wsk::abi::*;
use wdk_model::wsk::{WskCaptureProviderNPI, WskDeregister, WskRegister, WskReleaseProviderNPI};
use wdk_model::*;

pub const TAG: u32 = u32::from_le_bytes(*b"Test");

pub type Routine = unsafe extern "C" fn(PDEVICE_OBJECT, PIRP, PVOID) -> NTSTATUS;

#[derive(Default)]
pub struct Outcome {
    pub status: AtomicI32,
    pub information: AtomicU64,
    pub calls: AtomicU32,
}

/// # Safety
/// `context` is an Outcome that outlives the call; `irp` is handed back to its routine.
pub unsafe fn record(irp: PIRP, context: PVOID) {
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
pub unsafe extern "C" fn free_and_stop(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: see `record`; our IRP.
    unsafe {
        record(irp, context);
        IoFreeIrp(irp);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Keeps the IRP (to reuse or misuse it later).
pub unsafe extern "C" fn keep(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: see `record`.
    unsafe { record(irp, context) };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Wrong: frees the IRP but lets the I/O manager carry on completing it.
pub unsafe extern "C" fn free_and_continue(
    _: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    // SAFETY: see `record`; our IRP.
    unsafe {
        record(irp, context);
        IoFreeIrp(irp);
    }
    STATUS_SUCCESS
}

/// The IRP's next stack location (the one below current, where a driver sets its routine).
///
/// # Safety
/// `irp` is a live IRP the caller owns, with a free stack location.
pub unsafe fn next_location(irp: PIRP) -> PIO_STACK_LOCATION {
    // SAFETY: the caller's guarantee; the next location is the one below current.
    unsafe {
        (*irp)
            .Tail
            .Overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
            .sub(1)
    }
}

/// Sets `routine` with all three invoke flags in the IRP's next stack location.
///
/// # Safety
/// `irp` is a live driver IRP with a free stack location.
pub unsafe fn set_routine(irp: PIRP, routine: Routine, context: PVOID) {
    // SAFETY: the caller's guarantee.
    unsafe {
        let next = next_location(irp);
        (*next).CompletionRoutine = Some(routine);
        (*next).Context = context;
        (*next).Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
    }
}

/// A driver-allocated IRP with `routine` set for success, error and cancel.
pub fn irp(routine: Routine, outcome: &Outcome) -> PIRP {
    // SAFETY: kernel code of the running test kernel.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    assert!(!irp.is_null());
    // SAFETY: a fresh IRP with one stack location.
    unsafe { set_routine(irp, routine, (outcome as *const Outcome).cast_mut().cast()) };
    irp
}

pub static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: MAKE_WSK_VERSION_1_0,
    Reserved: 0,
    WskClientEvent: None,
};

pub fn new_registration() -> Box<WSK_REGISTRATION> {
    Box::new(WSK_REGISTRATION {
        ReservedRegistrationState: 0,
        ReservedRegistrationContext: std::ptr::null_mut(),
        ReservedRegistrationLock: 0,
    })
}

pub struct Client {
    pub registration: Box<WSK_REGISTRATION>,
    pub npi: WSK_PROVIDER_NPI,
}

impl Client {
    /// Registers, and captures the provider NPI if `capture` (without it, `npi` stays null).
    pub fn register(capture: bool) -> Client {
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
            if capture {
                assert_eq!(
                    WskCaptureProviderNPI(&mut *registration, WSK_NO_WAIT, &mut npi),
                    STATUS_SUCCESS
                );
            }
        }
        Client { registration, npi }
    }

    /// Registers and captures the provider NPI.
    pub fn connect() -> Client {
        Client::register(true)
    }

    /// Creates a socket and waits for its completion.
    pub fn socket(&self, family: u16) -> *mut WSK_SOCKET {
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

    /// Binds and asserts the bind succeeded.
    pub fn bind(&self, socket: *mut WSK_SOCKET, address: &str) {
        let outcome = bind_with(socket, address, 0);
        assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
    }

    /// An IPv4 socket bound to 127.0.0.1:0.
    pub fn bound_socket(&self) -> *mut WSK_SOCKET {
        let socket = self.socket(AF_INET);
        self.bind(socket, "127.0.0.1:0");
        socket
    }

    /// SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS: sets (Some) or clears (None).
    pub fn set_fixed(&self, socket: *mut WSK_SOCKET, code: u32, address: Option<SocketAddr>) {
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
    pub fn close(&self, socket: *mut WSK_SOCKET) -> NTSTATUS {
        let outcome = Outcome::default();
        // SAFETY: a live socket, not used afterwards (unless a test breaks that on purpose).
        unsafe {
            dispatch(socket).WskCloseSocket.expect("close")(socket, irp(free_and_stop, &outcome))
        };
        wait(&outcome);
        outcome.status.load(Ordering::SeqCst)
    }

    pub fn disconnect(mut self) {
        // SAFETY: captured and registered in `connect`.
        unsafe {
            WskReleaseProviderNPI(&mut *self.registration);
            WskDeregister(&mut *self.registration);
        }
    }

    /// Closes `socket`, then deregisters.
    pub fn finish(self, socket: *mut WSK_SOCKET) {
        self.close(socket);
        self.disconnect();
    }

    /// Closes `socket`, frees `buffer`, then deregisters.
    pub fn finish_with(self, socket: *mut WSK_SOCKET, buffer: PoolBuffer) {
        self.close(socket);
        buffer.free();
        self.disconnect();
    }
}

/// WskBind of `address` with `flags`, waited for; returns how it completed.
pub fn bind_with(socket: *mut WSK_SOCKET, address: &str, flags: u32) -> Outcome {
    let outcome = Outcome::default();
    let mut raw = sockaddr(address.parse().expect("address"));
    // SAFETY: a live socket; the address outlives the completion (waited for below).
    unsafe {
        dispatch(socket).WskBind.expect("WskBind")(
            socket,
            raw.as_mut_ptr().cast(),
            flags,
            irp(free_and_stop, &outcome),
        )
    };
    wait(&outcome);
    outcome
}

pub fn wait(outcome: &Outcome) {
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
pub unsafe fn dispatch<'a>(socket: *mut WSK_SOCKET) -> &'a WSK_PROVIDER_DATAGRAM_DISPATCH {
    // SAFETY: the caller's guarantee.
    unsafe { &*(*socket).Dispatch.cast() }
}

/// A Windows SOCKADDR in a buffer big enough for either family.
pub fn sockaddr(address: SocketAddr) -> Vec<u8> {
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
pub struct PoolBuffer {
    pub memory: PVOID,
    pub mdl: PMDL,
    pub wsk_buf: WSK_BUF,
}

impl PoolBuffer {
    pub fn new(bytes: &[u8]) -> PoolBuffer {
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

    pub fn free(self) {
        // SAFETY: allocated in `new`, no longer in use.
        unsafe {
            IoFreeMdl(self.mdl);
            ExFreePoolWithTag(self.memory, TAG);
        }
    }
}

pub fn send(
    socket: *mut WSK_SOCKET,
    buffer: &mut PoolBuffer,
    to: Option<SocketAddr>,
    routine: Routine,
    outcome: &Outcome,
) -> NTSTATUS {
    send_irp(socket, buffer, to, irp(routine, outcome))
}

/// WskSendTo with a given IRP.
pub fn send_irp(
    socket: *mut WSK_SOCKET,
    buffer: &mut PoolBuffer,
    to: Option<SocketAddr>,
    irp: PIRP,
) -> NTSTATUS {
    // WSK may read the SOCKADDR until the IRP completes (the model checks it then), so it is
    // kept for the test's life rather than dropped when this returns.
    let remote = to.map_or(std::ptr::null_mut(), |to| {
        Box::leak(sockaddr(to).into_boxed_slice()).as_mut_ptr()
    });
    send_to(socket, buffer, remote, irp)
}

/// WskSendTo of `buffer` to `remote` (a SOCKADDR the caller keeps until completion, or NULL).
pub fn send_to(
    socket: *mut WSK_SOCKET,
    buffer: &mut PoolBuffer,
    remote: *mut u8,
    irp: PIRP,
) -> NTSTATUS {
    // SAFETY: a live socket; the caller keeps the buffer and address until completion.
    unsafe {
        dispatch(socket).WskSendTo.expect("WskSendTo")(
            socket,
            &mut buffer.wsk_buf,
            0,
            remote.cast(),
            0,
            std::ptr::null_mut(),
            irp,
        )
    }
}

/// WskSendTo of `buffer` to `remote` (a SOCKADDR the caller keeps, or NULL) on a fresh IRP,
/// waited for; returns how it completed.
pub fn send_to_and_wait(
    socket: *mut WSK_SOCKET,
    buffer: &mut PoolBuffer,
    remote: *mut u8,
) -> Outcome {
    let outcome = Outcome::default();
    send_to(socket, buffer, remote, irp(free_and_stop, &outcome));
    wait(&outcome);
    outcome
}

/// A kernel with this completion mode (other settings default).
pub fn kernel(completion: CompletionMode) -> Kernel {
    Kernel::boot(KernelConfig {
        completion,
        ..KernelConfig::default()
    })
}

pub fn inline_kernel() -> Kernel {
    kernel(CompletionMode::Inline)
}

pub fn listener() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    socket
}

pub fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected a clean report:\n{report}");
}

pub fn nowhere() -> Option<SocketAddr> {
    Some("127.0.0.1:9".parse().expect("address"))
}

/// A kernel with these completion and special-pool settings.
pub fn kernel_with(completion: CompletionMode, special_pool: SpecialPool) -> Kernel {
    Kernel::boot(KernelConfig {
        completion,
        special_pool,
        ..KernelConfig::default()
    })
}

/// WdfDriverCreate with a sized config naming `device_add` and `unload`.
///
/// # Safety
/// The kernel's driver object and registry path.
pub unsafe fn create_driver(
    driver: PDRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
    device_add: unsafe extern "C" fn(WDFDRIVER, PWDFDEVICE_INIT) -> NTSTATUS,
    unload: PFN_WDF_DRIVER_UNLOAD,
) -> NTSTATUS {
    let mut config = WDF_DRIVER_CONFIG {
        Size: size_of::<WDF_DRIVER_CONFIG>() as u32,
        EvtDriverDeviceAdd: Some(device_add),
        EvtDriverUnload: unload,
        ..WDF_DRIVER_CONFIG::default()
    };
    let mut handle: WDFDRIVER = std::ptr::null_mut();
    // SAFETY: the kernel's driver object and registry path, our config.
    unsafe {
        call_unsafe_wdf_function_binding!(
            WdfDriverCreate,
            driver,
            registry_path,
            std::ptr::null_mut(),
            &mut config,
            &mut handle
        )
    }
}

/// One deliberately broken client: the rule it breaks, the rules that follow from the break
/// (a leak it leaves behind, say), and the client itself, which returns the kernel's report.
/// Running a case asserts that the report names exactly `rule` and `also`.
pub struct Case {
    /// The rule the client breaks.
    pub rule: Rule,
    /// What the client does wrong, as a test name (snake case).
    pub name: &'static str,
    /// Rules the break necessarily brings with it (empty for most).
    pub also: &'static [Rule],
    /// Runs the broken client and unloads; returns the report.
    pub run: fn() -> Report,
}

impl Case {
    /// The test name: `RULE_ID::what_the_client_does`.
    pub fn test_name(&self) -> String {
        format!("{}::{}", self.rule.id, self.name)
    }

    /// Runs the client and checks the report names exactly the expected rules.
    pub fn check(&self) -> Result<(), String> {
        let report = (self.run)();
        let mut expected: Vec<&str> = std::iter::once(self.rule.id)
            .chain(self.also.iter().map(|r| r.id))
            .collect();
        expected.sort_unstable();
        expected.dedup();
        let mut reported: Vec<&str> = report.violations.iter().map(|v| v.rule.id).collect();
        reported.sort_unstable();
        reported.dedup();
        if reported == expected {
            Ok(())
        } else {
            Err(format!(
                "expected exactly {expected:?} to be reported, got {reported:?}; report:\n{report}"
            ))
        }
    }
}

/// The environment variable that tells a child test process which case to run for real.
pub const CHILD_CASE: &str = "WDK_MODEL_BROKEN_CLIENT_CHILD";

/// Runs `body` in a child process (this test binary, filtered to the test `test_name`), for a
/// broken client that stops the kernel the way a bug check stops Windows: the child must die
/// by SIGABRT after printing `KERNEL MODEL STOP <RULE>: ...`. Returns the stops it printed as a
/// report. In the child itself, runs `body`, which must not return.
pub fn in_child_process(test_name: &str, body: fn()) -> Report {
    if std::env::var(CHILD_CASE).as_deref() == Ok(test_name) {
        body();
        eprintln!("the broken client returned: no stop");
        return Report::default();
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let output = std::process::Command::new(exe)
        .args([test_name, "--exact", "--test-threads=1"])
        .env(CHILD_CASE, test_name)
        .output()
        .unwrap_or_else(|e| panic!("running the child process: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGABRT),
        "the child was to stop the kernel (abort); it ended with {:?}; stderr:\n{stderr}",
        output.status
    );
    let violations = stderr
        .lines()
        .filter_map(|line| {
            let rest = line.split("KERNEL MODEL STOP ").nth(1)?;
            let id = rest.split(':').next()?;
            let rule = *rules::ALL.iter().find(|r| r.id == id)?;
            Some(Violation {
                rule,
                detail: line.to_string(),
            })
        })
        .collect();
    Report {
        violations,
        leaks: Vec::new(),
        vetoed: None,
    }
}
