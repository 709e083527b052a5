//! The end of the engine's life: the purge at device removal (EvtIoStop), the device's final
//! closes and drain (its EvtCleanupCallback), and unload (EvtDriverUnload), in the order WSK
//! needs; and attaching the device whose WDM object the control calls reference.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use wdk_sys::PDEVICE_OBJECT;

use super::socket::CLOSE_ISSUE_PAUSE_MS;
use super::{ControlState, Engine, control_timeout_ms};
use crate::kernel::{self, ControlGuard};
use crate::sync_call::Wait;
use crate::wsk::abi::*;

/// How long unload waits for sends in flight before closing the sockets (which cancels them).
const DRAIN_TIMEOUT_MS: u32 = 10_000;

impl Engine {
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
    fn control_lock_until_free(&self) -> ControlGuard<'_, ControlState> {
        loop {
            if let Some(guard) = self.control_lock.lock(control_timeout_ms()) {
                break guard;
            }
        }
    }

    /// The device was created: every control call's completion routine will hold a reference
    /// on its WDM device object (`WdfDeviceWdmGetDeviceObject`) until it has returned (see
    /// [`SyncCall`](crate::sync_call::SyncCall)'s `Arm`). Called in EvtDriverDeviceAdd before
    /// the queue exists.
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
