//! `wskctl listen`: a user-mode UDP receiver that counts what arrives and, with
//! `--expect-pattern`, checks it against the `send --size` pattern.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use socket2::{Domain, Protocol, Socket, Type};

use crate::cli::ListenArgs;
use crate::exit::{ExitStatus, Failure};
use crate::interrupt;
use crate::output::{self, note, say, thousands};
use crate::payload::{PatternCheck, check_pattern};

/// Large enough for any UDP datagram.
const RECEIVE_BUFFER: usize = 65_536;
/// Kernel socket buffer asked for, so bursts from a fast sender are not dropped by the host.
const SOCKET_BUFFER: usize = 8 << 20;
/// How often the loop wakes to check Ctrl-C and the silence timeout.
const POLL: Duration = Duration::from_millis(100);

/// Binds a UDP socket with a large receive buffer.
pub fn bind_receiver(address: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    // Best effort: the system may cap the size, and a smaller buffer still works.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    socket.bind(&address.into())?;
    Ok(socket.into())
}

/// Tracks pattern datagrams: which sequence numbers arrived intact, how often.
#[derive(Default, Debug)]
pub struct PatternTracker {
    seen: HashSet<u64>,
    highest: Option<u64>,
    last: Option<u64>,
    pub duplicated: u64,
    pub corrupted: u64,
    pub out_of_order: u64,
}

impl PatternTracker {
    pub fn record(&mut self, datagram: &[u8]) {
        match check_pattern(datagram) {
            PatternCheck::Corrupted => self.corrupted += 1,
            PatternCheck::Intact(sequence) => {
                if !self.seen.insert(sequence) {
                    self.duplicated += 1;
                    return;
                }
                if self.last.is_some_and(|last| sequence < last) {
                    self.out_of_order += 1;
                }
                self.last = Some(sequence);
                self.highest = self.highest.max(Some(sequence));
            }
        }
    }

    /// Sequence numbers from 0 to the highest seen intact that never arrived intact.
    pub fn lost(&self) -> u64 {
        self.highest.map_or(0, |highest| {
            highest
                .saturating_add(1)
                .saturating_sub(self.seen.len() as u64)
        })
    }

    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    pub fn clean(&self) -> bool {
        self.lost() == 0 && self.duplicated == 0 && self.corrupted == 0
    }
}

#[derive(Serialize)]
struct PatternJson {
    lost: u64,
    duplicated: u64,
    corrupted: u64,
    out_of_order: u64,
    highest_sequence: Option<u64>,
}

#[derive(Serialize)]
struct ListenReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    bound: String,
    datagrams: u64,
    bytes: u64,
    /// From the first datagram to the last.
    elapsed_seconds: f64,
    datagrams_per_second: f64,
    megabits_per_second: f64,
    /// "count", "timeout", "interrupted" or "error".
    stopped_by: &'static str,
    expected: Option<u64>,
    pattern: Option<PatternJson>,
    error: Option<String>,
}

