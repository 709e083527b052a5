//! The harness's plain values: what a handle is opened for and how, what DeviceIoControl
//! returned, why the harness failed, and the unload report.

use std::fmt;

use crate::kernel::{Rule, Violation};
use crate::types::*;

/// A driver's entry point, as the driver exports it.
pub type DriverEntry = unsafe extern "system" fn(PDRIVER_OBJECT, PCUNICODE_STRING) -> NTSTATUS;

/// What a handle was opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// FILE_READ_DATA (GENERIC_READ).
    pub read: bool,
    /// FILE_WRITE_DATA (GENERIC_WRITE).
    pub write: bool,
}

impl Access {
    /// GENERIC_READ | GENERIC_WRITE.
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
    };
    /// GENERIC_READ.
    pub const READ: Access = Access {
        read: true,
        write: false,
    };
}

/// How a handle is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IoMode {
    /// CreateFile without FILE_FLAG_OVERLAPPED (what wskctl does): calls on the handle are
    /// serialised by the I/O manager.
    #[default]
    Synchronous,
    /// FILE_FLAG_OVERLAPPED: calls on the handle may be in the driver at the same time.
    Overlapped,
}

/// What DeviceIoControl returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoResult {
    /// The request's final status.
    pub status: NTSTATUS,
    /// Bytes the driver reported (Information).
    pub information: u64,
    /// The output bytes the I/O manager copies back: the first `information` bytes (for
    /// success and warning statuses), none for errors.
    pub output: Vec<u8>,
}

/// Why the harness could not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarnessError {
    /// DriverEntry failed with this status.
    DriverEntryFailed(NTSTATUS),
    /// EvtDriverDeviceAdd failed with this status, or created no device.
    DeviceAddFailed(NTSTATUS),
    /// No device answers to that path.
    NoSuchDevice(String),
    /// The device's security descriptor denies the caller.
    AccessDenied,
    /// The driver did not complete the request in time (a user thread would hang).
    RequestNotCompleted,
    /// No driver is loaded.
    NotLoaded,
    /// The request can never complete because the driver broke this rule (on Windows the
    /// caller would hang); the violation is also in the report.
    RuleBroken(Violation),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::DriverEntryFailed(s) => write!(f, "DriverEntry failed with {s:#010x}"),
            HarnessError::DeviceAddFailed(s) => {
                write!(f, "EvtDriverDeviceAdd failed with {s:#010x}")
            }
            HarnessError::NoSuchDevice(p) => write!(f, "no device is named {p}"),
            HarnessError::AccessDenied => {
                write!(f, "the device's security descriptor denies access")
            }
            HarnessError::RequestNotCompleted => {
                write!(f, "the driver did not complete the request in time")
            }
            HarnessError::NotLoaded => write!(f, "no driver is loaded"),
            HarnessError::RuleBroken(violation) => {
                write!(f, "the request can never complete: {violation}")
            }
        }
    }
}

impl std::error::Error for HarnessError {}

/// What unload found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every rule broken during the kernel's life, leaks included (rule LEAK).
    pub violations: Vec<Violation>,
    /// One line per kind of object with what was still outstanding (empty when clean).
    pub leaks: Vec<String>,
    /// Set when the unload did not happen: the PnP manager vetoed the orderly removal because
    /// handles were open (nothing was purged; the driver stays loaded).
    pub vetoed: Option<String>,
}

impl Report {
    /// No violation and no leak, and the driver really unloaded.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty() && self.leaks.is_empty() && self.vetoed.is_none()
    }

    /// Whether a violation of `rule` was recorded.
    pub fn broke(&self, rule: Rule) -> bool {
        self.violations.iter().any(|v| v.rule == rule)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return write!(
                f,
                "clean: no rule broken; pool, IRPs, MDLs, sockets, registrations, captures and requests all returned"
            );
        }
        for violation in &self.violations {
            writeln!(f, "{violation}")?;
        }
        for leak in &self.leaks {
            writeln!(f, "leak: {leak}")?;
        }
        if let Some(veto) = &self.vetoed {
            writeln!(f, "not unloaded: {veto}")?;
        }
        Ok(())
    }
}
