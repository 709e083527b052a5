//! The WSK ABI as the provider sees it (wsk.h, Windows x64): the repository's one definition,
//! the `wsk-abi` crate, which the driver uses too. Its independent checks are Wine's headers and
//! the reference table (crates/abi-conformance), not a second transcription.

pub use wsk_abi::*;
