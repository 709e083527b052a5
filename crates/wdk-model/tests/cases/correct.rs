//! The client done right: every check must stay silent.

use std::sync::atomic::Ordering;

use libtest_mimic::Failed;
use wdk_model::harness::Kernel;
use wdk_model::wsk::abi::*;
use wdk_model::*;

use crate::common::*;

pub fn a_correct_client_sends_and_leaves_a_clean_report() -> Result<(), Failed> {
    for completion in [CompletionMode::Inline, CompletionMode::Async] {
        for special_pool in [SpecialPool::Protect, SpecialPool::Poison, SpecialPool::Off] {
            let kernel = Kernel::boot(KernelConfig {
                completion,
                special_pool,
                ..KernelConfig::default()
            });
            let listener = listener();
            kernel.run(|| {
                let client = Client::connect();
                let outcome = Outcome::default();
                let socket = client.socket(AF_INET);
                client.bind(socket, "127.0.0.1:0");
                let mut buffer = PoolBuffer::new(b"correct");
                send(
                    socket,
                    &mut buffer,
                    Some(listener.local_addr().expect("address")),
                    free_and_stop,
                    &outcome,
                );
                let mut datagram = [0u8; 16];
                let (n, _) = listener.recv_from(&mut datagram).expect("arrives");
                assert_eq!(&datagram[..n], b"correct");
                wait(&outcome);
                assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
                assert_eq!(outcome.information.load(Ordering::SeqCst), 7);
                client.close(socket);
                buffer.free();
                client.disconnect();
            });
            let report = kernel.unload();
            if !report.is_clean() {
                return Err(format!("{completion:?}, {special_pool:?}: {report}").into());
            }
        }
    }
    Ok(())
}

/// A client that sends twice on one IRP, reinitialising it with IoReuseIrp in between, is
/// clean; and IoReuseIrp leaves the IRP as Wine's ntoskrnl IoReuseIrp does: the given status,
/// the stack locations reset (CurrentLocation StackCount + 1, routine gone), AllocationFlags
/// kept, Cancel and PendingReturned cleared.
pub fn a_client_reusing_its_irp_with_io_reuse_irp_is_clean() -> Result<(), Failed> {
    use wdk_model::ntddk::*;
    for completion in [CompletionMode::Inline, CompletionMode::Async] {
        let kernel = Kernel::boot(KernelConfig {
            completion,
            ..KernelConfig::default()
        });
        let listener = listener();
        let to = Some(listener.local_addr().expect("address"));
        kernel.run(|| {
            let client = Client::connect();
            let socket = client.socket(AF_INET);
            client.bind(socket, "127.0.0.1:0");
            let mut buffer = PoolBuffer::new(b"again");
            let first = Outcome::default();
            let irp = irp(keep, &first);
            send_irp(socket, &mut buffer, to, irp);
            wait(&first);
            // SAFETY: the IRP completed and its routine kept it: ours to reinitialise.
            unsafe {
                (*irp).Cancel = 1;
                (*irp).PendingReturned = 1;
                (*irp).AllocationFlags = 0x5A;
                IoReuseIrp(irp, STATUS_UNSUCCESSFUL);
                assert_eq!((*irp).IoStatus.__bindgen_anon_1.Status, STATUS_UNSUCCESSFUL);
                assert_eq!((*irp).IoStatus.Information, 0);
                assert_eq!((*irp).CurrentLocation, (*irp).StackCount + 1);
                assert_eq!((*irp).StackCount, 1);
                assert_eq!((*irp).AllocationFlags, 0x5A);
                assert_eq!((*irp).Cancel, 0);
                assert_eq!((*irp).PendingReturned, 0);
                let next = (*irp)
                    .Tail
                    .Overlay
                    .__bindgen_anon_2
                    .__bindgen_anon_1
                    .CurrentStackLocation
                    .sub(1);
                assert!((*next).CompletionRoutine.is_none());
            }
            let second = Outcome::default();
            // SAFETY: reinitialised above, with its one stack location free.
            unsafe {
                crate::cases::wsk::set_routine(irp, keep, (&raw const second).cast_mut().cast())
            };
            send_irp(socket, &mut buffer, to, irp);
            wait(&second);
            assert_eq!(second.status.load(Ordering::SeqCst), STATUS_SUCCESS);
            let mut datagram = [0u8; 16];
            for _ in 0..2 {
                let (n, _) = listener.recv_from(&mut datagram).expect("arrives");
                assert_eq!(&datagram[..n], b"again");
            }
            // SAFETY: completed and kept; freed once.
            unsafe { IoFreeIrp(irp) };
            client.close(socket);
            buffer.free();
            client.disconnect();
        });
        let report = kernel.unload();
        if !report.is_clean() {
            return Err(format!("{completion:?}: {report}").into());
        }
    }
    Ok(())
}
