//! `wskctl send`: check the arguments, run the send loop, print the summary.

use std::net::SocketAddr;
use std::path::Path;

use serde::Serialize;
use wsk_sample_ioctl::{ConfigAction, Destination, Family, FixedDestination, max_payload_for};

use super::{UnloadJson, close_device, family_name};
use crate::cli::{SendArgs, SendMode};
use crate::device::{self, DeviceAccess, DeviceError, ModelAllocations, OpenOptions, UnloadReport};
use crate::exit::{ExitStatus, Failure};
use crate::interrupt;
use crate::output::{self, ErrorReportJson, note, say, thousands};
use crate::payload::{PATTERN_HEADER, Payloads};
use crate::progress::Progress;
use crate::request;
use crate::send_loop::{self, SendJob, SendTally, StopReason};

/// Datagram size a file is cut into by default: the largest IPv4 UDP payload that fits a
/// 1,500-byte Ethernet frame without fragmentation.
pub const DEFAULT_CHUNK: usize = 1_472;

/// A checked send run.
#[derive(Debug)]
pub struct SendPlan {
    pub destination: SocketAddr,
    pub payloads: Payloads,
    pub rate: Option<f64>,
    pub mode: SendMode,
    /// Local address to bind the family's socket to first.
    pub bind: Option<SocketAddr>,
    /// Datagrams per batch request.
    pub batch: Option<usize>,
}

impl SendPlan {
    fn family(&self) -> Family {
        Family::of(&self.destination)
    }

    /// The fixed destination to configure before sending, if the mode has one.
    fn fixed_action(&self) -> Option<ConfigAction> {
        match self.mode {
            SendMode::PerDatagram => None,
            SendMode::FixedRemote => Some(ConfigAction::FixedRemote(self.destination)),
            SendMode::FixedSendTo => Some(ConfigAction::FixedSendTo(self.destination)),
        }
    }

    /// What each request names.
    fn request_destination(&self) -> Destination {
        match self.mode {
            SendMode::PerDatagram => Destination::Address(self.destination),
            SendMode::FixedRemote | SendMode::FixedSendTo => Destination::Fixed(self.family()),
        }
    }
}

