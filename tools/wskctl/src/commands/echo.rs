//! `wskctl echo`: turns on the driver's kernel echo responder on a bound socket and reports
//! what it echoed. The echo itself happens in the driver's receive path (the receive buffer is
//! sent back to its source and re-posted from the send's completion); this command only starts
//! it, watches the driver's receive counters and stops it.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use wsk_sample_ioctl::{Family, ReceiveMode};

use super::recv::{receive_stats, set_mode, start};
use super::{UnloadJson, close_device};
use crate::cli::EchoArgs;
use crate::device;
use crate::exit::{ExitStatus, Failure};
use crate::interrupt;
use crate::output::{self, note, say, thousands};

/// How often the driver's counters are read.
const POLL: Duration = Duration::from_millis(20);

#[derive(Serialize)]
struct EchoReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    bound: Option<String>,
    echoed: u64,
    dropped_echo: u64,
    datagrams: u64,
    bytes: u64,
    stopped_by: &'static str,
    unload_report: Option<UnloadJson>,
}

pub fn run(args: EchoArgs, json: bool) -> Result<ExitStatus, Failure> {
    let family = Family::of(&args.bind);
    let (mut device, bound) = start(
        args.bind,
        ReceiveMode::Echo,
        super::recv::delivery(args.events),
        false,
    )?;
    if let Some(bound) = bound {
        note!("echoing on {bound}");
    }
    let stop = interrupt::stop_flag();
    let silence = Duration::from_secs_f64(args.timeout);
    let mut last_change = Instant::now();
    let mut seen = 0u64;
    let mut failure = None;
    let stopped_by = loop {
        std::thread::sleep(POLL);
        if stop.load(Ordering::SeqCst) {
            break "interrupted";
        }
        match receive_stats(&device) {
            Ok(stats) => {
                let handled = stats.echoed + stats.dropped_echo;
                if handled != seen {
                    seen = handled;
                    last_change = Instant::now();
                }
                if args.count.is_some_and(|count| stats.echoed >= count) {
                    break "count";
                }
            }
            Err(error) => {
                failure = Some(error);
                break "error";
            }
        }
        if last_change.elapsed() >= silence {
            break "timeout";
        }
    };
    let _ = set_mode(&device, family, ReceiveMode::Off);
    let stats = receive_stats(&device).ok().unwrap_or_default();
    let (unload, unload_status) = close_device(&mut device);
    if let Some(error) = failure {
        return Err(error.into());
    }
    let mut status = unload_status;
    if status == ExitStatus::Success
        && (stopped_by == "interrupted" || args.count.is_some_and(|count| stats.echoed < count))
    {
        status = ExitStatus::Partial;
    }
    if json {
        output::emit_json(&EchoReport {
            command: "echo",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            bound: bound.map(|b| b.to_string()),
            echoed: stats.echoed,
            dropped_echo: stats.dropped_echo,
            datagrams: stats.datagrams,
            bytes: stats.bytes,
            stopped_by,
            unload_report: unload.as_ref().map(UnloadJson::from),
        });
    } else {
        say!(
            "echoed {} datagram(s) of {} received ({} bytes), {} not echoed (stopped by {stopped_by})",
            thousands(stats.echoed),
            thousands(stats.datagrams),
            thousands(stats.bytes),
            thousands(stats.dropped_echo)
        );
    }
    Ok(status)
}
