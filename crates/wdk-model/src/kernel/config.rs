//! The knobs of a kernel: completion mode, fault injection, destinations, special pool. Plain
//! data: the subsystems that act on a knob read it from the kernel core's config.

use std::time::Duration;

use crate::types::NTSTATUS;

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
