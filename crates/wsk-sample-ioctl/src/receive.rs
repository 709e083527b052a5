//! The receive side of the ABI (issue 14): the pended receive request, the receive mode, and
//! the receive statistics.
//!
//! | Code | Function | Method | Access | Input | Output |
//! |------|----------|--------|--------|-------|--------|
//! | [`IOCTL_WSK_SAMPLE_RECEIVE`] | `0x804` | buffered | read | [`ReceiveRequest`] (8 bytes) | [`ReceiveReply`] header (48 bytes) + payload |
//! | [`IOCTL_WSK_SAMPLE_RECEIVE_STATS`] | `0x805` | buffered | read | none | [`ReceiveStats`] (96 bytes; each family's [`Delivery`] at 88 and 90) |
//! | [`IOCTL_WSK_SAMPLE_RECEIVE_MODE`] | `0x806` | buffered | write | [`ModeRequest`] (8 bytes: version, family, mode, [`Delivery`]) | none |
//!
//! A receive request pends until a datagram arrives on the family's socket (the inverted-call
//! pattern) and completes with its source, its length and as many bytes as the output buffer
//! holds past the 48-byte header. A datagram longer than that is **truncated**: the reply
//! carries [`RECEIVE_FLAG_TRUNCATED`], `datagram_length` is the datagram's full length and
//! `copied` what was copied; the rest is gone (as recv on a datagram socket does).

use core::net::SocketAddr;

use super::*;

/// Waits for the next datagram on a family's socket. Read access: it sends nothing.
pub const IOCTL_WSK_SAMPLE_RECEIVE: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x804,
    METHOD_BUFFERED,
    FILE_READ_DATA,
);
/// Returns the receive counters. Read access.
pub const IOCTL_WSK_SAMPLE_RECEIVE_STATS: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x805,
    METHOD_BUFFERED,
    FILE_READ_DATA,
);
/// Starts or stops receiving (or the echo responder) on a family's socket. Write access.
pub const IOCTL_WSK_SAMPLE_RECEIVE_MODE: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x806,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);

/// Size of [`ReceiveRequest`] and [`ModeRequest`].
pub const RECEIVE_REQUEST_SIZE: usize = 8;
/// Size of the reply header that precedes the payload.
pub const RECEIVE_HEADER_SIZE: usize = 48;
/// Size of [`ReceiveStats`].
pub const RECEIVE_STATS_SIZE: usize = 96;
/// The datagram was longer than the room in the output buffer.
pub const RECEIVE_FLAG_TRUNCATED: u16 = 0x0001;

const Q_VERSION: usize = 0;
const Q_FAMILY: usize = 2;
const Q_VALUE: usize = 4;
const Q_RESERVED: usize = 6;

const H_VERSION: usize = 0;
const H_FLAGS: usize = 2;
const H_LENGTH: usize = 4;
const H_COPIED: usize = 8;
const H_RESERVED: usize = 12;
const H_SOURCE: usize = 16;

/// Which family's socket a request is about.
fn decode_family(value: u16) -> Result<Family, AbiError> {
    Family::from_wire(value).ok_or(AbiError::BadFamily)
}

/// Input of `IOCTL_WSK_SAMPLE_RECEIVE`: the family to receive on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// The family's socket.
    pub family: Family,
}

impl ReceiveRequest {
    /// The 8-byte request.
    pub fn encode(&self) -> [u8; RECEIVE_REQUEST_SIZE] {
        const L: usize = RECEIVE_REQUEST_SIZE;
        let mut out = [0; L];
        put_u16::<Q_VERSION, L>(&mut out, ABI_VERSION);
        put_u16::<Q_FAMILY, L>(&mut out, self.family.wire());
        out
    }

    /// Decodes a request: exactly 8 bytes, version 1, a family, reserved bytes zero.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = RECEIVE_REQUEST_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<Q_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u16::<Q_VALUE, L>(bytes) != 0 || get_u16::<Q_RESERVED, L>(bytes) != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        Ok(Self {
            family: decode_family(get_u16::<Q_FAMILY, L>(bytes))?,
        })
    }
}