pub fn run(args: ListenArgs, json: bool) -> Result<ExitStatus, Failure> {
    let socket = bind_receiver(args.bind).map_err(|error| {
        Failure::Other(format!(
            "cannot bind a UDP socket to {}: {error}",
            args.bind
        ))
    })?;
    let bound = socket
        .local_addr()
        .map_err(|error| Failure::Other(format!("cannot read the bound address: {error}")))?;
    socket
        .set_read_timeout(Some(POLL))
        .map_err(|error| Failure::Other(format!("cannot set a receive timeout: {error}")))?;
    let stop = interrupt::stop_flag();
    let silence = Duration::try_from_secs_f64(args.timeout).unwrap_or(Duration::from_secs(5));
    // Announced on stderr (stdout stays for the report) so scripts can start sending.
    note!(
        "listening on {bound} (stops after {} s of silence)",
        args.timeout
    );

    let mut tracker = args.expect_pattern.then(PatternTracker::default);
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    let (mut datagrams, mut bytes) = (0u64, 0u64);
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    let mut last_activity = Instant::now();
    let mut error = None;
    let stopped_by = loop {
        if args.count.is_some_and(|count| datagrams >= count) {
            break "count";
        }
        if stop.load(Ordering::Relaxed) {
            break "interrupted";
        }
        match socket.recv_from(&mut buffer) {
            Ok((length, _from)) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last = Some(now);
                last_activity = now;
                datagrams += 1;
                bytes += length as u64;
                if let Some(tracker) = &mut tracker {
                    tracker.record(buffer.get(..length).unwrap_or(&[]));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if last_activity.elapsed() >= silence {
                    break "timeout";
                }
            }
            // Windows reports an ICMP port-unreachable for an earlier send of this socket as a
            // reset on the next receive; it says nothing about incoming datagrams.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => {
                error = Some(format!("receiving failed: {e}"));
                break "error";
            }
        }
    };

    let elapsed = match (first, last) {
        (Some(first), Some(last)) => last.duration_since(first),
        _ => Duration::ZERO,
    };
    let short = args.count.is_some_and(|count| datagrams < count);
    let anomalies = tracker.as_ref().is_some_and(|tracker| !tracker.clean());
    let status = if error.is_some() {
        ExitStatus::Other
    } else if short || anomalies {
        ExitStatus::Partial
    } else {
        ExitStatus::Success
    };
    let report = ListenReport {
        command: "listen",
        ok: status == ExitStatus::Success,
        exit_code: status.code(),
        bound: bound.to_string(),
        datagrams,
        bytes,
        elapsed_seconds: elapsed.as_secs_f64(),
        datagrams_per_second: output::per_second(datagrams, elapsed),
        megabits_per_second: output::megabits_per_second(bytes, elapsed),
        stopped_by,
        expected: args.count,
        pattern: tracker.as_ref().map(|tracker| PatternJson {
            lost: tracker.lost(),
            duplicated: tracker.duplicated,
            corrupted: tracker.corrupted,
            out_of_order: tracker.out_of_order,
            highest_sequence: tracker.highest(),
        }),
        error,
    };
    if json {
        output::emit_json(&report);
    } else {
        print_human(&report);
    }
    Ok(status)
}

fn print_human(report: &ListenReport) {
    say!(
        "received {} datagram(s), {} bytes on {}",
        thousands(report.datagrams),
        thousands(report.bytes),
        report.bound
    );
    say!(
        "  rate      {} datagrams/s, {:.2} Mbit/s over {:.3} s (first to last datagram)",
        thousands(report.datagrams_per_second.round() as u64),
        report.megabits_per_second,
        report.elapsed_seconds
    );
    let reason = match report.stopped_by {
        "count" => "the expected number of datagrams arrived",
        "timeout" => "no datagram arrived within the timeout",
        "interrupted" => "interrupted by Ctrl-C",
        _ => "a receive error",
    };
    say!("  stopped   {reason}");
    if let Some(pattern) = &report.pattern {
        say!(
            "  pattern   {} lost, {} duplicated, {} corrupted, {} out of order (highest sequence {})",
            thousands(pattern.lost),
            thousands(pattern.duplicated),
            thousands(pattern.corrupted),
            thousands(pattern.out_of_order),
            pattern
                .highest_sequence
                .map_or_else(|| "none".to_string(), |s| s.to_string())
        );
    }
    if let Some(expected) = report.expected
        && report.datagrams < expected
    {
        note!(
            "only {} of {} expected datagram(s) arrived",
            thousands(report.datagrams),
            thousands(expected)
        );
    }
    if let Some(error) = &report.error {
        note!("error: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::fill_pattern;

    fn datagram(sequence: u64) -> Vec<u8> {
        let mut out = Vec::new();
        fill_pattern(sequence, 32, &mut out);
        out
    }

    #[test]
    fn lost_duplicated_and_corrupted_are_told_apart() {
        let mut tracker = PatternTracker::default();
        for sequence in [0, 1, 3, 3, 4, 5] {
            tracker.record(&datagram(sequence));
        }
        let mut corrupted = datagram(6);
        corrupted[20] ^= 1;
        tracker.record(&corrupted);
        assert_eq!(
            (tracker.lost(), tracker.duplicated, tracker.corrupted),
            (1, 1, 1)
        );
        assert!(!tracker.clean());
    }

    #[test]
    fn reordering_alone_is_not_a_loss() {
        let mut tracker = PatternTracker::default();
        for sequence in [1, 0, 2] {
            tracker.record(&datagram(sequence));
        }
        assert!(tracker.clean());
        assert_eq!(tracker.out_of_order, 1);
    }

    #[test]
    fn a_huge_sequence_number_does_not_overflow() {
        let mut tracker = PatternTracker::default();
        tracker.record(&u64::MAX.to_le_bytes());
        assert_eq!(tracker.lost(), u64::MAX - 1);
    }
}
