//! `send --mode`, `send --bind`, `send --batch`, `config` and `bench` end to end on the
//! kernel-model backend: wskctl loads the real driver in-process, and what arrives is checked
//! here on loopback receivers.
#![cfg(not(windows))]

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{json, run, stderr, stdout};
use test_fixtures::{Receiver, send_size_pattern};

const QUIET: Duration = Duration::from_millis(500);

fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Ten datagrams in a fixed mode: all arrive, and the summary says how they were addressed.
fn fixed_mode_delivers(receiver: &Receiver, mode: &str, kind: &str) {
    let output = run(&[
        "send",
        "--mode",
        mode,
        "--to",
        &receiver.target(),
        "--payload",
        "x",
        "--count",
        "10",
        "--json",
    ]);
    assert_exit(&output, 0);
    assert_eq!(receiver.drain(QUIET), vec![b"x".to_vec(); 10], "{mode}");
    let summary = json(&output);
    assert_eq!(summary["mode"], mode, "{summary}");
    assert_eq!(summary["wsk_remote_address"], "null", "{summary}");
    assert_eq!(summary["datagrams_sent"], 10, "{summary}");
    assert_eq!(summary["requests"], 10, "{summary}");
    assert_eq!(summary["fixed_destination"]["kind"], kind, "{summary}");
    assert_eq!(
        summary["fixed_destination"]["address"],
        receiver.target(),
        "{summary}"
    );
    assert_eq!(summary["fixed_cleared"], true, "{summary}");
    assert_eq!(summary["unload_report"]["clean"], true, "{summary}");
}

#[test]
fn fixed_remote_sends_arrive_over_ipv4() {
    fixed_mode_delivers(&Receiver::v4(), "fixed-remote", "remote");
}

#[test]
fn fixed_sendto_sends_arrive_over_ipv4() {
    fixed_mode_delivers(&Receiver::v4(), "fixed-sendto", "send_to");
}

#[test]
fn fixed_remote_sends_arrive_over_ipv6() {
    fixed_mode_delivers(&Receiver::v6(), "fixed-remote", "remote");
}

#[test]
fn fixed_sendto_sends_arrive_over_ipv6() {
    fixed_mode_delivers(&Receiver::v6(), "fixed-sendto", "send_to");
}

#[test]
fn the_human_summary_names_the_mode() {
    let receiver = Receiver::v6();
    let output = run(&[
        "send",
        "--mode",
        "fixed-remote",
        "--to",
        &receiver.target(),
        "--payload",
        "x",
        "--count",
        "10",
    ]);
    assert_exit(&output, 0);
    assert_eq!(receiver.drain(QUIET).len(), 10);
    let summary = stdout(&output);
    assert!(
        summary.contains("mode      fixed-remote") && summary.contains("NULL RemoteAddress"),
        "{summary}"
    );
    let plain = run(&["send", "--to", &receiver.target(), "--payload", "y"]);
    assert_exit(&plain, 0);
    assert!(stdout(&plain).contains("mode      per-datagram"));
    assert_eq!(receiver.drain(QUIET), vec![b"y".to_vec()]);
}

#[test]
fn a_thousand_pattern_datagrams_go_in_batches_of_64() {
    let receiver = Receiver::v4();
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--batch",
        "64",
        "--size",
        "64",
        "--count",
        "1000",
        "--json",
    ]);
    assert_exit(&output, 0);
    let summary = json(&output);
    assert_eq!(summary["datagrams_sent"], 1000, "{summary}");
    assert_eq!(summary["bytes_sent"], 64_000, "{summary}");
    assert_eq!(summary["batch"], 64, "{summary}");
    assert_eq!(summary["requests"], 16, "{summary}");
    let datagrams = receiver.drain(QUIET);
    assert_eq!(datagrams.len(), 1000);
    for (sequence, datagram) in datagrams.iter().enumerate() {
        assert!(
            *datagram == send_size_pattern(sequence as u64, 64),
            "datagram {sequence} differs or is out of order"
        );
    }
}

