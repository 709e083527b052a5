//! The one error type of every decoder.

use core::fmt;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a buffer could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiError {
    /// The input is shorter than the fixed part of the structure.
    InputTooShort,
    /// The input length disagrees with the length the structure declares.
    LengthMismatch,
    /// The output buffer cannot hold the encoded structure.
    OutputTooSmall,
    /// The version field is not [`ABI_VERSION`].
    UnsupportedVersion,
    /// The declared header or structure size is not the one this version uses.
    BadHeaderSize,
    /// A flag bit outside [`SEND_FLAGS_KNOWN`] is set.
    UnknownFlags,
    /// A reserved field is not zero.
    ReservedNotZero,
    /// The address family is not 0, 2 or 23, or not the one the field requires.
    BadFamily,
    /// A destination address has port 0, which cannot be sent to.
    PortZero,
    /// An address has non-zero bytes where its family allows none.
    BadAddress,
    /// The payload is empty.
    EmptyPayload,
    /// The payload exceeds the largest UDP datagram for the address family.
    PayloadTooLarge,
    /// A configure request names an action this driver does not know.
    UnknownAction,
    /// A batch has no datagrams, more than [`MAX_BATCH_DATAGRAMS`], or more than
    /// [`MAX_BATCH_BYTES`] of payload; or a pool size is out of range.
    BadCount,
}

impl AbiError {
    /// The NTSTATUS the driver completes a refused request with.
    pub const fn ntstatus(self) -> i32 {
        use crate::status::*;
        match self {
            Self::InputTooShort | Self::LengthMismatch => STATUS_INFO_LENGTH_MISMATCH,
            Self::OutputTooSmall => STATUS_BUFFER_TOO_SMALL,
            Self::UnsupportedVersion | Self::BadHeaderSize => STATUS_REVISION_MISMATCH,
            Self::UnknownFlags | Self::ReservedNotZero | Self::UnknownAction => {
                STATUS_INVALID_PARAMETER
            }
            Self::BadFamily | Self::PortZero | Self::BadAddress => STATUS_INVALID_ADDRESS_COMPONENT,
            Self::EmptyPayload | Self::PayloadTooLarge | Self::BadCount => {
                STATUS_INVALID_BUFFER_SIZE
            }
        }
    }
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InputTooShort => "input buffer is shorter than the fixed part of the structure",
            Self::LengthMismatch => {
                "buffer length does not match the length the structure declares"
            }
            Self::OutputTooSmall => "output buffer is too small for the encoded structure",
            Self::UnsupportedVersion => "structure version is not supported (expected version 1)",
            Self::BadHeaderSize => "declared header size does not match this ABI version",
            Self::UnknownFlags => "request sets flags this driver does not know",
            Self::ReservedNotZero => "a reserved field is not zero",
            Self::BadFamily => {
                "address family is not valid here (expected none, IPv4 (2) or IPv6 (23))"
            }
            Self::PortZero => "destination port is 0",
            Self::BadAddress => "address has non-zero bytes in fields its family does not use",
            Self::EmptyPayload => "payload is empty (the driver does not send empty datagrams)",
            Self::UnknownAction => {
                "configure action is not 1 (bind), 2 (fixed remote), 3 (fixed send-to), 4 (clear) \
                 or 5 (pool size)"
            }
            Self::BadCount => {
                "count out of range: a batch carries 1 to 256 datagrams and at most 65,536 payload \
                 bytes; the pool has 1 to 256 slots"
            }
            Self::PayloadTooLarge => {
                "payload is larger than the largest UDP datagram for the address family \
                 (65,507 bytes for IPv4, 65,527 for IPv6)"
            }
        })
    }
}

impl core::error::Error for AbiError {}
