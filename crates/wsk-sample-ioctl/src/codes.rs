//! Control codes, the device's names and its interface GUID.

use core::fmt;

// ---------------------------------------------------------------------------
// Control codes
// ---------------------------------------------------------------------------

/// Device type of the sample's control device; values from 0x8000 up are
/// reserved for vendors, so this cannot collide with a Microsoft device type.
pub const FILE_DEVICE_WSK_SAMPLE: u32 = 0x8057;
/// Transfer method: the I/O manager copies input and output through a system
/// buffer, so the driver never touches user addresses.
pub const METHOD_BUFFERED: u32 = 0;
/// Access bits: any handle may issue the request.
pub const FILE_ANY_ACCESS: u32 = 0;
/// Access bits: the handle must have been opened with read access.
pub const FILE_READ_DATA: u32 = 1;
/// Access bits: the handle must have been opened with write access.
pub const FILE_WRITE_DATA: u32 = 2;

/// Builds a control code exactly like the `CTL_CODE` macro of the Windows headers.
pub const fn ctl_code(device_type: u32, function: u32, method: u32, access: u32) -> u32 {
    (device_type << 16) | (access << 14) | (function << 2) | method
}

/// Sends one UDP datagram. Requires write access because it causes network traffic.
pub const IOCTL_WSK_SAMPLE_SEND: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x800,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);
/// Sends a batch of datagrams to one destination with one WskSendMessages. Needs write access.
pub const IOCTL_WSK_SAMPLE_SEND_BATCH: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x803,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);
/// Configures a socket (bind address, fixed destination) or the driver (pool size).
pub const IOCTL_WSK_SAMPLE_CONFIGURE: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x802,
    METHOD_BUFFERED,
    FILE_WRITE_DATA,
);
/// Returns the driver's counters and configuration. Read access suffices: it changes nothing.
pub const IOCTL_WSK_SAMPLE_QUERY_STATS: u32 = ctl_code(
    FILE_DEVICE_WSK_SAMPLE,
    0x801,
    METHOD_BUFFERED,
    FILE_READ_DATA,
);

/// The access bits encoded in a control code (what the I/O manager checks
/// against the handle's granted access before the driver sees the request).
pub const fn required_access(code: u32) -> u32 {
    (code >> 14) & 3
}

/// The function number encoded in a control code.
pub const fn function_code(code: u32) -> u32 {
    (code >> 2) & 0xFFF
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// NT name of the control device the driver creates.
pub const DEVICE_NAME: &str = r"\Device\WskSample";
/// Symbolic link that makes the device reachable from Win32 as `\\.\WskSample`.
pub const SYMBOLIC_LINK_NAME: &str = r"\DosDevices\WskSample";
/// Path the tool passes to `CreateFileW`.
pub const USER_DEVICE_PATH: &str = r"\\.\WskSample";
/// Hardware id of the root-enumerated device node (must match the INX).
pub const HARDWARE_ID: &str = r"Root\WskSample";
/// Device security: only SYSTEM and Administrators may open the device, since
/// it lets the caller send arbitrary datagrams from kernel mode.
pub const DEVICE_SDDL: &str = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";
/// Name of the kernel service that runs the driver (`AddService` and `KmdfService` in the INX,
/// `sc query WskSample`). The driver never names its own service; the INX and the docs do.
pub const SERVICE_NAME: &str = "WskSample";
/// Pool tag for the driver's allocations; little-endian so pool tools show `WskS`.
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"WskS");

/// A GUID with the field split of the Windows `GUID` structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guid {
    /// First 8 hex digits.
    pub data1: u32,
    /// Next 4 hex digits.
    pub data2: u16,
    /// Next 4 hex digits.
    pub data3: u16,
    /// Last 16 hex digits, in display order.
    pub data4: [u8; 8],
}

/// Device interface class the driver registers, so tools can find the device
/// without relying on the symbolic link name.
/// `{FE07D4E4-E55E-4002-9855-94FDE0BB7C6D}`
pub const DEVICE_INTERFACE_GUID: Guid = Guid {
    data1: 0xFE07_D4E4,
    data2: 0xE55E,
    data3: 0x4002,
    data4: [0x98, 0x55, 0x94, 0xFD, 0xE0, 0xBB, 0x7C, 0x6D],
};

impl fmt::Display for Guid {
    /// Registry form: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, uppercase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g, h, i] = self.data4;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{a:02X}{b:02X}-{c:02X}{d:02X}{e:02X}{g:02X}{h:02X}{i:02X}}}",
            self.data1, self.data2, self.data3
        )
    }
}
