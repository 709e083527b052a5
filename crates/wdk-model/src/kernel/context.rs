//! The current thread's context: which kernel it runs in, its IRQL, and whether it is inside a
//! completion routine.
//!
//! Every model entry point finds "its" kernel through a thread-local set by the harness (on the
//! caller's thread) and by the provider's worker threads, so several kernels can run side by
//! side in one test process without sharing anything.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::rule::rules;
use super::state::KernelState;
use crate::types::KIRQL;

thread_local! {
    static CURRENT: RefCell<Option<Arc<KernelState>>> = const { RefCell::new(None) };
    static IRQL: Cell<KIRQL> = const { Cell::new(0) };
    static COMPLETION_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The kernel this thread runs in. Calling a kernel routine on a thread no harness entered is a
/// harness misuse, not a driver bug.
pub(crate) fn current() -> Arc<KernelState> {
    CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        panic!("kernel model: a kernel routine was called on a thread that is not running a kernel")
    })
}

/// Makes `kernel` this thread's kernel until the guard drops.
pub(crate) fn enter(kernel: &Arc<KernelState>) -> EnterGuard {
    let previous = CURRENT.with(|c| c.replace(Some(kernel.clone())));
    EnterGuard {
        previous: Some(previous),
    }
}

pub(crate) struct EnterGuard {
    previous: Option<Option<Arc<KernelState>>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
}

pub(crate) fn irql() -> KIRQL {
    IRQL.with(Cell::get)
}

pub(crate) fn set_irql(level: KIRQL) {
    IRQL.with(|c| c.set(level));
}

/// Runs `f` at `level`, restoring the previous IRQL after.
pub(crate) fn at_irql<R>(level: KIRQL, f: impl FnOnce() -> R) -> R {
    let previous = irql();
    set_irql(level);
    let result = f();
    set_irql(previous);
    result
}

/// Whether this thread is inside a completion routine: for diagnostics only (calling WSK from
/// one is legal).
pub(crate) fn in_completion_routine() -> bool {
    COMPLETION_DEPTH.with(Cell::get) > 0
}

pub(crate) fn with_completion_routine<R>(f: impl FnOnce() -> R) -> R {
    COMPLETION_DEPTH.with(|c| c.set(c.get() + 1));
    let result = f();
    COMPLETION_DEPTH.with(|c| c.set(c.get() - 1));
    result
}

pub(crate) const PASSIVE: KIRQL = 0;
pub(crate) const DISPATCH: KIRQL = 2;

/// Checks that the caller runs at or below `max`; records the violation otherwise.
pub(crate) fn require_irql(kernel: &KernelState, routine: &str, max: KIRQL) -> bool {
    let now = irql();
    if now > max {
        kernel.violate(
            rules::IRQL_TOO_HIGH,
            format!("{routine} called at IRQL {now}; it requires IRQL <= {max}"),
        );
        return false;
    }
    true
}
