//! Broken clients of the special pool: pool used after it was freed, including the use after
//! free the driver's old `Rundown::release` had (decrement, then read `closing` and signal
//! `drained`: between the two, unload sees the count at zero and frees the engine).
//!
//! With [`SpecialPool::Protect`] the first touch of freed pool stops the process, as the bug
//! check stops Windows, so those clients run in a child process (see [`in_child_process`]).
//! With [`SpecialPool::Poison`] the kernel keeps running and reports the changed poison.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use wdk_model::harness::{Kernel, Report};
use wdk_model::ntddk::*;
use wdk_model::*;

use crate::common::*;

/// This file's broken clients.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::POOL_USE_AFTER_FREE,
            name: "pool_read_after_it_was_freed",
            also: &[],
            run: || {
                in_child_process(
                    "POOL_USE_AFTER_FREE::pool_read_after_it_was_freed",
                    read_after_free,
                )
            },
        },
        Case {
            rule: rules::POOL_USE_AFTER_FREE,
            name: "old_rundown_release_reads_the_freed_engine",
            also: &[],
            run: || {
                in_child_process(
                    "POOL_USE_AFTER_FREE::old_rundown_release_reads_the_freed_engine",
                    || {
                        old_rundown_race(SpecialPool::Protect);
                    },
                )
            },
        },
        Case {
            rule: rules::POOL_USE_AFTER_FREE,
            name: "a_completion_routine_reads_its_freed_context",
            also: &[],
            run: || {
                in_child_process(
                    "POOL_USE_AFTER_FREE::a_completion_routine_reads_its_freed_context",
                    completion_reads_freed_context,
                )
            },
        },
        Case {
            rule: rules::POOL_USE_AFTER_FREE,
            name: "pool_written_after_it_was_freed_stops",
            also: &[],
            run: || {
                in_child_process(
                    "POOL_USE_AFTER_FREE::pool_written_after_it_was_freed_stops",
                    write_after_free_stops,
                )
            },
        },
        Case {
            rule: rules::POOL_WRITE_AFTER_FREE,
            name: "a_write_found_as_the_allocation_leaves_the_quarantine",
            also: &[],
            run: write_found_leaving_the_quarantine,
        },
        Case {
            rule: rules::POOL_WRITE_AFTER_FREE,
            name: "pool_written_after_it_was_freed",
            also: &[],
            run: write_after_free,
        },
        Case {
            rule: rules::POOL_WRITE_AFTER_FREE,
            name: "old_rundown_release_signals_the_freed_engine",
            also: &[],
            run: || old_rundown_race(SpecialPool::Poison),
        },
    ]
}

fn read_after_free() {
    let kernel = kernel_with(CompletionMode::Inline, SpecialPool::Protect);
    kernel.run(|| {
        // SAFETY: deliberately wrong: the allocation is read after it was freed.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG).cast::<u8>();
            memory.write(1);
            ExFreePoolWithTag(memory.cast(), TAG);
            std::hint::black_box(memory.add(8).read_volatile());
        }
    });
}

fn write_after_free_stops() {
    let kernel = kernel_with(CompletionMode::Inline, SpecialPool::Protect);
    kernel.run(|| {
        // SAFETY: deliberately wrong: the allocation is written after it was freed.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG).cast::<u8>();
            ExFreePoolWithTag(memory.cast(), TAG);
            memory.add(63).write_volatile(0);
        }
    });
}

/// The quarantine is bounded (1,024 allocations): a stale write to an allocation freed long ago
/// is found when the allocation leaves it, before its pages go back to the host.
fn write_found_leaving_the_quarantine() -> Report {
    let kernel = kernel_with(CompletionMode::Inline, SpecialPool::Poison);
    let churn = |n: usize| {
        for _ in 0..n {
            // SAFETY: plain allocations, freed at once.
            unsafe {
                let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG);
                ExFreePoolWithTag(memory, TAG);
            }
        }
    };
    kernel.run(|| {
        // SAFETY: deliberately wrong: written after it was freed, once it is no longer among
        // the recently freed allocations that are checked around every pool call.
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG).cast::<u8>();
            ExFreePoolWithTag(memory.cast(), TAG);
            churn(16);
            memory.add(1).write_volatile(7);
        }
        churn(1100);
    });
    let report = kernel.unload();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.detail.contains("found as it left the quarantine")),
        "{report}"
    );
    report
}

