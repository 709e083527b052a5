//! Broken clients of the WSK provider: registration and NPI, sockets, sends and their buffers.

use std::sync::atomic::Ordering;
use std::time::Duration;

use wdk_model::harness::{Kernel, Report};
use wdk_model::ntddk::*;
use wdk_model::wsk::abi::*;
use wdk_model::wsk::{WskDeregister, WskReleaseProviderNPI};
use wdk_model::*;

use crate::common::*;

/// This file's broken clients.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: rules::WSK_NOT_BOUND,
            name: "a_send_on_an_unbound_socket",
            also: &[],
            run: a_send_on_an_unbound_socket_is_caught,
        },
        Case {
            rule: rules::WSK_NULL_REMOTE_ADDRESS,
            name: "a_null_remote_address_without_a_fixed_one",
            also: &[],
            run: a_null_remote_address_without_a_fixed_one_is_caught,
        },
        Case {
            rule: rules::MDL_NOT_LOCKED,
            name: "an_mdl_never_built_passed_to_wsk",
            also: &[],
            run: an_mdl_never_built_or_locked_is_refused_by_wsk,
        },
        Case {
            rule: rules::WSK_BUF_RANGE,
            name: "a_wsk_buf_longer_than_its_mdl",
            also: &[],
            run: a_wsk_buf_longer_than_its_mdl_is_caught,
        },
        Case {
            rule: rules::WSK_DEREGISTER_HANG,
            name: "deregistering_with_a_socket_open",
            // The socket it deregistered with is never closed, and the deregistration that
            // would hang leaves the registration alive at unload.
            also: &[rules::LEAK, rules::WSK_UNLOAD_WITH_REGISTRATION],
            run: deregistering_with_an_open_socket_is_reported_as_the_hang_it_would_be,
        },
        Case {
            rule: rules::BUFFER_MODIFIED_WHILE_PENDING,
            name: "a_buffer_changed_while_its_send_is_pending",
            also: &[],
            run: a_buffer_changed_while_its_send_is_pending_is_caught,
        },
        Case {
            rule: rules::WSK_SOCKET_INVALID,
            name: "a_send_on_a_closed_socket",
            also: &[],
            run: a_call_on_a_closed_socket_is_caught,
        },
        Case {
            rule: rules::WSK_UNBALANCED,
            name: "an_npi_released_twice",
            also: &[],
            run: releasing_an_npi_never_captured_is_caught,
        },
        Case {
            rule: rules::MDL_FREED_WHILE_PENDING,
            name: "freeing_the_mdl_of_a_pending_send",
            also: &[],
            run: freeing_the_mdl_of_a_pending_send,
        },
        Case {
            rule: rules::BUFFER_FREED_WHILE_PENDING,
            name: "freeing_the_buffer_of_a_pending_send",
            also: &[],
            run: freeing_the_buffer_of_a_pending_send,
        },
        Case {
            rule: rules::IRP_FREED_WHILE_OWNED,
            name: "freeing_the_irp_of_a_pending_send",
            also: &[],
            run: freeing_the_irp_of_a_pending_send,
        },
        Case {
            rule: rules::IRP_RESUBMITTED,
            name: "resubmitting_the_irp_of_a_pending_send",
            also: &[],
            run: resubmitting_the_irp_of_a_pending_send,
        },
        Case {
            rule: rules::IRP_NOT_REINITIALIZED,
            name: "a_completed_irp_sent_again_without_io_reuse_irp",
            also: &[],
            run: a_completed_irp_sent_again_without_io_reuse_irp,
        },
        Case {
            rule: rules::WSK_FLAGS_NOT_ZERO,
            name: "wsk_bind_with_flags",
            also: &[],
            run: wsk_bind_with_flags,
        },
        Case {
            rule: rules::WSK_FAMILY_MISMATCH,
            name: "an_ipv6_address_bound_to_an_ipv4_socket",
            also: &[],
            run: an_ipv6_address_bound_to_an_ipv4_socket,
        },
        Case {
            rule: rules::WSK_CLOSE_OVERLAP,
            name: "a_close_while_a_bind_is_executing",
            also: &[],
            run: a_close_while_a_bind_is_executing,
        },
        Case {
            rule: rules::WSK_NPI_NOT_CAPTURED,
            name: "wsk_socket_through_a_released_npi",
            also: &[],
            run: wsk_socket_through_a_released_npi,
        },
        Case {
            rule: rules::WSK_BAD_ARGUMENT,
            name: "wsk_bind_without_an_irp",
            also: &[],
            run: wsk_bind_without_an_irp,
        },
    ]
}

