//! Every subcommand end to end on the kernel-model backend: wskctl loads the real driver
//! in-process and its datagrams are checked here, byte for byte, on loopback receivers.
//! (On Windows wskctl talks to an installed driver instead, which CI does not have.)
#![cfg(not(windows))]

mod common;

use std::time::Duration;

use common::{json, run, stderr, stdout};
use test_fixtures::{Receiver, send_size_pattern};

const QUIET: Duration = Duration::from_millis(500);

#[test]
fn a_hundred_hellos_arrive() {
    let receiver = Receiver::v4();
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--payload",
        "hello",
        "--count",
        "100",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let datagrams = receiver.drain(QUIET);
    assert_eq!(datagrams.len(), 100);
    assert!(datagrams.iter().all(|d| d == b"hello"));
    let summary = stdout(&output);
    assert!(summary.contains("sent 100 of 100 datagram(s)"), "{summary}");
    assert!(summary.contains("bytes     500"), "{summary}");
}

#[test]
fn ipv6_destinations_work() {
    let receiver = Receiver::v6();
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--payload",
        "over IPv6",
        "--count",
        "3",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    assert_eq!(receiver.drain(QUIET), vec![b"over IPv6".to_vec(); 3]);
}

#[test]
fn the_size_pattern_is_what_the_help_says() {
    let receiver = Receiver::v4();
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--size",
        "1000",
        "--count",
        "50",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let datagrams = receiver.drain(QUIET);
    assert_eq!(datagrams.len(), 50);
    for (sequence, datagram) in datagrams.iter().enumerate() {
        assert!(
            *datagram == send_size_pattern(sequence as u64, 1000),
            "datagram {sequence} differs"
        );
    }
}

