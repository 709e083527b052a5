//! The 32-byte wire address, address families and destinations.

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::error::*;
use crate::layout::*;

// ---------------------------------------------------------------------------
// Wire address
// ---------------------------------------------------------------------------

/// Encodes `addr` (or "no address" for `None`) into its 32-byte wire form.
///
/// Always writes all 32 bytes, so stale buffer contents never leak into the
/// reserved or unused fields.
pub fn encode_address(addr: Option<SocketAddr>, out: &mut [u8; WIRE_ADDRESS_SIZE]) {
    *out = [0; WIRE_ADDRESS_SIZE];
    match addr {
        None => {}
        Some(SocketAddr::V4(v4)) => {
            put_u16::<A_FAMILY, WIRE_ADDRESS_SIZE>(out, WIRE_AF_INET);
            put_u16::<A_PORT, WIRE_ADDRESS_SIZE>(out, v4.port());
            put::<A_ADDRESS, 4, WIRE_ADDRESS_SIZE>(out, v4.ip().octets());
        }
        Some(SocketAddr::V6(v6)) => {
            put_u16::<A_FAMILY, WIRE_ADDRESS_SIZE>(out, WIRE_AF_INET6);
            put_u16::<A_PORT, WIRE_ADDRESS_SIZE>(out, v6.port());
            put_u32::<A_FLOW_INFO, WIRE_ADDRESS_SIZE>(out, v6.flowinfo());
            put_u32::<A_SCOPE_ID, WIRE_ADDRESS_SIZE>(out, v6.scope_id());
            put::<A_ADDRESS, 16, WIRE_ADDRESS_SIZE>(out, v6.ip().octets());
        }
    }
}

/// Decodes a destination address; port 0 is refused with [`AbiError::PortZero`]
/// because a datagram cannot be sent to it.
///
/// Checks, in order: family ([`AbiError::BadFamily`]), the reserved field
/// ([`AbiError::ReservedNotZero`]), bytes the family does not use
/// ([`AbiError::BadAddress`]), then the port. Address values themselves
/// (unspecified, broadcast, multicast) are left to the transport.
pub fn decode_address(bytes: &[u8; WIRE_ADDRESS_SIZE]) -> Result<Option<SocketAddr>, AbiError> {
    decode_wire(bytes, false)
}

/// Decodes a local (bind) address, where port 0 means "any ephemeral port".
pub fn decode_bind_address(
    bytes: &[u8; WIRE_ADDRESS_SIZE],
) -> Result<Option<SocketAddr>, AbiError> {
    decode_wire(bytes, true)
}

pub(crate) fn decode_wire(
    bytes: &[u8; WIRE_ADDRESS_SIZE],
    allow_port_zero: bool,
) -> Result<Option<SocketAddr>, AbiError> {
    const L: usize = WIRE_ADDRESS_SIZE;
    let family = get_u16::<A_FAMILY, L>(bytes);
    let port = get_u16::<A_PORT, L>(bytes);
    let flow_info = get_u32::<A_FLOW_INFO, L>(bytes);
    let scope_id = get_u32::<A_SCOPE_ID, L>(bytes);
    let reserved = get_u32::<A_RESERVED, L>(bytes);
    let octets = take::<A_ADDRESS, 16, L>(bytes);

    if !matches!(family, WIRE_AF_UNSPEC | WIRE_AF_INET | WIRE_AF_INET6) {
        return Err(AbiError::BadFamily);
    }
    if reserved != 0 {
        return Err(AbiError::ReservedNotZero);
    }
    let addr = match family {
        WIRE_AF_INET => {
            let [a, b, c, d, rest @ ..] = octets;
            if flow_info != 0 || scope_id != 0 || rest != [0; 12] {
                return Err(AbiError::BadAddress);
            }
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port))
        }
        WIRE_AF_INET6 => SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(octets),
            port,
            flow_info,
            scope_id,
        )),
        _ => {
            // "No address": the port, flow info, scope and octets must be zero too.
            return if port != 0 || flow_info != 0 || scope_id != 0 || octets != [0; 16] {
                Err(AbiError::BadAddress)
            } else {
                Ok(None)
            };
        }
    };
    if port == 0 && !allow_port_zero {
        return Err(AbiError::PortZero);
    }
    Ok(Some(addr))
}

