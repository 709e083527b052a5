//! The provider and the sockets: capturing the WSK provider NPI on first use, creating,
//! binding and naming each family's datagram socket under the control lock, and closing
//! sockets exactly once (parking a close that could not be issued).

use core::sync::atomic::Ordering;

use wdk_sys::STATUS_DEVICE_NOT_READY;

use super::{ControlState, Engine, control_timeout_ms};
use crate::failure::{Failure, FailureKind};
use crate::kernel;
use crate::sync_call::{CallKind, Failed, Wait};
use crate::trace::{Status, trace};
use crate::wsk::abi::*;
use crate::wsk::{self, Family, SockAddrStorage};

/// How long the first send waits for the WSK provider to become ready.
const CAPTURE_WAIT_MS: u32 = 2_000;
/// How often a close that could not be issued is tried again before its socket is parked.
const CLOSE_ISSUE_ATTEMPTS: u32 = 3;
/// The pause between those tries.
pub(super) const CLOSE_ISSUE_PAUSE_MS: u32 = 10;

impl Engine {
    /// The bound socket for `family`, created and bound on first use.
    pub(super) fn socket_for(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let existing = self.family(family).socket.load(Ordering::Acquire);
        if !existing.is_null() {
            return Ok(existing);
        }
        self.with_control_lock(|control| self.open_socket(control, family))
    }

    /// Inside the family's call window: its socket, or STATUS_DEVICE_NOT_READY if it was closed
    /// since `socket_for` (a reconfiguration or the purge; a close waits out the window, so
    /// the socket loaded here stays open until the window is left).
    pub(super) fn current_socket(&self, family: Family) -> Result<*mut WSK_SOCKET, Failure> {
        let socket = self.family(family).socket.load(Ordering::Acquire);
        if socket.is_null() {
            return Err(Failure::new(STATUS_DEVICE_NOT_READY, FailureKind::NotReady));
        }
        Ok(socket)
    }

    /// With the control lock held: the family's socket, created, bound (to the configured
    /// address or the wildcard) and named if it does not exist yet.
    pub(super) fn open_socket(
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
        let created = self.control.call(
            CallKind::CreatesSocket,
            Wait::Bounded(control_timeout_ms()),
            SockAddrStorage::ZERO,
            |irp, _, arm| {
                let events = (
                    crate::receive::events::context(self.receiver(family)),
                    &raw const crate::receive::events::DISPATCH,
                );
                // SAFETY: the NPI is captured; the IRP comes from SyncCall with its routine set
                // (`arm`); the dispatch table is static and the context (the family's
                // receiver) lives as long as the engine, which outlives every socket it creates.
                unsafe { wsk::create_datagram_socket(provider, family, events, irp, arm) }
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
    pub(super) fn close_socket(
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
    pub(super) fn close_parked(&self, control: &mut ControlState, wait: Wait) {
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
}
