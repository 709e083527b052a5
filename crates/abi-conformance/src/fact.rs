//! A [`Fact`]: one number the Rust side states about one C item, and how it becomes a C
//! `_Static_assert` whose message says what drifted.

use std::fmt;

/// The C thing a fact is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CItem {
    /// A C type: `IRP`, `ULONG`.
    Type(String),
    /// A member of a C type, as a C member designator: `Tail.Overlay.CurrentStackLocation`.
    Field { ty: String, field: String },
    /// A C integer constant expression: `STATUS_PENDING`, `MAKE_WSK_VERSION(1, 0)`.
    Constant(String),
}

impl CItem {
    pub fn ty(ty: &str) -> CItem {
        CItem::Type(ty.to_owned())
    }

    pub fn field(ty: &str, field: &str) -> CItem {
        CItem::Field {
            ty: ty.to_owned(),
            field: field.to_owned(),
        }
    }

    pub fn constant(expression: &str) -> CItem {
        CItem::Constant(expression.to_owned())
    }

    /// The C type the item belongs to (`None` for a constant).
    pub fn c_type(&self) -> Option<&str> {
        match self {
            CItem::Type(ty) | CItem::Field { ty, .. } => Some(ty),
            CItem::Constant(_) => None,
        }
    }
}

impl fmt::Display for CItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CItem::Type(ty) => write!(f, "{ty}"),
            CItem::Field { ty, field } => write!(f, "{ty}.{field}"),
            CItem::Constant(expression) => write!(f, "{expression}"),
        }
    }
}

/// Which property of the item the fact states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// `sizeof` of a type or of a member.
    Size,
    /// `_Alignof` of a type.
    Align,
    /// `offsetof` of a member from the start of its outermost type.
    Offset,
    /// Whether an integer type or member is signed (1) or unsigned (0).
    Signed,
    /// The value of a constant.
    Value,
}

/// One number the Rust side states about one C item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// Where the number comes from on the Rust side, e.g.
    /// `wdk_model::IRP.Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation`.
    pub rust: String,
    /// The Rust type of a member or scalar (`i16`, `[u8; 4]`), when it helps to read a failure.
    pub rust_type: Option<String>,
    pub item: CItem,
    pub property: Property,
    pub value: i128,
}

impl Fact {
    /// The C integer constant expression whose value the fact states.
    pub fn c_expression(&self) -> String {
        match (&self.item, self.property) {
            (CItem::Type(ty), Property::Size) => format!("sizeof({ty})"),
            (CItem::Type(ty), Property::Align) => format!("_Alignof({ty})"),
            (CItem::Type(ty), Property::Signed) => format!("TYPE_IS_SIGNED({ty})"),
            (CItem::Field { ty, field }, Property::Offset) => format!("offsetof({ty}, {field})"),
            (CItem::Field { ty, field }, Property::Size) => {
                format!("sizeof(MEMBER_OF({ty}, {field}))")
            }
            (CItem::Field { ty, field }, Property::Signed) => {
                format!("TYPE_IS_SIGNED(__typeof__(MEMBER_OF({ty}, {field})))")
            }
            (CItem::Constant(expression), Property::Value) => format!("({expression})"),
            (item, property) => panic!("no C expression states the {property:?} of {item:?}"),
        }
    }

    /// What a reader calls the checked number: `offsetof(IRP, Tail.Overlay.CurrentStackLocation)`.
    pub fn c_description(&self) -> String {
        match (&self.item, self.property) {
            (CItem::Field { ty, field }, Property::Size) => format!("sizeof({ty}.{field})"),
            (item, Property::Signed) => format!("signedness of {item}"),
            (CItem::Constant(expression), Property::Value) => format!("value of {expression}"),
            _ => self.c_expression(),
        }
    }

    /// The failure message: names the C item, the Rust item and the Rust value.
    pub fn message(&self) -> String {
        let rust_type = self
            .rust_type
            .as_deref()
            .map(|ty| format!(" ({ty})"))
            .unwrap_or_default();
        format!(
            "{}: Rust {}{rust_type} says {}",
            self.c_description(),
            self.rust,
            self.rust_value_text()
        )
    }

    /// The message as a C string literal, as gcc also prints it when the assertion fails.
    pub fn c_message_literal(&self) -> String {
        c_string(&self.message())
    }

    /// The `_Static_assert` that holds when C agrees with Rust.
    pub fn c_assertion(&self) -> String {
        format!(
            "_Static_assert({} == {}, {});",
            self.c_expression(),
            c_integer(self.value),
            self.c_message_literal()
        )
    }

    /// The same fact with a wrong value: +8 for numbers, the other answer for signedness.
    /// Feeding these to the checks proves that each check can fail.
    pub fn perturbed(&self) -> Fact {
        let value = match self.property {
            Property::Signed => 1 - self.value,
            _ => self.value + 8,
        };
        Fact {
            value,
            ..self.clone()
        }
    }

    fn rust_value_text(&self) -> String {
        match (self.property, self.value) {
            (Property::Signed, 0) => "unsigned".to_owned(),
            (Property::Signed, 1) => "signed".to_owned(),
            (_, value) => value.to_string(),
        }
    }
}

/// A C integer literal of type `long long`, so that comparisons never depend on the type of the
/// C expression (unsigned `0x8F000001`, negative `NTSTATUS`).
fn c_integer(value: i128) -> String {
    format!("({value}LL)")
}

/// A C string literal.
fn c_string(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for character in text.chars() {
        match character {
            '"' | '\\' => {
                literal.push('\\');
                literal.push(character);
            }
            '\n' => literal.push_str("\\n"),
            _ => literal.push(character),
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_fact() -> Fact {
        Fact {
            rust:
                "wdk_model::IRP.Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation"
                    .to_owned(),
            rust_type: None,
            item: CItem::field("IRP", "Tail.Overlay.CurrentStackLocation"),
            property: Property::Offset,
            value: 184,
        }
    }

    #[test]
    fn an_assertion_names_the_c_item_the_rust_item_and_the_rust_value() {
        assert_eq!(
            offset_fact().c_assertion(),
            "_Static_assert(offsetof(IRP, Tail.Overlay.CurrentStackLocation) == (184LL), \
             \"offsetof(IRP, Tail.Overlay.CurrentStackLocation): Rust \
             wdk_model::IRP.Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation says 184\");"
        );
    }

    #[test]
    fn quotes_in_rust_type_names_are_escaped() {
        let fact = Fact {
            rust_type: Some("Option<unsafe extern \"system\" fn()>".to_owned()),
            ..offset_fact()
        };
        assert!(
            fact.c_assertion()
                .contains(r#"(Option<unsafe extern \"system\" fn()>) says 184"#)
        );
    }

    #[test]
    fn perturbation_adds_eight_or_flips_signedness() {
        assert_eq!(offset_fact().perturbed().value, 192);
        let signed = Fact {
            property: Property::Signed,
            value: 1,
            ..offset_fact()
        };
        assert_eq!(signed.perturbed().value, 0);
    }
}
