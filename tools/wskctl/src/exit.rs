//! Exit codes and the errors that end a command before it has anything to report.

use std::fmt;

use serde::Serialize;

use crate::device::DeviceError;

/// The process exit code. Ordered by severity, so combining two outcomes keeps the worse one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Everything asked for was done.
    Success = 0,
    /// Some datagrams failed, were lost or did not verify, or the run was interrupted.
    Partial = 1,
    /// The arguments were wrong; nothing was sent.
    Usage = 2,
    /// The driver is not installed or not started, access was denied, or versions differ.
    DriverUnavailable = 3,
    /// Anything else, including a kernel-model unload report that is not clean.
    Other = 4,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The worse of two outcomes.
    pub fn and(self, other: ExitStatus) -> ExitStatus {
        self.max(other)
    }
}

impl From<&DeviceError> for ExitStatus {
    /// A driver that cannot be reached as this tool expects is `DriverUnavailable`; a request
    /// the driver refused is `Partial`.
    fn from(error: &DeviceError) -> Self {
        match error {
            _ if error.is_driver_unavailable() => ExitStatus::DriverUnavailable,
            DeviceError::Failed(_) => ExitStatus::Partial,
            _ => ExitStatus::Other,
        }
    }
}

/// Why a command stopped before producing its normal report.
#[derive(Debug)]
pub enum Failure {
    /// Arguments that are well-formed for clap but wrong together, or a file that cannot be used.
    Usage(String),
    /// The driver could not be reached or refused the request.
    Device(DeviceError),
    /// Anything else (a socket that cannot be bound, a kernel-model problem).
    Other(String),
}

impl Failure {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Failure::Usage(_) => ExitStatus::Usage,
            Failure::Device(error) => ExitStatus::from(error),
            Failure::Other(_) => ExitStatus::Other,
        }
    }

    /// A short machine-readable kind for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "usage",
            Failure::Device(error) => error.kind(),
            Failure::Other(_) => "other",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Other(message) => f.write_str(message),
            Failure::Device(error) => error.fmt(f),
        }
    }
}

impl From<DeviceError> for Failure {
    fn from(error: DeviceError) -> Self {
        Failure::Device(error)
    }
}

/// The `--json` object printed when a command fails before its report.
#[derive(Serialize)]
pub struct FailureJson<'a> {
    pub ok: bool,
    pub exit_code: u8,
    pub error: ErrorJson<'a>,
}

#[derive(Serialize)]
pub struct ErrorJson<'a> {
    pub kind: &'a str,
    pub message: String,
    pub status: Option<crate::output::StatusJson>,
}

impl<'a> FailureJson<'a> {
    pub fn new(failure: &'a Failure) -> Self {
        let status = match failure {
            Failure::Device(error) => error.status().map(crate::output::StatusJson::from),
            _ => None,
        };
        FailureJson {
            ok: false,
            exit_code: failure.exit_status().code(),
            error: ErrorJson {
                kind: failure.kind(),
                message: failure.to_string(),
                status,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsk_sample_ioctl::status as nt;

    #[test]
    fn errors_map_to_exit_codes() {
        assert_eq!(
            ExitStatus::from(&DeviceError::from_win32_open(2)),
            ExitStatus::DriverUnavailable
        );
        assert_eq!(
            ExitStatus::from(&DeviceError::from_win32_open(5)),
            ExitStatus::DriverUnavailable
        );
        assert_eq!(
            ExitStatus::from(&DeviceError::from_ntstatus(nt::STATUS_ACCESS_DENIED)),
            ExitStatus::DriverUnavailable
        );
        assert_eq!(
            ExitStatus::from(&DeviceError::from_ntstatus(nt::STATUS_PORT_UNREACHABLE)),
            ExitStatus::Partial
        );
        assert_eq!(
            ExitStatus::from(&DeviceError::Other("x".into())),
            ExitStatus::Other
        );
    }

    #[test]
    fn the_worse_outcome_wins() {
        assert_eq!(
            ExitStatus::Success.and(ExitStatus::Partial),
            ExitStatus::Partial
        );
        assert_eq!(
            ExitStatus::Partial.and(ExitStatus::Other),
            ExitStatus::Other
        );
        assert_eq!(
            ExitStatus::DriverUnavailable.and(ExitStatus::Partial),
            ExitStatus::DriverUnavailable
        );
        assert_eq!(ExitStatus::Other.code(), 4);
    }
}
