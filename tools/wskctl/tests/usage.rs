//! Arguments wskctl must refuse before touching the driver (exit 2 with a clear message, never a
//! panic), and the help text. These run on every host: nothing here opens the device.

mod common;

use common::{run, stderr, stdout, wskctl};
use predicates::prelude::*;

/// Runs wskctl and checks it exits 2 with `expected` in its message.
fn refused(args: &[&str], expected: &str) {
    let output = run(args);
    let message = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?} should be a usage error; stderr:\n{message}"
    );
    assert!(
        message.to_lowercase().contains(&expected.to_lowercase()),
        "{args:?}: stderr should mention {expected:?}:\n{message}"
    );
    assert!(
        stdout(&output).is_empty() || args.contains(&"--json"),
        "{args:?} printed on stdout"
    );
}

#[test]
fn help_lists_the_commands_and_the_exit_codes() {
    let output = run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for needle in [
        "send",
        "stats",
        "listen",
        "demo",
        "config",
        "bench",
        "Exit codes",
        "driver unavailable",
        "usage error",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
    for command in ["send", "stats", "listen", "demo", "config", "bench"] {
        let output = run(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{command} --help");
        let help = stdout(&output);
        assert!(
            help.contains("Exit codes") && help.contains("--json"),
            "{command} --help:\n{help}"
        );
    }
    let send_help = stdout(&run(&["send", "--help"]));
    assert!(
        send_help.contains("sequence number") && send_help.contains("little-endian"),
        "{send_help}"
    );
}

#[test]
fn version_and_help_exit_zero() {
    wskctl()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("wskctl "));
    wskctl()
        .args(["help", "send"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--rate").and(predicate::str::contains("Exit codes")));
}

#[test]
fn bad_destinations_are_refused() {
    refused(
        &["send", "--to", "nowhere", "--payload", "x"],
        "not an address",
    );
    refused(
        &["send", "--to", "127.0.0.1", "--payload", "x"],
        "not an address",
    );
    refused(
        &["send", "--to", "::1:5000", "--payload", "x"],
        "[IPV6]:PORT",
    );
    refused(&["send", "--to", "127.0.0.1:0", "--payload", "x"], "port 0");
    refused(&["send", "--to", "[::1]:0", "--payload", "x"], "port 0");
    refused(
        &["send", "--to", "127.0.0.1:70000", "--payload", "x"],
        "not an address",
    );
}

#[test]
fn payloads_must_fit_the_family() {
    // Windows command lines stop at 32,767 characters, too short for this payload.
    if cfg!(not(windows)) {
        let too_big_v4 = "x".repeat(65_508);
        refused(
            &["send", "--to", "127.0.0.1:9", "--payload", &too_big_v4],
            "65,507",
        );
    }
    refused(
        &["send", "--to", "127.0.0.1:9", "--size", "65508"],
        "65,507",
    );
    refused(&["send", "--to", "[::1]:9", "--size", "65528"], "65,527");
    refused(&["send", "--to", "127.0.0.1:9", "--payload", ""], "empty");
}

#[test]
fn the_size_pattern_needs_eight_bytes() {
    refused(
        &["send", "--to", "127.0.0.1:9", "--size", "3"],
        "at least 8",
    );
    refused(
        &["send", "--to", "127.0.0.1:9", "--size", "-1"],
        "invalid value",
    );
}

#[test]
fn counts_and_rates_must_be_positive() {
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--count",
            "0",
        ],
        "at least 1",
    );
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--count",
            "many",
        ],
        "not a whole number",
    );
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--rate",
            "0",
        ],
        "positive",
    );
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--rate",
            "-5",
        ],
        "positive",
    );
    refused(
        &["listen", "--bind", "127.0.0.1:0", "--timeout", "0"],
        "positive",
    );
    refused(
        &["listen", "--bind", "127.0.0.1:0", "--count", "0"],
        "at least 1",
    );
}

#[test]
fn exactly_one_payload_source() {
    refused(&["send", "--to", "127.0.0.1:9"], "required");
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--size",
            "9",
        ],
        "cannot be used with",
    );
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--file",
            "f",
        ],
        "cannot be used with",
    );
}

