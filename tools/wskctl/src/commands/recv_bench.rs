//! `wskctl recv-bench`: the receive side measured in one run (not on Windows: the driver runs in
//! the kernel model in-process).
//! (a) receive throughput through the driver: a sender thread sends `--count` 64-byte datagrams
//!     to the driver's socket as fast as it can while the main thread takes them with one
//!     IOCTL_WSK_SAMPLE_RECEIVE each; (b) the same sender against a raw user-mode receiver on the
//!     same socket API with `recvmmsg` (batches of 64); reported as datagrams/s received and the
//!     ratio a/b. (c) round trips through the kernel echo against a user-mode echo (`ping`'s
//!     measurement), as the ratio of the p50s.
//! (a) and (c) run with the driver's posted receive IRPs, or with `--events` its receive-event
//! callback; `--compare-delivery` runs them with both on the same driver (IRPs first) and adds
//! the ratios events/IRPs.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use wsk_sample_ioctl::{
    Delivery, Family, IOCTL_WSK_SAMPLE_RECEIVE, RECEIVE_HEADER_SIZE, ReceiveMode, ReceiveRequest,
};

use super::ping::{Rtt, measure, user_echo};
use super::recv::{delivery, receive_stats, set_mode, set_mode_with, start};
use super::{UnloadJson, close_device};
use crate::cli::RecvBenchArgs;
use crate::device::{self, Device};
use crate::exit::{ExitStatus, Failure};
use crate::output::{self, say, thousands};
use crate::request;

/// The last datagram may have been lost: stop waiting after this long without one.
const QUIET: Duration = Duration::from_millis(300);

#[derive(Serialize, Clone, Copy, Default)]
struct Rate {
    received: u64,
    seconds: f64,
    datagrams_per_second: f64,
}

impl Rate {
    fn new(received: u64, elapsed: Duration) -> Rate {
        let seconds = elapsed.as_secs_f64();
        Rate {
            received,
            seconds,
            datagrams_per_second: if seconds > 0.0 {
                received as f64 / seconds
            } else {
                0.0
            },
        }
    }
}

/// What one delivery measured: (a) and the kernel echo's round trips.
struct Measured {
    /// As the driver's receive counters named it while (a) ran.
    delivery: Delivery,
    driver: Rate,
    /// Dropped in the driver during (a): no request waiting and no room to hold the datagram.
    dropped: u64,
    kernel_rtt: Rtt,
}

/// One delivery's figures in the report (the run's own, flattened into it, and `events` with
/// --compare-delivery).
#[derive(Serialize)]
struct DeliveryReport {
    delivery: Delivery,
    driver: Rate,
    driver_over_raw: f64,
    kernel_echo_rtt_p50_us: f64,
    kernel_over_user_rtt_p50: f64,
    dropped_no_request: u64,
}

/// Events over IRPs (--compare-delivery): above 1 for the rate, below 1 for the p50, favour
/// events.
#[derive(Serialize)]
struct EventsOverIrp {
    datagrams_per_second: f64,
    rtt_p50: f64,
}

#[derive(Serialize)]
struct Report {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    count: u64,
    size: usize,
    #[serde(flatten)]
    run: DeliveryReport,
    raw_recvmmsg: Rate,
    user_echo_rtt_p50_us: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<DeliveryReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events_over_irp: Option<EventsOverIrp>,
    unload_report: Option<UnloadJson>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Sends `count` datagrams of `size` bytes to `to` from a thread, as fast as it can.
fn blast(to: SocketAddr, count: u64, size: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok(socket) = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))) else {
            return;
        };
        let payload = vec![0x5Au8; size];
        for _ in 0..count {
            let _ = socket.send_to(&payload, to);
        }
    })
}

