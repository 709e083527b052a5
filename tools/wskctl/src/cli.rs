//! Command-line syntax: what each subcommand accepts and the parsers that turn text into values.
//!
//! Checks that need only one argument live in the value parsers, so clap reports them as usage
//! errors (exit 2) with the flag named. Checks that need several arguments together (payload size
//! against the destination's family, `--size` with or without `--file`) are in
//! [`crate::commands::send::SendArgs::plan`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wsk_sample_ioctl::{
    Family, MAX_BATCH_BYTES, MAX_BATCH_DATAGRAMS, MAX_POOL_SLOTS, MIN_POOL_SLOTS,
};

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

/// How `send` addresses its datagrams and how `--batch` groups them, shown under `send --help`.
pub const MODES_HELP: &str = "\
Modes (--mode):
  per-datagram  every request carries --to; the driver passes it to WskSendTo/WskSendMessages
  fixed-remote  wskctl first sets --to as the fixed remote address of the driver's socket of that
                family (SIO_WSK_SET_REMOTE_ADDRESS), then sends with no address: the driver passes
                WSK a NULL RemoteAddress
  fixed-sendto  the same with SIO_WSK_SET_SENDTO_ADDRESS
  The fixed address is cleared again when the run ends. --bind stays configured (on Windows, in
  the installed driver, until it is reconfigured or restarted).

Batches (--batch K):
  The datagrams go out in IOCTL_WSK_SAMPLE_SEND_BATCH requests of up to K datagrams (1 to 256)
  and up to 65,536 payload bytes each (a batch is cut earlier when the next datagram would not
  fit), in order; the driver sends each batch with one WskSendMessages. --rate then paces whole
  batches.";

/// What `config` changes and where, shown under `config --help`.
pub const CONFIG_HELP: &str = "\
Each change is one IOCTL_WSK_SAMPLE_CONFIGURE request; the driver's counters and socket settings
are printed afterwards (--pool-slots is applied first, then the socket change).

On Windows this configures the installed driver, until it is reconfigured or restarted. On other
hosts each wskctl run loads a fresh copy of the driver into the kernel model, so a configuration
lasts only for this run: its effect shows in the counters printed afterwards and nowhere else.
`send --bind` and `send --mode fixed-remote|fixed-sendto` configure the driver within the send's
own run.

The driver refuses a change while sends are in flight on the socket concerned (STATUS_DEVICE_BUSY,
exit 1).";

/// What `bench` measures, shown under `bench --help`.
pub const BENCH_HELP: &str = "\
Measured in one run, each after a warm-up, with the same payload, in --rounds rounds (the methods
take turns; each is reported by its median round):
  (a) per-IOCTL  one IOCTL_WSK_SAMPLE_SEND per datagram, --count / 10 datagrams (at least 1)
  (b) batched    IOCTL_WSK_SAMPLE_SEND_BATCH requests of --batch datagrams (fewer when the
                 payload bytes would pass 65,536), --count datagrams
  (c) raw        a user-mode UDP socket on the same host socket API: a send_to loop, and (Linux)
                 sendmmsg in batches of the same size as (b); --count datagrams each
It prints datagrams/s and payload Gbit/s for each, and the ratios b/a, b/c(send_to) and
b/c(sendmmsg) (n/a where there is no sendmmsg, e.g. Windows).

