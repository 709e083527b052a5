//! Proves that the `#[repr(C)]` layouts shared by the wsk-sample driver and its kernel model
//! match an independent C definition: Wine's DDK headers (`ddk/wdm.h`, `ddk/wsk.h`, …) compiled
//! by mingw-w64's gcc for Windows x64.
//!
//! * [`rust_side`] reads every size, alignment, member offset, member size, integer signedness
//!   and constant off the real Rust types (`size_of`, `align_of`, `offset_of!`) as [`Fact`]s:
//!   the WSK ABI's one definition (the `wsk-abi` crate, which the driver and the model's
//!   provider both use) and the kernel model's kernel types.
//! * [`c_source`] turns them into a C file of `_Static_assert`s; [`toolchain`] compiles it
//!   against Wine's headers, so any drift on either side fails the build with a message naming
//!   the C item, the Rust item and the Rust value.
//! * [`reference`] is a second, independent source: the numbers of the project's reference
//!   table, checked against the same facts.
//! * [`exclusions`] lists where Wine's headers differ from Microsoft's, with the reason.
//!
//! [`Fact::perturbed`] makes a fact wrong on purpose: the tests feed such facts to both checks
//! to prove that every check can fail.

pub mod c_source;
pub mod exclusions;
pub mod fact;
pub mod probe;
pub mod reference;
pub mod rust_side;
pub mod toolchain;

pub use fact::{CItem, Fact, Property};
pub use rust_side::{Side, all_facts};

/// The C file checking every fact of every side, known Wine discrepancies left as comments.
pub fn conformance_c_file() -> String {
    c_source::render(&all_facts(), &exclusions::exclusions())
}
