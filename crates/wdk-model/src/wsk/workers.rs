//! The provider's worker threads: where asynchronous completions come from.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use crate::kernel::{self, Kernel, lock};

pub(crate) type Job = Box<dyn FnOnce(&Arc<Kernel>) + Send>;

#[derive(Default)]
pub(crate) struct Workers {
    sender: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Workers {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn start(&self, kernel: &Arc<Kernel>, count: usize) {
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
    pub(crate) fn shutdown(&self) {
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

fn run(receiver: &Mutex<Receiver<Job>>, kernel: &Weak<Kernel>) {
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
