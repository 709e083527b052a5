//! The WSK provider: registration and NPI (NETIO exports), and datagram sockets over host UDP
//! sockets. Windows address-family values are translated here, at the provider's edge.
//!
//! The files are in layers: each uses only files listed before it (the graph test,
//! `tests/module_graph.rs`, fails on a cycle among them).
//!
//! * `abi`, `address`: the WSK ABI and SOCKADDR conversion; `workers`: the provider threads;
//!   `closed`: the dispatch table behind a closed socket.
//! * `record`: a socket's record; `provider`: the provider's table (registrations, sockets).
//! * `calls`: what every socket call shares (entering, pending IRPs, completion, pins).
//! * `events`: WskReceiveFromEvent indications and WskRelease; `receiver`: the receiver thread
//!   (to a posted receive, else to the event); `receive`: WskReceiveFrom; `event_control`:
//!   SO_WSK_EVENT_CALLBACK.
//! * `bind`: WskBind, WskGetLocalAddress, WskControlSocket; `datagram`, `send`: WskSendTo and
//!   WskSendMessages; `close`: WskCloseSocket.
//! * `socket`: WskSocket and the dispatch tables; `registration`: the NETIO exports.

pub mod abi;
pub(crate) mod address;
mod bind;
mod calls;
mod close;
mod closed;
mod datagram;
mod event_control;
pub(crate) mod events;
pub(crate) mod provider;
mod receive;
mod receiver;
mod record;
mod registration;
mod send;
mod socket;
pub(crate) mod workers;

pub use registration::{WskCaptureProviderNPI, WskDeregister, WskRegister, WskReleaseProviderNPI};
