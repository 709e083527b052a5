//! Helpers shared by wskctl's end-to-end tests: run the binary and read what it printed. The
//! loopback receivers and payload patterns are the project's shared fixtures (`test-fixtures`).
#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

/// The wskctl binary built for these tests.
pub fn wskctl() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wskctl"));
    // A hung run must fail the test, not the CI job.
    command.timeout(Duration::from_secs(120));
    command
}

/// Runs wskctl with `args` and returns its output after checking it did not panic.
pub fn run(args: &[&str]) -> Output {
    let output = wskctl().args(args).output().expect("wskctl runs");
    assert_no_panic(&output);
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn assert_no_panic(output: &Output) {
    let stderr = stderr(output);
    assert!(!stderr.contains("panicked"), "wskctl panicked:\n{stderr}");
}

/// Parses stdout as exactly one JSON object.
pub fn json(output: &Output) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not one JSON value ({error}):\n{}",
            stdout(output)
        )
    });
    assert!(value.is_object(), "stdout is not a JSON object: {value}");
    value
}
