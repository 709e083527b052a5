//! `wskctl bench`: the send rate of the driver, one IOCTL per datagram and in batches, against a
//! raw user-mode sender on the same host socket API, in one run with the same payload.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use wsk_sample_ioctl::{Destination, Family, MAX_BATCH_BYTES};

use super::listen::bind_receiver;
use super::{UnloadJson, close_device, family_name};
use crate::cli::BenchArgs;
use crate::device::{self, DeviceAccess, OpenOptions};
use crate::exit::{ExitStatus, Failure};
use crate::interrupt;
use crate::output::{self, note, say, thousands};
use crate::payload::{Payloads, fill_pattern};
use crate::raw::{self, RawTally};
use crate::send_loop::{self, SendJob, SendTally, StopReason};

/// The per-IOCTL measurement sends this fraction of --count: it is the slow one.
const PER_IOCTL_DIVISOR: u64 = 10;

/// Datagrams sent, unmeasured, before each measurement: sockets created, caches and branch
/// predictors warm, the receiver running.
fn warmup(count: u64) -> u64 {
    (count / 10).clamp(100, 20_000)
}

/// A receiver on loopback that only drains and counts, on its own thread.
struct DrainReceiver {
    address: SocketAddr,
    datagrams: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DrainReceiver {
    fn start(bind: SocketAddr) -> Result<DrainReceiver, Failure> {
        let socket = bind_receiver(bind).map_err(|error| {
            Failure::Other(format!("cannot bind a receiver on {bind}: {error}"))
        })?;
        let address = socket.local_addr().map_err(|error| {
            Failure::Other(format!("cannot read the receiver's address: {error}"))
        })?;
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .map_err(|error| Failure::Other(format!("cannot set a receive timeout: {error}")))?;
        let datagrams = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let datagrams = Arc::clone(&datagrams);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("bench-receiver".to_string())
                .spawn(move || drain(&socket, &datagrams, &stop))
                .map_err(|error| {
                    Failure::Other(format!("cannot start the receiver thread: {error}"))
                })?
        };
        Ok(DrainReceiver {
            address,
            datagrams,
            stop,
            thread: Some(thread),
        })
    }

    fn received(&self) -> u64 {
        self.datagrams.load(Ordering::Relaxed)
    }

    /// Waits (bounded) until nothing has arrived for a moment, so a count taken afterwards
    /// includes everything still queued; returns that count.
    fn settle(&self) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut seen = self.received();
        let mut quiet_since = Instant::now();
        while Instant::now() < deadline && quiet_since.elapsed() < Duration::from_millis(40) {
            std::thread::sleep(Duration::from_millis(5));
            let now = self.received();
            if now != seen {
                seen = now;
                quiet_since = Instant::now();
            }
        }
        seen
    }
}

