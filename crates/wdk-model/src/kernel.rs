//! One simulated kernel: its state, the rules it enforces, its knobs and its trace.
//!
//! Every model entry point finds "its" kernel through a thread-local set by the harness (on the
//! caller's thread) and by the provider's worker threads, so several kernels can run side by
//! side in one test process without sharing anything.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::types::{KIRQL, NTSTATUS};

/// A rule of the kernel the driver must follow; breaking one is what would be a bugcheck or a
/// Driver Verifier stop on Windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Stable identifier, used by tests to say which rule they expect to see broken.
    pub id: &'static str,
    /// What the rule says.
    pub text: &'static str,
}

/// Every rule the model checks.
pub mod rules {
    use super::Rule;
    macro_rules! rules {
        ($($name:ident = $text:literal;)*) => {
            $(#[doc = $text] pub const $name: Rule = Rule { id: stringify!($name), text: $text };)*
            /// All rules, for documentation and reports.
            pub const ALL: &[Rule] = &[$($name),*];
        };
    }
    rules! {
        IRQL_TOO_HIGH = "the routine was called above the highest IRQL it allows";
        IRQL_NOT_RESTORED = "a callback returned at a different IRQL than it was called at";
        COMPLETION_ROUTINE_RETURN = "the completion routine of a driver-allocated IRP must return STATUS_MORE_PROCESSING_REQUIRED";
        COMPLETION_ROUTINE_NOT_SET = "an IRP passed to WSK needs a completion routine set with all three SL_INVOKE_ON_* flags";
        IRP_NO_STACK_LOCATION = "an IRP passed to WSK needs a free stack location (IoAllocateIrp(1, FALSE))";
        IRP_DOUBLE_FREE = "an IRP must be freed exactly once";
        IRP_USE_AFTER_FREE = "an IRP must not be used after IoFreeIrp";
        IRP_UNKNOWN = "the IRP was not allocated with IoAllocateIrp";
        IRP_FREED_WHILE_OWNED = "an IRP must not be freed while the provider owns it";
        IRP_RESUBMITTED = "an IRP must not be passed to WSK again before it completes";
        IRP_REUSED_WHILE_OWNED = "IoReuseIrp is only for an IRP the driver owns: allocated with IoAllocateIrp and never submitted, or completed (its completion routine running or run); not one the provider still holds (Learn, Reusing IRPs: drivers reuse IRPs they created; Wine ntoskrnl IoReuseIrp rewrites the whole IRP with IoInitializeIrp, which would wipe the stack location the provider is using)";
        IRP_NOT_REINITIALIZED = "an IRP that completed must be reinitialised with IoReuseIrp before it is passed to WSK again (Learn, Reusing IRPs: a driver that created an IRP with IoAllocateIrp reuses it by calling IoReuseIrp; without it the last call's Cancel, PendingReturned and IoStatus stay behind, which Wine's IoReuseIrp/IoInitializeIrp zero): the strict side";
        MDL_UNKNOWN = "the MDL was not allocated with IoAllocateMdl or was already freed";
        MDL_NOT_NONPAGED = "MmBuildMdlForNonPagedPool needs memory from nonpaged pool";
        MDL_NOT_LOCKED = "memory passed to WSK must be nonpaged pool or locked";
        MDL_FREED_WHILE_PENDING = "an MDL must stay allocated until the send using it completes";
        WSK_BUF_RANGE = "WSK_BUF Offset must lie in the first MDL and Offset + Length within the chain";
        BUFFER_MODIFIED_WHILE_PENDING = "memory described by a WSK_BUF must not change until the send completes";
        BUFFER_FREED_WHILE_PENDING = "memory described by a WSK_BUF must stay allocated until the send completes";
        POOL_BAD_FLAGS = "ExAllocatePool2 needs exactly one pool type flag and a nonzero tag";
        POOL_BAD_FREE = "ExFreePoolWithTag needs a live allocation from ExAllocatePool2";
        POOL_TAG_MISMATCH = "ExFreePoolWithTag must pass the tag the allocation was made with";
        POOL_USE_AFTER_FREE = "pool must not be read or written after ExFreePoolWithTag (Driver Verifier special pool: bug check 0xD5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL)";
        POOL_WRITE_AFTER_FREE = "freed pool must not be written: the special pool's poison in the quarantine was changed";
        SPIN_LOCK_MISUSE = "a spin lock must be released by its owner and never acquired recursively";
        EVENT_NOT_INITIALIZED = "a KEVENT must be initialized with KeInitializeEvent before use";
        WSK_FLAGS_NOT_ZERO = "WSK datagram calls take Flags = 0";
        WSK_SOCKET_INVALID = "a WSK call needs a live socket (not closed, not freed)";
        WSK_NOT_BOUND = "a datagram socket must be bound before it sends or receives";
        WSK_FAMILY_MISMATCH = "addresses passed to a socket must be of the socket's family";
        WSK_NULL_REMOTE_ADDRESS = "a NULL RemoteAddress needs a fixed remote or send-to address";
        WSK_AMBIGUOUS_DESTINATION = "RemoteAddress may be NULL only where Learn defines the result: WskSendTo on a socket with exactly one of a fixed remote (SIO_WSK_SET_REMOTE_ADDRESS) or fixed send-to (SIO_WSK_SET_SENDTO_ADDRESS) address; PFN_WSK_SEND_MESSAGES documents no fallback, and with both set the choice is undocumented";
        WSK_CLOSE_OVERLAP = "WskCloseSocket must not overlap another call on the socket";
        WSK_INPUT_MODIFIED_WHILE_PENDING = "a SOCKADDR passed to WSK (WskBind, WskControlSocket input, WskSendTo/WskSendMessages RemoteAddress) must not change until its IRP completes: the subsystem completes the IRP only once the operation is done (Learn, Using IRPs with Winsock Kernel Functions) and may read its inputs until then (the strict side, as for WSK_BUF bytes)";
        WSK_UNLOAD_WITH_REGISTRATION = "every successful WskRegister needs exactly one WskDeregister before the driver unloads: the registration refers to the client dispatch table in the driver image (Learn, WskRegister / WskDeregister)";
        WSK_UNLOAD_WITH_CAPTURE = "every WskCaptureProviderNPI needs its WskReleaseProviderNPI before the driver unloads (Learn, WskCaptureProviderNPI / WskDeregister)";
        WSK_NPI_NOT_CAPTURED = "provider dispatch calls need a captured provider NPI";
        WSK_UNBALANCED = "WskRegister/WskDeregister and capture/release must be balanced";
        WSK_DEREGISTER_HANG = "WskDeregister with sockets open or NPIs captured blocks forever";
        WSK_BAD_ARGUMENT = "the WSK call's arguments are not valid";
        UNBOUNDED_WAIT_IN_DRIVER_ENTRY = "DriverEntry must never wait without bound";
        WDF_BAD_CONFIG = "a WDF structure was passed with a wrong Size or missing required fields";
        WDF_BAD_HANDLE = "the WDF handle is not a live object of the expected kind";
        WDF_REQUEST_COMPLETED_TWICE = "a request must be completed exactly once";
        WDF_INFORMATION_TOO_LARGE = "a successful request's Information must not exceed its output buffer";
        WDF_REQUEST_NOT_COMPLETED = "every request must be completed before the device is removed";
        WDF_QUEUE_PRESENTS_NOTHING = "a parallel queue with Settings.Parallel.NumberOfPresentedRequests == 0 never presents a request (FxIoQueue::Initialize copies it into m_MaxParallelQueuePresentedRequests; FxIoQueue::DispatchEvents never presents while m_DriverIoCount >= it): WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE sets (ULONG)-1";
        WDF_STOP_ACK_NOT_STOPPING = "WdfRequestStopAcknowledge is valid only for a request delivered to EvtIoStop and not yet acknowledged or completed (FxRequest::VerifyRequestIsInEvtIoStopContext, FxRequest::VerifyStopAcknowledge)";
        COMPLETION_ROUTINE_UNPROTECTED = "an IRP issued after the driver's devices are deleted must carry its completion routine through IoSetCompletionRoutineEx on a live device object of the driver, and none is left: such a routine can still be returning when the image is unmapped, since nothing references a device object for it (Learn, IoSetCompletionRoutineEx; IoDeleteDevice; Unloading a driver). Issue the last WSK calls (the final closes) while the device exists, from its cleanup";
        COMPLETION_EX_DEVICE_NOT_LIVE = "IoSetCompletionRoutineEx needs a live device object of the driver, which it references until the routine has returned (Learn, IoSetCompletionRoutineEx)";
        COMPLETION_EX_CONTEXT_LEAKED = "an IRP with a completion routine set by IoSetCompletionRoutineEx must be sent: the context it allocated, and its device object reference, are released only by the I/O manager's wrapper after the routine runs; set it only once the IRP is certain to be sent (Learn, IoSetCompletionRoutineEx; KMDF fxiotarget.cpp FxIoTarget::SubmitLocked)";
        WSK_INDICATION_TOUCHED_AFTER_RETURN = "a WSK_DATAGRAM_INDICATION list (its nodes, addresses, MDLs and data) is the client's only until WskReceiveFromEvent returns, unless it returns STATUS_PENDING (Learn, PFN_WSK_RECEIVE_FROM_EVENT: STATUS_SUCCESS means the application retrieved all datagrams)";
        WSK_INDICATION_USED_AFTER_RELEASE = "an indication list retained with STATUS_PENDING must not be used after WskRelease gave it back (Learn, PFN_WSK_RELEASE_DATA_INDICATION_LIST)";
        WSK_INDICATION_RELEASED_TWICE = "an indication list retained with STATUS_PENDING needs exactly one WskRelease, and only a retained list may be released (Learn, PFN_WSK_RECEIVE_FROM_EVENT, PFN_WSK_RELEASE_DATA_INDICATION_LIST)";
        WSK_INDICATION_NOT_RELEASED = "every indication list retained with STATUS_PENDING must be released before WskCloseSocket: closing does not release them (Learn, PFN_WSK_RELEASE_DATA_INDICATION_LIST remarks)";
        UNLOAD_WITH_COMPLETION_RUNNING = "a driver must not unload while its completion routines can still run";
        LEAK = "everything allocated must be freed by the time the driver unloads";
    }
}

/// A broken rule, with what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What the driver did.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KERNEL MODEL STOP {}: {} ({})",
            self.rule.id, self.detail, self.rule.text
        )
    }
}