/// What a family's socket does with the datagrams it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum ReceiveMode {
    /// Not receiving (no receive posted).
    #[default]
    Off,
    /// Datagrams go to pended receive requests.
    Receive,
    /// Every datagram is sent back to its sender (the kernel echo responder).
    Echo,
}

impl ReceiveMode {
    /// The wire value.
    pub const fn wire(self) -> u16 {
        match self {
            Self::Off => 0,
            Self::Receive => 1,
            Self::Echo => 2,
        }
    }

    /// From the wire value.
    pub const fn from_wire(value: u16) -> Option<Self> {
        match value {
            0 => Some(Self::Off),
            1 => Some(Self::Receive),
            2 => Some(Self::Echo),
            _ => None,
        }
    }
}

/// How datagrams reach the driver in Receive and Echo mode (the mode request's last 16-bit
/// field, reserved and zero before: 0 keeps meaning what it meant, so old callers are unchanged).
/// [`ReceiveStats`] reports each family's the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum Delivery {
    /// WskReceiveFrom IRPs posted with the driver's own buffers (the default).
    #[default]
    Irp,
    /// The WskReceiveFromEvent callback (SO_WSK_EVENT_CALLBACK): the provider's buffers.
    Events,
}

impl Delivery {
    /// The wire value.
    pub const fn wire(self) -> u16 {
        match self {
            Self::Irp => 0,
            Self::Events => 1,
        }
    }

    /// From the wire value.
    pub const fn from_wire(value: u16) -> Option<Self> {
        match value {
            0 => Some(Self::Irp),
            1 => Some(Self::Events),
            _ => None,
        }
    }
}

/// Input of `IOCTL_WSK_SAMPLE_RECEIVE_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeRequest {
    /// The family's socket (bound with CONFIGURE's bind action, or the wildcard).
    pub family: Family,
    /// What to do with its datagrams.
    pub mode: ReceiveMode,
    /// How they reach the driver (ignored for Off).
    pub delivery: Delivery,
}

impl ModeRequest {
    /// The 8-byte request.
    pub fn encode(&self) -> [u8; RECEIVE_REQUEST_SIZE] {
        const L: usize = RECEIVE_REQUEST_SIZE;
        let mut out = [0; L];
        put_u16::<Q_VERSION, L>(&mut out, ABI_VERSION);
        put_u16::<Q_FAMILY, L>(&mut out, self.family.wire());
        put_u16::<Q_VALUE, L>(&mut out, self.mode.wire());
        put_u16::<Q_RESERVED, L>(&mut out, self.delivery.wire());
        out
    }

    /// Decodes a request: exactly 8 bytes, version 1, a family, a known mode and delivery.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = RECEIVE_REQUEST_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<Q_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        Ok(Self {
            family: decode_family(get_u16::<Q_FAMILY, L>(bytes))?,
            mode: ReceiveMode::from_wire(get_u16::<Q_VALUE, L>(bytes))
                .ok_or(AbiError::UnknownAction)?,
            delivery: Delivery::from_wire(get_u16::<Q_RESERVED, L>(bytes))
                .ok_or(AbiError::UnknownAction)?,
        })
    }
}

/// The header of a completed receive; the payload (`copied` bytes) follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveReply {
    /// [`RECEIVE_FLAG_TRUNCATED`] or 0.
    pub flags: u16,
    /// The datagram's length on the wire.
    pub datagram_length: u32,
    /// Bytes of it that follow the header.
    pub copied: u32,
    /// Where it came from.
    pub source: Option<SocketAddr>,
}

impl ReceiveReply {
    /// Whether the datagram was cut to fit.
    pub const fn truncated(&self) -> bool {
        self.flags & RECEIVE_FLAG_TRUNCATED != 0
    }

    /// Writes the 48-byte header.
    pub fn encode(&self, out: &mut [u8; RECEIVE_HEADER_SIZE]) {
        const L: usize = RECEIVE_HEADER_SIZE;
        *out = [0; L];
        put_u16::<H_VERSION, L>(out, ABI_VERSION);
        put_u16::<H_FLAGS, L>(out, self.flags);
        put_u32::<H_LENGTH, L>(out, self.datagram_length);
        put_u32::<H_COPIED, L>(out, self.copied);
        let mut address = [0; WIRE_ADDRESS_SIZE];
        encode_address(self.source, &mut address);
        put::<H_SOURCE, WIRE_ADDRESS_SIZE, L>(out, address);
    }

