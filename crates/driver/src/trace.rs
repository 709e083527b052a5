//! Debug output for the kernel debugger and DebugView: `DbgPrintEx` with the component Learn
//! reserves for network drivers (DPFLTR_IHVNETWORK_ID) and the DPFLTR levels, so a filter mask
//! (`Debug Print Filter\IHVNETWORK`) chooses what is shown. Errors always reach the debugger;
//! the rest needs the mask.
//!
//! Messages are formatted into a fixed buffer on the stack (no allocation, callable at
//! DISPATCH_LEVEL), cut at [`CAPACITY`] - 1 bytes, and passed as the argument of a constant
//! `"%s\n"` format, so text never acts as a format string. Only control-path events are
//! printed: load, device creation, WSK readiness, sockets, failures with their NTSTATUS, and
//! unload; the per-datagram path prints nothing.

use core::fmt::{self, Write};

use wdk_sys::ntddk::DbgPrintEx;
use wdk_sys::{
    _DPFLTR_TYPE, DPFLTR_ERROR_LEVEL, DPFLTR_INFO_LEVEL, DPFLTR_TRACE_LEVEL, DPFLTR_WARNING_LEVEL,
};

/// The longest message, terminating NUL included (DbgPrintEx transmits at most 512 bytes).
const CAPACITY: usize = 256;

/// How important a message is.
#[derive(Clone, Copy)]
pub enum Level {
    Error,
    Warning,
    Trace,
    Info,
}

impl Level {
    fn dpfltr(self) -> u32 {
        match self {
            Level::Error => DPFLTR_ERROR_LEVEL,
            Level::Warning => DPFLTR_WARNING_LEVEL,
            Level::Trace => DPFLTR_TRACE_LEVEL,
            Level::Info => DPFLTR_INFO_LEVEL,
        }
    }
}

/// A message being formatted; always NUL-terminated, extra text is dropped.
struct Line {
    bytes: [u8; CAPACITY],
    length: usize,
}

impl Write for Line {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = CAPACITY - 1 - self.length;
        let take = text.len().min(room);
        if let (Some(to), Some(from)) = (
            self.bytes.get_mut(self.length..self.length + take),
            text.as_bytes().get(..take),
        ) {
            to.copy_from_slice(from);
            self.length += take;
        }
        Ok(())
    }
}

/// Prints one message (use [`trace!`]).
pub fn emit(level: Level, message: fmt::Arguments<'_>) {
    let mut line = Line {
        bytes: [0; CAPACITY],
        length: 0,
    };
    let _ = line.write_str("wsk_sample: ");
    let _ = line.write_fmt(message);
    // SAFETY: a constant format taking one string, and a NUL-terminated buffer (the writer
    // never fills the last byte) that outlives the call.
    unsafe {
        DbgPrintEx(
            _DPFLTR_TYPE::DPFLTR_IHVNETWORK_ID as u32,
            level.dpfltr(),
            c"%s\n".as_ptr(),
            line.bytes.as_ptr().cast::<core::ffi::c_char>(),
        )
    };
}

/// `trace!(Info, "format", args…)`: one line of debug output at that level.
macro_rules! trace {
    ($level:ident, $($message:tt)*) => {
        $crate::trace::emit($crate::trace::Level::$level, format_args!($($message)*))
    };
}
pub(crate) use trace;

/// An NTSTATUS as Windows prints it (0xC0000001).
pub struct Status(pub wdk_sys::NTSTATUS);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_and_terminated() {
        let mut line = Line {
            bytes: [0; CAPACITY],
            length: 0,
        };
        let long = "x".repeat(1000);
        let _ = write!(line, "{long}");
        assert_eq!(line.length, CAPACITY - 1);
        assert_eq!(
            line.bytes[CAPACITY - 1],
            0,
            "the terminating NUL is never written over"
        );
        assert!(line.bytes[..CAPACITY - 1].iter().all(|&b| b == b'x'));
    }

    #[test]
    fn status_prints_as_windows_does() {
        assert_eq!(
            std::format!("{}", Status(0xC000_0001_u32 as i32)),
            "0xC0000001"
        );
    }
}