/// Where completions are delivered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CompletionMode {
    /// On a provider thread, usually after the call has returned STATUS_PENDING.
    #[default]
    Async,
    /// On the caller's thread before the WSK call returns (the call returns the final status).
    Inline,
    /// On a provider thread after a delay.
    Delayed(Duration),
    /// On a provider thread, finished (completion routine run) before the call returns
    /// STATUS_PENDING: a driver that touches its IRP or buffers after submitting is caught.
    OtherThreadBeforeReturn,
    /// Sends never complete until the socket is closed (which cancels them).
    NeverForSends,
    /// As `NeverForSends`, and every other call (socket, bind, control, close, the cancelled
    /// sends) completes on a provider thread after this delay: a control call can outlast the
    /// driver's bound while sends are stuck.
    NeverForSendsSlowControl(Duration),
}

/// A call site where a failure can be injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultSite {
    /// `ExAllocatePool2`.
    PoolAllocate,
    /// `IoAllocateIrp`.
    IrpAllocate,
    /// `IoAllocateMdl`.
    MdlAllocate,
    /// `WskRegister`.
    WskRegister,
    /// `WskCaptureProviderNPI`.
    WskCapture,
    /// `WskSocket`.
    WskSocket,
    /// `WskBind`.
    WskBind,
    /// `WskControlSocket`.
    WskControl,
    /// `WskSendTo`.
    WskSendTo,
    /// `WskSendMessages`.
    WskSendMessages,
    /// `WskGetLocalAddress`.
    WskGetLocalAddress,
    /// `WskCloseSocket`.
    WskClose,
    /// `WskReceiveFrom`.
    WskReceiveFrom,
    /// `IoSetCompletionRoutineEx`'s context allocation.
    CompletionContext,
}

