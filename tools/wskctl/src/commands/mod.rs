//! The subcommands. Each returns the exit status of a run that got as far as its report, or a
//! [`Failure`] that `main` prints (as JSON too, with `--json`).

use serde::Serialize;
use wsk_sample_ioctl::Family;

use crate::cli::{Cli, Command};
use crate::device::{self, UnloadReport};
use crate::exit::{ExitStatus, Failure};
use crate::output::note;

pub mod bench;
pub mod config;
pub mod demo;
pub mod echo;
pub mod listen;
pub mod ping;
pub mod recv;
#[cfg(not(windows))]
pub mod recv_bench;
pub mod send;
pub mod stats;

pub fn run(cli: Cli) -> Result<ExitStatus, Failure> {
    match cli.command {
        Command::Send(args) => send::run(args, cli.json),
        Command::Stats(_) => stats::run(cli.json),
        Command::Listen(args) => listen::run(args, cli.json),
        Command::Demo(_) => demo::run(cli.json),
        Command::Config(args) => config::run(args, cli.json),
        Command::Bench(args) => bench::run(args, cli.json),
        Command::Recv(args) => recv::run(args, cli.json),
        Command::Echo(args) => echo::run(args, cli.json),
        Command::Ping(args) => ping::run(args, cli.json),
        #[cfg(not(windows))]
        Command::RecvBench(args) => recv_bench::run(args, cli.json),
        #[cfg(windows)]
        Command::RecvBench(_) => Err(Failure::Usage(
            "recv-bench runs the driver in the kernel model (not on Windows)".into(),
        )),
    }
}

/// "IPv4" or "IPv6".
pub fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// The unload report in `--json`.
#[derive(Serialize, Clone, Debug)]
pub struct UnloadJson {
    pub clean: bool,
    pub report: String,
}

impl From<&UnloadReport> for UnloadJson {
    fn from(report: &UnloadReport) -> Self {
        UnloadJson {
            clean: report.clean,
            report: report.text.clone(),
        }
    }
}

/// Unloads the kernel model (or closes the Windows handle). A report that is not clean means
/// the driver broke a kernel rule or leaked: it is printed on stderr and the run exits "other".
pub fn close_device(device: &mut device::Backend) -> (Option<UnloadReport>, ExitStatus) {
    let report = device.finish();
    match &report {
        Some(report) if !report.clean => {
            note!(
                "error: the kernel model's unload report is not clean (the driver broke a kernel rule or leaked):"
            );
            for line in report.text.lines() {
                note!("  {line}");
            }
            (Some(report.clone()), ExitStatus::Other)
        }
        _ => (report, ExitStatus::Success),
    }
}
