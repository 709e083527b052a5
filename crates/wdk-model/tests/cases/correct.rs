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