fn a_send_on_an_unbound_socket_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let mut buffer = PoolBuffer::new(b"x");
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
        assert_eq!(
            outcome.status.load(Ordering::SeqCst),
            STATUS_INVALID_DEVICE_STATE
        );
        client.close(socket);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn a_null_remote_address_without_a_fixed_one_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET6);
        client.bind(socket, "[::1]:0");
        let mut buffer = PoolBuffer::new(b"x");
        send(socket, &mut buffer, None, free_and_stop, &outcome);
        assert_eq!(
            outcome.calls.load(Ordering::SeqCst),
            1,
            "the IRP still completes"
        );
        client.close(socket);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn an_mdl_never_built_or_locked_is_refused_by_wsk() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        // SAFETY: deliberately wrong: the MDL is never built.
        let mut buffer = unsafe {
            let memory = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG);
            let mdl = IoAllocateMdl(memory, 16, 0, 0, std::ptr::null_mut());
            PoolBuffer {
                memory,
                mdl,
                wsk_buf: WSK_BUF {
                    Mdl: mdl,
                    Offset: 0,
                    Length: 16,
                },
            }
        };
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
        wait(&outcome);
        client.close(socket);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn a_wsk_buf_longer_than_its_mdl_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(&[1u8; 32]);
        buffer.wsk_buf.Length = 33;
        send(socket, &mut buffer, nowhere(), free_and_stop, &outcome);
        wait(&outcome);
        client.close(socket);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn deregistering_with_an_open_socket_is_reported_as_the_hang_it_would_be() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let _socket = client.socket(AF_INET);
        client.disconnect();
    });
    let report = kernel.unload();
    assert!(
        report.leaks.iter().any(|l| l.contains("socket")),
        "{report}"
    );
    report
}

fn a_buffer_changed_while_its_send_is_pending_is_caught() -> Report {
    let config = KernelConfig {
        completion: CompletionMode::Delayed(Duration::from_millis(100)),
        ..KernelConfig::default()
    };
    let kernel = Kernel::boot(config);
    let listener = listener();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"before");
        let irp = irp(keep, &outcome);
        send_irp(
            socket,
            &mut buffer,
            Some(listener.local_addr().expect("address")),
            irp,
        );
        // SAFETY: deliberately wrong: rewrite the buffer before the send completes.
        unsafe { std::ptr::copy_nonoverlapping(b"after!".as_ptr(), buffer.memory.cast(), 6) };
        let mut datagram = [0u8; 16];
        listener.recv_from(&mut datagram).expect("arrives");
        wait(&outcome);
        // SAFETY: `keep` handed the completed IRP back to us.
        unsafe { IoFreeIrp(irp) };
        client.close(socket);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn a_call_on_a_closed_socket_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        client.close(socket);
        let mut buffer = PoolBuffer::new(b"x");
        let irp = irp(free_and_stop, &outcome);
        // SAFETY: deliberately wrong: the socket is closed.
        let status = unsafe {
            dispatch(socket).WskSendTo.expect("send")(
                socket,
                &mut buffer.wsk_buf,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                irp,
            )
        };
        assert_eq!(status, STATUS_INVALID_HANDLE);
        // SAFETY: the refused IRP is still ours.
        unsafe { IoFreeIrp(irp) };
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn releasing_an_npi_never_captured_is_caught() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let mut registration = client.registration;
        // SAFETY: deliberately unbalanced: two releases for one capture.
        unsafe {
            WskReleaseProviderNPI(&mut *registration);
            WskReleaseProviderNPI(&mut *registration);
            WskDeregister(&mut *registration);
        }
    });
    kernel.unload()
}

