//! Self-tests of the model's WSK and unload rules from issue 11: a small WSK client written
//! here, done right (a clean report) and then broken in one way per test; each break must be
//! reported under the rule it breaks. The rules cite their sources (Learn pages) in kernel.rs.

use std::sync::atomic::Ordering;
use std::time::Duration;

use libtest_mimic::Failed;
use wdk_model::harness::{Kernel, Report};
use wdk_model::ntddk::*;
use wdk_model::wsk::abi::*;
use wdk_model::*;

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// Close is final
// ---------------------------------------------------------------------------------------------

fn failing_close_kernel() -> Kernel {
    Kernel::boot(KernelConfig {
        completion: CompletionMode::Async,
        faults: vec![Fault {
            site: FaultSite::WskClose,
            nth: 1,
            status: STATUS_INSUFFICIENT_RESOURCES,
        }],
        ..KernelConfig::default()
    })
}

fn a_close_that_fails_still_closes_and_one_close_is_clean() -> Result<(), Failed> {
    let kernel = failing_close_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        assert_eq!(client.close(socket), STATUS_INSUFFICIENT_RESOURCES);
        // Nothing else is called on the socket; deregistering does not hang.
        client.disconnect();
    });
    assert_clean(&kernel.unload());
    Ok(())
}

fn a_retry_after_a_failed_close_is_caught() -> Report {
    let kernel = failing_close_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        assert_ne!(client.close(socket), STATUS_SUCCESS);
        // Deliberately wrong: the old driver's CLOSE_ATTEMPTS retry.
        let outcome = Outcome::default();
        let irp = irp(free_and_stop, &outcome);
        // SAFETY: deliberately wrong: the socket was closed (the close failed, but it is final).
        let status = unsafe { dispatch(socket).WskCloseSocket.expect("close")(socket, irp) };
        assert_eq!(status, STATUS_INVALID_HANDLE);
        // SAFETY: the refused IRP is still ours.
        unsafe { IoFreeIrp(irp) };
        client.disconnect();
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// WSK from a completion routine; IoReuseIrp
// ---------------------------------------------------------------------------------------------

/// Closes the socket (the context) from the completion of the bind, reusing the bind's IRP.
unsafe extern "C" fn close_from_completion(
    _: PDEVICE_OBJECT,
    irp: PIRP,
    context: PVOID,
) -> NTSTATUS {
    // SAFETY: the context is the socket; the IRP is ours again (it completed), so it may be
    // reused for the next call (Learn, Using IRPs with Winsock Kernel Functions; IoReuseIrp).
    unsafe {
        let socket = context.cast::<WSK_SOCKET>();
        IoReuseIrp(irp, STATUS_SUCCESS);
        set_routine(irp, free_only, std::ptr::null_mut());
        dispatch(socket).WskCloseSocket.expect("close")(socket, irp);
    }
    STATUS_MORE_PROCESSING_REQUIRED
}

unsafe extern "C" fn free_only(_: PDEVICE_OBJECT, irp: PIRP, _: PVOID) -> NTSTATUS {
    // SAFETY: our IRP.
    unsafe { IoFreeIrp(irp) };
    STATUS_MORE_PROCESSING_REQUIRED
}

fn a_wsk_call_from_a_completion_routine_is_legal() -> Result<(), Failed> {
    for completion in [CompletionMode::Inline, CompletionMode::Async] {
        let kernel = kernel(completion);
        kernel.run(|| {
            let client = Client::connect();
            let socket = client.socket(AF_INET);
            let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
            // SAFETY: a fresh IRP whose routine gets the socket as context; the address lives
            // until the sleep below is over.
            unsafe {
                let irp = IoAllocateIrp(1, 0);
                set_routine(irp, close_from_completion, socket.cast());
                dispatch(socket).WskBind.expect("bind")(socket, raw.as_mut_ptr().cast(), 0, irp);
            }
            std::thread::sleep(Duration::from_millis(200));
            client.disconnect();
        });
        assert_clean(&kernel.unload());
    }
    Ok(())
}

fn reusing_an_irp_wsk_still_owns_is_caught() -> Report {
    let kernel = kernel(CompletionMode::NeverForSends);
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let mut buffer = PoolBuffer::new(b"stuck");
        let mut remote = sockaddr(target.local_addr().expect("address"));
        let outcome = Outcome::default();
        let irp = irp(free_and_stop, &outcome);
        send_to(socket, &mut buffer, remote.as_mut_ptr(), irp);
        // SAFETY: deliberately wrong: the send is pending, WSK owns the IRP.
        unsafe { IoReuseIrp(irp, STATUS_SUCCESS) };
        client.close(socket);
        wait(&outcome);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// Inputs stay untouched until completion
// ---------------------------------------------------------------------------------------------

fn delayed_kernel() -> Kernel {
    kernel(CompletionMode::Delayed(Duration::from_millis(200)))
}

/// Binds with a SOCKADDR that `rewrite` may change while the IRP is pending.
fn bind_and(rewrite: bool) -> Report {
    let kernel = delayed_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        let outcome = Outcome::default();
        // SAFETY: a live socket; the address lives until after the completion.
        unsafe {
            dispatch(socket).WskBind.expect("bind")(
                socket,
                raw.as_mut_ptr().cast(),
                0,
                irp(free_and_stop, &outcome),
            )
        };
        if rewrite {
            // Deliberately wrong: the old driver rewrote `bind_address` after a timed-out call.
            raw.copy_from_slice(&sockaddr("127.0.0.2:0".parse().expect("address")));
        }
        wait(&outcome);
        client.finish(socket);
    });
    kernel.unload()
}

