//! The composition root: boots one kernel by giving each subsystem its table in the kernel
//! core's slots, then starting the provider's threads. It sits above every subsystem (it names
//! their tables) and below the harness; nothing but the harness imports it.

use std::sync::Arc;

use crate::kernel::slots::Slots;
use crate::kernel::{KernelConfig, KernelState, SpecialPool};
use crate::wsk::{provider, workers};
use crate::{debug, devobj, irp, mdl, pool, sync, wdf};

/// A fresh kernel with `config`: every subsystem's table empty, the provider's worker threads
/// running.
pub(crate) fn boot(config: KernelConfig) -> Arc<KernelState> {
    if config.special_pool == SpecialPool::Protect {
        pool::install_fault_handler();
    }
    let threads = config.worker_threads.max(1);
    let slots = Slots::default()
        .with(debug::DebugOutput::default())
        .with(std::sync::Mutex::<pool::PoolTable>::default())
        .with(std::sync::Mutex::<irp::IrpTable>::default())
        .with(std::sync::Mutex::<mdl::MdlTable>::default())
        .with(std::sync::Mutex::<devobj::DeviceObjectTable>::default())
        .with(sync::Dispatcher::default())
        .with(wdf::Wdf::default())
        .with(provider::Provider::default())
        .with(workers::Workers::default());
    let kernel = Arc::new(KernelState::new(config, slots));
    workers::start(&kernel, threads);
    kernel
}

/// Tears down what `boot` started that would outlive the kernel: the provider's threads.
pub(crate) fn shutdown(kernel: &KernelState) {
    kernel.set_trace_sink(None);
    workers::shutdown(kernel);
}
