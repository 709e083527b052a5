//! Self-tests of the model's receive-event callbacks: SO_WSK_EVENT_CALLBACK, WskReceiveFromEvent
//! and WskRelease done right (the datagram and its source in the indication, the callback at
//! DISPATCH_LEVEL with WSK_FLAG_AT_DISPATCH_LEVEL, a posted WskReceiveFrom taking precedence,
//! no callback after a disable or after WskCloseSocket), and broken (an indication list
//! touched after the callback returned STATUS_SUCCESS, used after WskRelease, released twice,
//! or never released before the close).

use std::net::UdpSocket;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use wdk_model::harness::Report;
use wdk_model::ntddk::KeGetCurrentIrql;
use wdk_model::wsk::abi::*;
use wdk_model::*;

use crate::common::*;

pub type Check = fn() -> Result<(), Failed>;

/// What the test callback does with each list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Reads it and returns STATUS_SUCCESS.
    Consume,
    /// Reads it, remembers it and returns STATUS_PENDING.
    Retain,
}

/// One datagram as the callback saw it: bytes, source SOCKADDR bytes, Flags, IRQL.
type Seen = (Vec<u8>, Vec<u8>, u32, u8);

/// The test client's socket context.
struct Sink {
    keep: Keep,
    calls: AtomicU32,
    /// (bytes, source SOCKADDR bytes, flags, IRQL) of each datagram seen.
    seen: Mutex<Vec<Seen>>,
    /// The last list indicated.
    last: AtomicUsize,
}

impl Sink {
    fn new(keep: Keep) -> Box<Sink> {
        Box::new(Sink {
            keep,
            calls: AtomicU32::new(0),
            seen: Mutex::new(Vec::new()),
            last: AtomicUsize::new(0),
        })
    }

