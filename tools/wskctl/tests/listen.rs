//! `wskctl listen` against datagrams this test crafts with a std socket. Runs on every host
//! (listen is user mode only).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_fixtures::send_size_pattern;

/// A running `wskctl listen`, its bound address read from its "listening on" line.
struct Listener {
    child: Child,
    address: SocketAddr,
    stderr_head: String,
}

impl Listener {
    fn start(args: &[&str]) -> Listener {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wskctl"))
            .arg("listen")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wskctl listen");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut line = String::new();
        BufReader::new(stderr)
            .read_line(&mut line)
            .expect("read the first stderr line");
        let address = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|address| address.parse().ok())
            .unwrap_or_else(|| panic!("no 'listening on ADDR' line, got {line:?}"));
        Listener {
            child,
            address,
            stderr_head: line,
        }
    }

    /// Waits for the exit (killing it after a minute) and returns (code, stdout).
    fn finish(mut self) -> (Option<i32>, String) {
        for _ in 0..600 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let output = self.child.wait_with_output().expect("collect the output");
        assert!(!self.stderr_head.contains("panicked"));
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }
}

fn sender(to: SocketAddr) -> UdpSocket {
    let local = if to.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    UdpSocket::bind(local).expect("bind a sender")
}

#[test]
fn a_dropped_a_duplicated_and_a_corrupted_datagram_are_reported() {
    let listener = Listener::start(&[
        "--bind",
        "127.0.0.1:0",
        "--count",
        "7",
        "--expect-pattern",
        "--json",
    ]);
    let socket = sender(listener.address);
    // 2 never arrives, 3 arrives twice, the last datagram (6) has a flipped byte.
    for sequence in [0, 1, 3, 3, 4, 5] {
        socket
            .send_to(&send_size_pattern(sequence, 100), listener.address)
            .expect("send");
    }
    let mut corrupted = send_size_pattern(6, 100);
    corrupted[50] ^= 0xFF;
    socket.send_to(&corrupted, listener.address).expect("send");

    let (code, stdout) = listener.finish();
    assert_eq!(code, Some(1), "anomalies are a partial failure:\n{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(report["datagrams"], 7);
    assert_eq!(report["bytes"], 700);
    assert_eq!(report["stopped_by"], "count");
    assert_eq!(report["pattern"]["lost"], 1, "{report}");
    assert_eq!(report["pattern"]["duplicated"], 1, "{report}");
    assert_eq!(report["pattern"]["corrupted"], 1, "{report}");
    assert_eq!(report["pattern"]["highest_sequence"], 5, "{report}");
}

#[test]
fn an_intact_sequence_passes() {
    let listener = Listener::start(&["--bind", "[::1]:0", "--count", "20", "--expect-pattern"]);
    let socket = sender(listener.address);
    for sequence in 0..20 {
        socket
            .send_to(&send_size_pattern(sequence, 1_000), listener.address)
            .expect("send");
    }
    let (code, stdout) = listener.finish();
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("received 20 datagram(s), 20,000 bytes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 lost, 0 duplicated, 0 corrupted"),
        "{stdout}"
    );
}

#[test]
fn silence_ends_listening_and_a_short_count_is_a_partial_failure() {
    let listener = Listener::start(&[
        "--bind",
        "127.0.0.1:0",
        "--count",
        "3",
        "--timeout",
        "0.5",
        "--json",
    ]);
    sender(listener.address)
        .send_to(b"only one", listener.address)
        .expect("send");
    let (code, stdout) = listener.finish();
    assert_eq!(code, Some(1), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(report["datagrams"], 1);
    assert_eq!(report["stopped_by"], "timeout");
    assert!(report["pattern"].is_null());
}
