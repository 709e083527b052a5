//! `wskctl recv` as a user runs it: an external UDP client sends datagrams of 1 to 65,507 bytes
//! (IPv4) and up to 65,527 (IPv6) to the driver's socket, and every byte comes back through the
//! driver's pended receive requests. Off Windows the driver runs in the kernel model inside the
//! wskctl process.
#![cfg(not(windows))]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_fixtures::pattern;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts wskctl with `args`, waits for its first stderr line `<prefix>ADDR`, and returns the
/// child with the loopback address to send to (ADDR's port on 127.0.0.1 or ::1, whichever family
/// ADDR has: the driver may report a wildcard address).
fn spawn_listening(args: &[&str], prefix: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start wskctl {}: {e}", args[0]));
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    BufReader::new(stderr).read_line(&mut line).expect("a line");
    let address: SocketAddr = line
        .strip_prefix(prefix)
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no '{prefix}ADDR' line, got {line:?}"));
    let ip = if address.is_ipv4() {
        "127.0.0.1"
    } else {
        "::1"
    };
    (
        child,
        SocketAddr::new(ip.parse().expect("ip"), address.port()),
    )
}

fn run(bind: &str, sizes: &[usize]) {
    run_with(bind, sizes, &[]);
}

fn run_with(bind: &str, sizes: &[usize], extra: &[&str]) {
    let count = sizes.len().to_string();
    let mut args = vec![
        "recv",
        "--bind",
        bind,
        "--json",
        "--print",
        "--timeout",
        "10",
        "--count",
        &count,
    ];
    args.extend_from_slice(extra);
    let (child, target) = spawn_listening(&args, "receiving on ");
    let client = UdpSocket::bind(SocketAddr::new(target.ip(), 0)).expect("client");
    let payloads: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| pattern(size, i as u8))
        .collect();
    for payload in &payloads {
        client.send_to(payload, target).expect("send");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("wskctl exits");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["received"], sizes.len());
    assert_eq!(report["unload_report"]["clean"], true);
    let source = client.local_addr().expect("address").to_string();
    for (datagram, payload) in report["datagrams"]
        .as_array()
        .expect("datagrams")
        .iter()
        .zip(&payloads)
    {
        assert_eq!(datagram["length"], payload.len());
        assert_eq!(datagram["truncated"], false);
        assert_eq!(datagram["source"], source.as_str());
        assert_eq!(datagram["payload_hex"], hex(payload).as_str(), "every byte");
    }
}

#[test]
fn recv_gets_every_byte_from_an_external_ipv4_client() {
    run("127.0.0.1:0", &[1, 64, 1_472, 30_000, 65_507]);
}

#[test]
fn recv_gets_every_byte_from_an_external_ipv6_client() {
    run("[::1]:0", &[1, 1_452, 65_527]);
}

#[test]
fn recv_with_events_gets_every_byte_on_both_families() {
    run_with(
        "127.0.0.1:0",
        &[1, 64, 1_472, 30_000, 65_507],
        &["--events"],
    );
    run_with("[::1]:0", &[1, 1_452, 65_527], &["--events"]);
}

#[test]
fn echo_with_events_returns_every_byte_on_both_families() {
    echo_run_with(
        "127.0.0.1:0",
        &[1, 64, 1_472, 30_000, 65_507],
        &["--events"],
    );
    echo_run_with("[::1]:0", &[1, 1_452, 65_527], &["--events"]);
}

#[test]
fn recv_stops_after_its_timeout_without_datagrams() {
    let output = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args([
            "recv",
            "--bind",
            "127.0.0.1:0",
            "--json",
            "--timeout",
            "0.3",
        ])
        .output()
        .expect("wskctl runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["received"], 0);
    assert_eq!(report["stopped_by"], "timeout");
    assert_eq!(report["unload_report"]["clean"], true);
}

fn echo_run(bind: &str, sizes: &[usize]) {
    echo_run_with(bind, sizes, &[]);
}

fn echo_run_with(bind: &str, sizes: &[usize], extra: &[&str]) {
    let count = sizes.len().to_string();
    let mut args = vec![
        "echo",
        "--bind",
        bind,
        "--json",
        "--timeout",
        "10",
        "--count",
        &count,
    ];
    args.extend_from_slice(extra);
    let (child, target) = spawn_listening(&args, "echoing on ");
    let client = UdpSocket::bind(SocketAddr::new(target.ip(), 0)).expect("client");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buffer = vec![0u8; 65_536];
    for (i, &size) in sizes.iter().enumerate() {
        let payload = pattern(size, i as u8);
        client.send_to(&payload, target).expect("send");
        let (n, from) = client.recv_from(&mut buffer).expect("the echo");
        assert_eq!(from, target);
        assert_eq!(
            &buffer[..n],
            payload.as_slice(),
            "{size}-byte echo, every byte"
        );
    }
    let output = child.wait_with_output().expect("wskctl exits");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["echoed"], sizes.len());
    assert_eq!(report["stopped_by"], "count");
    assert_eq!(report["unload_report"]["clean"], true);
}

