//! The send loop: one request per datagram or one batch request per group of datagrams,
//! optional pacing, a stop flag for Ctrl-C, and the tally the summary is built from. It knows
//! nothing about output.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wsk_sample_ioctl::{Destination, MAX_BATCH_BYTES, MAX_BATCH_DATAGRAMS};

use crate::device::{Device, DeviceError};
use crate::payload::Payloads;
use crate::request::{BatchEncoder, SendEncoder};

/// One send run.
pub struct SendJob<'a> {
    /// An address, or the fixed destination of a family's socket.
    pub destination: Destination,
    pub payloads: &'a Payloads,
    /// Datagrams per second, if paced (whole batches are paced when batching).
    pub rate: Option<f64>,
    /// Datagrams per batch request (1 ..= MAX_BATCH_DATAGRAMS); `None`: one send request per
    /// datagram.
    pub batch: Option<usize>,
}

/// Why the loop ended before sending everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C.
    Interrupted,
    /// The driver cannot be used (not installed, access denied, version mismatch): every further
    /// datagram would fail the same way.
    DriverUnavailable,
}

/// The first datagram that failed and why.
#[derive(Clone, Debug)]
pub struct FirstFailure {
    /// Index of the datagram in the run (0-based).
    pub index: u64,
    pub error: DeviceError,
}

/// What happened, so far or in the end.
#[derive(Clone, Debug)]
pub struct SendTally {
    pub planned: u64,
    pub attempted: u64,
    /// Send or batch requests issued.
    pub requests: u64,
    pub sent: u64,
    pub failed: u64,
    pub bytes_sent: u64,
    pub elapsed: Duration,
    pub first_failure: Option<FirstFailure>,
    pub stopped: Option<StopReason>,
}

impl SendTally {
    fn new(planned: u64) -> SendTally {
        SendTally {
            planned,
            attempted: 0,
            requests: 0,
            sent: 0,
            failed: 0,
            bytes_sent: 0,
            elapsed: Duration::ZERO,
            first_failure: None,
            stopped: None,
        }
    }

    /// True when every planned datagram was sent.
    pub fn complete(&self) -> bool {
        self.sent == self.planned && self.failed == 0 && self.stopped.is_none()
    }
}

impl SendTally {
    /// Counts `count` datagrams from `first` on as failed with `error`.
    fn fail(&mut self, first: u64, count: u64, error: DeviceError) {
        self.failed += count;
        let unavailable = error.is_driver_unavailable();
        self.first_failure.get_or_insert(FirstFailure {
            index: first,
            error,
        });
        if unavailable {
            self.stopped = Some(StopReason::DriverUnavailable);
        }
    }
}

/// How a group of datagrams goes to the driver: one IOCTL_WSK_SAMPLE_SEND per datagram, or
/// one IOCTL_WSK_SAMPLE_SEND_BATCH per group of up to `batch` datagrams and MAX_BATCH_BYTES
/// payload bytes.
enum Sender {
    Single(SendEncoder),
    Batch(BatchEncoder, usize),
}

impl Sender {
    fn for_job(job: &SendJob<'_>) -> Sender {
        match job.batch {
            Some(batch) => {
                Sender::Batch(BatchEncoder::default(), batch.clamp(1, MAX_BATCH_DATAGRAMS))
            }
            None => Sender::Single(SendEncoder::default()),
        }
    }

    /// The most datagrams one request carries.
    fn group_limit(&self) -> usize {
        match self {
            Sender::Single(_) => 1,
            Sender::Batch(_, batch) => *batch,
        }
    }

    /// Sends one group; returns the datagrams and bytes the driver reported sent.
    fn send(
        &mut self,
        device: &dyn Device,
        destination: Destination,
        datagrams: &[&[u8]],
    ) -> Result<(u64, u64), DeviceError> {
        match self {
            Sender::Single(encoder) => {
                let payload = datagrams.first().copied().unwrap_or(&[]);
                let reply = encoder.send(device, destination, payload)?;
                Ok((1, u64::from(reply.bytes_sent)))
            }
            Sender::Batch(encoder, _) => {
                let reply = encoder.send(device, destination, datagrams)?;
                Ok((u64::from(reply.datagrams_sent), reply.bytes_sent))
            }
        }
    }
}

