//! The provider's worker threads: where asynchronous completions come from.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use crate::kernel::{self, KernelState, lock};

pub(crate) type Job = Box<dyn FnOnce(&Arc<KernelState>) + Send>;

#[derive(Default)]
pub(crate) struct Workers {
    sender: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl KernelState {
    /// The provider's worker threads in this kernel: their slot (`kernel::slots`), filled by
    /// `crate::boot`; for the WSK modules only.
    pub(in crate::wsk) fn workers(&self) -> &Workers {
        self.slot()
    }
}

/// Starts `kernel`'s provider threads (at boot, once its slots are filled).
pub(crate) fn start(kernel: &Arc<KernelState>, count: usize) {
    kernel.workers().start(kernel, count);
}

/// Stops `kernel`'s provider threads: queued jobs finish first (when the kernel goes away).
pub(crate) fn shutdown(kernel: &KernelState) {
    kernel.workers().shutdown();
}

impl Workers {
    fn start(&self, kernel: &Arc<KernelState>, count: usize) {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = lock(&self.threads);
        for index in 0..count {
            let receiver = receiver.clone();
            let weak = Arc::downgrade(kernel);
            let thread = std::thread::Builder::new()
                .name(format!("wsk-provider-{index}"))
                .spawn(move || run(&receiver, &weak))
                .expect("kernel model: cannot start a provider thread");
            threads.push(thread);
        }
        *lock(&self.sender) = Some(sender);
    }

    /// Queues a job; returns false once the kernel is shutting down.
    pub(crate) fn submit(&self, job: Job) -> bool {
        match lock(&self.sender).as_ref() {
            Some(sender) => sender.send(job).is_ok(),
            None => false,
        }
    }

    /// Stops accepting jobs, lets queued ones finish, and joins the threads.
    fn shutdown(&self) {
        lock(&self.sender).take();
        let threads = std::mem::take(&mut *lock(&self.threads));
        let me = std::thread::current().id();
        for thread in threads {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
    }
}

fn run(receiver: &Mutex<Receiver<Job>>, kernel: &Weak<KernelState>) {
    loop {
        let job = match lock(receiver).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let Some(kernel) = kernel.upgrade() else {
            return;
        };
        let _entered = kernel::enter(&kernel);
        kernel::set_irql(kernel::PASSIVE);
        job(&kernel);
    }
}