    fn wait_calls(&self, n: u32) {
        let start = Instant::now();
        while self.calls.load(Ordering::SeqCst) < n {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no WskReceiveFromEvent"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The bytes an indication's WSK_BUF describes (one MDL, mapped: the model's lists).
///
/// # Safety
/// `node` is a live indication.
unsafe fn datagram(node: *const WSK_DATAGRAM_INDICATION) -> Vec<u8> {
    // SAFETY: the caller's guarantee; the MDL is nonpaged and mapped.
    unsafe {
        let buffer = &(*node).Buffer;
        let va = (*buffer.Mdl).MappedSystemVa.cast::<u8>();
        std::slice::from_raw_parts(va.add(buffer.Offset as usize), buffer.Length as usize).to_vec()
    }
}

unsafe extern "system" fn on_receive(
    context: PVOID,
    flags: u32,
    list: *mut WSK_DATAGRAM_INDICATION,
) -> NTSTATUS {
    // SAFETY: the context is the test's Sink, alive until the socket is closed.
    let sink = unsafe { &*context.cast::<Sink>() };
    // SAFETY: reading the IRQL has no precondition.
    let irql = unsafe { KeGetCurrentIrql() };
    let mut node = list;
    while !node.is_null() {
        // SAFETY: a list the provider just indicated.
        let (bytes, source) = unsafe {
            let source = std::slice::from_raw_parts((*node).RemoteAddress.cast::<u8>(), 16);
            (datagram(node), source.to_vec())
        };
        sink.seen
            .lock()
            .expect("seen")
            .push((bytes, source, flags, irql));
        // SAFETY: as above.
        node = unsafe { (*node).Next };
    }
    sink.last.store(list as usize, Ordering::SeqCst);
    sink.calls.fetch_add(1, Ordering::SeqCst);
    match sink.keep {
        Keep::Consume => STATUS_SUCCESS,
        Keep::Retain => STATUS_PENDING,
    }
}

static DISPATCH: WSK_CLIENT_DATAGRAM_DISPATCH = WSK_CLIENT_DATAGRAM_DISPATCH {
    WskReceiveFromEvent: Some(on_receive),
};

/// A bound IPv4 socket with `sink` as its context and [`DISPATCH`], and its port.
fn event_socket(client: &Client, sink: &Sink) -> (*mut WSK_SOCKET, u16) {
    let outcome = Outcome::default();
    // SAFETY: a captured NPI and a fresh IRP; the sink outlives the socket.
    unsafe {
        let create = (*client.npi.Dispatch).WskSocket.expect("WskSocket");
        let null: *mut core::ffi::c_void = std::ptr::null_mut();
        create(
            client.npi.Client,
            AF_INET,
            SOCK_DGRAM,
            IPPROTO_UDP,
            WSK_FLAG_DATAGRAM_SOCKET,
            (sink as *const Sink).cast_mut().cast(),
            (&raw const DISPATCH).cast(),
            null.cast(),
            null.cast(),
            null,
            irp(free_and_stop, &outcome),
        );
    }
    wait(&outcome);
    assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
    let socket = outcome.information.load(Ordering::SeqCst) as *mut WSK_SOCKET;
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("port")
        .port();
    client.bind(socket, &format!("127.0.0.1:{port}"));
    (socket, port)
}

/// SO_WSK_EVENT_CALLBACK with `mask`; with `irp` for a disable, waits for it.
fn event_control(socket: *mut WSK_SOCKET, mask: u32, with_irp: bool) -> NTSTATUS {
    let control = WSK_EVENT_CALLBACK_CONTROL {
        NpiId: &NPI_WSK_INTERFACE_ID,
        EventMask: mask,
    };
    let outcome = Outcome::default();
    let irp = if with_irp {
        irp(free_and_stop, &outcome)
    } else {
        std::ptr::null_mut()
    };
    // SAFETY: a live socket; the input lives until the call (and its IRP) is done.
    let status = unsafe {
        dispatch(socket).WskControlSocket.expect("control")(
            socket,
            WSK_SET_OPTION,
            SO_WSK_EVENT_CALLBACK,
            SOL_SOCKET,
            size_of::<WSK_EVENT_CALLBACK_CONTROL>() as u64,
            (&raw const control).cast_mut().cast(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            irp,
        )
    };
    if with_irp {
        wait(&outcome);
        return outcome.status.load(Ordering::SeqCst);
    }
    status
}

fn release(socket: *mut WSK_SOCKET, list: usize) -> NTSTATUS {
    // SAFETY: a live socket; the list may be anything (the model checks it).
    unsafe {
        dispatch(socket).WskRelease.expect("WskRelease")(
            socket,
            list as *mut WSK_DATAGRAM_INDICATION,
        )
    }
}

fn sender() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind")
}

fn the_callback_gets_the_datagram_at_dispatch_level() -> Result<(), Failed> {
    let kernel = inline_kernel();
    let from = sender();
    let sink = Sink::new(Keep::Consume);
    kernel.run(|| {
        let client = Client::connect();
        let (socket, port) = event_socket(&client, &sink);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM, false),
            STATUS_SUCCESS
        );
        from.send_to(b"event!", ("127.0.0.1", port)).expect("send");
        sink.wait_calls(1);
        {
            let seen = sink.seen.lock().expect("seen");
            let (bytes, source, flags, irql) = &seen[0];
            assert_eq!(bytes, b"event!");
            assert_eq!(
                source[..],
                sockaddr(from.local_addr().expect("address"))[..16]
            );
            assert_eq!(
                *flags & WSK_FLAG_AT_DISPATCH_LEVEL,
                WSK_FLAG_AT_DISPATCH_LEVEL
            );
            assert_eq!(*irql, 2, "DISPATCH_LEVEL");
        }
        client.close(socket);
        client.disconnect();
    });
    let report = kernel.unload();
    assert_clean(&report);
    Ok(())
}

fn a_retained_list_is_readable_until_released() -> Result<(), Failed> {
    let kernel = inline_kernel();
    let from = sender();
    let sink = Sink::new(Keep::Retain);
    kernel.run(|| {
        let client = Client::connect();
        let (socket, port) = event_socket(&client, &sink);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM, false),
            STATUS_SUCCESS
        );
        from.send_to(b"kept", ("127.0.0.1", port)).expect("send");
        sink.wait_calls(1);
        let list = sink.last.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        // SAFETY: retained with STATUS_PENDING and not yet released.
        assert_eq!(unsafe { datagram(list as *const _) }, b"kept");
        assert_eq!(release(socket, list), STATUS_SUCCESS);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, true),
            STATUS_SUCCESS
        );
        client.close(socket);
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn a_posted_receive_takes_precedence_over_the_callback() -> Result<(), Failed> {
    let kernel = inline_kernel();
    let from = sender();
    let sink = Sink::new(Keep::Consume);
    kernel.run(|| {
        let client = Client::connect();
        let (socket, port) = event_socket(&client, &sink);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM, false),
            STATUS_SUCCESS
        );
        let buffer = PoolBuffer::new(&[0u8; 64]);
        let outcome = Outcome::default();
        let mut buffer = buffer;
        // SAFETY: a live bound socket; the buffer lives until completion (waited for).
        unsafe {
            dispatch(socket).WskReceiveFrom.expect("receive")(
                socket,
                &mut buffer.wsk_buf,
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                irp(free_and_stop, &outcome),
            );
        }
        from.send_to(b"to the irp", ("127.0.0.1", port))
            .expect("send");
        wait(&outcome);
        assert_eq!(outcome.information.load(Ordering::SeqCst), 10);
        from.send_to(b"to the event", ("127.0.0.1", port))
            .expect("send");
        sink.wait_calls(1);
        assert_eq!(sink.seen.lock().expect("seen")[0].0, b"to the event");
        buffer.free();
        client.close(socket);
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn no_callback_after_a_disable_or_after_the_close() -> Result<(), Failed> {
    let kernel = inline_kernel();
    let from = sender();
    let sink = Sink::new(Keep::Consume);
    kernel.run(|| {
        let client = Client::connect();
        let (socket, port) = event_socket(&client, &sink);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM, false),
            STATUS_SUCCESS
        );
        from.send_to(b"one", ("127.0.0.1", port)).expect("send");
        sink.wait_calls(1);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, true),
            STATUS_SUCCESS
        );
        from.send_to(b"two", ("127.0.0.1", port)).expect("send");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            sink.calls.load(Ordering::SeqCst),
            1,
            "a callback after the disable"
        );
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM, false),
            STATUS_SUCCESS
        );
        client.close(socket);
        for _ in 0..5 {
            from.send_to(b"three", ("127.0.0.1", port)).expect("send");
        }
        std::thread::sleep(Duration::from_millis(50));
        let calls = sink.calls.load(Ordering::SeqCst);
        // "two" may still wait in the host socket after the re-enable; nothing after the close.
        assert!(
            calls <= 2,
            "{calls} callbacks: one came after WskCloseSocket"
        );
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

