//! The WSK engine: one per driver. It registers as a WSK client at load, captures the provider
//! and creates a bound datagram socket per address family on first use, applies configuration
//! (bind address, fixed destinations), sends through the slot pool, counts what happened, and
//! tears everything down in order at unload.

use core::cell::UnsafeCell;
use core::net::SocketAddr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use wdk_sys::ntddk::IoFreeIrp;
use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_CANCELLED, STATUS_DELETE_PENDING,
    STATUS_DEVICE_BUSY, STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_BUFFER_SIZE, STATUS_MORE_PROCESSING_REQUIRED,
    WDFREQUEST,
};
use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, BatchReply, BatchRequest, ConfigAction, Destination, FixedDestination,
    SEND_REPLY_SIZE, SendReply, Stats,
};

use crate::kernel::{self, Event, EventKind};
use crate::receive::Receiver;
use crate::rundown::Rundown;
use crate::slots::{Slot, SlotPool};
use crate::sync_call::{CallKind, Done, Failed, SyncCall, Wait};
use crate::trace::{Status, trace};
use crate::wsk::abi::*;
use crate::wsk::{self, Family, SockAddrStorage};
use crate::{ioctl, irp};

/// Bytes per send slot: room for the largest UDP datagram (65,527 bytes over IPv6).
pub const SLOT_SIZE: u32 = 65_536;
/// Slots in the pool: datagrams that can be in flight at once.
pub const DEFAULT_SLOT_COUNT: u32 = 32;
/// How long the first send waits for the WSK provider to become ready.
const CAPTURE_WAIT_MS: u32 = 2_000;
/// Bound on each control-path WSK call (socket, bind, local address, control, close).
const CONTROL_TIMEOUT_MS: u32 = 5_000;
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
    /// The fixed destination, readable without the control lock (written under it).
    fixed_set: AtomicBool,
    // Written only under the control lock (with the family's gate closed, so no send reads
    // them meanwhile); `local` and `fixed` are published to readers by `socket` / `fixed_set`
    // (Release/Acquire). WSK never sees these cells: the SOCKADDRs passed to control calls
    // live in the SyncCall until their IRP completes.
    bind: UnsafeCell<Option<SocketAddr>>,
    local: UnsafeCell<SockAddrStorage>,
    fixed: UnsafeCell<Option<FixedDestination>>,
}

pub struct Engine {
    registration: WSK_REGISTRATION,
    registered: bool,
    provider: UnsafeCell<WSK_PROVIDER_NPI>,
    captured: AtomicBool,
    families: [FamilyState; 2],
    /// A synchronization event used as a mutex over the control path.
    control_lock: Event,
    control: SyncCall,
    /// Sockets to close later ([`Engine::close_socket`]); used under the control lock.
    parked: [AtomicPtr<WSK_SOCKET>; PARKED_SOCKETS],
    rundown: Rundown,
    slots: SlotPool,
    stats: Counters,
    batches: AtomicU64,
    sequence: AtomicU64,
    /// The receive side, one per family (src/receive/).
    receivers: [Receiver; 2],
}

// SAFETY: the fields mutated after init are atomics, kernel objects, or UnsafeCells written only
// under `control_lock` and published with Release stores (see FamilyState).
unsafe impl Sync for Engine {}