/// A send that never completes on its own; `misuse` breaks a rule while it is pending, then the
/// client cleans up properly: the close cancels the send, whose routine frees the IRP.
fn while_a_send_is_pending(misuse: fn(*mut WSK_SOCKET, &mut PoolBuffer, PIRP)) -> Report {
    let kernel = kernel_with(CompletionMode::NeverForSends, SpecialPool::default());
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"pending");
        let irp = irp(free_and_stop, &outcome);
        assert_eq!(
            send_irp(socket, &mut buffer, nowhere(), irp),
            STATUS_PENDING
        );
        misuse(socket, &mut buffer, irp);
        client.close(socket);
        wait(&outcome);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn freeing_the_mdl_of_a_pending_send() -> Report {
    while_a_send_is_pending(|_, buffer, _| {
        // SAFETY: deliberately wrong: the send still uses the MDL (the model refuses the free).
        unsafe { IoFreeMdl(buffer.mdl) }
    })
}

fn freeing_the_buffer_of_a_pending_send() -> Report {
    while_a_send_is_pending(|_, buffer, _| {
        // SAFETY: deliberately wrong: the send still uses the memory (the model refuses the free).
        unsafe { ExFreePoolWithTag(buffer.memory, TAG) }
    })
}

fn freeing_the_irp_of_a_pending_send() -> Report {
    while_a_send_is_pending(|_, _, irp| {
        // SAFETY: deliberately wrong: the provider owns the IRP (the model refuses the free).
        unsafe { IoFreeIrp(irp) }
    })
}

/// Sets `routine` (all three invoke flags) in the next stack location of `irp`.
///
/// # Safety
/// `irp` is a live IRP the caller owns, with a free stack location.
pub unsafe fn set_routine(irp: PIRP, routine: Routine, context: PVOID) {
    // SAFETY: the caller's guarantee; the next location is the one below current.
    unsafe {
        let next = (*irp)
            .Tail
            .Overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
            .sub(1);
        (*next).CompletionRoutine = Some(routine);
        (*next).Context = context;
        (*next).Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
    }
}

fn a_completed_irp_sent_again_without_io_reuse_irp() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let first = Outcome::default();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        let mut buffer = PoolBuffer::new(b"twice");
        // The first send completes (inline) and its routine keeps the IRP.
        let irp = irp(keep, &first);
        send_irp(socket, &mut buffer, nowhere(), irp);
        wait(&first);
        let second = Outcome::default();
        // SAFETY: deliberately wrong: the completed IRP gets a new completion routine and goes
        // to WSK again without IoReuseIrp (the model refuses the send).
        unsafe { set_routine(irp, keep, (&raw const second).cast_mut().cast()) };
        let status = send_irp(socket, &mut buffer, nowhere(), irp);
        assert!(status < 0, "{status:#010x}");
        // SAFETY: ours again (the send was refused).
        unsafe { IoFreeIrp(irp) };
        client.close(socket);
        buffer.free();
        client.disconnect();
    });
    kernel.unload()
}

fn resubmitting_the_irp_of_a_pending_send() -> Report {
    while_a_send_is_pending(|socket, buffer, irp| {
        // Deliberately wrong: the IRP is passed to WSK again before it completed.
        let status = send_irp(socket, buffer, nowhere(), irp);
        assert!(status < 0);
    })
}

fn wsk_bind_with_flags() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        // SAFETY: deliberately wrong: WskBind on a datagram socket takes Flags = 0.
        unsafe {
            dispatch(socket).WskBind.expect("bind")(
                socket,
                raw.as_mut_ptr().cast(),
                1,
                irp(free_and_stop, &outcome),
            )
        };
        wait(&outcome);
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

fn an_ipv6_address_bound_to_an_ipv4_socket() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let outcome = Outcome::default();
        let socket = client.socket(AF_INET);
        let mut raw = sockaddr("[::1]:0".parse().expect("address"));
        // SAFETY: deliberately wrong: an AF_INET6 address for an AF_INET socket.
        unsafe {
            dispatch(socket).WskBind.expect("bind")(
                socket,
                raw.as_mut_ptr().cast(),
                0,
                irp(free_and_stop, &outcome),
            )
        };
        wait(&outcome);
        assert!(outcome.status.load(Ordering::SeqCst) < 0);
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}

/// How the bind's completion routine asks the closer thread to close, and hears it did.
static CLOSE_REQUEST: std::sync::Mutex<Option<std::sync::mpsc::SyncSender<()>>> =
    std::sync::Mutex::new(None);
