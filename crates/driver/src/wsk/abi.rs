//! The WSK ABI (wsk.h, Windows x64): the repository's one definition, the `wsk-abi` crate,
//! which the kernel model's provider uses too. Checked against Wine's headers and the reference
//! table by crates/abi-conformance.

pub use wsk_abi::*;