fn a_bind_address_left_alone_until_completion_is_clean() -> Result<(), Failed> {
    assert_clean(&bind_and(false));
    Ok(())
}

fn a_bind_address_rewritten_while_pending_is_caught() -> Report {
    bind_and(true)
}

fn a_control_input_rewritten_while_pending_is_caught() -> Report {
    let kernel = delayed_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let mut raw = sockaddr("127.0.0.1:9".parse().expect("address"));
        let outcome = Outcome::default();
        // SAFETY: a live bound socket; the input lives until after the completion.
        unsafe {
            dispatch(socket).WskControlSocket.expect("control")(
                socket,
                WSK_IOCTL,
                SIO_WSK_SET_SENDTO_ADDRESS,
                0,
                16,
                raw.as_mut_ptr().cast(),
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                irp(free_and_stop, &outcome),
            )
        };
        // Deliberately wrong: the old driver rewrote `fixed_address` after a timed-out call.
        raw.copy_from_slice(&sockaddr("127.0.0.1:10".parse().expect("address")));
        wait(&outcome);
        client.finish(socket);
    });
    kernel.unload()
}

fn a_remote_address_rewritten_while_its_send_is_pending_is_caught() -> Report {
    let kernel = delayed_kernel();
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let mut buffer = PoolBuffer::new(b"x");
        let mut remote = sockaddr(target.local_addr().expect("address"));
        let outcome = Outcome::default();
        send_to(
            socket,
            &mut buffer,
            remote.as_mut_ptr(),
            irp(free_and_stop, &outcome),
        );
        // Deliberately wrong: the address is reused while the send is pending.
        remote[3] ^= 1;
        wait(&outcome);
        buffer.free();
        client.finish(socket);
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// Remote and send-to: two settings; NULL RemoteAddress only where documented
// ---------------------------------------------------------------------------------------------

fn remote_and_send_to_are_two_settings() -> Result<(), Failed> {
    let kernel = kernel(CompletionMode::Async);
    let (first, second) = (listener(), listener());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let remote = Some(first.local_addr().expect("address"));
        let send_to_address = Some(second.local_addr().expect("address"));
        // Set send-to, then set and clear remote: send-to is still set.
        client.set_fixed(socket, SIO_WSK_SET_SENDTO_ADDRESS, send_to_address);
        client.set_fixed(socket, SIO_WSK_SET_REMOTE_ADDRESS, remote);
        client.set_fixed(socket, SIO_WSK_SET_REMOTE_ADDRESS, None);
        let mut buffer = PoolBuffer::new(b"to send-to");
        let outcome = send_to_and_wait(socket, &mut buffer, std::ptr::null_mut());
        assert_eq!(outcome.status.load(Ordering::SeqCst), STATUS_SUCCESS);
        buffer.free();
        client.finish(socket);
    });
    let mut received = [0u8; 64];
    let (n, _) = second
        .recv_from(&mut received)
        .expect("the send-to address receives");
    assert_eq!(&received[..n], b"to send-to");
    assert_clean(&kernel.unload());
    Ok(())
}

