//! `wskctl ping`: round trips to an echo responder. With `--to` it pings that address. Without
//! it (hosts other than Windows, where the driver runs in the kernel model in-process) it starts
//! the driver's kernel echo responder on 127.0.0.1 and, in the same run, a user-mode echo on the
//! same socket API, and measures both the same way: one datagram in flight at a time. The kernel
//! echo takes its datagrams through posted receive IRPs, or with `--events` through the
//! driver's receive-event callback; the report names the delivery the driver's counters show.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use wsk_sample_ioctl::{Delivery, Family, ReceiveMode};

use super::recv::{delivery, receive_stats, set_mode, start};
use super::{UnloadJson, close_device};
use crate::cli::PingArgs;
use crate::device;
use crate::exit::{ExitStatus, Failure};
use crate::output::{self, say, thousands};

/// How long one round trip may take before it counts as lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// Percentiles of round-trip times, in microseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Rtt {
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub lost: u64,
}

/// The nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sends `count` datagrams of `size` bytes to `target`, one at a time, and times each echo
/// (which must match byte for byte; a mismatch or no reply within a second is lost).
pub fn measure(target: SocketAddr, count: u64, size: usize) -> std::io::Result<Rtt> {
    let local = if target.is_ipv4() {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0))
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(target)?;
    socket.set_read_timeout(Some(REPLY_TIMEOUT))?;
    let mut payload = vec![0u8; size.max(8)];
    let mut reply = vec![0u8; 65_536];
    let mut samples = Vec::with_capacity(count as usize);
    let mut lost = 0;
    // A few untimed round trips first (socket creation, first receive posts, caches).
    for round in 0..count + 5 {
        payload[..8].copy_from_slice(&round.to_le_bytes());
        let start = Instant::now();
        socket.send(&payload)?;
        let matched = loop {
            match socket.recv(&mut reply) {
                // A late echo of an earlier round is skipped.
                Ok(n) if reply[..8.min(n)] != payload[..8] => continue,
                Ok(n) => break reply[..n] == payload[..],
                Err(_) => break false,
            }
        };
        let elapsed = start.elapsed();
        if round < 5 {
            continue;
        }
        if matched {
            samples.push(elapsed.as_secs_f64() * 1e6);
        } else {
            lost += 1;
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(Rtt {
        p50_us: percentile(&samples, 50.0),
        p99_us: percentile(&samples, 99.0),
        max_us: samples.last().copied().unwrap_or(0.0),
        lost,
    })
}

/// A user-mode echo on 127.0.0.1 until `stop` rises.
pub fn user_echo(
    stop: Arc<AtomicBool>,
) -> std::io::Result<(SocketAddr, std::thread::JoinHandle<()>)> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(Duration::from_millis(50)))?;
    let address = socket.local_addr()?;
    let handle = std::thread::spawn(move || {
        let mut buffer = vec![0u8; 65_536];
        while !stop.load(Ordering::SeqCst) {
            if let Ok((n, from)) = socket.recv_from(&mut buffer) {
                let _ = socket.send_to(&buffer[..n], from);
            }
        }
    });
    Ok((address, handle))
}

#[derive(Serialize)]
struct PingReport {
    command: &'static str,
    ok: bool,
    exit_code: u8,
    backend: &'static str,
    target: String,
    count: u64,
    size: usize,
    rtt_p50_us: f64,
    rtt_p99_us: f64,
    rtt_max_us: f64,
    lost: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_echo_rtt_p50_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_echo_rtt_p99_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_echo_echoed: Option<u64>,
    /// How the kernel echo's datagrams reached the driver, as its receive counters said while
    /// it ran ("irp" or "events"); absent with --to.
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<Delivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unload_report: Option<UnloadJson>,
}

pub fn run(args: PingArgs, json: bool) -> Result<ExitStatus, Failure> {
    let io = |e: std::io::Error| Failure::Other(format!("ping: {e}"));
    let (target, kernel, user, echoed, delivered_by, unload, mut status) = match args.to {
        Some(to) => (
            to,
            measure(to, args.count, args.size).map_err(io)?,
            None,
            None,
            None,
            None,
            ExitStatus::Success,
        ),
        None => {
            if cfg!(windows) {
                return Err(Failure::Usage(
                    "on Windows give --to ADDR:PORT (an echo responder, e.g. `wskctl echo` run elsewhere)".into(),
                ));
            }
            let (mut device, local) = start(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                ReceiveMode::Echo,
                delivery(args.events),
                false,
            )?;
            let delivered_by = receive_stats(&device).ok().map(|s| s.delivery_v4);
            let Some(local) = local else {
                let _ = close_device(&mut device);
                return Err(Failure::Other(
                    "the driver's socket has no local address".into(),
                ));
            };
            let target = SocketAddr::new([127, 0, 0, 1].into(), local.port());
            let kernel = measure(target, args.count, args.size);
            let stop = Arc::new(AtomicBool::new(false));
            let user = user_echo(stop.clone()).and_then(|(address, handle)| {
                let rtt = measure(address, args.count, args.size);
                stop.store(true, Ordering::SeqCst);
                let _ = handle.join();
                rtt
            });
            let _ = set_mode(&device, Family::V4, ReceiveMode::Off);
            let echoed = receive_stats(&device).ok().map(|s| s.echoed);
            let (unload, status) = close_device(&mut device);
            (
                target,
                kernel.map_err(io)?,
                Some(user.map_err(io)?),
                echoed,
                delivered_by,
                unload,
                status,
            )
        }
    };
    if status == ExitStatus::Success && kernel.lost > 0 {
        status = ExitStatus::Partial;
    }
    if json {
        output::emit_json(&PingReport {
            command: "ping",
            ok: status == ExitStatus::Success,
            exit_code: status.code(),
            backend: device::BACKEND_NAME,
            target: target.to_string(),
            count: args.count,
            size: args.size,
            rtt_p50_us: kernel.p50_us,
            rtt_p99_us: kernel.p99_us,
            rtt_max_us: kernel.max_us,
            lost: kernel.lost,
            user_echo_rtt_p50_us: user.map(|u| u.p50_us),
            user_echo_rtt_p99_us: user.map(|u| u.p99_us),
            kernel_echo_echoed: echoed,
            delivery: delivered_by,
            unload_report: unload.as_ref().map(UnloadJson::from),
        });
    } else {
        let who = match (args.to, delivered_by) {
            (Some(_), _) => "echo",
            (None, Some(Delivery::Events)) => "kernel echo (driver, receive-event callback)",
            (None, Some(Delivery::Irp)) => "kernel echo (driver, posted receive IRPs)",
            (None, None) => "kernel echo (driver)",
        };
        say!(
            "{who} at {target}: {} round trips of {} bytes, p50 {:.1} us, p99 {:.1} us, max {:.1} us, {} lost",
            thousands(args.count),
            thousands(args.size as u64),
            kernel.p50_us,
            kernel.p99_us,
            kernel.max_us,
            kernel.lost
        );
        if let Some(user) = user {
            say!(
                "user-mode echo (same socket API): p50 {:.1} us, p99 {:.1} us; kernel/user p50 ratio {:.2}",
                user.p50_us,
                user.p99_us,
                if user.p50_us > 0.0 {
                    kernel.p50_us / user.p50_us
                } else {
                    0.0
                }
            );
        }
    }
    Ok(status)
}