impl Drop for DrainReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn drain(socket: &UdpSocket, datagrams: &AtomicU64, stop: &AtomicBool) {
    let mut buffer = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        // Timeouts, and the connection resets Windows reports for ICMP errors, just loop.
        if socket.recv(&mut buffer).is_ok() {
            datagrams.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One measured method in `--json`.
#[derive(Serialize, Clone, Debug)]
pub struct PhaseJson {
    /// What was measured.
    pub method: String,
    /// Datagrams the method was asked to send (after its warm-up).
    pub planned: u64,
    pub datagrams_sent: u64,
    pub failed: u64,
    pub bytes_sent: u64,
    /// IOCTLs (driver) or system calls (raw) made.
    pub calls: u64,
    pub elapsed_seconds: f64,
    pub datagrams_per_second: f64,
    /// Payload bits per second / 1e9.
    pub gbit_per_second: f64,
    /// Unmeasured datagrams sent first.
    pub warmup_datagrams: u64,
    /// Datagrams bench's own receiver counted during the measurement (null with --to).
    pub received: Option<u64>,
    pub first_error: Option<String>,
    /// Which round these figures come from (0-based): the one with the median rate.
    pub median_round: usize,
    /// Every round's figures, in the order they ran.
    pub rounds: Vec<RoundJson>,
}

/// One round of one method.
#[derive(Serialize, Clone, Debug)]
pub struct RoundJson {
    pub datagrams_sent: u64,
    pub failed: u64,
    pub elapsed_seconds: f64,
    pub datagrams_per_second: f64,
    pub received: Option<u64>,
}

impl From<&PhaseJson> for RoundJson {
    fn from(phase: &PhaseJson) -> Self {
        RoundJson {
            datagrams_sent: phase.datagrams_sent,
            failed: phase.failed,
            elapsed_seconds: phase.elapsed_seconds,
            datagrams_per_second: phase.datagrams_per_second,
            received: phase.received,
        }
    }
}

/// The rounds of one method, summarised by the round with the median rate (the lower median
/// for an even count); `None` if it never ran. The second value: every round sent everything.
fn summarize(mut rounds: Vec<PhaseJson>) -> (Option<PhaseJson>, bool) {
    let complete = rounds.iter().all(PhaseJson::complete);
    let all: Vec<RoundJson> = rounds.iter().map(RoundJson::from).collect();
    let first_error = rounds.iter().find_map(|r| r.first_error.clone());
    let mut order: Vec<usize> = (0..rounds.len()).collect();
    order.sort_by(|&a, &b| {
        rounds[a]
            .datagrams_per_second
            .total_cmp(&rounds[b].datagrams_per_second)
    });
    let Some(&median) = order.get(order.len().saturating_sub(1) / 2) else {
        return (None, complete);
    };
    let mut phase = rounds.swap_remove(median);
    phase.median_round = median;
    phase.rounds = all;
    phase.first_error = first_error;
    (Some(phase), complete)
}

impl PhaseJson {
    fn new(method: String, planned: u64, warmup: u64, tally: &RawTally) -> PhaseJson {
        PhaseJson {
            method,
            planned,
            datagrams_sent: tally.sent,
            failed: tally.failed,
            bytes_sent: tally.bytes,
            calls: tally.calls,
            elapsed_seconds: tally.elapsed.as_secs_f64(),
            datagrams_per_second: output::per_second(tally.sent, tally.elapsed),
            gbit_per_second: output::megabits_per_second(tally.bytes, tally.elapsed) / 1e3,
            warmup_datagrams: warmup,
            received: None,
            first_error: tally.first_error.clone(),
            median_round: 0,
            rounds: Vec::new(),
        }
    }

    fn complete(&self) -> bool {
        self.datagrams_sent == self.planned && self.failed == 0
    }
}

/// b/a, b/c: ratios of datagram rates; null when a rate is missing or zero.
#[derive(Serialize, Clone, Debug)]
pub struct RatiosJson {
    pub batched_vs_per_ioctl: Option<f64>,
    pub batched_vs_send_to: Option<f64>,
    /// Null where there is no sendmmsg (Windows): "n/a".
    pub batched_vs_sendmmsg: Option<f64>,
}

#[derive(Serialize)]
struct ReceiverJson {
    /// True when bench bound the receiver itself (no --to).
    own: bool,
    address: String,
    /// Datagrams it counted over the whole run, warm-ups included.
    received_total: Option<u64>,
}

#[derive(Serialize)]
struct BenchReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    destination: String,
    receiver: ReceiverJson,
    size: usize,
    count: u64,
    batch: usize,
    /// Datagrams per batch request and per sendmmsg call: --batch, fewer if the payload bytes
    /// would pass 65,536.
    datagrams_per_batch: usize,
    per_ioctl_count: u64,
    /// Rounds run; each method's figures are those of its median round.
    rounds: usize,
    interrupted: bool,
    per_ioctl: Option<PhaseJson>,
    batched: Option<PhaseJson>,
    raw_send_to: Option<PhaseJson>,
    /// Null where there is no sendmmsg (Windows).
    raw_sendmmsg: Option<PhaseJson>,
    ratios: RatiosJson,
    unload_report: Option<UnloadJson>,
}

/// The arguments, checked together.
struct BenchPlan {
    destination: Option<SocketAddr>,
    size: usize,
    count: u64,
    batch: usize,
    per_batch: usize,
    rounds: usize,
}

fn plan(args: &BenchArgs) -> Result<BenchPlan, Failure> {
    let usage = |message: String| Err(Failure::Usage(message));
    let family = args.to.as_ref().map_or(Family::V4, Family::of);
    if let Some(to) = args.to
        && device::LOOPBACK_ONLY
        && !to.ip().is_loopback()
    {
        return usage(format!(
            "--to {to}: on this host wskctl runs the driver in the kernel model, which sends only to \
             loopback (127.0.0.0/8 or [::1])"
        ));
    }
    if args.size == 0 || args.size > family.max_payload() {
        return usage(format!(
            "--size {} is out of range: a datagram to an {} address carries 1 to {} bytes",
            args.size,
            family_name(family),
            thousands(family.max_payload() as u64)
        ));
    }
    Ok(BenchPlan {
        destination: args.to,
        size: args.size,
        count: args.count,
        batch: args.batch,
        per_batch: args.batch.min(MAX_BATCH_BYTES / args.size).max(1),
        rounds: args.rounds,
    })
}

/// What every measurement shares.
struct Context<'a> {
    device: &'a device::Backend,
    destination: SocketAddr,
    payload: &'a [u8],
    stop: &'a AtomicBool,
    receiver: Option<&'a DrainReceiver>,
}

