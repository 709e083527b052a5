//! Self-tests of the model's receive side (issue 14): WskReceiveFrom with posted IRPs, done
//! right (the datagram, its source and MSG_TRUNC as Learn's PFN_WSK_RECEIVE_FROM page
//! describes them; posted receives cancelled by WskCloseSocket as PFN_WSK_CLOSE_SOCKET says),
//! and broken (a receive on an unbound socket, Flags not zero).

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::time::Duration;

use libtest_mimic::Failed;
use wdk_model::harness::{Kernel, Report};
use wdk_model::wsk::abi::*;
use wdk_model::*;

use crate::common::*;

pub type Check = fn() -> Result<(), Failed>;

/// A receive's outputs, kept alive until its IRP completes.
struct Posted {
    outcome: Box<Outcome>,
    buffer: PoolBuffer,
    remote: Box<[u8; 28]>,
    control_length: Box<u32>,
    control_flags: Box<u32>,
}

impl Posted {
    fn bytes(&self) -> Vec<u8> {
        let n = self.outcome.information.load(Ordering::SeqCst) as usize;
        // SAFETY: the buffer holds at least Information bytes (the IRP completed).
        unsafe { std::slice::from_raw_parts(self.buffer.memory.cast::<u8>(), n) }.to_vec()
    }

    fn status(&self) -> NTSTATUS {
        self.outcome.status.load(Ordering::SeqCst)
    }
}

/// WskReceiveFrom into a fresh `size`-byte buffer.
fn post(socket: *mut WSK_SOCKET, size: usize, flags: u32) -> Posted {
    let mut posted = Posted {
        outcome: Box::default(),
        buffer: PoolBuffer::new(&vec![0u8; size]),
        remote: Box::new([0; 28]),
        control_length: Box::new(0xFFFF),
        control_flags: Box::new(0xFFFF),
    };
    let irp = irp(free_and_stop, &posted.outcome);
    // SAFETY: a live socket; every output lives in `posted`, kept until completion.
    let status = unsafe {
        dispatch(socket).WskReceiveFrom.expect("WskReceiveFrom")(
            socket,
            &mut posted.buffer.wsk_buf,
            flags,
            posted.remote.as_mut_ptr().cast(),
            &mut *posted.control_length,
            std::ptr::null_mut(),
            &mut *posted.control_flags,
            irp,
        )
    };
    assert!(
        status == STATUS_PENDING || status < 0,
        "WskReceiveFrom returned {status:#x}"
    );
    posted
}

/// A free loopback port (taken from the host and released).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("port")
        .port()
}

fn sender() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind")
}

fn kernel() -> Kernel {
    Kernel::boot(KernelConfig::default())
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected a clean report:\n{report}");
}

