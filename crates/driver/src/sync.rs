//! The driver's synchronisation shim: the atomics and the interior-mutability cell that the
//! rundown (src/rundown.rs) and the slot pool (src/slots.rs) are built on.
//!
//! Normally these are `core::sync::atomic` and a transparent wrapper over
//! `core::cell::UnsafeCell`, with no cost. In a build with `RUSTFLAGS="--cfg loom"` (host only,
//! tests only) they are loom's, so that loom's model checker can drive the real driver types
//! through every interleaving its bounds allow, and check every access to a cell against the
//! happens-before order. The kernel primitives the same code waits on (`Event`, `SpinLock`,
//! `delay`) switch the same way in kernel.rs. See README, "Model checking with loom".

/// Atomics: `core`'s, or loom's under `cfg(loom)`.
#[cfg(not(loom))]
pub mod atomic {
    pub use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, Ordering};
}

/// Atomics: `core`'s, or loom's under `cfg(loom)`. `AtomicU64` and `AtomicBool` (the rundown's
/// words) additionally check, after every operation, that the object holding them has not been
/// freed by its owner (see [`quarantine`]).
#[cfg(loom)]
pub mod atomic {
    pub use core::sync::atomic::Ordering;
    pub use loom::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, AtomicU32};

    use super::quarantine;

    macro_rules! checked_atomic {
        ($name:ident, $value:ty, [$($rmw:ident),*]) => {
            /// A loom atomic whose every operation is checked against [`quarantine`].
            pub struct $name(loom::sync::atomic::$name);

            // Not every operation is used by every type.
            #[allow(dead_code)]

            impl $name {
                pub fn new(value: $value) -> Self {
                    $name(loom::sync::atomic::$name::new(value))
                }

                fn checked<R>(&self, result: R) -> R {
                    quarantine::check(self as *const Self as usize, stringify!($name));
                    result
                }

                pub fn load(&self, order: Ordering) -> $value {
                    self.checked(self.0.load(order))
                }

                pub fn store(&self, value: $value, order: Ordering) {
                    self.checked(self.0.store(value, order))
                }

                pub fn swap(&self, value: $value, order: Ordering) -> $value {
                    self.checked(self.0.swap(value, order))
                }

                pub fn compare_exchange(
                    &self,
                    current: $value,
                    new: $value,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$value, $value> {
                    self.checked(self.0.compare_exchange(current, new, success, failure))
                }

                pub fn compare_exchange_weak(
                    &self,
                    current: $value,
                    new: $value,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$value, $value> {
                    self.checked(self.0.compare_exchange_weak(current, new, success, failure))
                }

                $(
                    pub fn $rmw(&self, value: $value, order: Ordering) -> $value {
                        self.checked(self.0.$rmw(value, order))
                    }
                )*
            }
        };
    }

    checked_atomic!(AtomicU64, u64, [fetch_add, fetch_sub, fetch_or, fetch_and]);
    checked_atomic!(AtomicBool, bool, []);
}

/// An `UnsafeCell` whose accesses go through closures, so that under loom every access is
/// checked for a data race (loom's `UnsafeCell` API; `core`'s otherwise, at no cost).
pub mod cell {
    #[cfg(not(loom))]
    #[repr(transparent)]
    pub struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub const fn new(value: T) -> Self {
            UnsafeCell(core::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a pointer for writing; the caller's synchronisation makes it sound.
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    #[cfg(loom)]
    pub use loom::cell::UnsafeCell;
}

/// Loom builds only: a model of freeing an object while other threads may still hold pointers
/// to it, in the manner of Driver Verifier's special pool. A test "frees" an object by
/// retiring its address range (the memory itself is kept until the test drops it); any later
/// operation on a checked atomic inside that range panics, and loom reports the interleaving
/// that led there. Retiring an object and dropping it are the test's business
/// ([`Freeable`]).
#[cfg(loom)]
pub mod quarantine {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Retired ranges, start -> end (exclusive), of every test running in this process.
    static RETIRED: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());

    fn retired() -> std::sync::MutexGuard<'static, BTreeMap<usize, usize>> {
        RETIRED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Panics if `address` lies in a retired object.
    pub fn check(address: usize, what: &str) {
        let hit = retired()
            .range(..=address)
            .next_back()
            .is_some_and(|(_, &end)| address < end);
        if hit {
            panic!(
                "access after free: an {what} at {address:#x} was used after its owner freed \
                 the object holding it"
            );
        }
    }

    /// A heap object that one thread can free while others may still hold pointers to it.
    pub struct Freeable<T> {
        object: core::ptr::NonNull<T>,
    }

    // SAFETY: the object is shared between loom threads by pointer; `T: Sync` makes that sound,
    // and the memory stays allocated until the `Freeable` itself drops.
    unsafe impl<T: Sync> Send for Freeable<T> {}
    // SAFETY: as above.
    unsafe impl<T: Sync> Sync for Freeable<T> {}

    impl<T> Freeable<T> {
        pub fn new(value: T) -> Self {
            let object = core::ptr::NonNull::from(Box::leak(Box::new(value)));
            Freeable { object }
        }

        /// The object, for as long as the `Freeable` lives. After [`Freeable::free`] every
        /// checked atomic access through it panics.
        pub fn get(&self) -> &T {
            // SAFETY: the memory is allocated until `drop`; `free` only retires the range.
            unsafe { self.object.as_ref() }
        }

        /// The owner frees the object: from now on any checked access to it is an access
        /// after free.
        pub fn free(&self) {
            let start = self.object.as_ptr() as usize;
            retired().insert(start, start + size_of::<T>().max(1));
        }
    }

    impl<T> Drop for Freeable<T> {
        fn drop(&mut self) {
            retired().remove(&(self.object.as_ptr() as usize));
            // SAFETY: from Box::leak in `new`; dropped once, after the model's threads ended.
            drop(unsafe { Box::from_raw(self.object.as_ptr()) });
        }
    }
}