/// The raw receiver: recvmmsg in batches of 64 until `count` arrived or it went quiet.
#[cfg(target_os = "linux")]
fn raw_receive(count: u64, size: usize) -> std::io::Result<Rate> {
    use std::os::fd::AsRawFd;
    let socket = super::listen::bind_receiver(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.set_read_timeout(Some(QUIET))?;
    let to = socket.local_addr()?;
    const BATCH: usize = 64;
    let mut buffers = vec![[0u8; 2048]; BATCH];
    let mut iovs: Vec<libc::iovec> = buffers
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: an all-zero mmsghdr is valid; the iovec is set right below.
            let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
            header.msg_hdr.msg_iov = iov;
            header.msg_hdr.msg_iovlen = 1;
            header
        })
        .collect();
    let sender = blast(to, count, size);
    let mut received = 0u64;
    let mut first = None;
    let mut last = Instant::now();
    while received < count {
        // SAFETY: every header points at a live iovec over a live buffer; the socket is open.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            break; // quiet (the read timeout) or an error: the rest was lost
        }
        first.get_or_insert_with(Instant::now);
        last = Instant::now();
        received += n as u64;
    }
    let _ = sender.join();
    Ok(Rate::new(
        received,
        first.map_or(Duration::ZERO, |f| last.duration_since(f)),
    ))
}

#[cfg(not(target_os = "linux"))]
fn raw_receive(_: u64, _: usize) -> std::io::Result<Rate> {
    Ok(Rate::default())
}

/// Through the driver: one IOCTL_WSK_SAMPLE_RECEIVE per datagram until `count` arrived or a
/// watchdog stops receiving after QUIET without progress.
fn driver_receive(device: &(dyn Device + Sync), to: SocketAddr, count: u64, size: usize) -> Rate {
    let request = ReceiveRequest { family: Family::V4 }.encode();
    let progress = std::sync::atomic::AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let mut received = 0u64;
    let mut first = None;
    let mut last = Instant::now();
    std::thread::scope(|scope| {
        let (progress, done) = (&progress, &done);
        scope.spawn(move || {
            let mut seen = 0;
            let mut since = Instant::now();
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                let now = progress.load(Ordering::SeqCst);
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() >= QUIET {
                    let _ = set_mode(device, Family::V4, ReceiveMode::Off);
                    return;
                }
            }
        });
        let sender = blast(to, count, size);
        while received < count {
            match device.ioctl(
                IOCTL_WSK_SAMPLE_RECEIVE,
                &request,
                RECEIVE_HEADER_SIZE + 2048,
            ) {
                Ok(_) => {
                    first.get_or_insert_with(Instant::now);
                    last = Instant::now();
                    received += 1;
                    progress.store(received, Ordering::SeqCst);
                }
                Err(_) => break,
            }
        }
        done.store(true, Ordering::SeqCst);
        let _ = sender.join();
    });
    Rate::new(
        received,
        first.map_or(Duration::ZERO, |f| last.duration_since(f)),
    )
}

/// The loopback address of the driver's IPv4 socket.
fn local_v4(device: &dyn Device) -> Option<SocketAddr> {
    request::query_stats(device)
        .ok()
        .and_then(|s| s.local_v4)
        .map(|local| SocketAddr::new([127, 0, 0, 1].into(), local.port()))
}

/// (a) and the kernel echo's round trips with `delivery`, on a driver whose IPv4 socket is
/// receiving with it already; receiving is off again afterwards.
fn measure_delivery(
    device: &(dyn Device + Sync),
    delivery: Delivery,
    args: &RecvBenchArgs,
) -> Result<Measured, Failure> {
    let io = |e: std::io::Error| Failure::Other(format!("recv-bench: {e}"));
    let no_address = || Failure::Other("the driver's socket has no local address".into());
    let before = receive_stats(device)?;
    let to = local_v4(device).ok_or_else(no_address)?;
    let driver = driver_receive(device, to, args.count, args.size);
    let _ = set_mode(device, Family::V4, ReceiveMode::Off);
    let dropped = receive_stats(device)?
        .dropped_no_request
        .saturating_sub(before.dropped_no_request);
    // Round trips through the kernel echo, one datagram in flight.
    set_mode_with(device, Family::V4, ReceiveMode::Echo, delivery)?;
    let kernel_rtt = local_v4(device)
        .ok_or_else(no_address)
        .and_then(|target| measure(target, args.rtt_count, args.size).map_err(io));
    let _ = set_mode(device, Family::V4, ReceiveMode::Off);
    Ok(Measured {
        delivery: before.delivery_v4,
        driver,
        dropped,
        kernel_rtt: kernel_rtt?,
    })
}

