//! Linux-side checks of the files that only a Windows machine can use: the INF template
//! (`wsk_sample.inx`), the cargo-make `Makefile.toml`, the GitHub Actions workflow,
//! `.cargo/config.toml` and the WDK metadata of the driver's `Cargo.toml`.
//!
//! Every checker takes file *contents* rather than paths and returns the [`Findings`] it made, so
//! the tests in `tests/` can run it on the repository's files and on deliberately broken copies.

pub mod cargo_config;
mod finding;
pub mod inf;
pub mod inx;
pub mod makefile;
pub mod manifest;
pub mod project;
pub mod rust_source;
mod version;
pub mod workflow;
pub mod yaml;

pub use finding::{Finding, Findings};
pub use project::ProjectFacts;
