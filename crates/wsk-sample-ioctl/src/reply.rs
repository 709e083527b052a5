//! The send reply.

use crate::error::*;
use crate::layout::*;

// ---------------------------------------------------------------------------
// Send reply
// ---------------------------------------------------------------------------

/// Output of `IOCTL_WSK_SAMPLE_SEND`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SendReply {
    /// Bytes the transport reported sent.
    pub bytes_sent: u32,
    /// The driver's send sequence number for this datagram, starting at 1, so
    /// the tool can correlate a send with driver traces and the stats counters.
    pub sequence: u64,
}

impl SendReply {
    /// Writes the 16-byte reply, reserved field included.
    pub fn encode(&self, out: &mut [u8; SEND_REPLY_SIZE]) {
        const L: usize = SEND_REPLY_SIZE;
        *out = [0; L];
        put_u16::<R_VERSION, L>(out, ABI_VERSION);
        put_u16::<R_RESERVED, L>(out, 0);
        put_u32::<R_BYTES_SENT, L>(out, self.bytes_sent);
        put_u64::<R_SEQUENCE, L>(out, self.sequence);
    }

    /// Decodes a reply; `bytes` must be exactly 16 bytes long.
    pub fn decode(bytes: &[u8]) -> Result<Self, AbiError> {
        const L: usize = SEND_REPLY_SIZE;
        let bytes = exact::<L>(bytes)?;
        if get_u16::<R_VERSION, L>(bytes) != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion);
        }
        if get_u16::<R_RESERVED, L>(bytes) != 0 {
            return Err(AbiError::ReservedNotZero);
        }
        Ok(Self {
            bytes_sent: get_u32::<R_BYTES_SENT, L>(bytes),
            sequence: get_u64::<R_SEQUENCE, L>(bytes),
        })
    }
}