impl FaultSite {
    /// Every site, for sweeps.
    pub const ALL: &'static [FaultSite] = &[
        FaultSite::PoolAllocate,
        FaultSite::IrpAllocate,
        FaultSite::MdlAllocate,
        FaultSite::WskRegister,
        FaultSite::WskCapture,
        FaultSite::WskSocket,
        FaultSite::WskBind,
        FaultSite::WskControl,
        FaultSite::WskSendTo,
        FaultSite::WskSendMessages,
        FaultSite::WskGetLocalAddress,
        FaultSite::WskClose,
        FaultSite::WskReceiveFrom,
        FaultSite::CompletionContext,
    ];
}

/// Fail the `nth` call (1-based) at `site` with `status` (allocations just return NULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Where.
    pub site: FaultSite,
    /// Which call, counting from 1.
    pub nth: u64,
    /// The status the call fails with.
    pub status: NTSTATUS,
}

/// Which destinations the model's provider will really send to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DestinationPolicy {
    /// Loopback only (127.0.0.0/8, ::1); anything else completes with STATUS_NETWORK_UNREACHABLE.
    #[default]
    LoopbackOnly,
    /// Any address the host can reach.
    Any,
}

/// The knobs of a kernel.
#[derive(Clone, Debug)]
pub struct KernelConfig {
    /// How WSK IRPs complete.
    pub completion: CompletionMode,
    /// The provider becomes ready this long after boot (WskCaptureProviderNPI fails before).
    pub provider_ready_after: Duration,
    /// Injected failures.
    pub faults: Vec<Fault>,
    /// Whether the provider offers WskSendMessages.
    pub send_messages_supported: bool,
    /// Record a step-by-step trace of WSK and driver-visible events.
    pub trace: bool,
    /// Provider worker threads.
    pub worker_threads: usize,
    /// Safety net for this sandboxed model: where sends may go.
    pub destinations: DestinationPolicy,
    /// How long the harness waits for a request to complete, or for requests to drain at removal.
    pub request_timeout: Duration,
    /// How pool is allocated and what happens to it when freed (see [`SpecialPool`]).
    pub special_pool: SpecialPool,
}

