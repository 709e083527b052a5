//! SOCKADDR (Windows values) ↔ host socket addresses.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::abi::*;

/// Reads a Windows SOCKADDR_IN / SOCKADDR_IN6.
///
/// # Safety
/// `address` must point to at least a SOCKADDR_IN6's worth of readable memory when its family
/// is AF_INET6, and a SOCKADDR_IN's when AF_INET.
pub(crate) unsafe fn read(address: *const SOCKADDR) -> Option<SocketAddr> {
    // SAFETY: the caller guarantees the family field is readable.
    let family = unsafe { (*address).sa_family };
    match family {
        AF_INET => {
            // SAFETY: an AF_INET address is a SOCKADDR_IN (caller's guarantee).
            let v4 = unsafe { address.cast::<SOCKADDR_IN>().read_unaligned() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(v4.sin_addr),
                u16::from_be(v4.sin_port),
            )))
        }
        AF_INET6 => {
            // SAFETY: an AF_INET6 address is a SOCKADDR_IN6 (caller's guarantee).
            let v6 = unsafe { address.cast::<SOCKADDR_IN6>().read_unaligned() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(v6.sin6_addr),
                u16::from_be(v6.sin6_port),
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Writes a Windows SOCKADDR for `address`.
///
/// # Safety
/// `out` must have room for the SOCKADDR of the address's family.
pub(crate) unsafe fn write(address: SocketAddr, out: *mut SOCKADDR) {
    match address {
        SocketAddr::V4(v4) => {
            let raw = SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: v4.port().to_be(),
                sin_addr: v4.ip().octets(),
                sin_zero: [0; 8],
            };
            // SAFETY: the caller guarantees room for a SOCKADDR_IN.
            unsafe { out.cast::<SOCKADDR_IN>().write_unaligned(raw) };
        }
        SocketAddr::V6(v6) => {
            let raw = SOCKADDR_IN6 {
                sin6_family: AF_INET6,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: v6.ip().octets(),
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: the caller guarantees room for a SOCKADDR_IN6.
            unsafe { out.cast::<SOCKADDR_IN6>().write_unaligned(raw) };
        }
    }
}

pub(crate) fn family_of(address: &SocketAddr) -> u16 {
    if address.is_ipv4() { AF_INET } else { AF_INET6 }
}

pub(crate) fn family_name(family: u16) -> &'static str {
    match family {
        AF_INET => "AF_INET",
        AF_INET6 => "AF_INET6",
        _ => "an unknown family",
    }
}
