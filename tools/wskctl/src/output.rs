//! Output shared by the commands: writing to stdout/stderr without panicking on a closed pipe,
//! the `--json` object, and number formatting.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::device::{DeviceError, Status};

/// `println!` that ignores a closed stdout (e.g. `wskctl … | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

pub(crate) use {note, say};

/// Prints the one `--json` object of the run.
pub fn emit_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}");
            let _ = stdout.flush();
        }
        Err(error) => note!("error: could not encode the JSON report: {error}"),
    }
}

/// A status in `--json`.
#[derive(Serialize, Clone, Debug)]
pub struct StatusJson {
    /// The raw value (an NTSTATUS as unsigned).
    pub status: u32,
    /// "0xC000023F" for NTSTATUS, "1234" for Win32 errors.
    pub status_text: String,
    /// "ntstatus" or "win32".
    pub kind: &'static str,
    pub name: Option<&'static str>,
    pub description: &'static str,
}

impl From<Status> for StatusJson {
    fn from(status: Status) -> Self {
        StatusJson {
            status: status.code(),
            status_text: status.code_text(),
            kind: status.kind(),
            name: status.name(),
            description: status.description(),
        }
    }
}

/// A device error in `--json`: `status`, `name` and `description` are always present (null
/// status when the error is not a status), plus the kind and the full message.
#[derive(Serialize, Clone, Debug)]
pub struct ErrorReportJson {
    pub kind: &'static str,
    pub status: Option<u32>,
    pub status_text: Option<String>,
    pub name: Option<&'static str>,
    pub description: String,
    pub message: String,
}

impl From<&DeviceError> for ErrorReportJson {
    fn from(error: &DeviceError) -> Self {
        let status = error.status();
        ErrorReportJson {
            kind: error.kind(),
            status: status.map(Status::code),
            status_text: status.map(Status::code_text),
            name: status.and_then(Status::name),
            description: status.map_or_else(|| error.to_string(), |s| s.description().to_string()),
            message: error.to_string(),
        }
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Events per second, 0 for an empty interval.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// Bytes per second as megabits per second.
pub fn megabits_per_second(bytes: u64, elapsed: Duration) -> f64 {
    per_second(bytes, elapsed) * 8.0 / 1e6
}

/// "0.012 s".
pub fn seconds(elapsed: Duration) -> String {
    format!("{:.3} s", elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(65_507), "65,507");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn rates_handle_an_empty_interval() {
        assert_eq!(per_second(10, Duration::ZERO), 0.0);
        assert_eq!(per_second(10, Duration::from_secs(2)), 5.0);
        assert_eq!(megabits_per_second(1_000_000, Duration::from_secs(8)), 1.0);
    }
}
