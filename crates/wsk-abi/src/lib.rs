//! The WSK ABI (wsk.h, Windows x64), hand-written because wdk-sys does not bind wsk.h.
//!
//! The one definition in the repository: the driver uses it as `crate::wsk::abi`, the kernel
//! model's WSK provider as `wdk_model::wsk::abi` (both `pub use wsk_abi::*`). Its independent
//! checks are outside this crate: crates/abi-conformance compares every layout and constant with
//! Wine's DDK headers (`ddk/wsk.h`, compiled by mingw-w64) and with the numbers of the project's
//! reference table, which also covers the items Wine's wsk.h lacks (the SIO_WSK codes, the event
//! callback items). The layouts are const-asserted below as well, so a slip fails every build.
//!
//! Kernel types are named through `wdk_sys`, as in the driver: Microsoft's wdk-sys on Windows,
//! the kernel model's type crate (`wdk-model-types`) elsewhere. Names follow wsk.h; where this
//! crate adds a name of its own, its documentation says so.
#![no_std]
#![allow(non_camel_case_types, non_snake_case, clippy::upper_case_acronyms)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The one kernel switch, as in the driver (crates/driver/src/lib.rs): off Windows, `wdk_sys` is
// the kernel model's type crate.
#[cfg(not(target_os = "windows"))]
extern crate wdk_model_types as wdk_sys;

use core::ffi::c_void;

use wdk_sys::{
    GUID, KSPIN_LOCK, NTSTATUS, PEPROCESS, PETHREAD, PIRP, PMDL, PVOID, SIZE_T, ULONG, USHORT,
};

// ---------------------------------------------------------------------------------------------
// Versions, flags and codes
// ---------------------------------------------------------------------------------------------

/// wsk.h: `((USHORT)((Mj) << 8) | (USHORT)((Mn) & 0xff))`.
pub const fn MAKE_WSK_VERSION(major: u16, minor: u16) -> u16 {
    (major << 8) | (minor & 0xff)
}

/// `MAKE_WSK_VERSION(1, 0)`, the only WSK version there is (not a wsk.h name).
pub const MAKE_WSK_VERSION_1_0: USHORT = MAKE_WSK_VERSION(1, 0);

/// WskCaptureProviderNPI's WaitTimeout: return at once, or wait without bound.
pub const WSK_NO_WAIT: ULONG = 0;
pub const WSK_INFINITE_WAIT: ULONG = 0xFFFF_FFFF;
pub const WSK_FLAG_DATAGRAM_SOCKET: ULONG = 0x0000_0004;
/// A WskReceiveFromEvent `Flags` bit: the callback runs at DISPATCH_LEVEL (Learn,
/// PFN_WSK_RECEIVE_FROM_EVENT). Value from Microsoft's wsk.h; Wine's wsk.h lacks it.
pub const WSK_FLAG_AT_DISPATCH_LEVEL: ULONG = 0x0000_0008;

/// `_WSAIOW(IOC_WSK, 0x1)` and `_WSAIOW(IOC_WSK, 0x6)` in Microsoft's wsk.h; Wine's wsk.h has
/// neither, so the reference table is their second source.
pub const SIO_WSK_SET_REMOTE_ADDRESS: ULONG = 0x8F00_0001;
pub const SIO_WSK_SET_SENDTO_ADDRESS: ULONG = 0x8F00_0006;

/// `WSK_CONTROL_SOCKET_TYPE::WskSetOption` (the enum is `int`-sized; WskControlSocket's
/// RequestType).
pub const WSK_SET_OPTION: ULONG = 0;
/// `WSK_CONTROL_SOCKET_TYPE::WskIoctl`.
pub const WSK_IOCTL: ULONG = 2;

/// Windows values (Linux's AF_INET6 is 10).
pub const AF_INET: USHORT = 2;
pub const AF_INET6: USHORT = 23;
pub const SOCK_DGRAM: USHORT = 2;
pub const IPPROTO_UDP: ULONG = 17;
/// ws2def.h: the socket level of WskControlSocket's `Level` (SO_WSK_EVENT_CALLBACK uses it).
pub const SOL_SOCKET: ULONG = 0xFFFF;

