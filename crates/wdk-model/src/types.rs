//! The kernel types, defined in the bottom crate `wdk-model-types` so that the WSK ABI crate
//! (`wsk-abi`), which the model's provider uses, can name them without depending on the model.
//! Re-exported here so `crate::types::…` keeps naming them inside the model.

pub use wdk_model_types::*;
