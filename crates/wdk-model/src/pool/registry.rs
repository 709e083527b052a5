//! The fault handler's view of protected freed pool: a fixed table of atomics, readable from a
//! signal handler without locks or allocation. Entries are claimed by compare-and-swap, filled,
//! then published; the handler reads only published entries.

use std::ops::Range;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

/// Entries across all kernels in the process; when full, freed pool is quarantined poisoned
/// but not protected.
const ENTRIES: usize = 8192;
const FREE: usize = 0;
const FILLING: usize = 1;
const PUBLISHED: usize = 2;

struct Entry {
    state: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    address: AtomicUsize,
    size: AtomicUsize,
    tag: AtomicU32,
    freed_by: AtomicPtr<u8>,
    freed_by_len: AtomicUsize,
    /// The rule a touch breaks (a &'static str, pointer and length stored together).
    rule: AtomicPtr<u8>,
    rule_len: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Entry = Entry {
    state: AtomicUsize::new(FREE),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    address: AtomicUsize::new(0),
    size: AtomicUsize::new(0),
    tag: AtomicU32::new(0),
    freed_by: AtomicPtr::new(core::ptr::null_mut()),
    freed_by_len: AtomicUsize::new(0),
    rule: AtomicPtr::new(core::ptr::null_mut()),
    rule_len: AtomicUsize::new(0),
};

static TABLE: [Entry; ENTRIES] = [EMPTY; ENTRIES];

/// Publishes the pages `range` of a freed allocation (`address`, `size` bytes, `tag`), freed by
/// `freed_by`; returns the slot, or None when the table is full. A touch stops naming `rule`
/// (POOL_USE_AFTER_FREE, or the WSK provider's rule for an indication list it took back). The
/// fault handler reads `freed_by`'s bytes in place: they must stay allocated until
/// `release(slot)`.
pub(super) fn register(
    range: Range<usize>,
    address: usize,
    (size, tag): (usize, u32),
    freed_by: &str,
    rule: &'static str,
) -> Option<usize> {
    let (slot, e) = TABLE.iter().enumerate().find(|(_, e)| {
        e.state
            .compare_exchange(FREE, FILLING, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    })?;
    e.start.store(range.start, Ordering::Relaxed);
    e.end.store(range.end, Ordering::Relaxed);
    e.address.store(address, Ordering::Relaxed);
    e.size.store(size, Ordering::Relaxed);
    e.tag.store(tag, Ordering::Relaxed);
    e.freed_by
        .store(freed_by.as_ptr().cast_mut(), Ordering::Relaxed);
    e.freed_by_len.store(freed_by.len(), Ordering::Relaxed);
    e.rule.store(rule.as_ptr().cast_mut(), Ordering::Relaxed);
    e.rule_len.store(rule.len(), Ordering::Relaxed);
    e.state.store(PUBLISHED, Ordering::Release);
    Some(slot)
}

pub(super) fn release(slot: usize) {
    if let Some(e) = TABLE.get(slot) {
        e.state.store(FREE, Ordering::Release);
    }
}

fn find(address: usize) -> Option<&'static Entry> {
    TABLE.iter().find(|e| {
        e.state.load(Ordering::Acquire) == PUBLISHED
            && e.start.load(Ordering::Relaxed) <= address
            && address < e.end.load(Ordering::Relaxed)
    })
}

/// The handlers that were installed before ours (std's stack-overflow handler), to chain
/// faults that are not on freed pool.
static PREVIOUS_SEGV: AtomicPtr<libc::sigaction> = AtomicPtr::new(core::ptr::null_mut());
static PREVIOUS_BUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(core::ptr::null_mut());

pub(super) fn install() {
    for (signal, previous) in [
        (libc::SIGSEGV, &PREVIOUS_SEGV),
        (libc::SIGBUS, &PREVIOUS_BUS),
    ] {
        // SAFETY: zeroed sigaction structures are valid to fill in; `on_fault` has the
        // SA_SIGINFO signature; the old action is kept (leaked, once per process) so
        // foreign faults can be chained to it.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let old = Box::into_raw(Box::new(std::mem::zeroed::<libc::sigaction>()));
            if libc::sigaction(signal, &action, old) == 0 {
                previous.store(old, Ordering::Release);
            }
        }
    }
}