impl Context<'_> {
    /// Runs `count` datagrams through the driver (after a warm-up), one IOCTL each or in
    /// batches.
    fn driver(
        &self,
        count: u64,
        batch: Option<usize>,
        method: String,
    ) -> Result<PhaseJson, Failure> {
        let run = |count: u64| -> SendTally {
            let payloads = Payloads::Repeat {
                bytes: self.payload.to_vec(),
                count,
            };
            let job = SendJob {
                destination: Destination::Address(self.destination),
                payloads: &payloads,
                rate: None,
                batch,
            };
            send_loop::run(self.device, &job, self.stop, &mut |_| {})
        };
        let warm = warmup(count);
        let warmed = run(warm);
        if warmed.stopped == Some(StopReason::DriverUnavailable)
            && let Some(failure) = warmed.first_failure
        {
            return Err(Failure::Device(failure.error));
        }
        Ok(self.measure(method, count, warm, || {
            let tally = run(count);
            RawTally {
                sent: tally.sent,
                failed: tally.failed,
                bytes: tally.bytes_sent,
                calls: tally.requests,
                elapsed: tally.elapsed,
                first_error: tally.first_failure.map(|f| f.error.to_string()),
                interrupted: tally.stopped == Some(StopReason::Interrupted),
            }
        }))
    }

    /// Runs a raw sender for `count` datagrams after a warm-up.
    fn raw(&self, count: u64, method: String, run: impl Fn(u64) -> RawTally) -> PhaseJson {
        let warm = warmup(count);
        run(warm);
        self.measure(method, count, warm, || run(count))
    }

    /// Settles the receiver, runs the measurement, settles again, and counts what arrived.
    fn measure(
        &self,
        method: String,
        count: u64,
        warm: u64,
        run: impl FnOnce() -> RawTally,
    ) -> PhaseJson {
        let before = self.receiver.map(DrainReceiver::settle);
        let tally = run();
        let after = self.receiver.map(DrainReceiver::settle);
        let mut phase = PhaseJson::new(method, count, warm, &tally);
        phase.received = before
            .zip(after)
            .map(|(before, after)| after.saturating_sub(before));
        phase
    }
}

fn ratio(numerator: Option<&PhaseJson>, denominator: Option<&PhaseJson>) -> Option<f64> {
    let (numerator, denominator) = (numerator?, denominator?);
    (denominator.datagrams_per_second > 0.0)
        .then(|| numerator.datagrams_per_second / denominator.datagrams_per_second)
}