/// Runs the job: one loop for single and batched sends, which differ only in how many datagrams
/// a request carries ([`Sender`]). `observe` sees the tally after every request (for progress
/// display).
pub fn run(
    device: &dyn Device,
    job: &SendJob<'_>,
    stop: &AtomicBool,
    observe: &mut dyn FnMut(&SendTally),
) -> SendTally {
    let mut sender = Sender::for_job(job);
    let limit = sender.group_limit();
    let mut tally = SendTally::new(job.payloads.count());
    let mut scratch = Vec::new();
    // A group's payloads back to back, and where each ends.
    let mut arena: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(limit);
    let interval = job.rate.map(|rate| 1.0 / rate);
    let started = Instant::now();
    let mut next = 0u64;
    while next < tally.planned {
        if interrupted(started, next, interval, stop) {
            tally.stopped = Some(StopReason::Interrupted);
            break;
        }
        let first = next;
        arena.clear();
        ends.clear();
        while next < tally.planned && ends.len() < limit {
            let payload = job.payloads.get(next, &mut scratch);
            if !ends.is_empty() && arena.len() + payload.len() > MAX_BATCH_BYTES {
                break;
            }
            arena.extend_from_slice(payload);
            ends.push(arena.len());
            next += 1;
        }
        let count = ends.len() as u64;
        let mut datagrams: Vec<&[u8]> = Vec::with_capacity(ends.len());
        let mut start = 0;
        for &end in &ends {
            datagrams.push(arena.get(start..end).unwrap_or(&[]));
            start = end;
        }
        tally.attempted += count;
        tally.requests += 1;
        match sender.send(device, job.destination, &datagrams) {
            Ok((sent, bytes)) => {
                let sent = sent.min(count);
                tally.sent += sent;
                tally.bytes_sent += bytes;
                if sent < count {
                    let error = DeviceError::Other(format!(
                        "the driver reported {sent} of the {count} datagrams of a batch sent"
                    ));
                    tally.fail(first + sent, count - sent, error);
                }
            }
            Err(error) => tally.fail(first, count, error),
        }
        tally.elapsed = started.elapsed();
        observe(&tally);
        if tally.stopped.is_some() {
            break;
        }
    }
    tally.elapsed = started.elapsed();
    tally
}

/// Waits until datagram `index` is due under the pacing (if any); true if Ctrl-C stopped the
/// run meanwhile or before.
fn interrupted(started: Instant, index: u64, interval: Option<f64>, stop: &AtomicBool) -> bool {
    if let Some(interval) = interval
        && !pace(started, index as f64 * interval, stop)
    {
        return true;
    }
    stop.load(Ordering::Relaxed)
}