pub fn run(args: RecvBenchArgs, json: bool) -> Result<ExitStatus, Failure> {
    let io = |e: std::io::Error| Failure::Other(format!("recv-bench: {e}"));
    let size = args.size;
    let raw = raw_receive(args.count, size).map_err(io)?;
    let first = delivery(args.events);
    let (mut device, _) = start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        ReceiveMode::Receive,
        first,
        true,
    )?;
    let measured = measure_delivery(&device, first, &args).and_then(|first_run| {
        if !args.compare_delivery {
            return Ok((first_run, None));
        }
        set_mode_with(&device, Family::V4, ReceiveMode::Receive, Delivery::Events)?;
        let events_run = measure_delivery(&device, Delivery::Events, &args)?;
        Ok((first_run, Some(events_run)))
    });
    let _ = set_mode(&device, Family::V4, ReceiveMode::Off);
    let (unload, status) = close_device(&mut device);
    let (first_run, events_run) = measured?;
    // Round trips through a user-mode echo on the same socket API.
    let user_rtt = {
        let stop = Arc::new(AtomicBool::new(false));
        let (address, echo) = user_echo(stop.clone()).map_err(io)?;
        let rtt = measure(address, args.rtt_count, size).map_err(io);
        stop.store(true, Ordering::SeqCst);
        let _ = echo.join();
        rtt?
    };
    let figures = |m: &Measured| DeliveryReport {
        delivery: m.delivery,
        driver: m.driver,
        driver_over_raw: ratio(m.driver.datagrams_per_second, raw.datagrams_per_second),
        kernel_echo_rtt_p50_us: m.kernel_rtt.p50_us,
        kernel_over_user_rtt_p50: ratio(m.kernel_rtt.p50_us, user_rtt.p50_us),
        dropped_no_request: m.dropped,
    };
    let events_over_irp = events_run.as_ref().map(|events| EventsOverIrp {
        datagrams_per_second: ratio(
            events.driver.datagrams_per_second,
            first_run.driver.datagrams_per_second,
        ),
        rtt_p50: ratio(events.kernel_rtt.p50_us, first_run.kernel_rtt.p50_us),
    });
    let report = Report {
        command: "recv-bench",
        ok: status == ExitStatus::Success,
        exit_code: status.code(),
        backend: device::BACKEND_NAME,
        count: args.count,
        size,
        run: figures(&first_run),
        raw_recvmmsg: raw,
        user_echo_rtt_p50_us: user_rtt.p50_us,
        events: events_run.as_ref().map(figures),
        events_over_irp,
        unload_report: unload.as_ref().map(UnloadJson::from),
    };
    if json {
        output::emit_json(&report);
        return Ok(status);
    }
    say!(
        "receive, {size}-byte datagrams ({} sent to each):",
        thousands(args.count)
    );
    say!(
        "   (b) raw recvmmsg, 64 per call: {} received, {:.0} datagrams/s",
        thousands(raw.received),
        raw.datagrams_per_second
    );
    say!("round trip p50, user-mode echo: {:.1} us", user_rtt.p50_us);
    for run in std::iter::once(&report.run).chain(&report.events) {
        let name = match run.delivery {
            Delivery::Irp => "posted receive IRPs",
            Delivery::Events => "receive-event callback",
        };
        say!("through the driver, {name}:");
        say!(
            "   (a) one IOCTL per datagram: {} received, {:.0} datagrams/s ({} dropped in the driver: no request waiting); ratio a/b {:.2}",
            thousands(run.driver.received),
            run.driver.datagrams_per_second,
            thousands(run.dropped_no_request),
            run.driver_over_raw
        );
        say!(
            "   kernel echo round trip p50 {:.1} us; ratio kernel/user {:.2}",
            run.kernel_echo_rtt_p50_us,
            run.kernel_over_user_rtt_p50
        );
    }
    if let Some(ratios) = &report.events_over_irp {
        say!(
            "events / IRPs: receive rate {:.2} (above 1: events faster), echo p50 {:.2} (below 1: events faster)",
            ratios.datagrams_per_second,
            ratios.rtt_p50
        );
    }
    Ok(status)
}