Without --to, bench binds a receiver on 127.0.0.1 that only counts and drains what arrives; it
may drop datagrams under load, which does not matter for a sender benchmark (the counts are
reported). On hosts other than Windows the driver runs in the kernel model in-process; on Windows
it is the installed driver, compared with Winsock.";

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
    #[command(after_help = format!("{MODES_HELP}\n\n{PATTERN_HELP}\n\n{EXIT_CODES_HELP}"))]
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
    /// Configure the driver: bind address, fixed destination or send-pool size.
    #[command(after_help = format!("{CONFIG_HELP}\n\n{EXIT_CODES_HELP}"))]
    Config(ConfigArgs),
    /// Receive UDP datagrams through the driver (pended receive requests).
    #[command(after_help = format!("{RECV_HELP}\n\n{EXIT_CODES_HELP}"))]
    Recv(RecvArgs),
    /// Turn on the driver's kernel echo responder and report what it echoed.
    #[command(after_help = format!("{ECHO_HELP}\n\n{EXIT_CODES_HELP}"))]
    Echo(EchoArgs),
    /// Measure round trips to an echo responder (without --to: the driver's kernel echo and a
    /// user-mode echo, in one run).
    #[command(after_help = EXIT_CODES_HELP)]
    Ping(PingArgs),
    /// Measure the receive side: throughput through the driver against a raw recvmmsg
    /// receiver, and round trips through the kernel echo against a user-mode echo.
    #[command(name = "recv-bench", after_help = format!("{RECV_BENCH_HELP}\n\n{EXIT_CODES_HELP}"))]
    RecvBench(RecvBenchArgs),
    /// Measure the send rate: one IOCTL per datagram, batched IOCTLs, and a raw user-mode sender.
    #[command(after_help = format!("{BENCH_HELP}\n\n{EXIT_CODES_HELP}"))]
    Bench(BenchArgs),
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

    /// How the destination reaches the driver (see Modes below).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = SendMode::PerDatagram)]
    pub mode: SendMode,

    /// Before sending, bind the driver's socket of --to's family to this local address
    /// (IPV4:PORT or [IPV6]:PORT; port 0: any free port), so the datagrams leave from it.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_bind)]
    pub bind: Option<SocketAddr>,

    /// Send in batch requests of up to K datagrams each (1 to 256; see Batches below).
    #[arg(long, value_name = "K", value_parser = parse_batch, allow_negative_numbers = true)]
    pub batch: Option<usize>,
}

/// `send --mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SendMode {
    /// Every request names the destination.
    PerDatagram,
    /// SIO_WSK_SET_REMOTE_ADDRESS, then sends without an address.
    FixedRemote,
    /// SIO_WSK_SET_SENDTO_ADDRESS, then sends without an address.
    #[value(name = "fixed-sendto")]
    FixedSendTo,
}

impl SendMode {
    /// The name `--mode` takes and reports print.
    pub fn name(self) -> &'static str {
        match self {
            SendMode::PerDatagram => "per-datagram",
            SendMode::FixedRemote => "fixed-remote",
            SendMode::FixedSendTo => "fixed-sendto",
        }
    }
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .args(["bind", "remote", "sendto", "clear", "pool_slots"])
        .required(true)
        .multiple(true)
))]
pub struct ConfigArgs {
    /// Bind the family's socket to this local address (port 0: any free port). The socket is
    /// recreated, which also drops its fixed destination.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_bind, conflicts_with_all = ["remote", "sendto", "clear"])]
    pub bind: Option<SocketAddr>,

    /// Set the fixed remote address of the family's socket (SIO_WSK_SET_REMOTE_ADDRESS).
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_destination, conflicts_with_all = ["sendto", "clear"])]
    pub remote: Option<SocketAddr>,

    /// Set the fixed send-to address of the family's socket (SIO_WSK_SET_SENDTO_ADDRESS).
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_destination, conflicts_with = "clear")]
    pub sendto: Option<SocketAddr>,

    /// Clear the fixed address of the socket of --family.
    #[arg(long)]
    pub clear: bool,

    /// The socket to change: 4 (IPv4) or 6 (IPv6). Needed with --clear; with an address it
    /// follows from the address (and must agree with it if given).
    #[arg(long, value_name = "4|6", value_parser = parse_family)]
    pub family: Option<Family>,

    /// Rebuild the driver's send-buffer pool with N slots (1 to 256; refused while sends are in
    /// flight).
    #[arg(long, value_name = "N", value_parser = parse_pool_slots, allow_negative_numbers = true)]
    pub pool_slots: Option<u32>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Destination: IPV4:PORT or [IPV6]:PORT. Default: a receiver bench binds on 127.0.0.1.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_destination)]
    pub to: Option<SocketAddr>,

    /// Payload bytes per datagram.
    #[arg(long, value_name = "N", default_value = "64", value_parser = parse_size, allow_negative_numbers = true)]
    pub size: usize,

    /// Datagrams per measurement ((a) sends a tenth of them).
    #[arg(long, value_name = "M", default_value = "200000", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: u64,

    /// Datagrams per batch request (and per sendmmsg call), 1 to 256.
    #[arg(long, value_name = "K", default_value = "256", value_parser = parse_batch, allow_negative_numbers = true)]
    pub batch: usize,

    /// Measure each method this many times, taking turns, and report the round with the
    /// median rate (1 to 99).
    #[arg(long, value_name = "R", default_value = "3", value_parser = parse_rounds, allow_negative_numbers = true)]
    pub rounds: usize,
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