static CLOSE_DONE: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>> =
    std::sync::Mutex::new(None);

fn a_close_while_a_bind_is_executing() -> Report {
    /// Runs while WskBind is still executing: the second bind of the socket fails at once, and
    /// this completion mode finishes the routine (on a provider thread) before the call
    /// returns. It has another thread close the socket and waits for that close, so the close
    /// overlaps the executing bind. The routine itself calls no WSK.
    unsafe extern "C" fn close_elsewhere(_: PDEVICE_OBJECT, irp: PIRP, context: PVOID) -> NTSTATUS {
        let request = CLOSE_REQUEST.lock().expect("lock").take();
        let done = CLOSE_DONE.lock().expect("lock").take();
        if let (Some(request), Some(done)) = (request, done) {
            let _ = request.send(());
            let _ = done.recv_timeout(Duration::from_secs(5));
        }
        // SAFETY: see `record`; our IRP.
        unsafe {
            record(irp, context);
            IoFreeIrp(irp);
        }
        STATUS_MORE_PROCESSING_REQUIRED
    }
    let kernel = kernel_with(
        CompletionMode::OtherThreadBeforeReturn,
        SpecialPool::default(),
    );
    let (request_tx, request_rx) = std::sync::mpsc::sync_channel(1);
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
    *CLOSE_REQUEST.lock().expect("lock") = Some(request_tx);
    *CLOSE_DONE.lock().expect("lock") = Some(done_rx);
    let (client, socket) = kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        client.bind(socket, "127.0.0.1:0");
        (client, socket as usize)
    });
    std::thread::scope(|scope| {
        let kernel = &kernel;
        scope.spawn(move || {
            if request_rx.recv_timeout(Duration::from_secs(5)).is_ok() {
                // Deliberately wrong: a close while another call on the socket is executing.
                kernel.run(|| {
                    let outcome = Outcome::default();
                    let socket = socket as *mut WSK_SOCKET;
                    // SAFETY: a live socket.
                    unsafe {
                        dispatch(socket).WskCloseSocket.expect("close")(
                            socket,
                            irp(free_and_stop, &outcome),
                        )
                    };
                    wait(&outcome);
                });
                let _ = done_tx.send(());
            }
        });
        kernel.run(|| {
            let outcome = Outcome::default();
            let socket = socket as *mut WSK_SOCKET;
            let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
            // SAFETY: a live socket; the second bind fails (already bound), which is allowed.
            unsafe {
                dispatch(socket).WskBind.expect("bind")(
                    socket,
                    raw.as_mut_ptr().cast(),
                    0,
                    irp(close_elsewhere, &outcome),
                )
            };
            wait(&outcome);
        });
    });
    kernel.run(|| {
        client.close(socket as *mut WSK_SOCKET);
        client.disconnect();
    });
    kernel.unload()
}

fn wsk_socket_through_a_released_npi() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let mut registration = client.registration;
        let npi = client.npi;
        // SAFETY: deliberately wrong: the NPI is used after WskReleaseProviderNPI.
        unsafe {
            WskReleaseProviderNPI(&mut *registration);
            let irp = IoAllocateIrp(1, 0);
            let status = (*npi.Dispatch).WskSocket.expect("WskSocket")(
                npi.Client,
                AF_INET,
                SOCK_DGRAM,
                IPPROTO_UDP,
                WSK_FLAG_DATAGRAM_SOCKET,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                irp,
            );
            assert!(status < 0);
            IoFreeIrp(irp);
            WskDeregister(&mut *registration);
        }
    });
    kernel.unload()
}

fn wsk_bind_without_an_irp() -> Report {
    let kernel = inline_kernel();
    kernel.run(|| {
        let client = Client::connect();
        let socket = client.socket(AF_INET);
        let mut raw = sockaddr("127.0.0.1:0".parse().expect("address"));
        // SAFETY: deliberately wrong: WSK datagram calls need an IRP.
        let status = unsafe {
            dispatch(socket).WskBind.expect("bind")(
                socket,
                raw.as_mut_ptr().cast(),
                0,
                std::ptr::null_mut(),
            )
        };
        assert!(status < 0);
        client.close(socket);
        client.disconnect();
    });
    kernel.unload()
}
