//! The operation generator and invariants of the IOCTL fuzz target. `ops.rs` is shared, as
//! source, with the property test `tests/ioctl_properties.rs`.

pub mod ops;