/// ws2def.h: the datagram was larger than the buffer (WskReceiveFrom's ControlFlags).
pub const MSG_TRUNC: ULONG = 0x0100;

/// The socket option that enables and disables a socket's event callbacks: WskControlSocket
/// with WskSetOption, SOL_SOCKET and a [`WSK_EVENT_CALLBACK_CONTROL`] as input (Learn,
/// "SO_WSK_EVENT_CALLBACK"). Microsoft's wsk.h: `(WSK_SO_BASE+2)`, with ws2def.h's
/// `WSK_SO_BASE` 0x4000. Not in Wine's wsk.h.
pub const SO_WSK_EVENT_CALLBACK: ULONG = 0x4000 + 2;
/// The event flag of WskReceiveFromEvent (datagram sockets), for
/// `WSK_EVENT_CALLBACK_CONTROL::EventMask` (Microsoft's wsk.h; not in Wine's).
pub const WSK_EVENT_RECEIVE_FROM: ULONG = 0x0000_0100;
/// OR-ed with one event flag to disable that callback; callbacks are disabled one at a time
/// (Learn, WSK_EVENT_CALLBACK_CONTROL). Microsoft's wsk.h; not in Wine's.
pub const WSK_EVENT_DISABLE: ULONG = 0x8000_0000;

/// netioddk.h: an NPI identifier is a GUID.
pub type NPIID = GUID;
/// A pointer to an NPI identifier; the provider only reads through it.
pub type PNPIID = *const NPIID;

/// `NPI_WSK_INTERFACE_ID` {2227E803-8D8B-11D4-ABAD-009027719E09}: wsk.h declares it `extern
/// CONST NPIID`, defined in the WDK's libraries rather than exported by NETIO, so this crate
/// carries its own copy (a static, so pointers to it, as in
/// [`WSK_EVENT_CALLBACK_CONTROL::NpiId`], stay valid). Not in Wine's wsk.h; the reference table
/// is its second source.
pub static NPI_WSK_INTERFACE_ID: NPIID = GUID {
    Data1: 0x2227_E803,
    Data2: 0x8D8B,
    Data3: 0x11D4,
    Data4: [0xAB, 0xAD, 0x00, 0x90, 0x27, 0x71, 0x9E, 0x09],
};

// ---------------------------------------------------------------------------------------------
// Registration and the NPIs
// ---------------------------------------------------------------------------------------------

pub type PFN_WSK_CLIENT_EVENT = Option<
    unsafe extern "system" fn(
        ClientContext: PVOID,
        EventType: ULONG,
        Information: PVOID,
        InformationLength: SIZE_T,
    ) -> NTSTATUS,
>;

#[repr(C)]
pub struct WSK_CLIENT_DISPATCH {
    pub Version: USHORT,
    pub Reserved: USHORT,
    pub WskClientEvent: PFN_WSK_CLIENT_EVENT,
}

#[repr(C)]
pub struct WSK_CLIENT_NPI {
    pub ClientContext: PVOID,
    pub Dispatch: *const WSK_CLIENT_DISPATCH,
}

/// Opaque to the client; must stay allocated from WskRegister until WskDeregister returns.
/// wsk.h's first member is a ULONGLONG.
#[repr(C)]
pub struct WSK_REGISTRATION {
    pub ReservedRegistrationState: u64,
    pub ReservedRegistrationContext: PVOID,
    pub ReservedRegistrationLock: KSPIN_LOCK,
}

/// Opaque provider handle from WskCaptureProviderNPI.
#[repr(C)]
pub struct WSK_CLIENT {
    _opaque: [u8; 0],
}

/// The entries of [`WSK_PROVIDER_DISPATCH`] that neither the driver nor the model calls:
/// nullable function pointers of the right size, with no signature transcribed (not a wsk.h
/// name; calling through one is a bug).
pub type PFN_WSK_UNSUPPORTED = Option<unsafe extern "system" fn() -> NTSTATUS>;

pub type PFN_WSK_SOCKET = Option<
    unsafe extern "system" fn(
        Client: *mut WSK_CLIENT,
        AddressFamily: USHORT,
        SocketType: USHORT,
        Protocol: ULONG,
        Flags: ULONG,
        SocketContext: PVOID,
        Dispatch: *const c_void,
        OwningProcess: PEPROCESS,
        OwningThread: PETHREAD,
        SecurityDescriptor: PVOID,
        Irp: PIRP,
    ) -> NTSTATUS,