fn a_null_remote_address_with_both_fixed_addresses_set_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    let (first, second) = (listener(), listener());
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        client.set_fixed(socket, SIO_WSK_SET_REMOTE_ADDRESS, first.local_addr().ok());
        // Deliberately wrong: the other kind is set without clearing the first.
        client.set_fixed(socket, SIO_WSK_SET_SENDTO_ADDRESS, second.local_addr().ok());
        let mut buffer = PoolBuffer::new(b"which?");
        send_to_and_wait(socket, &mut buffer, std::ptr::null_mut());
        buffer.free();
        client.finish(socket);
    });
    kernel.unload()
}

fn send_messages_with_a_null_remote_address_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        client.set_fixed(socket, SIO_WSK_SET_SENDTO_ADDRESS, target.local_addr().ok());
        let buffer = PoolBuffer::new(b"batch");
        let mut list = WSK_BUF_LIST {
            Next: std::ptr::null_mut(),
            Buffer: WSK_BUF {
                Mdl: buffer.mdl,
                Offset: 0,
                Length: buffer.wsk_buf.Length,
            },
        };
        let outcome = Outcome::default();
        // SAFETY: a live socket; the list lives until completion (waited for below).
        unsafe {
            // Deliberately wrong: PFN_WSK_SEND_MESSAGES documents no fixed-address fallback.
            dispatch(socket).WskSendMessages.expect("WskSendMessages")(
                socket,
                &mut list,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                irp(free_and_stop, &outcome),
            )
        };
        wait(&outcome);
        buffer.free();
        client.finish(socket);
    });
    kernel.unload()
}

fn a_zero_length_send_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    let target = listener();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let mut buffer = PoolBuffer::new(b"x");
        // Deliberately undocumented: an empty datagram (over a real MDL, as a slot would be).
        buffer.wsk_buf.Length = 0;
        let mut remote = sockaddr(target.local_addr().expect("address"));
        send_to_and_wait(socket, &mut buffer, remote.as_mut_ptr());
        buffer.free();
        client.finish(socket);
    });
    kernel.unload()
}

// ---------------------------------------------------------------------------------------------
// Unload
// ---------------------------------------------------------------------------------------------

fn a_client_that_pairs_everything_unloads_clean() -> Result<(), Failed> {
    let kernel = kernel(CompletionMode::Async);
    kernel.run(|| Client::connect().disconnect());
    assert_clean(&kernel.unload());
    Ok(())
}

fn an_unload_with_the_registration_alive_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    kernel.run(|| {
        // Deliberately wrong: registered, never deregistered.
        let _client = Client::register(false);
    });
    kernel.unload()
}

fn an_unload_with_the_capture_held_is_caught() -> Report {
    let kernel = kernel(CompletionMode::Async);
    kernel.run(|| {
        // Deliberately wrong: captured, never released (nor deregistered, which would hang).
        let _client = Client::connect();
    });
    kernel.unload()
}

fn an_unload_while_a_completion_routine_runs_is_caught() -> Report {
    unsafe extern "C" fn slow(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
        // SAFETY: see `record`; our IRP.
        unsafe { record(irp, context) };
        // Deliberately wrong: still running long after its waiter went on to unload.
        std::thread::sleep(Duration::from_secs(2));
        // SAFETY: our IRP.
        unsafe { IoFreeIrp(irp) };
        STATUS_MORE_PROCESSING_REQUIRED
    }
    let kernel = kernel(CompletionMode::Async);
    let outcome = Box::leak(Box::new(Outcome::default()));
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.bound_socket();
        let close = irp(slow, outcome);
        // SAFETY: a live socket, not used afterwards.
        unsafe { dispatch(socket).WskCloseSocket.expect("close")(socket, close) };
        wait(outcome);
        client.disconnect();
    });
    kernel.unload()
}

