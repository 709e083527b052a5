//! The driver's requests: encoding inputs and decoding replies with the shared ABI crate.
//! New control codes (configuration, batches) get their own function here.

use std::net::SocketAddr;

use wsk_sample_ioctl::{
    IOCTL_WSK_SAMPLE_QUERY_STATS, IOCTL_WSK_SAMPLE_SEND, SEND_REPLY_SIZE, STATS_REPLY_SIZE,
    SendReply, Stats, encode_send_request, send_request_len,
};

use crate::device::{Device, DeviceError};

/// Builds send requests into one reused buffer, so the send loop does not allocate per datagram.
#[derive(Default)]
pub struct SendEncoder {
    buffer: Vec<u8>,
}

impl SendEncoder {
    /// Sends one datagram to `destination` (`None`: the socket's fixed destination) and returns
    /// the driver's reply. A reply reporting fewer bytes than the payload is an error.
    pub fn send(
        &mut self,
        device: &dyn Device,
        destination: Option<SocketAddr>,
        payload: &[u8],
    ) -> Result<SendReply, DeviceError> {
        self.buffer.resize(send_request_len(payload.len()), 0);
        let length =
            encode_send_request(destination, payload, &mut self.buffer).map_err(|error| {
                DeviceError::Other(format!("wskctl built an invalid send request: {error}"))
            })?;
        let input = self.buffer.get(..length).unwrap_or(&self.buffer);
        let output = device.ioctl(IOCTL_WSK_SAMPLE_SEND, input, SEND_REPLY_SIZE)?;
        let reply =
            SendReply::decode(&output).map_err(|error| DeviceError::bad_reply("send", error))?;
        if reply.bytes_sent as usize != payload.len() {
            return Err(DeviceError::Other(format!(
                "the driver reported {} of {} bytes sent",
                reply.bytes_sent,
                payload.len()
            )));
        }
        Ok(reply)
    }
}

/// Reads the driver's counters.
pub fn query_stats(device: &dyn Device) -> Result<Stats, DeviceError> {
    let output = device.ioctl(IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE)?;
    Stats::decode(&output).map_err(|error| DeviceError::bad_reply("stats", error))
}
