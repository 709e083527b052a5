//! Helpers shared by wskctl's end-to-end tests: run the binary, receive on loopback.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
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

/// A UDP receiver on loopback with a large buffer, so a burst from wskctl is not dropped.
pub struct Receiver {
    pub socket: UdpSocket,
}

impl Receiver {
    pub fn v4() -> Receiver {
        Receiver::bind("127.0.0.1:0")
    }

    pub fn v6() -> Receiver {
        Receiver::bind("[::1]:0")
    }

    fn bind(address: &str) -> Receiver {
        let socket = UdpSocket::bind(address).expect("bind a loopback receiver");
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(8 << 20);
        Receiver { socket }
    }

    pub fn address(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }

    pub fn target(&self) -> String {
        self.address().to_string()
    }

    /// Everything that arrives until the socket has been quiet for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<Vec<u8>> {
        self.socket
            .set_read_timeout(Some(quiet))
            .expect("set a timeout");
        let mut datagrams = Vec::new();
        let mut buffer = vec![0u8; 65_536];
        while let Ok(length) = self.socket.recv(&mut buffer) {
            datagrams.push(buffer[..length].to_vec());
        }
        datagrams
    }
}

/// The `send --size` pattern, written independently of wskctl's own code.
pub fn pattern(sequence: u64, size: usize) -> Vec<u8> {
    let mut out = sequence.to_le_bytes().to_vec();
    out.extend((8..size).map(|i| sequence.wrapping_add(i as u64) as u8));
    out.truncate(size);
    out
}
