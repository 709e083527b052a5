//! Rundown protection: work in flight, and the refusal of new work while the owner needs quiet
//! (the pattern of the kernel's EX_RUNDOWN_REF), with bounded waits and the option to reopen.
//!
//! # One word, and the last release's last access is the signal
//!
//! The whole state is one atomic word: bit 63 is "closing", the bits below count the holders.
//! [`Rundown::release`] is a single `fetch_sub`: once a holder's decrement is visible, that
//! holder never touches the rundown (or the object containing it) again, so an owner that sees
//! the count at zero with the closing bit set may free the memory at once. Nothing else is
//! signalled: the owner's [`Rundown::wait`] polls the word at PASSIVE_LEVEL with a short sleep
//! (KeDelayExecutionThread through [`kernel::delay`]). An event set by the last releaser after
//! its decrement would be an access to memory the owner may already have freed (the defect of
//! the previous design, a `closing` flag read and a `drained` event set after the decrement);
//! an event set *before* the decrement cannot say that the count reached zero. Polling costs a
//! few wake-ups during unload or reconfiguration and nothing on the send path.
//!
//! Why not EX_RUNDOWN_REF itself: ExWaitForRundownProtectionRelease waits without a bound and
//! a rundown completed with it cannot be reused without ExReInitializeRundownProtection, while
//! the driver needs bounded waits (a provider that never completes must not hang unload) and
//! the reconfiguration gate's `try_quiesce`/`reopen`. The kernel avoids the late event by
//! putting it in a wait block on the waiter's stack (Windows Research Kernel, ex/rundown.c,
//! ExReleaseRundownProtection / ExWaitForRundownProtectionRelease), which is sound only because
//! that waiter never gives up. See docs/ARCHITECTURE.md.
//!
//! Ordering: `release` is Release and `wait`'s load is Acquire; every decrement is a
//! read-modify-write, so the load that sees zero synchronises with every holder's release and
//! the owner sees all their writes (a slot given back, a counter) before it frees anything.

use crate::kernel;
use crate::sync::atomic::{AtomicU64, Ordering};

/// The closing bit; the count of holders is the bits below it.
const CLOSING: u64 = 1 << 63;
/// The longest single sleep while waiting for holders to leave.
const POLL_MAX_MS: u32 = 16;

pub struct Rundown {
    /// `CLOSING | holders`. The only field: every access is one atomic operation on it.
    word: AtomicU64,
}

impl Default for Rundown {
    fn default() -> Self {
        Rundown::new()
    }
}

impl Rundown {
    /// An open rundown with no holders.
    pub fn new() -> Self {
        Rundown {
            word: AtomicU64::new(0),
        }
    }

    /// Initialises a rundown in place.
    ///
    /// # Safety
    /// `this` points to writable memory that stays put for the rundown's life.
    pub unsafe fn init(this: *mut Rundown) {
        // SAFETY: the caller's guarantee.
        unsafe { this.write(Rundown::new()) };
    }

