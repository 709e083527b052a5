//! The WSK ABI (wsk.h): its one definition, the `wsk-abi` crate, which the driver
//! (`crate::wsk::abi`) and the kernel model's provider (`wdk_model::wsk::abi`) both re-export.
//!
//! Wine's wsk.h lacks the receive-event items (WSK_CLIENT_DATAGRAM_DISPATCH,
//! WSK_EVENT_CALLBACK_CONTROL, SO_WSK_EVENT_CALLBACK, WSK_EVENT_*) and the SIO_WSK codes: the C
//! file declares them from Microsoft's documentation (see `c_source`), and the reference table
//! (`reference`) states their numbers a second time.

use super::{Recorder, record_constants, record_structs};
use crate::fact::Fact;

pub(super) fn wsk_facts() -> Vec<Fact> {
    let mut recorder = Recorder::default();
    record_structs!(&mut recorder, wsk_abi => {
        WSK_CLIENT_DISPATCH as "WSK_CLIENT_DISPATCH" { Version, Reserved, WskClientEvent },
        WSK_CLIENT_NPI as "WSK_CLIENT_NPI" { ClientContext, Dispatch },
        WSK_REGISTRATION as "WSK_REGISTRATION" {
            ReservedRegistrationState, ReservedRegistrationContext, ReservedRegistrationLock,
        },
        WSK_SOCKET as "WSK_SOCKET" { Dispatch },
        WSK_BUF as "WSK_BUF" { Mdl, Offset, Length },
        WSK_BUF_LIST as "WSK_BUF_LIST" { Next, Buffer, Buffer.Mdl, Buffer.Offset, Buffer.Length },
        SOCKADDR as "SOCKADDR" { sa_family, sa_data },
        SOCKADDR_IN as "SOCKADDR_IN" { sin_family, sin_port, sin_addr, sin_zero },
        SOCKADDR_IN6 as "SOCKADDR_IN6" { sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id },
        WSK_PROVIDER_DISPATCH as "WSK_PROVIDER_DISPATCH" {
            Version, Reserved, WskSocket, WskSocketConnect, WskControlClient, WskGetAddressInfo,
            WskFreeAddressInfo, WskGetNameInfo,
        },
        WSK_PROVIDER_NPI as "WSK_PROVIDER_NPI" { Client, Dispatch },
        // Microsoft's wsk.h opens the datagram dispatch with an unnamed
        // WSK_PROVIDER_BASIC_DISPATCH member (C only; C++ names it `Basic`); Wine names it
        // `Basic` in C as well. The Rust side spells its two entries out, so they are
        // compared by offset through `Basic`.
        WSK_PROVIDER_DATAGRAM_DISPATCH as "WSK_PROVIDER_DATAGRAM_DISPATCH" {
            WskControlSocket => "Basic.WskControlSocket",
            WskCloseSocket => "Basic.WskCloseSocket",
            WskBind, WskSendTo, WskReceiveFrom, WskRelease, WskGetLocalAddress, WskSendMessages,
        },
        // The receive-event items: WSK_DATAGRAM_INDICATION is in Wine's wsk.h, the other two are
        // declared by the C file's prelude from Learn.
        WSK_DATAGRAM_INDICATION as "WSK_DATAGRAM_INDICATION" {
            Next, Buffer, Buffer.Mdl, Buffer.Offset, Buffer.Length, ControlInfo, ControlInfoLength,
            RemoteAddress,
        },
        WSK_CLIENT_DATAGRAM_DISPATCH as "WSK_CLIENT_DATAGRAM_DISPATCH" { WskReceiveFromEvent },
        WSK_EVENT_CALLBACK_CONTROL as "WSK_EVENT_CALLBACK_CONTROL" { NpiId, EventMask },
    });
    record_constants!(&mut recorder, wsk_abi => {
        WSK_NO_WAIT,
        WSK_INFINITE_WAIT,
        MAKE_WSK_VERSION_1_0 => "MAKE_WSK_VERSION(1, 0)",
        WSK_FLAG_DATAGRAM_SOCKET,
        SIO_WSK_SET_REMOTE_ADDRESS,
        SIO_WSK_SET_SENDTO_ADDRESS,
        WSK_SET_OPTION => "WskSetOption",
        WSK_IOCTL => "WskIoctl",
        AF_INET,
        AF_INET6,
        SOCK_DGRAM,
        IPPROTO_UDP,
        SOL_SOCKET,
        MSG_TRUNC,
        SO_WSK_EVENT_CALLBACK,
        WSK_EVENT_RECEIVE_FROM,
        WSK_EVENT_DISABLE,
    });
    // (2, 0x1FF): wsk.h masks the minor version to 8 bits, so the major's low bit survives.
    for (major, minor) in [(1, 0), (2, 5), (2, 0x1FF)] {
        let call = format!("MAKE_WSK_VERSION({major}, {minor})");
        recorder.record_constant(
            &format!("wsk_abi::{call}"),
            &call,
            wsk_abi::MAKE_WSK_VERSION(major, minor).into(),
        );
    }
    recorder.into_facts()
}
