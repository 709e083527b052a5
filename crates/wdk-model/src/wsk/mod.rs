//! The WSK provider: registration and NPI (NETIO exports), and datagram sockets over host UDP
//! sockets. Windows address-family values are translated here, at the provider's edge.

pub mod abi;
pub(crate) mod address;
pub(crate) mod events;
pub(crate) mod provider;
pub(crate) mod receive;
pub(crate) mod socket;
pub(crate) mod workers;

pub use provider::{WskCaptureProviderNPI, WskDeregister, WskRegister, WskReleaseProviderNPI};
