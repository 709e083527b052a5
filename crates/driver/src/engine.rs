//! The WSK engine: one per driver. It registers as a WSK client at load, captures the provider
//! and creates a bound datagram socket per address family on first use, applies configuration
//! (bind address, fixed destinations), sends through the slot pool, counts what happened, and
//! tears everything down in order at unload.

use core::cell::UnsafeCell;
use core::net::SocketAddr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_CANCELLED, STATUS_DELETE_PENDING,
    STATUS_DEVICE_BUSY, STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_BUFFER_SIZE, STATUS_MORE_PROCESSING_REQUIRED,
};
use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, BatchReply, BatchRequest, ConfigAction, Destination, FixedDestination,
    SEND_REPLY_SIZE, SendReply, Stats,
};

use crate::irp;
use crate::kernel::{self, ControlLock, SpinLock};
use crate::receive::Receiver;
use crate::request::Request;
use crate::rundown::Rundown;
use crate::slots::{Slot, SlotLease, SlotPool};
use crate::sync_call::{CallKind, Done, Failed, SyncCall, Wait};
use crate::trace::{Status, trace};
use crate::wsk::abi::*;
use crate::wsk::{self, Family, SockAddrStorage};

/// Bytes per send slot: room for the largest UDP datagram (65,527 bytes over IPv6).
pub const SLOT_SIZE: u32 = 65_536;
/// Slots in the pool: datagrams that can be in flight at once.
pub const DEFAULT_SLOT_COUNT: u32 = 32;
/// How long the first send waits for the WSK provider to become ready.
const CAPTURE_WAIT_MS: u32 = 2_000;
/// Bound on each control-path WSK call (socket, bind, local address, control, close).
pub const CONTROL_TIMEOUT_MS: u32 = 5_000;
/// Off Windows only: the bound the driver uses instead of [`CONTROL_TIMEOUT_MS`], so that the
/// host tests can make a WSK call outlast it without waiting seconds (see
/// [`set_control_timeout_ms`]). A Windows build has no such knob: the constant is used as is.
#[cfg(not(target_os = "windows"))]
static CONTROL_TIMEOUT_OVERRIDE: core::sync::atomic::AtomicU32 =
    core::sync::atomic::AtomicU32::new(CONTROL_TIMEOUT_MS);

/// Host tests only (there is no such function in a Windows build): sets the bound on each
/// control-path WSK call for every engine in this process. A test that uses it runs in a test
/// binary of its own, so no other test sees the change.
#[cfg(not(target_os = "windows"))]
pub fn set_control_timeout_ms(timeout_ms: u32) {
    CONTROL_TIMEOUT_OVERRIDE.store(timeout_ms, core::sync::atomic::Ordering::Relaxed);
}

/// The bound on each control-path WSK call.
fn control_timeout_ms() -> u32 {
    #[cfg(not(target_os = "windows"))]
    let timeout_ms = CONTROL_TIMEOUT_OVERRIDE.load(core::sync::atomic::Ordering::Relaxed);
    #[cfg(target_os = "windows")]
    let timeout_ms = CONTROL_TIMEOUT_MS;
    timeout_ms
}
/// How long a send waits for a free slot before failing with STATUS_INSUFFICIENT_RESOURCES.
const SLOT_WAIT_MS: u32 = 1_000;
/// How often a close that could not be issued is tried again before its socket is parked.
const CLOSE_ISSUE_ATTEMPTS: u32 = 3;
/// The pause between those tries.
const CLOSE_ISSUE_PAUSE_MS: u32 = 10;
/// Sockets whose close could not be issued, kept for a later close.
const PARKED_SOCKETS: usize = 4;
/// How long unload waits for sends in flight before closing the sockets (which cancels them).
const DRAIN_TIMEOUT_MS: u32 = 10_000;

static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: MAKE_WSK_VERSION(1, 0),
    Reserved: 0,
    WskClientEvent: None,
};

/// Which counter a failed request adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Validation,
    NoResources,
    NotReady,
    Transport,
    Cancelled,
}

/// A request that failed before its completion routine could complete it.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    pub status: NTSTATUS,
    pub kind: FailureKind,
}

impl Failure {
    pub fn new(status: NTSTATUS, kind: FailureKind) -> Self {
        Failure { status, kind }
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    datagrams_sent: AtomicU64,
    bytes_sent: AtomicU64,
    failed_validation: AtomicU64,
    failed_no_resources: AtomicU64,
    failed_not_ready: AtomicU64,
    failed_transport: AtomicU64,
    failed_cancelled: AtomicU64,
}

/// One family's socket and its configuration.
struct FamilyState {
    socket: AtomicPtr<WSK_SOCKET>,
    /// Sends in flight on this family's socket; closed while the socket is reconfigured.
    gate: Rundown,
    /// WSK send calls executing right now (between the call and its return), which a close
    /// must not overlap.
    calls: Rundown,
    /// Whether a fixed destination is set: a send's quick check, readable without a lock
    /// (stored with `fixed`, under `config_lock`).
    fixed_set: AtomicBool,
    /// Guards `local` and `fixed`: every write (the control path, which also holds the control
    /// lock) and every read (QUERY_STATS, which does not, and a batch's destination) takes
    /// it, for a copy of a few bytes. So a stats query never sees a half-written address and
    /// never waits behind a long control call (issue 12: the torn read was undefined
    /// behaviour). Only through [`FamilyState::local`], [`FamilyState::fixed`] and their
    /// `publish_*` writers. WSK never sees these cells: the SOCKADDRs passed to control calls
    /// live in the SyncCall until their IRP completes.
    config_lock: SpinLock,
    local: UnsafeCell<SockAddrStorage>,
    fixed: UnsafeCell<Option<FixedDestination>>,
}

/// What only the control path uses: reachable only through the control lock's guard, so none
/// of it can be read or written without holding the lock.
struct ControlState {
    /// The captured provider NPI (valid while `Engine::captured` is true).
    provider: WSK_PROVIDER_NPI,
    /// The configured local address of each family's socket (None: the wildcard).
    bind_v4: Option<SocketAddr>,
    bind_v6: Option<SocketAddr>,
    /// Sockets to close later ([`Engine::close_socket`]).
    parked: [*mut WSK_SOCKET; PARKED_SOCKETS],
}

// SAFETY: the pointers are WSK objects (the provider's client and dispatch table, sockets),
// usable from any thread at PASSIVE_LEVEL; the lock hands the state to one thread at a time.
unsafe impl Send for ControlState {}

impl ControlState {
    fn bind(&mut self, family: Family) -> &mut Option<SocketAddr> {
        match family {
            Family::V4 => &mut self.bind_v4,
            Family::V6 => &mut self.bind_v6,
        }
    }
}

impl FamilyState {
    /// The socket's local address as last named (ZERO before).
    fn local(&self) -> SockAddrStorage {
        let _held = self.config_lock.lock();
        // SAFETY: `local` is only touched with `config_lock` held.
        unsafe { *self.local.get() }
    }

    fn publish_local(&self, local: SockAddrStorage) {
        let _held = self.config_lock.lock();
        // SAFETY: as above.
        unsafe { *self.local.get() = local };
    }

    /// The fixed destination the driver has set on the socket.
    fn fixed(&self) -> Option<FixedDestination> {
        let _held = self.config_lock.lock();
        // SAFETY: `fixed` is only touched with `config_lock` held.
        unsafe { *self.fixed.get() }
    }