impl Engine {
    /// Allocates the engine, builds the slot pool and registers as a WSK client. Never waits
    /// for the provider: that happens on the first send.
    pub fn create(slot_count: u32) -> Result<NonNull<Engine>, NTSTATUS> {
        let memory = kernel::allocate::<Engine>().ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        let engine = memory.as_ptr();
        // SAFETY: fresh zeroed nonpaged memory, sized for an Engine. Zero is a valid bit
        // pattern for every field (null, false, 0), but an all-zero `Option<SocketAddr>` is
        // `Some(0.0.0.0:0)`, so the optional cells are written explicitly; the kernel objects
        // are initialised in place.
        unsafe {
            Event::init(
                &raw mut (*engine).control_lock,
                EventKind::Synchronization,
                true,
            );
            Rundown::init(&raw mut (*engine).rundown);
            let families = &raw mut (*engine).families;
            for family in [
                families.cast::<FamilyState>(),
                families.cast::<FamilyState>().add(1),
            ] {
                Rundown::init(&raw mut (*family).gate);
                Rundown::init(&raw mut (*family).calls);
                (&raw mut (*family).bind).write(UnsafeCell::new(None));
                (&raw mut (*family).fixed).write(UnsafeCell::new(None));
            }
            SyncCall::init(&raw mut (*engine).control);
            SlotPool::init(&raw mut (*engine).slots, SLOT_SIZE);
            if !(*engine).slots.build(slot_count, engine) {
                kernel::free(memory);
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            let receivers = (&raw mut (*engine).receivers).cast::<Receiver>();
            if !Receiver::init(receivers, Family::V4) {
                (*engine).slots.destroy();
                kernel::free(memory);
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            if !Receiver::init(receivers.add(1), Family::V6) {
                (*receivers).destroy_buffers();
                (*engine).slots.destroy();
                kernel::free(memory);
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            let mut client = WSK_CLIENT_NPI {
                ClientContext: engine.cast(),
                Dispatch: &CLIENT_DISPATCH,
            };
            let status = WskRegister(&mut client, &raw mut (*engine).registration);
            if status < 0 {
                for receiver in &(*engine).receivers {
                    receiver.destroy_buffers();
                }
                (*engine).slots.destroy();
                kernel::free(memory);
                return Err(status);
            }
            (*engine).registered = true;
        }
        Ok(memory)
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
    ) -> Result<(), Failure> {
        use wsk_sample_ioctl::ReceiveMode;
        if !self.rundown.acquire() {
            return Err(Failure::new(STATUS_DELETE_PENDING, FailureKind::NotReady));
        }
        let result = self.with_control_lock(|| {
            let state = self.family(family);
            if !state.gate.try_quiesce() {
                return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources));
            }
            let receiver = self.receiver(family);
            let result = match mode {
                ReceiveMode::Off => {
                    self.stop_receiving(family);
                    Ok(())
                }
                _ => self.open_socket(family).and_then(|socket| {
                    receiver
                        .start(socket, mode)
                        .map_err(|status| Failure::new(status, FailureKind::NotReady))
                }),
            };
            state.gate.reopen();
            result
        });
        self.rundown.release();
        result
    }

    /// With the control lock held: stops the family's receiver and closes its socket (which
    /// cancels the receives still posted), then waits for the buffers to come back.
    fn stop_receiving(&self, family: Family) {
        let receiver = self.receiver(family);
        if receiver.mode() == wsk_sample_ioctl::ReceiveMode::Off {
            return;
        }
        receiver.stop();
        let state = self.family(family);
        let socket = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !socket.is_null() {
            state.fixed_set.store(false, Ordering::Release);
            // SAFETY: written under the control lock; `fixed_set` is false.
            unsafe { *state.fixed.get() = None };
            self.close_socket(socket, Wait::Bounded(CONTROL_TIMEOUT_MS));
        }
        let _ = receiver.drained(CONTROL_TIMEOUT_MS);
    }

    fn family(&self, family: Family) -> &FamilyState {
        let [v4, v6] = &self.families;
        match family {
            Family::V4 => v4,
            Family::V6 => v6,
        }
    }

    /// Runs `f` with the control lock held (bounded wait).
    fn with_control_lock<R>(&self, f: impl FnOnce() -> Result<R, Failure>) -> Result<R, Failure> {
        if !self.control_lock.wait(CONTROL_TIMEOUT_MS) {
            return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::NoResources));
        }
        let result = f();
        self.control_lock.set();
        result
    }

    /// The bound socket for `family`, created and bound on first use.
    fn socket_for(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let existing = self.family(family).socket.load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        self.with_control_lock(|| self.open_socket(family))
    }

    /// With the control lock held: the family's socket, created, bound (to the configured
    /// address or the wildcard) and named if it does not exist yet.
    fn open_socket(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let state = self.family(family);
        let existing = state.socket.load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        self.capture_provider()?;
        let not_ready = |status| Failure::new(status, FailureKind::NotReady);
        // SAFETY: the provider NPI is captured (above) and only written under the lock we hold.
        let provider = unsafe { &*self.provider.get() };
        // SAFETY: the NPI is captured; the IRP comes from SyncCall with its routine set.
        let created = self.control.call(
            CallKind::CreatesSocket,
            Wait::Bounded(CONTROL_TIMEOUT_MS),
            SockAddrStorage::ZERO,
            |irp, _| unsafe { wsk::create_datagram_socket(provider, family, irp) },
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
        // SAFETY: the configuration cells are written under the control lock, which we hold.
        let (bind, local) = unsafe { (*state.bind.get(), &mut *state.local.get()) };
        let bind_address = bind.map_or_else(
            || SockAddrStorage::wildcard(family),
            SockAddrStorage::from_socket_addr,
        );
        // SAFETY: a live socket; the address lives in the SyncCall until the IRP completes.
        let bound = self.control.call(
            CallKind::Other,
            Wait::Bounded(CONTROL_TIMEOUT_MS),
            bind_address,
            |irp, address| unsafe { wsk::bind(socket, address, irp) },
        );
        if let Err(failed) = bound {
            trace!(
                Error,
                "{family}: WskBind failed with {}",
                Status(failed.status())
            );
            self.close_socket(socket, Wait::Bounded(CONTROL_TIMEOUT_MS));
            return Err(not_ready(failed.status()));
        }
        // SAFETY: a live, bound socket; the output lives in the SyncCall until completion.
        let named = self.control.call(
            CallKind::Other,
            Wait::Bounded(CONTROL_TIMEOUT_MS),
            SockAddrStorage::ZERO,
            |irp, address| unsafe { wsk::get_local_address(socket, address, irp) },
        );
        *local = named.map_or(SockAddrStorage::ZERO, |done| done.address);
        match local.to_socket_addr() {
            Some(address) => trace!(
                Info,
                "{family}: datagram socket created, bound to {address}"
            ),
            None => trace!(Info, "{family}: datagram socket created and bound"),
        }
        // A new socket has no fixed destination.
        state.fixed_set.store(false, Ordering::Release);
        // SAFETY: written under the control lock; `fixed_set` is false.
        unsafe { *state.fixed.get() = None };
        state.socket.store(socket, Ordering::Release);
        Ok(socket)
    }

    /// With the control lock held.
    fn capture_provider(&self) -> Result<(), Failure> {
        if self.captured.load(Ordering::Acquire) {
            return Ok(());
        }
        let registration = (&raw const self.registration).cast_mut();
        // SAFETY: registered in `create`; the NPI is written under the control lock. The wait
        // is bounded and happens at PASSIVE_LEVEL (EvtIoDeviceControl runs there).
        let status =
            unsafe { WskCaptureProviderNPI(registration, CAPTURE_WAIT_MS, self.provider.get()) };
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
        let version = unsafe { (*(*self.provider.get()).Dispatch).Version };
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
    /// issued the socket is parked for a later close (unload closes every parked socket).
    /// True if the close was issued and completed within `wait`.
    fn close_socket(&self, socket: *mut WSK_SOCKET, wait: Wait) -> bool {
        self.close_parked(wait);
        let mut attempts = 0;
        loop {
            // SAFETY: a live socket no other call is executing on (callers hold the control
            // lock and have stopped sends on it); after this call it is not used again.
            let closed = self.control.call(
                CallKind::Other,
                wait,
                SockAddrStorage::ZERO,
                |irp, _| unsafe { wsk::close(socket, irp) },
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
            if let Some(place) = self
                .parked
                .iter()
                .find(|p| p.load(Ordering::Acquire).is_null())
            {
                place.store(socket, Ordering::Release);
                return false;
            }
            // Nowhere to park it: keep trying; the socket must not be lost.
            kernel::delay(CLOSE_ISSUE_PAUSE_MS);
        }
    }

    /// With the control lock held: closes the sockets parked by [`Engine::close_socket`].
    fn close_parked(&self, wait: Wait) {
        for place in &self.parked {
            let socket = place.swap(core::ptr::null_mut(), Ordering::AcqRel);
            if socket.is_null() {
                continue;
            }
            // SAFETY: a parked socket: live, never closed, and no call runs on it.
            let closed = self.control.call(
                CallKind::Other,
                wait,
                SockAddrStorage::ZERO,
                |irp, _| unsafe { wsk::close(socket, irp) },
            );
            if let Err(Failed::NotIssued(_)) = closed {
                place.store(socket, Ordering::Release);
            }
        }
    }

    /// With the control lock held: one SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS
    /// call, setting `address` or clearing (None).
    fn set_fixed(
        &self,
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
                Wait::Bounded(CONTROL_TIMEOUT_MS),
                input,
                |irp, buffer| unsafe {
                    let buffer = if size == 0 {
                        core::ptr::null_mut()
                    } else {
                        buffer
                    };
                    wsk::control_ioctl(socket, code, buffer, size, irp)
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
        let result = self.with_control_lock(|| {
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
                (true, _, Some(&family)) => self.apply(family, action),
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

    /// With the control lock held and every gate closed: rebuilds the pool with `count` slots,
    /// or with the old count if that fails.
    fn resize_pool(&self, count: u32) -> Result<(), Failure> {
        let old = self.slots.slot_count();
        let engine: *const Engine = self;
        // SAFETY: every gate is closed and no send is in flight, so no slot is in use and no
        // other thread takes or returns one while the pool is rebuilt.
        unsafe {
            self.slots.destroy();
            if self.slots.build(count, engine) {
                return Ok(());
            }
            self.slots.build(old, engine);
        }
        Err(Failure::new(
            STATUS_INSUFFICIENT_RESOURCES,
            FailureKind::NoResources,
        ))
    }

    /// With the control lock held and the family's gate closed (no send in flight on it).
    fn apply(&self, family: Family, action: ConfigAction) -> Result<(), Failure> {
        let state = self.family(family);
        let not_ready = |status| Failure::new(status, FailureKind::NotReady);
        match action {
            ConfigAction::Bind(local) => {
                // SAFETY: configuration cells are written under the control lock.
                let previous = unsafe { (*state.bind.get()).replace(local) };
                // Receives posted on the old socket go with it; receiving stops.
                self.receiver(family).stop();
                let old = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
                if !old.is_null() {
                    state.fixed_set.store(false, Ordering::Release);
                    // SAFETY: written under the control lock; `fixed_set` is false.
                    unsafe { *state.fixed.get() = None };
                    if !self.close_socket(old, Wait::Bounded(CONTROL_TIMEOUT_MS)) {
                        return Err(not_ready(STATUS_DEVICE_BUSY));
                    }
                }
                self.open_socket(family).map(|_| ()).inspect_err(|_| {
                    // SAFETY: as above. A failed bind leaves the previous configuration.
                    unsafe { *state.bind.get() = previous };
                })
            }
            ConfigAction::FixedRemote(address) | ConfigAction::FixedSendTo(address) => {
                let socket = self.open_socket(family)?;
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
                // SAFETY: read under the control lock.
                let current = unsafe { *state.fixed.get() };
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
                    self.set_fixed(socket, other, None)?;
                    state.fixed_set.store(false, Ordering::Release);
                    // SAFETY: written under the control lock.
                    unsafe { *state.fixed.get() = None };
                }
                self.set_fixed(socket, code, Some(address))?;
                // SAFETY: written under the control lock, published by `fixed_set`.
                unsafe { *state.fixed.get() = Some(fixed) };
                state.fixed_set.store(true, Ordering::Release);
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
                // SAFETY: read under the control lock.
                let order = match unsafe { *state.fixed.get() } {
                    Some(FixedDestination::SendTo(_)) => {
                        [SIO_WSK_SET_REMOTE_ADDRESS, SIO_WSK_SET_SENDTO_ADDRESS]
                    }
                    _ => [SIO_WSK_SET_SENDTO_ADDRESS, SIO_WSK_SET_REMOTE_ADDRESS],
                };
                for code in order {
                    self.set_fixed(socket, code, None)?;
                }
                state.fixed_set.store(false, Ordering::Release);
                // SAFETY: written under the control lock.
                unsafe { *state.fixed.get() = None };
                Ok(())
            }
        }
    }

    /// Sends one datagram for `request`, whose reply goes to `reply` (at least
    /// SEND_REPLY_SIZE bytes of the request's output buffer). On success the request is
    /// completed later, by the completion routine.
    pub fn send(
        &self,
        request: WDFREQUEST,
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
        request: WDFREQUEST,
        reply: *mut u8,
        family: Family,
        destination: Destination,
        payload: &[u8],
    ) -> Result<(), Failure> {
        let socket = self.socket_for(family)?;
        let explicit = self.explicit_destination(family, destination)?;
        let no_resources = Failure::new(STATUS_INSUFFICIENT_RESOURCES, FailureKind::NoResources);
        let slot = self.slots.take(SLOT_WAIT_MS).ok_or(no_resources)?;
        let Some(irp) = irp::allocate_irp() else {
            // SAFETY: taken above and not handed to anyone.
            unsafe { self.slots.give_back(slot) };
            return Err(no_resources);
        };
        let slot_ptr = slot.as_ptr();
        // SAFETY: the slot is ours until its completion routine gives it back; its buffer holds
        // SLOT_SIZE bytes and the decoder bounds payloads to 65,527.
        unsafe {
            let length = payload.len().min(self.slots.slot_size() as usize);
            core::ptr::copy_nonoverlapping(payload.as_ptr(), (*slot_ptr).buffer.as_ptr(), length);
            (*slot_ptr).wsk_buf.Length = length as u64;
            (*slot_ptr).family = family;
            (*slot_ptr).request = request;
            (*slot_ptr).reply = reply;
            (*slot_ptr).sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
            let remote = match explicit {
                Some(address) => {
                    (*slot_ptr).remote.set(address);
                    (*slot_ptr).remote.as_mut_ptr()
                }
                None => core::ptr::null_mut(),
            };
            irp::set_completion_routine(irp, send_complete, slot_ptr.cast());
            // Once WSK has the IRP, the slot and the IRP belong to the provider and the
            // completion routine (which may already have run when this returns): neither is
            // touched again. A call that never reached WSK freed the IRP; the slot is ours.
            if let wsk::Issued::NotSubmitted(status) =
                wsk::send_to(socket, &raw mut (*slot_ptr).wsk_buf, remote, irp)
            {
                self.slots.give_back(slot);
                return Err(Failure::new(status, FailureKind::NotReady));
            }
        }
        Ok(())
    }

    /// Sends a batch for `request` (reply: at least BATCH_REPLY_SIZE bytes of its output
    /// buffer): one slot carries every datagram, described by the slot's list nodes over its
    /// one MDL, and goes out with one WskSendMessages and one IRP. A provider without
    /// WskSendMessages gets one WskSendTo per datagram instead.
    pub fn send_batch(
        &self,
        request: WDFREQUEST,
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
        let result = self.within_call_window(family, start);
        if result.is_err() {
            gate.release();
            self.rundown.release();
        }
        result
    }

    fn start_batch(
        &self,
        request: WDFREQUEST,
        reply: *mut u8,
        family: Family,
        batch: &BatchRequest<'_>,
    ) -> Result<(), Failure> {
        let socket = self.socket_for(family)?;
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
        let mut irps = IrpSet::new();
        let wanted = if batched { 1 } else { count };
        if !irps.allocate(wanted) {
            return Err(no_resources);
        }
        let Some(slot) = self.slots.take(SLOT_WAIT_MS) else {
            irps.free_all();
            return Err(no_resources);
        };
        let slot_ptr = slot.as_ptr();
        // SAFETY: the slot is ours until the last completion gives it back. The payloads fit
        // its buffer (checked above) and the nodes array holds MAX_BATCH_DATAGRAMS entries.
        unsafe {
            let payloads = batch.payloads();
            core::ptr::copy_nonoverlapping(
                payloads.as_ptr(),
                (*slot_ptr).buffer.as_ptr(),
                payloads.len(),
            );
            let nodes = (*slot_ptr).nodes.as_ptr();
            let mdl = (*slot_ptr).mdl();
            let mut offset = 0u32;
            for (index, length) in batch.lengths().enumerate() {
                let next = if index + 1 < count {
                    nodes.add(index + 1)
                } else {
                    core::ptr::null_mut()
                };
                nodes.add(index).write(WSK_BUF_LIST {
                    Next: next,
                    Buffer: WSK_BUF {
                        Mdl: mdl,
                        Offset: offset,
                        Length: length as u64,
                    },
                });
                offset += length as u32;
            }
            (*slot_ptr).family = family;
            (*slot_ptr).request = request;
            (*slot_ptr).reply = reply;
            (*slot_ptr).batch_count = count as u32;
            (*slot_ptr).sequence = self.sequence.fetch_add(count as u64, Ordering::Relaxed) + 1;
            (*slot_ptr)
                .parts_pending
                .store(wanted as u32, Ordering::Relaxed);
            (*slot_ptr).parts_sent.store(0, Ordering::Relaxed);
            (*slot_ptr).parts_bytes.store(0, Ordering::Relaxed);
            (*slot_ptr).first_error.store(0, Ordering::Relaxed);
            (*slot_ptr).remote.set(explicit);
            let remote = (*slot_ptr).remote.as_mut_ptr();
            // Once WSK has an IRP, the slot and the IRP belong to the provider and the
            // completion routines: none is touched again. A call that never reached WSK freed
            // its IRP and counts as a part that failed.
            if batched {
                let irp = irps.take(0);
                irp::set_completion_routine(irp, batch_complete, slot_ptr.cast());
                if let wsk::Issued::NotSubmitted(status) =
                    wsk::send_messages(socket, nodes, remote, irp)
                {
                    self.slots.give_back(slot);
                    return Err(Failure::new(status, FailureKind::NotReady));
                }
            } else {
                for index in 0..count {
                    let irp = irps.take(index);
                    irp::set_completion_routine(irp, batch_part_complete, slot_ptr.cast());
                    if let wsk::Issued::NotSubmitted(status) =
                        wsk::send_to(socket, &raw mut (*nodes.add(index)).Buffer, remote, irp)
                    {
                        // The part's completion will never come: account for it here (this
                        // may be the part that finishes the batch).
                        batch_part_done(slot, status, 0);
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
    pub fn cancel_in_flight(&self) {
        self.rundown.close();
        let _ = self.with_control_lock(|| {
            for receiver in &self.receivers {
                receiver.stop();
            }
            for state in &self.families {
                if !state.calls.wait(CONTROL_TIMEOUT_MS) {
                    continue;
                }
                let socket = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
                if !socket.is_null() {
                    state.fixed_set.store(false, Ordering::Release);
                    self.close_socket(socket, Wait::Bounded(CONTROL_TIMEOUT_MS));
                }
            }
            Ok(())
        });
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
        // SAFETY: published before the socket pointer (Release/Acquire).
        unsafe { (*state.local.get()).to_socket_addr() }
    }

    fn fixed_destination(&self, family: Family) -> Option<FixedDestination> {
        let state = self.family(family);
        if !state.fixed_set.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: published before `fixed_set` (Release/Acquire).
        unsafe { *state.fixed.get() }
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

    /// Unload, in the order WSK needs: refuse new work, wait (bounded) for sends in flight,
    /// close the sockets (cancelling what is left) and wait for the closes, wait for every send
    /// to come back, release the provider, deregister, free.
    ///
    /// The waits for the closes and the cancelled sends are not bounded: EvtDriverUnload runs
    /// at PASSIVE_LEVEL, WSK always completes WskCloseSocket and completes every IRP still
    /// pending on the socket as cancelled (Learn, PFN_WSK_CLOSE_SOCKET), and WskDeregister
    /// itself waits for the same (Learn, WskDeregister). Returning earlier would leave the
    /// registration alive and its client dispatch table in an image about to be unmapped.
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
        let _ = this.rundown.wait(DRAIN_TIMEOUT_MS);
        // No request can hold the control lock any more (the device is gone), but a bounded
        // wait is no promise: wait until it is free.
        while !this.control_lock.wait(CONTROL_TIMEOUT_MS) {}
        // A call abandoned after a timeout completes first: it may still deliver an orphan.
        this.control.settle();
        for receiver in &this.receivers {
            receiver.stop();
        }
        for state in &this.families {
            let socket = state.socket.swap(core::ptr::null_mut(), Ordering::AcqRel);
            state.fixed_set.store(false, Ordering::Release);
            if !socket.is_null() {
                this.close_socket(socket, Wait::UntilDone);
            }
        }
        let orphan = this
            .control
            .orphan
            .swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !orphan.is_null() {
            this.close_socket(orphan, Wait::UntilDone);
        }
        // With UntilDone every parked close is issued (the pool recovers, or unload waits).
        while this
            .parked
            .iter()
            .any(|p| !p.load(Ordering::Acquire).is_null())
        {
            this.close_parked(Wait::UntilDone);
            kernel::delay(CLOSE_ISSUE_PAUSE_MS);
        }
        this.control_lock.set();
        // Closing cancelled whatever was still in flight; those completions release the gates
        // and the rundown and give the slots back.
        while !this.rundown.wait(CONTROL_TIMEOUT_MS) {}
        for state in &this.families {
            while !state.gate.wait(CONTROL_TIMEOUT_MS) {}
        }
        // The closes cancelled every posted receive; their completions give the buffers back.
        for receiver in &this.receivers {
            while !receiver.drained(CONTROL_TIMEOUT_MS) {}
        }
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
        // SAFETY: the engine is live; no send is in flight and no slot is in use, and every
        // receive buffer is idle (drained above).
        unsafe {
            (*engine_ptr).slots.destroy();
            for receiver in &(*engine_ptr).receivers {
                receiver.destroy_buffers();
            }
        }
        // SAFETY: allocated in `create`; nothing refers to it any more.
        unsafe { kernel::free(engine) };
    }
}

/// Completion of a send: records the outcome, frees the IRP, returns the slot, completes the
/// user's request with the real status and bytes sent, and gives the IRP back to the driver.
/// Runs at DISPATCH_LEVEL; never calls WSK.
unsafe extern "C" fn send_complete(_device: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot>()) else {
        return STATUS_MORE_PROCESSING_REQUIRED;
    };
    // SAFETY: the context is the slot that carried this send; it stays ours until given back.
    let (engine, family, request, reply, sequence) = unsafe {
        let s = slot.as_ptr();
        (
            &*(*s).engine,
            (*s).family,
            (*s).request,
            (*s).reply,
            (*s).sequence,
        )
    };
    // SAFETY: the provider hands our IRP (IoAllocateIrp in start_send) back here.
    let (status, information) = unsafe { take_result(irp) };
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
    // SAFETY: the slot is not touched after this.
    unsafe { engine.slots.give_back(slot) };
    // Release before completing, so a caller that sees its request done also sees it gone
    // from the in-flight count. The engine is not touched after the rundown release;
    // completing the request only involves the framework.
    engine.family(family).gate.release();
    engine.rundown.release();
    ioctl::complete(request, status, reply_length);
    STATUS_MORE_PROCESSING_REQUIRED
}

/// The IRPs a batch needs, allocated up front so that a failure leaves nothing half-sent.
struct IrpSet {
    irps: [PIRP; wsk_sample_ioctl::MAX_BATCH_DATAGRAMS],
    count: usize,
}

impl IrpSet {
    fn new() -> Self {
        IrpSet {
            irps: [core::ptr::null_mut(); wsk_sample_ioctl::MAX_BATCH_DATAGRAMS],
            count: 0,
        }
    }

    /// Allocates `wanted` IRPs; on failure frees those allocated and returns false.
    fn allocate(&mut self, wanted: usize) -> bool {
        while self.count < wanted.min(self.irps.len()) {
            let Some(irp) = irp::allocate_irp() else {
                self.free_all();
                return false;
            };
            let Some(place) = self.irps.get_mut(self.count) else {
                break;
            };
            *place = irp;
            self.count += 1;
        }
        true
    }

    fn take(&mut self, index: usize) -> PIRP {
        self.irps
            .get_mut(index)
            .map_or(core::ptr::null_mut(), |irp| {
                core::mem::replace(irp, core::ptr::null_mut())
            })
    }

    fn free_all(&mut self) {
        for irp in self.irps.iter_mut().take(self.count) {
            if !irp.is_null() {
                // SAFETY: allocated by `allocate` and never submitted.
                unsafe { IoFreeIrp(*irp) };
                *irp = core::ptr::null_mut();
            }
        }
        self.count = 0;
    }
}

/// Reads a completed IRP's status and information and frees it.
///
/// # Safety
/// `irp` is a driver IRP handed back to its completion routine, not used afterwards.
unsafe fn take_result(irp: PIRP) -> (NTSTATUS, u64) {
    // SAFETY: the caller's guarantee.
    let result = unsafe {
        (
            (*irp).IoStatus.__bindgen_anon_1.Status,
            (*irp).IoStatus.Information,
        )
    };
    // SAFETY: the caller's guarantee.
    unsafe { IoFreeIrp(irp) };
    result
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
    // SAFETY: the provider hands our IRP back here.
    let (status, bytes) = unsafe { take_result(irp) };
    // SAFETY: the slot carried this batch and stays ours until `finish_batch` returns it.
    let count = unsafe { (*slot.as_ptr()).batch_count };
    let sent = if status >= 0 { count } else { 0 };
    // SAFETY: as above; this is the batch's only completion.
    unsafe { finish_batch(slot, status, sent, bytes) };
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
    // SAFETY: the provider hands our IRP back here.
    let (status, bytes) = unsafe { take_result(irp) };
    // SAFETY: this part's only completion.
    unsafe { batch_part_done(slot, status, bytes) };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// One part of a batch sent as separate WskSendTo calls is done; the last one finishes it.
///
/// # Safety
/// `slot` carries the batch and this part is accounted once.
unsafe fn batch_part_done(slot: NonNull<Slot>, status: NTSTATUS, bytes: u64) {
    // SAFETY: the slot stays ours until the last part completes.
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
        // SAFETY: the last part: nothing else refers to the slot any more.
        unsafe { finish_batch(slot, status, sent, bytes) };
    }
}

/// Records a finished batch, returns its slot and completes its request.
///
/// # Safety
/// `slot` carried the batch and nothing else uses it any more.
unsafe fn finish_batch(slot: NonNull<Slot>, status: NTSTATUS, sent: u32, bytes: u64) {
    // SAFETY: the caller's guarantee.
    let (engine, family, request, reply, first_sequence) = unsafe {
        let s = slot.as_ptr();
        (
            &*(*s).engine,
            (*s).family,
            (*s).request,
            (*s).reply,
            (*s).sequence,
        )
    };
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
    // SAFETY: the slot is not touched after this.
    unsafe { engine.slots.give_back(slot) };
    engine.family(family).gate.release();
    engine.rundown.release();
    ioctl::complete(request, status, reply_length);
}