#[test]
fn echo_returns_every_byte_to_an_external_ipv4_client() {
    echo_run("127.0.0.1:0", &[1, 64, 1_472, 30_000, 65_507]);
}

#[test]
fn echo_returns_every_byte_to_an_external_ipv6_client() {
    echo_run("[::1]:0", &[1, 1_452, 65_527]);
}

#[test]
fn ping_without_to_compares_the_kernel_echo_with_a_user_mode_echo() {
    let output = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args(["ping", "--count", "50", "--size", "100", "--json"])
        .output()
        .expect("wskctl runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for key in [
        "rtt_p50_us",
        "rtt_p99_us",
        "rtt_max_us",
        "user_echo_rtt_p50_us",
        "user_echo_rtt_p99_us",
    ] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing"));
        assert!(value > 0.0, "{key} = {value}");
    }
    assert_eq!(report["lost"], 0);
    assert!(report["rtt_p50_us"].as_f64() <= report["rtt_p99_us"].as_f64());
    // 5 untimed round trips come first: the driver echoed all 55.
    assert_eq!(report["kernel_echo_echoed"], 55);
    assert_eq!(
        report["delivery"], "irp",
        "the default, as the driver reports it"
    );
    assert_eq!(report["unload_report"]["clean"], true);
}

#[test]
fn ping_with_events_echoes_through_the_receive_event_callback() {
    let output = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args(["ping", "--count", "30", "--events", "--json"])
        .output()
        .expect("wskctl runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // The driver's receive counters name the delivery while the echo runs.
    assert_eq!(report["delivery"], "events", "{report}");
    assert_eq!(report["lost"], 0);
    assert_eq!(report["kernel_echo_echoed"], 35);
    for key in ["rtt_p50_us", "user_echo_rtt_p50_us"] {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {report}"
        );
    }
    assert_eq!(report["unload_report"]["clean"], true);
}

/// Runs `recv-bench` with 500 datagrams and 50 round trips, plus `extra`, and returns its JSON.
fn recv_bench(extra: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args([
            "recv-bench",
            "--count",
            "500",
            "--rtt-count",
            "50",
            "--json",
        ])
        .args(extra)
        .output()
        .expect("wskctl runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["unload_report"]["clean"], true);
    assert_eq!(report["raw_recvmmsg"]["received"], 500);
    report
}

/// One delivery's figures: something received through the driver, nothing counted twice,
/// positive ratios and a positive round trip.
fn assert_delivery_figures(run: &serde_json::Value, delivery: &str, report: &serde_json::Value) {
    assert_eq!(run["delivery"], delivery, "{report}");
    let received = run["driver"]["received"].as_u64().expect("driver count");
    let dropped = run["dropped_no_request"].as_u64().expect("drops");
    assert!(received > 0 && received + dropped <= 500, "{report}");
    for key in [
        "driver_over_raw",
        "kernel_echo_rtt_p50_us",
        "kernel_over_user_rtt_p50",
    ] {
        assert!(
            run[key].as_f64().is_some_and(|v| v > 0.0 && v.is_finite()),
            "{key}: {report}"
        );
    }
}

#[test]
fn recv_bench_with_events_measures_the_receive_event_callback() {
    let report = recv_bench(&["--events"]);
    assert_delivery_figures(&report, "events", &report);
    assert!(report.get("events_over_irp").is_none(), "{report}");
}

#[test]
fn recv_bench_compares_both_deliveries_in_one_run() {
    let report = recv_bench(&["--compare-delivery"]);
    assert_delivery_figures(&report, "irp", &report);
    assert_delivery_figures(&report["events"], "events", &report);
    for key in ["datagrams_per_second", "rtt_p50"] {
        let ratio = report["events_over_irp"][key]
            .as_f64()
            .unwrap_or_else(|| panic!("events_over_irp.{key}: {report}"));
        assert!(ratio > 0.0 && ratio.is_finite(), "{key}: {report}");
    }
    // The ratios are of the figures reported beside them.
    let rate = |run: &serde_json::Value| run["driver"]["datagrams_per_second"].as_f64();
    let expected = rate(&report["events"])
        .zip(rate(&report))
        .map(|(e, i)| e / i);
    let got = report["events_over_irp"]["datagrams_per_second"].as_f64();
    assert!(
        expected
            .zip(got)
            .is_some_and(|(e, g)| (e - g).abs() <= 1e-9 * e.abs()),
        "{report}"
    );
}

#[test]
fn recv_bench_reports_both_ratios_from_one_run() {
    let output = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args([
            "recv-bench",
            "--count",
            "500",
            "--rtt-count",
            "50",
            "--json",
        ])
        .output()
        .expect("wskctl runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["raw_recvmmsg"]["received"], 500);
    assert_delivery_figures(&report, "irp", &report);
    assert!(report.get("events").is_none(), "{report}");
    assert_eq!(report["unload_report"]["clean"], true);
}
