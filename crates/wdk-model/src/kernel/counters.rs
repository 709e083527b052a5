//! Allocation and call counters, for proving what the hot path allocates.

use std::sync::atomic::{AtomicU64, Ordering};

/// Allocation counters, for proving what the hot path allocates.
#[derive(Debug, Default)]
pub struct Counters {
    /// `ExAllocatePool2` successes.
    pub pool_allocations: AtomicU64,
    /// `IoAllocateIrp` successes.
    pub irp_allocations: AtomicU64,
    /// `IoFreeIrp` calls that freed an IRP.
    pub irp_frees: AtomicU64,
    /// `IoAllocateMdl` successes.
    pub mdl_allocations: AtomicU64,
    /// Completion routines invoked.
    pub completion_routines: AtomicU64,
    /// `WskSendTo` calls accepted.
    pub wsk_send_to: AtomicU64,
    /// `WskSendMessages` calls accepted.
    pub wsk_send_messages: AtomicU64,
    /// `WskSendTo` calls made with a NULL RemoteAddress (a fixed destination was used).
    pub wsk_send_to_null_remote: AtomicU64,
    /// Datagrams the provider handed to the host.
    pub datagrams_sent: AtomicU64,
    /// `WskReceiveFrom` calls accepted (posted).
    pub wsk_receive_from: AtomicU64,
    /// Datagrams the provider delivered into posted receives.
    pub datagrams_received: AtomicU64,
}

/// A snapshot of `Counters`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// See `Counters::pool_allocations`.
    pub pool_allocations: u64,
    /// See `Counters::irp_allocations`.
    pub irp_allocations: u64,
    /// See `Counters::irp_frees`.
    pub irp_frees: u64,
    /// See `Counters::mdl_allocations`.
    pub mdl_allocations: u64,
    /// See `Counters::completion_routines`.
    pub completion_routines: u64,
    /// See `Counters::wsk_send_to`.
    pub wsk_send_to: u64,
    /// See `Counters::wsk_send_messages`.
    pub wsk_send_messages: u64,
    /// See `Counters::wsk_send_to_null_remote`.
    pub wsk_send_to_null_remote: u64,
    /// See `Counters::datagrams_sent`.
    pub datagrams_sent: u64,
    /// See `Counters::wsk_receive_from`.
    pub wsk_receive_from: u64,
    /// See `Counters::datagrams_received`.
    pub datagrams_received: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        CounterSnapshot {
            pool_allocations: get(&self.pool_allocations),
            irp_allocations: get(&self.irp_allocations),
            irp_frees: get(&self.irp_frees),
            mdl_allocations: get(&self.mdl_allocations),
            completion_routines: get(&self.completion_routines),
            wsk_send_to: get(&self.wsk_send_to),
            wsk_send_messages: get(&self.wsk_send_messages),
            wsk_send_to_null_remote: get(&self.wsk_send_to_null_remote),
            datagrams_sent: get(&self.datagrams_sent),
            wsk_receive_from: get(&self.wsk_receive_from),
            datagrams_received: get(&self.datagrams_received),
        }
    }
}