#[test]
fn unusable_files_are_refused() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let missing = directory.path().join("missing.bin");
    let missing = missing.to_str().expect("a UTF-8 path");
    refused(
        &["send", "--to", "127.0.0.1:9", "--file", missing],
        "cannot read --file",
    );
    let empty = directory.path().join("empty.bin");
    std::fs::write(&empty, b"").expect("write an empty file");
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--file",
            empty.to_str().expect("UTF-8"),
        ],
        "empty",
    );
    let folder = directory.path().to_str().expect("UTF-8");
    refused(
        &["send", "--to", "127.0.0.1:9", "--file", folder],
        "directory",
    );
    let data = directory.path().join("data.bin");
    std::fs::write(&data, b"0123456789").expect("write a file");
    let data = data.to_str().expect("UTF-8");
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--file",
            data,
            "--count",
            "2",
        ],
        "--count",
    );
    refused(
        &["send", "--to", "127.0.0.1:9", "--file", data, "--size", "0"],
        "at least 1 byte",
    );
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--file",
            data,
            "--size",
            "65508",
        ],
        "65,507",
    );
}

#[test]
fn usage_errors_with_json_still_print_one_object() {
    let output = run(&["send", "--json", "--to", "127.0.0.1:9", "--size", "3"]);
    assert_eq!(output.status.code(), Some(2));
    let value = common::json(&output);
    assert_eq!(value["exit_code"], 2);
    assert_eq!(value["error"]["kind"], "usage");
}

#[test]
fn batch_sizes_are_one_to_256() {
    for batch in ["0", "257", "-1"] {
        refused(
            &[
                "send",
                "--to",
                "127.0.0.1:9",
                "--size",
                "64",
                "--count",
                "10",
                "--batch",
                batch,
            ],
            "--batch",
        );
        refused(&["bench", "--batch", batch], "--batch");
    }
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--size",
            "64",
            "--batch",
            "257",
        ],
        "1 to 256",
    );
}

#[test]
fn send_modes_and_bind_are_checked() {
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--mode",
            "fixed",
        ],
        "invalid value",
    );
    refused(
        &[
            "send",
            "--to",
            "127.0.0.1:9",
            "--payload",
            "x",
            "--bind",
            "[::1]:0",
        ],
        "different families",
    );
    let help = stdout(&run(&["send", "--help"]));
    for needle in [
        "per-datagram",
        "fixed-remote",
        "fixed-sendto",
        "--batch",
        "NULL RemoteAddress",
    ] {
        assert!(
            help.contains(needle),
            "send --help lacks {needle:?}:\n{help}"
        );
    }
}

#[test]
fn config_needs_one_consistent_change() {
    refused(&["config", "--clear"], "--family");
    refused(&["config", "--clear", "--json"], "--family");
    refused(&["config"], "required");
    refused(
        &["config", "--bind", "127.0.0.1:0", "--family", "6"],
        "does not match",
    );
    refused(
        &[
            "config",
            "--remote",
            "127.0.0.1:9",
            "--sendto",
            "127.0.0.1:9",
        ],
        "cannot be used with",
    );
    refused(&["config", "--family", "5", "--clear"], "not a family");
    refused(&["config", "--pool-slots", "0"], "1 to 256");
    refused(
        &["config", "--pool-slots", "8", "--family", "4"],
        "whole driver",
    );
    let help = stdout(&run(&["config", "--help"]));
    assert!(
        help.contains("fresh copy of the driver") && help.contains("installed driver"),
        "config --help should say where a change lasts:\n{help}"
    );
}

#[test]
fn bench_arguments_are_checked() {
    refused(&["bench", "--size", "0"], "--size");
    refused(&["bench", "--size", "65508"], "65,507");
    refused(&["bench", "--count", "0"], "at least 1");
    refused(&["bench", "--rounds", "0"], "rounds");
    if cfg!(not(windows)) {
        refused(&["bench", "--to", "192.0.2.1:9"], "only to loopback");
    }
}

#[test]
fn unknown_commands_and_flags_are_usage_errors() {
    refused(&["frobnicate"], "unrecognized subcommand");
    refused(
        &["send", "--to", "127.0.0.1:9", "--payload", "x", "--bogus"],
        "unexpected argument",
    );
    refused(&[], "Usage");
}

#[test]
fn delivery_flags_are_checked_and_documented() {
    refused(
        &["recv-bench", "--events", "--compare-delivery"],
        "cannot be used with",
    );
    refused(
        &["ping", "--to", "127.0.0.1:9", "--events"],
        "cannot be used with",
    );
    let help = stdout(&run(&["recv-bench", "--help"]));
    for needle in [
        "--events",
        "--compare-delivery",
        "events/IRPs",
        "Exit codes",
    ] {
        assert!(
            help.contains(needle),
            "recv-bench --help lacks {needle:?}:\n{help}"
        );
    }
    let help = stdout(&run(&["ping", "--help"]));
    assert!(help.contains("--events"), "ping --help:\n{help}");
}
