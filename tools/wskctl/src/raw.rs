//! A user-mode UDP sender on the host's own socket API: the yardstick `bench` holds the driver
//! against. A `send_to` loop everywhere, and `sendmmsg` batches on Linux (Winsock has no
//! equivalent).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether this host has `sendmmsg`.
pub const HAS_SENDMMSG: bool = cfg!(target_os = "linux");

/// What a raw run did.
#[derive(Clone, Debug, Default)]
pub struct RawTally {
    pub sent: u64,
    pub failed: u64,
    pub bytes: u64,
    /// System calls made.
    pub calls: u64,
    pub elapsed: Duration,
    pub first_error: Option<String>,
    pub interrupted: bool,
}

impl RawTally {
    fn fail(&mut self, count: u64, error: &io::Error) {
        self.failed += count;
        self.first_error.get_or_insert_with(|| error.to_string());
    }
}

/// A UDP socket bound to the wildcard address of `destination`'s family, as the driver's
/// sockets are.
pub fn sender_for(destination: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = if destination.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    UdpSocket::bind(local)
}

/// Sends `payload` to `to` `count` times, one `send_to` call each.
pub fn send_to_loop(
    socket: &UdpSocket,
    to: SocketAddr,
    payload: &[u8],
    count: u64,
    stop: &AtomicBool,
) -> RawTally {
    let mut tally = RawTally::default();
    let started = Instant::now();
    for _ in 0..count {
        if stop.load(Ordering::Relaxed) {
            tally.interrupted = true;
            break;
        }
        tally.calls += 1;
        match socket.send_to(payload, to) {
            Ok(bytes) => {
                tally.sent += 1;
                tally.bytes += bytes as u64;
            }
            Err(error) => tally.fail(1, &error),
        }
    }
    tally.elapsed = started.elapsed();
    tally
}

/// Sends `payload` to `to` `count` times with `sendmmsg`, up to `batch` datagrams per call.
#[cfg(target_os = "linux")]
pub fn sendmmsg_loop(
    socket: &UdpSocket,
    to: SocketAddr,
    payload: &[u8],
    count: u64,
    batch: usize,
    stop: &AtomicBool,
) -> RawTally {
    use std::os::fd::AsRawFd;

    let batch = batch.max(1);
    let target = socket2::SockAddr::from(to);
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr().cast_mut().cast(),
        iov_len: payload.len(),
    };
    let iov_ptr: *mut libc::iovec = &mut iov;
    let mut headers: Vec<libc::mmsghdr> = (0..batch)
        .map(|_| {
            // SAFETY: an all-zero mmsghdr is a valid value (null pointers, zero lengths); the
            // fields that matter are set right below.
            let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
            header.msg_hdr.msg_name = target.as_ptr().cast_mut().cast();
            header.msg_hdr.msg_namelen = target.len();
            header.msg_hdr.msg_iov = iov_ptr;
            header.msg_hdr.msg_iovlen = 1;
            header
        })
        .collect();
    let mut tally = RawTally::default();
    let started = Instant::now();
    let mut done = 0u64;
    while done < count {
        if stop.load(Ordering::Relaxed) {
            tally.interrupted = true;
            break;
        }
        let wanted = usize::try_from(count - done).map_or(batch, |left| left.min(batch));
        let Some(chunk) = headers.get_mut(..wanted) else {
            break;
        };
        tally.calls += 1;
        // SAFETY: every header points at `target` (a valid socket address of `target.len()`
        // bytes) and at `iov`, which describes `payload`; all of them outlive the call, and the
        // kernel only reads them (it writes each header's msg_len, which `chunk` allows).
        let sent = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
                chunk.as_mut_ptr(),
                wanted as libc::c_uint,
                0,
            )
        };
        if sent < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            // The first datagram of the call failed: count it and go on with the rest.
            tally.fail(1, &error);
            done += 1;
            continue;
        }
        let sent = sent as usize;
        tally.sent += sent as u64;
        tally.bytes += chunk
            .get(..sent)
            .unwrap_or(&[])
            .iter()
            .map(|h| u64::from(h.msg_len))
            .sum::<u64>();
        done += sent as u64;
    }
    tally.elapsed = started.elapsed();
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(4 << 20);
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap_or_else(|e| panic!("{e}"));
        let address = socket.local_addr().unwrap_or_else(|e| panic!("{e}"));
        (socket, address)
    }

    fn drain(socket: &UdpSocket) -> Vec<Vec<u8>> {
        let mut buffer = [0u8; 2048];
        let mut out = Vec::new();
        while let Ok(length) = socket.recv(&mut buffer) {
            out.push(buffer[..length].to_vec());
        }
        out
    }

    #[test]
    fn the_send_to_loop_sends_every_datagram() {
        let (socket, address) = receiver();
        let sender = sender_for(address).unwrap_or_else(|e| panic!("{e}"));
        let tally = send_to_loop(&sender, address, b"abc", 20, &AtomicBool::new(false));
        assert_eq!(
            (tally.sent, tally.bytes, tally.calls, tally.failed),
            (20, 60, 20, 0)
        );
        assert_eq!(drain(&socket), vec![b"abc".to_vec(); 20]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sendmmsg_sends_in_batches() {
        let (socket, address) = receiver();
        let sender = sender_for(address).unwrap_or_else(|e| panic!("{e}"));
        let tally = sendmmsg_loop(&sender, address, b"wxyz", 50, 16, &AtomicBool::new(false));
        assert_eq!(
            (tally.sent, tally.bytes, tally.calls, tally.failed),
            (50, 200, 4, 0)
        );
        assert_eq!(drain(&socket), vec![b"wxyz".to_vec(); 50]);
    }
}