    /// Decodes a reply (header and payload) and returns the header and the payload; the
    /// payload must be exactly `copied` bytes.
    pub fn decode(bytes: &[u8]) -> Result<(Self, &[u8]), AbiError> {
        const L: usize = RECEIVE_HEADER_SIZE;
        let (header, payload) = bytes
            .split_first_chunk::<L>()
            .ok_or(AbiError::InputTooShort)?;
        if get_u16::<H_VERSION, L>(header) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        let flags = get_u16::<H_FLAGS, L>(header);
        if flags & !RECEIVE_FLAG_TRUNCATED != 0 {
            return Err(AbiError::UnknownFlags);
        }
        if get_u32::<H_RESERVED, L>(header) != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        let copied = get_u32::<H_COPIED, L>(header);
        let datagram_length = get_u32::<H_LENGTH, L>(header);
        if payload.len() != copied as usize || copied > datagram_length {
            return Err(AbiError::LengthMismatch);
        }
        let mut address = [0; WIRE_ADDRESS_SIZE];
        address.copy_from_slice(&header[H_SOURCE..H_SOURCE + WIRE_ADDRESS_SIZE]);
        Ok((
            Self {
                flags,
                datagram_length,
                copied,
                source: decode_bind_address(&address)?,
            },
            payload,
        ))
    }
}

/// Output of `IOCTL_WSK_SAMPLE_RECEIVE_STATS`: the receive counters since load, both families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReceiveStats {
    /// Each family's mode now.
    pub mode_v4: ReceiveMode,
    /// See `mode_v4`.
    pub mode_v6: ReceiveMode,
    /// Datagrams WSK delivered into the driver's buffers.
    pub datagrams: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Datagrams handed to receive requests.
    pub delivered: u64,
    /// Of those, datagrams cut to fit the request's buffer.
    pub truncated: u64,
    /// Dropped: no receive request was waiting and every buffer already held a datagram.
    pub dropped_no_request: u64,
    /// Dropped: the echo send could not be issued.
    pub dropped_echo: u64,
    /// Receives that WSK completed with an error (other than the cancellation at close).
    pub receive_errors: u64,
    /// Datagrams sent back by the echo responder.
    pub echoed: u64,
    /// Receive requests cancelled (handle closed, or receiving stopped).
    pub requests_cancelled: u64,
    /// Receive buffers (each with its MDL and IRP, built once).
    pub buffers: u32,
    /// Receives posted to WSK right now.
    pub posted: u32,
    /// How the IPv4 socket's datagrams reach the driver while `mode_v4` is not Off ([`Delivery::Irp`]
    /// while it is). Bytes 88..90, reserved and zero before: a driver from before this field
    /// reports IRPs, which is all it could do; only a caller that asked for events sees a
    /// non-zero value.
    pub delivery_v4: Delivery,
    /// See `delivery_v4` (bytes 90..92).
    pub delivery_v6: Delivery,
}

impl ReceiveStats {
    /// Writes the 96-byte reply.
    pub fn encode(&self, out: &mut [u8; RECEIVE_STATS_SIZE]) {
        const L: usize = RECEIVE_STATS_SIZE;
        *out = [0; L];
        put_u16::<0, L>(out, ABI_VERSION);
        put_u16::<2, L>(out, self.mode_v4.wire());
        put_u16::<4, L>(out, self.mode_v6.wire());
        put_u64::<8, L>(out, self.datagrams);
        put_u64::<16, L>(out, self.bytes);
        put_u64::<24, L>(out, self.delivered);
        put_u64::<32, L>(out, self.truncated);
        put_u64::<40, L>(out, self.dropped_no_request);
        put_u64::<48, L>(out, self.dropped_echo);
        put_u64::<56, L>(out, self.receive_errors);
        put_u64::<64, L>(out, self.echoed);
        put_u64::<72, L>(out, self.requests_cancelled);
        put_u32::<80, L>(out, self.buffers);
        put_u32::<84, L>(out, self.posted);
        put_u16::<88, L>(out, self.delivery_v4.wire());
        put_u16::<90, L>(out, self.delivery_v6.wire());
    }

