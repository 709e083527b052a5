//! The Rust side: every [`Fact`] the WSK ABI crate's and the kernel model's definitions state,
//! read off the real types with `size_of`, `align_of` and `offset_of!`.

mod kernel;
mod wsk;

use crate::fact::{CItem, Fact, Property};
use crate::probe::Shape;

/// Which Rust definition a group of facts comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The `wsk-abi` crate: the one WSK ABI, re-exported by the driver (`src/wsk/abi.rs`) and
    /// by the kernel model's provider (`wdk_model::wsk::abi`).
    Wsk,
    /// Kernel types and constants at the root of `wdk_model` (shaped like wdk-sys; the types
    /// are the `wdk-model-types` crate's).
    ModelKernel,
}

impl Side {
    pub const ALL: [Side; 2] = [Side::Wsk, Side::ModelKernel];

    pub fn facts(self) -> Vec<Fact> {
        match self {
            Side::Wsk => wsk::wsk_facts(),
            Side::ModelKernel => kernel::model_kernel_facts(),
        }
    }
}

/// Every fact of every side.
pub fn all_facts() -> Vec<Fact> {
    Side::ALL.into_iter().flat_map(Side::facts).collect()
}

/// Collects facts; the `record_*` macros below fill it.
#[derive(Default)]
pub(crate) struct Recorder {
    facts: Vec<Fact>,
}

impl Recorder {
    pub(crate) fn into_facts(self) -> Vec<Fact> {
        self.facts
    }

    /// Size and alignment of a type, and its signedness if it is an integer.
    pub(crate) fn record_type(&mut self, rust_type: &str, c_type: &str, shape: Shape) {
        let item = CItem::ty(c_type);
        let rust_type_name = shape.signed.map(|_| shape.type_name.clone());
        self.push(
            rust_type,
            rust_type_name.clone(),
            item.clone(),
            Property::Size,
            shape.size,
        );
        self.push(
            rust_type,
            rust_type_name.clone(),
            item.clone(),
            Property::Align,
            shape.align,
        );
        if let Some(signed) = shape.signed {
            self.push(
                rust_type,
                rust_type_name,
                item,
                Property::Signed,
                usize::from(signed),
            );
        }
    }

    /// Offset and size of a member, and its signedness if it is an integer. `c_field` overrides
    /// the C member designator derived from the Rust path.
    pub(crate) fn record_member(
        &mut self,
        rust_type: &str,
        c_type: &str,
        rust_path: &str,
        c_field: Option<&str>,
        offset: usize,
        shape: Shape,
    ) {
        let designator = c_field.map_or_else(|| c_member_designator(rust_path), str::to_owned);
        let item = CItem::field(c_type, &designator);
        let rust = format!("{rust_type}.{rust_path}");
        let type_name = Some(shape.type_name.clone());
        self.push(
            &rust,
            type_name.clone(),
            item.clone(),
            Property::Offset,
            offset,
        );
        self.push(
            &rust,
            type_name.clone(),
            item.clone(),
            Property::Size,
            shape.size,
        );
        if let Some(signed) = shape.signed {
            self.push(
                &rust,
                type_name,
                item,
                Property::Signed,
                usize::from(signed),
            );
        }
    }

    pub(crate) fn record_constant(&mut self, rust_name: &str, c_expression: &str, value: i128) {
        self.facts.push(Fact {
            rust: rust_name.to_owned(),
            rust_type: None,
            item: CItem::constant(c_expression),
            property: Property::Value,
            value,
        });
    }

    fn push(
        &mut self,
        rust: &str,
        rust_type: Option<String>,
        item: CItem,
        property: Property,
        value: usize,
    ) {
        let value = i128::try_from(value).expect("layout numbers fit in i128");
        self.facts.push(Fact {
            rust: rust.to_owned(),
            rust_type,
            item,
            property,
            value,
        });
    }
}

/// The C member designator for a bindgen field path: bindgen names C's anonymous structs and
/// unions `__bindgen_anon_N`, which C code skips.
/// `Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation` →
/// `Tail.Overlay.CurrentStackLocation`.
pub fn c_member_designator(rust_path: &str) -> String {
    rust_path
        .split('.')
        .filter(|segment| !is_bindgen_anonymous(segment))
        .collect::<Vec<_>>()
        .join(".")
}

fn is_bindgen_anonymous(segment: &str) -> bool {
    segment
        .strip_prefix("__bindgen_anon_")
        .is_some_and(|number| number.bytes().all(|byte| byte.is_ascii_digit()))
}

/// Records types of module `$module`: for each `RustName as "CName" { field.path => "c.path", … }`
/// the type's size and alignment (and signedness for integer typedefs), and each listed member's
/// offset, size and signedness. `=> "c.path"` is needed only where the C designator is not the
/// Rust path without its `__bindgen_anon_N` segments.
macro_rules! record_structs {
    ($recorder:expr, $($module:ident)::+ => {
        $( $name:ident as $c_type:literal { $( $($segment:ident).+ $(=> $c_field:literal)? ),* $(,)? } ),* $(,)?
    }) => {{
        use $($module)::+ as module;
        let recorder: &mut $crate::rust_side::Recorder = $recorder;
        let rust_module = [$(stringify!($module)),+].join("::");
        $(
            let rust_type = format!("{rust_module}::{}", stringify!($name));
            recorder.record_type(&rust_type, $c_type, $crate::probe::type_shape!(module::$name));
            $(
                let rust_path = [$(stringify!($segment)),+].join(".");
                let (offset, shape) = $crate::probe::member_shape!(module::$name, $($segment).+);
                let c_field = None::<&str>$(.or(Some($c_field)))?;
                recorder.record_member(&rust_type, $c_type, &rust_path, c_field, offset, shape);
            )*
        )*
    }};
}
pub(crate) use record_structs;

/// Records integer constants of module `$module`: `NAME` is compared with the C macro or
/// enumerator of the same name, `NAME => "C expression"` with that expression.
macro_rules! record_constants {
    ($recorder:expr, $($module:ident)::+ => { $( $name:ident $(=> $c_expression:literal)? ),* $(,)? }) => {{
        use $($module)::+ as module;
        let recorder: &mut $crate::rust_side::Recorder = $recorder;
        let rust_module = [$(stringify!($module)),+].join("::");
        $(
            let c_expression = None::<&str>$(.or(Some($c_expression)))?.unwrap_or(stringify!($name));
            let rust_name = format!("{rust_module}::{}", stringify!($name));
            recorder.record_constant(&rust_name, c_expression, i128::from(module::$name));
        )*
    }};
}
pub(crate) use record_constants;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindgen_anonymous_members_vanish_from_c_designators() {
        assert_eq!(
            c_member_designator(
                "Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation"
            ),
            "Tail.Overlay.CurrentStackLocation"
        );
        assert_eq!(c_member_designator("__bindgen_anon_1.Status"), "Status");
        assert_eq!(
            c_member_designator("Parameters.DeviceIoControl.IoControlCode"),
            "Parameters.DeviceIoControl.IoControlCode"
        );
        assert_eq!(c_member_designator("__bindgen_anon_x"), "__bindgen_anon_x");
    }
}