/// Behaviour this file checks that breaks no rule.
pub fn checks() -> Vec<(&'static str, Check)> {
    vec![
        (
            "the_callback_gets_the_datagram_at_dispatch_level",
            the_callback_gets_the_datagram_at_dispatch_level,
        ),
        (
            "a_retained_list_is_readable_until_released",
            a_retained_list_is_readable_until_released,
        ),
        (
            "a_posted_receive_takes_precedence_over_the_callback",
            a_posted_receive_takes_precedence_over_the_callback,
        ),
        (
            "no_callback_after_a_disable_or_after_the_close",
            no_callback_after_a_disable_or_after_the_close,
        ),
    ]
}

/// Runs a client whose callback keeps `keep`, lets one datagram arrive, then `then(socket,
/// list)`, and closes. Returns the report.
fn one_indication(keep: Keep, then: fn(*mut WSK_SOCKET, usize)) -> Report {
    let kernel = inline_kernel();
    let from = sender();
    let sink = Sink::new(keep);
    kernel.run(|| {
        let client = Client::connect();
        let (socket, port) = event_socket(&client, &sink);
        assert_eq!(
            event_control(socket, WSK_EVENT_RECEIVE_FROM, false),
            STATUS_SUCCESS
        );
        from.send_to(b"indicated", ("127.0.0.1", port))
            .expect("send");
        sink.wait_calls(1);
        std::thread::sleep(Duration::from_millis(20));
        then(socket, sink.last.load(Ordering::SeqCst));
        let _ = event_control(socket, WSK_EVENT_RECEIVE_FROM | WSK_EVENT_DISABLE, true);
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn touched_after_return() {
    one_indication(Keep::Consume, |_, list| {
        // SAFETY: deliberately wrong: the callback returned STATUS_SUCCESS.
        std::hint::black_box(unsafe { datagram(list as *const _) });
    });
}

fn used_after_release() {
    one_indication(Keep::Retain, |socket, list| {
        assert_eq!(release(socket, list), STATUS_SUCCESS);
        // SAFETY: deliberately wrong: the list was released.
        std::hint::black_box(unsafe { datagram(list as *const _) });
    });
}

/// The indication lists' broken clients.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::WSK_INDICATION_TOUCHED_AFTER_RETURN,
            name: "reads_the_datagram_after_returning_status_success",
            also: &[],
            run: || {
                in_child_process(
                    "WSK_INDICATION_TOUCHED_AFTER_RETURN::reads_the_datagram_after_returning_status_success",
                    touched_after_return,
                )
            },
        },
        Case {
            rule: rules::WSK_INDICATION_USED_AFTER_RELEASE,
            name: "reads_a_retained_list_after_wsk_release",
            also: &[],
            run: || {
                in_child_process(
                    "WSK_INDICATION_USED_AFTER_RELEASE::reads_a_retained_list_after_wsk_release",
                    used_after_release,
                )
            },
        },
        Case {
            rule: rules::WSK_INDICATION_RELEASED_TWICE,
            name: "releases_a_retained_list_twice",
            also: &[],
            run: || {
                one_indication(Keep::Retain, |socket, list| {
                    assert_eq!(release(socket, list), STATUS_SUCCESS);
                    assert_eq!(release(socket, list), STATUS_INVALID_PARAMETER);
                })
            },
        },
        Case {
            rule: rules::WSK_INDICATION_NOT_RELEASED,
            name: "closes_the_socket_with_a_list_retained",
            also: &[],
            run: || one_indication(Keep::Retain, |_, _| {}),
        },
    ]
}