    fn publish_fixed(&self, fixed: Option<FixedDestination>) {
        let _held = self.config_lock.lock();
        // SAFETY: as above.
        unsafe { *self.fixed.get() = fixed };
        self.fixed_set.store(fixed.is_some(), Ordering::Release);
    }
}

pub struct Engine {
    registration: WSK_REGISTRATION,
    registered: bool,
    /// Set under the control lock once the provider NPI is captured; read by unload.
    captured: AtomicBool,
    families: [FamilyState; 2],
    /// The control path's mutex and the state it guards.
    control_lock: ControlLock<ControlState>,
    control: SyncCall,
    rundown: Rundown,
    slots: SlotPool,
    stats: Counters,
    batches: AtomicU64,
    sequence: AtomicU64,
    /// The receive side, one per family (src/receive/).
    receivers: [Receiver; 2],
    /// [`Engine::shutdown`] has run (set once, by its first caller).
    shut_down: AtomicBool,
}

// SAFETY: the fields mutated after init are atomics, kernel objects, state inside
// `control_lock` (reached only through its guard), or UnsafeCells touched only under their
// family's `config_lock` (`local` and `fixed`, see FamilyState).
unsafe impl Sync for Engine {}

impl Engine {
    /// Allocates the engine, builds the slot pool and registers as a WSK client. Never waits
    /// for the provider: that happens on the first send.
    pub fn create(slot_count: u32) -> Result<NonNull<Engine>, NTSTATUS> {
        // Uninitialised until every field below is written: only then is it an Engine.
        let memory = kernel::allocate::<Engine>().ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        let engine = memory.as_ptr().cast::<Engine>();
        // Fresh zeroed nonpaged memory, sized for an Engine. Zero is a valid bit pattern for
        // every plain field (null, false, 0), but an all-zero `Option<SocketAddr>` is
        // `Some(0.0.0.0:0)`, so the optional cells are written explicitly, and the kernel
        // objects are initialised in place. A field's place makes no reference to the memory.
        // Nothing else sees the engine until WskRegister below.
        // SAFETY: `engine` is the fresh allocation.
        let control_lock = unsafe { &raw mut (*engine).control_lock };
        let control = ControlState {
            provider: WSK_PROVIDER_NPI {
                Client: core::ptr::null_mut(),
                Dispatch: core::ptr::null(),
            },
            bind_v4: None,
            bind_v6: None,
            parked: [core::ptr::null_mut(); PARKED_SOCKETS],
        };
        // SAFETY: the lock's place in nonpaged memory that stays put until `destroy`.
        unsafe { ControlLock::init(control_lock, control) };
        // SAFETY: as for `control_lock`.
        let rundown = unsafe { &raw mut (*engine).rundown };
        // SAFETY: the rundown's place, which stays put.
        unsafe { Rundown::init(rundown) };
        // SAFETY: as for `control_lock`.
        let families = unsafe { &raw mut (*engine).families }.cast::<FamilyState>();
        for index in 0..2 {
            // SAFETY: `families` is an array of two FamilyStates.
            let family = unsafe { families.add(index) };
            // SAFETY: a field's place in the fresh allocation.
            let gate = unsafe { &raw mut (*family).gate };
            // SAFETY: the gate's place, which stays put.
            unsafe { Rundown::init(gate) };
            // SAFETY: a field's place in the fresh allocation.
            let calls = unsafe { &raw mut (*family).calls };
            // SAFETY: the call window's place, which stays put.
            unsafe { Rundown::init(calls) };
            // SAFETY: a field's place in the fresh allocation.
            let config_lock = unsafe { &raw mut (*family).config_lock };
            // SAFETY: the spin lock's place, which stays put.
            unsafe { SpinLock::init(config_lock) };
            // SAFETY: a field's place in the fresh allocation.
            let fixed = unsafe { &raw mut (*family).fixed };
            // SAFETY: writable; the zeroed value needs no drop.
            unsafe { fixed.write(UnsafeCell::new(None)) };
        }
        // SAFETY: as for `control_lock`.
        let control = unsafe { &raw mut (*engine).control };
        // SAFETY: the SyncCall's place, which stays put until `destroy`.
        unsafe { SyncCall::init(control) };
        // SAFETY: as for `control_lock`.
        let slots = unsafe { &raw mut (*engine).slots };
        // SAFETY: the pool's place, which stays put until `destroy`.
        unsafe { SlotPool::init(slots, SLOT_SIZE) };
        // SAFETY: initialised just above; no other user yet.
        let slots = unsafe { &*slots };
        // SAFETY: an empty pool nobody else uses.
        if !unsafe { slots.build(slot_count, engine) } {
            // SAFETY: the allocation above, not used again.
            unsafe { kernel::free(memory) };
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        // SAFETY: as for `control_lock`.
        let receivers = unsafe { &raw mut (*engine).receivers }.cast::<Receiver>();
        // SAFETY: `receivers` is an array of two Receivers.
        let second = unsafe { receivers.add(1) };
        // SAFETY: the first receiver's place: zeroed, in memory that stays put until `destroy`.
        if !unsafe { Receiver::init(receivers, Family::V4) } {
            // SAFETY: built above; nothing else uses the pool.
            unsafe { slots.destroy() };
            // SAFETY: the allocation above, not used again.
            unsafe { kernel::free(memory) };
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        // SAFETY: initialised just above; no other user yet.
        let first = unsafe { &*receivers };
        // SAFETY: the second receiver's place, as for the first.
        if !unsafe { Receiver::init(second, Family::V6) } {
            // SAFETY: built above; no buffer was ever posted.
            unsafe { first.destroy_buffers() };
            // SAFETY: built above; nothing else uses the pool.
            unsafe { slots.destroy() };
            // SAFETY: the allocation above, not used again.
            unsafe { kernel::free(memory) };
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        // SAFETY: initialised just above; no other user yet.
        let second = unsafe { &*second };
        let mut client = WSK_CLIENT_NPI {
            ClientContext: engine.cast(),
            Dispatch: &CLIENT_DISPATCH,
        };
        // SAFETY: as for `control_lock`.
        let registration = unsafe { &raw mut (*engine).registration };
        // SAFETY: the client NPI outlives the call; the registration stays put until
        // WskDeregister in `destroy`.
        let status = unsafe { WskRegister(&mut client, registration) };
        if status < 0 {
            for receiver in [first, second] {
                // SAFETY: built above; no buffer was ever posted.
                unsafe { receiver.destroy_buffers() };
            }
            // SAFETY: built above; nothing else uses the pool.
            unsafe { slots.destroy() };
            // SAFETY: the allocation above, not used again.
            unsafe { kernel::free(memory) };
            return Err(status);
        }
        // SAFETY: as for `control_lock`.
        let registered = unsafe { &raw mut (*engine).registered };
        // SAFETY: a bool field of the live engine, read only by `destroy`.
        unsafe { registered.write(true) };
        // Every field is initialised (the plain ones by the zeroed allocation): an Engine now.
        Ok(memory.cast())
    }

    /// A family's receive side.
    pub fn receiver(&self, family: Family) -> &Receiver {
        let [v4, v6] = &self.receivers;
        match family {
            Family::V4 => v4,
            Family::V6 => v6,
        }
    }

    /// Both families' receive counters.
    pub fn receive_stats(&self) -> wsk_sample_ioctl::ReceiveStats {
        let mut stats = wsk_sample_ioctl::ReceiveStats::default();
        for receiver in &self.receivers {
            receiver.add_stats(&mut stats);
        }
        stats
    }

    /// Starts or stops receiving on a family's socket (created and bound first if need be),
    /// at PASSIVE_LEVEL under the control lock. Stopping closes the socket (the only way to
    /// take back receives WSK holds: PFN_WSK_CLOSE_SOCKET cancels them); the next send or
    /// receive creates it again with the same bind address. Refused with STATUS_DEVICE_BUSY
    /// while the family has sends in flight.
    pub fn set_receive_mode(
        &self,
        family: Family,
        mode: wsk_sample_ioctl::ReceiveMode,
        delivery: wsk_sample_ioctl::Delivery,
    ) -> Result<(), Failure> {
        use wsk_sample_ioctl::ReceiveMode;
        if !self.rundown.acquire() {
            return Err(Failure::new(STATUS_DELETE_PENDING, FailureKind::NotReady));
        }
        let result = self.with_control_lock(|control| {
            let state = self.family(family);
            if !state.gate.try_quiesce() {
                return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources));
            }
            let receiver = self.receiver(family);
            let result = match mode {
                ReceiveMode::Off => {
                    self.stop_receiving(control, family);
                    Ok(())
                }
                _ => self.open_socket(control, family).and_then(|socket| {
                    receiver
                        .start(socket, mode, delivery)
                        .map_err(|status| Failure::new(status, FailureKind::NotReady))
                }),
            };
            state.gate.reopen();
            result
        });
        self.rundown.release();
        result
    }

    /// With the control lock held (`control` is its guard's state): stops the family's
    /// receiver and closes its socket (which cancels the receives still posted), then waits
    /// (bounded) for the buffers to come back. A close that could not be issued is parked
    /// like any other ([`Engine::close_socket`]); its buffers come back when it is.
    fn stop_receiving(&self, control: &mut ControlState, family: Family) {
        let receiver = self.receiver(family);
        if receiver.mode() == wsk_sample_ioctl::ReceiveMode::Off {
            return;
        }
        let state = self.family(family);
        let open = state.socket.load(Ordering::Acquire);
        if receiver.delivery() == wsk_sample_ioctl::Delivery::Events && !open.is_null() {
            // Disabled with an IRP, which completes once the callbacks in progress have
            // returned (receive/events.rs), so none keeps a list after `stop` released them.
            // SAFETY: the family's live, bound socket; the input is static.
            let _ = self.control.call(
                CallKind::Other,
                Wait::Bounded(control_timeout_ms()),
                SockAddrStorage::ZERO,
                |irp, _, arm| unsafe { wsk::disable_receive_from_event(open, irp, arm) },
            );
        }
        receiver.stop();
        let socket = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !socket.is_null() {
            state.publish_fixed(None);
            let _ = self.close_socket(control, socket, Wait::Bounded(control_timeout_ms()));
        }
        let _ = receiver.drained(control_timeout_ms());
    }

    fn family(&self, family: Family) -> &FamilyState {
        let [v4, v6] = &self.families;
        match family {
            Family::V4 => v4,
            Family::V6 => v6,
        }
    }

    /// Runs `f` with the control lock held (bounded wait) and its state.
    fn with_control_lock<R>(
        &self,
        f: impl FnOnce(&mut ControlState) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let mut control = self
            .control_lock
            .lock(control_timeout_ms())
            .ok_or(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources))?;
        f(&mut control)
    }

