//! Registration and the provider NPI: the NETIO exports (WskRegister, WskDeregister,
//! WskCaptureProviderNPI, WskReleaseProviderNPI). The top of the provider: a captured NPI
//! hands out the provider dispatch table (`socket.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::abi::*;
use super::provider::Registration;
use crate::constants::*;
use crate::kernel::{self, FaultSite, KernelState, rules};
use crate::types::*;

/// Registers a WSK client.
///
/// # Safety
/// Same contract as the real routine.
#[unsafe(no_mangle)]
#[allow(non_snake_case)]
pub unsafe extern "system" fn WskRegister(
    WskClientNpi: *mut WSK_CLIENT_NPI,
    WskRegistration: *mut WSK_REGISTRATION,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WskRegister", kernel::PASSIVE) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    if WskClientNpi.is_null() || WskRegistration.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "WskRegister with a NULL client NPI or registration",
        );
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller passes a valid client NPI whose Dispatch stays resident.
    let version = unsafe { (*WskClientNpi).Dispatch.as_ref().map(|d| d.Version) };
    // The model's provider is WSK 1.0. A client asking for 1.x is asking for a superset of
    // 1.0 and accepted; a different major version is not (Learn, WSK_CLIENT_DISPATCH: the
    // version of the WSK NPI the client requires, MAKE_WSK_VERSION(major, minor)).
    if version.map(|v| v >> 8) != Some(MAKE_WSK_VERSION_1_0 >> 8) {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            format!(
                "WskRegister with client dispatch version {version:?}; expected major version 1"
            ),
        );
        return STATUS_NOINTERFACE;
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskRegister) {
        return status;
    }
    let mut wsk = kernel.wsk().lock();
    if wsk.registrations.contains_key(&(WskRegistration as usize)) {
        drop(wsk);
        kernel.violate(
            rules::WSK_UNBALANCED,
            "WskRegister twice with the same WSK_REGISTRATION",
        );
        return STATUS_INVALID_PARAMETER;
    }
    wsk.registrations
        .insert(WskRegistration as usize, Registration { captures: 0 });
    drop(wsk);
    kernel.note("WSK: WskRegister: client registered (WSK 1.0)");
    STATUS_SUCCESS
}

/// Deregisters a WSK client. On Windows this blocks until every capture is released and every
/// socket closed; the model reports that hang instead of hanging.
///
/// # Safety
/// Same contract as the real routine.
#[unsafe(no_mangle)]
#[allow(non_snake_case)]
pub unsafe extern "system" fn WskDeregister(WskRegistration: *mut WSK_REGISTRATION) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WskDeregister", kernel::PASSIVE) {
        return;
    }
    let mut wsk = kernel.wsk().lock();
    let Some(registration) = wsk.registrations.get(&(WskRegistration as usize)) else {
        drop(wsk);
        kernel.violate(
            rules::WSK_UNBALANCED,
            "WskDeregister of a registration that is not registered",
        );
        return;
    };
    let captures = registration.captures;
    let sockets = wsk.sockets.len();
    if captures > 0 || sockets > 0 {
        drop(wsk);
        kernel.violate(
            rules::WSK_DEREGISTER_HANG,
            format!("WskDeregister with {sockets} socket(s) open and {captures} capture(s) not released: Windows would wait forever"),
        );
        return;
    }
    wsk.registrations.remove(&(WskRegistration as usize));
    drop(wsk);
    kernel.note("WSK: WskDeregister: client deregistered");
}

/// Captures the provider NPI, waiting at most `WaitTimeout` milliseconds for the provider.
///
/// # Safety
/// Same contract as the real routine.
#[unsafe(no_mangle)]
#[allow(non_snake_case)]
pub unsafe extern "system" fn WskCaptureProviderNPI(
    WskRegistration: *mut WSK_REGISTRATION,
    WaitTimeout: ULONG,
    WskProviderNpi: *mut WSK_PROVIDER_NPI,
) -> NTSTATUS {
    let kernel = kernel::current();
    let max = if WaitTimeout == WSK_NO_WAIT {
        kernel::DISPATCH
    } else {
        kernel::PASSIVE
    };
    if !kernel::require_irql(&kernel, "WskCaptureProviderNPI (with a wait)", max) {
        return STATUS_DEVICE_NOT_READY;
    }
    if WaitTimeout == WSK_INFINITE_WAIT
        && kernel
            .in_driver_entry
            .load(std::sync::atomic::Ordering::SeqCst)
    {
        kernel.violate(
            rules::UNBOUNDED_WAIT_IN_DRIVER_ENTRY,
            "WskCaptureProviderNPI(WSK_INFINITE_WAIT) in DriverEntry",
        );
    }
    if WskProviderNpi.is_null()
        || !kernel
            .wsk()
            .lock()
            .registrations
            .contains_key(&(WskRegistration as usize))
    {
        kernel.violate(
            rules::WSK_UNBALANCED,
            "WskCaptureProviderNPI on a registration that is not registered",
        );
        return STATUS_DEVICE_NOT_READY;
    }
    if !wait_until_ready(&kernel, WaitTimeout) {
        kernel.note("WSK: WskCaptureProviderNPI: provider not ready");
        return STATUS_DEVICE_NOT_READY;
    }
    if let Some(status) = kernel.injected_fault(FaultSite::WskCapture) {
        return status;
    }
    let mut wsk = kernel.wsk().lock();
    let Some(registration) = wsk.registrations.get_mut(&(WskRegistration as usize)) else {
        return STATUS_DEVICE_NOT_READY;
    };
    registration.captures += 1;
    drop(wsk);
    // SAFETY: checked non-null; the caller provides the NPI to fill.
    unsafe {
        (*WskProviderNpi).Client = WskRegistration.cast();
        (*WskProviderNpi).Dispatch = &super::socket::PROVIDER_DISPATCH;
    }
    kernel.note("WSK: WskCaptureProviderNPI: provider NPI captured");
    STATUS_SUCCESS
}

fn wait_until_ready(kernel: &Arc<KernelState>, wait_ms: ULONG) -> bool {
    let ready_at = kernel.booted_at + kernel.config.provider_ready_after;
    let now = Instant::now();
    if now >= ready_at {
        return true;
    }
    if wait_ms == WSK_NO_WAIT {
        return false;
    }
    let budget = if wait_ms == WSK_INFINITE_WAIT {
        ready_at - now
    } else {
        Duration::from_millis(wait_ms.into())
    };
    std::thread::sleep(budget.min(ready_at - now));
    Instant::now() >= ready_at
}

/// Releases a capture of the provider NPI.
///
/// # Safety
/// Same contract as the real routine.
#[unsafe(no_mangle)]
#[allow(non_snake_case)]
pub unsafe extern "system" fn WskReleaseProviderNPI(WskRegistration: *mut WSK_REGISTRATION) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WskReleaseProviderNPI", kernel::DISPATCH) {
        return;
    }
    let mut wsk = kernel.wsk().lock();
    match wsk.registrations.get_mut(&(WskRegistration as usize)) {
        Some(registration) if registration.captures > 0 => {
            registration.captures -= 1;
            drop(wsk);
            kernel.note("WSK: WskReleaseProviderNPI: provider NPI released");
        }
        _ => {
            drop(wsk);
            kernel.violate(
                rules::WSK_UNBALANCED,
                "WskReleaseProviderNPI without a matching capture",
            );
        }
    }
}
