//! The second, independent source: the numbers of shared/reference/wsk-abi.md (Windows x64),
//! written out here so the test does not depend on a file outside the repository. Only items
//! the Rust side defines are listed; each must be stated by every Rust side that describes its
//! type, with the same value. A few receive-event numbers the table lacks are added from
//! Microsoft's wsk.h as Learn documents it; [`event_callback_extras`] says which and where.

use crate::fact::{CItem, Fact, Property};

/// One number of the reference table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub item: CItem,
    pub property: Property,
    pub value: i128,
}

impl Expected {
    pub fn matches_item_of(&self, fact: &Fact) -> bool {
        fact.item == self.item && fact.property == self.property
    }
}

/// Facts whose value differs from the reference table's, one readable line each.
pub fn disagreements(facts: &[Fact], table: &[Expected]) -> Vec<String> {
    facts
        .iter()
        .filter_map(|fact| {
            let expected = table
                .iter()
                .find(|expected| expected.matches_item_of(fact))?;
            (expected.value != fact.value).then(|| {
                format!(
                    "{}, but the reference table says {}",
                    fact.message(),
                    expected.value
                )
            })
        })
        .collect()
}

/// `NPI_WSK_INTERFACE_ID` as the reference table writes it.
pub const NPI_WSK_INTERFACE_ID: &str = "{2227E803-8D8B-11D4-ABAD-009027719E09}";

/// The reference table.
pub fn reference_table() -> Vec<Expected> {
    [
        wsk_layouts(),
        kernel_layouts(),
        wsk_constants(),
        kernel_constants(),
    ]
    .concat()
}

fn wsk_layouts() -> Vec<Expected> {
    let mut table = vec![size("WSK_SOCKET", 8), offset("WSK_SOCKET", "Dispatch", 0)];
    table.extend(struct_layout(
        "WSK_CLIENT_DISPATCH",
        16,
        &[("Version", 0), ("Reserved", 2), ("WskClientEvent", 8)],
    ));
    table.extend([
        member_size("WSK_CLIENT_DISPATCH", "Version", 2),
        member_size("WSK_CLIENT_DISPATCH", "Reserved", 2),
    ]);
    table.extend(struct_layout(
        "WSK_CLIENT_NPI",
        16,
        &[("ClientContext", 0), ("Dispatch", 8)],
    ));
    table.extend(struct_layout(
        "WSK_REGISTRATION",
        24,
        &[
            ("ReservedRegistrationState", 0),
            ("ReservedRegistrationContext", 8),
            ("ReservedRegistrationLock", 16),
        ],
    ));
    table.extend(struct_layout(
        "WSK_PROVIDER_NPI",
        16,
        &[("Client", 0), ("Dispatch", 8)],
    ));
    table.extend(struct_layout(
        "WSK_PROVIDER_DISPATCH",
        56,
        &[
            ("Version", 0),
            ("Reserved", 2),
            ("WskSocket", 8),
            ("WskSocketConnect", 16),
            ("WskControlClient", 24),
            ("WskGetAddressInfo", 32),
            ("WskFreeAddressInfo", 40),
            ("WskGetNameInfo", 48),
        ],
    ));
    table.extend(struct_layout(
        "WSK_PROVIDER_DATAGRAM_DISPATCH",
        64,
        &[
            ("Basic.WskControlSocket", 0),
            ("Basic.WskCloseSocket", 8),
            ("WskBind", 16),
            ("WskSendTo", 24),
            ("WskReceiveFrom", 32),
            ("WskRelease", 40),
            ("WskGetLocalAddress", 48),
            ("WskSendMessages", 56),
        ],
    ));
    table.extend(struct_layout(
        "WSK_BUF",
        24,
        &[("Mdl", 0), ("Offset", 8), ("Length", 16)],
    ));
    table.extend(integer_member("WSK_BUF", "Offset", 4, false));
    table.extend(integer_member("WSK_BUF", "Length", 8, false));
    table.extend(struct_layout(
        "WSK_BUF_LIST",
        32,
        &[("Next", 0), ("Buffer", 8)],
    ));
    table.extend(struct_layout(
        "SOCKADDR_IN",
        16,
        &[
            ("sin_family", 0),
            ("sin_port", 2),
            ("sin_addr", 4),
            ("sin_zero", 8),
        ],
    ));
    table.extend(integer_member("SOCKADDR_IN", "sin_family", 2, false));
    // Not in the table's text but in ws2def.h/inaddr.h: sin_addr is an IN_ADDR, a union holding
    // `ULONG S_addr`, so the structure is 4-aligned (and SOCKADDR_IN6 by its ULONG members).
    table.push(align("SOCKADDR_IN", 4));
    table.extend(struct_layout(
        "SOCKADDR_IN6",
        28,
        &[
            ("sin6_family", 0),
            ("sin6_port", 2),
            ("sin6_flowinfo", 4),
            ("sin6_addr", 8),
            ("sin6_scope_id", 24),
        ],
    ));
    table.push(align("SOCKADDR_IN6", 4));
    table.extend(struct_layout(
        "WSK_DATAGRAM_INDICATION",
        56,
        &[
            ("Next", 0),
            ("Buffer", 8),
            ("ControlInfo", 32),
            ("ControlInfoLength", 40),
            ("RemoteAddress", 48),
        ],
    ));
    table.extend(integer_member(
        "WSK_DATAGRAM_INDICATION",
        "ControlInfoLength",
        4,
        false,
    ));
    table.extend(struct_layout(
        "WSK_CLIENT_DATAGRAM_DISPATCH",
        8,
        &[("WskReceiveFromEvent", 0)],
    ));
    table.extend(event_callback_extras());
    table
}