impl SendArgs {
    /// Checks the arguments together and loads the payload; every refusal is a usage error that
    /// says what is wrong and what is allowed.
    pub fn plan(self) -> Result<SendPlan, Failure> {
        let destination = self.to;
        let usage = |message: String| Err(Failure::Usage(message));
        if destination.port() == 0 {
            return usage(format!("--to {destination}: port 0 cannot be sent to"));
        }
        if device::LOOPBACK_ONLY && !destination.ip().is_loopback() {
            return usage(format!(
                "--to {destination}: on this host wskctl runs the driver in the kernel model, which sends \
                 only to loopback (127.0.0.0/8 or [::1])"
            ));
        }
        if let Some(bind) = self.bind
            && bind.is_ipv4() != destination.is_ipv4()
        {
            return usage(format!(
                "--bind {bind} and --to {destination} are of different families: --bind sets the \
                 local address of the driver's socket the datagrams leave from, so it must be an \
                 {} address",
                family_name(Family::of(&destination))
            ));
        }
        let limit = max_payload_for(Some(destination));
        let family = family_name(Family::of(&destination));
        let too_large = |what: &str, size: usize| {
            format!(
                "{what} is {} bytes, more than the largest UDP datagram to an {family} address ({} bytes)",
                thousands(size as u64),
                thousands(limit as u64)
            )
        };
        let count = self.count.unwrap_or(1);
        let payloads = match (self.payload, self.size, self.file) {
            (Some(text), None, None) => {
                if text.is_empty() {
                    return usage(
                        "--payload is empty: a datagram needs at least 1 byte".to_string(),
                    );
                }
                if text.len() > limit {
                    return usage(too_large("--payload", text.len()));
                }
                Payloads::Repeat {
                    bytes: text.into_bytes(),
                    count,
                }
            }
            (None, Some(size), None) => {
                if size < PATTERN_HEADER {
                    return usage(format!(
                        "--size {size} is too small for the test pattern: each datagram starts with its \
                         8-byte sequence number, so --size must be at least 8 (use --payload for shorter \
                         datagrams)"
                    ));
                }
                if size > limit {
                    return usage(too_large("--size", size));
                }
                Payloads::Pattern { size, count }
            }
            (None, size, Some(path)) => {
                let chunk = size.unwrap_or(DEFAULT_CHUNK);
                if chunk == 0 {
                    return usage(
                        "--size 0: the file must be cut into datagrams of at least 1 byte"
                            .to_string(),
                    );
                }
                if chunk > limit {
                    return usage(too_large("--size", chunk));
                }
                Payloads::Chunks {
                    data: read_file(&path)?,
                    chunk,
                }
            }
            // clap's argument group and conflicts make these unreachable; refuse them anyway.
            _ => return usage("give exactly one of --payload, --size or --file".to_string()),
        };
        Ok(SendPlan {
            destination,
            payloads,
            rate: self.rate,
            mode: self.mode,
            bind: self.bind,
            batch: self.batch,
        })
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    if path.is_dir() {
        return Err(Failure::Usage(format!(
            "--file {shown} is a directory, not a file"
        )));
    }
    let data = std::fs::read(path)
        .map_err(|error| Failure::Usage(format!("cannot read --file {shown}: {error}")))?;
    if data.is_empty() {
        return Err(Failure::Usage(format!(
            "--file {shown} is empty: there is nothing to send"
        )));
    }
    Ok(data)
}

pub fn run(args: SendArgs, json: bool) -> Result<ExitStatus, Failure> {
    let plan = args.plan()?;
    let stop = interrupt::stop_flag();
    let mut device = device::open(OpenOptions {
        access: DeviceAccess::Send,
        trace: None,
        concurrent: false,
    })?;
    // The socket first (a bind recreates it, dropping any fixed address), then its fixed address.
    let setup = [plan.bind.map(ConfigAction::Bind), plan.fixed_action()];
    for action in setup.into_iter().flatten() {
        if let Err(error) = request::configure(&device, action) {
            note!(
                "wskctl could not {} before sending",
                describe_action(action)
            );
            close_device(&mut device);
            return Err(Failure::Device(error));
        }
    }
    let job = SendJob {
        destination: plan.request_destination(),
        payloads: &plan.payloads,
        rate: plan.rate,
        batch: plan.batch,
    };
    let mut progress = Progress::new(plan.payloads.count(), json);
    let tally = send_loop::run(&device, &job, &stop, &mut |tally| {
        progress.update(tally.attempted, tally.bytes_sent)
    });
    progress.finish();
    let allocations = device.model_allocations();
    let socket = (plan.bind.is_some() || plan.fixed_action().is_some())
        .then(|| socket_state(&device, plan.family()));
    let mut status = exit_status(&tally);
    // A fixed mode's address is the run's own: clear it again (on Windows it would otherwise
    // stay set in the installed driver).
    let fixed_cleared = plan.fixed_action().map(|_| {
        let clear = ConfigAction::ClearFixed(plan.family());
        match request::configure(&device, clear) {
            Ok(()) => true,
            Err(error) => {
                note!("warning: could not {}: {error}", describe_action(clear));
                false
            }
        }
    });
    if fixed_cleared == Some(false) {
        status = status.and(ExitStatus::Partial);
    }
    let (unload, unload_status) = close_device(&mut device);
    let status = status.and(unload_status);
    let mut summary = SendSummary::new(
        &plan,
        &tally,
        socket.flatten(),
        fixed_cleared,
        unload.as_ref(),
        status,
    );
    summary.model = allocations.map(ModelJson::from);
    if json {
        output::emit_json(&summary);
    } else {
        print_human(&plan, &tally, &summary);
    }
    Ok(status)
}

/// What a configuration step does, for messages.
pub fn describe_action(action: ConfigAction) -> String {
    match action {
        ConfigAction::Bind(address) => format!("bind the driver's socket to {address}"),
        ConfigAction::FixedRemote(address) => {
            format!("set {address} as the socket's fixed remote address")
        }
        ConfigAction::FixedSendTo(address) => {
            format!("set {address} as the socket's fixed send-to address")
        }
        ConfigAction::ClearFixed(family) => {
            format!(
                "clear the fixed address of the {} socket",
                family_name(family)
            )
        }
        ConfigAction::PoolSlots(slots) => format!("resize the send pool to {slots} slots"),
    }
}

/// The driver's socket of `family` as its counters report it, while the run's settings are in
/// place: (local address, fixed destination). `None` if the counters cannot be read.
fn socket_state(
    device: &device::Backend,
    family: Family,
) -> Option<(Option<SocketAddr>, Option<FixedDestination>)> {
    let stats = request::query_stats(device)
        .inspect_err(|error: &DeviceError| {
            note!("warning: could not read the driver's counters: {error}")
        })
        .ok()?;
    Some(match family {
        Family::V4 => (stats.local_v4, stats.fixed_v4),
        Family::V6 => (stats.local_v6, stats.fixed_v6),
    })
}

fn exit_status(tally: &SendTally) -> ExitStatus {
    if tally.complete() {
        ExitStatus::Success
    } else if tally.stopped == Some(StopReason::DriverUnavailable) {
        ExitStatus::DriverUnavailable
    } else {
        ExitStatus::Partial
    }
}

/// The `--json` summary (also the source of the human one).
#[derive(Serialize)]
pub struct SendSummary {
    pub command: &'static str,
    pub ok: bool,
    pub exit_code: u8,
    pub backend: &'static str,
    pub destination: String,
    /// "per-datagram", "fixed-remote" or "fixed-sendto".
    pub mode: &'static str,
    /// What the driver passed WSK as RemoteAddress: "explicit" (--to, per datagram) or "null"
    /// (the socket's fixed address).
    pub wsk_remote_address: &'static str,
    /// The batch size asked for (null: one send request per datagram).
    pub batch: Option<usize>,
    /// Send or batch requests issued.
    pub requests: u64,
    /// --bind as given.
    pub bind: Option<String>,
    /// The local address of the driver's socket during the run (with --bind or a fixed mode).
    pub local_address: Option<String>,
    /// The fixed destination the driver reported during the run (fixed modes).
    pub fixed_destination: Option<FixedDestination>,
    /// Fixed modes: whether the fixed address was cleared again after the run.
    pub fixed_cleared: Option<bool>,
    pub planned: u64,
    pub attempted: u64,
    pub datagrams_sent: u64,
    pub failed: u64,
    pub bytes_sent: u64,
    pub elapsed_seconds: f64,
    pub datagrams_per_second: f64,
    pub megabits_per_second: f64,
    pub interrupted: bool,
    pub first_error: Option<FirstErrorJson>,
    pub unload_report: Option<UnloadJson>,
    /// Kernel model only: what the model allocated for the driver from right after it loaded
    /// to the end of the send loop (the run's configuration included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelJson>,
}

/// The `"model"` object of `send --json`.
#[derive(Serialize)]
pub struct ModelJson {
    pub irps_allocated: u64,
    pub mdls_allocated: u64,
    pub pool_allocations: u64,
}

impl From<ModelAllocations> for ModelJson {
    fn from(allocations: ModelAllocations) -> Self {
        ModelJson {
            irps_allocated: allocations.irps,
            mdls_allocated: allocations.mdls,
            pool_allocations: allocations.pool,
        }
    }
}

#[derive(Serialize)]
pub struct FirstErrorJson {
    /// Index of the datagram in the run, from 0.
    pub datagram: u64,
    #[serde(flatten)]
    pub error: ErrorReportJson,
}

impl SendSummary {
    fn new(
        plan: &SendPlan,
        tally: &SendTally,
        socket: Option<(Option<SocketAddr>, Option<FixedDestination>)>,
        fixed_cleared: Option<bool>,
        unload: Option<&UnloadReport>,
        status: ExitStatus,
    ) -> SendSummary {
        let (local, fixed) = socket.unwrap_or((None, None));
        SendSummary {
            command: "send",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            destination: plan.destination.to_string(),
            mode: plan.mode.name(),
            wsk_remote_address: match plan.mode {
                SendMode::PerDatagram => "explicit",
                SendMode::FixedRemote | SendMode::FixedSendTo => "null",
            },
            batch: plan.batch,
            requests: tally.requests,
            bind: plan.bind.map(|address| address.to_string()),
            local_address: local.map(|address| address.to_string()),
            fixed_destination: fixed,
            fixed_cleared,
            planned: tally.planned,
            attempted: tally.attempted,
            datagrams_sent: tally.sent,
            failed: tally.failed,
            bytes_sent: tally.bytes_sent,
            elapsed_seconds: tally.elapsed.as_secs_f64(),
            datagrams_per_second: output::per_second(tally.sent, tally.elapsed),
            megabits_per_second: output::megabits_per_second(tally.bytes_sent, tally.elapsed),
            interrupted: tally.stopped == Some(StopReason::Interrupted),
            first_error: tally.first_failure.as_ref().map(|failure| FirstErrorJson {
                datagram: failure.index,
                error: (&failure.error).into(),
            }),
            unload_report: unload.map(UnloadJson::from),
            model: None,
        }
    }
}

fn print_human(plan: &SendPlan, tally: &SendTally, summary: &SendSummary) {
    say!(
        "sent {} of {} datagram(s) to {} through the driver ({})",
        thousands(tally.sent),
        thousands(tally.planned),
        plan.destination,
        summary.backend
    );
    let mode = match plan.mode {
        SendMode::PerDatagram => "per-datagram: every request names the destination".to_string(),
        SendMode::FixedRemote => format!(
            "fixed-remote: {} set with SIO_WSK_SET_REMOTE_ADDRESS, sent with a NULL RemoteAddress",
            plan.destination
        ),
        SendMode::FixedSendTo => format!(
            "fixed-sendto: {} set with SIO_WSK_SET_SENDTO_ADDRESS, sent with a NULL RemoteAddress",
            plan.destination
        ),
    };
    say!("  mode      {mode}");
    match plan.batch {
        Some(batch) => say!(
            "  requests  {} batch request(s) of up to {batch} datagram(s)",
            thousands(tally.requests)
        ),
        None => say!(
            "  requests  {} send request(s), one per datagram",
            thousands(tally.requests)
        ),
    }
    if let Some(local) = &summary.local_address {
        say!("  source    {local} (the driver's socket)");
    }
    if summary.fixed_cleared == Some(true) {
        say!("  cleanup   fixed address cleared after the run");
    }
    say!("  bytes     {}", thousands(tally.bytes_sent));
    say!("  elapsed   {}", output::seconds(tally.elapsed));
    say!(
        "  rate      {} datagrams/s, {:.2} Mbit/s",
        thousands(summary.datagrams_per_second.round() as u64),
        summary.megabits_per_second
    );
    say!("  failed    {}", thousands(tally.failed));
    if let Some(model) = &summary.model {
        say!(
            "  allocated {} IRP(s), {} MDL(s), {} pool allocation(s) since the driver loaded (kernel model)",
            thousands(model.irps_allocated),
            thousands(model.mdls_allocated),
            thousands(model.pool_allocations)
        );
    }
    if let Some(failure) = &tally.first_failure {
        say!(
            "  first failure: datagram {}: {}",
            failure.index,
            failure.error
        );
    }
    let not_attempted = tally.planned - tally.attempted;
    match tally.stopped {
        Some(StopReason::Interrupted) => {
            note!(
                "interrupted by Ctrl-C: {} datagram(s) not sent",
                thousands(not_attempted)
            );
        }
        Some(StopReason::DriverUnavailable) => {
            if let Some(failure) = &tally.first_failure {
                note!("error: {}", failure.error);
            }
            note!(
                "stopped: {} datagram(s) not attempted",
                thousands(not_attempted)
            );
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn plan(arguments: &[&str]) -> Result<SendPlan, String> {
        let cli = Cli::try_parse_from([&["wskctl", "send"], arguments].concat())
            .map_err(|e| e.to_string())?;
        match cli.command {
            crate::cli::Command::Send(args) => args.plan().map_err(|f| f.to_string()),
            _ => Err("not send".to_string()),
        }
    }

    #[test]
    fn sizes_are_checked_against_the_destination_family() {
        assert!(plan(&["--to", "127.0.0.1:9", "--size", "65507"]).is_ok());
        assert!(
            plan(&["--to", "127.0.0.1:9", "--size", "65508"])
                .unwrap_err()
                .contains("65,507")
        );
        assert!(plan(&["--to", "[::1]:9", "--size", "65527"]).is_ok());
        assert!(
            plan(&["--to", "[::1]:9", "--size", "65528"])
                .unwrap_err()
                .contains("65,527")
        );
        assert!(
            plan(&["--to", "127.0.0.1:9", "--size", "7"])
                .unwrap_err()
                .contains("at least 8")
        );
    }

    #[test]
    fn exactly_one_payload_source() {
        assert!(plan(&["--to", "127.0.0.1:9"]).is_err());
        assert!(plan(&["--to", "127.0.0.1:9", "--payload", "x", "--size", "9"]).is_err());
        assert!(
            plan(&["--to", "127.0.0.1:9", "--payload", ""])
                .unwrap_err()
                .contains("empty")
        );
        let file_and_count = plan(&["--to", "127.0.0.1:9", "--file", "x", "--count", "2"]);
        assert!(file_and_count.unwrap_err().contains("--count"));
    }

    #[test]
    fn modes_decide_what_each_request_names() {
        let fixed = plan(&[
            "--to",
            "[::1]:9",
            "--payload",
            "x",
            "--mode",
            "fixed-sendto",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fixed.request_destination(), Destination::Fixed(Family::V6));
        assert_eq!(
            fixed.fixed_action(),
            Some(ConfigAction::FixedSendTo(
                "[::1]:9".parse().unwrap_or_else(|e| panic!("{e}"))
            ))
        );
        let plain =
            plan(&["--to", "127.0.0.1:9", "--payload", "x"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.mode, SendMode::PerDatagram);
        assert_eq!(plain.fixed_action(), None);
        assert!(
            plan(&["--to", "127.0.0.1:9", "--payload", "x", "--bind", "[::1]:0"])
                .unwrap_err()
                .contains("different families")
        );
        assert!(plan(&["--to", "127.0.0.1:9", "--payload", "x", "--batch", "0"]).is_err());
        assert!(plan(&["--to", "127.0.0.1:9", "--payload", "x", "--batch", "257"]).is_err());
    }

    #[test]
    fn count_defaults_to_one() {
        let plan =
            plan(&["--to", "127.0.0.1:9", "--payload", "hi"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            plan.payloads,
            Payloads::Repeat {
                bytes: b"hi".to_vec(),
                count: 1
            }
        );
    }
}
