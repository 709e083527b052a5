//! Ctrl-C: the first press asks the running loop to stop (it then prints its summary); a second
//! press exits at once, for a loop stuck in a call that does not return.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::exit::ExitStatus;
use crate::output::note;

/// Installs the handler and returns the flag loops poll. If the handler cannot be installed the
/// flag simply never rises, and Ctrl-C ends the process the default way.
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            note!("\ninterrupted again: exiting without a summary");
            std::process::exit(i32::from(ExitStatus::Partial.code()));
        }
        note!("\ninterrupted: stopping (press Ctrl-C again to exit at once)");
    });
    if let Err(error) = installed {
        note!("warning: Ctrl-C will end wskctl without a summary ({error})");
    }
    flag
}