    /// Decodes the 96-byte reply: version 1, known modes and deliveries, reserved bytes zero.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = RECEIVE_STATS_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<0, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u16::<6, L>(bytes) != 0 || bytes[92..].iter().any(|&b| b != 0) {
            return Err(AbiError::ReservedNotZero);
        }
        let mode = |value| ReceiveMode::from_wire(value).ok_or(AbiError::UnknownAction);
        let delivery = |value| Delivery::from_wire(value).ok_or(AbiError::UnknownAction);
        Ok(Self {
            mode_v4: mode(get_u16::<2, L>(bytes))?,
            mode_v6: mode(get_u16::<4, L>(bytes))?,
            datagrams: get_u64::<8, L>(bytes),
            bytes: get_u64::<16, L>(bytes),
            delivered: get_u64::<24, L>(bytes),
            truncated: get_u64::<32, L>(bytes),
            dropped_no_request: get_u64::<40, L>(bytes),
            dropped_echo: get_u64::<48, L>(bytes),
            receive_errors: get_u64::<56, L>(bytes),
            echoed: get_u64::<64, L>(bytes),
            requests_cancelled: get_u64::<72, L>(bytes),
            buffers: get_u32::<80, L>(bytes),
            posted: get_u32::<84, L>(bytes),
            delivery_v4: delivery(get_u16::<88, L>(bytes))?,
            delivery_v6: delivery(get_u16::<90, L>(bytes))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receive_request_round_trips_and_refuses_bad_fields() {
        let request = ReceiveRequest { family: Family::V6 };
        let bytes = request.encode();
        assert_eq!(ReceiveRequest::decode(&bytes), Ok(request));
        assert_eq!(
            ReceiveRequest::decode(&bytes[..7]),
            Err(AbiError::InputTooShort)
        );
        let mut bad = bytes;
        bad[2] = 7;
        assert_eq!(ReceiveRequest::decode(&bad), Err(AbiError::BadFamily));
        let mut bad = bytes;
        bad[6] = 1;
        assert_eq!(ReceiveRequest::decode(&bad), Err(AbiError::ReservedNotZero));
        let mut bad = bytes;
        bad[0] = 2;
        assert_eq!(
            ReceiveRequest::decode(&bad),
            Err(AbiError::UnsupportedVersion)
        );
    }

    #[test]
    fn a_mode_request_round_trips_and_refuses_an_unknown_mode() {
        for mode in [ReceiveMode::Off, ReceiveMode::Receive, ReceiveMode::Echo] {
            for delivery in [Delivery::Irp, Delivery::Events] {
                let request = ModeRequest {
                    family: Family::V4,
                    mode,
                    delivery,
                };
                assert_eq!(ModeRequest::decode(&request.encode()), Ok(request));
            }
        }
        let good = ModeRequest {
            family: Family::V4,
            mode: ReceiveMode::Echo,
            delivery: Delivery::Events,
        }
        .encode();
        assert_eq!(&good[6..8], &[1, 0], "the delivery is the last u16");
        let mut bad = good;
        bad[4] = 3;
        assert_eq!(ModeRequest::decode(&bad), Err(AbiError::UnknownAction));
        let mut bad = good;
        bad[6] = 2;
        assert_eq!(ModeRequest::decode(&bad), Err(AbiError::UnknownAction));
    }

    #[test]
    fn a_mode_request_from_before_the_delivery_field_means_irp() {
        // Version 1, IPv4, Receive, and the reserved zero an older caller writes.
        let mut old = [0u8; RECEIVE_REQUEST_SIZE];
        old[0..2].copy_from_slice(&ABI_VERSION.to_le_bytes());
        old[2..4].copy_from_slice(&Family::V4.wire().to_le_bytes());
        old[4..6].copy_from_slice(&ReceiveMode::Receive.wire().to_le_bytes());
        let decoded = ModeRequest::decode(&old).expect("decode");
        assert_eq!(decoded.delivery, Delivery::Irp);
        assert_eq!(decoded.mode, ReceiveMode::Receive);
    }

    #[test]
    fn a_reply_round_trips_with_its_payload_and_truncation() {
        let reply = ReceiveReply {
            flags: RECEIVE_FLAG_TRUNCATED,
            datagram_length: 10,
            copied: 3,
            source: Some("[::1]:4242".parse().expect("address")),
        };
        let mut bytes = [0u8; RECEIVE_HEADER_SIZE + 3];
        let (header, payload) = bytes
            .split_first_chunk_mut::<RECEIVE_HEADER_SIZE>()
            .expect("split");
        reply.encode(header);
        payload.copy_from_slice(b"abc");
        let (decoded, data) = ReceiveReply::decode(&bytes).expect("decode");
        assert_eq!(decoded, reply);
        assert!(decoded.truncated());
        assert_eq!(data, b"abc");
        assert_eq!(
            ReceiveReply::decode(&bytes[..RECEIVE_HEADER_SIZE + 2]),
            Err(AbiError::LengthMismatch)
        );
    }

    #[test]
    fn stats_round_trip() {
        let stats = ReceiveStats {
            mode_v4: ReceiveMode::Echo,
            mode_v6: ReceiveMode::Receive,
            datagrams: 1,
            bytes: 2,
            delivered: 3,
            truncated: 4,
            dropped_no_request: 5,
            dropped_echo: 6,
            receive_errors: 7,
            echoed: 8,
            requests_cancelled: 9,
            buffers: 10,
            posted: 11,
            delivery_v4: Delivery::Events,
            delivery_v6: Delivery::Irp,
        };
        let mut bytes = [0; RECEIVE_STATS_SIZE];
        stats.encode(&mut bytes);
        assert_eq!(ReceiveStats::decode(&bytes), Ok(stats));
        assert_eq!(
            &bytes[88..92],
            &[1, 0, 0, 0],
            "the deliveries are u16s at 88 and 90"
        );
        let swapped = ReceiveStats {
            delivery_v4: Delivery::Irp,
            delivery_v6: Delivery::Events,
            ..stats
        };
        swapped.encode(&mut bytes);
        assert_eq!(&bytes[88..92], &[0, 0, 1, 0]);
        assert_eq!(ReceiveStats::decode(&bytes), Ok(swapped));
    }

    #[test]
    fn stats_from_before_the_delivery_fields_mean_irp_and_bad_fields_are_refused() {
        // What a driver from before the fields writes: version 1, IPv4 receiving, zeros.
        let mut old = [0u8; RECEIVE_STATS_SIZE];
        old[0..2].copy_from_slice(&ABI_VERSION.to_le_bytes());
        old[2..4].copy_from_slice(&ReceiveMode::Receive.wire().to_le_bytes());
        let decoded = ReceiveStats::decode(&old).expect("decode");
        assert_eq!(decoded.mode_v4, ReceiveMode::Receive);
        assert_eq!(
            (decoded.delivery_v4, decoded.delivery_v6),
            (Delivery::Irp, Delivery::Irp)
        );
        let mut bad = old;
        bad[90] = 2;
        assert_eq!(ReceiveStats::decode(&bad), Err(AbiError::UnknownAction));
        let mut bad = old;
        bad[92] = 1;
        assert_eq!(ReceiveStats::decode(&bad), Err(AbiError::ReservedNotZero));
        let mut bad = old;
        bad[6] = 1;
        assert_eq!(ReceiveStats::decode(&bad), Err(AbiError::ReservedNotZero));
    }

    #[test]
    fn the_codes_carry_their_access() {
        assert_eq!(required_access(IOCTL_WSK_SAMPLE_RECEIVE), FILE_READ_DATA);
        assert_eq!(
            required_access(IOCTL_WSK_SAMPLE_RECEIVE_STATS),
            FILE_READ_DATA
        );
        assert_eq!(
            required_access(IOCTL_WSK_SAMPLE_RECEIVE_MODE),
            FILE_WRITE_DATA
        );
    }
}
