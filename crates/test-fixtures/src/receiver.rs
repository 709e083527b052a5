//! A UDP receiver on loopback.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// How long [`Receiver::receive`] waits for a datagram that must arrive. Only a failing test
/// waits this long.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A loopback address on `host` ("127.0.0.1" or "::1") with a port free right now, for the
/// driver to bind.
pub fn free_port(host: &str) -> SocketAddr {
    UdpSocket::bind((host, 0))
        .and_then(|s| s.local_addr())
        .expect("a free port")
}

/// A UDP receiver on loopback with a large buffer, so a burst is not dropped.
pub struct Receiver {
    /// The socket, for tests that need more than the helpers below.
    pub socket: UdpSocket,
}

impl Receiver {
    /// On 127.0.0.1, any port.
    pub fn v4() -> Receiver {
        Receiver::bind("127.0.0.1:0")
    }

    /// On ::1, any port.
    pub fn v6() -> Receiver {
        Receiver::bind("[::1]:0")
    }

    fn bind(address: &str) -> Receiver {
        let socket = UdpSocket::bind(address).expect("bind a loopback receiver");
        socket
            .set_read_timeout(Some(RECEIVE_TIMEOUT))
            .expect("set a timeout");
        // Best effort: the host may cap it (net.core.rmem_max).
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(8 << 20);
        Receiver { socket }
    }

    /// The address to send to.
    pub fn address(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }

    /// [`Receiver::address`] as a command-line argument.
    pub fn target(&self) -> String {
        self.address().to_string()
    }

    /// Receives one datagram, or panics after [`RECEIVE_TIMEOUT`].
    pub fn receive(&self) -> (Vec<u8>, SocketAddr) {
        let mut buffer = vec![0u8; 70_000];
        let (length, from) = self
            .socket
            .recv_from(&mut buffer)
            .expect("a datagram arrives");
        buffer.truncate(length);
        (buffer, from)
    }

    /// Asserts nothing more arrives within a short wait.
    pub fn assert_nothing_more(&self) {
        assert!(
            self.drain(Duration::from_millis(200)).is_empty(),
            "an unexpected datagram arrived"
        );
    }

    /// Everything that arrives until the socket has been quiet for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<Vec<u8>> {
        self.socket
            .set_read_timeout(Some(quiet))
            .expect("set a timeout");
        let mut datagrams = Vec::new();
        let mut buffer = vec![0u8; 70_000];
        while let Ok(length) = self.socket.recv(&mut buffer) {
            datagrams.push(buffer[..length].to_vec());
        }
        self.socket
            .set_read_timeout(Some(RECEIVE_TIMEOUT))
            .expect("set a timeout");
        datagrams
    }
}
