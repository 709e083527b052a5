//! wsk-sample-driver: the logic of the wsk-sample KMDF driver, which sends and receives UDP
//! datagrams through Winsock Kernel (WSK). The driver binary is the root package, a thin cdylib
//! that exports DriverEntry and supplies the kernel allocator and panic handler (see
//! docs/ARCHITECTURE.md, "Crates").
//!
//! The driver names every kernel item through `wdk_sys`. On Windows that is Microsoft's crate
//! (bindings generated from the WDK); on any other host the crate root below points the same
//! name at the project's kernel model, so this source runs unchanged on both. See
//! docs/ARCHITECTURE.md.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
// One unsafe operation per block, each with its own SAFETY comment (windows-drivers-rs does the same).
#![deny(clippy::multiple_unsafe_ops_per_block)]
// Request handling must not be able to panic (a panic is a bugcheck): no unwrap, expect, panic
// or unchecked indexing in driver code.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

// The one kernel switch: off Windows, `wdk_sys` is the kernel model.
#[cfg(not(target_os = "windows"))]
extern crate wdk_model as wdk_sys;

mod context;
mod device;
mod engine;
mod failure;
mod ioctl;
mod irp;
mod kernel;
mod receive;
mod request;
mod rundown;
mod slots;
mod sync;
mod sync_call;
#[cfg(all(test, loom))]
mod sync_call_loom;
mod trace;
mod wdf_init;
mod wsk;

pub use device::driver_entry;
#[cfg(not(target_os = "windows"))]
pub use engine::set_control_timeout_ms;
pub use engine::{CONTROL_TIMEOUT_MS, DEFAULT_SLOT_COUNT, SLOT_SIZE};
pub use receive::BUFFERS as RECEIVE_BUFFERS;
pub use receive::pool::BUFFER_SIZE as RECEIVE_BUFFER_SIZE;
