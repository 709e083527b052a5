//! The WSK ABI (wsk.h, Windows x64), hand-written because wdk-sys does not bind wsk.h.
//! Layouts are const-asserted against shared/reference/wsk-abi.md below and checked against an
//! independent C definition in CI.
#![allow(
    non_camel_case_types,
    non_snake_case,
    dead_code,
    clippy::upper_case_acronyms
)]

use core::ffi::c_void;

use wdk_sys::{
    KSPIN_LOCK, NTSTATUS, PEPROCESS, PETHREAD, PIRP, PMDL, PVOID, SIZE_T, ULONG, USHORT,
};

pub const fn MAKE_WSK_VERSION(major: u16, minor: u16) -> u16 {
    (major << 8) | minor
}

pub const WSK_NO_WAIT: ULONG = 0;
pub const WSK_FLAG_DATAGRAM_SOCKET: ULONG = 0x0000_0004;
pub const SIO_WSK_SET_REMOTE_ADDRESS: ULONG = 0x8F00_0001;
pub const SIO_WSK_SET_SENDTO_ADDRESS: ULONG = 0x8F00_0006;
/// `WSK_CONTROL_SOCKET_TYPE::WskIoctl`.
pub const WSK_IOCTL: ULONG = 2;
/// Windows values (Linux's AF_INET6 is 10).
pub const AF_INET: USHORT = 2;
pub const AF_INET6: USHORT = 23;
pub const SOCK_DGRAM: USHORT = 2;
pub const IPPROTO_UDP: ULONG = 17;

/// `NPI_WSK_INTERFACE_ID` {2227E803-8D8B-11D4-ABAD-009027719E09}; comes from the WDK's
/// libraries, not a NETIO export, so the driver carries its own copy.
pub const NPI_WSK_INTERFACE_ID: [u8; 16] = [
    0x03, 0xE8, 0x27, 0x22, 0x8B, 0x8D, 0xD4, 0x11, 0xAB, 0xAD, 0x00, 0x90, 0x27, 0x71, 0x9E, 0x09,
];

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
pub struct SOCKADDR {
    pub sa_family: USHORT,
    pub sa_data: [u8; 14],
}

/// `sin_addr` is an IN_ADDR (a union holding a ULONG), so the structure is 4-aligned.
#[repr(C, align(4))]
#[derive(Clone, Copy)]
pub struct SOCKADDR_IN {
    pub sin_family: USHORT,
    pub sin_port: USHORT,
    pub sin_addr: [u8; 4],
    pub sin_zero: [u8; 8],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct SOCKADDR_IN6 {
    pub sin6_family: USHORT,
    pub sin6_port: USHORT,
    pub sin6_flowinfo: ULONG,
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: ULONG,
}

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
    pub WskSocketConnect: PVOID,
    pub WskControlClient: PVOID,
    pub WskGetAddressInfo: PVOID,
    pub WskFreeAddressInfo: PVOID,
    pub WskGetNameInfo: PVOID,
}

#[repr(C)]
pub struct WSK_PROVIDER_NPI {
    pub Client: *mut WSK_CLIENT,
    pub Dispatch: *const WSK_PROVIDER_DISPATCH,
}

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

/// ws2def.h: the datagram was larger than the buffer (WskReceiveFrom's ControlFlags).
pub const MSG_TRUNC: ULONG = 0x0100;

/// The datagram category's dispatch table; the basic-socket part is spelled out as its first
/// two members (same layout as wsk.h's unnamed WSK_PROVIDER_BASIC_DISPATCH).
#[repr(C)]
pub struct WSK_PROVIDER_DATAGRAM_DISPATCH {
    pub WskControlSocket: PFN_WSK_CONTROL_SOCKET,
    pub WskCloseSocket: PFN_WSK_CLOSE_SOCKET,
    pub WskBind: PFN_WSK_BIND,
    pub WskSendTo: PFN_WSK_SEND_TO,
    pub WskReceiveFrom: PFN_WSK_RECEIVE_FROM,
    pub WskRelease: PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST,
    pub WskGetLocalAddress: PFN_WSK_GET_LOCAL_ADDRESS,
    pub WskSendMessages: PFN_WSK_SEND_MESSAGES,
}

// NETIO.SYS exports (netio.lib on Windows; the kernel model's provider elsewhere).
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