>;

#[repr(C)]
pub struct WSK_PROVIDER_DISPATCH {
    pub Version: USHORT,
    pub Reserved: USHORT,
    pub WskSocket: PFN_WSK_SOCKET,
    pub WskSocketConnect: PFN_WSK_UNSUPPORTED,
    pub WskControlClient: PFN_WSK_UNSUPPORTED,
    pub WskGetAddressInfo: PFN_WSK_UNSUPPORTED,
    pub WskFreeAddressInfo: PFN_WSK_UNSUPPORTED,
    pub WskGetNameInfo: PFN_WSK_UNSUPPORTED,
}

#[repr(C)]
pub struct WSK_PROVIDER_NPI {
    pub Client: *mut WSK_CLIENT,
    pub Dispatch: *const WSK_PROVIDER_DISPATCH,
}

// ---------------------------------------------------------------------------------------------
// Sockets, buffers and addresses
// ---------------------------------------------------------------------------------------------

/// `Dispatch` points to the provider dispatch table of the socket's category.
#[repr(C)]
pub struct WSK_SOCKET {
    pub Dispatch: *const c_void,
}

#[repr(C)]
pub struct WSK_BUF {
    pub Mdl: PMDL,
    pub Offset: ULONG,
    pub Length: SIZE_T,
}

#[repr(C)]
pub struct WSK_BUF_LIST {
    pub Next: *mut WSK_BUF_LIST,
    pub Buffer: WSK_BUF,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct SOCKADDR {
    pub sa_family: USHORT,
    pub sa_data: [u8; 14],
}
pub type PSOCKADDR = *mut SOCKADDR;

/// `sin_addr` is an IN_ADDR (a union holding a ULONG), so the structure is 4-aligned.
#[repr(C, align(4))]
#[derive(Clone, Copy, Default)]
pub struct SOCKADDR_IN {
    pub sin_family: USHORT,
    /// Network byte order.
    pub sin_port: USHORT,
    pub sin_addr: [u8; 4],
    pub sin_zero: [u8; 8],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SOCKADDR_IN6 {
    pub sin6_family: USHORT,
    /// Network byte order.
    pub sin6_port: USHORT,
    pub sin6_flowinfo: ULONG,
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: ULONG,
}

// ---------------------------------------------------------------------------------------------
// The datagram socket: provider dispatch
// ---------------------------------------------------------------------------------------------

pub type PFN_WSK_CONTROL_SOCKET = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        RequestType: ULONG,
        ControlCode: ULONG,
        Level: ULONG,
        InputSize: SIZE_T,
        InputBuffer: PVOID,
        OutputSize: SIZE_T,
        OutputBuffer: PVOID,
        OutputSizeReturned: *mut SIZE_T,
        Irp: PIRP,
    ) -> NTSTATUS,
>;
pub type PFN_WSK_CLOSE_SOCKET =
    Option<unsafe extern "system" fn(Socket: *mut WSK_SOCKET, Irp: PIRP) -> NTSTATUS>;
pub type PFN_WSK_BIND = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        LocalAddress: *mut SOCKADDR,
        Flags: ULONG,
        Irp: PIRP,
    ) -> NTSTATUS,
>;
pub type PFN_WSK_SEND_TO = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        Buffer: *mut WSK_BUF,
        Flags: ULONG,
        RemoteAddress: *mut SOCKADDR,
        ControlInfoLength: ULONG,
        ControlInfo: PVOID,
        Irp: PIRP,
    ) -> NTSTATUS,
>;
pub type PFN_WSK_RECEIVE_FROM = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        Buffer: *mut WSK_BUF,
        Flags: ULONG,
        RemoteAddress: *mut SOCKADDR,
        ControlLength: *mut ULONG,
        ControlInfo: PVOID,
        ControlFlags: *mut ULONG,
        Irp: PIRP,
    ) -> NTSTATUS,