#[test]
fn batches_split_at_65536_payload_bytes_and_keep_the_file_order() {
    let contents: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), &contents).expect("write the file");
    let path = file.path().to_str().expect("a UTF-8 path");
    let receiver = Receiver::v6();
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--file",
        path,
        "--size",
        "20000",
        "--batch",
        "256",
        "--mode",
        "fixed-sendto",
        "--json",
    ]);
    assert_exit(&output, 0);
    let summary = json(&output);
    // 15 datagrams of 20,000 bytes; three fit 65,536 bytes: five requests.
    assert_eq!(summary["datagrams_sent"], 15, "{summary}");
    assert_eq!(summary["requests"], 5, "{summary}");
    assert_eq!(summary["mode"], "fixed-sendto", "{summary}");
    let datagrams = receiver.drain(QUIET);
    assert_eq!(datagrams.len(), 15);
    assert!(
        datagrams.concat() == contents,
        "the file did not reassemble"
    );
}

#[test]
fn bind_picks_the_source_port() {
    let port = {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("find a free port");
        probe.local_addr().expect("its address").port()
    };
    let bind = format!("127.0.0.1:{port}");
    let receiver = Receiver::v4();
    receiver
        .socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a timeout");
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--bind",
        &bind,
        "--payload",
        "from a chosen port",
        "--batch",
        "8",
        "--count",
        "3",
        "--json",
    ]);
    assert_exit(&output, 0);
    let summary = json(&output);
    assert_eq!(summary["local_address"], bind, "{summary}");
    let mut buffer = [0u8; 64];
    for _ in 0..3 {
        let (length, from) = receiver.socket.recv_from(&mut buffer).expect("a datagram");
        assert_eq!(&buffer[..length], b"from a chosen port");
        assert_eq!(from.to_string(), bind);
    }
}

#[test]
fn config_shows_its_effect_in_the_counters() {
    let output = run(&["config", "--bind", "127.0.0.1:0", "--json"]);
    assert_exit(&output, 0);
    let report = json(&output);
    assert_eq!(report["changes"][0]["action"], "bind", "{report}");
    assert_eq!(report["changes"][0]["outcome"], "applied", "{report}");
    assert!(
        report["stats"]["local_v4"]
            .as_str()
            .is_some_and(|local| local.starts_with("127.0.0.1:")),
        "{report}"
    );
    assert_eq!(report["unload_report"]["clean"], true, "{report}");

    let output = run(&[
        "config",
        "--remote",
        "[::1]:9",
        "--pool-slots",
        "4",
        "--json",
    ]);
    assert_exit(&output, 0);
    let report = json(&output);
    assert_eq!(report["stats"]["pool_slots"], 4, "{report}");
    assert_eq!(report["stats"]["fixed_v6"]["kind"], "remote", "{report}");
    assert_eq!(
        report["stats"]["fixed_v6"]["address"], "[::1]:9",
        "{report}"
    );

    let output = run(&["config", "--clear", "--family", "4"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("IPv4 fixed destination  none"));
}

#[test]
fn bench_reports_all_three_figures_and_the_ratios() {
    let output = run(&["bench", "--count", "20000", "--json"]);
    assert_exit(&output, 0);
    let report = json(&output);
    assert_eq!(report["command"], "bench");
    assert_eq!(report["per_ioctl_count"], 2000, "{report}");
    for method in ["per_ioctl", "batched", "raw_send_to", "raw_sendmmsg"] {
        let phase = &report[method];
        assert!(
            phase["datagrams_per_second"]
                .as_f64()
                .is_some_and(|rate| rate > 0.0),
            "{method}: {report}"
        );
        assert!(
            phase["gbit_per_second"]
                .as_f64()
                .is_some_and(|rate| rate > 0.0),
            "{method}: {report}"
        );
        assert_eq!(phase["failed"], 0, "{method}: {report}");
    }
    assert_eq!(report["batched"]["datagrams_sent"], 20_000, "{report}");
    assert_eq!(report["batched"]["calls"], 79, "{report}");
    for ratio in [
        "batched_vs_per_ioctl",
        "batched_vs_send_to",
        "batched_vs_sendmmsg",
    ] {
        assert!(
            report["ratios"][ratio]
                .as_f64()
                .is_some_and(|ratio| ratio > 0.0),
            "{ratio}: {report}"
        );
    }
    assert!(report["receiver"]["own"].as_bool().unwrap_or(false));
    assert_eq!(report["unload_report"]["clean"], true, "{report}");
}
