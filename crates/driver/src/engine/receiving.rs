//! The engine's side of receiving: starting and stopping a family's receiver (src/receive/)
//! on its socket under the control lock, and both families' receive counters.

use core::sync::atomic::Ordering;

use wdk_sys::{STATUS_DELETE_PENDING, STATUS_DEVICE_BUSY};

use super::{ControlState, Engine, control_timeout_ms};
use crate::failure::{Failure, FailureKind};
use crate::sync_call::{CallKind, Wait};
use crate::wsk::{self, Family, SockAddrStorage};

impl Engine {
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
    /// while the family has sends in flight, and starting while a parked socket cannot be
    /// closed yet.
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
                return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::Busy));
            }
            let receiver = self.receiver(family);
            let result = match mode {
                ReceiveMode::Off => {
                    self.stop_receiving(control, family);
                    Ok(())
                }
                _ => {
                    // A parked socket (its close could not be issued, see `close_socket`) may
                    // still have the event callback enabled, if its disable could not be issued
                    // either; the callback gets only the receiver, not the socket (Learn,
                    // PFN_WSK_RECEIVE_FROM_EVENT), so its datagrams would be kept as lists of
                    // the new socket and released to the wrong one. Receiving starts only once
                    // every parked socket is closed (after WskCloseSocket no callback starts:
                    // Learn, PFN_WSK_CLOSE_SOCKET).
                    self.close_parked(control, Wait::Bounded(control_timeout_ms()));
                    if control.parked.iter().any(|place| !place.is_null()) {
                        Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::Busy))
                    } else {
                        self.open_socket(control, family).and_then(|socket| {
                            receiver
                                .start(socket, mode, delivery)
                                .map_err(|status| Failure::new(status, FailureKind::NotReady))
                        })
                    }
                }
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
}
