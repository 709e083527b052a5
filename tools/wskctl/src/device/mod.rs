//! How wskctl reaches the driver.
//!
//! One trait, [`Device`], and one backend per host: on Windows the installed driver behind
//! `\\.\WskSample`; elsewhere the same driver code loaded into the kernel model in-process.
//! Errors are classified here once, so every command maps them to the same exit codes and
//! advice.

use std::fmt;

use wsk_sample_ioctl::status as nt;

#[cfg(not(windows))]
mod model;
pub mod win32;
#[cfg(windows)]
mod windows;

#[cfg(not(windows))]
pub use model::{BACKEND_NAME, ModelDevice as Backend};
#[cfg(windows)]
pub use windows::{BACKEND_NAME, WindowsDevice as Backend};

/// The kernel model sends only to loopback (a safety net of the sandbox it runs in).
pub const LOOPBACK_ONLY: bool = cfg!(not(windows));
/// Only the kernel model has a trace and an unload report.
pub const HAS_TRACE: bool = cfg!(not(windows));

/// Talks to the driver. Implemented by both backends, and by fakes in tests.
pub trait Device {
    /// Issues a synchronous DeviceIoControl; on success returns the bytes the driver returned.
    fn ioctl(&self, code: u32, input: &[u8], output_len: usize) -> Result<Vec<u8>, DeviceError>;
}

/// What a command needs the handle for; decides the access it asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceAccess {
    /// Queries only (GENERIC_READ).
    Query,
    /// Sends and configuration (GENERIC_READ | GENERIC_WRITE).
    Send,
}

/// Receives the kernel model's trace lines as they happen (from any thread).
pub type TraceSink = Box<dyn Fn(&str) + Send + 'static>;

/// How to open the device.
pub struct OpenOptions {
    pub access: DeviceAccess,
    /// Where trace lines go; only the kernel model has a trace, Windows ignores this.
    #[cfg_attr(windows, allow(dead_code))]
    pub trace: Option<TraceSink>,
    /// Let calls on the handle overlap (the kernel model's FILE_FLAG_OVERLAPPED handle): `recv`
    /// stops a pended receive from a second thread. Windows ignores this: its handle is always
    /// overlapped (see device/windows.rs).
    #[cfg_attr(windows, allow(dead_code))]
    pub concurrent: bool,
}

/// The kernel model's verdict at unload: rules broken and objects leaked.
#[derive(Clone, Debug)]
pub struct UnloadReport {
    pub clean: bool,
    pub text: String,
}

/// What the kernel model allocated on the driver's behalf since it loaded: only the model can
/// count this (Windows reports nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelAllocations {
    /// `IoAllocateIrp` successes.
    pub irps: u64,
    /// `IoAllocateMdl` successes.
    pub mdls: u64,
    /// `ExAllocatePool2` successes.
    pub pool: u64,
}

/// Opens the device of this host's backend.
pub fn open(options: OpenOptions) -> Result<Backend, DeviceError> {
    Backend::open(options)
}

/// A failure status as the backend reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The driver's NTSTATUS (kernel model).
    #[cfg_attr(windows, allow(dead_code))] // Windows reports Win32 errors instead
    Nt(i32),
    /// The Win32 error `GetLastError` returned (Windows).
    #[cfg_attr(not(windows), allow(dead_code))] // built everywhere so its tests run everywhere
    Win32(u32),
}

impl Status {
    /// The raw value (an NTSTATUS as its unsigned bit pattern).
    pub fn code(self) -> u32 {
        match self {
            Status::Nt(status) => status as u32,
            Status::Win32(code) => code,
        }
    }

