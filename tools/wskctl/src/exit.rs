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
            Failure::Device(error) => error.exit_status(),
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
