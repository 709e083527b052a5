//! Fixtures shared by the wsk-sample tests and benchmark (`crates/driver/tests`,
//! `crates/driver/benches`, `tools/wskctl/tests`): one copy of each, so a change to how the
//! driver is loaded or how a datagram is received is made once.
//!
//! * [`Rig`] (off Windows): the kernel model booted, the real driver (`wsk_sample_driver`)
//!   loaded, its device opened, and the IOCTL ABI spoken to it;
//! * [`Receiver`]: a UDP receiver on loopback;
//! * [`pattern`] and [`send_size_pattern`]: payloads whose bytes show a mix-up.
//!
//! A dev-dependency only; nothing here is part of the driver.

mod patterns;
mod receiver;
#[cfg(not(target_os = "windows"))]
mod rig;

pub use patterns::{pattern, send_size_pattern};
pub use receiver::{RECEIVE_TIMEOUT, Receiver, free_port};
#[cfg(not(target_os = "windows"))]
pub use rig::{LoadFailed, Rig};
