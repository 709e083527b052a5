//! Broken clients of the KMDF model: a small KMDF driver written here (DriverEntry, device add,
//! a default parallel queue) whose EvtIoDeviceControl breaks one rule per control code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wdk_model::harness::{Access, Kernel, Report};
use wdk_model::ntddk::*;
use wdk_model::*;

use crate::common::*;

/// This file's broken clients.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::WDF_BAD_CONFIG,
            name: "wdf_driver_create_with_a_config_of_size_0",
            also: &[],
            run: wdf_driver_create_with_a_config_of_size_0,
        },
        Case {
            rule: rules::WDF_BAD_HANDLE,
            name: "a_request_handle_that_is_no_request",
            also: &[],
            run: a_request_handle_that_is_no_request,
        },
        Case {
            rule: rules::WDF_REQUEST_COMPLETED_TWICE,
            name: "a_request_completed_twice",
            also: &[],
            run: || with_request(COMPLETE_TWICE),
        },
        Case {
            rule: rules::WDF_INFORMATION_TOO_LARGE,
            name: "information_larger_than_the_output_buffer",
            also: &[],
            run: || with_request(TOO_MUCH_INFORMATION),
        },
        Case {
            rule: rules::WDF_REQUEST_NOT_COMPLETED,
            name: "a_request_never_completed",
            // The request (and its WDF object) is still there at unload.
            also: &[rules::LEAK],
            run: || with_request(NEVER_COMPLETE),
        },
        Case {
            rule: rules::WDF_QUEUE_PRESENTS_NOTHING,
            name: "a_parallel_queue_with_number_of_presented_requests_0",
            also: &[],
            run: a_queue_that_presents_nothing,
        },
        Case {
            rule: rules::WDF_STOP_ACK_NOT_STOPPING,
            name: "stop_acknowledge_outside_evt_io_stop",
            also: &[],
            run: || with_request(STOP_ACK_OUTSIDE_STOP),
        },
        Case {
            rule: rules::UNLOAD_WITH_COMPLETION_RUNNING,
            name: "unload_while_a_completion_routine_runs",
            // The send whose routine still runs holds its socket, IRP, buffer and registration
            // (the registration and capture left at unload are reported as such too).
            also: &[
                rules::LEAK,
                rules::WSK_UNLOAD_WITH_REGISTRATION,
                rules::WSK_UNLOAD_WITH_CAPTURE,
            ],
            run: unload_while_a_completion_routine_runs,
        },
    ]
}

/// Control codes of the broken driver (METHOD_BUFFERED, FILE_ANY_ACCESS).
const COMPLETE_TWICE: u32 = 1 << 2;
const TOO_MUCH_INFORMATION: u32 = 2 << 2;
const NEVER_COMPLETE: u32 = 3 << 2;
const STOP_ACK_OUTSIDE_STOP: u32 = 4 << 2;

const DEVICE_NAME: &str = r"\Device\BrokenKmdf";
const LINK_NAME: &str = r"\DosDevices\BrokenKmdf";
const USER_PATH: &str = r"\\.\BrokenKmdf";

/// A UNICODE_STRING over `units`, which must outlive it.
fn unicode(units: &mut [u16]) -> UNICODE_STRING {
    UNICODE_STRING {
        Length: (units.len() * 2) as u16,
        MaximumLength: (units.len() * 2) as u16,
        Buffer: units.as_mut_ptr(),
    }
}

unsafe extern "system" fn driver_entry(
    driver: PDRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the caller's.
    unsafe { create_driver(driver, registry_path, device_add, None) }
}

/// The same driver, whose default queue is created with NumberOfPresentedRequests = 0.
unsafe extern "system" fn driver_entry_presenting_nothing(
    driver: PDRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    unsafe extern "C" fn device_add_presenting_nothing(
        driver: WDFDRIVER,
        init: PWDFDEVICE_INIT,
    ) -> NTSTATUS {
        let _ = driver;
        // SAFETY: the framework's device init.
        unsafe { add_device(init, 0) }
    }
    // SAFETY: the caller's.
    unsafe { create_driver(driver, registry_path, device_add_presenting_nothing, None) }
}

unsafe extern "C" fn device_add(_: WDFDRIVER, init: PWDFDEVICE_INIT) -> NTSTATUS {
    // SAFETY: the framework's device init.
    unsafe { add_device(init, u32::MAX) }
}

/// Creates the device, its link and a default parallel queue presenting at most `presented`
/// requests at a time.
///
/// # Safety
/// The framework's device init, from EvtDriverDeviceAdd.
unsafe fn add_device(mut init: PWDFDEVICE_INIT, presented: u32) -> NTSTATUS {
    let mut name: Vec<u16> = DEVICE_NAME.encode_utf16().collect();
    let mut link: Vec<u16> = LINK_NAME.encode_utf16().collect();
    let mut device: WDFDEVICE = std::ptr::null_mut();
    let mut queue: WDFQUEUE = std::ptr::null_mut();
    // As WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE (wdfio.h, KMDF 1.31) sets a parallel queue up:
    // NumberOfPresentedRequests = (ULONG)-1.
    let mut queue_config = WDF_IO_QUEUE_CONFIG {
        Size: size_of::<WDF_IO_QUEUE_CONFIG>() as u32,
        DispatchType: _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel,
        PowerManaged: _WDF_TRI_STATE::WdfFalse,
        DefaultQueue: 1,
        EvtIoDeviceControl: Some(device_control),
        ..WDF_IO_QUEUE_CONFIG::default()
    };
    queue_config.Settings.Parallel.NumberOfPresentedRequests = presented;
    // SAFETY: the framework's device init and our own names and config, which outlive the calls.
    unsafe {
        let status =
            call_unsafe_wdf_function_binding!(WdfDeviceInitAssignName, init, &unicode(&mut name));
        if status < 0 {
            return status;
        }
        let status = call_unsafe_wdf_function_binding!(
            WdfDeviceCreate,
            &mut init,
            std::ptr::null_mut(),
            &mut device
        );
        if status < 0 {
            return status;
        }
        let status = call_unsafe_wdf_function_binding!(
            WdfDeviceCreateSymbolicLink,
            device,
            &unicode(&mut link)
        );
        if status < 0 {
            return status;
        }
        call_unsafe_wdf_function_binding!(
            WdfIoQueueCreate,
            device,
            &mut queue_config,
            std::ptr::null_mut(),
            &mut queue
        )
    }
}

