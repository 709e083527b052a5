//! A strict user-mode model of the part of NT, KMDF and the WSK provider that wsk-sample uses,
//! shaped like `wdk-sys` so the same driver source compiles against either.
//!
//! * Types and constants live at the crate root, kernel routines in [`ntddk`], KMDF methods in
//!   [`wdf`] (called through [`call_unsafe_wdf_function_binding!`]), and the WSK provider's
//!   NETIO exports (`WskRegister`, …) are real `extern "system"` symbols the driver links to.
//! * Breaking a kernel rule records a [`Violation`] naming the rule (and prints it), the way a
//!   bugcheck or a Driver Verifier stop would on Windows; [`harness`] reports them with leaks.
//! * The WSK provider sends real datagrams through host UDP sockets, translating Windows
//!   address-family values at its edge.
#![allow(non_snake_case)]

mod boot;
mod constants;
mod debug;
mod devobj;
pub mod harness;
mod irp;
mod kernel;
mod mdl;
mod pool;
mod sddl;
mod sync;
mod types;
pub mod wdf;
pub mod wsk;

pub use constants::*;
pub use debug::DebugLine;
pub use kernel::{
    CompletionMode, CounterSnapshot, DestinationPolicy, Fault, FaultSite, KernelConfig, Rule,
    SpecialPool, Violation, rules,
};
pub use pool::FREED_POOL_POISON;
pub use sddl::Caller;
pub use types::*;

/// Kernel routines, where wdk-sys puts the ntddk.h functions.
pub mod ntddk {
    pub use crate::debug::DbgPrintEx;
    pub use crate::devobj::IoSetCompletionRoutineEx;
    pub use crate::irp::{IoAllocateIrp, IoFreeIrp, IoReuseIrp, IofCompleteRequest};
    pub use crate::mdl::{IoAllocateMdl, IoFreeMdl, MmBuildMdlForNonPagedPool};
    pub use crate::pool::{ExAllocatePool2, ExFreePoolWithTag};
    pub use crate::sync::{
        KeAcquireSpinLockRaiseToDpc, KeClearEvent, KeDelayExecutionThread, KeGetCurrentIrql,
        KeInitializeEvent, KeInitializeSpinLock, KeReadStateEvent, KeReleaseSpinLock, KeResetEvent,
        KeSetEvent, KeWaitForSingleObject,
    };
}

/// `NT_SUCCESS`, as wdk-sys provides it.
#[must_use]
pub const fn NT_SUCCESS(nt_status: NTSTATUS) -> bool {
    nt_status >= 0
}

/// Calls a KMDF method the way wdk-sys's macro of the same name does (without the
/// DriverGlobals argument): `call_unsafe_wdf_function_binding!(WdfName, args…)`, inside an
/// `unsafe` block.
#[macro_export]
macro_rules! call_unsafe_wdf_function_binding {
    ($name:ident $(, $argument:expr)* $(,)?) => {
        $crate::wdf::$name($($argument),*)
    };
}