/// Not in the reference table's text. WSK_EVENT_CALLBACK_CONTROL is `{ PNPIID NpiId; ULONG
/// EventMask; }` (Learn, "WSK_EVENT_CALLBACK_CONTROL structure (wsk.h)"): a pointer, then a
/// ULONG, padded to the pointer's 8 bytes on x64. The constants are Microsoft's wsk.h values:
/// `SO_WSK_EVENT_CALLBACK (WSK_SO_BASE+2)` with ws2def.h's `WSK_SO_BASE 0x4000`, and
/// `WSK_EVENT_DISABLE 0x80000000`.
fn event_callback_extras() -> Vec<Expected> {
    let mut table = struct_layout(
        "WSK_EVENT_CALLBACK_CONTROL",
        16,
        &[("NpiId", 0), ("EventMask", 8)],
    );
    table.extend(integer_member(
        "WSK_EVENT_CALLBACK_CONTROL",
        "EventMask",
        4,
        false,
    ));
    table.extend([
        value("SO_WSK_EVENT_CALLBACK", 0x4002),
        value("WSK_EVENT_DISABLE", 0x8000_0000),
    ]);
    table
}

fn kernel_layouts() -> Vec<Expected> {
    let mut table = struct_layout("IO_STATUS_BLOCK", 16, &[("Status", 0), ("Information", 8)]);
    table.extend(integer_member("IO_STATUS_BLOCK", "Status", 4, true));
    table.extend(integer_member("IO_STATUS_BLOCK", "Information", 8, false));
    table.extend(struct_layout(
        "MDL",
        48,
        &[
            ("Next", 0),
            ("Size", 8),
            ("MdlFlags", 10),
            ("Process", 16),
            ("MappedSystemVa", 24),
            ("StartVa", 32),
            ("ByteCount", 40),
            ("ByteOffset", 44),
        ],
    ));
    table.extend(integer_member("MDL", "Size", 2, true));
    table.extend(integer_member("MDL", "MdlFlags", 2, true));
    table.extend(integer_member("MDL", "ByteCount", 4, false));
    table.extend(integer_member("MDL", "ByteOffset", 4, false));
    table.extend(struct_layout("IRP", 208, IRP_OFFSETS));
    // Not in the table's text but in the WDK's wdm.h: DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT).
    table.push(align("IRP", 16));
    table.extend(struct_layout(
        "IO_STACK_LOCATION",
        72,
        IO_STACK_LOCATION_OFFSETS,
    ));
    table.extend([size("KEVENT", 24), size("KSPIN_LOCK", 8)]);
    table
}

