//! The driver's requests: encoding inputs and decoding replies with the shared ABI crate.

use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, BatchReply, CONFIG_REQUEST_SIZE, ConfigAction, Destination,
    IOCTL_WSK_SAMPLE_CONFIGURE, IOCTL_WSK_SAMPLE_QUERY_STATS, IOCTL_WSK_SAMPLE_SEND,
    IOCTL_WSK_SAMPLE_SEND_BATCH, SEND_REPLY_SIZE, STATS_REPLY_SIZE, SendReply, Stats,
    batch_request_len, encode_batch, encode_send, send_request_len,
};

use crate::device::{Device, DeviceError};

fn invalid(what: &str, error: wsk_sample_ioctl::AbiError) -> DeviceError {
    DeviceError::Other(format!("wskctl built an invalid {what} request: {error}"))
}

/// Builds send requests into one reused buffer, so the send loop does not allocate per datagram.
#[derive(Default)]
pub struct SendEncoder {
    buffer: Vec<u8>,
}

impl SendEncoder {
    /// Sends one datagram to `destination` and returns the driver's reply. A reply reporting
    /// fewer bytes than the payload is an error.
    pub fn send(
        &mut self,
        device: &dyn Device,
        destination: Destination,
        payload: &[u8],
    ) -> Result<SendReply, DeviceError> {
        self.buffer.resize(send_request_len(payload.len()), 0);
        let length = encode_send(destination, payload, &mut self.buffer)
            .map_err(|error| invalid("send", error))?;
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

/// Builds batch requests into one reused buffer.
#[derive(Default)]
pub struct BatchEncoder {
    buffer: Vec<u8>,
}

impl BatchEncoder {
    /// Sends `datagrams` (1 ..= MAX_BATCH_DATAGRAMS of them, MAX_BATCH_BYTES in all) to
    /// `destination` with one IOCTL_WSK_SAMPLE_SEND_BATCH and returns the driver's reply.
    pub fn send(
        &mut self,
        device: &dyn Device,
        destination: Destination,
        datagrams: &[&[u8]],
    ) -> Result<BatchReply, DeviceError> {
        let total = datagrams.iter().map(|d| d.len()).sum();
        self.buffer
            .resize(batch_request_len(datagrams.len(), total), 0);
        let length = encode_batch(destination, datagrams, &mut self.buffer)
            .map_err(|error| invalid("batch", error))?;
        let input = self.buffer.get(..length).unwrap_or(&self.buffer);
        let output = device.ioctl(IOCTL_WSK_SAMPLE_SEND_BATCH, input, BATCH_REPLY_SIZE)?;
        BatchReply::decode(&output).map_err(|error| DeviceError::bad_reply("batch", error))
    }
}

/// Applies one configuration change (no output).
pub fn configure(device: &dyn Device, action: ConfigAction) -> Result<(), DeviceError> {
    let mut input = [0u8; CONFIG_REQUEST_SIZE];
    action
        .encode(&mut input)
        .map_err(|error| invalid("configure", error))?;
    device.ioctl(IOCTL_WSK_SAMPLE_CONFIGURE, &input, 0)?;
    Ok(())
}

/// Reads the driver's counters.
pub fn query_stats(device: &dyn Device) -> Result<Stats, DeviceError> {
    let output = device.ioctl(IOCTL_WSK_SAMPLE_QUERY_STATS, &[], STATS_REPLY_SIZE)?;
    Stats::decode(&output).map_err(|error| DeviceError::bad_reply("stats", error))
}
