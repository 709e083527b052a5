//! Devices: `WdfDeviceCreate`, symbolic links, device interfaces and the WDM device object.

use super::object::{apply_attributes, read_unicode, resolve_passive};
use super::state::*;
use crate::constants::*;
use crate::kernel::{self, lock, rules};
use crate::types::*;

/// `WdfDeviceCreate`: consumes the WDFDEVICE_INIT (sets `*DeviceInit` to NULL on success).
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceCreate(
    DeviceInit: *mut PWDFDEVICE_INIT,
    DeviceAttributes: PWDF_OBJECT_ATTRIBUTES,
    Device: *mut WDFDEVICE,
) -> NTSTATUS {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "WdfDeviceCreate", kernel::PASSIVE) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    // SAFETY: the driver passes the address of its PWDFDEVICE_INIT.
    let init = unsafe { DeviceInit.as_ref() }.map_or(0, |p| *p as usize);
    let mut state = lock(kernel.wdf());
    let Some(settings) = state.device_inits.get(&init).cloned() else {
        drop(state);
        bad_handle(&kernel, "WdfDeviceCreate", init, ObjectKind::DeviceInit);
        return STATUS_INVALID_PARAMETER;
    };
    // fxdeviceapi.cpp, WdfDeviceCreate: an SDDL needs a name (STATUS_INVALID_SECURITY_DESCR);
    // FxDevice::CreateDevice then hands it to IoCreateDeviceSecure (MxCreateDeviceSecure), which
    // is where the SDDL text is parsed and a malformed one fails the create.
    if let Some(sddl) = settings.sddl.as_deref() {
        let problem = if settings.name.is_none() {
            Some((
                STATUS_INVALID_SECURITY_DESCR,
                "an SDDL string but no WdfDeviceInitAssignName",
            ))
        } else if crate::sddl::parse(sddl).is_none() {
            Some((STATUS_INVALID_PARAMETER, "a malformed SDDL string"))
        } else {
            None
        };
        if let Some((status, why)) = problem {
            drop(state);
            kernel.violate(rules::WDF_BAD_CONFIG, format!("WdfDeviceCreate: {why}"));
            return status;
        }
    }
    let handle = state.new_object(ObjectKind::Device);
    // SAFETY: the driver passes NULL or attributes.
    let passive = match unsafe {
        apply_attributes(
            &kernel,
            &mut state,
            "WdfDeviceCreate",
            handle,
            DeviceAttributes,
            false,
        )
    } {
        Ok(level) => resolve_passive(level, state.driver_passive),
        Err(status) => {
            state.delete_object(handle);
            return status;
        }
    };
    state.device_inits.remove(&init);
    state.objects.remove(&init);
    // SAFETY: the DeviceInit handle came from Box::into_raw in `new_object`.
    drop(unsafe { Box::from_raw(init as *mut u64) });
    state.devices.push(DeviceRecord {
        handle,
        settings,
        passive,
        symbolic_links: Vec::new(),
        interfaces: Vec::new(),
        default_queue: None,
        other_queues: Vec::new(),
        purging: false,
    });
    drop(state);
    // SAFETY: the driver passes writable places for both.
    unsafe {
        *DeviceInit = core::ptr::null_mut();
        *Device = handle as WDFDEVICE;
    }
    kernel.note("KMDF: WdfDeviceCreate: device object created");
    STATUS_SUCCESS
}

fn with_device<R>(
    routine: &str,
    device: WDFDEVICE,
    f: impl FnOnce(&mut DeviceRecord) -> R,
) -> Option<R> {
    let kernel = kernel::current();
    let mut state = lock(kernel.wdf());
    match state
        .devices
        .iter_mut()
        .find(|d| d.handle == device as usize)
    {
        Some(record) => Some(f(record)),
        None => {
            drop(state);
            bad_handle(&kernel, routine, device as usize, ObjectKind::Device);
            None
        }
    }
}

/// `WdfDeviceCreateSymbolicLink`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceCreateSymbolicLink(
    Device: WDFDEVICE,
    SymbolicLinkName: PCUNICODE_STRING,
) -> NTSTATUS {
    let kernel = kernel::current();
    // fxdeviceapi.cpp, WdfDeviceCreateSymbolicLink: Length 0 is STATUS_INVALID_DEVICE_REQUEST,
    // then FxValidateUnicodeString, then a second link on the same device is
    // STATUS_INVALID_DEVICE_REQUEST. FxDevice::CreateSymbolicLink (fxdevicekm.cpp) links to
    // the device's name, or for an unnamed PnP device to its PDO's name; IoCreateSymbolicLink
    // fails an existing link name with STATUS_OBJECT_NAME_COLLISION.
    // SAFETY: the driver passes a UNICODE_STRING.
    if unsafe { SymbolicLinkName.as_ref() }.is_none_or(|s| s.Length == 0) {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceCreateSymbolicLink with an empty name",
        );
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    // SAFETY: the driver passes a UNICODE_STRING.
    let Some(link) = (unsafe { read_unicode(SymbolicLinkName) }) else {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            "WdfDeviceCreateSymbolicLink with a malformed UNICODE_STRING",
        );
        return STATUS_INVALID_PARAMETER;
    };
    let taken = lock(kernel.wdf()).devices.iter().any(|d| {
        d.symbolic_links
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&link))
    });
    if taken {
        return STATUS_OBJECT_NAME_COLLISION;
    }
    let result = with_device("WdfDeviceCreateSymbolicLink", Device, |d| {
        if !d.symbolic_links.is_empty() {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        d.symbolic_links.push(link.clone());
        STATUS_SUCCESS
    });
    let status = result.unwrap_or(STATUS_INVALID_HANDLE);
    if status == STATUS_INVALID_DEVICE_REQUEST {
        kernel.violate(
            rules::WDF_BAD_CONFIG,
            format!("WdfDeviceCreateSymbolicLink({link}): the device already has a symbolic link"),
        );
    }
    if status == STATUS_SUCCESS {
        kernel.note(format!("KMDF: WdfDeviceCreateSymbolicLink: {link}"));
    }
    status
}

/// `WdfDeviceCreateDeviceInterface`.
///
/// # Safety
/// Same contract as the real method.
#[must_use]
pub unsafe fn WdfDeviceCreateDeviceInterface(
    Device: WDFDEVICE,
    InterfaceClassGUID: *const GUID,
    ReferenceString: PCUNICODE_STRING,
) -> NTSTATUS {
    let _ = ReferenceString;
    // SAFETY: the driver passes a GUID.
    let Some(guid) = (unsafe { InterfaceClassGUID.as_ref() }).copied() else {
        return STATUS_INVALID_PARAMETER;
    };
    with_device("WdfDeviceCreateDeviceInterface", Device, |d| {
        d.interfaces.push(guid)
    })
    .map_or(STATUS_INVALID_HANDLE, |()| STATUS_SUCCESS)
}

/// `WdfDeviceWdmGetDeviceObject`: the WDM device object KMDF created for the device
/// (FxDevice's m_DeviceObject; see crate::devobj for what the model does with it).
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfDeviceWdmGetDeviceObject(Device: WDFDEVICE) -> PDEVICE_OBJECT {
    let kernel = kernel::current();
    let live = lock(kernel.wdf())
        .devices
        .iter()
        .any(|d| d.handle == Device as usize);
    if !live {
        kernel.violate(
            rules::WDF_BAD_HANDLE,
            format!(
                "WdfDeviceWdmGetDeviceObject({:#x}): not a live device",
                Device as usize
            ),
        );
        return core::ptr::null_mut();
    }
    crate::devobj::for_device(&kernel, Device as usize)
}