/// What `recv` does, shown under `recv --help`.
pub const RECV_HELP: &str = "\
recv binds the driver's socket of the address's family to --bind (CONFIGURE), turns receiving on
(IOCTL_WSK_SAMPLE_RECEIVE_MODE) and issues one IOCTL_WSK_SAMPLE_RECEIVE at a time; each completes
with the next datagram, its source and its length. Datagrams that arrive between requests wait in
the driver's receive buffers (8 per family); with all of them full the driver drops and counts.
At the end receiving is turned off again and the driver's receive counters are printed.
On hosts other than Windows the driver runs in the kernel model in-process and a second thread
stops a receive that waits longer than --timeout; on Windows the timeout is checked only when a
datagram arrives (the handle is synchronous).";

/// What `echo` does, shown under `echo --help`.
pub const ECHO_HELP: &str = "\
echo binds the driver's socket of the address's family to --bind and turns on the kernel echo
responder (IOCTL_WSK_SAMPLE_RECEIVE_MODE, echo): the driver sends every datagram it receives
back to its sender from the receive path, reusing the receive buffer (no copy, no allocation).
wskctl only watches the driver's receive counters and turns echo off when --count datagrams
have been echoed, after --timeout seconds without one, or on Ctrl-C.";

/// What `recv-bench` measures, shown under `recv-bench --help`.
pub const RECV_BENCH_HELP: &str = "\
Measured in one run (not on Windows: the driver runs in the kernel model in-process):
  (a) through the driver: a sender thread sends --count datagrams of --size bytes to the driver's
      IPv4 socket as fast as it can while wskctl takes them with one IOCTL_WSK_SAMPLE_RECEIVE
      each; datagrams the driver has no room for are dropped and counted (dropped_no_request)
  (b) raw: the same sender against a user-mode recvmmsg receiver (64 per call)
  round trips: --rtt-count through the driver's kernel echo and through a user-mode echo thread
It prints datagrams/s for (a) and (b), the ratio a/b, the p50 round trips and their ratio
kernel/user. Rates count the datagrams received between the first and the last.

Delivery (how datagrams reach the driver, IOCTL_WSK_SAMPLE_RECEIVE_MODE's last field):
  default              posted WskReceiveFrom IRPs, for (a) and the kernel echo
  --events             the WskReceiveFromEvent callback instead
  --compare-delivery   both on the same driver: IRPs first, then events; the report adds the
                       event run and the ratios events/IRPs of the (a) rate and of the kernel
                       echo's p50 (a rate ratio above 1 and a p50 ratio below 1 favour events)
The delivery reported (JSON `delivery`) is the one the driver's receive counters name while (a)
runs, not merely the one asked for. The machine's noise shows in these ratios: compare runs, do
not read one.";

#[derive(Debug, Args)]
pub struct RecvBenchArgs {
    /// Datagrams sent to each receiver.
    #[arg(long, value_name = "N", default_value = "10000", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: u64,

    /// Datagram size in bytes.
    #[arg(long, value_name = "N", default_value = "64", value_parser = parse_size, allow_negative_numbers = true)]
    pub size: usize,

    /// Round trips timed for each echo.
    #[arg(long, value_name = "N", default_value = "2000", value_parser = parse_count, allow_negative_numbers = true)]
    pub rtt_count: u64,

    /// Measure the driver with its WskReceiveFromEvent callback (SO_WSK_EVENT_CALLBACK) instead
    /// of its posted WskReceiveFrom IRPs (the default).
    #[arg(long, conflicts_with = "compare_delivery")]
    pub events: bool,

    /// Measure the driver with both deliveries, IRPs then events, and report events/IRPs
    /// ratios (see Delivery below).
    #[arg(long)]
    pub compare_delivery: bool,
}

#[derive(Debug, Args)]
pub struct PingArgs {
    /// The echo responder: IPV4:PORT or [IPV6]:PORT. Without it (not on Windows) the driver's
    /// kernel echo runs in-process on 127.0.0.1, and a user-mode echo is measured too.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_destination)]
    pub to: Option<SocketAddr>,

    /// Round trips to time (after 5 untimed ones).
    #[arg(long, value_name = "N", default_value = "1000", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: u64,

    /// Datagram size in bytes (at least 8: the first 8 carry the round number).
    #[arg(long, value_name = "N", default_value = "64", value_parser = parse_size, allow_negative_numbers = true)]
    pub size: usize,

    /// Without --to: the kernel echo takes datagrams through the driver's WskReceiveFromEvent
    /// callback (SO_WSK_EVENT_CALLBACK) instead of its posted WskReceiveFrom IRPs (the default).
    #[arg(long, conflicts_with = "to")]
    pub events: bool,
}

#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Local address to echo on: IPV4:PORT or [IPV6]:PORT; port 0 picks a free port (printed
    /// on stderr as "echoing on ADDR").
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// Stop after this many datagrams have been echoed.
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// Stop after this many seconds without a datagram.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub timeout: f64,

    /// Take datagrams through the driver's WskReceiveFromEvent callback (SO_WSK_EVENT_CALLBACK)
    /// instead of its posted WskReceiveFrom IRPs (the default).
    #[arg(long)]
    pub events: bool,
}