#[test]
fn the_largest_datagrams_of_each_family_go_through() {
    let v4 = Receiver::v4();
    let output = run(&["send", "--to", &v4.target(), "--size", "65507"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    assert_eq!(v4.drain(QUIET), vec![send_size_pattern(0, 65_507)]);
    let v6 = Receiver::v6();
    let output = run(&["send", "--to", &v6.target(), "--size", "65527"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    assert_eq!(v6.drain(QUIET), vec![send_size_pattern(0, 65_527)]);
}

#[test]
fn a_file_is_reassembled_in_order() {
    let contents: Vec<u8> = (0..10_500u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), &contents).expect("write the file");
    let path = file.path().to_str().expect("a UTF-8 path");

    let receiver = Receiver::v4();
    let output = run(&[
        "send",
        "--to",
        &receiver.target(),
        "--file",
        path,
        "--size",
        "1000",
        "--json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    assert_eq!(json(&output)["datagrams_sent"], 11);
    let datagrams = receiver.drain(QUIET);
    assert_eq!(datagrams.len(), 11);
    assert_eq!(datagrams.last().map(Vec::len), Some(500));
    assert!(
        datagrams.concat() == contents,
        "the file did not reassemble"
    );

    // The default datagram size is 1,472 bytes.
    let output = run(&["send", "--to", &receiver.target(), "--file", path]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let datagrams = receiver.drain(QUIET);
    let mut expected = vec![1_472; 7];
    expected.push(10_500 - 7 * 1_472);
    assert_eq!(datagrams.iter().map(Vec::len).collect::<Vec<_>>(), expected);
    assert!(datagrams.concat() == contents);
}

#[test]
fn send_json_has_the_summary_fields() {
    let receiver = Receiver::v4();
    let output = run(&[
        "send",
        "--json",
        "--to",
        &receiver.target(),
        "--payload",
        "json",
        "--count",
        "4",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let summary = json(&output);
    assert_eq!(summary["datagrams_sent"], 4);
    assert_eq!(summary["bytes_sent"], 16);
    assert_eq!(summary["failed"], 0);
    assert!(
        summary["elapsed_seconds"]
            .as_f64()
            .is_some_and(|s| s >= 0.0),
        "{summary}"
    );
    assert!(summary["first_error"].is_null());
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(summary["unload_report"]["clean"], true);
    assert_eq!(receiver.drain(QUIET).len(), 4);
}

#[test]
fn the_model_refuses_non_loopback_destinations_up_front() {
    let output = run(&["send", "--to", "192.0.2.1:9", "--payload", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("only to loopback"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn pacing_slows_the_sends_down() {
    let receiver = Receiver::v4();
    let output = run(&[
        "send",
        "--json",
        "--to",
        &receiver.target(),
        "--payload",
        "p",
        "--count",
        "5",
        "--rate",
        "20",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    // Five datagrams at 20/s: the last leaves 200 ms after the first.
    assert!(
        json(&output)["elapsed_seconds"]
            .as_f64()
            .is_some_and(|s| s >= 0.19)
    );
    assert_eq!(receiver.drain(QUIET).len(), 5);
}

#[test]
fn stats_json_decodes_the_counters() {
    let output = run(&["stats", "--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let report = json(&output);
    assert_eq!(report["stats"]["datagrams_sent"], 0);
    assert_eq!(report["stats"]["failed_total"], 0);
    assert_eq!(report["stats"]["batches"], 0);
    assert!(report["stats"]["fixed_v4"].is_null(), "{report}");
    assert!(
        report["stats"]["pool_slots"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{report}"
    );
    assert!(
        report["note"].as_str().is_some_and(|n| n.contains("fresh")),
        "{report}"
    );
    assert_eq!(report["unload_report"]["clean"], true);

    let human = run(&["stats"]);
    assert_eq!(human.status.code(), Some(0));
    assert!(stdout(&human).contains("datagrams sent"));
}

#[test]
fn demo_shows_the_path_and_a_clean_report() {
    let output = run(&["demo"]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{text}\nstderr:\n{}",
        stderr(&output)
    );
    for needle in [
        "WskRegister",
        "WskSocket",
        "WskBind",
        "WskSendTo",
        "completion routine",
        "WskCloseSocket",
        "WskReleaseProviderNPI",
        "WskDeregister",
        "every byte matches",
        "leak report: clean",
        "demo passed: 4 of 4",
    ] {
        assert!(
            text.contains(needle),
            "demo output lacks {needle:?}:\n{text}"
        );
    }
}

#[test]
fn demo_json_is_one_object() {
    let output = run(&["demo", "--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let report = json(&output);
    assert_eq!(report["verified"], 4);
    assert_eq!(report["unload_report"]["clean"], true);
    assert!(report["trace"].as_array().is_some_and(|t| {
        t.iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("WskSendTo")))
    }));
}

#[test]
fn listen_checks_what_send_sends() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut listener = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args([
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--count",
            "200",
            "--expect-pattern",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the listener");
    let mut line = String::new();
    BufReader::new(listener.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("a first line");
    let address = line
        .split_whitespace()
        .nth(2)
        .expect("listening on ADDR")
        .to_string();

    let sent = run(&["send", "--to", &address, "--size", "512", "--count", "200"]);
    assert_eq!(sent.status.code(), Some(0), "stderr:\n{}", stderr(&sent));
    let received = listener.wait_with_output().expect("the listener ends");
    assert_eq!(
        received.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&received.stdout)
    );
    let report = json(&received);
    assert_eq!(report["datagrams"], 200);
    assert_eq!(report["pattern"]["lost"], 0);
}

#[test]
fn ctrl_c_stops_the_send_and_still_prints_the_summary() {
    use std::process::{Command, Stdio};

    let receiver = Receiver::v4();
    let target = receiver.target();
    let child = Command::new(env!("CARGO_BIN_EXE_wskctl"))
        .args([
            "send",
            "--json",
            "--to",
            &target,
            "--payload",
            "tick",
            "--count",
            "1000",
            "--rate",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a paced send");
    // The first datagram proves the send loop (and so the Ctrl-C handler) is running.
    receiver
        .socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a timeout");
    let mut first = [0u8; 16];
    assert_eq!(
        receiver.socket.recv(&mut first).ok(),
        Some(4),
        "the first datagram arrives"
    );
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(interrupted.success());
    let output = child.wait_with_output().expect("the send ends");
    common::assert_no_panic(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "an interrupted send is a partial failure"
    );
    let summary = json(&output);
    assert_eq!(summary["interrupted"], true);
    let sent = summary["datagrams_sent"].as_u64().unwrap_or(0);
    assert!((1..1000).contains(&sent), "{summary}");
    assert_eq!(summary["unload_report"]["clean"], true, "{summary}");
    assert_eq!(receiver.drain(QUIET).len() as u64 + 1, sent);
}
