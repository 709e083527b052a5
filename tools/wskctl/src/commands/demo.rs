//! `wskctl demo`: the whole path, step by step. Receivers on loopback, the driver loaded (kernel
//! model, with its trace) or opened (Windows), datagrams of several sizes sent through it and
//! checked byte for byte, the driver's counters, and the unload report.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use wsk_sample_ioctl::Destination;

use super::listen::bind_receiver;
use super::stats::{StatsJson, print_human as print_stats};
use super::{UnloadJson, close_device};
use crate::device::{self, DeviceAccess, DeviceError, OpenOptions, TraceSink};
use crate::exit::{ExitStatus, Failure};
use crate::output::{self, ErrorReportJson, note, say, thousands};
use crate::payload::fill_pattern;
use crate::request::{self, SendEncoder};

/// The datagrams the demo sends: the smallest, one Ethernet MTU's worth, and the largest for
/// each family.
const CASES: [(Family, usize); 4] = [
    (Family::V4, 1),
    (Family::V4, 1_472),
    (Family::V4, wsk_sample_ioctl::MAX_UDP_PAYLOAD_V4),
    (Family::V6, wsk_sample_ioctl::MAX_UDP_PAYLOAD_V6),
];
/// How long a receiver waits for each datagram.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

#[derive(Serialize)]
struct DatagramJson {
    size: usize,
    destination: Option<String>,
    /// "verified", "send_failed", "not_received", "corrupted" or "skipped".
    outcome: &'static str,
    driver_sequence: Option<u64>,
    received_from: Option<String>,
    error: Option<ErrorReportJson>,
    detail: Option<String>,
}

#[derive(Serialize)]
struct DemoReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    receiver_v4: String,
    receiver_v6: Option<String>,
    datagrams: Vec<DatagramJson>,
    verified: usize,
    stats: Option<StatsJson>,
    unload_report: Option<UnloadJson>,
    trace: Vec<String>,
}

/// Numbered steps on stdout (human mode) and the trace lines in between.
struct Narrator {
    json: bool,
    step: usize,
    pending: Arc<Mutex<Vec<String>>>,
    trace: Vec<String>,
}

impl Narrator {
    fn new(json: bool) -> Narrator {
        Narrator {
            json,
            step: 0,
            pending: Arc::new(Mutex::new(Vec::new())),
            trace: Vec::new(),
        }
    }

    /// A sink for the kernel model's trace; lines wait until the next [`Narrator::flush_trace`],
    /// so they print under the step that caused them.
    fn sink(&self) -> TraceSink {
        let pending = Arc::clone(&self.pending);
        Box::new(move |line: &str| {
            if let Ok(mut lines) = pending.lock() {
                lines.push(line.to_string());
            }
        })
    }

    fn step(&mut self, text: &str) {
        self.flush_trace();
        self.step += 1;
        if !self.json {
            say!("{}. {text}", self.step);
        }
    }

    fn detail(&self, text: &str) {
        if !self.json {
            say!("   {text}");
        }
    }

    /// Prints (or keeps, with `--json`) the trace lines gathered since the last call, once the
    /// trace has been quiet for a moment: completion routines run on the model's worker threads
    /// and their lines may trail the call that caused them.
    fn flush_trace(&mut self) {
        if device::HAS_TRACE {
            self.settle();
        }
        let lines = match self.pending.lock() {
            Ok(mut lines) => std::mem::take(&mut *lines),
            Err(_) => Vec::new(),
        };
        for line in lines {
            if !self.json {
                say!("   | {line}");
            }
            self.trace.push(line);
        }
    }
}

impl Narrator {
    fn pending_len(&self) -> usize {
        self.pending.lock().map_or(0, |lines| lines.len())
    }

    fn settle(&self) {
        const QUIET: Duration = Duration::from_millis(25);
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut seen = self.pending_len();
        let mut quiet_since = Instant::now();
        while Instant::now() < deadline && quiet_since.elapsed() < QUIET {
            std::thread::sleep(Duration::from_millis(5));
            let now = self.pending_len();
            if now != seen {
                seen = now;
                quiet_since = Instant::now();
            }
        }
    }
}

