//! Debug output: `DbgPrintEx`, captured the way a kernel debugger or DebugView would show it.
//!
//! The real routine is C-variadic (`DbgPrintEx(ComponentId, Level, Format, ...)`, wdm.h); a
//! variadic definition is not stable Rust, so the model takes exactly one argument after the
//! format and supports the one form the driver uses: `"%s"` or `"%s\n"` with a NUL-terminated
//! string. Any other format is a harness limitation and stops the test loudly.
//!
//! What Microsoft Learn's DbgPrintEx page says, and the model does: callable at IRQL <= DIRQL
//! (the model never runs above DISPATCH_LEVEL, so any caller is fine); a single call transmits
//! at most 512 bytes (longer text is cut there, as Windows does); whether a message is shown
//! depends on the component's filter mask. The model keeps every message with its level, as a
//! debugger with the component's mask fully open would.

use std::ffi::CStr;
use std::sync::Mutex;

use crate::kernel::{self, KernelState, lock};
use crate::types::{PCSTR, ULONG};

/// The most a single DbgPrintEx call transmits (Learn, DbgPrintEx, Remarks).
const MAX_TRANSMITTED: usize = 512;

/// One line of debug output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugLine {
    /// `ComponentId` (DPFLTR_TYPE value).
    pub component: ULONG,
    /// `Level` (0 = DPFLTR_ERROR_LEVEL … 3 = DPFLTR_INFO_LEVEL, or a mask above 31).
    pub level: ULONG,
    /// The text, without its trailing newline.
    pub text: String,
}

impl DebugLine {
    /// The level's name, as the DPFLTR_*_LEVEL constants say it.
    pub fn level_name(&self) -> &'static str {
        match self.level {
            0 => "ERROR",
            1 => "WARNING",
            2 => "TRACE",
            3 => "INFO",
            _ => "MASK",
        }
    }
}

/// Everything the driver printed with DbgPrintEx, oldest first: this subsystem's slot
/// (`kernel::slots`), filled by `crate::boot`.
#[derive(Default)]
pub(crate) struct DebugOutput(Mutex<Vec<DebugLine>>);

impl KernelState {
    fn debug_output(&self) -> &Mutex<Vec<DebugLine>> {
        &self.slot::<DebugOutput>().0
    }
}

/// What the driver printed so far (the harness's `debug_output`).
pub(crate) fn output(kernel: &KernelState) -> Vec<DebugLine> {
    lock(kernel.debug_output()).clone()
}

/// `DbgPrintEx(ComponentId, Level, "%s" or "%s\n", Text)`.
///
/// # Safety
/// `Format` and `Text` point to NUL-terminated strings.
#[allow(non_snake_case)]
pub unsafe extern "C" fn DbgPrintEx(
    ComponentId: ULONG,
    Level: ULONG,
    Format: PCSTR,
    Text: PCSTR,
) -> ULONG {
    let kernel = kernel::current();
    // SAFETY: the caller's guarantee.
    let format = unsafe { CStr::from_ptr(Format) }.to_bytes();
    assert!(
        format == b"%s" || format == b"%s\n",
        "kernel model: DbgPrintEx supports only the \"%s\" format with one string argument \
         (got {:?})",
        String::from_utf8_lossy(format)
    );
    // SAFETY: the caller's guarantee.
    let bytes = unsafe { CStr::from_ptr(Text) }.to_bytes();
    let bytes = &bytes[..bytes.len().min(MAX_TRANSMITTED)];
    let line = DebugLine {
        component: ComponentId,
        level: Level,
        text: String::from_utf8_lossy(bytes)
            .trim_end_matches('\n')
            .to_string(),
    };
    kernel.note(format!("DbgPrintEx {}: {}", line.level_name(), line.text));
    lock(kernel.debug_output()).push(line);
    0
}
