//! The send completion routines, at DISPATCH_LEVEL: each recovers its slot's lease, records
//! the outcome, gives the slot back, releases the send's protections and completes the
//! request. None calls WSK.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use wdk_sys::{
    NTSTATUS, PDEVICE_OBJECT, PIRP, PVOID, STATUS_CANCELLED, STATUS_MORE_PROCESSING_REQUIRED,
};
use wsk_sample_ioctl::{BATCH_REPLY_SIZE, BatchReply, SEND_REPLY_SIZE, SendReply};

use super::Engine;
use crate::failure::FailureKind;
use crate::irp::result_of;
use crate::request::Request;
use crate::slots::{Slot, SlotLease};
use crate::wsk::Family;

/// Recovers the lease of the slot a completion routine's context names.
///
/// # Safety
/// `slot` is the context a send gave WSK with its IRP (`SlotLease::into_raw`), and this is the
/// send's one recovery of it.
unsafe fn recover<'a>(slot: NonNull<Slot<Engine>>) -> (&'a Engine, SlotLease<'a, Engine>) {
    // SAFETY: the caller's guarantee: the slot is taken and this send's alone.
    let engine = unsafe { (*slot.as_ptr()).owner };
    // SAFETY: the engine outlives every send (each holds its rundown until it finishes).
    let engine = unsafe { &*engine };
    // SAFETY: the caller's guarantee.
    (engine, unsafe { SlotLease::from_raw(&engine.slots, slot) })
}

/// Completion of a send: records the outcome, gives the slot back (with its IRP, which the
/// next send reinitialises), completes the user's request with the real status and bytes
/// sent, and keeps the IRP (STATUS_MORE_PROCESSING_REQUIRED). Runs at DISPATCH_LEVEL; never
/// calls WSK.
pub(super) unsafe extern "C" fn send_complete(
    _device: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot<Engine>>()) else {
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
    }
    finish(engine, lease, (family, request), status, reply_length);
    STATUS_MORE_PROCESSING_REQUIRED
}

/// The end every send shares: counts a failed send by its status, gives the slot back (the slot
/// and its IRPs are not touched after this), releases the send's protections, then completes
/// the request. Release before completing, so a caller that sees its request done also sees it
/// gone from the in-flight count. The engine is not touched after the rundown release;
/// completing the request only involves the framework.
fn finish(
    engine: &Engine,
    lease: SlotLease<'_, Engine>,
    (family, request): (Family, Option<Request>),
    status: NTSTATUS,
    reply_length: u64,
) {
    if status == STATUS_CANCELLED {
        engine.count_failure(FailureKind::Cancelled);
    } else if status < 0 {
        engine.count_failure(FailureKind::Transport);
    }
    lease.give_back();
    engine.family(family).gate.release();
    engine.rundown.release();
    if let Some(request) = request {
        request.complete(status, reply_length);
    }
}

/// Completion of a batch sent with one WskSendMessages.
pub(super) unsafe extern "C" fn batch_complete(
    _device: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot<Engine>>()) else {
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
pub(super) unsafe extern "C" fn batch_part_complete(
    _device: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    let Some(slot) = NonNull::new(context.cast::<Slot<Engine>>()) else {
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
pub(super) unsafe fn batch_part_done(slot: NonNull<Slot<Engine>>, status: NTSTATUS, bytes: u64) {
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
fn finish_batch(
    engine: &Engine,
    lease: SlotLease<'_, Engine>,
    status: NTSTATUS,
    sent: u32,
    bytes: u64,
) {
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
    }
    finish(engine, lease, (family, request), status, reply_length);
}
