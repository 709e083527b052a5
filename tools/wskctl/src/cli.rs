//! Command-line syntax: what each subcommand accepts and the parsers that turn text into values.
//!
//! Checks that need only one argument live in the value parsers, so clap reports them as usage
//! errors (exit 2) with the flag named. Checks that need several arguments together (payload size
//! against the destination's family, `--size` with or without `--file`) are in
//! [`crate::commands::send::SendArgs::plan`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes, shown under every `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  partial failure: some datagrams failed, were lost or did not verify, or the run was interrupted
  2  usage error: bad arguments (nothing was sent)
  3  driver unavailable: not installed or not started, access denied, or driver/tool version mismatch
  4  other error (including a kernel-model unload report that is not clean)";

/// The size pattern, shown under `send --help` and `listen --help`.
pub const PATTERN_HELP: &str = "\
Payload pattern of --size N (checked by `listen --expect-pattern`):
  bytes 0..8   the datagram's sequence number, u64 little-endian, starting at 0
  byte  i >= 8 (sequence + i) as u8, i.e. the low byte of the sum
  N must be at least 8 so the sequence number fits.";

#[derive(Debug, Parser)]
#[command(
    name = "wskctl",
    version,
    about = "Drive the wsk-sample driver: send UDP datagrams from kernel mode through Winsock Kernel",
    long_about = "Drive the wsk-sample driver: send UDP datagrams from kernel mode through Winsock Kernel.\n\n\
                  On Windows wskctl opens \\\\.\\WskSample (run it from an elevated prompt). On other hosts it \
                  loads the same driver code into the kernel model in-process, which sends real datagrams \
                  through host sockets, to loopback only.",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// Print exactly one JSON object on stdout when done, and nothing else on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send UDP datagrams through the driver.
    #[command(after_help = format!("{PATTERN_HELP}\n\n{EXIT_CODES_HELP}"))]
    Send(SendArgs),
    /// Print the driver's counters.
    #[command(
        long_about = "Print the driver's counters (requests, datagrams and bytes sent, failures by cause, \
                      buffer pool, local socket addresses).\n\n\
                      On hosts other than Windows each wskctl run loads a fresh copy of the driver into the \
                      kernel model, so the counters are those of a driver that has sent nothing yet: mostly \
                      zeros. On Windows they are the installed driver's totals since it started.",
        after_help = EXIT_CODES_HELP
    )]
    Stats(StatsArgs),
    /// Receive UDP datagrams (user mode) and report what arrived.
    #[command(after_help = format!("{PATTERN_HELP}\n\n{EXIT_CODES_HELP}"))]
    Listen(ListenArgs),
    /// Show the whole path end to end: receivers, driver, sends, verification, counters, unload.
    #[command(
        long_about = "Show the whole path end to end: binds UDP receivers on 127.0.0.1 and ::1, loads the \
                      driver (kernel model with its trace, off Windows) or opens the installed one (Windows), \
                      sends datagrams of 1, 1,472 and 65,507 bytes to IPv4 and 65,527 bytes to IPv6, checks \
                      every byte that arrives, prints the driver's counters and, on the kernel model, the \
                      unload (leak) report.",
        after_help = EXIT_CODES_HELP
    )]
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .args(["payload", "size", "file"])
        .required(true)
        .multiple(true)
))]
pub struct SendArgs {
    /// Destination: IPV4:PORT or [IPV6]:PORT (numeric; host names are not resolved).
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_destination)]
    pub to: SocketAddr,

    /// Send this text (UTF-8) as each datagram.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["size", "file"])]
    pub payload: Option<String>,

    /// Alone: send N-byte datagrams with the sequence pattern below. With --file: the size of
    /// each datagram the file is cut into (default 1,472, one Ethernet-MTU IPv4 datagram).
    #[arg(long, value_name = "N", value_parser = parse_size, allow_negative_numbers = true)]
    pub size: Option<usize>,

    /// Send this file, cut into datagrams of --size bytes, in order (the last may be shorter).
    /// The number of datagrams follows from the file's length, so --count is refused.
    #[arg(long, value_name = "PATH", conflicts_with = "count")]
    pub file: Option<PathBuf>,

    /// Number of datagrams to send [default: 1].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// Pace the sends to at most this many datagrams per second (default: as fast as possible).
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Option<f64>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Local address to receive on: IPV4:PORT or [IPV6]:PORT; port 0 picks a free port. The bound
    /// address is printed on stderr as soon as the socket is ready ("listening on ADDR").
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// Stop after this many datagrams (exit 1 if fewer arrive).
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// Stop after this many seconds without a datagram.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub timeout: f64,

    /// Check every datagram against the --size pattern of `send`: report lost sequence numbers
    /// (missing below the highest one seen intact), duplicated and corrupted datagrams; exit 1 if
    /// there is any.
    #[arg(long)]
    pub expect_pattern: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {}

fn parse_address(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse::<SocketAddr>().map_err(|_| {
        format!(
            "'{text}' is not an address: expected IPV4:PORT (e.g. 127.0.0.1:5000) or [IPV6]:PORT \
             (e.g. [::1]:5000); host names are not resolved"
        )
    })
}

/// A destination: a numeric address with a non-zero port.
pub fn parse_destination(text: &str) -> Result<SocketAddr, String> {
    let address = parse_address(text)?;
    if address.port() == 0 {
        return Err(format!(
            "port 0 in '{text}' cannot be sent to: give the receiver's port, e.g. {}",
            SocketAddr::new(address.ip(), 5000)
        ));
    }
    Ok(address)
}

/// A local address; port 0 asks the system for a free port.
pub fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    parse_address(text)
}

/// A positive count.
pub fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1 (0 would do nothing)".to_string()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("'{text}' is not a whole number")),
    }
}

/// A byte count; its range depends on the other arguments and is checked with them.
pub fn parse_size(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| format!("'{text}' is not a whole number of bytes"))
}

/// A positive, finite rate.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        Ok(_) => Err(
            "must be a positive number of datagrams per second (0 would never send)".to_string(),
        ),
        Err(_) => Err(format!("'{text}' is not a number of datagrams per second")),
    }
}

/// A positive, finite number of seconds that a `Duration` can hold.
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 1e9 => Ok(seconds),
        Ok(_) => Err("must be a positive number of seconds (at most 1e9)".to_string()),
        Err(_) => Err(format!("'{text}' is not a number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn destinations_need_a_numeric_address_and_a_port() {
        assert_eq!(
            parse_destination("127.0.0.1:9").ok(),
            "127.0.0.1:9".parse().ok()
        );
        assert_eq!(parse_destination("[::1]:9").ok(), "[::1]:9".parse().ok());
        assert!(
            parse_destination("127.0.0.1:0")
                .unwrap_err()
                .contains("port 0")
        );
        assert!(
            parse_destination("localhost:9")
                .unwrap_err()
                .contains("not an address")
        );
        assert!(parse_destination("::1:9").is_err());
        assert!(parse_destination("").is_err());
        assert!(parse_bind("127.0.0.1:0").is_ok());
    }

    #[test]
    fn counts_rates_and_timeouts_must_be_positive() {
        assert!(parse_count("0").is_err());
        assert!(parse_count("-1").is_err());
        assert_eq!(parse_count("5"), Ok(5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("NaN").is_err());
        assert!(parse_rate("inf").is_err());
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("1e300").is_err());
    }
}
