//! `wskctl send`: check the arguments, run the send loop, print the summary.

use std::net::SocketAddr;
use std::path::Path;

use serde::Serialize;
use wsk_sample_ioctl::max_payload_for;

use super::{UnloadJson, close_device};
use crate::cli::SendArgs;
use crate::device::{self, DeviceAccess, OpenOptions, UnloadReport};
use crate::exit::{ExitStatus, Failure};
use crate::interrupt;
use crate::output::{self, ErrorReportJson, note, say, thousands};
use crate::payload::{PATTERN_HEADER, Payloads};
use crate::progress::Progress;
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
        let limit = max_payload_for(Some(destination));
        let family = if destination.is_ipv4() {
            "IPv4"
        } else {
            "IPv6"
        };
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
    })?;
    let job = SendJob {
        destination: Some(plan.destination),
        payloads: &plan.payloads,
        rate: plan.rate,
    };
    let mut progress = Progress::new(plan.payloads.count(), json);
    let tally = send_loop::run(&device, &job, &stop, &mut |tally| {
        progress.update(tally.attempted, tally.bytes_sent)
    });
    progress.finish();
    let (unload, unload_status) = close_device(&mut device);
    let status = exit_status(&tally).and(unload_status);
    let summary = SendSummary::new(&plan, &tally, unload.as_ref(), status);
    if json {
        output::emit_json(&summary);
    } else {
        print_human(&plan, &tally, &summary);
    }
    Ok(status)
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
        unload: Option<&UnloadReport>,
        status: ExitStatus,
    ) -> SendSummary {
        SendSummary {
            command: "send",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            destination: plan.destination.to_string(),
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
    say!("  bytes     {}", thousands(tally.bytes_sent));
    say!("  elapsed   {}", output::seconds(tally.elapsed));
    say!(
        "  rate      {} datagrams/s, {:.2} Mbit/s",
        thousands(summary.datagrams_per_second.round() as u64),
        summary.megabits_per_second
    );
    say!("  failed    {}", thousands(tally.failed));
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
