//! Fault injection: for every allocation site and every WSK call the driver makes, fail the
//! 1st, 2nd, … call during a workload. Each time the caller gets a clear status, exactly the
//! datagrams reported sent arrive, no rule is broken, the driver keeps working afterwards, and
//! unload is clean.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Bench, Receiver};
use wdk_model::harness::{HarnessError, Kernel};
use wdk_model::{Fault, FaultSite, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{BatchReply, ConfigAction, Destination, Family};

/// Statuses a request may fail with when a resource or the provider fails under it.
const CLEAR_FAILURES: [i32; 4] = [
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_DEVICE_NOT_READY,
    STATUS_DEVICE_BUSY,
    STATUS_NETWORK_UNREACHABLE,
];

/// What the workload sent successfully, per receiver.
#[derive(Default)]
struct Expected {
    v4: usize,
    v6: usize,
}

fn check(what: &str, status: i32) -> bool {
    assert!(
        status == STATUS_SUCCESS || CLEAR_FAILURES.contains(&status),
        "{what} failed with an unexpected status {status:#010x} ({:?})",
        name(status)
    );
    status == STATUS_SUCCESS
}

/// A workload touching every path: sends on both families, a fixed destination, a batch, a
/// rebind, clear, stats.
fn workload(bench: &Bench, v4: &Receiver, v6: &Receiver) -> Expected {
    let mut expected = Expected::default();
    for i in 0..2u8 {
        expected.v4 += usize::from(check("send v4", bench.send(v4.address(), &[4, i]).status));
        expected.v6 += usize::from(check("send v6", bench.send(v6.address(), &[6, i]).status));
    }
    if check(
        "fixed send-to",
        bench.configure(ConfigAction::FixedSendTo(v4.address())),
    ) {
        let status = bench
            .send_to(Destination::Fixed(Family::V4), b"fixed")
            .status;
        expected.v4 += usize::from(check("send to the fixed destination", status));
    }
    let payloads: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 32]).collect();
    let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let batch = bench.send_batch(Destination::Address(v4.address()), &slices);
    if check("batch", batch.status) {
        expected.v4 += BatchReply::decode(&batch.output)
            .expect("reply")
            .datagrams_sent as usize;
    }
    check(
        "rebind v6",
        bench.configure(ConfigAction::Bind("[::1]:0".parse().expect("address"))),
    );
    expected.v6 += usize::from(check(
        "send v6 after rebind",
        bench.send(v6.address(), b"again").status,
    ));
    check(
        "clear",
        bench.configure(ConfigAction::ClearFixed(Family::V4)),
    );
    bench.stats();
    receive_workload(bench, wsk_sample_ioctl::Delivery::Irp);
    receive_workload(bench, wsk_sample_ioctl::Delivery::Events);
    expected
}

/// The receive path, with `delivery` (posted IRPs, or the event callback whose enable and
/// disable go through WskControlSocket's fault site): start receiving on IPv4, one datagram from
/// an external client through a pended receive request, stop; then the echo responder.
fn receive_workload(bench: &Bench, delivery: wsk_sample_ioctl::Delivery) {
    use wsk_sample_ioctl::{
        IOCTL_WSK_SAMPLE_RECEIVE, IOCTL_WSK_SAMPLE_RECEIVE_MODE, ModeRequest, ReceiveMode,
        ReceiveReply, ReceiveRequest,
    };
    let mode = |mode| {
        ModeRequest {
            family: Family::V4,
            mode,
            delivery,
        }
        .encode()
    };
    let started = bench.ioctl(
        IOCTL_WSK_SAMPLE_RECEIVE_MODE,
        &mode(ReceiveMode::Receive),
        0,
    );
    if !check("start receiving", started.status) {
        return;
    }
    if let Some(local) = bench.stats().local_v4 {
        let client = std::net::UdpSocket::bind("127.0.0.1:0").expect("client");
        let to = std::net::SocketAddr::new([127, 0, 0, 1].into(), local.port());
        client.send_to(b"in", to).expect("send");
        let request = ReceiveRequest { family: Family::V4 }.encode();
        let result = bench.ioctl(IOCTL_WSK_SAMPLE_RECEIVE, &request, 100);
        if check("receive", result.status) {
            let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
            assert_eq!(data, b"in", "the datagram received");
        }
    }
    check(
        "stop receiving",
        bench
            .ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &mode(ReceiveMode::Off), 0)
            .status,
    );
    // The echo responder: one datagram back to its sender, or counted as not echoed when the
    // fault lands on the echo's send.
    let echo = bench.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &mode(ReceiveMode::Echo), 0);
    if !check("start echoing", echo.status) {
        return;
    }
    if let Some(local) = bench.stats().local_v4 {
        let client = std::net::UdpSocket::bind("127.0.0.1:0").expect("client");
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let to = std::net::SocketAddr::new([127, 0, 0, 1].into(), local.port());
        client.send_to(b"echo", to).expect("send");
        let mut buffer = [0u8; 16];
        match client.recv_from(&mut buffer) {
            Ok((n, _)) => assert_eq!(&buffer[..n], b"echo"),
            Err(_) => {
                let result = bench.ioctl(
                    wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_STATS,
                    &[],
                    wsk_sample_ioctl::RECEIVE_STATS_SIZE,
                );
                let stats = wsk_sample_ioctl::ReceiveStats::decode(&result.output).expect("stats");
                assert!(
                    stats.dropped_echo + stats.receive_errors > 0,
                    "an echo was lost without being counted: {stats:?}"
                );
            }
        }
    }
    check(
        "stop echoing",
        bench
            .ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &mode(ReceiveMode::Off), 0)
            .status,
    );
}

