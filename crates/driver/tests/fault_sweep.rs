//! Fault injection: for every allocation site and every WSK call the driver makes, fail the
//! 1st, 2nd, … call during a workload. Each time the caller gets a clear status, exactly the
//! datagrams reported sent arrive, no rule is broken, the driver keeps working afterwards, and
//! unload is clean.
//!
//! One test per [`FaultSite`] (`cargo test --test fault_sweep -- wsk_send_to` sweeps one site);
//! [`every_fault_site_has_its_test`] fails when the model gains a site this file does not sweep.
//! Nothing here waits for a socket to stay quiet: what the driver did is read from its own
//! counters (IOCTL_WSK_SAMPLE_QUERY_STATS and IOCTL_WSK_SAMPLE_RECEIVE_STATS), and a socket is
//! read only for datagrams those counters say were sent, so a receive timeout is reached only by
//! a failing test.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use test_fixtures::{LoadFailed, RECEIVE_TIMEOUT, Receiver, Rig};
use wdk_model::harness::{HarnessError, IoMode};
use wdk_model::{Fault, FaultSite, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{
    BatchReply, ConfigAction, Delivery, Destination, Family, IOCTL_WSK_SAMPLE_RECEIVE,
    IOCTL_WSK_SAMPLE_RECEIVE_MODE, ModeRequest, ReceiveMode, ReceiveReply, ReceiveRequest,
    ReceiveStats,
};

/// Statuses a request may fail with when a resource or the provider fails under it.
const CLEAR_FAILURES: [i32; 4] = [
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_DEVICE_NOT_READY,
    STATUS_DEVICE_BUSY,
    STATUS_NETWORK_UNREACHABLE,
];

/// How long the driver may take to account for a datagram sent to it (only a failing test
/// waits this long).
const ACCOUNTED_WITHIN: Duration = Duration::from_secs(10);

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
/// rebind, clear, stats, receiving and echoing.
fn workload(rig: &Rig, v4: &Receiver, v6: &Receiver) -> Expected {
    let mut expected = Expected::default();
    for i in 0..2u8 {
        expected.v4 += usize::from(check("send v4", rig.send(v4.address(), &[4, i]).status));
        expected.v6 += usize::from(check("send v6", rig.send(v6.address(), &[6, i]).status));
    }
    if check(
        "fixed send-to",
        rig.configure(ConfigAction::FixedSendTo(v4.address())),
    ) {
        let status = rig.send_to(Destination::Fixed(Family::V4), b"fixed").status;
        expected.v4 += usize::from(check("send to the fixed destination", status));
    }
    let payloads: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 32]).collect();
    let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let batch = rig.send_batch(Destination::Address(v4.address()), &slices);
    if check("batch", batch.status) {
        expected.v4 += BatchReply::decode(&batch.output)
            .expect("reply")
            .datagrams_sent as usize;
    }
    check(
        "rebind v6",
        rig.configure(ConfigAction::Bind("[::1]:0".parse().expect("address"))),
    );
    expected.v6 += usize::from(check(
        "send v6 after rebind",
        rig.send(v6.address(), b"again").status,
    ));
    check("clear", rig.configure(ConfigAction::ClearFixed(Family::V4)));
    rig.stats();
    receive_workload(rig, Delivery::Irp);
    receive_workload(rig, Delivery::Events);
    expected
}

fn set_mode(rig: &Rig, mode: ReceiveMode, delivery: Delivery) -> i32 {
    let request = ModeRequest {
        family: Family::V4,
        mode,
        delivery,
    }
    .encode();
    rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE_MODE, &request, 0).status
}

/// A client on loopback and the driver's IPv4 receiving address, if it has one.
fn client_and_target(rig: &Rig) -> Option<(UdpSocket, SocketAddr)> {
    let local = rig.stats().local_v4?;
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    client
        .set_read_timeout(Some(RECEIVE_TIMEOUT))
        .expect("timeout");
    Some((client, SocketAddr::new([127, 0, 0, 1].into(), local.port())))
}

/// The receive path, with `delivery` (posted IRPs, or the event callback whose enable and
/// disable go through WskControlSocket's fault site): start receiving on IPv4, one datagram from
/// an external client through a pended receive request, stop; then the echo responder.
fn receive_workload(rig: &Rig, delivery: Delivery) {
    if !check(
        "start receiving",
        set_mode(rig, ReceiveMode::Receive, delivery),
    ) {
        return;
    }
    if let Some((client, to)) = client_and_target(rig) {
        client.send_to(b"in", to).expect("send");
        let request = ReceiveRequest { family: Family::V4 }.encode();
        let result = rig.ioctl(IOCTL_WSK_SAMPLE_RECEIVE, &request, 100);
        if check("receive", result.status) {
            let (_, data) = ReceiveReply::decode(&result.output).expect("reply");
            assert_eq!(data, b"in", "the datagram received");
        }
    }
    check("stop receiving", set_mode(rig, ReceiveMode::Off, delivery));
    // The echo responder: one datagram back to its sender, or counted as not echoed when the
    // fault lands on the echo's send.
    if !check("start echoing", set_mode(rig, ReceiveMode::Echo, delivery)) {
        return;
    }
    if let Some((client, to)) = client_and_target(rig) {
        let before = rig.receive_stats();
        client.send_to(b"echo", to).expect("send");
        let after = await_echo_outcome(rig, &before);
        if after.echoed > before.echoed {
            // The driver's send completed: the datagram is on its way (or already here).
            let mut buffer = [0u8; 16];
            let (n, _) = client
                .recv_from(&mut buffer)
                .expect("the echo the driver counted");
            assert_eq!(&buffer[..n], b"echo");
        }
    }
    check("stop echoing", set_mode(rig, ReceiveMode::Off, delivery));
}