    /// "ntstatus" or "win32".
    pub fn kind(self) -> &'static str {
        match self {
            Status::Nt(_) => "ntstatus",
            Status::Win32(_) => "win32",
        }
    }

    /// The value as people write it: hexadecimal for NTSTATUS, decimal for Win32 errors.
    pub fn code_text(self) -> String {
        match self {
            Status::Nt(status) => format!("{:#010X}", status as u32),
            Status::Win32(code) => code.to_string(),
        }
    }

    pub fn name(self) -> Option<&'static str> {
        match self {
            Status::Nt(status) => nt::name(status),
            Status::Win32(code) => win32::name(code),
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Status::Nt(status) => nt::describe(status),
            Status::Win32(code) => win32::describe(code),
        }
    }

    /// What to try next, for the statuses that have an obvious next step.
    fn hint(self) -> Option<&'static str> {
        let name = self.name()?;
        Some(match name {
            "STATUS_DEVICE_NOT_READY" | "ERROR_NOT_READY" => {
                "Winsock Kernel was not ready for the driver yet; retry in a few seconds"
            }
            "STATUS_INSUFFICIENT_RESOURCES" | "STATUS_NO_MEMORY" | "ERROR_NO_SYSTEM_RESOURCES" => {
                "the driver's send buffers or memory ran out; lower --rate or retry"
            }
            "STATUS_NETWORK_UNREACHABLE"
            | "STATUS_HOST_UNREACHABLE"
            | "STATUS_PORT_UNREACHABLE"
            | "STATUS_CONNECTION_REFUSED"
            | "ERROR_NETWORK_UNREACHABLE"
            | "ERROR_HOST_UNREACHABLE"
            | "ERROR_PORT_UNREACHABLE"
            | "ERROR_CONNECTION_REFUSED" => {
                "check the destination address and that a receiver is listening there"
            }
            "STATUS_DEVICE_BUSY" | "ERROR_BUSY" => {
                "the driver changes a socket's settings only while no send is in flight on it; \
                 retry when the sends in progress have finished"
            }
            "STATUS_INVALID_ADDRESS" | "ERROR_UNEXP_NET_ERR" => {
                "a send to a socket's fixed destination needs one set first (wskctl config \
                 --remote/--sendto, or send --mode fixed-remote|fixed-sendto); a --bind address \
                 must belong to this host"
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.code_text())?,
            None => write!(f, "{} {}", self.kind(), self.code_text())?,
        }
        write!(f, ": {}", self.description())?;
        if let Some(hint) = self.hint() {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Why a request did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// `\\.\WskSample` does not exist: the driver is not installed or its device is not started.
    NotInstalled { detail: String },
    /// The device's security descriptor refused this user.
    AccessDenied { detail: String },
    /// The driver does not understand the request or its reply does not decode: the driver and
    /// wskctl come from different versions.
    VersionMismatch { detail: String },
    /// The device could not be opened for another reason.
    #[cfg_attr(not(windows), allow(dead_code))] // only CreateFileW reports these
    Unavailable { detail: String },
    /// The driver completed the request with this failure status.
    Failed(Status),
    /// Anything else.
    Other(String),
}

impl DeviceError {
    /// Classifies an NTSTATUS the driver completed a request with.
    #[cfg_attr(windows, allow(dead_code))] // kernel-model backend; unit-tested everywhere
    pub fn from_ntstatus(status: i32) -> DeviceError {
        match status {
            nt::STATUS_INVALID_DEVICE_REQUEST | nt::STATUS_REVISION_MISMATCH => {
                DeviceError::VersionMismatch {
                    detail: Status::Nt(status).to_string(),
                }
            }
            nt::STATUS_ACCESS_DENIED => DeviceError::AccessDenied {
                detail: Status::Nt(status).to_string(),
            },
            _ => DeviceError::Failed(Status::Nt(status)),
        }
    }

    /// Classifies the Win32 error of a failed DeviceIoControl.
    #[cfg_attr(not(windows), allow(dead_code))] // Windows backend; unit-tested everywhere
    pub fn from_win32_ioctl(code: u32) -> DeviceError {
        match code {
            win32::ERROR_INVALID_FUNCTION | win32::ERROR_REVISION_MISMATCH => {
                DeviceError::VersionMismatch {
                    detail: Status::Win32(code).to_string(),
                }
            }
            win32::ERROR_ACCESS_DENIED => DeviceError::AccessDenied {
                detail: Status::Win32(code).to_string(),
            },
            _ => DeviceError::Failed(Status::Win32(code)),
        }
    }

    /// Classifies the Win32 error of a failed CreateFileW on the device.
    #[cfg_attr(not(windows), allow(dead_code))] // Windows backend; unit-tested everywhere
    pub fn from_win32_open(code: u32) -> DeviceError {
        let detail = Status::Win32(code).to_string();
        match code {
            win32::ERROR_FILE_NOT_FOUND | win32::ERROR_PATH_NOT_FOUND => {
                DeviceError::NotInstalled { detail }
            }
            win32::ERROR_ACCESS_DENIED => DeviceError::AccessDenied { detail },
            _ => DeviceError::Unavailable { detail },
        }
    }

    /// A reply that does not decode means the driver speaks another ABI version.
    pub fn bad_reply(what: &str, error: wsk_sample_ioctl::AbiError) -> DeviceError {
        DeviceError::VersionMismatch {
            detail: format!("the driver's {what} reply does not decode: {error}"),
        }
    }

    /// True when retrying another datagram cannot help: the driver is not reachable as this
    /// tool expects.
    pub fn is_driver_unavailable(&self) -> bool {
        matches!(
            self,
            DeviceError::NotInstalled { .. }
                | DeviceError::AccessDenied { .. }
                | DeviceError::VersionMismatch { .. }
                | DeviceError::Unavailable { .. }
        )
    }

    /// A short machine-readable kind for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            DeviceError::NotInstalled { .. } => "driver_not_installed",
            DeviceError::AccessDenied { .. } => "access_denied",
            DeviceError::VersionMismatch { .. } => "version_mismatch",
            DeviceError::Unavailable { .. } => "driver_unavailable",
            DeviceError::Failed(_) => "request_failed",
            DeviceError::Other(_) => "other",
        }
    }

    /// The driver's or the system's status, when there is one.
    pub fn status(&self) -> Option<Status> {
        match self {
            DeviceError::Failed(status) => Some(*status),
            _ => None,
        }
    }

    /// True when the request was cancelled: STATUS_CANCELLED from the driver, which Windows
    /// reports as ERROR_OPERATION_ABORTED.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self.status(),
            Some(Status::Nt(wsk_sample_ioctl::status::STATUS_CANCELLED))
                | Some(Status::Win32(win32::ERROR_OPERATION_ABORTED))
        )
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NotInstalled { detail } => write!(
                f,
                "the wsk-sample driver is not installed or not started (opening {} failed: {detail}): \
                 see README 'Install on Windows' (docs/WINDOWS.md, section 4), then check \
                 `devcon status Root\\WskSample`",
                wsk_sample_ioctl::USER_DEVICE_PATH
            ),
            DeviceError::AccessDenied { detail } => write!(
                f,
                "access to {} was denied ({detail}): only SYSTEM and Administrators may use the driver; \
                 run wskctl from an elevated prompt",
                wsk_sample_ioctl::USER_DEVICE_PATH
            ),
            DeviceError::VersionMismatch { detail } => write!(
                f,
                "the driver does not understand wskctl's request ({detail}): the installed wsk-sample \
                 driver and this wskctl come from different versions; install the driver built with \
                 this wskctl"
            ),
            DeviceError::Unavailable { detail } => write!(
                f,
                "could not open {} ({detail}): check `devcon status Root\\WskSample` and the \
                 troubleshooting table in docs/WINDOWS.md",
                wsk_sample_ioctl::USER_DEVICE_PATH
            ),
            DeviceError::Failed(status) => write!(f, "the driver failed the request: {status}"),
            DeviceError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DeviceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_that_mean_another_version_are_version_mismatches() {
        for status in [
            nt::STATUS_INVALID_DEVICE_REQUEST,
            nt::STATUS_REVISION_MISMATCH,
        ] {
            assert!(matches!(
                DeviceError::from_ntstatus(status),
                DeviceError::VersionMismatch { .. }
            ));
        }
        for code in [
            win32::ERROR_INVALID_FUNCTION,
            win32::ERROR_REVISION_MISMATCH,
        ] {
            assert!(matches!(
                DeviceError::from_win32_ioctl(code),
                DeviceError::VersionMismatch { .. }
            ));
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let not_installed = DeviceError::from_win32_open(2).to_string();
        assert!(
            not_installed.contains("not installed or not started"),
            "{not_installed}"
        );
        assert!(
            not_installed.contains("ERROR_FILE_NOT_FOUND (2)"),
            "{not_installed}"
        );
        assert!(
            DeviceError::from_win32_open(5)
                .to_string()
                .contains("elevated prompt")
        );
        let failed = DeviceError::from_ntstatus(nt::STATUS_PORT_UNREACHABLE).to_string();
        assert!(
            failed.contains("STATUS_PORT_UNREACHABLE (0xC000023F)"),
            "{failed}"
        );
        let busy = DeviceError::from_ntstatus(nt::STATUS_DEVICE_BUSY).to_string();
        assert!(
            busy.contains("STATUS_DEVICE_BUSY") && busy.contains("no send is in flight"),
            "{busy}"
        );
        let fixed = DeviceError::from_win32_ioctl(170).to_string();
        assert!(fixed.contains("ERROR_BUSY (170)"), "{fixed}");
        let no_fixed = DeviceError::from_ntstatus(nt::STATUS_INVALID_ADDRESS).to_string();
        assert!(no_fixed.contains("fixed destination"), "{no_fixed}");
        assert!(
            Status::Nt(0x1234_5678)
                .to_string()
                .contains("ntstatus 0x12345678")
        );
    }
}