/// This file's broken clients, for the table in broken_clients.rs.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
            name: "a_bind_address_rewritten_while_pending_is_caught",
            also: &[],
            run: a_bind_address_rewritten_while_pending_is_caught,
        },
        Case {
            rule: rules::WSK_SOCKET_INVALID,
            name: "a_retry_after_a_failed_close_is_caught",
            also: &[],
            run: a_retry_after_a_failed_close_is_caught,
        },
        Case {
            rule: rules::IRP_REUSED_WHILE_OWNED,
            name: "reusing_an_irp_wsk_still_owns_is_caught",
            also: &[],
            run: reusing_an_irp_wsk_still_owns_is_caught,
        },
        Case {
            rule: rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
            name: "a_control_input_rewritten_while_pending_is_caught",
            also: &[],
            run: a_control_input_rewritten_while_pending_is_caught,
        },
        Case {
            rule: rules::WSK_INPUT_MODIFIED_WHILE_PENDING,
            name: "a_remote_address_rewritten_while_its_send_is_pending_is_caught",
            also: &[],
            run: a_remote_address_rewritten_while_its_send_is_pending_is_caught,
        },
        Case {
            rule: rules::WSK_AMBIGUOUS_DESTINATION,
            name: "a_null_remote_address_with_both_fixed_addresses_set_is_caught",
            also: &[],
            run: a_null_remote_address_with_both_fixed_addresses_set_is_caught,
        },
        Case {
            rule: rules::WSK_AMBIGUOUS_DESTINATION,
            name: "send_messages_with_a_null_remote_address_is_caught",
            also: &[],
            run: send_messages_with_a_null_remote_address_is_caught,
        },
        Case {
            rule: rules::WSK_BAD_ARGUMENT,
            name: "a_zero_length_send_is_caught",
            also: &[],
            run: a_zero_length_send_is_caught,
        },
        Case {
            rule: rules::WSK_UNLOAD_WITH_REGISTRATION,
            name: "an_unload_with_the_registration_alive_is_caught",
            // Its consequences: what it never gave back is also reported as leaked.
            also: &[rules::LEAK],
            run: an_unload_with_the_registration_alive_is_caught,
        },
        Case {
            rule: rules::WSK_UNLOAD_WITH_CAPTURE,
            name: "an_unload_with_the_capture_held_is_caught",
            // Its consequences: what it never gave back is also reported as leaked.
            also: &[rules::WSK_UNLOAD_WITH_REGISTRATION, rules::LEAK],
            run: an_unload_with_the_capture_held_is_caught,
        },
        Case {
            rule: rules::UNLOAD_WITH_COMPLETION_RUNNING,
            name: "an_unload_while_a_completion_routine_runs_is_caught",
            // Its consequences: what it never gave back is also reported as leaked.
            also: &[rules::LEAK],
            run: an_unload_while_a_completion_routine_runs_is_caught,
        },
    ]
}

/// A check that expects no rule broken.
pub type Check = fn() -> Result<(), Failed>;

/// Behaviour this file checks that breaks no rule (clean reports, documented outcomes).
pub fn checks() -> Vec<(&'static str, Check)> {
    vec![
        (
            "a_close_that_fails_still_closes_and_one_close_is_clean",
            a_close_that_fails_still_closes_and_one_close_is_clean,
        ),
        (
            "a_wsk_call_from_a_completion_routine_is_legal",
            a_wsk_call_from_a_completion_routine_is_legal,
        ),
        (
            "a_bind_address_left_alone_until_completion_is_clean",
            a_bind_address_left_alone_until_completion_is_clean,
        ),
        (
            "remote_and_send_to_are_two_settings",
            remote_and_send_to_are_two_settings,
        ),
        (
            "a_client_that_pairs_everything_unloads_clean",
            a_client_that_pairs_everything_unloads_clean,
        ),
    ]
}
