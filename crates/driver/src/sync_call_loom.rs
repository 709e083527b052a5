//! Model checking with loom (`cargo loom`, see README): [`SyncCall`]'s late-completion protocol,
//! driven through its public interface only. A loom thread plays the provider and the I/O
//! manager: it completes the call's IRP (IoStatus, then the completion routine registered in
//! the driver's stack location, as IoCompleteRequest does) at any point relative to the
//! waiter's bounded wait, including after the waiter gave up. The IRP itself comes from, and
//! goes back to, the kernel model.
//!
//! It uses only `SyncCall::init`, `SyncCall::call`, `SyncCall::settle` and
//! `SyncCall::take_orphan`.

use std::sync::OnceLock;

use loom::thread;
use wdk_sys::harness::Kernel;
use wdk_sys::{KernelConfig, NTSTATUS, PIRP, STATUS_SUCCESS};

use crate::irp;
use crate::sync::quarantine::Freeable;
use crate::sync_call::{CallKind, Failed, SyncCall, Wait};
use crate::wsk::{Issued, SetCompletion, SockAddrStorage};

/// One kernel for every loom iteration: booting one starts its worker threads.
fn kernel() -> &'static Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    KERNEL.get_or_init(|| Kernel::boot(KernelConfig::default()))
}

/// An IRP handed to the provider thread.
struct ProviderIrp(PIRP);

// SAFETY: the IRP is owned by exactly one side at a time: the provider thread from `issue`
// until it completes the IRP.
unsafe impl Send for ProviderIrp {}

/// The socket a late creation delivers (never dereferenced).
const SOCKET: u64 = 0x5000;

/// What IoCompleteRequest does for the driver's own IRP: set IoStatus and call the completion
/// routine of the driver's stack location. Runs in the model kernel (the routine frees the IRP).
fn complete(irp: ProviderIrp, status: NTSTATUS, information: u64) {
    let irp = irp.0;
    kernel().run(|| {
        // SAFETY: the IRP came from SyncCall::call with its completion routine set, and the
        // provider owns it until this completion.
        unsafe {
            (*irp).IoStatus.__bindgen_anon_1.Status = status;
            (*irp).IoStatus.Information = information;
            let location = irp::next_stack_location(irp);
            let routine = (*location).CompletionRoutine.expect("a completion routine");
            routine(core::ptr::null_mut(), irp, (*location).Context);
        }
    });
}

/// A SyncCall in its own heap memory, which stays put until the test (and so the provider
/// thread, joined before) is done with it.
fn new_call() -> Box<SyncCall> {
    let mut call = Box::<SyncCall>::new_zeroed();
    // SAFETY: zeroed memory for a SyncCall.
    unsafe { SyncCall::init(call.as_mut_ptr()) };
    // SAFETY: initialised by `init`.
    unsafe { call.assume_init() }
}

/// Issues a socket creation that the provider completes on another thread, at any time.
fn create_socket(call: &SyncCall) -> (Result<u64, Failed>, thread::JoinHandle<()>) {
    let mut provider = None;
    let result = kernel().run(|| {
        call.call(
            CallKind::CreatesSocket,
            Wait::Bounded(10),
            SockAddrStorage::ZERO,
            |irp, _, arm| {
                // SAFETY: the call's fresh IRP, handed to the "provider" right after.
                unsafe { arm.set(irp) };
                let irp = ProviderIrp(irp);
                provider = Some(thread::spawn(move || complete(irp, STATUS_SUCCESS, SOCKET)));
                Issued::Submitted
            },
        )
    });
    (
        result.map(|done| done.information),
        provider.expect("the call issued its IRP"),
    )
}

/// The waiter either gets the socket or times out; if it timed out, the late completion keeps
/// the socket as the orphan for unload to close. Either way the call is idle again afterwards:
/// the next call is accepted and gets its own result.
#[test]
fn a_late_socket_is_kept_and_the_call_is_reusable() {
    loom::model(|| {
        let call = new_call();
        let (result, provider) = create_socket(&call);
        provider.join().unwrap();
        let orphan = call.take_orphan().map_or(0, |socket| socket as u64);
        match result {
            Ok(socket) => {
                assert_eq!(socket, SOCKET);
                assert_eq!(orphan, 0, "a delivered socket must not also be an orphan");
            }
            Err(failed) => {
                assert_eq!(failed, Failed::TimedOut);
                assert_eq!(orphan, SOCKET, "a socket created late was lost");
            }
        }
        let next = kernel().run(|| {
            call.call(
                CallKind::Other,
                Wait::Bounded(10),
                SockAddrStorage::ZERO,
                |irp, _, arm| {
                    // SAFETY: the call's fresh IRP, handed to the "provider" right after.
                    unsafe { arm.set(irp) };
                    complete(ProviderIrp(irp), STATUS_SUCCESS, 7);
                    Issued::Submitted
                },
            )
        });
        assert_eq!(
            next.map(|done| done.information),
            Ok(7),
            "the call did not return to idle"
        );
    });
}

/// Found by loom in an earlier SyncCall: a completion that won the race (state WAITING ->
/// DONE) sets `completed` after the waiter may already have read the result, returned, and
/// started the next call, which has cleared the event. The stale set then woke the next call,
/// which returned the previous call's result while its own IRP was still pending. A wake-up
/// now counts only with the state DONE (`SyncCall::wait_done`). Here the next call's IRP is
/// never completed, so the right answer is a timeout.
#[test]
fn a_stale_completion_must_not_wake_the_next_call() {
    loom::model(|| {
        let call = new_call();
        let (first, provider) = create_socket(&call);
        if first.is_err() {
            // Only the race where the first call got its result is of interest here.
            provider.join().unwrap();
            return;
        }
        // The provider thread may still be inside the completion routine.
        let next = kernel().run(|| {
            call.call(
                CallKind::Other,
                Wait::Bounded(10),
                SockAddrStorage::ZERO,
                |_irp, _, _arm| Issued::Submitted,
            )
        });
        provider.join().unwrap();
        assert_eq!(
            next.map(|done| done.information),
            Err(Failed::TimedOut),
            "a stale wake-up: the next call returned without its IRP completing"
        );
    });
}

/// The completion routine's last access to the SyncCall is the store of its final state: a
/// waiter that saw DONE (it got the result) or that settled an abandoned call may tear the
/// engine down at once, and on IoSetCompletionRoutineEx's fallback nothing else keeps the
/// memory alive while the routine is still running. Here the SyncCall is freed (into the
/// quarantine of src/sync.rs, which panics on any later access to its events) as soon as the
/// waiter is done with it, before the provider thread is joined. An earlier SyncCall set its
/// event after publishing DONE, and its `settled` event after publishing IDLE: loom found the
/// access after free in both.
#[test]
fn the_completion_does_not_touch_the_call_after_the_waiter_is_done() {
    loom::model(|| {
        let call = Freeable::new(*new_call());
        let (result, provider) = create_socket(call.get());
        let orphan = match result {
            Ok(socket) => {
                assert_eq!(socket, SOCKET);
                None
            }
            Err(failed) => {
                assert_eq!(failed, Failed::TimedOut);
                // Unload waits out the abandoned call, then closes what it left.
                kernel().run(|| call.get().settle());
                call.get().take_orphan()
            }
        };
        let late = matches!(result, Err(_));
        assert_eq!(
            orphan.map(|socket| socket as u64),
            late.then_some(SOCKET),
            "a socket created late was lost"
        );
        // The engine is torn down now; the provider thread may still be in the routine.
        call.free();
        provider.join().unwrap();
    });
}