pub fn run(args: BenchArgs, json: bool) -> Result<ExitStatus, Failure> {
    let plan = plan(&args)?;
    let receiver = match plan.destination {
        Some(_) => None,
        None => Some(DrainReceiver::start(SocketAddr::from(([127, 0, 0, 1], 0)))?),
    };
    let destination = match (&receiver, plan.destination) {
        (_, Some(to)) => to,
        (Some(receiver), None) => receiver.address,
        (None, None) => return Err(Failure::Other("no destination".to_string())),
    };
    let stop = interrupt::stop_flag();
    let mut payload = Vec::new();
    fill_pattern(0, plan.size, &mut payload);
    let per_ioctl_count = (plan.count / PER_IOCTL_DIVISOR).max(1);
    let raw_socket = raw::sender_for(destination).map_err(|error| {
        Failure::Other(format!("cannot bind a user-mode sender socket: {error}"))
    })?;

    let mut device = device::open(OpenOptions {
        access: DeviceAccess::Send,
        trace: None,
        concurrent: false,
    })?;
    if !json {
        say!(
            "wskctl bench: {}-byte datagrams to {destination} ({})",
            thousands(plan.size as u64),
            device::BACKEND_NAME
        );
        match &receiver {
            Some(_) => say!("receiver: bench's own on {destination}, draining and counting"),
            None => say!("receiver: {destination} (not bench's: arrivals are not counted)"),
        }
        say!("measuring (each method is warmed up first) ...");
    }

    let context = Context {
        device: &device,
        destination,
        payload: &payload,
        stop: &stop,
        receiver: receiver.as_ref(),
    };
    // The methods take turns, round after round, so a disturbance on a shared machine hits
    // one round of each rather than all of one method.
    let mut rounds: [Vec<PhaseJson>; 4] = Default::default();
    let result = (|| -> Result<(), Failure> {
        for _ in 0..plan.rounds {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            rounds[0].push(context.driver(
                per_ioctl_count,
                None,
                "driver: one IOCTL_WSK_SAMPLE_SEND per datagram".to_string(),
            )?);
            if stop.load(Ordering::Relaxed) {
                break;
            }
            rounds[1].push(context.driver(
                plan.count,
                Some(plan.per_batch),
                format!(
                    "driver: IOCTL_WSK_SAMPLE_SEND_BATCH, {} datagrams per request",
                    plan.per_batch
                ),
            )?);
            if stop.load(Ordering::Relaxed) {
                break;
            }
            rounds[2].push(context.raw(
                plan.count,
                "user mode: UdpSocket::send_to loop".to_string(),
                |count| raw::send_to_loop(&raw_socket, destination, &payload, count, &stop),
            ));
            #[cfg(target_os = "linux")]
            if !stop.load(Ordering::Relaxed) {
                rounds[3].push(context.raw(
                    plan.count,
                    format!("user mode: sendmmsg, {} datagrams per call", plan.per_batch),
                    |count| {
                        raw::sendmmsg_loop(
                            &raw_socket,
                            destination,
                            &payload,
                            count,
                            plan.per_batch,
                            &stop,
                        )
                    },
                ));
            }
        }
        Ok(())
    })();
    let (unload, unload_status) = close_device(&mut device);
    result?;
    let received_total = receiver.as_ref().map(DrainReceiver::settle);
    drop(receiver);

    let interrupted = stop.load(Ordering::Relaxed);
    let methods = if raw::HAS_SENDMMSG { 4 } else { 3 };
    let summaries = rounds.map(summarize);
    let all_complete = summaries.iter().take(methods).all(|(phase, complete)| {
        *complete
            && phase
                .as_ref()
                .is_some_and(|p| p.rounds.len() == plan.rounds)
    });
    let [per_ioctl, batched, raw_send_to, raw_sendmmsg] = summaries.map(|(phase, _)| phase);
    let ratios = RatiosJson {
        batched_vs_per_ioctl: ratio(batched.as_ref(), per_ioctl.as_ref()),
        batched_vs_send_to: ratio(batched.as_ref(), raw_send_to.as_ref()),
        batched_vs_sendmmsg: ratio(batched.as_ref(), raw_sendmmsg.as_ref()),
    };
    let status = if all_complete && !interrupted {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    }
    .and(unload_status);
    let report = BenchReport {
        command: "bench",
        ok: status == ExitStatus::Success,
        exit_code: status.code(),
        backend: device::BACKEND_NAME,
        destination: destination.to_string(),
        receiver: ReceiverJson {
            own: plan.destination.is_none(),
            address: destination.to_string(),
            received_total,
        },
        size: plan.size,
        count: plan.count,
        batch: plan.batch,
        datagrams_per_batch: plan.per_batch,
        per_ioctl_count,
        rounds: plan.rounds,
        interrupted,
        per_ioctl,
        batched,
        raw_send_to,
        raw_sendmmsg,
        ratios,
        unload_report: unload.as_ref().map(UnloadJson::from),
    };
    if json {
        output::emit_json(&report);
    } else {
        print_human(&report);
    }
    Ok(status)
}