>;
/// The datagram dispatch's `WskRelease`: gives back a list of indications the client kept
/// (its WskReceiveFromEvent returned STATUS_PENDING). wsk.h (Microsoft's and Wine's):
/// `(PWSK_SOCKET Socket, PWSK_DATAGRAM_INDICATION DatagramIndication)`.
pub type PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        DatagramIndication: PWSK_DATAGRAM_INDICATION,
    ) -> NTSTATUS,
>;
pub type PFN_WSK_GET_LOCAL_ADDRESS = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        LocalAddress: *mut SOCKADDR,
        Irp: PIRP,
    ) -> NTSTATUS,
>;
pub type PFN_WSK_SEND_MESSAGES = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        BufferList: *mut WSK_BUF_LIST,
        Flags: ULONG,
        RemoteAddress: *mut SOCKADDR,
        ControlInfoLength: ULONG,
        ControlInfo: PVOID,
        Irp: PIRP,
    ) -> NTSTATUS,
>;

/// The datagram category's dispatch table; the basic-socket part is spelled out as its first
/// two members (same layout as wsk.h's unnamed WSK_PROVIDER_BASIC_DISPATCH, which Wine names
/// `Basic`).
#[repr(C)]
pub struct WSK_PROVIDER_DATAGRAM_DISPATCH {
    pub WskControlSocket: PFN_WSK_CONTROL_SOCKET,
    pub WskCloseSocket: PFN_WSK_CLOSE_SOCKET,
    pub WskBind: PFN_WSK_BIND,
    pub WskSendTo: PFN_WSK_SEND_TO,
    pub WskReceiveFrom: PFN_WSK_RECEIVE_FROM,
    pub WskRelease: PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST,
    pub WskGetLocalAddress: PFN_WSK_GET_LOCAL_ADDRESS,
    /// Windows 8 and later.
    pub WskSendMessages: PFN_WSK_SEND_MESSAGES,
}

// ---------------------------------------------------------------------------------------------
// The datagram socket: receive event callback
// ---------------------------------------------------------------------------------------------

/// One received datagram of the list WskReceiveFromEvent is given (wsk.h, Microsoft's and
/// Wine's). `ControlInfo` is a PCMSGHDR (`ControlInfoLength` bytes of control data), kept
/// untyped here as in WskSendTo.
#[repr(C)]
pub struct WSK_DATAGRAM_INDICATION {
    pub Next: *mut WSK_DATAGRAM_INDICATION,
    pub Buffer: WSK_BUF,
    pub ControlInfo: PVOID,
    pub ControlInfoLength: ULONG,
    pub RemoteAddress: PSOCKADDR,
}
pub type PWSK_DATAGRAM_INDICATION = *mut WSK_DATAGRAM_INDICATION;

/// The client's WskReceiveFromEvent (Learn, PFN_WSK_RECEIVE_FROM_EVENT): `Flags` may hold
/// MSG_BCAST, MSG_MCAST, WSK_FLAG_AT_DISPATCH_LEVEL; a NULL `DataIndication` means the socket
/// no longer works and must be closed. Returns STATUS_SUCCESS (all retrieved), STATUS_PENDING
/// (kept until WskRelease) or STATUS_DATA_NOT_ACCEPTED. Not in Wine's wsk.h.
pub type PFN_WSK_RECEIVE_FROM_EVENT = Option<
    unsafe extern "system" fn(
        SocketContext: PVOID,
        Flags: ULONG,
        DataIndication: PWSK_DATAGRAM_INDICATION,
    ) -> NTSTATUS,
>;

/// The client's event callbacks for a datagram socket, passed as WskSocket's `Dispatch` (Learn,
/// WSK_CLIENT_DATAGRAM_DISPATCH). Not in Wine's wsk.h.
#[repr(C)]
pub struct WSK_CLIENT_DATAGRAM_DISPATCH {
    pub WskReceiveFromEvent: PFN_WSK_RECEIVE_FROM_EVENT,
}

/// SO_WSK_EVENT_CALLBACK's input (Learn, WSK_EVENT_CALLBACK_CONTROL): `NpiId` points to
/// [`NPI_WSK_INTERFACE_ID`] for the standard callbacks; `EventMask` ORs WSK_EVENT_* flags.
/// Not in Wine's wsk.h.
#[repr(C)]
pub struct WSK_EVENT_CALLBACK_CONTROL {
    pub NpiId: PNPIID,
    pub EventMask: ULONG,
}

