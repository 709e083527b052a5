//! Self-tests of the unload window (issue 11, item 2): WDM device objects, their references and
//! IoSetCompletionRoutineEx. A tiny KMDF driver written here gets its device's WDM object; each
//! broken client misuses it in one way, and one correct client shows the unload held back
//! until a routine set with IoSetCompletionRoutineEx has returned.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libtest_mimic::Failed;
use wdk_model::harness::{Kernel, Report};
use wdk_model::ntddk::*;
use wdk_model::wsk::abi::*;
use wdk_model::*;

use crate::common::*;

/// A correct client's check.
type Check = fn() -> Result<(), Failed>;

thread_local! {
    /// The WDM device object of the device the driver below created on this thread (the
    /// harness runs DriverEntry and EvtDriverDeviceAdd on the thread that loads the driver).
    static DEVICE_OBJECT: Cell<usize> = const { Cell::new(0) };
    /// What EvtDriverUnload does (one of the UNLOAD_* values).
    static ON_UNLOAD: Cell<u32> = const { Cell::new(0) };
    /// The client and socket EvtDriverUnload closes.
    static LEFT_OPEN: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

const UNLOAD_NOTHING: u32 = 0;
/// The old driver: the final close issued from EvtDriverUnload with a plain routine.
const UNLOAD_CLOSES: u32 = 1;
/// IoSetCompletionRoutineEx on the device object of a device already deleted.
const UNLOAD_EX_ON_DELETED_DEVICE: u32 = 2;

unsafe extern "system" fn driver_entry(
    driver: PDRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    let mut config = WDF_DRIVER_CONFIG {
        Size: size_of::<WDF_DRIVER_CONFIG>() as u32,
        EvtDriverDeviceAdd: Some(device_add),
        EvtDriverUnload: Some(driver_unload),
        ..WDF_DRIVER_CONFIG::default()
    };
    let mut handle: WDFDRIVER = std::ptr::null_mut();
    // SAFETY: the kernel's driver object and registry path, our config.
    unsafe {
        call_unsafe_wdf_function_binding!(
            WdfDriverCreate,
            driver,
            registry_path,
            std::ptr::null_mut(),
            &mut config,
            &mut handle
        )
    }
}

unsafe extern "C" fn device_add(_: WDFDRIVER, mut init: PWDFDEVICE_INIT) -> NTSTATUS {
    let mut device: WDFDEVICE = std::ptr::null_mut();
    // SAFETY: the framework's device init.
    let status = unsafe {
        call_unsafe_wdf_function_binding!(
            WdfDeviceCreate,
            &mut init,
            std::ptr::null_mut(),
            &mut device
        )
    };
    if status < 0 {
        return status;
    }
    // SAFETY: the device just created.
    let object = unsafe { call_unsafe_wdf_function_binding!(WdfDeviceWdmGetDeviceObject, device) };
    DEVICE_OBJECT.set(object as usize);
    STATUS_SUCCESS
}

unsafe extern "C" fn driver_unload(_: WDFDRIVER) {
    match ON_UNLOAD.get() {
        UNLOAD_CLOSES => {
            if let Some((client, socket)) = LEFT_OPEN.take() {
                // SAFETY: leaked in `a_close_issued_from_driver_unload_is_caught`.
                let client = unsafe { Box::from_raw(client as *mut Client) };
                // Deliberately wrong: the devices are gone, so the close's plain completion
                // routine runs with nothing holding the image (what the driver did before).
                client.close(socket as *mut WSK_SOCKET);
                client.disconnect();
            }
        }
        UNLOAD_EX_ON_DELETED_DEVICE => {
            // SAFETY: kernel code of the running kernel.
            let irp = unsafe { IoAllocateIrp(1, 0) };
            // SAFETY: a fresh IRP; deliberately wrong: the device object was deleted.
            let status = unsafe {
                IoSetCompletionRoutineEx(
                    DEVICE_OBJECT.get() as PDEVICE_OBJECT,
                    irp,
                    Some(free_and_stop),
                    std::ptr::null_mut(),
                    1,
                    1,
                    1,
                )
            };
            assert!(status < 0, "a deleted device object was accepted");
            // SAFETY: our IRP, never sent.
            unsafe { IoFreeIrp(irp) };
        }
        _ => {}
    }
}

fn loaded(on_unload: u32) -> Kernel {
    ON_UNLOAD.set(on_unload);
    DEVICE_OBJECT.set(0);
    let mut kernel = Kernel::boot(KernelConfig {
        request_timeout: Duration::from_millis(300),
        ..KernelConfig::default()
    });
    kernel.load(driver_entry).expect("the driver loads");
    assert_ne!(DEVICE_OBJECT.get(), 0, "no WDM device object");
    kernel
}

/// Sets `routine` with IoSetCompletionRoutineEx on the driver's device object.
fn irp_ex(routine: Routine, outcome: &Outcome) -> PIRP {
    // SAFETY: kernel code of the running test kernel.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    assert!(!irp.is_null());
    // SAFETY: a fresh IRP and the live device object of our device.
    let status = unsafe {
        IoSetCompletionRoutineEx(
            DEVICE_OBJECT.get() as PDEVICE_OBJECT,
            irp,
            Some(routine),
            (outcome as *const Outcome).cast_mut().cast(),
            1,
            1,
            1,
        )
    };
    assert_eq!(status, STATUS_SUCCESS);
    irp
}

fn a_close_issued_from_driver_unload_is_caught() -> Report {
    let kernel = loaded(UNLOAD_CLOSES);
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        LEFT_OPEN.set(Some((
            Box::into_raw(Box::new(client)) as usize,
            socket as usize,
        )));
    });
    kernel.unload()
}