fn receiver(address: &str) -> Result<UdpSocket, String> {
    let address: SocketAddr = address
        .parse()
        .map_err(|_| format!("bad receiver address {address}"))?;
    let socket =
        bind_receiver(address).map_err(|error| format!("cannot bind {address}: {error}"))?;
    socket
        .set_read_timeout(Some(RECEIVE_TIMEOUT))
        .map_err(|error| format!("cannot set a timeout on {address}: {error}"))?;
    Ok(socket)
}

fn local(socket: &UdpSocket) -> Result<SocketAddr, Failure> {
    socket
        .local_addr()
        .map_err(|error| Failure::Other(format!("cannot read a receiver's address: {error}")))
}

pub fn run(json: bool) -> Result<ExitStatus, Failure> {
    let mut narrator = Narrator::new(json);
    if !json {
        say!("wskctl demo: UDP datagrams sent from the wsk-sample driver through Winsock Kernel");
        say!("backend: {}", device::BACKEND_NAME);
        say!("");
    }

    narrator.step("Bind UDP receivers on loopback (port 0: the system picks free ports)");
    let v4 = receiver("127.0.0.1:0").map_err(Failure::Other)?;
    let v4_address = local(&v4)?;
    narrator.detail(&format!("IPv4 receiver: {v4_address}"));
    let v6 = match receiver("[::1]:0") {
        Ok(socket) => {
            let address = local(&socket)?;
            narrator.detail(&format!("IPv6 receiver: {address}"));
            Some((socket, address))
        }
        Err(error) => {
            note!("warning: no IPv6 loopback ({error}): the IPv6 datagram is skipped");
            None
        }
    };

    if device::HAS_TRACE {
        narrator.step("Boot the kernel model, load the driver (DriverEntry, device add) and open \\\\.\\WskSample");
    } else {
        narrator.step("Open \\\\.\\WskSample (the installed driver; no trace on Windows: see DebugView for its output)");
    }
    let trace = device::HAS_TRACE.then(|| narrator.sink());
    let mut device = device::open(OpenOptions {
        access: DeviceAccess::Send,
        trace,
        concurrent: false,
    })?;

    let mut encoder = SendEncoder::default();
    let mut datagrams = Vec::new();
    let mut payload = Vec::new();
    let mut buffer = vec![0u8; 65_536];
    let mut driver_unavailable = false;
    for (index, (family, size)) in CASES.into_iter().enumerate() {
        let target = match family {
            Family::V4 => Some((&v4, v4_address)),
            Family::V6 => v6.as_ref().map(|(socket, address)| (socket, *address)),
        };
        let Some((socket, destination)) = target else {
            datagrams.push(skipped(size));
            continue;
        };
        narrator.step(&format!(
            "Send {} byte(s) to {destination} through the driver",
            thousands(size as u64)
        ));
        fill_pattern(index as u64, size, &mut payload);
        let reply = match encoder.send(&device, Destination::Address(destination), &payload) {
            Ok(reply) => reply,
            Err(error) => {
                narrator.flush_trace();
                narrator.detail(&format!("send failed: {error}"));
                driver_unavailable |= error.is_driver_unavailable();
                datagrams.push(send_failed(size, destination, &error));
                if driver_unavailable {
                    break;
                }
                continue;
            }
        };
        let received = socket.recv_from(&mut buffer);
        narrator.flush_trace();
        narrator.detail(&format!(
            "driver: {} byte(s) sent (driver sequence {})",
            thousands(u64::from(reply.bytes_sent)),
            reply.sequence
        ));
        let mut result = DatagramJson {
            size,
            destination: Some(destination.to_string()),
            outcome: "verified",
            driver_sequence: Some(reply.sequence),
            received_from: None,
            error: None,
            detail: None,
        };
        match received {
            Ok((length, from)) => {
                result.received_from = Some(from.to_string());
                let arrived = buffer.get(..length).unwrap_or(&[]);
                if arrived == payload.as_slice() {
                    narrator.detail(&format!(
                        "receiver: {} byte(s) from {from}: every byte matches",
                        thousands(length as u64)
                    ));
                } else {
                    let detail = mismatch(arrived, &payload);
                    narrator.detail(&format!(
                        "receiver: {} byte(s) from {from}: {detail}",
                        thousands(length as u64)
                    ));
                    result.outcome = "corrupted";
                    result.detail = Some(detail);
                }
            }
            Err(error) => {
                let detail = format!(
                    "nothing arrived within {} s ({error})",
                    RECEIVE_TIMEOUT.as_secs()
                );
                narrator.detail(&format!("receiver: {detail}"));
                result.outcome = "not_received";
                result.detail = Some(detail);
            }
        }
        datagrams.push(result);
    }

    let stats = if driver_unavailable {
        None
    } else {
        narrator.step("Query the driver's counters");
        match request::query_stats(&device) {
            Ok(stats) => {
                if !json {
                    print_stats(&stats);
                }
                Some(stats)
            }
            Err(error) => {
                narrator.detail(&format!("query failed: {error}"));
                None
            }
        }
    };

    narrator.step(if device::HAS_TRACE {
        "Unload the driver (remove the device, EvtDriverUnload) and check for leaks"
    } else {
        "Close the device"
    });
    let (unload, unload_status) = close_device(&mut device);
    narrator.flush_trace();
    match &unload {
        Some(report) if report.clean => narrator.detail(&format!("leak report: {}", report.text)),
        Some(_) => narrator.detail("leak report: NOT CLEAN (details on stderr)"),
        None => narrator
            .detail("leak report: not available for the installed driver (use Driver Verifier)"),
    }

    let attempted = datagrams.iter().filter(|d| d.outcome != "skipped").count();
    let verified = datagrams.iter().filter(|d| d.outcome == "verified").count();
    let mut status = if verified == attempted && stats.is_some() {
        ExitStatus::Success
    } else if driver_unavailable {
        ExitStatus::DriverUnavailable
    } else {
        ExitStatus::Partial
    };
    status = status.and(unload_status);
    if json {
        output::emit_json(&DemoReport {
            command: "demo",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            receiver_v4: v4_address.to_string(),
            receiver_v6: v6.as_ref().map(|(_, address)| address.to_string()),
            datagrams,
            verified,
            stats: stats.as_ref().map(StatsJson::from),
            unload_report: unload.as_ref().map(UnloadJson::from),
            trace: narrator.trace,
        });
    } else {
        say!("");
        let leak = match &unload {
            Some(report) if report.clean => "leak report clean",
            Some(_) => "leak report NOT clean",
            None => "no leak report on Windows",
        };
        let verdict = if status == ExitStatus::Success {
            "demo passed"
        } else {
            "demo FAILED"
        };
        say!("{verdict}: {verified} of {attempted} datagram(s) arrived byte for byte; {leak}");
    }
    Ok(status)
}

fn skipped(size: usize) -> DatagramJson {
    DatagramJson {
        size,
        destination: None,
        outcome: "skipped",
        driver_sequence: None,
        received_from: None,
        error: None,
        detail: Some("no IPv6 loopback on this host".to_string()),
    }
}

fn send_failed(size: usize, destination: SocketAddr, error: &DeviceError) -> DatagramJson {
    DatagramJson {
        size,
        destination: Some(destination.to_string()),
        outcome: "send_failed",
        driver_sequence: None,
        received_from: None,
        error: Some(error.into()),
        detail: None,
    }
}

/// Where two payloads first differ, for the report.
fn mismatch(arrived: &[u8], sent: &[u8]) -> String {
    if arrived.len() != sent.len() {
        return format!(
            "length differs: {} byte(s) sent",
            thousands(sent.len() as u64)
        );
    }
    match arrived.iter().zip(sent).position(|(a, b)| a != b) {
        Some(offset) => format!("bytes differ from offset {offset}"),
        None => "identical".to_string(),
    }
}
