//! Reading layouts off Rust types: sizes, alignments, offsets (`core::mem`), the type of a
//! member reached through a field path, and whether an integer type is signed.
//!
//! The macros here turn a declaration like
//! `WSK_BUF as "WSK_BUF" { Mdl, Offset, Length }` into [`Fact`](crate::Fact)s.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};

/// Stands for a Rust type `T` so that its layout and signedness can be read.
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    pub fn new() -> Self {
        Probe(PhantomData)
    }

    /// A probe for the type a pointer points to (the type of a member reached by `&raw const`).
    pub fn of_pointee(_: *const T) -> Self {
        Probe(PhantomData)
    }

    pub fn size(&self) -> usize {
        size_of::<T>()
    }

    pub fn align(&self) -> usize {
        align_of::<T>()
    }

    /// `T`'s name without module paths: `Option<unsafe extern "system" fn(*mut WSK_SOCKET) -> i32>`.
    pub fn type_name(&self) -> String {
        without_module_paths(core::any::type_name::<T>())
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Signedness of the primitive integer types; chosen over [`NotAnInteger`] by method resolution
/// because its receiver needs no auto-reference (the "autoref specialisation" idiom). Call it
/// as `probe.signedness()` on a `&Probe<T>` with both traits in scope.
pub trait IntegerSignedness {
    fn signedness(&self) -> Option<bool>;
}

/// Every other type (pointers, arrays, structs, function pointers) has no signedness.
pub trait NotAnInteger {
    fn signedness(&self) -> Option<bool> {
        None
    }
}

impl<T> NotAnInteger for &Probe<T> {}

macro_rules! integer_signedness {
    ($($integer:ty => $signed:literal),* $(,)?) => {$(
        impl IntegerSignedness for Probe<$integer> {
            fn signedness(&self) -> Option<bool> {
                Some($signed)
            }
        }
    )*};
}

integer_signedness!(
    i8 => true, i16 => true, i32 => true, i64 => true, isize => true,
    u8 => false, u16 => false, u32 => false, u64 => false, usize => false,
);

/// A [`Probe`] for the member of `$container` reached by the field path (through structs and
/// unions alike), without reading or even initialising it.
macro_rules! member_probe {
    ($container:ty, $($segment:ident).+) => {{
        let container = ::core::mem::MaybeUninit::<$container>::uninit();
        // SAFETY: `container` is a live, properly aligned allocation of `$container`; `&raw const`
        // only computes the member's address inside it: nothing is read and no reference to
        // uninitialised memory is made.
        let member = unsafe { &raw const (*container.as_ptr()).$($segment).+ };
        $crate::probe::Probe::of_pointee(member)
    }};
}
pub(crate) use member_probe;

/// The [`Shape`] of a type: size, alignment, signedness.
macro_rules! type_shape {
    ($ty:ty) => {{
        #[allow(unused_imports)]
        use $crate::probe::{IntegerSignedness as _, NotAnInteger as _};
        let probe = &$crate::probe::Probe::<$ty>::new();
        $crate::probe::Shape {
            size: probe.size(),
            align: probe.align(),
            signed: probe.signedness(),
            type_name: probe.type_name(),
        }
    }};
}
pub(crate) use type_shape;

/// The [`Shape`] and offset of a member of `$container`.
macro_rules! member_shape {
    ($container:ty, $($segment:ident).+) => {{
        #[allow(unused_imports)]
        use $crate::probe::{IntegerSignedness as _, NotAnInteger as _};
        let probe = &$crate::probe::member_probe!($container, $($segment).+);
        let shape = $crate::probe::Shape {
            size: probe.size(),
            align: probe.align(),
            signed: probe.signedness(),
            type_name: probe.type_name(),
        };
        (::core::mem::offset_of!($container, $($segment).+), shape)
    }};
}
pub(crate) use member_shape;

/// What the Rust side says about one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub size: usize,
    pub align: usize,
    /// `Some` for primitive integers only.
    pub signed: Option<bool>,
    pub type_name: String,
}

/// `core::option::Option<*mut wdk_model::types::_MDL>` → `Option<*mut _MDL>`.
pub fn without_module_paths(type_name: &str) -> String {
    let mut short = String::with_capacity(type_name.len());
    let mut rest = type_name;
    while let Some(first) = rest.chars().next() {
        let identifier_length = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if identifier_length == 0 {
            short.push(first);
            rest = &rest[first.len_utf8()..];
            continue;
        }
        let (identifier, after) = rest.split_at(identifier_length);
        match after.strip_prefix("::") {
            Some(after_separator) => rest = after_separator,
            None => {
                short.push_str(identifier);
                rest = after;
            }
        }
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    union Number {
        small: u8,
        wide: i64,
    }

    #[repr(C)]
    struct Outer {
        tag: u16,
        number: Number,
        bytes: [u8; 3],
        next: *mut Outer,
    }

    #[test]
    fn integers_have_signedness_and_nothing_else_does() {
        assert_eq!(type_shape!(i16).signed, Some(true));
        assert_eq!(type_shape!(u32).signed, Some(false));
        assert_eq!(type_shape!(*mut u32).signed, None);
        assert_eq!(type_shape!([u8; 4]).signed, None);
        assert_eq!(
            type_shape!(Option<unsafe extern "system" fn()>).signed,
            None
        );
    }

    #[test]
    fn members_are_probed_through_unions() {
        let (offset, shape) = member_shape!(Outer, number.wide);
        assert_eq!((offset, shape.size, shape.signed), (8, 8, Some(true)));
        let (offset, shape) = member_shape!(Outer, bytes);
        assert_eq!((offset, shape.size, shape.signed), (16, 3, None));
        assert_eq!(member_shape!(Outer, next).1.type_name, "*mut Outer");
    }

    #[test]
    fn module_paths_are_dropped_from_type_names() {
        assert_eq!(
            without_module_paths("core::option::Option<*mut wdk_model::types::_MDL>"),
            "Option<*mut _MDL>"
        );
        assert_eq!(without_module_paths("[u8; 4]"), "[u8; 4]");
    }
}
