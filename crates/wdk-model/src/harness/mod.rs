//! The test bench: boot a kernel, load a driver (call its DriverEntry and deliver the
//! root-enumerated device), open its device, send it IOCTLs, unload it and read the report.
//!
//! Layout: `outcome` the plain values (access, I/O mode, results, errors, the report);
//! `handle` opening and closing handles; `ioctl` DeviceIoControl; `pnp` removal and unload;
//! `report` the leak report; `kernel` the [`Kernel`] that ties them together. Each uses only
//! the ones listed before it; this file only re-exports.

mod handle;
mod ioctl;
mod kernel;
mod outcome;
mod pnp;
mod report;

pub use crate::kernel::{CounterSnapshot, KernelConfig, Violation};
pub use handle::Handle;
pub use kernel::Kernel;
pub use outcome::{Access, DriverEntry, HarnessError, IoMode, IoResult, Report};