fn drain(receiver: &Receiver) -> usize {
    receiver
        .socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buffer = [0u8; 2048];
    let mut count = 0;
    while receiver.socket.recv_from(&mut buffer).is_ok() {
        count += 1;
    }
    receiver
        .socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    count
}

/// Counts the calls each site sees in a fault-free run.
fn baseline() -> BTreeMap<String, (FaultSite, u64)> {
    // A fault that never fires turns the per-site counters on.
    let counting = FaultSite::ALL
        .iter()
        .map(|&site| Fault {
            site,
            nth: u64::MAX,
            status: 0,
        })
        .collect();
    let bench = Bench::with(KernelConfig {
        faults: counting,
        ..KernelConfig::default()
    });
    let (v4, v6) = (Receiver::v4(), Receiver::v6());
    workload(&bench, &v4, &v6);
    // Unload's own calls (the closes) count too.
    let kernel = bench.close();
    let report = kernel.unload();
    assert!(report.is_clean(), "baseline: {report}");
    FaultSite::ALL
        .iter()
        .map(|&site| (format!("{site:?}"), (site, kernel.site_calls(site))))
        .collect()
}

fn run_with_fault(site: FaultSite, nth: u64) {
    let config = KernelConfig {
        faults: vec![Fault {
            site,
            nth,
            status: STATUS_INSUFFICIENT_RESOURCES,
        }],
        ..KernelConfig::default()
    };
    let mut kernel = Kernel::boot(config.clone());
    if let Err(error) = kernel.load(wsk_sample_driver::driver_entry) {
        // The fault hit load itself: DriverEntry or device add failed with a clear status and
        // left nothing behind.
        assert!(
            matches!(error, HarnessError::DriverEntryFailed(s) | HarnessError::DeviceAddFailed(s) if s == STATUS_INSUFFICIENT_RESOURCES),
            "{site:?} #{nth}: load failed unclearly: {error}"
        );
        let report = kernel.unload();
        assert!(
            report.is_clean(),
            "{site:?} #{nth}: load failure left: {report}"
        );
        return;
    }
    drop(kernel);
    let bench = Bench::with(config);
    let (v4, v6) = (Receiver::v4(), Receiver::v6());
    let expected = workload(&bench, &v4, &v6);
    assert_eq!(
        drain(&v4),
        expected.v4,
        "{site:?} #{nth}: IPv4 datagrams reported sent vs received"
    );
    assert_eq!(
        drain(&v6),
        expected.v6,
        "{site:?} #{nth}: IPv6 datagrams reported sent vs received"
    );
    // The driver keeps working once the fault has passed (the fault fires once: if it lands
    // on this send, the send fails clearly and the retry succeeds).
    for receiver in [&v4, &v6] {
        let first = bench.send(receiver.address(), b"after").status;
        if !check("send after the workload", first) {
            bench.send_ok(receiver.address(), b"after");
        }
        assert_eq!(receiver.receive().0, b"after");
    }
    // Nothing lost inside the driver either: every slot is back, nothing is in flight.
    let stats = bench.stats();
    assert_eq!(
        stats.pool_free, stats.pool_slots,
        "{site:?} #{nth}: send slots lost"
    );
    assert_eq!(
        stats.in_flight, 0,
        "{site:?} #{nth}: sends still counted in flight"
    );
    let report = bench.unload();
    assert!(report.is_clean(), "{site:?} #{nth}: {report}");
}

#[test]
fn every_call_site_fails_cleanly_at_every_call() {
    let calls = baseline();
    let mut injected = 0;
    for (name, (site, count)) in &calls {
        for nth in 1..=*count {
            run_with_fault(*site, nth);
            injected += 1;
        }
        eprintln!("fault sweep: {name}: {count} call(s), each failed once: clean");
    }
    eprintln!("fault sweep: {injected} faults injected, nothing lost or leaked");
    // Every site was reached by the workload (or by unload).
    for site in FaultSite::ALL {
        assert!(
            calls[&format!("{site:?}")].1 > 0,
            "{site:?} never reached by the workload"
        );
    }
}
