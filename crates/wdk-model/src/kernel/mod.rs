//! The kernel core: the bottom layer of the model, which knows no subsystem.
//!
//! It holds what every subsystem shares: the rules and the record of broken ones
//! ([`rule`]), the knobs ([`config`]), the counters ([`counters`]), the state of one kernel
//! with its trace and fault injection ([`state`]), the typed slots in which each subsystem
//! keeps its own table ([`slots`]), and the current thread's kernel and IRQL ([`context`]).
//! Subsystems (pool, irp, mdl, sync, devobj, debug, wdf, wsk) sit above it and the
//! composition root (`crate::boot`) and the harness above them; nothing here imports them
//! (docs/ARCHITECTURE.md, section 3, and the `module_graph` test).

pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod counters;
pub(crate) mod rule;
pub(crate) mod slots;
pub(crate) mod state;

pub use config::{CompletionMode, DestinationPolicy, Fault, FaultSite, KernelConfig, SpecialPool};
pub(crate) use context::{
    DISPATCH, EnterGuard, PASSIVE, at_irql, current, enter, in_completion_routine, irql,
    require_irql, set_irql, with_completion_routine,
};
pub use counters::CounterSnapshot;
pub use rule::{Rule, Violation, rules};
pub(crate) use state::{KernelState, lock};
