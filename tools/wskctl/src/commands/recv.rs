//! `wskctl recv`: receive datagrams through the driver, one pended IOCTL_WSK_SAMPLE_RECEIVE at
//! a time (the inverted-call pattern), and report each one's source and size.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use wsk_sample_ioctl::{
    ConfigAction, Delivery, Family, IOCTL_WSK_SAMPLE_RECEIVE, IOCTL_WSK_SAMPLE_RECEIVE_MODE,
    IOCTL_WSK_SAMPLE_RECEIVE_STATS, ModeRequest, RECEIVE_HEADER_SIZE, RECEIVE_STATS_SIZE,
    ReceiveMode, ReceiveReply, ReceiveRequest, ReceiveStats,
};

use super::{UnloadJson, close_device};
use crate::cli::RecvArgs;
use crate::device::{self, Device, DeviceAccess, DeviceError, OpenOptions};
use crate::exit::{ExitStatus, Failure};
use crate::interrupt;
use crate::output::{self, note, say, thousands};
use crate::request;

/// Room for the largest datagram after the reply header.
const OUTPUT: usize = RECEIVE_HEADER_SIZE + 65_536;
/// How often the watchdog looks at Ctrl-C and the silence timeout.
const POLL: Duration = Duration::from_millis(50);

#[derive(Serialize)]
struct DatagramJson {
    source: Option<String>,
    length: u32,
    truncated: bool,
    /// With --print: the bytes received, in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_hex: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[derive(Serialize)]
struct RecvReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    bound: Option<String>,
    received: u64,
    bytes: u64,
    datagrams: Vec<DatagramJson>,
    stopped_by: &'static str,
    driver: Option<ReceiveStats>,
    unload_report: Option<UnloadJson>,
}

/// Turns `mode` on (or off) for `family`'s socket, with posted receive IRPs.
pub fn set_mode(device: &dyn Device, family: Family, mode: ReceiveMode) -> Result<(), DeviceError> {
    set_mode_with(device, family, mode, Delivery::Irp)
}

/// Turns `mode` on (or off) for `family`'s socket, with datagrams delivered as `delivery` says.
pub fn set_mode_with(
    device: &dyn Device,
    family: Family,
    mode: ReceiveMode,
    delivery: Delivery,
) -> Result<(), DeviceError> {
    let request = ModeRequest {
        family,
        mode,
        delivery,
    };
    device
        .ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &request.encode(), 0)
        .map(|_| ())
}

/// `--events` as a delivery.
pub fn delivery(events: bool) -> Delivery {
    if events {
        Delivery::Events
    } else {
        Delivery::Irp
    }
}

/// The driver's receive counters.
pub fn receive_stats(device: &dyn Device) -> Result<ReceiveStats, DeviceError> {
    let output = device.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_STATS, &[], RECEIVE_STATS_SIZE)?;
    ReceiveStats::decode(&output).map_err(|e| DeviceError::bad_reply("receive stats", e))
}

/// What ended the loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Count,
    Timeout,
    Interrupted,
}

/// Opens the device, binds `bind`'s family socket to it and turns `mode` on; returns it with
/// the address the socket is bound to. A failure closes the device again.
pub fn start(
    bind: std::net::SocketAddr,
    mode: ReceiveMode,
    delivery: Delivery,
    concurrent: bool,
) -> Result<(device::Backend, Option<std::net::SocketAddr>), Failure> {
    let family = Family::of(&bind);
    let mut device = device::open(OpenOptions {
        access: DeviceAccess::Send,
        trace: None,
        concurrent,
    })?;
    let started = request::configure(&device, ConfigAction::Bind(bind))
        .and_then(|()| set_mode_with(&device, family, mode, delivery));
    if let Err(error) = started {
        let _ = close_device(&mut device);
        return Err(error.into());
    }
    let bound = request::query_stats(&device)
        .ok()
        .and_then(|s| match family {
            Family::V4 => s.local_v4,
            Family::V6 => s.local_v6,
        });
    Ok((device, bound))
}

