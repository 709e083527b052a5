//! The state of one simulated kernel: what every subsystem shares (config, boot time, the
//! violations, the trace, fault injection, counters, the driver's phase) and the typed slots
//! that hold each subsystem's table. It names no subsystem.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::config::{FaultSite, KernelConfig};
use super::counters::{CounterSnapshot, Counters};
use super::rule::{Rule, Violation};
use super::slots::Slots;
use crate::types::NTSTATUS;

/// Receives trace lines as they happen.
pub(crate) type TraceSink = Box<dyn Fn(&str) + Send>;

/// The state of one simulated kernel (`harness::Kernel` is the handle tests hold on one).
///
/// Synchronisation: each shared field has its own mutex or atomic, as its comment says; the
/// slots are filled before the state is shared and never change (each subsystem table in them
/// carries its own lock).
pub(crate) struct KernelState {
    /// The knobs; immutable after boot.
    pub(crate) config: KernelConfig,
    /// When the kernel booted; immutable.
    pub(crate) booted_at: Instant,
    /// Rules broken so far, in order (mutex).
    pub(crate) violations: Mutex<Vec<Violation>>,
    /// Trace lines (mutex), recorded only when `config.trace` is on.
    trace: Mutex<Vec<String>>,
    /// Where trace lines are streamed as they happen (mutex).
    trace_sink: Mutex<Option<TraceSink>>,
    /// Calls counted per fault-injection site (mutex), only when faults are configured.
    fault_counts: Mutex<HashMap<FaultSite, u64>>,
    /// Allocation and call counters (atomics).
    pub(crate) counters: Counters,
    /// DriverEntry is running (atomic): an unbounded wait then is a stop.
    pub(crate) in_driver_entry: AtomicBool,
    /// Completion routines of the driver running now (atomic): none may run after unload.
    pub(crate) completion_routines_running: AtomicU64,
    /// One table per subsystem, filled by the composition root (see [`Slots`]).
    slots: Slots,
}

impl KernelState {
    /// A kernel with `config` whose subsystems keep their tables in `slots`.
    pub(crate) fn new(config: KernelConfig, slots: Slots) -> KernelState {
        KernelState {
            booted_at: Instant::now(),
            violations: Mutex::new(Vec::new()),
            trace: Mutex::new(Vec::new()),
            trace_sink: Mutex::new(None),
            fault_counts: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            in_driver_entry: AtomicBool::new(false),
            completion_routines_running: AtomicU64::new(0),
            slots,
            config,
        }
    }

    /// The slot of type `T`: for a subsystem's own accessor only (see [`Slots`]).
    pub(crate) fn slot<T: Any>(&self) -> &T {
        self.slots.get()
    }

    /// Records a broken rule, loudly.
    pub(crate) fn violate(&self, rule: Rule, detail: impl Into<String>) {
        let violation = Violation {
            rule,
            detail: detail.into(),
        };
        eprintln!("{violation}");
        self.note(format!("!! {violation}"));
        lock(&self.violations).push(violation);
    }

    /// Appends a trace line when tracing is on.
    pub(crate) fn note(&self, line: impl Into<String>) {
        if !self.config.trace {
            return;
        }
        let line = line.into();
        if let Some(sink) = lock(&self.trace_sink).as_ref() {
            sink(&line);
        }
        lock(&self.trace).push(line);
    }

    pub(crate) fn tracing(&self) -> bool {
        self.config.trace
    }

    pub(crate) fn set_trace_sink(&self, sink: Option<TraceSink>) {
        *lock(&self.trace_sink) = sink;
    }

    pub(crate) fn take_trace(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.trace))
    }

    /// Counts a call at `site` and says whether this one must fail, and how.
    pub(crate) fn injected_fault(&self, site: FaultSite) -> Option<NTSTATUS> {
        if self.config.faults.is_empty() {
            return None;
        }
        let mut counts = lock(&self.fault_counts);
        let count = counts.entry(site).or_insert(0);
        *count += 1;
        let nth = *count;
        drop(counts);
        let fault = self
            .config
            .faults
            .iter()
            .find(|f| f.site == site && f.nth == nth)?;
        self.note(format!(
            "fault injected: call {nth} of {site:?} fails with {:#010x}",
            fault.status
        ));
        Some(fault.status)
    }

    /// How many calls reached `site` so far (counted only when faults are configured).
    pub(crate) fn site_calls(&self, site: FaultSite) -> u64 {
        lock(&self.fault_counts).get(&site).copied().unwrap_or(0)
    }

    pub(crate) fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }
}

/// Locks a mutex, ignoring poisoning: a panic elsewhere must not hide the model's report.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