    /// The bound socket for `family`, created and bound on first use.
    fn socket_for(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let existing = self.family(family).socket.load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        self.with_control_lock(|control| self.open_socket(control, family))
    }

    /// Inside the family's call window: its socket, or STATUS_DEVICE_NOT_READY if it was closed
    /// since `socket_for` (a reconfiguration or the purge; a close waits out the window, so
    /// the socket loaded here stays open until the window is left).
    fn current_socket(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let socket = self.family(family).socket.load(Ordering::Acquire);
        if socket.is_null() {
            return Err(Failure::new(STATUS_DEVICE_NOT_READY, FailureKind::NotReady));
        }
        Ok(socket)
    }

    /// With the control lock held: the family's socket, created, bound (to the configured
    /// address or the wildcard) and named if it does not exist yet.
    fn open_socket(
        &self,
        control: &mut ControlState,
        family: Family,
    ) -> Result<*mut WSK_SOCKET, Failure> {
        let state = self.family(family);
        let existing = state.socket.load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        self.capture_provider(control)?;
        // Sockets that an earlier, abandoned WskSocket delivered late are closed before
        // another is created, so the SyncCall always has room for the next late one (see
        // `SyncCall`'s `orphans`). Each is closed once; a close that cannot be issued parks it.
        while let Some(orphan) = self.control.take_orphan() {
            self.close_socket(control, orphan, Wait::Bounded(control_timeout_ms()));
        }
        let not_ready = |status| Failure::new(status, FailureKind::NotReady);
        let provider = &control.provider;
        // SAFETY: the NPI is captured; the IRP comes from SyncCall with its routine set.
        let created = self.control.call(
            CallKind::CreatesSocket,
            Wait::Bounded(control_timeout_ms()),
            SockAddrStorage::ZERO,
            |irp, _, arm| unsafe {
                let events = (
                    crate::receive::events::context(self.receiver(family)),
                    &raw const crate::receive::events::DISPATCH,
                );
                wsk::create_datagram_socket(provider, family, events, irp, arm)
            },
        );
        let socket = created
            .map_err(|failed| {
                trace!(
                    Error,
                    "{family}: WskSocket failed with {}",
                    Status(failed.status())
                );
                not_ready(failed.status())
            })?
            .information as *mut WSK_SOCKET;
        if socket.is_null() {
            return Err(not_ready(STATUS_DEVICE_NOT_READY));
        }
        let bind_address = control.bind(family).map_or_else(
            || SockAddrStorage::wildcard(family),
            SockAddrStorage::from_socket_addr,
        );
        // SAFETY: a live socket; the address lives in the SyncCall until the IRP completes.
        let bound = self.control.call(
            CallKind::Other,
            Wait::Bounded(control_timeout_ms()),
            bind_address,
            |irp, address, arm| unsafe { wsk::bind(socket, address, irp, arm) },
        );
        if let Err(failed) = bound {
            trace!(
                Error,
                "{family}: WskBind failed with {}",
                Status(failed.status())
            );
            self.close_socket(control, socket, Wait::Bounded(control_timeout_ms()));
            return Err(not_ready(failed.status()));
        }
        // SAFETY: a live, bound socket; the output lives in the SyncCall until completion.
        let named = self.control.call(
            CallKind::Other,
            Wait::Bounded(control_timeout_ms()),
            SockAddrStorage::ZERO,
            |irp, address, arm| unsafe { wsk::get_local_address(socket, address, irp, arm) },
        );
        let local = named.map_or(SockAddrStorage::ZERO, |done| done.address);
        state.publish_local(local);
        match local.to_socket_addr() {
            Some(address) => trace!(
                Info,
                "{family}: datagram socket created, bound to {address}"
            ),
            None => trace!(Info, "{family}: datagram socket created and bound"),
        }
        // A new socket has no fixed destination.
        state.publish_fixed(None);
        state.socket.store(socket, Ordering::Release);
        Ok(socket)
    }

    /// With the control lock held.
    fn capture_provider(&self, control: &mut ControlState) -> Result<(), Failure> {
        if self.captured.load(Ordering::Acquire) {
            return Ok(());
        }
        let registration = (&raw const self.registration).cast_mut();
        // SAFETY: registered in `create`; the NPI is ours under the control lock. The wait is
        // bounded and happens at PASSIVE_LEVEL (EvtIoDeviceControl runs there).
        let status =
            unsafe { WskCaptureProviderNPI(registration, CAPTURE_WAIT_MS, &mut control.provider) };
        if status < 0 {
            trace!(
                Warning,
                "WSK provider not ready: WskCaptureProviderNPI returned {}",
                Status(status)
            );
            return Err(Failure::new(STATUS_DEVICE_NOT_READY, FailureKind::NotReady));
        }
        // The driver needs WSK 1.0; a provider with a higher minor version offers a superset,
        // a different major version is not ours to use (Learn, WSK_PROVIDER_DISPATCH Version).
        // SAFETY: just captured; the dispatch table stays valid until released.
        let version = unsafe { (*control.provider.Dispatch).Version };
        if version >> 8 != MAKE_WSK_VERSION(1, 0) >> 8 {
            // SAFETY: captured just above; released once.
            unsafe { WskReleaseProviderNPI(registration) };
            return Err(Failure::new(STATUS_DEVICE_NOT_READY, FailureKind::NotReady));
        }
        trace!(Info, "WSK ready: provider NPI captured");
        self.captured.store(true, Ordering::Release);
        Ok(())
    }

