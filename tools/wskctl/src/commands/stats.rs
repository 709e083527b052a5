//! `wskctl stats`: the driver's counters.

use serde::Serialize;
use wsk_sample_ioctl::{FixedDestination, Stats};

use super::{UnloadJson, close_device};
use crate::device::{self, DeviceAccess, OpenOptions};
use crate::exit::{ExitStatus, Failure};
use crate::output::{self, say, thousands};
use crate::request;

/// The counters in `--json` (also embedded in `config` and `demo --json`): the ABI's [`Stats`]
/// as it is, plus the derived `failed_total`.
#[derive(Serialize, Clone, Debug)]
pub struct StatsJson {
    #[serde(flatten)]
    pub stats: Stats,
    pub failed_total: u64,
}

impl From<&Stats> for StatsJson {
    fn from(stats: &Stats) -> Self {
        StatsJson {
            stats: *stats,
            failed_total: stats.failed_total(),
        }
    }
}

fn describe_fixed(fixed: Option<FixedDestination>) -> String {
    match fixed {
        None => "none".to_string(),
        Some(FixedDestination::Remote(address)) => format!("{address} (fixed remote)"),
        Some(FixedDestination::SendTo(address)) => format!("{address} (fixed send-to)"),
    }
}

#[derive(Serialize)]
struct StatsReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    /// Why the numbers are what they are on this backend.
    note: Option<&'static str>,
    stats: StatsJson,
    unload_report: Option<UnloadJson>,
}

const MODEL_NOTE: &str = "kernel model: this run loaded a fresh copy of the driver, so these are the counters of \
                          a driver that has not sent anything yet";

pub fn run(json: bool) -> Result<ExitStatus, Failure> {
    let mut device = device::open(OpenOptions {
        access: DeviceAccess::Query,
        trace: None,
        concurrent: false,
    })?;
    let stats = request::query_stats(&device);
    let (unload, unload_status) = close_device(&mut device);
    let stats = stats?;
    let status = unload_status;
    if json {
        output::emit_json(&StatsReport {
            command: "stats",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            note: device::HAS_TRACE.then_some(MODEL_NOTE),
            stats: (&stats).into(),
            unload_report: unload.as_ref().map(UnloadJson::from),
        });
    } else {
        say!("driver counters ({})", device::BACKEND_NAME);
        if device::HAS_TRACE {
            say!("   ({MODEL_NOTE})");
        }
        print_human(&stats);
    }
    Ok(status)
}

/// The counters as an aligned list.
pub fn print_human(stats: &Stats) {
    let none = || "none".to_string();
    let rows: [(&str, String); 19] = [
        ("requests", thousands(stats.requests)),
        ("datagrams sent", thousands(stats.datagrams_sent)),
        ("batches", thousands(stats.batches)),
        ("bytes sent", thousands(stats.bytes_sent)),
        ("in flight", thousands(stats.in_flight)),
        ("failed: validation", thousands(stats.failed_validation)),
        ("failed: no resources", thousands(stats.failed_no_resources)),
        ("failed: not ready", thousands(stats.failed_not_ready)),
        ("failed: transport", thousands(stats.failed_transport)),
        ("failed: cancelled", thousands(stats.failed_cancelled)),
        ("failed: busy", thousands(stats.failed_busy)),
        ("failed: total", thousands(stats.failed_total())),
        ("buffer slots", thousands(u64::from(stats.pool_slots))),
        ("buffer slots free", thousands(u64::from(stats.pool_free))),
        (
            "slot size",
            format!("{} bytes", thousands(u64::from(stats.slot_size))),
        ),
        (
            "IPv4 socket",
            stats.local_v4.map_or_else(none, |a| a.to_string()),
        ),
        (
            "IPv6 socket",
            stats.local_v6.map_or_else(none, |a| a.to_string()),
        ),
        ("IPv4 fixed destination", describe_fixed(stats.fixed_v4)),
        ("IPv6 fixed destination", describe_fixed(stats.fixed_v6)),
    ];
    for (label, value) in rows {
        say!("   {label:<24}{value}");
    }
}