/// Driver Verifier's special pool, modelled. Learn, "Special Pool" (Driver Verifier): each
/// allocation gets pages of its own and a read or write of freed special pool is a bug check
/// (0xCC/0xD5, PAGE_FAULT_IN_FREED_SPECIAL_POOL). The model keeps freed allocations in a
/// bounded quarantine (1,024 allocations or 64 MiB per kernel, oldest leave first), so their
/// addresses are not handed out again while a stale pointer may still use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SpecialPool {
    /// The host allocator; freed memory goes back to it at once (no use-after-free detection).
    Off,
    /// Pages of its own per allocation; freed allocations are filled with
    /// [`FREED_POOL_POISON`](crate::FREED_POOL_POISON) and quarantined, and a changed poison byte
    /// is recorded as POOL_WRITE_AFTER_FREE (checked around pool calls, after each
    /// DeviceIoControl, when an allocation leaves the quarantine and at unload). Reads of freed
    /// pool see the poison. The kernel keeps running, so a test can read the report.
    Poison,
    /// As `Poison`, and the freed pages are made inaccessible (PROT_NONE) while quarantined: the
    /// first read or write stops the process at once, like the bug check, printing
    /// `KERNEL MODEL STOP POOL_USE_AFTER_FREE` with the address, tag, size and who freed it.
    #[default]
    Protect,
}

impl Default for KernelConfig {
    fn default() -> Self {
        Self {
            completion: CompletionMode::Async,
            provider_ready_after: Duration::ZERO,
            faults: Vec::new(),
            send_messages_supported: true,
            trace: false,
            worker_threads: 2,
            destinations: DestinationPolicy::LoopbackOnly,
            request_timeout: Duration::from_secs(30),
            special_pool: SpecialPool::Protect,
        }
    }
}

/// Allocation counters, for proving what the hot path allocates.
#[derive(Debug, Default)]
pub struct Counters {
    /// `ExAllocatePool2` successes.
    pub pool_allocations: AtomicU64,
    /// `IoAllocateIrp` successes.
    pub irp_allocations: AtomicU64,
    /// `IoFreeIrp` calls that freed an IRP.
    pub irp_frees: AtomicU64,
    /// `IoAllocateMdl` successes.
    pub mdl_allocations: AtomicU64,
    /// Completion routines invoked.
    pub completion_routines: AtomicU64,
    /// `WskSendTo` calls accepted.
    pub wsk_send_to: AtomicU64,
    /// `WskSendMessages` calls accepted.
    pub wsk_send_messages: AtomicU64,
    /// `WskSendTo` calls made with a NULL RemoteAddress (a fixed destination was used).
    pub wsk_send_to_null_remote: AtomicU64,
    /// Datagrams the provider handed to the host.
    pub datagrams_sent: AtomicU64,
    /// `WskReceiveFrom` calls accepted (posted).
    pub wsk_receive_from: AtomicU64,
    /// Datagrams the provider delivered into posted receives.
    pub datagrams_received: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// See [`Counters::pool_allocations`].
    pub pool_allocations: u64,
    /// See [`Counters::irp_allocations`].
    pub irp_allocations: u64,
    /// See [`Counters::irp_frees`].
    pub irp_frees: u64,
    /// See [`Counters::mdl_allocations`].
    pub mdl_allocations: u64,
    /// See [`Counters::completion_routines`].
    pub completion_routines: u64,
    /// See [`Counters::wsk_send_to`].
    pub wsk_send_to: u64,
    /// See [`Counters::wsk_send_messages`].
    pub wsk_send_messages: u64,
    /// See [`Counters::wsk_send_to_null_remote`].
    pub wsk_send_to_null_remote: u64,
    /// See [`Counters::datagrams_sent`].
    pub datagrams_sent: u64,
    /// See [`Counters::wsk_receive_from`].
    pub wsk_receive_from: u64,
    /// See [`Counters::datagrams_received`].
    pub datagrams_received: u64,
}

