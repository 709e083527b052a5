//! Where Wine's headers and the Rust side knowingly disagree, and why the Rust side is the one
//! that matches Microsoft's WDK/SDK headers.
//!
//! An excluded fact is left out of the C file (it appears there as a comment with the reason),
//! but it is still checked: against the reference table when the table has it, and by a test
//! that compiles it alone and expects Wine to *still* disagree, so an exclusion that is no longer
//! needed fails the suite instead of hiding a check forever.

use crate::fact::{CItem, Fact, Property};

/// A group of facts not compared with Wine's headers.
#[derive(Clone, Debug)]
pub struct Exclusion {
    pub item: CItem,
    /// `None` excludes every property of the item.
    pub property: Option<Property>,
    pub reason: &'static str,
}

impl Exclusion {
    pub fn covers(&self, fact: &Fact) -> bool {
        fact.item == self.item
            && self
                .property
                .is_none_or(|property| property == fact.property)
    }
}

const IRP_ALIGNMENT: &str = "Wine 8's wdm.h declares `typedef struct _IRP` without the WDK's \
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT), so its IRP is 8-aligned; the WDK's is 16-aligned on \
    x64 (bindgen output from it is #[repr(C, align(16))]), as the Rust model is. The size (208, a \
    multiple of 16) and every offset are unaffected and compared; the reference table checks the \
    Rust alignment";

const PRE_VISTA_FAMILY: &str = "Wine 8 keeps the pre-Vista `short` address family; Microsoft's \
    ws2def.h/ws2ipdef.h declare it ADDRESS_FAMILY (USHORT) for _WIN32_WINNT >= 0x0600, as the Rust \
    side does. Offset and size are compared";

const IO_RING_CONTEXT: &str = "Windows 11's wdm.h puts UserIosb in an anonymous union with \
    IoRingContext (bindgen's __bindgen_anon_1); Wine 8 has only UserIosb, which is compared";

const DISPATCHER_LOCK: &str = "the WDK's DISPATCHER_HEADER overlays its first four bytes with \
    `LONG Lock`/`LockNV` in an anonymous union; Wine 8 has only the NT 4 bytes Type, Absolute, Size, \
    Inserted there. The offset of SignalState (4) and the sizes are compared";

/// Every known disagreement with Wine 8's headers.
pub fn exclusions() -> Vec<Exclusion> {
    vec![
        Exclusion {
            item: CItem::ty("IRP"),
            property: Some(Property::Align),
            reason: IRP_ALIGNMENT,
        },
        Exclusion {
            item: CItem::field("SOCKADDR_IN", "sin_family"),
            property: Some(Property::Signed),
            reason: PRE_VISTA_FAMILY,
        },
        Exclusion {
            item: CItem::field("SOCKADDR_IN6", "sin6_family"),
            property: Some(Property::Signed),
            reason: PRE_VISTA_FAMILY,
        },
        Exclusion {
            item: CItem::field("IRP", "IoRingContext"),
            property: None,
            reason: IO_RING_CONTEXT,
        },
        Exclusion {
            item: CItem::field("DISPATCHER_HEADER", "Lock"),
            property: None,
            reason: DISPATCHER_LOCK,
        },
        Exclusion {
            item: CItem::field("DISPATCHER_HEADER", "LockNV"),
            property: None,
            reason: DISPATCHER_LOCK,
        },
        Exclusion {
            item: CItem::field("KEVENT", "Header.Lock"),
            property: None,
            reason: DISPATCHER_LOCK,
        },
    ]
}

/// The exclusion covering `fact`, if any.
pub fn exclusion_for<'a>(exclusions: &'a [Exclusion], fact: &Fact) -> Option<&'a Exclusion> {
    exclusions.iter().find(|exclusion| exclusion.covers(fact))
}
