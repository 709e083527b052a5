//! Broken clients of the NT primitives: IRQL, IRPs, MDLs, pool, events and spin locks, leaks.

use std::sync::atomic::Ordering;

use wdk_model::harness::Report;
use wdk_model::ntddk::*;
use wdk_model::wsk::WskRegister;
use wdk_model::wsk::abi::*;
use wdk_model::*;

use crate::common::*;

/// This file's broken clients.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::COMPLETION_ROUTINE_RETURN,
            name: "a_completion_routine_returning_success",
            also: &[],
            run: a_completion_routine_returning_success_is_caught,
        },
        Case {
            rule: rules::IRP_DOUBLE_FREE,
            name: "an_irp_freed_twice",
            also: &[],
            run: an_irp_freed_twice_is_caught,
        },
        Case {
            rule: rules::MDL_NOT_NONPAGED,
            name: "an_mdl_built_over_host_memory",
            also: &[],
            run: an_mdl_over_memory_that_is_not_nonpaged_pool_is_caught,
        },
        Case {
            rule: rules::LEAK,
            name: "an_irp_never_freed",
            also: &[],
            run: a_leaked_irp_is_reported,
        },
        Case {
            rule: rules::IRQL_TOO_HIGH,
            name: "wsk_register_at_dispatch_level",
            also: &[],
            run: a_passive_only_call_at_dispatch_level_is_caught,
        },
        Case {
            rule: rules::COMPLETION_ROUTINE_NOT_SET,
            name: "an_irp_without_invoke_on_cancel",
            also: &[],
            run: an_irp_without_all_three_invoke_flags_is_refused,
        },
        Case {
            rule: rules::POOL_TAG_MISMATCH,
            name: "pool_freed_with_another_tag",
            also: &[rules::LEAK],
            run: pool_freed_with_the_wrong_tag_is_caught,
        },
        Case {
            rule: rules::SPIN_LOCK_MISUSE,
            name: "a_spin_lock_acquired_twice_by_its_owner",
            also: &[],
            run: a_spin_lock_acquired_twice_by_its_owner_is_caught,
        },
        Case {
            rule: rules::IRQL_NOT_RESTORED,
            name: "driver_entry_returning_at_dispatch_level",
            also: &[],
            run: driver_entry_returning_at_dispatch_level,
        },
        Case {
            rule: rules::IRP_NO_STACK_LOCATION,
            name: "an_irp_with_no_location_left_passed_to_wsk",
            also: &[],
            run: an_irp_with_no_location_left,
        },
        Case {
            rule: rules::IRP_USE_AFTER_FREE,
            name: "io_reuse_irp_on_a_freed_irp",
            also: &[],
            run: a_freed_irp_reused,
        },
        Case {
            rule: rules::IRP_UNKNOWN,
            name: "io_free_irp_on_memory_that_is_no_irp",
            also: &[],
            run: io_free_irp_on_host_memory,
        },
        Case {
            rule: rules::MDL_UNKNOWN,
            name: "an_mdl_freed_twice",
            also: &[],
            run: an_mdl_freed_twice,
        },
        Case {
            rule: rules::POOL_BAD_FLAGS,
            name: "ex_allocate_pool2_without_a_pool_type",
            also: &[],
            run: pool_without_a_pool_type,
        },
        Case {
            rule: rules::POOL_BAD_FREE,
            name: "pool_freed_twice",
            also: &[],
            run: pool_freed_twice,
        },
        Case {
            rule: rules::EVENT_NOT_INITIALIZED,
            name: "ke_set_event_on_an_event_never_initialized",
            also: &[],
            run: an_event_never_initialized,
        },
        Case {
            rule: rules::UNBOUNDED_WAIT_IN_DRIVER_ENTRY,
            name: "driver_entry_waiting_without_a_timeout",
            also: &[],
            run: driver_entry_waiting_without_a_timeout,
        },
    ]
}

fn a_completion_routine_returning_success_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.bound_socket();
        let mut buffer = PoolBuffer::new(b"x");
        send(socket, &mut buffer, nowhere(), free_and_continue, &outcome);
        assert_eq!(outcome.calls.load(Ordering::SeqCst), 1);
        client.finish_with(socket, buffer);
    });
    kernel.unload()
}

fn an_irp_freed_twice_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong.
        unsafe {
            let irp = IoAllocateIrp(1, 0);
            IoFreeIrp(irp);
            IoFreeIrp(irp);
        }
    });
    kernel.unload()
}

fn an_mdl_over_memory_that_is_not_nonpaged_pool_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let host_memory = [0u8; 64];
        // SAFETY: deliberately wrong: host memory, not pool.
        unsafe {
            let mdl = IoAllocateMdl(
                host_memory.as_ptr().cast_mut().cast(),
                64,
                0,
                0,
                std::ptr::null_mut(),
            );
            MmBuildMdlForNonPagedPool(mdl);
            IoFreeMdl(mdl);
        }
    });
    kernel.unload()
}

fn a_leaked_irp_is_reported() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately leaked.
        let irp = unsafe { IoAllocateIrp(1, 0) };
        assert!(!irp.is_null());
    });
    let report = kernel.unload();
    assert!(report.leaks.iter().any(|l| l.contains("IRP")), "{report}");
    report
}

