//! The broken clients, one file per part of the model, each exporting `cases()`.

pub mod correct;
pub mod events;
pub mod kmdf;
pub mod nt;
pub mod receive;
pub mod special_pool;
pub mod unload_window;
pub mod wsk;
pub mod wsk_unload;
