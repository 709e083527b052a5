//! The send loop: one request per datagram, optional pacing, a stop flag for Ctrl-C, and the
//! tally the summary is built from. It knows nothing about output.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::device::{Device, DeviceError};
use crate::payload::Payloads;
use crate::request::SendEncoder;

/// One send run.
pub struct SendJob<'a> {
    /// `None` would use the socket's fixed destination (not configurable yet).
    pub destination: Option<SocketAddr>,
    pub payloads: &'a Payloads,
    /// Datagrams per second, if paced.
    pub rate: Option<f64>,
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

/// Runs the job. `observe` sees the tally after every datagram (for progress display).
pub fn run(
    device: &dyn Device,
    job: &SendJob<'_>,
    stop: &AtomicBool,
    observe: &mut dyn FnMut(&SendTally),
) -> SendTally {
    let mut tally = SendTally::new(job.payloads.count());
    let mut encoder = SendEncoder::default();
    let mut scratch = Vec::new();
    let interval = job.rate.map(|rate| 1.0 / rate);
    let started = Instant::now();
    for index in 0..tally.planned {
        if let Some(interval) = interval
            && !pace(started, index as f64 * interval, stop)
        {
            tally.stopped = Some(StopReason::Interrupted);
            break;
        }
        if stop.load(Ordering::Relaxed) {
            tally.stopped = Some(StopReason::Interrupted);
            break;
        }
        let payload = job.payloads.get(index, &mut scratch);
        tally.attempted += 1;
        match encoder.send(device, job.destination, payload) {
            Ok(reply) => {
                tally.sent += 1;
                tally.bytes_sent += u64::from(reply.bytes_sent);
            }
            Err(error) => {
                tally.failed += 1;
                let unavailable = error.is_driver_unavailable();
                tally
                    .first_failure
                    .get_or_insert(FirstFailure { index, error });
                if unavailable {
                    tally.stopped = Some(StopReason::DriverUnavailable);
                }
            }
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
    use wsk_sample_ioctl::{SEND_REPLY_SIZE, SendReply, decode_send_request, status};

    /// A driver stand-in: records payloads, fails the datagrams listed in `fail_at`.
    struct FakeDriver {
        received: RefCell<Vec<Vec<u8>>>,
        fail_at: Vec<usize>,
        fail_with: i32,
    }

    impl FakeDriver {
        fn new(fail_at: Vec<usize>, fail_with: i32) -> FakeDriver {
            FakeDriver {
                received: RefCell::new(Vec::new()),
                fail_at,
                fail_with,
            }
        }
    }

    impl Device for FakeDriver {
        fn ioctl(
            &self,
            _code: u32,
            input: &[u8],
            _output_len: usize,
        ) -> Result<Vec<u8>, DeviceError> {
            let request =
                decode_send_request(input).map_err(|e| DeviceError::Other(e.to_string()))?;
            let mut received = self.received.borrow_mut();
            let index = received.len();
            received.push(request.payload.to_vec());
            if self.fail_at.contains(&index) {
                return Err(DeviceError::from_ntstatus(self.fail_with));
            }
            let mut out = [0u8; SEND_REPLY_SIZE];
            SendReply {
                bytes_sent: request.payload.len() as u32,
                sequence: index as u64 + 1,
            }
            .encode(&mut out);
            Ok(out.to_vec())
        }
    }

    fn job(payloads: &Payloads) -> SendJob<'_> {
        SendJob {
            destination: "127.0.0.1:9".parse().ok(),
            payloads,
            rate: None,
        }
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