impl Counters {
    fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        CounterSnapshot {
            pool_allocations: get(&self.pool_allocations),
            irp_allocations: get(&self.irp_allocations),
            irp_frees: get(&self.irp_frees),
            mdl_allocations: get(&self.mdl_allocations),
            completion_routines: get(&self.completion_routines),
            wsk_send_to: get(&self.wsk_send_to),
            wsk_send_messages: get(&self.wsk_send_messages),
            wsk_send_to_null_remote: get(&self.wsk_send_to_null_remote),
            datagrams_sent: get(&self.datagrams_sent),
            wsk_receive_from: get(&self.wsk_receive_from),
            datagrams_received: get(&self.datagrams_received),
        }
    }
}

/// Receives trace lines as they happen.
pub(crate) type TraceSink = Box<dyn Fn(&str) + Send>;

/// The state of one simulated kernel.
pub struct Kernel {
    pub(crate) config: KernelConfig,
    pub(crate) booted_at: Instant,
    pub(crate) violations: Mutex<Vec<Violation>>,
    trace: Mutex<Vec<String>>,
    /// Everything the driver printed with DbgPrintEx.
    pub(crate) debug_output: Mutex<Vec<crate::debug::DebugLine>>,
    trace_sink: Mutex<Option<TraceSink>>,
    fault_counts: Mutex<HashMap<FaultSite, u64>>,
    pub(crate) counters: Counters,
    pub(crate) pool: Mutex<crate::pool::PoolTable>,
    pub(crate) irps: Mutex<crate::irp::IrpTable>,
    pub(crate) mdls: Mutex<crate::mdl::MdlTable>,
    pub(crate) dispatcher: crate::sync::Dispatcher,
    pub(crate) wdf: Mutex<crate::wdf::WdfState>,
    pub(crate) wdf_changed: std::sync::Condvar,
    pub(crate) wsk: crate::wsk::provider::Provider,
    pub(crate) in_driver_entry: AtomicBool,
    pub(crate) completion_routines_running: AtomicU64,
    pub(crate) device_objects: Mutex<crate::devobj::DeviceObjectTable>,
    pub(crate) workers: crate::wsk::workers::Workers,
}

impl Kernel {
    pub(crate) fn new(config: KernelConfig) -> Arc<Kernel> {
        let workers = config.worker_threads.max(1);
        if config.special_pool == SpecialPool::Protect {
            crate::pool::install_fault_handler();
        }
        let kernel = Arc::new(Kernel {
            booted_at: Instant::now(),
            violations: Mutex::new(Vec::new()),
            trace: Mutex::new(Vec::new()),
            debug_output: Mutex::new(Vec::new()),
            trace_sink: Mutex::new(None),
            fault_counts: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            pool: Mutex::new(Default::default()),
            irps: Mutex::new(Default::default()),
            mdls: Mutex::new(Default::default()),
            dispatcher: Default::default(),
            wdf: Mutex::new(Default::default()),
            wdf_changed: Default::default(),
            wsk: Default::default(),
            in_driver_entry: AtomicBool::new(false),
            completion_routines_running: AtomicU64::new(0),
            device_objects: Mutex::new(Default::default()),
            workers: crate::wsk::workers::Workers::new(),
            config,
        });
        kernel.workers.start(&kernel, workers);
        kernel
    }