// ---------------------------------------------------------------------------------------------
// NETIO.SYS exports
// ---------------------------------------------------------------------------------------------

// netio.lib on Windows (the root build.rs links it); the kernel model's provider defines them
// elsewhere (crates/wdk-model/src/wsk/registration.rs).
unsafe extern "system" {
    pub fn WskRegister(
        WskClientNpi: *mut WSK_CLIENT_NPI,
        WskRegistration: *mut WSK_REGISTRATION,
    ) -> NTSTATUS;
    pub fn WskDeregister(WskRegistration: *mut WSK_REGISTRATION);
    pub fn WskCaptureProviderNPI(
        WskRegistration: *mut WSK_REGISTRATION,
        WaitTimeout: ULONG,
        WskProviderNpi: *mut WSK_PROVIDER_NPI,
    ) -> NTSTATUS;
    pub fn WskReleaseProviderNPI(WskRegistration: *mut WSK_REGISTRATION);
}

// ---------------------------------------------------------------------------------------------
// Layouts: the Windows x64 numbers of the reference table (shared/reference/wsk-abi.md), and
// for WSK_EVENT_CALLBACK_CONTROL (not in the table) a pointer then a ULONG, padded to 8.
// ---------------------------------------------------------------------------------------------
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<WSK_SOCKET>() == 8);
    assert!(
        size_of::<WSK_CLIENT_DISPATCH>() == 16
            && offset_of!(WSK_CLIENT_DISPATCH, WskClientEvent) == 8
    );
    assert!(size_of::<WSK_CLIENT_NPI>() == 16 && offset_of!(WSK_CLIENT_NPI, Dispatch) == 8);
    assert!(size_of::<WSK_REGISTRATION>() == 24);
    assert!(size_of::<WSK_PROVIDER_NPI>() == 16 && offset_of!(WSK_PROVIDER_NPI, Dispatch) == 8);
    assert!(
        size_of::<WSK_PROVIDER_DISPATCH>() == 56
            && offset_of!(WSK_PROVIDER_DISPATCH, WskSocket) == 8
    );
    assert!(offset_of!(WSK_PROVIDER_DISPATCH, WskGetNameInfo) == 48);
    assert!(size_of::<WSK_PROVIDER_DATAGRAM_DISPATCH>() == 64);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskCloseSocket) == 8);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskBind) == 16);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskSendTo) == 24);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskReceiveFrom) == 32);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskRelease) == 40);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskGetLocalAddress) == 48);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskSendMessages) == 56);
    assert!(
        size_of::<WSK_BUF>() == 24
            && offset_of!(WSK_BUF, Offset) == 8
            && offset_of!(WSK_BUF, Length) == 16
    );
    assert!(size_of::<WSK_BUF_LIST>() == 32 && offset_of!(WSK_BUF_LIST, Buffer) == 8);
    assert!(size_of::<SOCKADDR>() == 16);
    assert!(align_of::<SOCKADDR_IN>() == 4);
    assert!(
        size_of::<SOCKADDR_IN>() == 16
            && offset_of!(SOCKADDR_IN, sin_port) == 2
            && offset_of!(SOCKADDR_IN, sin_addr) == 4
    );
    assert!(size_of::<SOCKADDR_IN6>() == 28 && offset_of!(SOCKADDR_IN6, sin6_flowinfo) == 4);
    assert!(
        offset_of!(SOCKADDR_IN6, sin6_addr) == 8 && offset_of!(SOCKADDR_IN6, sin6_scope_id) == 24
    );
    assert!(size_of::<WSK_DATAGRAM_INDICATION>() == 56);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, Buffer) == 8);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, ControlInfo) == 32);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, ControlInfoLength) == 40);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, RemoteAddress) == 48);
    assert!(size_of::<WSK_CLIENT_DATAGRAM_DISPATCH>() == 8);
    assert!(
        size_of::<WSK_EVENT_CALLBACK_CONTROL>() == 16
            && offset_of!(WSK_EVENT_CALLBACK_CONTROL, EventMask) == 8
    );
    assert!(size_of::<NPIID>() == 16);
};