unsafe extern "C" fn device_control(
    _: WDFQUEUE,
    request: WDFREQUEST,
    output_length: usize,
    _: usize,
    code: u32,
) {
    // SAFETY: a request the framework presented to us; each arm breaks one rule on purpose.
    unsafe {
        match code {
            COMPLETE_TWICE => {
                call_unsafe_wdf_function_binding!(WdfRequestComplete, request, STATUS_SUCCESS);
                call_unsafe_wdf_function_binding!(WdfRequestComplete, request, STATUS_SUCCESS);
            }
            TOO_MUCH_INFORMATION => {
                call_unsafe_wdf_function_binding!(
                    WdfRequestCompleteWithInformation,
                    request,
                    STATUS_SUCCESS,
                    output_length as u64 + 1
                );
                // The framework refused that completion; complete the request properly.
                call_unsafe_wdf_function_binding!(WdfRequestComplete, request, STATUS_SUCCESS);
            }
            NEVER_COMPLETE => {}
            STOP_ACK_OUTSIDE_STOP => {
                // Deliberately wrong: the framework is not stopping this request.
                call_unsafe_wdf_function_binding!(WdfRequestStopAcknowledge, request, 0);
                call_unsafe_wdf_function_binding!(WdfRequestComplete, request, STATUS_SUCCESS);
            }
            _ => call_unsafe_wdf_function_binding!(
                WdfRequestComplete,
                request,
                STATUS_INVALID_DEVICE_REQUEST
            ),
        }
    }
}

/// Loads the broken driver, sends it one request with `code`, unloads.
fn with_request(code: u32) -> Report {
    let mut kernel = Kernel::boot(KernelConfig {
        request_timeout: Duration::from_millis(200),
        ..KernelConfig::default()
    });
    kernel.load(driver_entry).expect("the broken driver loads");
    let handle = kernel
        .open(USER_PATH, Access::READ_WRITE, Caller::Administrator)
        .expect("open");
    let _ = kernel.device_io_control(&handle, code, &[], 16);
    // An orderly removal with the handle open would be vetoed (and nothing checked).
    drop(handle);
    kernel.unload()
}

/// Loads the driver whose queue presents nothing and sends it one request, which the harness
/// refuses at once (on Windows it would wait in the queue forever).
fn a_queue_that_presents_nothing() -> Report {
    let mut kernel = inline_kernel();
    kernel
        .load(driver_entry_presenting_nothing)
        .expect("the framework accepts the queue");
    let handle = kernel
        .open(USER_PATH, Access::READ_WRITE, Caller::Administrator)
        .expect("open");
    assert!(kernel.device_io_control(&handle, 0, &[], 16).is_err());
    drop(handle);
    kernel.unload()
}

fn wdf_driver_create_with_a_config_of_size_0() -> Report {
    unsafe extern "system" fn entry(driver: PDRIVER_OBJECT, path: PCUNICODE_STRING) -> NTSTATUS {
        // Deliberately wrong: Size is not sizeof(WDF_DRIVER_CONFIG).
        let mut config = WDF_DRIVER_CONFIG {
            Size: 0,
            EvtDriverDeviceAdd: Some(device_add),
            ..WDF_DRIVER_CONFIG::default()
        };
        let mut handle: WDFDRIVER = std::ptr::null_mut();
        // SAFETY: the kernel's driver object and registry path.
        unsafe {
            call_unsafe_wdf_function_binding!(
                WdfDriverCreate,
                driver,
                path,
                std::ptr::null_mut(),
                &mut config,
                &mut handle
            )
        }
    }
    let mut kernel = inline_kernel();
    assert!(kernel.load(entry).is_err());
    kernel.unload()
}

fn a_request_handle_that_is_no_request() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut not_a_request = 0u64;
        // SAFETY: deliberately wrong: a handle the framework never gave out.
        unsafe {
            call_unsafe_wdf_function_binding!(
                WdfRequestStopAcknowledge,
                (&raw mut not_a_request).cast(),
                0
            )
        };
    });
    kernel.unload()
}

fn unload_while_a_completion_routine_runs() -> Report {
    /// Keeps running well past the unload's grace period.
    static STARTED: AtomicBool = AtomicBool::new(false);
    unsafe extern "C" fn slow(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
        STARTED.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: see `record`; our IRP.
        unsafe {
            record(irp, context);
            IoFreeIrp(irp);
        }
        STATUS_MORE_PROCESSING_REQUIRED
    }
    let mut kernel = Kernel::boot(KernelConfig::default());
    kernel.load(driver_entry).expect("the broken driver loads");
    let outcome: &'static Outcome = Box::leak(Box::default());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let buffer: &'static mut PoolBuffer = Box::leak(Box::new(PoolBuffer::new(b"slow")));
        send(socket, buffer, nowhere(), slow, outcome);
        // Deliberately wrong: the driver unloads with its completion routine still running.
        std::mem::forget(client);
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !STARTED.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let report = kernel.unload();
    // Let the routine finish before its kernel goes away.
    wait(outcome);
    report
}