/// Sleeps until `offset_seconds` after `started`, in short slices so Ctrl-C is noticed.
/// Returns false if stopped while waiting.
fn pace(started: Instant, offset_seconds: f64, stop: &AtomicBool) -> bool {
    let Ok(offset) = Duration::try_from_secs_f64(offset_seconds) else {
        return !stop.load(Ordering::Relaxed);
    };
    let due = started + offset;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        std::thread::sleep((due - now).min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use wsk_sample_ioctl::{
        BATCH_REPLY_SIZE, BatchReply, Family, IOCTL_WSK_SAMPLE_SEND_BATCH, SEND_REPLY_SIZE,
        SendReply, decode_batch_request, decode_send_request, status,
    };

    /// A driver stand-in: records payloads, fails the requests listed in `fail_at` (by request
    /// index), and with `short_batches` reports one datagram fewer sent per batch.
    struct FakeDriver {
        received: RefCell<Vec<Vec<u8>>>,
        requests: RefCell<Vec<(Destination, usize)>>,
        fail_at: Vec<usize>,
        fail_with: i32,
        short_batches: bool,
    }

    impl FakeDriver {
        fn new(fail_at: Vec<usize>, fail_with: i32) -> FakeDriver {
            FakeDriver {
                received: RefCell::new(Vec::new()),
                requests: RefCell::new(Vec::new()),
                fail_at,
                fail_with,
                short_batches: false,
            }
        }
    }

    impl Device for FakeDriver {
        fn ioctl(
            &self,
            code: u32,
            input: &[u8],
            _output_len: usize,
        ) -> Result<Vec<u8>, DeviceError> {
            let bad = |e: wsk_sample_ioctl::AbiError| DeviceError::Other(e.to_string());
            let (destination, datagrams): (Destination, Vec<Vec<u8>>) =
                if code == IOCTL_WSK_SAMPLE_SEND_BATCH {
                    let batch = decode_batch_request(input).map_err(bad)?;
                    (
                        batch.destination,
                        batch.datagrams().map(<[u8]>::to_vec).collect(),
                    )
                } else {
                    let request = decode_send_request(input).map_err(bad)?;
                    (request.destination, vec![request.payload.to_vec()])
                };
            let index = {
                let mut requests = self.requests.borrow_mut();
                requests.push((destination, datagrams.len()));
                requests.len() - 1
            };
            let count = datagrams.len();
            let bytes: usize = datagrams.iter().map(Vec::len).sum();
            let last = datagrams.last().map_or(0, Vec::len);
            self.received.borrow_mut().extend(datagrams);
            if self.fail_at.contains(&index) {
                return Err(DeviceError::from_ntstatus(self.fail_with));
            }
            if code == IOCTL_WSK_SAMPLE_SEND_BATCH {
                let mut out = [0u8; BATCH_REPLY_SIZE];
                let (sent, bytes) = if self.short_batches {
                    (count - 1, bytes - last)
                } else {
                    (count, bytes)
                };
                BatchReply {
                    datagrams_sent: sent as u32,
                    bytes_sent: bytes as u64,
                    first_sequence: 1,
                }
                .encode(&mut out);
                return Ok(out.to_vec());
            }
            let mut out = [0u8; SEND_REPLY_SIZE];
            SendReply {
                bytes_sent: bytes as u32,
                sequence: index as u64 + 1,
            }
            .encode(&mut out);
            Ok(out.to_vec())
        }
    }

    fn job(payloads: &Payloads) -> SendJob<'_> {
        SendJob {
            destination: Destination::Address(([127, 0, 0, 1], 9).into()),
            payloads,
            rate: None,
            batch: None,
        }
    }

    #[test]
    fn batches_keep_the_order_and_respect_both_limits() {
        let driver = FakeDriver::new(vec![], 0);
        let payloads = Payloads::Pattern {
            size: 1000,
            count: 300,
        };
        let batched = SendJob {
            batch: Some(100),
            ..job(&payloads)
        };
        let tally = run(&driver, &batched, &AtomicBool::new(false), &mut |_| {});
        assert!(tally.complete());
        assert_eq!((tally.sent, tally.bytes_sent), (300, 300_000));
        // At most 65 datagrams of 1,000 bytes fit 65,536 bytes, fewer than the 100 asked for.
        let sizes: Vec<usize> = driver.requests.borrow().iter().map(|r| r.1).collect();
        assert_eq!(sizes, [65, 65, 65, 65, 40]);
        assert_eq!(tally.requests, 5);
        for (sequence, datagram) in driver.received.borrow().iter().enumerate() {
            assert_eq!(
                crate::payload::check_pattern(datagram),
                crate::payload::PatternCheck::Intact(sequence as u64)
            );
        }
    }

    #[test]
    fn a_fixed_destination_goes_into_every_batch() {
        let driver = FakeDriver::new(vec![], 0);
        let payloads = Payloads::Repeat {
            bytes: b"x".to_vec(),
            count: 10,
        };
        let fixed = SendJob {
            destination: Destination::Fixed(Family::V6),
            batch: Some(4),
            ..job(&payloads)
        };
        let tally = run(&driver, &fixed, &AtomicBool::new(false), &mut |_| {});
        assert!(tally.complete());
        let requests = driver.requests.borrow();
        assert_eq!(requests.iter().map(|r| r.1).collect::<Vec<_>>(), [4, 4, 2]);
        assert!(
            requests
                .iter()
                .all(|r| r.0 == Destination::Fixed(Family::V6))
        );
    }

    #[test]
    fn a_failed_batch_fails_all_its_datagrams_and_short_replies_count() {
        let driver = FakeDriver::new(vec![1], status::STATUS_INVALID_ADDRESS);
        let payloads = Payloads::Repeat {
            bytes: b"xy".to_vec(),
            count: 10,
        };
        let batched = SendJob {
            batch: Some(4),
            ..job(&payloads)
        };
        let tally = run(&driver, &batched, &AtomicBool::new(false), &mut |_| {});
        assert_eq!((tally.sent, tally.failed, tally.attempted), (6, 4, 10));
        assert_eq!(tally.first_failure.as_ref().map(|f| f.index), Some(4));

        let mut short = FakeDriver::new(vec![], 0);
        short.short_batches = true;
        let tally = run(&short, &batched, &AtomicBool::new(false), &mut |_| {});
        assert_eq!((tally.sent, tally.failed, tally.bytes_sent), (7, 3, 14));
        assert_eq!(tally.first_failure.as_ref().map(|f| f.index), Some(3));
    }

    #[test]
    fn every_datagram_is_sent_in_order() {
        let driver = FakeDriver::new(vec![], 0);
        let payloads = Payloads::Pattern { size: 16, count: 5 };
        let mut observed = 0;
        let tally = run(
            &driver,
            &job(&payloads),
            &AtomicBool::new(false),
            &mut |_| observed += 1,
        );
        assert!(tally.complete());
        assert_eq!((tally.sent, tally.bytes_sent, observed), (5, 80, 5));
        let received = driver.received.borrow();
        for (sequence, datagram) in received.iter().enumerate() {
            assert_eq!(
                crate::payload::check_pattern(datagram),
                crate::payload::PatternCheck::Intact(sequence as u64)
            );
        }
    }

    #[test]
    fn failures_are_counted_and_the_first_is_kept() {
        let driver = FakeDriver::new(vec![1, 3], status::STATUS_INSUFFICIENT_RESOURCES);
        let payloads = Payloads::Repeat {
            bytes: b"x".to_vec(),
            count: 5,
        };
        let tally = run(
            &driver,
            &job(&payloads),
            &AtomicBool::new(false),
            &mut |_| {},
        );
        assert_eq!((tally.sent, tally.failed, tally.attempted), (3, 2, 5));
        assert_eq!(tally.first_failure.as_ref().map(|f| f.index), Some(1));
        assert!(!tally.complete());
        assert_eq!(tally.stopped, None);
    }

    #[test]
    fn a_version_mismatch_stops_the_run() {
        let driver = FakeDriver::new(vec![0], status::STATUS_INVALID_DEVICE_REQUEST);
        let payloads = Payloads::Repeat {
            bytes: b"x".to_vec(),
            count: 5,
        };
        let tally = run(
            &driver,
            &job(&payloads),
            &AtomicBool::new(false),
            &mut |_| {},
        );
        assert_eq!((tally.attempted, tally.failed), (1, 1));
        assert_eq!(tally.stopped, Some(StopReason::DriverUnavailable));
    }

    #[test]
    fn the_stop_flag_ends_the_run_early() {
        let driver = FakeDriver::new(vec![], 0);
        let payloads = Payloads::Repeat {
            bytes: b"x".to_vec(),
            count: 1000,
        };
        let stop = AtomicBool::new(false);
        let tally = run(&driver, &job(&payloads), &stop, &mut |tally| {
            if tally.sent == 10 {
                stop.store(true, Ordering::Relaxed);
            }
        });
        assert_eq!(tally.sent, 10);
        assert_eq!(tally.stopped, Some(StopReason::Interrupted));
    }

    #[test]
    fn pacing_spreads_the_sends() {
        let driver = FakeDriver::new(vec![], 0);
        let payloads = Payloads::Repeat {
            bytes: b"x".to_vec(),
            count: 3,
        };
        let paced = SendJob {
            rate: Some(20.0),
            ..job(&payloads)
        };
        let tally = run(&driver, &paced, &AtomicBool::new(false), &mut |_| {});
        // Datagrams at 0, 50 and 100 ms.
        assert!(
            tally.elapsed >= Duration::from_millis(100),
            "{:?}",
            tally.elapsed
        );
    }
}