    /// Becomes a holder, unless the rundown is closing (false). A holder calls
    /// [`Rundown::release`] exactly once.
    #[must_use = "a refused acquire must not be followed by a release"]
    pub fn acquire(&self) -> bool {
        let mut current = self.word.load(Ordering::Relaxed);
        loop {
            // Refused while closing, and (never in practice) when the count would reach the
            // closing bit.
            if current & CLOSING != 0 || current + 1 == CLOSING {
                return false;
            }
            match self.word.compare_exchange_weak(
                current,
                current + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// Stops holding. The decrement is this call's only access, and after it the caller must
    /// not touch the object containing the rundown: its owner may free it as soon as the count
    /// is zero.
    pub fn release(&self) {
        self.word.fetch_sub(1, Ordering::Release);
    }

    /// Refuses new holders without waiting.
    pub fn close(&self) {
        self.word.fetch_or(CLOSING, Ordering::AcqRel);
    }

    /// Refuses new holders and waits at PASSIVE_LEVEL, about `timeout_ms` at most (the bound
    /// counts requested sleeps), for the holders to leave; true once none is left. Stays
    /// closed either way.
    pub fn wait(&self, timeout_ms: u32) -> bool {
        self.close();
        let mut waited = 0;
        let mut step = 1;
        loop {
            if self.word.load(Ordering::Acquire) & !CLOSING == 0 {
                return true;
            }
            if waited >= timeout_ms {
                return false;
            }
            let sleep = step.min(timeout_ms - waited);
            kernel::delay(sleep);
            waited += sleep;
            step = (step * 2).min(POLL_MAX_MS);
        }
    }

    /// Closes if the rundown is open with no holders (true); otherwise changes nothing (false).
    /// One compare-and-swap, so a holder arriving meanwhile is never refused for nothing.
    pub fn try_quiesce(&self) -> bool {
        self.word
            .compare_exchange(0, CLOSING, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Accepts holders again after [`Rundown::try_quiesce`] or [`Rundown::close`].
    pub fn reopen(&self) {
        self.word.fetch_and(!CLOSING, Ordering::Release);
    }

    /// Holders right now (a snapshot, for statistics).
    pub fn in_flight(&self) -> u64 {
        self.word.load(Ordering::Relaxed) & !CLOSING
    }
}

/// Model checking with loom (`RUSTFLAGS="--cfg loom"`, see README): the real [`Rundown`] under
/// every interleaving of its holders and its owner that loom's bounds allow.
#[cfg(all(test, loom))]
mod loom_tests {
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;

    use super::Rundown;
    use crate::sync::quarantine::Freeable;

    /// What a rundown protects: holder `i` writes `data[i]` (holders do not exclude each
    /// other), the owner writes all of it once the rundown says no holder is left. Loom reports
    /// a data race if a holder's write and the owner's can happen without a happens-before
    /// order, that is if `wait` or `try_quiesce` ever lets the owner in beside a holder.
    struct Protected {
        rundown: Rundown,
        data: [UnsafeCell<u32>; 2],
    }

    // SAFETY: `data[i]` is written only by holder `i` while it holds `rundown`, or by the owner
    // after the rundown excluded holders; that is exactly the claim loom checks.
    unsafe impl Sync for Protected {}

    impl Protected {
        fn new() -> Self {
            Protected {
                rundown: Rundown::new(),
                data: [UnsafeCell::new(0), UnsafeCell::new(0)],
            }
        }

        /// The owner's write, once it has excluded the holders.
        fn owner_writes(&self) {
            for cell in &self.data {
                // SAFETY: the caller excluded every holder; see `Protected`.
                cell.with_mut(|data| unsafe { *data = 100 });
            }
        }
    }

    fn holder(shared: &Protected, index: usize) {
        if shared.rundown.acquire() {
            // SAFETY: holder `index`; see `Protected`.
            shared.data[index].with_mut(|data| unsafe { *data += 1 });
            shared.rundown.release();
        }
    }

    /// Holders racing `wait` (close and drain): once `wait` reports drained, no holder is
    /// inside and none gets in, so the owner's write races with nothing.
    #[test]
    fn wait_excludes_every_holder() {
        loom::model(|| {
            let shared = Arc::new(Protected::new());
            let threads: Vec<_> = (0..2)
                .map(|index| {
                    let shared = shared.clone();
                    thread::spawn(move || holder(&shared, index))
                })
                .collect();
            if shared.rundown.wait(4) {
                shared.owner_writes();
                assert_eq!(shared.rundown.in_flight(), 0);
                assert!(!shared.rundown.acquire(), "a drained rundown stays closed");
            }
            for thread in threads {
                thread.join().unwrap();
            }
        });
    }

    /// Holders racing `try_quiesce`/`reopen` (the reconfiguration gate): a successful quiesce
    /// excludes every holder; a failed one leaves the rundown open; `reopen` lets holders in
    /// again.
    #[test]
    fn try_quiesce_excludes_holders_and_reopen_readmits() {
        loom::model(|| {
            let shared = Arc::new(Protected::new());
            let other = {
                let shared = shared.clone();
                thread::spawn(move || holder(&shared, 0))
            };
            if shared.rundown.try_quiesce() {
                shared.owner_writes();
                shared.rundown.reopen();
            }
            other.join().unwrap();
            assert_eq!(shared.rundown.in_flight(), 0);
            assert!(shared.rundown.acquire(), "open again after quiesce/reopen");
            shared.rundown.release();
        });
    }

    /// The unload race: the last holders release while the owner waits and then frees the
    /// memory holding the rundown. A holder's release must not touch it after its decrement,
    /// or the quarantine panics with "access after free".
    #[test]
    fn last_release_is_the_last_access() {
        loom::model(|| {
            let owned = Arc::new(Freeable::new(Rundown::new()));
            assert!(owned.get().acquire());
            assert!(owned.get().acquire());
            let holders: Vec<_> = (0..2)
                .map(|_| {
                    let owned = owned.clone();
                    thread::spawn(move || owned.get().release())
                })
                .collect();
            while !owned.get().wait(4) {}
            owned.free();
            for holder in holders {
                holder.join().unwrap();
            }
        });
    }

    /// The rundown as it was before this module (the engine's `Rundown`, until the redesign),
    /// kept as the KNOWN-BAD ALGORITHM: `release` decrements the count, then reads `closing`
    /// and sets `drained`, so the owner can see zero and free in between. Loom must find that
    /// interleaving; if this test ever stops panicking, the quarantine check is broken.
    mod known_bad_old_algorithm {
        use loom::sync::Arc;
        use loom::thread;

        use crate::kernel::{Event, EventKind};
        use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use crate::sync::quarantine::Freeable;

        struct OldRundown {
            active: AtomicU64,
            closing: AtomicBool,
            drained: Event,
        }

        impl OldRundown {
            fn new() -> Self {
                let mut drained = core::mem::MaybeUninit::<Event>::uninit();
                // SAFETY: writable memory, initialised here and moved into the rundown.
                unsafe { Event::init(drained.as_mut_ptr(), EventKind::Notification, false) };
                OldRundown {
                    active: AtomicU64::new(0),
                    closing: AtomicBool::new(false),
                    // SAFETY: initialised just above.
                    drained: unsafe { drained.assume_init() },
                }
            }

            fn acquire(&self) -> bool {
                if self.closing.load(Ordering::SeqCst) {
                    return false;
                }
                self.active.fetch_add(1, Ordering::SeqCst);
                if self.closing.load(Ordering::SeqCst) {
                    self.release();
                    return false;
                }
                true
            }

            fn release(&self) {
                if self.active.fetch_sub(1, Ordering::SeqCst) == 1
                    && self.closing.load(Ordering::SeqCst)
                {
                    self.drained.set();
                }
            }

            fn wait(&self, timeout_ms: u32) -> bool {
                self.closing.store(true, Ordering::SeqCst);
                let mut waited = 0;
                while self.active.load(Ordering::SeqCst) != 0 {
                    if waited >= timeout_ms {
                        return false;
                    }
                    let step = (timeout_ms - waited).min(100);
                    self.drained.wait(step);
                    waited += step;
                }
                true
            }
        }

        #[test]
        #[should_panic(expected = "access after free")]
        fn loom_finds_the_old_release_use_after_free() {
            loom::model(|| {
                let owned = Arc::new(Freeable::new(OldRundown::new()));
                assert!(owned.get().acquire());
                let holder = {
                    let owned = owned.clone();
                    thread::spawn(move || owned.get().release())
                };
                while !owned.get().wait(200) {}
                owned.free();
                holder.join().unwrap();
            });
        }
    }
}