fn a_passive_only_call_at_dispatch_level_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut lock: KSPIN_LOCK = 0;
        let mut registration = new_registration();
        let mut client = WSK_CLIENT_NPI {
            ClientContext: std::ptr::null_mut(),
            Dispatch: &CLIENT_DISPATCH,
        };
        // SAFETY: deliberately wrong: WskRegister at DISPATCH_LEVEL.
        unsafe {
            let previous = KeAcquireSpinLockRaiseToDpc(&mut lock);
            let status = WskRegister(&mut client, &mut *registration);
            KeReleaseSpinLock(&mut lock, previous);
            assert_ne!(status, STATUS_SUCCESS);
        }
    });
    kernel.unload()
}

fn an_irp_without_all_three_invoke_flags_is_refused() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let irp = irp(free_and_stop, &outcome);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        // SAFETY: clear InvokeOnCancel in the location we set, then pass the IRP to WSK.
        unsafe {
            (*next_location(irp)).Control &= !(SL_INVOKE_ON_CANCEL as u8);
            dispatch(socket).WskBind.expect("bind")(socket, raw.as_mut_ptr().cast(), 0, irp);
            IoFreeIrp(irp);
        }
        client.finish(socket);
    });
    kernel.unload()
}

fn pool_freed_with_the_wrong_tag_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong tag.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG);
            ExFreePoolWithTag(memory, u32::from_le_bytes(*b"Oops"));
        }
    });
    let report = kernel.unload();
    assert!(
        report.leaks.iter().any(|l| l.contains("'Test'")),
        "{report}"
    );
    report
}

fn a_spin_lock_acquired_twice_by_its_owner_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut lock: KSPIN_LOCK = 0;
        // SAFETY: deliberately wrong: recursive acquisition (a deadlock on Windows).
        unsafe {
            let first = KeAcquireSpinLockRaiseToDpc(&mut lock);
            let _second = KeAcquireSpinLockRaiseToDpc(&mut lock);
            KeReleaseSpinLock(&mut lock, first);
        }
    });
    kernel.unload()
}

fn driver_entry_returning_at_dispatch_level() -> Report {
    static mut LOCK: KSPIN_LOCK = 0;
    unsafe extern "system" fn entry(_: PDRIVER_OBJECT, _: PCUNICODE_STRING) -> NTSTATUS {
        // SAFETY: deliberately wrong: DriverEntry returns holding a spin lock, at DISPATCH_LEVEL.
        unsafe { KeAcquireSpinLockRaiseToDpc(&raw mut LOCK) };
        STATUS_UNSUCCESSFUL
    }
    let mut kernel = inline_kernel();
    assert!(kernel.load(entry).is_err());
    kernel.unload()
}

fn an_irp_with_no_location_left() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let irp = irp(free_and_stop, &outcome);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        // SAFETY: deliberately wrong: the IRP's only location is marked used (as after
        // IoSetNextIrpStackLocation), so WSK has none left.
        unsafe {
            (*irp).CurrentLocation = 1;
            let status =
                dispatch(socket).WskBind.expect("bind")(socket, raw.as_mut_ptr().cast(), 0, irp);
            assert!(status < 0);
            IoFreeIrp(irp);
        }
        client.finish(socket);
    });
    kernel.unload()
}

fn a_freed_irp_reused() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong: IoReuseIrp on an IRP already freed.
        unsafe {
            let irp = IoAllocateIrp(1, 0);
            IoFreeIrp(irp);
            IoReuseIrp(irp, STATUS_SUCCESS);
        }
    });
    kernel.unload()
}

fn io_free_irp_on_host_memory() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut not_an_irp = [0u64; 32];
        // SAFETY: deliberately wrong: this memory never came from IoAllocateIrp.
        unsafe { IoFreeIrp(not_an_irp.as_mut_ptr().cast()) };
    });
    kernel.unload()
}

fn an_mdl_freed_twice() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong: the MDL is freed twice.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG);
            let mdl = IoAllocateMdl(memory, 64, 0, 0, std::ptr::null_mut());
            MmBuildMdlForNonPagedPool(mdl);
            IoFreeMdl(mdl);
            IoFreeMdl(mdl);
            ExFreePoolWithTag(memory, TAG);
        }
    });
    kernel.unload()
}

fn pool_without_a_pool_type() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong: no POOL_FLAG_NON_PAGED/PAGED.
        let memory = unsafe { ExAllocatePool2(0, 64, TAG) };
        assert!(memory.is_null());
    });
    kernel.unload()
}

fn pool_freed_twice() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        // SAFETY: deliberately wrong: a double free.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG);
            ExFreePoolWithTag(memory, TAG);
            ExFreePoolWithTag(memory, TAG);
        }
    });
    kernel.unload()
}

fn an_event_never_initialized() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let mut event = KEVENT::default();
        // SAFETY: deliberately wrong: the event was never passed to KeInitializeEvent.
        unsafe { KeSetEvent(&mut event, 0, 0) };
    });
    kernel.unload()
}

fn driver_entry_waiting_without_a_timeout() -> Report {
    unsafe extern "system" fn entry(_: PDRIVER_OBJECT, _: PCUNICODE_STRING) -> NTSTATUS {
        let mut event = KEVENT::default();
        // SAFETY: deliberately wrong: an unbounded wait in DriverEntry (the event is signalled,
        // so the model's wait returns at once; on Windows a wait that is not would never end).
        unsafe {
            KeInitializeEvent(&mut event, _EVENT_TYPE::NotificationEvent, 1);
            KeWaitForSingleObject(
                (&raw mut event).cast(),
                _KWAIT_REASON::Executive,
                _MODE::KernelMode as i8,
                0,
                std::ptr::null_mut(),
            );
        }
        STATUS_UNSUCCESSFUL
    }
    let mut kernel = inline_kernel();
    assert!(kernel.load(entry).is_err());
    kernel.unload()
}