const _: () = {
    use core::mem::{offset_of, size_of};
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
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskGetLocalAddress) == 48);
    assert!(offset_of!(WSK_PROVIDER_DATAGRAM_DISPATCH, WskSendMessages) == 56);
    assert!(
        size_of::<WSK_BUF>() == 24
            && offset_of!(WSK_BUF, Offset) == 8
            && offset_of!(WSK_BUF, Length) == 16
    );
    assert!(size_of::<WSK_BUF_LIST>() == 32 && offset_of!(WSK_BUF_LIST, Buffer) == 8);
    assert!(size_of::<SOCKADDR>() == 16);
    assert!(
        size_of::<SOCKADDR_IN>() == 16
            && offset_of!(SOCKADDR_IN, sin_port) == 2
            && offset_of!(SOCKADDR_IN, sin_addr) == 4
    );
    assert!(size_of::<SOCKADDR_IN6>() == 28 && offset_of!(SOCKADDR_IN6, sin6_flowinfo) == 4);
    assert!(
        offset_of!(SOCKADDR_IN6, sin6_addr) == 8 && offset_of!(SOCKADDR_IN6, sin6_scope_id) == 24
    );
};

// ---- receive-event callback ABI (moves to the wsk-abi crate at merge) ----
// wsk.h (Windows x64): layouts as shared/reference/wsk-abi.md gives them
// (WSK_CLIENT_DATAGRAM_DISPATCH 8 bytes, WSK_DATAGRAM_INDICATION 56); values from wsk.h and
// mswsockdef.h (WSK_SO_BASE 0x4000).

#[repr(C)]
pub struct WSK_DATAGRAM_INDICATION {
    pub Next: *mut WSK_DATAGRAM_INDICATION,
    pub Buffer: WSK_BUF,
    pub ControlInfo: PVOID,
    pub ControlInfoLength: ULONG,
    pub RemoteAddress: *mut SOCKADDR,
}

pub type PFN_WSK_RECEIVE_FROM_EVENT = Option<
    unsafe extern "system" fn(
        SocketContext: PVOID,
        Flags: ULONG,
        DataIndication: *mut WSK_DATAGRAM_INDICATION,
    ) -> NTSTATUS,
>;

pub type PFN_WSK_RELEASE_DATAGRAM_INDICATION_LIST = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        DatagramIndication: *mut WSK_DATAGRAM_INDICATION,
    ) -> NTSTATUS,
>;

#[repr(C)]
pub struct WSK_CLIENT_DATAGRAM_DISPATCH {
    pub WskReceiveFromEvent: PFN_WSK_RECEIVE_FROM_EVENT,
}

#[repr(C)]
pub struct WSK_EVENT_CALLBACK_CONTROL {
    /// PNPIID: points at NPI_WSK_INTERFACE_ID.
    pub NpiId: *const [u8; 16],
    pub EventMask: ULONG,
}

/// `WSK_CONTROL_SOCKET_TYPE::WskSetOption`.
pub const WSK_SET_OPTION: ULONG = 0;
pub const SOL_SOCKET: ULONG = 0xFFFF;
/// WSK_SO_BASE + 2.
pub const SO_WSK_EVENT_CALLBACK: ULONG = 0x4002;
pub const WSK_EVENT_RECEIVE_FROM: ULONG = 0x0000_0100;
pub const WSK_EVENT_DISABLE: ULONG = 0x8000_0000;
/// wdm.h MDL flags (as CSHORT) the driver reads to find an indication's bytes.
pub const MDL_MAPPED_TO_SYSTEM_VA: i16 = 0x0001;
pub const MDL_SOURCE_IS_NONPAGED_POOL: i16 = 0x0004;

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<WSK_CLIENT_DATAGRAM_DISPATCH>() == 8);
    assert!(size_of::<WSK_DATAGRAM_INDICATION>() == 56);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, Buffer) == 8);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, ControlInfo) == 32);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, ControlInfoLength) == 40);
    assert!(offset_of!(WSK_DATAGRAM_INDICATION, RemoteAddress) == 48);
    assert!(size_of::<WSK_EVENT_CALLBACK_CONTROL>() == 16);
    assert!(offset_of!(WSK_EVENT_CALLBACK_CONTROL, EventMask) == 8);
};