fn print_human(report: &BenchReport) {
    say!("");
    say!(
        "  {:<34} {:>11} {:>9} {:>13} {:>8} {:>10} {:>11}",
        "method",
        "datagrams",
        "seconds",
        "datagrams/s",
        "Gbit/s",
        "calls",
        "received"
    );
    let rows = [
        (
            "(a) driver, 1 IOCTL per datagram".to_string(),
            &report.per_ioctl,
        ),
        (
            format!("(b) driver, batches of {}", report.datagrams_per_batch),
            &report.batched,
        ),
        ("(c) raw send_to loop".to_string(), &report.raw_send_to),
        (
            format!("(c) raw sendmmsg, {} per call", report.datagrams_per_batch),
            &report.raw_sendmmsg,
        ),
    ];
    for (label, phase) in rows {
        match phase {
            Some(phase) => say!(
                "  {label:<34} {:>11} {:>9.3} {:>13} {:>8.3} {:>10} {:>11}",
                thousands(phase.datagrams_sent),
                phase.elapsed_seconds,
                thousands(phase.datagrams_per_second.round() as u64),
                phase.gbit_per_second,
                thousands(phase.calls),
                phase.received.map_or_else(|| "-".to_string(), thousands)
            ),
            None => say!("  {label:<34} {:>11}", "n/a"),
        }
    }
    say!("");
    let show = |ratio: Option<f64>| ratio.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}x"));
    say!(
        "  b/a {}   b/c(send_to) {}   b/c(sendmmsg) {}",
        show(report.ratios.batched_vs_per_ioctl),
        show(report.ratios.batched_vs_send_to),
        show(report.ratios.batched_vs_sendmmsg)
    );
    say!(
        "  each row is the median of {} round(s), the methods taking turns; (a) sends --count/{PER_IOCTL_DIVISOR} \
         = {} datagrams per round. Before each measurement a method sends {} (a) or {} (others) \
         unmeasured datagrams to warm up. Gbit/s counts payload bytes only.",
        report.rounds,
        thousands(report.per_ioctl_count),
        thousands(warmup(report.per_ioctl_count)),
        thousands(warmup(report.count))
    );
    if let Some(total) = report.receiver.received_total {
        say!(
            "  the receiver counted {} datagrams in all (warm-ups included); a receiver may drop \
             datagrams under load",
            thousands(total)
        );
    }
    for phase in [
        &report.per_ioctl,
        &report.batched,
        &report.raw_send_to,
        &report.raw_sendmmsg,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(error) = &phase.first_error {
            note!(
                "{}: {} datagram(s) failed, first: {error}",
                phase.method,
                thousands(phase.failed)
            );
        }
    }
    if report.interrupted {
        note!("interrupted by Ctrl-C: the remaining methods were not measured");
    }
}