pub fn run(args: RecvArgs, json: bool) -> Result<ExitStatus, Failure> {
    let family = Family::of(&args.bind);
    let (mut device, bound) = start(args.bind, ReceiveMode::Receive, delivery(args.events), true)?;
    if let Some(bound) = bound {
        note!("receiving on {bound}");
    }
    let stop = interrupt::stop_flag();
    let last = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let began = Instant::now();
    let silence = Duration::from_secs_f64(args.timeout);
    let mut datagrams = Vec::new();
    let (mut received, mut bytes) = (0u64, 0u64);
    let mut stopped_by = Stop::Count;
    let mut failure = None;
    let request = ReceiveRequest { family }.encode();
    std::thread::scope(|scope| {
        // The watchdog: a receive that waits past the timeout (or Ctrl-C) is cancelled by
        // turning receiving off, which completes the pended request with STATUS_CANCELLED. It
        // needs a handle whose calls overlap: the model's is opened so, and on Windows every
        // handle of this tool is overlapped (device/windows.rs).
        {
            let (device, stop, last, done) = (&device, &stop, &last, &done);
            scope.spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    std::thread::sleep(POLL);
                    let since = Duration::from_millis(last.load(Ordering::SeqCst));
                    let quiet = began.elapsed().saturating_sub(since) >= silence;
                    if stop.load(Ordering::SeqCst) || quiet {
                        let _ = set_mode(device, family, ReceiveMode::Off);
                        return;
                    }
                }
            });
        }
        loop {
            if args.count.is_some_and(|count| received >= count) {
                stopped_by = Stop::Count;
                break;
            }
            match device.ioctl(IOCTL_WSK_SAMPLE_RECEIVE, &request, OUTPUT) {
                Ok(output) => {
                    let Ok((reply, payload)) = ReceiveReply::decode(&output) else {
                        failure = Some(Failure::Other("the driver's reply is malformed".into()));
                        break;
                    };
                    last.store(began.elapsed().as_millis() as u64, Ordering::SeqCst);
                    received += 1;
                    bytes += u64::from(reply.copied);
                    let source = reply.source.map(|s| s.to_string());
                    if !json {
                        let cut = if reply.truncated() {
                            " (truncated)"
                        } else {
                            ""
                        };
                        say!(
                            "{} bytes from {}{cut}",
                            thousands(u64::from(reply.datagram_length)),
                            source.as_deref().unwrap_or("?")
                        );
                        if args.print {
                            say!("   {}", String::from_utf8_lossy(payload));
                        }
                    }
                    datagrams.push(DatagramJson {
                        source,
                        length: reply.datagram_length,
                        truncated: reply.truncated(),
                        payload_hex: (json && args.print).then(|| hex(payload)),
                    });
                }
                Err(error) if error.is_cancelled() => {
                    stopped_by = if stop.load(Ordering::SeqCst) {
                        Stop::Interrupted
                    } else {
                        Stop::Timeout
                    };
                    break;
                }
                Err(error) => {
                    failure = Some(error.into());
                    break;
                }
            }
        }
        done.store(true, Ordering::SeqCst);
    });
    let _ = set_mode(&device, family, ReceiveMode::Off);
    let driver = receive_stats(&device).ok();
    let (unload, unload_status) = close_device(&mut device);
    if let Some(failure) = failure {
        return Err(failure);
    }
    let mut status = unload_status;
    if status == ExitStatus::Success
        && (stopped_by == Stop::Interrupted || args.count.is_some_and(|count| received < count))
    {
        status = ExitStatus::Partial;
    }
    let stopped = match stopped_by {
        Stop::Count => "count",
        Stop::Timeout => "timeout",
        Stop::Interrupted => "interrupted",
    };
    if json {
        output::emit_json(&RecvReport {
            command: "recv",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            bound: bound.map(|b| b.to_string()),
            received,
            bytes,
            datagrams,
            stopped_by: stopped,
            driver,
            unload_report: unload.as_ref().map(UnloadJson::from),
        });
    } else {
        say!(
            "received {} datagram(s), {} bytes (stopped by {stopped})",
            thousands(received),
            thousands(bytes)
        );
        if let Some(driver) = driver {
            say!(
                "   driver: {} received, {} delivered, {} truncated, {} dropped (no request waiting), {} receive errors",
                thousands(driver.datagrams),
                thousands(driver.delivered),
                thousands(driver.truncated),
                thousands(driver.dropped_no_request),
                thousands(driver.receive_errors)
            );
        }
    }
    Ok(status)
}