    /// Closes a socket, once: after WskCloseSocket no call on the socket is allowed whatever
    /// the close returned (Learn, PFN_WSK_CLOSE_SOCKET), so a close that reached WSK is never
    /// repeated. A close that could not be issued (no IRP, or an abandoned call still
    /// outstanding) did nothing: it is tried again after a pause, and if it still cannot be
    /// issued the socket is parked for a later close (the purge and unload close every parked
    /// socket); with every parking place taken, the close waits for the abandoned call instead.
    /// True if the close was issued and completed within `wait`.
    fn close_socket(
        &self,
        control: &mut ControlState,
        socket: *mut WSK_SOCKET,
        wait: Wait,
    ) -> bool {
        self.close_parked(control, wait);
        let mut attempts = 0;
        let mut wait = wait;
        loop {
            // SAFETY: a live socket no other call is executing on (callers hold the control
            // lock and have stopped sends on it); after this call it is not used again.
            let closed = self.control.call(
                CallKind::Other,
                wait,
                SockAddrStorage::ZERO,
                |irp, _, arm| unsafe { wsk::close(socket, irp, arm) },
            );
            match closed {
                Ok(_) | Err(Failed::Completed(_)) => return true,
                Err(Failed::TimedOut) => return false,
                Err(Failed::NotIssued(_)) => {}
            }
            attempts += 1;
            if wait == Wait::UntilDone || attempts < CLOSE_ISSUE_ATTEMPTS {
                kernel::delay(CLOSE_ISSUE_PAUSE_MS);
                continue;
            }
            if let Some(place) = control.parked.iter_mut().find(|p| p.is_null()) {
                *place = socket;
                return false;
            }
            // Nowhere to park it and the socket must not be lost: wait for the abandoned call
            // to complete (WSK completes every IRP), then issue the close and wait for it,
            // instead of retrying in a loop with the control lock held.
            wait = Wait::UntilDone;
        }
    }

    /// With the control lock held: closes the sockets parked by [`Engine::close_socket`].
    fn close_parked(&self, control: &mut ControlState, wait: Wait) {
        for place in &mut control.parked {
            let socket = core::mem::replace(place, core::ptr::null_mut());
            if socket.is_null() {
                continue;
            }
            // SAFETY: a parked socket: live, never closed, and no call runs on it.
            let closed = self.control.call(
                CallKind::Other,
                wait,
                SockAddrStorage::ZERO,
                |irp, _, arm| unsafe { wsk::close(socket, irp, arm) },
            );
            if let Err(Failed::NotIssued(_)) = closed {
                *place = socket;
            }
        }
    }

    /// With the control lock held (`_held`): one SIO_WSK_SET_REMOTE_ADDRESS /
    /// SIO_WSK_SET_SENDTO_ADDRESS call, setting `address` or clearing (None).
    fn set_fixed(
        &self,
        _held: &mut ControlState,
        socket: *mut WSK_SOCKET,
        code: u32,
        address: Option<SocketAddr>,
    ) -> Result<Done, Failure> {
        let (input, size) = match address {
            Some(address) => {
                let input = SockAddrStorage::from_socket_addr(address);
                (input, input.len())
            }
            None => (SockAddrStorage::ZERO, 0),
        };
        // SAFETY: a live, bound socket; the input lives in the SyncCall until completion, and
        // an empty input clears the address.
        self.control
            .call(
                CallKind::Other,
                Wait::Bounded(control_timeout_ms()),
                input,
                |irp, buffer, arm| unsafe {
                    let buffer = if size == 0 {
                        core::ptr::null_mut()
                    } else {
                        buffer
                    };
                    wsk::control_ioctl(socket, code, buffer, size, irp, arm)
                },
            )
            .map_err(|failed| Failure::new(failed.status(), FailureKind::Transport))
    }

