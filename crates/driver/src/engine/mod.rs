//! The WSK engine: one per driver. It registers as a WSK client at load, captures the provider
//! and creates a bound datagram socket per address family on first use, applies configuration
//! (bind address, fixed destinations), sends through the slot pool, counts what happened, and
//! tears everything down in order at unload.
//!
//! This file holds the engine's state (each family's socket and configuration, the control
//! path's state behind its lock, the counters), its creation and WSK registration, and the
//! control lock. The behaviour is split along its seams, each file an `impl Engine` block:
//! `socket.rs` (provider capture, socket creation, the once-only close), `config.rs`
//! (CONFIGURE), `send.rs` (the single and batched send paths), `completion.rs` (their
//! completion routines), `receiving.rs` (starting and stopping the receivers), `stats.rs`
//! (counters and QUERY_STATS) and `shutdown.rs` (purge, device cleanup, unload).

mod completion;
mod config;
mod receiving;
mod send;
mod shutdown;
mod socket;
mod stats;

use core::cell::UnsafeCell;
use core::net::SocketAddr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use wdk_sys::{NTSTATUS, STATUS_DEVICE_BUSY, STATUS_INSUFFICIENT_RESOURCES};
use wsk_sample_ioctl::FixedDestination;

use crate::failure::{Failure, FailureKind};
use crate::kernel::{self, ControlLock, SpinLock};
use crate::receive::Receiver;
use crate::rundown::Rundown;
use crate::slots::SlotPool;
use crate::sync_call::SyncCall;
use crate::wsk::abi::*;
use crate::wsk::{Family, SockAddrStorage};

/// Bytes per send slot: room for the largest UDP datagram (65,527 bytes over IPv6).
pub const SLOT_SIZE: u32 = 65_536;
/// Slots in the pool: datagrams that can be in flight at once.
pub const DEFAULT_SLOT_COUNT: u32 = 32;
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

/// Sockets whose close could not be issued, kept for a later close.
const PARKED_SOCKETS: usize = 4;

static CLIENT_DISPATCH: WSK_CLIENT_DISPATCH = WSK_CLIENT_DISPATCH {
    Version: MAKE_WSK_VERSION(1, 0),
    Reserved: 0,
    WskClientEvent: None,
};

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
    failed_busy: AtomicU64,
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
    slots: SlotPool<Engine>,
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
            .ok_or(Failure::new(STATUS_DEVICE_BUSY, FailureKind::Busy))?;
        f(&mut control)
    }
}
