//! Typed slots: how a subsystem finds its own table in a kernel without the kernel core naming
//! any subsystem.
//!
//! The composition root (`crate::boot`) fills one slot per subsystem table when it boots a
//! kernel; the slots never change after that, so a lookup takes no lock. Each subsystem reads
//! its slot through an accessor it defines next to its table (`impl KernelState { fn pool(&self)
//! … }` in `pool.rs`), private to the subsystem, so no other module reaches into a table it does
//! not own: it calls the owner's functions instead, which the module graph shows as an edge.
//!
//! A slot is keyed by its value's type, so each subsystem stores a type of its own (its table
//! or a wrapper), never a shared one like `Mutex<Vec<_>>`. `std::any` is the whole mechanism;
//! a linear scan over a dozen entries is as fast as a hash lookup at this size.

use std::any::{Any, type_name};

/// The subsystem tables of one kernel, each stored once under its own type.
#[derive(Default)]
pub(crate) struct Slots {
    values: Vec<Box<dyn Any + Send + Sync>>,
}

impl Slots {
    /// Adds `value` as the slot of its type.
    ///
    /// # Panics
    /// When a slot of that type is already there: two subsystems sharing a type would read
    /// each other's table (a bug of the composition root, found at boot).
    pub(crate) fn with<T: Any + Send + Sync>(mut self, value: T) -> Self {
        assert!(
            self.find::<T>().is_none(),
            "kernel model: two slots of type {}",
            type_name::<T>()
        );
        self.values.push(Box::new(value));
        self
    }

    fn find<T: Any>(&self) -> Option<&T> {
        self.values
            .iter()
            .find_map(|value| value.downcast_ref::<T>())
    }

    /// The slot of type `T`.
    ///
    /// # Panics
    /// When the composition root did not fill it: a bug of the model, not of the driver, found
    /// by the first call of the subsystem in any test.
    pub(crate) fn get<T: Any>(&self) -> &T {
        self.find::<T>().unwrap_or_else(|| {
            panic!(
                "kernel model: no slot of type {} (crate::boot fills one per subsystem)",
                type_name::<T>()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;

    struct A(u32);
    struct B(u32);

    #[test]
    fn each_type_finds_its_own_slot() {
        let slots = Slots::default().with(A(1)).with(B(2));
        assert_eq!(slots.get::<A>().0, 1);
        assert_eq!(slots.get::<B>().0, 2);
    }

    #[test]
    #[should_panic(expected = "two slots of type")]
    fn a_type_fills_one_slot_only() {
        let _ = Slots::default().with(A(1)).with(A(2));
    }

    #[test]
    #[should_panic(expected = "no slot of type")]
    fn a_missing_slot_is_a_model_bug() {
        let slots = Slots::default().with(A(1));
        let _ = slots.get::<B>();
    }
}