/// A fixed buffer that `core::fmt` can write into without allocating.
struct StackText {
    bytes: [u8; 1024],
    len: usize,
}

impl core::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Whether the faulting access was a write, and the instruction that made it.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn access(context: *mut libc::c_void) -> (&'static str, usize) {
    if context.is_null() {
        return ("access", 0);
    }
    // SAFETY: the kernel passes the interrupted thread's ucontext to an SA_SIGINFO handler.
    let registers = unsafe { &(*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
    // Page-fault error code bit 1: the access was a write.
    let write = registers[libc::REG_ERR as usize] & 2 != 0;
    let ip = registers[libc::REG_RIP as usize] as usize;
    (if write { "write" } else { "read" }, ip)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn access(_context: *mut libc::c_void) -> (&'static str, usize) {
    ("access", 0)
}

extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let address = unsafe { (*info).si_addr() } as usize;
    if let Some(entry) = find(address) {
        use core::fmt::Write;
        let (kind, ip) = access(context);
        let mut text = StackText {
            bytes: [0; 1024],
            len: 0,
        };
        let tag = entry.tag.load(Ordering::Relaxed).to_le_bytes();
        let tag: [char; 4] = tag.map(|b| if b.is_ascii_graphic() { b as char } else { '.' });
        let start = entry.address.load(Ordering::Relaxed);
        let rule_ptr = entry.rule.load(Ordering::Relaxed);
        let rule = if rule_ptr.is_null() {
            "POOL_USE_AFTER_FREE"
        } else {
            // SAFETY: a published entry's rule is a &'static str (pointer and length stored
            // together by `register` before the entry was published).
            let bytes = unsafe {
                core::slice::from_raw_parts(rule_ptr, entry.rule_len.load(Ordering::Relaxed))
            };
            core::str::from_utf8(bytes).unwrap_or("POOL_USE_AFTER_FREE")
        };
        let _ = write!(
            text,
            "\nKERNEL MODEL STOP {rule}: {kind} of {address:#x} by the instruction at \
             {ip:#x}: it lies in pool allocation {start:#x} (tag '{}{}{}{}', {} bytes, offset {}) \
             that was freed by ",
            tag[0],
            tag[1],
            tag[2],
            tag[3],
            entry.size.load(Ordering::Relaxed),
            address.wrapping_sub(start),
        );
        let who = entry.freed_by.load(Ordering::Relaxed);
        let who_len = entry.freed_by_len.load(Ordering::Relaxed);
        let tail = " (the special pool keeps freed pool inaccessible; on Windows: bug check 0xD5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL)\n";
        // SAFETY: write(2) is async-signal-safe; the buffers are valid for their lengths
        // (the freed-by text lives as long as the quarantine entry that published it).
        unsafe {
            libc::write(2, text.bytes.as_ptr().cast(), text.len);
            if !who.is_null() {
                libc::write(2, who.cast(), who_len);
            }
            libc::write(2, tail.as_ptr().cast(), tail.len());
            libc::abort();
        }
    }
    let previous = if signal == libc::SIGBUS {
        &PREVIOUS_BUS
    } else {
        &PREVIOUS_SEGV
    };
    let previous = previous.load(Ordering::Acquire);
    // SAFETY: `previous` is the action that was installed before ours (or null).
    unsafe {
        if previous.is_null()
            || (*previous).sa_sigaction == libc::SIG_DFL
            || (*previous).sa_sigaction == libc::SIG_IGN
        {
            // Not freed pool: restore the default action and let the access fault again.
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, core::ptr::null_mut());
            return;
        }
        if (*previous).sa_flags & libc::SA_SIGINFO != 0 {
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute((*previous).sa_sigaction);
            handler(signal, info, context);
        } else {
            let handler: extern "C" fn(libc::c_int) = std::mem::transmute((*previous).sa_sigaction);
            handler(signal);
        }
    }
}
