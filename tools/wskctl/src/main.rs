//! `wskctl`: the console tool of the wsk-sample driver.
//!
//! On Windows it opens `\\.\WskSample` and issues the driver's IOCTLs. On other hosts it loads
//! the same driver code into the kernel model in-process, so every command works (and is tested)
//! anywhere; the model sends real datagrams through host sockets, to loopback only.
//!
//! Commands: `send`, `config`, `stats`, `listen`, `bench`, `demo` (see `wskctl --help`). With `--json` a command
//! prints exactly one JSON object on stdout at the end and nothing else there.
//!
//! Exit codes:
//! - 0: success
//! - 1: partial failure (some datagrams failed, were lost or did not verify; or interrupted)
//! - 2: usage error (clap's own errors included); nothing was sent
//! - 3: driver unavailable (not installed or not started, access denied, version mismatch)
//! - 4: other error, including a kernel-model unload report that is not clean
//!
//! Layout, so new commands and modes stay small: [`cli`] (syntax), [`commands`] (one module per
//! subcommand), [`send_loop`] (the loop), [`request`] (IOCTL encoding), [`payload`] (what a
//! datagram carries), [`output`] (JSON and text), [`device`] (backends and error mapping),
//! [`raw`] (the user-mode sender `bench` compares the driver with).

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod device;
mod exit;
mod interrupt;
mod output;
mod payload;
mod progress;
mod raw;
mod request;
mod send_loop;

use exit::FailureJson;
use output::note;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits 2 (0 for --help and --version).
    let cli = cli::Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(failure) => {
            note!("error: {failure}");
            if matches!(failure, exit::Failure::Usage(_)) {
                note!("\nFor more information, try '--help'.");
            }
            if json {
                output::emit_json(&FailureJson::new(&failure));
            }
            ExitCode::from(failure.exit_status().code())
        }
    }
}
