//! Addresses as WSK takes them: [`SockAddrStorage`], a SOCKADDR_IN or SOCKADDR_IN6 in driver
//! memory, and [`Family`], the two address families the driver keeps a socket for.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::abi::*;

/// A SOCKADDR_IN or SOCKADDR_IN6 in storage large enough for either, kept in driver memory
/// because WSK reads it when the call starts and the completion may come later.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct SockAddrStorage {
    bytes: [u8; 32],
}

impl SockAddrStorage {
    pub const ZERO: SockAddrStorage = SockAddrStorage { bytes: [0; 32] };

    pub fn from_socket_addr(address: SocketAddr) -> Self {
        let mut storage = Self::ZERO;
        storage.set(address);
        storage
    }

    pub fn set(&mut self, address: SocketAddr) {
        self.bytes = [0; 32];
        match address {
            SocketAddr::V4(v4) => {
                self.bytes[0..2].copy_from_slice(&AF_INET.to_le_bytes());
                self.bytes[2..4].copy_from_slice(&v4.port().to_be_bytes());
                self.bytes[4..8].copy_from_slice(&v4.ip().octets());
            }
            SocketAddr::V6(v6) => {
                self.bytes[0..2].copy_from_slice(&AF_INET6.to_le_bytes());
                self.bytes[2..4].copy_from_slice(&v6.port().to_be_bytes());
                self.bytes[4..8].copy_from_slice(&v6.flowinfo().to_le_bytes());
                self.bytes[8..24].copy_from_slice(&v6.ip().octets());
                self.bytes[24..28].copy_from_slice(&v6.scope_id().to_le_bytes());
            }
        }
    }

    /// The wildcard address of `family` with port 0 (ephemeral).
    pub fn wildcard(family: Family) -> Self {
        Self::from_socket_addr(match family {
            Family::V4 => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            Family::V6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        })
    }

    /// `N` bytes at `at` (zeros if out of range, which the constant offsets below never are).
    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        self.bytes
            .get(at..at + N)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; N])
    }

    /// Decodes what WskGetLocalAddress wrote.
    pub fn to_socket_addr(self) -> Option<SocketAddr> {
        let family = u16::from_le_bytes(self.field(0));
        let port = u16::from_be_bytes(self.field(2));
        match family {
            AF_INET => {
                let ip = Ipv4Addr::from(self.field::<4>(4));
                Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
            }
            AF_INET6 => {
                let ip = Ipv6Addr::from(self.field::<16>(8));
                let (flow, scope) = (
                    u32::from_le_bytes(self.field(4)),
                    u32::from_le_bytes(self.field(24)),
                );
                Some(SocketAddr::V6(SocketAddrV6::new(ip, port, flow, scope)))
            }
            _ => None,
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut SOCKADDR {
        (self as *mut Self).cast()
    }
}

/// The two address families the driver keeps a socket for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl core::fmt::Display for Family {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

impl Family {
    pub fn af(self) -> u16 {
        match self {
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
        }
    }
}

impl From<wsk_sample_ioctl::Family> for Family {
    fn from(family: wsk_sample_ioctl::Family) -> Family {
        match family {
            wsk_sample_ioctl::Family::V4 => Family::V4,
            wsk_sample_ioctl::Family::V6 => Family::V6,
        }
    }
}

impl SockAddrStorage {
    /// Bytes of the SOCKADDR for the stored family (what WSK is told the input size is).
    pub fn len(&self) -> usize {
        match u16::from_le_bytes([self.bytes[0], self.bytes[1]]) {
            AF_INET => size_of::<SOCKADDR_IN>(),
            _ => size_of::<SOCKADDR_IN6>(),
        }
    }
}