const IRP_OFFSETS: &[(&str, i128)] = &[
    ("Type", 0),
    ("Size", 2),
    ("MdlAddress", 8),
    ("Flags", 16),
    ("AssociatedIrp", 24),
    ("ThreadListEntry", 32),
    ("IoStatus", 48),
    ("RequestorMode", 64),
    ("PendingReturned", 65),
    ("StackCount", 66),
    ("CurrentLocation", 67),
    ("Cancel", 68),
    ("CancelIrql", 69),
    ("ApcEnvironment", 70),
    ("AllocationFlags", 71),
    ("UserIosb", 72),
    ("UserEvent", 80),
    ("Overlay", 88),
    ("CancelRoutine", 104),
    ("UserBuffer", 112),
    ("Tail", 120),
    ("Tail.Overlay.CurrentStackLocation", 184),
];

const IO_STACK_LOCATION_OFFSETS: &[(&str, i128)] = &[
    ("MajorFunction", 0),
    ("MinorFunction", 1),
    ("Flags", 2),
    ("Control", 3),
    ("Parameters", 8),
    ("DeviceObject", 40),
    ("FileObject", 48),
    ("CompletionRoutine", 56),
    ("Context", 64),
    // From the stack location's start; the windows-sys 0.61 struct gets these wrong.
    ("Parameters.DeviceIoControl.OutputBufferLength", 8),
    ("Parameters.DeviceIoControl.InputBufferLength", 16),
    ("Parameters.DeviceIoControl.IoControlCode", 24),
    ("Parameters.DeviceIoControl.Type3InputBuffer", 32),
];

fn wsk_constants() -> Vec<Expected> {
    vec![
        value("MAKE_WSK_VERSION(1, 0)", 0x0100),
        value("WSK_NO_WAIT", 0),
        value("WSK_INFINITE_WAIT", 0xFFFF_FFFF),
        value("WSK_FLAG_DATAGRAM_SOCKET", 4),
        value("SIO_WSK_SET_REMOTE_ADDRESS", 0x8F00_0001),
        value("SIO_WSK_SET_SENDTO_ADDRESS", 0x8F00_0006),
        value("WskSetOption", 0),
        value("WskIoctl", 2),
        value("WSK_EVENT_RECEIVE_FROM", 0x100),
        value("AF_INET", 2),
        value("AF_INET6", 23),
        value("SOCK_DGRAM", 2),
        value("IPPROTO_UDP", 17),
        value("SOL_SOCKET", 0xFFFF),
    ]
}

fn kernel_constants() -> Vec<Expected> {
    let mut table = vec![
        value("SL_PENDING_RETURNED", 0x01),
        value("SL_INVOKE_ON_CANCEL", 0x20),
        value("SL_INVOKE_ON_SUCCESS", 0x40),
        value("SL_INVOKE_ON_ERROR", 0x80),
        value("IO_TYPE_IRP", 6),
        value("MDL_MAPPED_TO_SYSTEM_VA", 0x1),
        value("MDL_PAGES_LOCKED", 0x2),
        value("MDL_SOURCE_IS_NONPAGED_POOL", 0x4),
    ];
    table.extend(
        STATUS_CODES
            .iter()
            .map(|&(name, code)| value(name, ntstatus(code))),
    );
    table
}

