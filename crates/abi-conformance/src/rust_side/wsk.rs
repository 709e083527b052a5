//! The WSK ABI (wsk.h), transcribed twice: by the driver (`wsk_sample_driver::wsk_abi`) and by the
//! kernel model's provider (`wdk_model::wsk::abi`). Both must match the same C definitions.

use super::{Recorder, record_constants, record_structs};
use crate::fact::Fact;

/// The structs both transcriptions define, with every member.
macro_rules! record_wsk_structs {
    ($recorder:expr, $($abi:ident)::+) => {
        record_structs!($recorder, $($abi)::+ => {
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
        })
    };
}

/// Constants both transcriptions define under the same name.
macro_rules! record_wsk_constants {
    ($recorder:expr, $($abi:ident)::+) => {
        record_constants!($recorder, $($abi)::+ => {
            WSK_NO_WAIT,
            WSK_FLAG_DATAGRAM_SOCKET,
            SIO_WSK_SET_REMOTE_ADDRESS,
            SIO_WSK_SET_SENDTO_ADDRESS,
            WSK_IOCTL => "WskIoctl",
            AF_INET,
            AF_INET6,
            SOCK_DGRAM,
            IPPROTO_UDP,
        })
    };
}

pub(super) fn driver_facts() -> Vec<Fact> {
    use wsk_sample_driver::wsk_abi::MAKE_WSK_VERSION;

    let mut recorder = Recorder::default();
    record_wsk_structs!(&mut recorder, wsk_sample_driver::wsk_abi);
    record_wsk_constants!(&mut recorder, wsk_sample_driver::wsk_abi);
    for (major, minor) in [(1, 0), (2, 5)] {
        let call = format!("MAKE_WSK_VERSION({major}, {minor})");
        recorder.record_constant(
            &format!("wsk_sample_driver::wsk_abi::{call}"),
            &call,
            MAKE_WSK_VERSION(major, minor).into(),
        );
    }
    recorder.into_facts()
}

pub(super) fn model_facts() -> Vec<Fact> {
    let mut recorder = Recorder::default();
    record_wsk_structs!(&mut recorder, wdk_model::wsk::abi);
    record_wsk_constants!(&mut recorder, wdk_model::wsk::abi);
    record_constants!(&mut recorder, wdk_model::wsk::abi => {
        WSK_INFINITE_WAIT,
        MAKE_WSK_VERSION_1_0 => "MAKE_WSK_VERSION(1, 0)",
    });
    recorder.into_facts()
}