fn ex_on_a_deleted_device_is_caught() -> Report {
    loaded(UNLOAD_EX_ON_DELETED_DEVICE).unload()
}

fn an_ex_irp_freed_unsent_is_caught() -> Report {
    let kernel = loaded(UNLOAD_NOTHING);
    let outcome = Outcome::default();
    kernel.run(|| {
        let irp = irp_ex(free_and_stop, &outcome);
        // Deliberately wrong: the IRP is freed without being sent, so the I/O manager's
        // wrapper never runs to free its context and drop the device reference.
        // SAFETY: our IRP.
        unsafe { IoFreeIrp(irp) };
    });
    kernel.unload()
}

/// Right: a close whose routine is set with IoSetCompletionRoutineEx and keeps running well
/// past the grace the model allows a plain routine: the unload waits for it (the device object
/// stays referenced, so the driver is not unloaded), and the report is clean. The same routine
/// set with IoSetCompletionRoutine is UNLOAD_WITH_COMPLETION_RUNNING (see kmdf.rs).
fn an_ex_routine_holds_the_unload_back() -> Result<(), Failed> {
    static RETURNED: AtomicBool = AtomicBool::new(false);
    unsafe extern "C" fn slow(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
        // SAFETY: see `record`; our IRP.
        unsafe {
            record(irp, context);
            IoFreeIrp(irp);
        }
        // After signalling its waiter, still running past the model's 500 ms grace.
        std::thread::sleep(Duration::from_millis(1200));
        RETURNED.store(true, Ordering::SeqCst);
        STATUS_MORE_PROCESSING_REQUIRED
    }
    let mut kernel = Kernel::boot(KernelConfig {
        request_timeout: Duration::from_secs(5),
        ..KernelConfig::default()
    });
    ON_UNLOAD.set(UNLOAD_NOTHING);
    kernel.load(driver_entry).expect("the driver loads");
    let outcome: &'static Outcome = Box::leak(Box::default());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let close = irp_ex(slow, outcome);
        // SAFETY: a live socket, not used afterwards.
        unsafe { dispatch(socket).WskCloseSocket.expect("close")(socket, close) };
        wait(outcome);
        client.disconnect();
    });
    let report = kernel.unload();
    if !RETURNED.load(Ordering::SeqCst) {
        return Err(
            "the driver unloaded before the IoSetCompletionRoutineEx routine returned".into(),
        );
    }
    if !report.is_clean() {
        return Err(format!("not clean:\n{report}").into());
    }
    Ok(())
}

/// This file's broken clients, for the table in broken_clients.rs.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::COMPLETION_ROUTINE_UNPROTECTED,
            name: "a_close_issued_from_driver_unload_is_caught",
            also: &[],
            run: a_close_issued_from_driver_unload_is_caught,
        },
        Case {
            rule: rules::COMPLETION_EX_DEVICE_NOT_LIVE,
            name: "ex_on_a_deleted_device_is_caught",
            also: &[],
            run: ex_on_a_deleted_device_is_caught,
        },
        Case {
            rule: rules::COMPLETION_EX_CONTEXT_LEAKED,
            name: "an_ex_irp_freed_unsent_is_caught",
            // The reference it never drops is reported as leaked, and the IRP too.
            also: &[rules::LEAK],
            run: an_ex_irp_freed_unsent_is_caught,
        },
    ]
}

/// This file's correct clients.
pub fn checks() -> Vec<(&'static str, Check)> {
    vec![(
        "an_ex_routine_holds_the_unload_back",
        an_ex_routine_holds_the_unload_back,
    )]
}
