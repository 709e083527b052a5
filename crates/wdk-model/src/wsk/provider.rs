//! The provider's shared state: its table of registrations and sockets (live and closed), in
//! this kernel's slot; what the harness asks of it at unload. The NETIO exports that register
//! and capture are `registration.rs`; a socket's record is `record.rs`.

use std::collections::HashMap;
use std::sync::Mutex;

use super::abi::*;
use super::record::{ModelSocket, SocketRecord};
use crate::kernel::{KernelState, lock};

#[derive(Debug)]
pub(crate) struct Registration {
    pub captures: u32,
}

#[derive(Default)]
pub(crate) struct WskState {
    pub registrations: HashMap<usize, Registration>,
    /// Live sockets by the address of their WSK_SOCKET.
    pub sockets: HashMap<usize, SocketRecord>,
    /// Closed sockets: their memory is kept (with a dispatch table that reports any use) so a
    /// stale pointer is caught instead of corrupting memory.
    pub closed: Vec<usize>,
    pub sockets_created: u64,
}

#[derive(Default)]
pub(crate) struct Provider {
    pub state: Mutex<WskState>,
}

impl Provider {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, WskState> {
        lock(&self.state)
    }
}

impl KernelState {
    /// The provider's state in this kernel: its slot (`kernel::slots`), filled by
    /// `crate::boot`; for the WSK modules only.
    pub(in crate::wsk) fn wsk(&self) -> &Provider {
        self.slot()
    }
}

/// What the provider still holds at unload, for the harness's report.
pub(crate) struct Leftovers {
    /// Sockets never closed.
    pub sockets: usize,
    /// Registrations never deregistered.
    pub registrations: usize,
    /// Provider NPI captures never released.
    pub captures: u32,
}

/// What `kernel`'s provider still holds.
pub(crate) fn leftovers(kernel: &KernelState) -> Leftovers {
    let wsk = kernel.wsk().lock();
    Leftovers {
        sockets: wsk.sockets.len(),
        registrations: wsk.registrations.len(),
        captures: wsk.registrations.values().map(|r| r.captures).sum(),
    }
}

impl Drop for WskState {
    fn drop(&mut self) {
        for address in self
            .closed
            .drain(..)
            .chain(self.sockets.drain().map(|(a, _)| a))
        {
            // SAFETY: every socket address came from Box::into_raw in WskSocket and is freed
            // only here, once, when the kernel goes away.
            drop(unsafe { Box::from_raw(address as *mut ModelSocket) });
        }
    }
}

/// Whether `client` (a provider NPI's Client) is captured now.
pub(crate) fn client_captured(kernel: &KernelState, client: *mut WSK_CLIENT) -> bool {
    kernel
        .wsk()
        .lock()
        .registrations
        .get(&(client as usize))
        .is_some_and(|r| r.captures > 0)
}