    /// Applies a configure request at PASSIVE_LEVEL. Refused with STATUS_DEVICE_BUSY while the
    /// family has sends in flight (sends racing a reconfiguration may see the same status).
    pub fn configure(&self, action: ConfigAction) -> Result<(), Failure> {
        if !self.rundown.acquire() {
            return Err(Failure::new(STATUS_DELETE_PENDING, FailureKind::NotReady));
        }
        let result = self.with_control_lock(|control| {
            // A socket action needs its family quiet; resizing the pool needs both.
            let families: &[Family] = match action.family().map(Family::from) {
                Some(Family::V4) => &[Family::V4],
                Some(Family::V6) => &[Family::V6],
                None => &[Family::V4, Family::V6],
            };
            let closed = families
                .iter()
                .take_while(|&&f| self.family(f).gate.try_quiesce())
                .count();
            let result = match (closed == families.len(), action, families.first()) {
                (false, _, _) => Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources)),
                (true, ConfigAction::PoolSlots(count), _) => self.resize_pool(count),
                (true, _, Some(&family)) => self.apply(control, family, action),
                (true, _, None) => Ok(()),
            };
            for &family in families.iter().take(closed) {
                self.family(family).gate.reopen();
            }
            result
        });
        self.rundown.release();
        match &result {
            Ok(()) => trace!(Trace, "configured: {action:?}"),
            Err(failure) => trace!(
                Warning,
                "configuring {action:?} failed with {}",
                Status(failure.status)
            ),
        }
        result
    }

    /// With the control lock held and every gate closed: replaces the pool with one of `count`
    /// slots, built before the old one is freed, so a failure keeps the old pool whole.
    fn resize_pool(&self, count: u32) -> Result<(), Failure> {
        let engine: *const Engine = self;
        // SAFETY: every gate is closed and no send is in flight, so no slot
        // is in use and no other thread takes or returns one while the pool is rebuilt.
        if unsafe { self.slots.rebuild(count, engine) } {
            return Ok(());
        }
        Err(Failure::new(
            STATUS_INSUFFICIENT_RESOURCES,
            FailureKind::NoResources,
        ))
    }

    /// With the control lock held and the family's gate closed (no send in flight on it).
    fn apply(
        &self,
        control: &mut ControlState,
        family: Family,
        action: ConfigAction,
    ) -> Result<(), Failure> {
        let state = self.family(family);
        let not_ready = |status| Failure::new(status, FailureKind::NotReady);
        match action {
            ConfigAction::Bind(local) => {
                let previous = control.bind(family).replace(local);
                // Receives posted on the old socket go with it; receiving stops.
                self.receiver(family).stop();
                let old = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
                if !old.is_null() {
                    state.publish_fixed(None);
                    if !self.close_socket(control, old, Wait::Bounded(control_timeout_ms())) {
                        // The Bind failed: the next socket binds where it did before.
                        *control.bind(family) = previous;
                        return Err(not_ready(STATUS_DEVICE_BUSY));
                    }
                }
                // A failed bind leaves the previous configuration.
                let opened = self.open_socket(control, family).map(|_| ());
                if opened.is_err() {
                    *control.bind(family) = previous;
                }
                opened
            }
            ConfigAction::FixedRemote(address) | ConfigAction::FixedSendTo(address) => {
                let socket = self.open_socket(control, family)?;
                let (code, other, fixed) = match action {
                    ConfigAction::FixedRemote(_) => (
                        SIO_WSK_SET_REMOTE_ADDRESS,
                        SIO_WSK_SET_SENDTO_ADDRESS,
                        FixedDestination::Remote(address),
                    ),
                    _ => (
                        SIO_WSK_SET_SENDTO_ADDRESS,
                        SIO_WSK_SET_REMOTE_ADDRESS,
                        FixedDestination::SendTo(address),
                    ),
                };
                let current = state.fixed();
                // The remote and the send-to address are two settings of the socket (Learn,
                // SIO_WSK_SET_REMOTE_ADDRESS also filters what is received): switching kinds
                // clears the other one first, so only one is ever set.
                let switching = matches!(
                    (current, fixed),
                    (
                        Some(FixedDestination::Remote(_)),
                        FixedDestination::SendTo(_)
                    ) | (
                        Some(FixedDestination::SendTo(_)),
                        FixedDestination::Remote(_)
                    )
                );
                if switching {
                    self.set_fixed(control, socket, other, None)?;
                    state.publish_fixed(None);
                }
                self.set_fixed(control, socket, code, Some(address))?;
                state.publish_fixed(Some(fixed));
                Ok(())
            }
            ConfigAction::PoolSlots(_) => Ok(()),
            ConfigAction::ClearFixed(_) => {
                let socket = state.socket.load(Ordering::Acquire);
                if socket.is_null() {
                    return Ok(());
                }
                // Both settings, whatever the driver believes is set; the one it believes set
                // goes last, so a failure leaves that belief true.
                let order = match state.fixed() {
                    Some(FixedDestination::SendTo(_)) => {
                        [SIO_WSK_SET_REMOTE_ADDRESS, SIO_WSK_SET_SENDTO_ADDRESS]
                    }
                    _ => [SIO_WSK_SET_SENDTO_ADDRESS, SIO_WSK_SET_REMOTE_ADDRESS],
                };
                for code in order {
                    self.set_fixed(control, socket, code, None)?;
                }
                state.publish_fixed(None);
                Ok(())
            }
        }
    }

    /// Sends one datagram for `request`, whose reply goes to `reply` (at least
    /// SEND_REPLY_SIZE bytes of the request's output buffer). On success the request is
    /// completed later, by the completion routine.
    pub fn send(
        &self,
        request: &mut Option<Request>,
        reply: *mut u8,
        destination: Destination,
        payload: &[u8],
    ) -> Result<(), Failure> {
        let family = Family::from(destination.family());
        self.start_with_rights(family, || {
            self.start_send(request, reply, family, destination, payload)
        })
    }

    fn start_send(
        &self,
        request: &mut Option<Request>,
        reply: *mut u8,
        family: Family,
        destination: Destination,
        payload: &[u8],
    ) -> Result<(), Failure> {
        let socket = self.current_socket(family)?;
        let explicit = self.explicit_destination(family, destination)?;
        let no_resources = Failure::new(STATUS_INSUFFICIENT_RESOURCES, FailureKind::NoResources);
        let lease = self.slots.take(SLOT_WAIT_MS).ok_or(no_resources)?;
        let slot_ptr = lease.as_ptr();
        // SAFETY: the lease makes the slot ours alone until its completion routine recovers
        // it, and nothing else refers to it. This reference is not used once WSK has the IRP.
        let s = unsafe { &mut *slot_ptr };
        let length = payload.len().min(self.slots.slot_size() as usize);
        // SAFETY: the slot's buffer holds SLOT_SIZE bytes (at least `length`, the decoder bounds
        // payloads to 65,527) and does not overlap the request's buffer.
        unsafe { core::ptr::copy_nonoverlapping(payload.as_ptr(), s.buffer.as_ptr(), length) };
        s.wsk_buf.Length = length as u64;
        s.family = family;
        s.request = request.take();
        s.reply = reply;
        s.sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let remote = match explicit {
            Some(address) => {
                s.remote.set(address);
                s.remote.as_mut_ptr()
            }
            None => core::ptr::null_mut(),
        };
        let wsk_buf = &raw mut s.wsk_buf;
        let irp = s.irp;
        // SAFETY: the slot's IRP, from allocate_irp and kept until the pool is destroyed; no
        // provider owns it: never submitted, or its completion routine ran before the slot came
        // back to the pool.
        unsafe { irp::reuse(irp) };
        // SAFETY: the slot's IRP from IoAllocateIrp(1), just reinitialised: it has a free stack
        // location.
        unsafe { irp::set_completion_routine(irp, send_complete, slot_ptr.cast()) };
        // Once WSK has the IRP, the slot and its IRP belong to the provider and the completion
        // routine (which may already have run when this returns): the lease becomes the
        // completion's context and neither is touched here again. A call that never reached
        // WSK leaves both ours: the lease is recovered, the request goes back to the caller and
        // the slot to the pool.
        let context = lease.into_raw();
        // SAFETY: a live socket; the WSK_BUF and address live in the slot until completion; the
        // IRP has its completion routine.
        let issued = unsafe { wsk::send_to(socket, wsk_buf, remote, irp) };
        if let wsk::Issued::NotSubmitted(status) = issued {
            // SAFETY: WSK never received the IRP, so no completion routine runs: this is the
            // one recovery of the lease given up above.
            let lease = unsafe { SlotLease::from_raw(&self.slots, context) };
            // SAFETY: the recovered lease makes the slot ours alone again.
            *request = unsafe { (*lease.as_ptr()).request.take() };
            lease.give_back();
            return Err(Failure::new(status, FailureKind::NotReady));
        }
        Ok(())
    }

    /// Sends a batch for `request` (reply: at least BATCH_REPLY_SIZE bytes of its output
    /// buffer): one slot carries every datagram, described by the slot's list nodes over its
    /// one MDL, and goes out with one WskSendMessages and one IRP. A provider without
    /// WskSendMessages gets one WskSendTo per datagram instead.
    pub fn send_batch(
        &self,
        request: &mut Option<Request>,
        reply: *mut u8,
        batch: &BatchRequest<'_>,
    ) -> Result<(), Failure> {
        let family = Family::from(batch.destination.family());
        self.start_with_rights(family, || self.start_batch(request, reply, family, batch))
    }

    /// Starts a send under the three protections a send holds: the driver's rundown (unload
    /// waits for it), the family's gate (reconfiguration waits for it) and, while the WSK
    /// call runs, the family's call window (a close waits for it). On success the completion
    /// routine releases the rundown and the gate; on failure they are released here.
    fn start_with_rights(
        &self,
        family: Family,
        start: impl FnOnce() -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        if !self.rundown.acquire() {
            return Err(Failure::new(STATUS_DELETE_PENDING, FailureKind::NotReady));
        }
        let gate = &self.family(family).gate;
        if !gate.acquire() {
            self.rundown.release();
            return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources));
        }
        // The socket is created (under the control lock) before the call window is entered,
        // never inside it: EvtIoStop's purge holds the control lock while it waits for the
        // window, so a sender inside the window waiting for the lock would deadlock with it.
        // Inside the window the send re-loads the socket (`current_socket`).
        let result = self
            .socket_for(family)
            .and_then(|_| self.within_call_window(family, start));
        if result.is_err() {
            gate.release();
            self.rundown.release();
        }
        result
    }

    fn start_batch(
        &self,
        request: &mut Option<Request>,
        reply: *mut u8,
        family: Family,
        batch: &BatchRequest<'_>,
    ) -> Result<(), Failure> {
        let socket = self.current_socket(family)?;
        // WskSendMessages always gets an explicit address (see `wsk::send_messages`): the
        // fixed destination's, when the batch goes there.
        let explicit = match self.explicit_destination(family, batch.destination)? {
            Some(address) => address,
            None => self
                .fixed_destination(family)
                .map(|fixed| match fixed {
                    FixedDestination::Remote(a) | FixedDestination::SendTo(a) => a,
                })
                .ok_or(Failure::new(
                    STATUS_INVALID_ADDRESS,
                    FailureKind::Validation,
                ))?,
        };
        let no_resources = Failure::new(STATUS_INSUFFICIENT_RESOURCES, FailureKind::NoResources);
        let count = batch.count();
        if batch.total_length() > self.slots.slot_size() as usize
            || count > wsk_sample_ioctl::MAX_BATCH_DATAGRAMS
        {
            return Err(Failure::new(
                STATUS_INVALID_BUFFER_SIZE,
                FailureKind::Validation,
            ));
        }
        // SAFETY: a live socket.
        let batched = unsafe { wsk::has_send_messages(socket) };
        let wanted = if batched { 1 } else { count };
        let mut lease = self.slots.take(SLOT_WAIT_MS).ok_or(no_resources)?;
        // One WskSendMessages goes out on the slot's IRP; the WskSendTo fallback needs one IRP
        // per datagram, which the slot keeps once allocated (see `SlotLease::part_irps`).
        let part_irps = if batched {
            None
        } else {
            Some(lease.part_irps(count).ok_or(no_resources)?)
        };
        let slot_ptr = lease.as_ptr();
        // SAFETY: the lease makes the slot ours alone until the last completion recovers it,
        // and nothing else refers to it. This reference is not used once WSK has an IRP.
        let s = unsafe { &mut *slot_ptr };
        let payloads = batch.payloads();
        // SAFETY: the payloads fit the slot's buffer (checked above); the buffers are distinct.
        unsafe {
            core::ptr::copy_nonoverlapping(payloads.as_ptr(), s.buffer.as_ptr(), payloads.len())
        };
        let nodes = s.nodes.as_ptr();
        let mdl = s.mdl();
        let mut offset = 0u32;
        for (index, length) in batch.lengths().enumerate() {
            let next = if index + 1 < count {
                // SAFETY: index + 1 < count <= MAX_BATCH_DATAGRAMS, the nodes array's length.
                unsafe { nodes.add(index + 1) }
            } else {
                core::ptr::null_mut()
            };
            // SAFETY: index < count <= MAX_BATCH_DATAGRAMS.
            let node = unsafe { nodes.add(index) };
            let value = WSK_BUF_LIST {
                Next: next,
                Buffer: WSK_BUF {
                    Mdl: mdl,
                    Offset: offset,
                    Length: length as u64,
                },
            };
            // SAFETY: a node of the slot's array, ours alone; plain data, nothing dropped.
            unsafe { node.write(value) };
            offset += length as u32;
        }
        s.family = family;
        s.request = request.take();
        s.reply = reply;
        s.batch_count = count as u32;
        s.sequence = self.sequence.fetch_add(count as u64, Ordering::Relaxed) + 1;
        s.parts_pending.store(wanted as u32, Ordering::Relaxed);
        s.parts_sent.store(0, Ordering::Relaxed);
        s.parts_bytes.store(0, Ordering::Relaxed);
        s.first_error.store(0, Ordering::Relaxed);
        s.remote.set(explicit);
        let remote = s.remote.as_mut_ptr();
        // Every IRP used is the slot's and the driver's (never submitted, or completed before
        // the slot came back): reinitialised, then given its completion routine. Once WSK has
        // an IRP, the slot and its IRPs belong to the provider and the completion routines: the
        // lease becomes their context and nothing here touches the slot again. A call that
        // never reached WSK leaves its IRP ours and counts as a part that failed.
        match part_irps {
            None => {
                let irp = s.irp;
                // SAFETY: the slot's IRP, from allocate_irp; no provider owns it (never
                // submitted, or completed before the slot came back to the pool).
                unsafe { irp::reuse(irp) };
                // SAFETY: the slot's IRP from IoAllocateIrp(1), just reinitialised: it has a
                // free stack location.
                unsafe { irp::set_completion_routine(irp, batch_complete, slot_ptr.cast()) };
                let context = lease.into_raw();
                // SAFETY: a live socket; the list, buffer and address live in the slot until
                // the completion; the IRP has its completion routine.
                let issued = unsafe { wsk::send_messages(socket, nodes, remote, irp) };
                if let wsk::Issued::NotSubmitted(status) = issued {
                    // SAFETY: WSK never received the IRP, so no completion routine runs: this
                    // is the one recovery of the lease given up above.
                    let lease = unsafe { SlotLease::from_raw(&self.slots, context) };
                    // SAFETY: the recovered lease makes the slot ours alone again.
                    *request = unsafe { (*lease.as_ptr()).request.take() };
                    lease.give_back();
                    return Err(Failure::new(status, FailureKind::NotReady));
                }
            }
            Some(irps) => {
                for index in 0..count {
                    // SAFETY: index < count: `part_irps` returned `count` IRPs.
                    let entry = unsafe { irps.as_ptr().add(index) };
                    // SAFETY: an entry of the slot's array, set by `part_irps`.
                    let irp = unsafe { *entry };
                    // SAFETY: the slot's part IRP, from allocate_irp; no provider owns it.
                    unsafe { irp::reuse(irp) };
                    // SAFETY: from IoAllocateIrp(1), just reinitialised: a free stack location.
                    unsafe {
                        irp::set_completion_routine(irp, batch_part_complete, slot_ptr.cast())
                    };
                }
                let slot = lease.into_raw();
                for index in 0..count {
                    // The slot stays taken while a part is unaccounted for, so its IRP array is
                    // still there.
                    // SAFETY: index < count: `part_irps` returned `count` IRPs.
                    let entry = unsafe { irps.as_ptr().add(index) };
                    // SAFETY: an entry of the slot's array, unchanged while the slot is taken.
                    let irp = unsafe { *entry };
                    // SAFETY: index < count <= MAX_BATCH_DATAGRAMS: a node written above.
                    let node = unsafe { nodes.add(index) };
                    // SAFETY: a place, no reference (other parts' completion routines may be
                    // reading the slot).
                    let buffer = unsafe { &raw mut (*node).Buffer };
                    // SAFETY: a live socket; the node and address live in the slot until the
                    // last part completes; the IRP has its completion routine.
                    let issued = unsafe { wsk::send_to(socket, buffer, remote, irp) };
                    if let wsk::Issued::NotSubmitted(status) = issued {
                        // The part's completion will never come: account for it here (this
                        // may be the part that finishes the batch).
                        // SAFETY: this part's share of the slot is ours; parts_pending counts
                        // it.
                        unsafe { batch_part_done(slot, status, 0) };
                    }
                }
            }
        }
        Ok(())
    }

    /// The address to pass WSK: the explicit one, or NULL when the socket has a fixed
    /// destination (refused before any WSK call when it has none).
    fn explicit_destination(
        &self,
        family: Family,
        destination: Destination,
    ) -> Result<Option<SocketAddr>, Failure> {
        match destination {
            Destination::Address(address) => Ok(Some(address)),
            Destination::Fixed(_) if self.family(family).fixed_set.load(Ordering::Acquire) => {
                Ok(None)
            }
            Destination::Fixed(_) => Err(Failure::new(
                STATUS_INVALID_ADDRESS,
                FailureKind::Validation,
            )),
        }
    }

    /// Runs a send's WSK call(s) inside the family's call window, which a close waits out.
    fn within_call_window(
        &self,
        family: Family,
        send: impl FnOnce() -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let calls = &self.family(family).calls;
        if !calls.acquire() {
            return Err(Failure::new(STATUS_DELETE_PENDING, FailureKind::NotReady));
        }
        let result = send();
        calls.release();
        result
    }

    /// The device is going away (EvtIoStop with a purge): refuse new work, let executing WSK
    /// calls return (bounded), and close the sockets, which cancels every send still pending
    /// so that its completion routine completes its request. A provider that never completes
    /// even the close leaves those requests pending, and KMDF's removal waits on them.
    ///
    /// Nothing here gives up: it runs at PASSIVE_LEVEL (EvtIoStop of a passive-level queue) and
    /// every wait ends. The control lock's holders wait only boundedly; a call window is held
    /// only across one WSK send call (never while waiting for the control lock, see
    /// `start_with_rights`); and each close waits out an abandoned control call first (WSK
    /// completes every IRP) instead of parking the socket, because parked sockets are closed
    /// only in device cleanup, which runs after this purge, which waits for the very sends
    /// that only the close cancels.
    pub fn cancel_in_flight(&self) {
        self.rundown.close();
        let mut control = self.control_lock_until_free();
        for receiver in &self.receivers {
            receiver.stop();
        }
        for state in &self.families {
            while !state.calls.wait(control_timeout_ms()) {}
            let socket = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
            if !socket.is_null() {
                state.publish_fixed(None);
                self.close_socket(&mut control, socket, Wait::UntilDone);
            }
        }
    }

    /// The control lock, however long its holder keeps it (each holder's waits are bounded).
    /// At PASSIVE_LEVEL, for the purge and device cleanup only.
    fn control_lock_until_free(&self) -> crate::kernel::ControlGuard<'_, ControlState> {
        loop {
            if let Some(guard) = self.control_lock.lock(control_timeout_ms()) {
                break guard;
            }
        }
    }

    pub fn count_request(&self) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_failure(&self, kind: FailureKind) {
        let counter = match kind {
            FailureKind::Validation => &self.stats.failed_validation,
            FailureKind::NoResources => &self.stats.failed_no_resources,
            FailureKind::NotReady => &self.stats.failed_not_ready,
            FailureKind::Transport => &self.stats.failed_transport,
            FailureKind::Cancelled => &self.stats.failed_cancelled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn local_address(&self, family: Family) -> Option<SocketAddr> {
        let state = self.family(family);
        if state.socket.load(Ordering::Acquire).is_null() {
            return None;
        }
        state.local().to_socket_addr()
    }

    fn fixed_destination(&self, family: Family) -> Option<FixedDestination> {
        self.family(family).fixed()
    }

    pub fn stats(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            requests: get(&self.stats.requests),
            datagrams_sent: get(&self.stats.datagrams_sent),
            bytes_sent: get(&self.stats.bytes_sent),
            in_flight: self.families.iter().map(|f| f.gate.in_flight()).sum(),
            failed_validation: get(&self.stats.failed_validation),
            failed_no_resources: get(&self.stats.failed_no_resources),
            failed_not_ready: get(&self.stats.failed_not_ready),
            failed_transport: get(&self.stats.failed_transport),
            failed_cancelled: get(&self.stats.failed_cancelled),
            pool_slots: self.slots.slot_count(),
            pool_free: self.slots.free_slots(),
            slot_size: self.slots.slot_size(),
            local_v4: self.local_address(Family::V4),
            local_v6: self.local_address(Family::V6),
            fixed_v4: self.fixed_destination(Family::V4),
            fixed_v6: self.fixed_destination(Family::V6),
            batches: get(&self.batches),
        }
    }

    /// The device was created: every control call's completion routine will hold a reference
    /// on its WDM device object (`WdfDeviceWdmGetDeviceObject`) until it has returned (see
    /// [`SyncCall`]'s `Arm`). Called in EvtDriverDeviceAdd before the queue exists.
    pub fn attach_device(&self, device: PDEVICE_OBJECT) {
        self.control.attach_device(device);
    }

    /// The device's cleanup (its EvtCleanupCallback, at PASSIVE_LEVEL), in the order WSK
    /// needs: refuse new work, wait (bounded) for sends in flight, close the sockets
    /// (cancelling what is left) and wait for the closes, wait for every send to come back.
    /// Everything that can complete is issued and completed here, while the device's WDM device
    /// object exists, so each control call's routine holds a reference on it; then the device
    /// is detached. [`Engine::destroy`] (EvtDriverUnload) only releases the provider and
    /// deregisters, which complete no IRP. Runs once; a second call (destroy after a device
    /// cleanup) returns at once.
    ///
    /// The waits for the closes and the cancelled sends are not bounded: WSK always completes
    /// WskCloseSocket and completes every IRP still pending on the socket as cancelled (Learn,
    /// PFN_WSK_CLOSE_SOCKET), and WskDeregister itself waits for the same (Learn,
    /// WskDeregister). Returning earlier would leave sockets open at unload.
    pub fn shutdown(&self) {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = self.rundown.wait(DRAIN_TIMEOUT_MS);
        // No request can hold the control lock any more (the queue is purged), but a bounded
        // wait is no promise: wait until it is free.
        let mut control = self.control_lock_until_free();
        // A call abandoned after a timeout completes first: it may still deliver an orphan.
        self.control.settle();
        // Receiving stops before the closes: waiting requests are cancelled and no re-post
        // overlaps a close (the receivers' posting windows).
        for receiver in &self.receivers {
            receiver.stop();
        }
        for state in &self.families {
            // A close must not overlap a WSK call still executing on the socket. The purge
            // waited for the window already, but cleanup does not rely on it having run.
            while !state.calls.wait(control_timeout_ms()) {}
            let socket = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
            state.publish_fixed(None);
            if !socket.is_null() {
                self.close_socket(&mut control, socket, Wait::UntilDone);
            }
        }
        while let Some(orphan) = self.control.take_orphan() {
            self.close_socket(&mut control, orphan, Wait::UntilDone);
        }
        // With UntilDone every parked close is issued (the pool recovers, or unload waits).
        while control.parked.iter().any(|p| !p.is_null()) {
            self.close_parked(&mut control, Wait::UntilDone);
            kernel::delay(CLOSE_ISSUE_PAUSE_MS);
        }
        // Every call completed (UntilDone); none may reference the device from here.
        self.control.detach_device();
        drop(control);
        // Closing cancelled whatever was still in flight; those completions release the gates
        // and the rundown and give the slots back.
        while !self.rundown.wait(control_timeout_ms()) {}
        for state in &self.families {
            while !state.gate.wait(control_timeout_ms()) {}
        }
        // The closes cancelled every posted receive (and echo send); their completions give
        // the buffers back. Not bounded, for the reason above.
        for receiver in &self.receivers {
            while !receiver.drained(control_timeout_ms()) {}
        }
    }

    /// Unload (EvtDriverUnload): [`Engine::shutdown`] if no device cleanup did it (no device
    /// was ever added, so no socket exists), then release the provider, deregister, free.
    ///
    /// Completion routines may still hold `&Engine` until their rundown release, so this
    /// never makes `&mut Engine`: it works through `&Engine`, and touches the memory through
    /// the raw pointer only once the rundown has shown that no holder is left (a holder's
    /// last access to the engine is its release, see src/rundown.rs).
    ///
    /// # Safety
    /// Called once, at PASSIVE_LEVEL, after the device is gone; `engine` is not used after.
    pub unsafe fn destroy(engine: NonNull<Engine>) {
        // SAFETY: the caller's guarantee: the engine is live until freed below.
        let this = unsafe { engine.as_ref() };
        this.shutdown();
        let captured = this.captured.swap(false, Ordering::AcqRel);
        let registered = this.registered;
        // From here only the raw pointer: WSK may write the registration, and no holder is
        // left (drained and quiet above), so nothing else refers to the engine.
        let engine_ptr = engine.as_ptr();
        // SAFETY: the engine is live; a place expression, no reference is made.
        let registration = unsafe { &raw mut (*engine_ptr).registration };
        if captured {
            // SAFETY: captured once in `capture_provider`; released once here.
            unsafe { WskReleaseProviderNPI(registration) };
        }
        if registered {
            // SAFETY: every socket is closed and the capture released, so this returns.
            unsafe { WskDeregister(registration) };
        }
        // SAFETY: the engine is live and no holder is left: a shared reference to its pool
        // (SlotPool's state is atomics and cells) aliases nothing mutable.
        let slots = unsafe { &(*engine_ptr).slots };
        // SAFETY: no send is in flight and no slot is in use.
        unsafe { slots.destroy() };
        // SAFETY: as for `slots`: a Receiver's shared state is atomics, kernel objects and a
        // cell touched only under its lock.
        let receivers = unsafe { &(*engine_ptr).receivers };
        for receiver in receivers {
            // SAFETY: every buffer is idle (drained in `shutdown`) and nothing refers to one.
            unsafe { receiver.destroy_buffers() };
        }
        // SAFETY: allocated in `create`; nothing refers to it any more.
        unsafe { kernel::free(engine) };
    }
}