/// The largest payload a datagram to `destination` may carry. With no
/// destination the IPv6 limit applies; the driver rechecks against the
/// family of its fixed destination.
pub const fn max_payload_for(destination: Option<SocketAddr>) -> usize {
    match destination {
        Some(SocketAddr::V4(_)) => MAX_UDP_PAYLOAD_V4,
        Some(SocketAddr::V6(_)) | None => MAX_UDP_PAYLOAD_V6,
    }
}

// ---------------------------------------------------------------------------
// Families and destinations
// ---------------------------------------------------------------------------

/// The two address families the driver keeps a socket for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (wire value 2).
    V4,
    /// IPv6 (wire value 23).
    V6,
}

impl Family {
    /// The family of an address.
    pub const fn of(address: &SocketAddr) -> Family {
        match address {
            SocketAddr::V4(_) => Family::V4,
            SocketAddr::V6(_) => Family::V6,
        }
    }

    /// The Windows AF value used on the wire.
    pub const fn wire(self) -> u16 {
        match self {
            Family::V4 => WIRE_AF_INET,
            Family::V6 => WIRE_AF_INET6,
        }
    }

    /// The family with this wire value, if any.
    pub const fn from_wire(value: u16) -> Option<Family> {
        match value {
            WIRE_AF_INET => Some(Family::V4),
            WIRE_AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    /// The largest UDP payload of this family.
    pub const fn max_payload(self) -> usize {
        match self {
            Family::V4 => MAX_UDP_PAYLOAD_V4,
            Family::V6 => MAX_UDP_PAYLOAD_V6,
        }
    }
}

/// Where a send goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// This address (it overrides a fixed destination for this datagram).
    Address(SocketAddr),
    /// The fixed destination configured on this family's socket.
    Fixed(Family),
}

impl Destination {
    /// The family of the socket the datagram leaves from.
    pub const fn family(&self) -> Family {
        match self {
            Destination::Address(address) => Family::of(address),
            Destination::Fixed(family) => *family,
        }
    }
}

/// A fixed destination set on a socket, as the stats report it. In JSON (feature `serde`):
/// `{"kind": "remote" | "send_to", "address": "…"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "kind", content = "address", rename_all = "snake_case")
)]
pub enum FixedDestination {
    /// Set with SIO_WSK_SET_REMOTE_ADDRESS (sends go there; only its datagrams are received).
    Remote(SocketAddr),
    /// Set with SIO_WSK_SET_SENDTO_ADDRESS (sends go there; anyone may send to the socket).
    SendTo(SocketAddr),
}

impl FixedDestination {
    /// The address.
    pub const fn address(&self) -> SocketAddr {
        match self {
            FixedDestination::Remote(a) | FixedDestination::SendTo(a) => *a,
        }
    }

    pub(crate) const fn kind(this: Option<FixedDestination>) -> u32 {
        match this {
            None => 0,
            Some(FixedDestination::Remote(_)) => 1,
            Some(FixedDestination::SendTo(_)) => 2,
        }
    }

    pub(crate) fn from_wire(
        kind: u32,
        address: Option<SocketAddr>,
    ) -> Result<Option<Self>, AbiError> {
        match (kind, address) {
            (0, None) => Ok(None),
            (1, Some(a)) => Ok(Some(FixedDestination::Remote(a))),
            (2, Some(a)) => Ok(Some(FixedDestination::SendTo(a))),
            (0..=2, _) => Err(AbiError::BadAddress),
            _ => Err(AbiError::UnknownAction),
        }
    }
}
