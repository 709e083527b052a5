//! The statistics reply.

use core::net::SocketAddr;

use crate::address::*;
use crate::error::*;
use crate::layout::*;

// ---------------------------------------------------------------------------
// Stats reply
// ---------------------------------------------------------------------------

/// Output of `IOCTL_WSK_SAMPLE_QUERY_STATS`: the driver's counters since load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stats {
    /// Send requests received.
    pub requests: u64,
    /// Datagrams the transport completed successfully.
    pub datagrams_sent: u64,
    /// Payload bytes of those datagrams.
    pub bytes_sent: u64,
    /// Sends handed to WSK and not yet completed.
    pub in_flight: u64,
    /// Requests refused by the ABI checks.
    pub failed_validation: u64,
    /// Requests refused because no buffer slot or memory was available.
    pub failed_no_resources: u64,
    /// Requests refused because the socket was not (or no longer) ready.
    pub failed_not_ready: u64,
    /// Sends the transport completed with an error.
    pub failed_transport: u64,
    /// Requests cancelled before they completed.
    pub failed_cancelled: u64,
    /// Requests refused with STATUS_DEVICE_BUSY because other work was in the way: a send or
    /// receive-mode change while the family is being reconfigured, a reconfiguration while
    /// sends are in flight, or the control lock held past its bound.
    pub failed_busy: u64,
    /// Slots in the driver's preallocated send buffer pool.
    pub pool_slots: u32,
    /// Slots currently free.
    pub pool_free: u32,
    /// Size of each slot in bytes.
    pub slot_size: u32,
    /// Local address of the IPv4 socket; must be IPv4 or `None`.
    pub local_v4: Option<SocketAddr>,
    /// Local address of the IPv6 socket; must be IPv6 or `None`.
    pub local_v6: Option<SocketAddr>,
    /// Fixed destination of the IPv4 socket.
    pub fixed_v4: Option<FixedDestination>,
    /// Fixed destination of the IPv6 socket.
    pub fixed_v6: Option<FixedDestination>,
    /// Batch requests completed.
    pub batches: u64,
}

impl Stats {
    /// Writes the 256-byte reply, reserved fields included. The addresses are
    /// written as given; [`Stats::decode`] refuses an IPv6 address in
    /// `local_v4` or vice versa.
    pub fn encode(&self, out: &mut [u8; STATS_REPLY_SIZE]) {
        const L: usize = STATS_REPLY_SIZE;
        *out = [0; L];
        put_u16::<T_VERSION, L>(out, ABI_VERSION);
        put_u16::<T_RESERVED, L>(out, 0);
        put_u32::<T_SIZE, L>(out, STATS_REPLY_SIZE_WIRE);
        put_u64::<T_REQUESTS, L>(out, self.requests);
        put_u64::<T_DATAGRAMS_SENT, L>(out, self.datagrams_sent);
        put_u64::<T_BYTES_SENT, L>(out, self.bytes_sent);
        put_u64::<T_IN_FLIGHT, L>(out, self.in_flight);
        put_u64::<T_FAILED_VALIDATION, L>(out, self.failed_validation);
        put_u64::<T_FAILED_NO_RESOURCES, L>(out, self.failed_no_resources);
        put_u64::<T_FAILED_NOT_READY, L>(out, self.failed_not_ready);
        put_u64::<T_FAILED_TRANSPORT, L>(out, self.failed_transport);
        put_u64::<T_FAILED_CANCELLED, L>(out, self.failed_cancelled);
        put_u32::<T_POOL_SLOTS, L>(out, self.pool_slots);
        put_u32::<T_POOL_FREE, L>(out, self.pool_free);
        put_u32::<T_SLOT_SIZE, L>(out, self.slot_size);
        put_u32::<T_RESERVED2, L>(out, 0);
        let mut wire = [0; WIRE_ADDRESS_SIZE];
        encode_address(self.local_v4, &mut wire);
        put::<T_LOCAL_V4, WIRE_ADDRESS_SIZE, L>(out, wire);
        encode_address(self.local_v6, &mut wire);
        put::<T_LOCAL_V6, WIRE_ADDRESS_SIZE, L>(out, wire);
        encode_address(self.fixed_v4.map(|f| f.address()), &mut wire);
        put::<T_FIXED_V4, WIRE_ADDRESS_SIZE, L>(out, wire);
        encode_address(self.fixed_v6.map(|f| f.address()), &mut wire);
        put::<T_FIXED_V6, WIRE_ADDRESS_SIZE, L>(out, wire);
        put_u32::<T_FIXED_KIND_V4, L>(out, FixedDestination::kind(self.fixed_v4));
        put_u32::<T_FIXED_KIND_V6, L>(out, FixedDestination::kind(self.fixed_v6));
        put_u64::<T_BATCHES, L>(out, self.batches);
        put_u64::<T_FAILED_BUSY, L>(out, self.failed_busy);
        put::<T_RESERVED3, 8, L>(out, [0; 8]);
    }