/// Waits until the driver's receive statistics account for one more datagram: echoed, dropped
/// as not echoed, or lost to a receive error. Returns those statistics.
fn await_echo_outcome(rig: &Rig, before: &ReceiveStats) -> ReceiveStats {
    let outcomes = |s: &ReceiveStats| s.echoed + s.dropped_echo + s.receive_errors;
    let deadline = Instant::now() + ACCOUNTED_WITHIN;
    loop {
        let now = rig.receive_stats();
        if outcomes(&now) > outcomes(before) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the echoed datagram was never accounted for: before {before:?}, now {now:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Receives the `count` datagrams the driver reported sent to `receiver`, then sends one more
/// and insists it is the next to arrive: a datagram sent though reported failed would be read
/// first. Loopback delivers a socket's datagrams in order.
fn receive_exactly(rig: &Rig, receiver: &Receiver, count: usize, what: &str) {
    for i in 0..count {
        let mut buffer = [0u8; 2048];
        if let Err(error) = receiver.socket.recv(&mut buffer) {
            panic!(
                "{what}: datagram {} of {count} reported sent never arrived: {error}",
                i + 1
            );
        }
    }
    // The fault fires once: if it lands on this send, the send fails clearly and the retry
    // succeeds.
    if !check(
        "send after the workload",
        rig.send(receiver.address(), b"after").status,
    ) {
        rig.send_ok(receiver.address(), b"after");
    }
    assert_eq!(
        receiver.receive().0,
        b"after",
        "{what}: more datagrams arrived than were reported sent"
    );
}

/// Calls each site sees in a fault-free run of the workload and unload, counted once per test
/// process.
fn baseline() -> &'static BTreeMap<String, u64> {
    static CALLS: OnceLock<BTreeMap<String, u64>> = OnceLock::new();
    CALLS.get_or_init(|| {
        // A fault that never fires turns the per-site counters on.
        let counting = FaultSite::ALL
            .iter()
            .map(|&site| Fault {
                site,
                nth: u64::MAX,
                status: 0,
            })
            .collect();
        let rig = Rig::with(KernelConfig {
            faults: counting,
            ..KernelConfig::default()
        });
        let (v4, v6) = (Receiver::v4(), Receiver::v6());
        workload(&rig, &v4, &v6);
        // Unload's own calls (the closes) count too.
        let kernel = rig.close();
        let report = kernel.unload();
        assert!(report.is_clean(), "baseline: {report}");
        FaultSite::ALL
            .iter()
            .map(|&site| (format!("{site:?}"), kernel.site_calls(site)))
            .collect()
    })
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
    let rig = match Rig::load(config, IoMode::Overlapped) {
        Ok(rig) => rig,
        Err(failed) => {
            let LoadFailed { error, kernel } = *failed;
            // The fault hit load itself: DriverEntry or device add failed with a clear status
            // and left nothing behind.
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
    };
    let (v4, v6) = (Receiver::v4(), Receiver::v6());
    let expected = workload(&rig, &v4, &v6);
    // The driver's own count agrees with the replies: every request has completed, so nothing
    // is left to finish later.
    let stats = rig.stats();
    assert_eq!(
        stats.datagrams_sent,
        (expected.v4 + expected.v6) as u64,
        "{site:?} #{nth}: datagrams the driver counted sent vs the replies"
    );
    receive_exactly(&rig, &v4, expected.v4, &format!("{site:?} #{nth}: IPv4"));
    receive_exactly(&rig, &v6, expected.v6, &format!("{site:?} #{nth}: IPv6"));
    // Nothing lost inside the driver either: every slot is back, nothing is in flight.
    let stats = rig.stats();
    assert_eq!(
        stats.pool_free, stats.pool_slots,
        "{site:?} #{nth}: send slots lost"
    );
    assert_eq!(
        stats.in_flight, 0,
        "{site:?} #{nth}: sends still counted in flight"
    );
    let report = rig.unload();
    assert!(report.is_clean(), "{site:?} #{nth}: {report}");
}

/// Fails every call at `site` in turn, each in a fresh kernel.
fn sweep(site: FaultSite) {
    let calls = baseline()[&format!("{site:?}")];
    assert!(calls > 0, "{site:?} is never reached by the workload");
    for nth in 1..=calls {
        run_with_fault(site, nth);
    }
    eprintln!("fault sweep: {site:?}: {calls} call(s), each failed once: clean");
}

/// One `#[test]` per fault site, and [`SWEPT`], the sites they sweep.
macro_rules! sweep_tests {
    ($($test:ident: $site:ident,)*) => {
        $(
            #[test]
            fn $test() {
                sweep(FaultSite::$site);
            }
        )*
        const SWEPT: &[FaultSite] = &[$(FaultSite::$site),*];
    };
}

sweep_tests! {
    pool_allocate: PoolAllocate,
    irp_allocate: IrpAllocate,
    mdl_allocate: MdlAllocate,
    wsk_register: WskRegister,
    wsk_capture: WskCapture,
    wsk_socket: WskSocket,
    wsk_bind: WskBind,
    wsk_control: WskControl,
    wsk_send_to: WskSendTo,
    wsk_send_messages: WskSendMessages,
    wsk_get_local_address: WskGetLocalAddress,
    wsk_close: WskClose,
    wsk_receive_from: WskReceiveFrom,
    completion_context: CompletionContext,
}

#[test]
fn every_fault_site_has_its_test() {
    let missing: Vec<_> = FaultSite::ALL
        .iter()
        .filter(|site| !SWEPT.contains(site))
        .collect();
    assert!(
        missing.is_empty(),
        "fault sites without a sweep test (add them to sweep_tests!): {missing:?}"
    );
}