    /// Records a broken rule, loudly.
    pub(crate) fn violate(&self, rule: Rule, detail: impl Into<String>) {
        let violation = Violation {
            rule,
            detail: detail.into(),
        };
        eprintln!("{violation}");
        self.note(format!("!! {violation}"));
        lock(&self.violations).push(violation);
    }

    /// Appends a trace line when tracing is on.
    pub(crate) fn note(&self, line: impl Into<String>) {
        if !self.config.trace {
            return;
        }
        let line = line.into();
        if let Some(sink) = lock(&self.trace_sink).as_ref() {
            sink(&line);
        }
        lock(&self.trace).push(line);
    }

    pub(crate) fn tracing(&self) -> bool {
        self.config.trace
    }

    pub(crate) fn set_trace_sink(&self, sink: Option<TraceSink>) {
        *lock(&self.trace_sink) = sink;
    }

    pub(crate) fn take_trace(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.trace))
    }

    /// Counts a call at `site` and says whether this one must fail, and how.
    pub(crate) fn injected_fault(&self, site: FaultSite) -> Option<NTSTATUS> {
        if self.config.faults.is_empty() {
            return None;
        }
        let mut counts = lock(&self.fault_counts);
        let count = counts.entry(site).or_insert(0);
        *count += 1;
        let nth = *count;
        drop(counts);
        let fault = self
            .config
            .faults
            .iter()
            .find(|f| f.site == site && f.nth == nth)?;
        self.note(format!(
            "fault injected: call {nth} of {site:?} fails with {:#010x}",
            fault.status
        ));
        Some(fault.status)
    }

    /// How many calls reached `site` so far (counted only when faults are configured).
    pub(crate) fn site_calls(&self, site: FaultSite) -> u64 {
        lock(&self.fault_counts).get(&site).copied().unwrap_or(0)
    }

    pub(crate) fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }
}

/// Locks a mutex, ignoring poisoning: a panic elsewhere must not hide the model's report.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Kernel>>> = const { RefCell::new(None) };
    static IRQL: Cell<KIRQL> = const { Cell::new(0) };
    static COMPLETION_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The kernel this thread runs in. Calling a kernel routine on a thread no harness entered is a
/// harness misuse, not a driver bug.
pub(crate) fn current() -> Arc<Kernel> {
    CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        panic!("kernel model: a kernel routine was called on a thread that is not running a kernel")
    })
}

/// Makes `kernel` this thread's kernel until the guard drops.
pub(crate) fn enter(kernel: &Arc<Kernel>) -> EnterGuard {
    let previous = CURRENT.with(|c| c.replace(Some(kernel.clone())));
    EnterGuard {
        previous: Some(previous),
    }
}

pub(crate) struct EnterGuard {
    previous: Option<Option<Arc<Kernel>>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
}

pub(crate) fn irql() -> KIRQL {
    IRQL.with(Cell::get)
}

pub(crate) fn set_irql(level: KIRQL) {
    IRQL.with(|c| c.set(level));
}

/// Runs `f` at `level`, restoring the previous IRQL after.
pub(crate) fn at_irql<R>(level: KIRQL, f: impl FnOnce() -> R) -> R {
    let previous = irql();
    set_irql(level);
    let result = f();
    set_irql(previous);
    result
}

/// Whether this thread is inside a completion routine: for diagnostics only (calling WSK from
/// one is legal).
pub(crate) fn in_completion_routine() -> bool {
    COMPLETION_DEPTH.with(Cell::get) > 0
}

pub(crate) fn with_completion_routine<R>(f: impl FnOnce() -> R) -> R {
    COMPLETION_DEPTH.with(|c| c.set(c.get() + 1));
    let result = f();
    COMPLETION_DEPTH.with(|c| c.set(c.get() - 1));
    result
}

pub(crate) const PASSIVE: KIRQL = 0;
pub(crate) const DISPATCH: KIRQL = 2;

/// Checks that the caller runs at or below `max`; records the violation otherwise.
pub(crate) fn require_irql(kernel: &Kernel, routine: &str, max: KIRQL) -> bool {
    let now = irql();
    if now > max {
        kernel.violate(
            rules::IRQL_TOO_HIGH,
            format!("{routine} called at IRQL {now}; it requires IRQL <= {max}"),
        );
        return false;
    }
    true
}