const STATUS_CODES: &[(&str, u32)] = &[
    ("STATUS_SUCCESS", 0),
    ("STATUS_PENDING", 0x103),
    ("STATUS_MORE_PROCESSING_REQUIRED", 0xC000_0016),
    ("STATUS_INVALID_PARAMETER", 0xC000_000D),
    ("STATUS_INVALID_HANDLE", 0xC000_0008),
    ("STATUS_INVALID_DEVICE_STATE", 0xC000_0184),
    ("STATUS_INVALID_DEVICE_REQUEST", 0xC000_0010),
    ("STATUS_CANCELLED", 0xC000_0120),
    ("STATUS_FILE_FORCED_CLOSED", 0xC000_00B6),
    ("STATUS_DEVICE_NOT_READY", 0xC000_00A3),
    ("STATUS_NOINTERFACE", 0xC000_02B9),
    ("STATUS_INSUFFICIENT_RESOURCES", 0xC000_009A),
    ("STATUS_NOT_IMPLEMENTED", 0xC000_0002),
    ("STATUS_NOT_SUPPORTED", 0xC000_00BB),
    ("STATUS_BUFFER_TOO_SMALL", 0xC000_0023),
    ("STATUS_ADDRESS_ALREADY_ASSOCIATED", 0xC000_0238),
    ("STATUS_ADDRESS_ALREADY_EXISTS", 0xC000_020A),
    ("STATUS_NETWORK_UNREACHABLE", 0xC000_023C),
    ("STATUS_HOST_UNREACHABLE", 0xC000_023D),
    ("STATUS_PORT_UNREACHABLE", 0xC000_023F),
];

/// An NTSTATUS is a LONG: codes with the severity bits set are negative.
fn ntstatus(code: u32) -> i128 {
    i128::from(i32::from_ne_bytes(code.to_ne_bytes()))
}

/// A struct's size and the offsets of the named members.
fn struct_layout(ty: &str, struct_size: i128, offsets: &[(&str, i128)]) -> Vec<Expected> {
    let mut table = vec![size(ty, struct_size)];
    table.extend(offsets.iter().map(|&(field, at)| offset(ty, field, at)));
    table
}

/// An integer member's size and signedness.
fn integer_member(ty: &str, field: &str, bytes: i128, signed: bool) -> [Expected; 2] {
    [
        member_size(ty, field, bytes),
        Expected {
            item: CItem::field(ty, field),
            property: Property::Signed,
            value: i128::from(signed),
        },
    ]
}

fn size(ty: &str, value: i128) -> Expected {
    Expected {
        item: CItem::ty(ty),
        property: Property::Size,
        value,
    }
}

fn align(ty: &str, value: i128) -> Expected {
    Expected {
        item: CItem::ty(ty),
        property: Property::Align,
        value,
    }
}

fn offset(ty: &str, field: &str, value: i128) -> Expected {
    Expected {
        item: CItem::field(ty, field),
        property: Property::Offset,
        value,
    }
}

fn member_size(ty: &str, field: &str, value: i128) -> Expected {
    Expected {
        item: CItem::field(ty, field),
        property: Property::Size,
        value,
    }
}

fn value(expression: &str, value: i128) -> Expected {
    Expected {
        item: CItem::constant(expression),
        property: Property::Value,
        value,
    }
}

/// The in-memory bytes of a GUID written `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`: Data1..Data3
/// little-endian, Data4 as written.
pub fn guid_bytes(text: &str) -> [u8; 16] {
    let digits: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    assert_eq!(digits.len(), 32, "{text} is not a GUID");
    let byte_at = |index: usize| {
        u8::from_str_radix(&digits[2 * index..2 * index + 2], 16).expect("hex digits")
    };
    let written: Vec<u8> = (0..16).map(byte_at).collect();
    let mut bytes = [0u8; 16];
    for (target, source) in [
        (0, 3),
        (1, 2),
        (2, 1),
        (3, 0),
        (4, 5),
        (5, 4),
        (6, 7),
        (7, 6),
    ] {
        bytes[target] = written[source];
    }
    bytes[8..].copy_from_slice(&written[8..]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_fields_are_little_endian_in_memory() {
        assert_eq!(
            guid_bytes("{00112233-4455-6677-8899-AABBCCDDEEFF}"),
            [
                0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD,
                0xEE, 0xFF
            ]
        );
    }

    #[test]
    fn ntstatus_error_codes_are_negative() {
        assert_eq!(ntstatus(0xC000_0016), -1_073_741_802);
        assert_eq!(ntstatus(0x103), 0x103);
    }
}