/// Recovers the lease of the slot a completion routine's context names.
///
/// # Safety
/// `slot` is the context a send gave WSK with its IRP (`SlotLease::into_raw`), and this is the
/// send's one recovery of it.
unsafe fn recover<'a>(slot: NonNull<Slot>) -> (&'a Engine, SlotLease<'a>) {
    // SAFETY: the caller's guarantee: the slot is taken and this send's alone.
    let engine = unsafe { (*slot.as_ptr()).engine };
    // SAFETY: the engine outlives every send (each holds its rundown until it finishes).
    let engine = unsafe { &*engine };
    // SAFETY: the caller's guarantee.
    (engine, unsafe { SlotLease::from_raw(&engine.slots, slot) })
}

/// Completion of a send: records the outcome, gives the slot back (with its IRP, which the
/// next send reinitialises), completes the user's request with the real status and bytes
/// sent, and keeps the IRP (STATUS_MORE_PROCESSING_REQUIRED). Runs at DISPATCH_LEVEL; never
/// calls WSK.
unsafe extern "C" fn send_complete(_device: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: the context is the slot that carried this send, given up with `into_raw` in
    // `start_send`; this completion is its one recovery.
    let (engine, lease) = unsafe { recover(slot) };
    // SAFETY: the lease makes the slot ours alone until it is given back below; nothing else
    // refers to it meanwhile.
    let s = unsafe { &mut *lease.as_ptr() };
    let (family, request, reply, sequence) = (s.family, s.request.take(), s.reply, s.sequence);
    // SAFETY: the provider hands the slot's IRP back here.
    let (status, information) = unsafe { result_of(irp) };
    let mut reply_length = 0;
    if status >= 0 {
        let bytes_sent = u32::try_from(information).unwrap_or(u32::MAX);
        // SAFETY: `reply` is the request's output buffer, retrieved with at least
        // SEND_REPLY_SIZE bytes and valid until the request completes below.
        let out = unsafe { &mut *reply.cast::<[u8; SEND_REPLY_SIZE]>() };
        SendReply {
            bytes_sent,
            sequence,
        }
        .encode(out);
        reply_length = SEND_REPLY_SIZE as u64;
        engine.stats.datagrams_sent.fetch_add(1, Ordering::Relaxed);
        engine
            .stats
            .bytes_sent
            .fetch_add(information, Ordering::Relaxed);
    } else if status == STATUS_CANCELLED {
        engine.count_failure(FailureKind::Cancelled);
    } else {
        engine.count_failure(FailureKind::Transport);
    }
    // The slot and its IRP are not touched after this.
    lease.give_back();
    // Release before completing, so a caller that sees its request done also sees it gone
    // from the in-flight count. The engine is not touched after the rundown release;
    // completing the request only involves the framework.
    engine.family(family).gate.release();
    engine.rundown.release();
    if let Some(request) = request {
        request.complete(status, reply_length);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Reads a completed IRP's status and information (the IRP stays with its owner: a send slot
/// or a receive buffer, src/receive/).
///
/// # Safety
/// `irp` is a driver IRP handed back to its completion routine.
pub(crate) unsafe fn result_of(irp: PIRP) -> (NTSTATUS, u64) {
    // SAFETY: the caller's guarantee: the IRP is ours to read.
    let io_status = unsafe { &(*irp).IoStatus };
    // SAFETY: a completed IRP's IoStatus holds a Status (the union's NTSTATUS member).
    let status = unsafe { io_status.__bindgen_anon_1.Status };
    (status, io_status.Information)
}

/// Completion of a batch sent with one WskSendMessages.
unsafe extern "C" fn batch_complete(
    _device: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: the provider hands the slot's IRP back here.
    let (status, bytes) = unsafe { result_of(irp) };
    // SAFETY: the slot carried this batch (`into_raw` in `start_batch`); this is the batch's
    // only completion, so its one recovery.
    let (engine, lease) = unsafe { recover(slot) };
    // SAFETY: the lease makes the slot ours.
    let count = unsafe { (*lease.as_ptr()).batch_count };
    let sent = if status >= 0 { count } else { 0 };
    finish_batch(engine, lease, status, sent, bytes);
    STATUS_MORE_PROCESSING_REQUIRED
}

/// Completion of one datagram of a batch sent as separate WskSendTo calls; the last one
/// finishes the batch.
unsafe extern "C" fn batch_part_complete(
    _device: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: the provider hands one of the slot's part IRPs back here.
    let (status, bytes) = unsafe { result_of(irp) };
    // SAFETY: this part's only completion.
    unsafe { batch_part_done(slot, status, bytes) };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// One part of a batch sent as separate WskSendTo calls is done; the last one finishes it.
///
/// # Safety
/// `slot` carries the batch (`into_raw` in `start_batch`) and this part is accounted once.
unsafe fn batch_part_done(slot: NonNull<Slot>, status: NTSTATUS, bytes: u64) {
    // SAFETY: the slot stays taken until the last part completes; parts share it only
    // through its atomics.
    let s = unsafe { slot.as_ref() };
    if status >= 0 {
        s.parts_sent.fetch_add(1, Ordering::AcqRel);
        s.parts_bytes.fetch_add(bytes, Ordering::AcqRel);
    } else {
        let _ = s
            .first_error
            .compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire);
    }
    if s.parts_pending.fetch_sub(1, Ordering::AcqRel) == 1 {
        let status = s.first_error.load(Ordering::Acquire);
        let (sent, bytes) = (
            s.parts_sent.load(Ordering::Acquire),
            s.parts_bytes.load(Ordering::Acquire),
        );
        // SAFETY: the last part: nothing else refers to the slot any more, so this is the
        // batch's one recovery.
        let (engine, lease) = unsafe { recover(slot) };
        finish_batch(engine, lease, status, sent, bytes);
    }
}

/// Records a finished batch, returns its slot and completes its request.
fn finish_batch(engine: &Engine, lease: SlotLease<'_>, status: NTSTATUS, sent: u32, bytes: u64) {
    // SAFETY: the lease makes the slot ours alone until it is given back below.
    let s = unsafe { &mut *lease.as_ptr() };
    let (family, request, reply, first_sequence) =
        (s.family, s.request.take(), s.reply, s.sequence);
    let mut reply_length = 0;
    engine.batches.fetch_add(1, Ordering::Relaxed);
    engine
        .stats
        .datagrams_sent
        .fetch_add(u64::from(sent), Ordering::Relaxed);
    if status >= 0 {
        // IoStatus.Information is defined only on success (Learn, PFN_WSK_SEND_MESSAGES and
        // PFN_WSK_SEND_TO: "if the operation succeeds, ... Information contains the number of
        // bytes sent"); a failed batch adds no bytes.
        engine.stats.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
        // SAFETY: `reply` is the request's output buffer, retrieved with at least
        // BATCH_REPLY_SIZE bytes and valid until the request completes below.
        let out = unsafe { &mut *reply.cast::<[u8; BATCH_REPLY_SIZE]>() };
        BatchReply {
            datagrams_sent: sent,
            bytes_sent: bytes,
            first_sequence,
        }
        .encode(out);
        reply_length = BATCH_REPLY_SIZE as u64;
    } else if status == STATUS_CANCELLED {
        engine.count_failure(FailureKind::Cancelled);
    } else {
        engine.count_failure(FailureKind::Transport);
    }
    // The slot and its IRPs are not touched after this.
    lease.give_back();
    engine.family(family).gate.release();
    engine.rundown.release();
    if let Some(request) = request {
        request.complete(status, reply_length);
    }
}