#[derive(Debug, Args)]
pub struct RecvArgs {
    /// Local address to receive on: IPV4:PORT or [IPV6]:PORT; port 0 picks a free port (printed
    /// on stderr as "receiving on ADDR").
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// Stop after this many datagrams.
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// Stop after this many seconds without a datagram.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub timeout: f64,

    /// Print each datagram's payload (as text, lossy UTF-8) after its source and size.
    #[arg(long)]
    pub print: bool,

    /// Take datagrams through the driver's WskReceiveFromEvent callback (SO_WSK_EVENT_CALLBACK)
    /// instead of its posted WskReceiveFrom IRPs (the default).
    #[arg(long)]
    pub events: bool,
}

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

/// A batch size: 1 ..= MAX_BATCH_DATAGRAMS.
pub fn parse_batch(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(size) if (1..=MAX_BATCH_DATAGRAMS).contains(&size) => Ok(size),
        Ok(_) => Err(format!(
            "must be 1 to {MAX_BATCH_DATAGRAMS} datagrams per batch (the driver's limit; a batch \
             also carries at most {MAX_BATCH_BYTES} payload bytes)"
        )),
        Err(_) => Err(format!("'{text}' is not a whole number of datagrams")),
    }
}

/// Benchmark rounds: 1 ..= 99.
pub fn parse_rounds(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(rounds) if (1..=99).contains(&rounds) => Ok(rounds),
        Ok(_) => Err("must be 1 to 99 rounds".to_string()),
        Err(_) => Err(format!("'{text}' is not a whole number of rounds")),
    }
}

/// An address family: 4 or 6.
pub fn parse_family(text: &str) -> Result<Family, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "4" | "ipv4" => Ok(Family::V4),
        "6" | "ipv6" => Ok(Family::V6),
        _ => Err(format!(
            "'{text}' is not a family: give 4 (IPv4) or 6 (IPv6)"
        )),
    }
}

/// A send-pool size: MIN_POOL_SLOTS ..= MAX_POOL_SLOTS.
pub fn parse_pool_slots(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(slots) if (MIN_POOL_SLOTS..=MAX_POOL_SLOTS).contains(&slots) => Ok(slots),
        Ok(_) => Err(format!(
            "must be {MIN_POOL_SLOTS} to {MAX_POOL_SLOTS} slots"
        )),
        Err(_) => Err(format!("'{text}' is not a whole number of slots")),
    }
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

    #[test]
    fn batches_families_and_pool_sizes_have_ranges() {
        assert!(parse_batch("0").is_err());
        assert!(parse_batch("257").is_err());
        assert_eq!(parse_batch("1"), Ok(1));
        assert_eq!(parse_batch("256"), Ok(256));
        assert_eq!(parse_family("4"), Ok(Family::V4));
        assert_eq!(parse_family("6"), Ok(Family::V6));
        assert!(parse_family("5").is_err());
        assert!(parse_pool_slots("0").is_err());
        assert!(parse_pool_slots("257").is_err());
        assert_eq!(parse_pool_slots("8"), Ok(8));
    }
}
