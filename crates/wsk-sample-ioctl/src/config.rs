//! The configure request.

use core::net::SocketAddr;

use crate::address::*;
use crate::error::*;
use crate::layout::*;

// ---------------------------------------------------------------------------
// Configure request
// ---------------------------------------------------------------------------

/// What an `IOCTL_WSK_SAMPLE_CONFIGURE` request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigAction {
    /// Bind the family's socket to this local address (recreating the socket if it exists).
    Bind(SocketAddr),
    /// Set a fixed remote address (SIO_WSK_SET_REMOTE_ADDRESS).
    FixedRemote(SocketAddr),
    /// Set a fixed send-to address (SIO_WSK_SET_SENDTO_ADDRESS).
    FixedSendTo(SocketAddr),
    /// Clear the family's fixed address.
    ClearFixed(Family),
    /// Rebuild the send pool with this many slots (refused while sends are in flight).
    PoolSlots(u32),
}

impl ConfigAction {
    /// The family of the socket the action applies to (`None` for driver-wide actions).
    pub const fn family(&self) -> Option<Family> {
        match self {
            ConfigAction::Bind(a) | ConfigAction::FixedRemote(a) | ConfigAction::FixedSendTo(a) => {
                Some(Family::of(a))
            }
            ConfigAction::ClearFixed(family) => Some(*family),
            ConfigAction::PoolSlots(_) => None,
        }
    }

    /// Writes the 48-byte request; refuses a destination with port 0.
    pub fn encode(&self, out: &mut [u8; CONFIG_REQUEST_SIZE]) -> Result<(), AbiError> {
        const L: usize = CONFIG_REQUEST_SIZE;
        let (action, address, value) = match *self {
            ConfigAction::Bind(a) => (1u32, Some(a), 0),
            ConfigAction::FixedRemote(a) | ConfigAction::FixedSendTo(a) if a.port() == 0 => {
                return Err(AbiError::PortZero);
            }
            ConfigAction::FixedRemote(a) => (2, Some(a), 0),
            ConfigAction::FixedSendTo(a) => (3, Some(a), 0),
            ConfigAction::ClearFixed(_) => (4, None, 0),
            ConfigAction::PoolSlots(n) if !(MIN_POOL_SLOTS..=MAX_POOL_SLOTS).contains(&n) => {
                return Err(AbiError::BadCount);
            }
            ConfigAction::PoolSlots(n) => (5, None, u64::from(n)),
        };
        *out = [0; L];
        put_u16::<C_VERSION, L>(out, ABI_VERSION);
        put_u16::<C_FAMILY, L>(out, self.family().map_or(WIRE_AF_UNSPEC, Family::wire));
        put_u32::<C_ACTION, L>(out, action);
        put_u64::<C_VALUE, L>(out, value);
        let mut wire = [0; WIRE_ADDRESS_SIZE];
        encode_address(address, &mut wire);
        put::<C_ADDRESS, WIRE_ADDRESS_SIZE, L>(out, wire);
        Ok(())
    }

    /// Decodes a configure request; `bytes` must be exactly 48 bytes long.
    ///
    /// Checks, in order: length, version, the pool-size action (family and address 0, value
    /// in range), then for socket actions: value 0, family, action, and the address (of the
    /// request's family; none for clear).
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = CONFIG_REQUEST_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<C_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        let value = get_u64::<C_VALUE, L>(bytes);
        if get_u32::<C_ACTION, L>(bytes) == 5 {
            if get_u16::<C_FAMILY, L>(bytes) != WIRE_AF_UNSPEC
                || take::<C_ADDRESS, WIRE_ADDRESS_SIZE, L>(bytes) != [0; WIRE_ADDRESS_SIZE]
            {
                return Err(AbiError::BadAddress);
            }
            return match u32::try_from(value) {
                Ok(n) if (MIN_POOL_SLOTS..=MAX_POOL_SLOTS).contains(&n) => {
                    Ok(ConfigAction::PoolSlots(n))
                }
                _ => Err(AbiError::BadCount),
            };
        }
        if value != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        let family = Family::from_wire(get_u16::<C_FAMILY, L>(bytes)).ok_or(AbiError::BadFamily)?;
        let wire = take::<C_ADDRESS, WIRE_ADDRESS_SIZE, L>(bytes);
        let of_family = |address: Option<SocketAddr>| match address {
            Some(a) if Family::of(&a) == family => Ok(a),
            _ => Err(AbiError::BadFamily),
        };
        match get_u32::<C_ACTION, L>(bytes) {
            1 => Ok(ConfigAction::Bind(of_family(decode_bind_address(&wire)?)?)),
            2 => Ok(ConfigAction::FixedRemote(of_family(decode_address(
                &wire,
            )?)?)),
            3 => Ok(ConfigAction::FixedSendTo(of_family(decode_address(
                &wire,
            )?)?)),
            4 if wire == [0; WIRE_ADDRESS_SIZE] => Ok(ConfigAction::ClearFixed(family)),
            4 => Err(AbiError::BadAddress),
            _ => Err(AbiError::UnknownAction),
        }
    }
}
