//! A socket's record in the provider's table (`provider.rs`): the socket object the client
//! holds, the socket's addresses and counts, and the state of its receives and receive events.
//! Plain data: every field is read and written under the provider lock (`Provider::lock`),
//! by the call files above.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use socket2::Socket;

use super::abi::*;
use crate::mdl::Segment;
use crate::types::*;

/// The provider's socket object; the WSK_SOCKET the client sees is its first field.
#[repr(C)]
pub(crate) struct ModelSocket {
    pub header: WSK_SOCKET,
    pub id: u64,
}

/// A socket's fixed addresses. Windows keeps two settings (Learn, SIO_WSK_SET_REMOTE_ADDRESS:
/// sends go there and only datagrams from it are received; SIO_WSK_SET_SENDTO_ADDRESS: sends go
/// there, receives are not filtered), each set and cleared by its own control code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub remote: Option<SocketAddr>,
    pub send_to: Option<SocketAddr>,
}

pub(crate) struct SocketRecord {
    pub id: u64,
    pub family: u16,
    pub host: Arc<Socket>,
    pub bound: Option<SocketAddr>,
    pub fixed: Fixed,
    /// Dispatch calls currently executing (not IRPs pending).
    pub executing: u32,
    /// IRPs accepted and not yet completed.
    pub pending: u32,
    pub closing: bool,
    /// The close's IRP and the status it completes with (a failure only when injected: the
    /// socket is closed and freed all the same, PFN_WSK_CLOSE_SOCKET).
    pub close_irp: Option<(usize, NTSTATUS)>,
    /// Sends parked by [`crate::kernel::CompletionMode::NeverForSends`] until close cancels them.
    pub stuck: Vec<(usize, Vec<Segment>)>,
    /// Posted WskReceiveFrom IRPs and the receiver thread (`receive.rs`,
    /// `receiver.rs`).
    pub receive: ReceiveState,
    /// Receive-event callbacks and indication lists (`events.rs`,
    /// `event_control.rs`).
    pub events: EventState,
}

/// A WskReceiveFrom IRP the provider holds until a datagram arrives or the socket closes.
pub(crate) struct PostedReceive {
    pub irp: usize,
    pub segments: Vec<Segment>,
    /// Output pointers (NULL when the driver passed none).
    pub remote: usize,
    pub control_length: usize,
    pub control_flags: usize,
}

/// The receive state of a socket (in its `SocketRecord`, under the provider lock).
#[derive(Default)]
pub(crate) struct ReceiveState {
    pub posted: VecDeque<PostedReceive>,
    /// The receiver thread, once started (unparked when a receive is posted).
    pub thread: Option<std::thread::Thread>,
    /// Joined when the socket is freed, so its host socket (and port) is gone when the close
    /// completes, as a closed Windows socket's address is free again.
    pub handle: Option<std::thread::JoinHandle<()>>,
}

/// Waits for a closed socket's receiver thread to let go of the host socket.
pub(crate) fn join(handle: Option<std::thread::JoinHandle<()>>) {
    if let Some(handle) = handle
        && handle.thread().id() != std::thread::current().id()
    {
        let _ = handle.join();
    }
}

/// How many released lists a socket remembers, to name a second release.
const RELEASED_MEMORY: usize = 4096;

/// Where an indication list stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListState {
    /// The callback that got it has not returned.
    Indicating,
    /// Released by WskRelease before that callback returned.
    ReleasedDuringCall,
    /// The callback returned STATUS_PENDING: the client's until WskRelease.
    Retained,
}

/// A socket's event state (in its `SocketRecord`, under the provider lock).
#[derive(Default)]
pub(crate) struct EventState {
    /// The WSK_CLIENT_DATAGRAM_DISPATCH and socket context given to WskSocket.
    pub dispatch: usize,
    pub context: usize,
    pub enabled: bool,
    /// Calls of the callback in progress.
    pub in_progress: u32,
    /// Disable IRPs waiting for the calls in progress to return.
    pub disable_irps: Vec<usize>,
    /// Lists given to the client and not yet taken back.
    pub lists: HashMap<usize, ListState>,
    /// Lists taken back by WskRelease, newest last (bounded).
    pub released: VecDeque<usize>,
}

impl EventState {
    pub(crate) fn new(dispatch: usize, context: usize) -> EventState {
        EventState {
            dispatch,
            context,
            ..EventState::default()
        }
    }

    pub(crate) fn remember_release(&mut self, list: usize) {
        if self.released.len() >= RELEASED_MEMORY {
            self.released.pop_front();
        }
        self.released.push_back(list);
    }
}