fn a_posted_receive_gets_the_datagram_and_its_source() -> Result<(), Failed> {
    let kernel = kernel();
    let from = sender();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let port = free_port();
        client.bind(socket, &format!("127.0.0.1:{port}"));
        let posted = post(socket, 100, 0);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            posted.outcome.calls.load(Ordering::SeqCst),
            0,
            "completed with no datagram"
        );
        from.send_to(b"hello, kernel", ("127.0.0.1", port))
            .expect("send");
        wait(&posted.outcome);
        assert_eq!(posted.status(), STATUS_SUCCESS);
        assert_eq!(posted.bytes(), b"hello, kernel");
        assert_eq!(
            posted.remote[..],
            sockaddr(from.local_addr().expect("address"))[..],
            "RemoteAddress is the sender's"
        );
        assert_eq!(*posted.control_length, 0, "no control information");
        assert_eq!(*posted.control_flags, 0, "not truncated");
        posted.buffer.free();
        client.close(socket);
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn a_datagram_larger_than_the_buffer_is_truncated_with_msg_trunc() -> Result<(), Failed> {
    let kernel = kernel();
    let from = sender();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let port = free_port();
        client.bind(socket, &format!("127.0.0.1:{port}"));
        let posted = post(socket, 4, 0);
        from.send_to(b"0123456789", ("127.0.0.1", port))
            .expect("send");
        wait(&posted.outcome);
        assert_eq!(posted.status(), STATUS_SUCCESS);
        assert_eq!(posted.bytes(), b"0123");
        assert_eq!(*posted.control_flags, MSG_TRUNC);
        posted.buffer.free();
        client.close(socket);
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn posted_receives_are_cancelled_when_the_socket_closes() -> Result<(), Failed> {
    let kernel = kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET6);
        client.bind(socket, "[::1]:0");
        let first = post(socket, 64, 0);
        let second = post(socket, 64, 0);
        client.close(socket);
        for posted in [first, second] {
            assert_eq!(posted.outcome.calls.load(Ordering::SeqCst), 1);
            assert_eq!(posted.status(), STATUS_CANCELLED);
            posted.buffer.free();
        }
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn datagrams_from_other_sources_are_filtered_by_the_remote_address() -> Result<(), Failed> {
    let kernel = kernel();
    let (allowed, other) = (sender(), sender());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let port = free_port();
        client.bind(socket, &format!("127.0.0.1:{port}"));
        set_remote(&client, socket, allowed.local_addr().ok());
        let posted = post(socket, 64, 0);
        other
            .send_to(b"not for you", ("127.0.0.1", port))
            .expect("send");
        allowed
            .send_to(b"for you", ("127.0.0.1", port))
            .expect("send");
        wait(&posted.outcome);
        assert_eq!(posted.bytes(), b"for you");
        posted.buffer.free();
        client.close(socket);
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn set_remote(client: &Client, socket: *mut WSK_SOCKET, address: Option<SocketAddr>) {
    let _ = client;
    let outcome = Outcome::default();
    let mut raw = address.map(sockaddr);
    let (length, input): (u64, *mut u8) = match raw.as_mut() {
        Some(raw) if raw[0] == AF_INET as u8 => (16, raw.as_mut_ptr()),
        Some(raw) => (28, raw.as_mut_ptr()),
        None => (0, std::ptr::null_mut()),
    };
    // SAFETY: a live socket; the input outlives the completion (waited for below).
    unsafe {
        dispatch(socket).WskControlSocket.expect("control")(
            socket,
            WSK_IOCTL,
            SIO_WSK_SET_REMOTE_ADDRESS,
            0,
            length,
            input.cast::<core::ffi::c_void>(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            irp(free_and_stop, &outcome),
        )
    };
    wait(&outcome);
    assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
}

/// Behaviour this file checks that breaks no rule.
pub fn checks() -> Vec<(&'static str, Check)> {
    vec![
        (
            "a_posted_receive_gets_the_datagram_and_its_source",
            a_posted_receive_gets_the_datagram_and_its_source,
        ),
        (
            "a_datagram_larger_than_the_buffer_is_truncated_with_msg_trunc",
            a_datagram_larger_than_the_buffer_is_truncated_with_msg_trunc,
        ),
        (
            "posted_receives_are_cancelled_when_the_socket_closes",
            posted_receives_are_cancelled_when_the_socket_closes,
        ),
        (
            "datagrams_from_other_sources_are_filtered_by_the_remote_address",
            datagrams_from_other_sources_are_filtered_by_the_remote_address,
        ),
    ]
}

fn a_receive_on_an_unbound_socket() -> Report {
    let kernel = kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let posted = post(socket, 16, 0);
        wait(&posted.outcome);
        posted.buffer.free();
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn a_receive_with_flags() -> Report {
    let kernel = kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let posted = post(socket, 16, 0x1);
        wait(&posted.outcome);
        posted.buffer.free();
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

/// The receive side's broken clients.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::WSK_NOT_BOUND,
            name: "receives_on_a_socket_never_bound",
            also: &[],
            run: a_receive_on_an_unbound_socket,
        },
        Case {
            rule: rules::WSK_FLAGS_NOT_ZERO,
            name: "receives_with_reserved_flags_set",
            also: &[],
            run: a_receive_with_flags,
        },
    ]
}
