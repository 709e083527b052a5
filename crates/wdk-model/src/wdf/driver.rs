//! The driver object and WDFDEVICE_INIT: `WdfDriverCreate` and the `WdfDeviceInit*` methods.

use super::object::{apply_attributes, read_unicode, resolve_passive};
use super::state::*;
use crate::constants::*;
use crate::kernel::{self, lock, rules};
use crate::types::*;

/// `WdfDriverCreate`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDriverCreate(
    DriverObject: PDRIVER_OBJECT,
    RegistryPath: PCUNICODE_STRING,
    DriverAttributes: PWDF_OBJECT_ATTRIBUTES,
    DriverConfig: PWDF_DRIVER_CONFIG,
    Driver: *mut WDFDRIVER,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfDriverCreate", kernel::PASSIVE) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: the driver passes its config.
    let Some(config) = (unsafe { DriverConfig.as_ref() }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate without a WDF_DRIVER_CONFIG",
        );
        return STATUS_INVALID_PARAMETER;
    };
    // fxdriverapi.cpp, WdfDriverCreate: the current size (the v1.1 size is the older layout
    // without DriverPoolTag, which this model does not take), then DriverInitFlags, then
    // "only one time per PDRIVER_OBJECT".
    if config.Size as usize != size_of::<WDF_DRIVER_CONFIG>() || DriverObject.is_null() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("WdfDriverCreate: WDF_DRIVER_CONFIG.Size is {}", config.Size),
        );
        return STATUS_INFO_LENGTH_MISMATCH;
    }
    // WdfDriverInitNonPnpDriver | WdfDriverInitNoDispatchOverride | WdfDriverInitCompanion.
    if config.DriverInitFlags & !0x13 != 0 || config.DriverInitFlags & 0x10 != 0 {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!(
                "WdfDriverCreate: DriverInitFlags {:#x} invalid (Companion is for UMDF companions)",
                config.DriverInitFlags
            ),
        );
        return STATUS_INVALID_PARAMETER;
    }
    if config.DriverInitFlags & 0x3 == 0x1 && config.EvtDriverDeviceAdd.is_some() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate: WdfDriverInitNonPnpDriver with an EvtDriverDeviceAdd",
        );
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller passes the system's registry path.
    if RegistryPath.is_null() || unsafe { read_unicode(RegistryPath) }.is_none() {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDriverCreate: malformed RegistryPath",
        );
        return STATUS_INVALID_PARAMETER;
    }
    let mut state = lock(kernel.wdf());
    if state.driver.is_some() {
        drop(state);
        kernel.violate(rules::WDF_BAD_CONFIG, "WdfDriverCreate called twice");
        return STATUS_DRIVER_INTERNAL_ERROR;
    }
    let handle = state.new_object(ObjectKind::Driver);
    // SAFETY: the driver passes NULL or attributes.
    match unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfDriverCreate",
            handle,
            DriverAttributes,
            false,
        )
    } {
        // FxDriver's constructor: a kernel-mode driver defaults to WdfExecutionLevelDispatch.
        Ok(level) => state.driver_passive = resolve_passive(level, false),
        Err(status) => {
            state.delete_object(handle);
            return status;
        }
    }
    state.driver = Some(handle);
    state.device_add = config.EvtDriverDeviceAdd;
    state.unload = config.EvtDriverUnload;
    drop(state);
    if !Driver.is_null() {
        // SAFETY: the driver passes a place for the handle.
        unsafe { *Driver = handle as WDFDRIVER };
    }
    kernel.note("KMDF: WdfDriverCreate: driver object created");
    STATUS_SUCCESS
}

fn with_init<R>(
    routine: &str,
    init: PWDFDEVICE_INIT,
    f: impl FnOnce(&mut DeviceSettings) -> R,
) -> Option<R> {
    let kernel = kernel::current();
    let mut state = lock(kernel.wdf());
    match state.device_inits.get_mut(&(init as usize)) {
        Some(settings) => Some(f(settings)),
        None => {
            drop(state);
            bad_handle(&kernel, routine, init as usize, ObjectKind::DeviceInit);
            None
        }
    }
}

/// `WdfDeviceInitAssignName`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceInitAssignName(
    DeviceInit: PWDFDEVICE_INIT,
    DeviceName: PCUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(name) = (unsafe { read_unicode(DeviceName) }) else {
        kernel::current().violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceInitAssignName with a malformed UNICODE_STRING",
        );
        return STATUS_INVALID_PARAMETER;
    };
    with_init("WdfDeviceInitAssignName", DeviceInit, |s| {
        s.name = Some(name)
    })
    .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS)
}

/// `WdfDeviceInitAssignSDDLString`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceInitAssignSDDLString(
    DeviceInit: PWDFDEVICE_INIT,
    SDDLString: PCUNICODE_STRING,
) -> NTSTATUS {
    let kernel = kernel::current();
    // fxdeviceinitapi.cpp, WdfDeviceInitAssignSDDLString: NULL clears the SDDL; otherwise only
    // FxValidateUnicodeString. The SDDL text itself is not parsed here, and the call may come
    // before or after WdfDeviceInitAssignName: WdfDeviceCreate checks both.
    if SDDLString.is_null() {
        return with_init("WdfDeviceInitAssignSDDLString", DeviceInit, |s| {
            s.sddl = None
        })
        .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS);
    }
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(sddl) = (unsafe { read_unicode(SDDLString) }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceInitAssignSDDLString with a malformed UNICODE_STRING",
        );
        return STATUS_INVALID_PARAMETER;
    };
    with_init("WdfDeviceInitAssignSDDLString", DeviceInit, |s| {
        s.sddl = Some(sddl)
    })
    .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS)
}

/// `WdfDeviceInitSetCharacteristics`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceInitSetCharacteristics(
    DeviceInit: PWDFDEVICE_INIT,
    DeviceCharacteristics: ULONG,
    OrInValues: BOOLEAN,
) {
    with_init("WdfDeviceInitSetCharacteristics", DeviceInit, |s| {
        s.characteristics = if OrInValues != 0 {
            s.characteristics | DeviceCharacteristics
        } else {
            DeviceCharacteristics
        };
    });
}

/// `WdfDeviceInitSetIoType`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceInitSetIoType(DeviceInit: PWDFDEVICE_INIT, IoType: WDF_DEVICE_IO_TYPE) {
    with_init("WdfDeviceInitSetIoType", DeviceInit, |s| s.io_type = IoType);
}

/// `WdfDeviceInitSetDeviceType`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceInitSetDeviceType(DeviceInit: PWDFDEVICE_INIT, DeviceType: DEVICE_TYPE) {
    with_init("WdfDeviceInitSetDeviceType", DeviceInit, |s| {
        s.device_type = DeviceType
    });
}