fn write_after_free() -> Report {
    let kernel = kernel_with(CompletionMode::Inline, SpecialPool::Poison);
    kernel.run(|| {
        // SAFETY: deliberately wrong: the allocation is written after it was freed (Poison
        // mode keeps the pages mapped, so the write lands in the quarantine's poison).
        unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG).cast::<u8>();
            ExFreePoolWithTag(memory.cast(), TAG);
            memory.add(10).write_volatile(0);
        }
    });
    kernel.unload()
}

/// The part of the old engine the race touches, laid out in pool as the engine was.
#[repr(C)]
struct OldRundown {
    active: AtomicU64,
    /// `closing` (a u32 rather than a bool so that reading poison is defined behaviour).
    closing: AtomicU32,
    drained: KEVENT,
}

/// The old algorithm with the interleaving forced by barriers: the releaser (a completion
/// routine finishing the last send) decrements `active` to zero and is preempted; unload
/// (`Rundown::wait` then `destroy`) sees zero and frees the engine; the releaser resumes and
/// reads `closing`, then signals `drained`, both in freed pool.
fn old_rundown_race(mode: SpecialPool) -> Report {
    let kernel = kernel_with(CompletionMode::Inline, mode);
    // SAFETY: pool for the engine, initialised as the old Engine::create did; one send in
    // flight holds the rundown.
    let engine = kernel.run(|| unsafe {
        let engine = ExAllocatePool2(POOL_FLAG_NON_PAGED, size_of::<OldRundown>() as u64, TAG)
            .cast::<OldRundown>();
        KeInitializeEvent(
            &raw mut (*engine).drained,
            _EVENT_TYPE::NotificationEvent,
            0,
        );
        (*engine).active.store(1, Ordering::SeqCst);
        engine as usize
    });
    let decremented = Barrier::new(2);
    let freed = Barrier::new(2);
    std::thread::scope(|scope| {
        let (kernel, decremented, freed) = (&kernel, &decremented, &freed);
        // The completion routine: the old Rundown::release.
        scope.spawn(move || {
            kernel.run(|| {
                let engine = engine as *mut OldRundown;
                // SAFETY: the engine is live here: this release holds it.
                let last = unsafe { (*engine).active.fetch_sub(1, Ordering::SeqCst) } == 1;
                decremented.wait();
                freed.wait();
                // Deliberately wrong (the old algorithm): the engine is read after the count
                // reached zero, and unload has freed it meanwhile.
                // SAFETY: none; this is the use after free the special pool must name.
                if last && unsafe { (*engine).closing.load(Ordering::SeqCst) } != 0 {
                    // SAFETY: as above.
                    unsafe { KeSetEvent(&raw mut (*engine).drained, 0, 0) };
                }
            });
        });
        // Unload: the old Rundown::wait, then the engine is freed.
        kernel.run(|| {
            let engine = engine as *mut OldRundown;
            // SAFETY: the engine is live until this thread frees it.
            unsafe {
                (*engine).closing.store(1, Ordering::SeqCst);
                decremented.wait();
                let mut timeout = LARGE_INTEGER {
                    QuadPart: -1_000_000,
                };
                while (*engine).active.load(Ordering::SeqCst) != 0 {
                    KeWaitForSingleObject(
                        (&raw mut (*engine).drained).cast(),
                        _KWAIT_REASON::Executive,
                        _MODE::KernelMode as i8,
                        0,
                        &mut timeout,
                    );
                }
                ExFreePoolWithTag(engine.cast(), TAG);
            }
            freed.wait();
        });
    });
    kernel.unload()
}

/// A completion routine that reads its context, which the client freed while the send was in
/// flight (an engine or slot freed too early).
fn completion_reads_freed_context() {
    unsafe extern "C" fn reads_context(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
        // SAFETY: our IRP. Deliberately wrong: the context is freed pool.
        unsafe {
            IoFreeIrp(irp);
            std::hint::black_box(context.cast::<u64>().read_volatile());
        }
        STATUS_MORE_PROCESSING_REQUIRED
    }
    // The send completes only when the close cancels it, so the free certainly comes first.
    let kernel = kernel_with(CompletionMode::NeverForSends, SpecialPool::Protect);
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let mut buffer = PoolBuffer::new(b"late");
        // SAFETY: a fresh IRP whose routine gets a pool context that is freed (deliberately
        // wrong) before the send completes.
        unsafe {
            let context = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG);
            let irp = IoAllocateIrp(1, 0);
            set_routine(irp, reads_context, context);
            send_irp(socket, &mut buffer, nowhere(), irp);
            ExFreePoolWithTag(context, TAG);
        }
        // Cancels the send: its completion routine runs and touches the freed context.
        client.close(socket);
    });
    let _: &Kernel = &kernel;
}
