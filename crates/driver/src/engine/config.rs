//! Configuration (IOCTL_WSK_SAMPLE_CONFIGURE) at PASSIVE_LEVEL under the control lock, with
//! the families concerned quiesced: the bind address, the fixed destinations
//! (SIO_WSK_SET_REMOTE_ADDRESS / SIO_WSK_SET_SENDTO_ADDRESS) and the pool size.

use core::net::SocketAddr;
use core::sync::atomic::Ordering;

use wdk_sys::{STATUS_DELETE_PENDING, STATUS_DEVICE_BUSY, STATUS_INSUFFICIENT_RESOURCES};
use wsk_sample_ioctl::{ConfigAction, FixedDestination};

use super::{ControlState, Engine, control_timeout_ms};
use crate::failure::{Failure, FailureKind};
use crate::sync_call::{CallKind, Done, Wait};
use crate::trace::{Status, trace};
use crate::wsk::abi::*;
use crate::wsk::{self, Family, SockAddrStorage};

impl Engine {
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
                (false, _, _) => Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::Busy)),
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
}
