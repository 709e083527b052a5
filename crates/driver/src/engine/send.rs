//! The two send paths: one datagram per request (WskSendTo) and a batch per request (one
//! WskSendMessages, or one WskSendTo per datagram on a provider without it), each carried by
//! one slot of the pool and finished by its completion routine (completion.rs).

use core::net::SocketAddr;
use core::sync::atomic::Ordering;

use wdk_sys::{
    STATUS_DELETE_PENDING, STATUS_DEVICE_BUSY, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_BUFFER_SIZE,
};
use wsk_sample_ioctl::{BatchRequest, Destination, FixedDestination};

use super::Engine;
use super::completion::{batch_complete, batch_part_complete, batch_part_done, send_complete};
use crate::failure::{Failure, FailureKind};
use crate::irp;
use crate::request::Request;
use crate::slots::SlotLease;
use crate::wsk::abi::*;
use crate::wsk::{self, Family};

/// How long a send waits for a free slot before failing with STATUS_INSUFFICIENT_RESOURCES.
const SLOT_WAIT_MS: u32 = 1_000;

impl Engine {
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
            return Err(Failure::new(STATUS_DEVICE_BUSY, FailureKind::Busy));
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
}