    /// Decodes a reply; `bytes` must be exactly 256 bytes long.
    ///
    /// Checks, in order: length, version, size field, reserved fields, the local
    /// addresses (bind rules: port 0 allowed; each must have its slot's family or
    /// be absent, else [`AbiError::BadFamily`]), then the fixed destinations (kind
    /// and address must agree, else [`AbiError::BadAddress`]; a kind above 2 is
    /// [`AbiError::UnknownAction`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = STATS_REPLY_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<T_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u32::<T_SIZE, L>(bytes) != STATS_REPLY_SIZE_WIRE {
            return Err(AbiError::BadHeaderSize);
        }
        if get_u16::<T_RESERVED, L>(bytes) != 0
            || get_u32::<T_RESERVED2, L>(bytes) != 0
            || take::<T_RESERVED3, 8, L>(bytes) != [0; 8]
        {
            return Err(AbiError::ReservedNotZero);
        }
        let local_v4 = decode_bind_address(&take::<T_LOCAL_V4, WIRE_ADDRESS_SIZE, L>(bytes))?;
        if matches!(local_v4, Some(SocketAddr::V6(_))) {
            return Err(AbiError::BadFamily);
        }
        let local_v6 = decode_bind_address(&take::<T_LOCAL_V6, WIRE_ADDRESS_SIZE, L>(bytes))?;
        if matches!(local_v6, Some(SocketAddr::V4(_))) {
            return Err(AbiError::BadFamily);
        }
        let fixed = |at_wire: [u8; WIRE_ADDRESS_SIZE], kind: u32, family: Family| {
            let address = decode_address(&at_wire)?;
            if address.is_some_and(|a| Family::of(&a) != family) {
                return Err(AbiError::BadFamily);
            }
            FixedDestination::from_wire(kind, address)
        };
        let fixed_v4 = fixed(
            take::<T_FIXED_V4, WIRE_ADDRESS_SIZE, L>(bytes),
            get_u32::<T_FIXED_KIND_V4, L>(bytes),
            Family::V4,
        )?;
        let fixed_v6 = fixed(
            take::<T_FIXED_V6, WIRE_ADDRESS_SIZE, L>(bytes),
            get_u32::<T_FIXED_KIND_V6, L>(bytes),
            Family::V6,
        )?;
        Ok(Self {
            requests: get_u64::<T_REQUESTS, L>(bytes),
            datagrams_sent: get_u64::<T_DATAGRAMS_SENT, L>(bytes),
            bytes_sent: get_u64::<T_BYTES_SENT, L>(bytes),
            in_flight: get_u64::<T_IN_FLIGHT, L>(bytes),
            failed_validation: get_u64::<T_FAILED_VALIDATION, L>(bytes),
            failed_no_resources: get_u64::<T_FAILED_NO_RESOURCES, L>(bytes),
            failed_not_ready: get_u64::<T_FAILED_NOT_READY, L>(bytes),
            failed_transport: get_u64::<T_FAILED_TRANSPORT, L>(bytes),
            failed_cancelled: get_u64::<T_FAILED_CANCELLED, L>(bytes),
            pool_slots: get_u32::<T_POOL_SLOTS, L>(bytes),
            pool_free: get_u32::<T_POOL_FREE, L>(bytes),
            slot_size: get_u32::<T_SLOT_SIZE, L>(bytes),
            local_v4,
            local_v6,
            fixed_v4,
            fixed_v6,
            batches: get_u64::<T_BATCHES, L>(bytes),
            failed_busy: get_u64::<T_FAILED_BUSY, L>(bytes),
        })
    }

    /// Sum of all `failed_*` counters, saturating so corrupt counters cannot
    /// overflow.
    pub fn failed_total(&self) -> u64 {
        self.failed_validation
            .saturating_add(self.failed_no_resources)
            .saturating_add(self.failed_not_ready)
            .saturating_add(self.failed_transport)
            .saturating_add(self.failed_cancelled)
            .saturating_add(self.failed_busy)
    }
}
