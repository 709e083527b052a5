//! The send-buffer pool: fixed-size slots of nonpaged memory, each with its MDL, WSK_BUF,
//! WSK_BUF_LIST nodes and IRP built once, so a send copies the payload and allocates nothing.
//!
//! Ownership is in the types: [`SlotPool::take`] returns a [`SlotLease`], which gives the slot
//! back when dropped (or by [`SlotLease::give_back`]). A send turns its lease into the raw
//! completion context with [`SlotLease::into_raw`] only when it hands the slot's IRP to WSK, and
//! the completion routine turns it back with [`SlotLease::from_raw`]: between the two, the slot
//! and its IRP belong to the provider and the completion routine.
//!
//! The pool can be rebuilt with another slot count while no send is in flight (the engine
//! guarantees that with its gates); everything that changes then is an atomic or is touched only
//! under the free-list lock, so readers such as the stats query stay sound.

use core::ptr::NonNull;

use wdk_sys::ntddk::{IoAllocateMdl, IoFreeMdl, MmBuildMdlForNonPagedPool};
use wdk_sys::{PIRP, PMDL};
use wsk_sample_ioctl::MAX_BATCH_DATAGRAMS;

use crate::irp;
use crate::kernel::{self, Event, EventKind, SpinLock};
use crate::request::Request;
use crate::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use crate::sync::cell::UnsafeCell;
use crate::wsk::abi::{WSK_BUF, WSK_BUF_LIST};
use crate::wsk::{Family, SockAddrStorage};

/// One send in flight: its buffer, MDL, WSK_BUF and destination, plus the request it
/// completes. A batch packs all its datagrams into the one buffer and describes them with the
/// slot's preallocated WSK_BUF_LIST nodes, all over the slot's single MDL.
#[repr(C)]
pub struct Slot<Owner> {
    pub wsk_buf: WSK_BUF,
    pub remote: SockAddrStorage,
    pub buffer: NonNull<u8>,
    /// The request this send completes: taken by the completion routine, which completes it.
    pub request: Option<Request>,
    pub reply: *mut u8,
    pub sequence: u64,
    pub family: Family,
    /// The pool's owner (the engine, which outlives every slot): how a completion routine,
    /// which gets only its slot, finds it. Set when the slot is built.
    pub owner: *const Owner,
    /// MAX_BATCH_DATAGRAMS list nodes, allocated with the slot.
    pub nodes: NonNull<WSK_BUF_LIST>,
    /// The slot's IRP (`IoAllocateIrp(1, FALSE)` when the slot is built, `IoFreeIrp` when the
    /// pool is destroyed): a single send or a WskSendMessages batch goes out on it, after
    /// `IoReuseIrp`. Its completion routine never frees it; it comes back with the slot.
    pub irp: PIRP,
    /// Only for a batch sent as separate WskSendTo calls (a provider without
    /// WskSendMessages): MAX_BATCH_DATAGRAMS IRP pointers, allocated the first time this slot
    /// carries such a batch, each IRP allocated the first time a batch needs that many, all
    /// kept until the pool is destroyed. NULL until then.
    part_irps: *mut PIRP,
    /// Datagrams in the batch this slot carries.
    pub batch_count: u32,
    /// For a batch sent as separate WskSendTo calls: IRPs not yet completed, datagrams and
    /// bytes sent, and the first error.
    pub parts_pending: AtomicU32,
    pub parts_sent: AtomicU32,
    pub parts_bytes: AtomicU64,
    pub first_error: AtomicI32,
    next_free: u32,
}

impl<Owner> Slot<Owner> {
    /// The MDL over the slot's whole buffer.
    pub fn mdl(&self) -> PMDL {
        self.wsk_buf.Mdl
    }
}

const NONE: u32 = u32::MAX;
const NODES_BYTES: usize = MAX_BATCH_DATAGRAMS * size_of::<WSK_BUF_LIST>();
const PART_IRPS_BYTES: usize = MAX_BATCH_DATAGRAMS * size_of::<PIRP>();

/// A slot taken from the pool, held by one owner: the send path while it fills the slot, then
/// (through [`SlotLease::into_raw`]) the WSK call's completion. Dropping it gives the slot back.
pub struct SlotLease<'a, Owner> {
    pool: &'a SlotPool<Owner>,
    slot: NonNull<Slot<Owner>>,
}

impl<'a, Owner> SlotLease<'a, Owner> {
    /// The leased slot; the holder of the lease is its only user.
    pub fn as_ptr(&self) -> *mut Slot<Owner> {
        self.slot.as_ptr()
    }

    /// `count` (<= MAX_BATCH_DATAGRAMS) IRPs for a batch sent as separate WskSendTo calls,
    /// allocating those this slot does not have yet (kept for its next batches). None when an
    /// allocation fails; what was allocated stays with the slot.
    pub fn part_irps(&mut self, count: usize) -> Option<NonNull<PIRP>> {
        if count > MAX_BATCH_DATAGRAMS {
            return None;
        }
        let slot = self.slot.as_ptr();
        // SAFETY: the lease holder is the slot's only user.
        let mut array = unsafe { (*slot).part_irps };
        if array.is_null() {
            array = kernel::allocate_bytes(PART_IRPS_BYTES)?.as_ptr().cast();
            // SAFETY: as above; the array is zeroed (every entry NULL).
            unsafe { (*slot).part_irps = array };
        }
        for index in 0..count {
            // SAFETY: `index` < MAX_BATCH_DATAGRAMS, inside the array.
            let entry = unsafe { array.add(index) };
            // SAFETY: as above; the slot's array, used by the lease holder only.
            if unsafe { (*entry).is_null() } {
                let irp = irp::allocate_irp()?;
                // SAFETY: as above.
                unsafe { *entry = irp };
            }
        }
        NonNull::new(array)
    }

    /// Gives the slot back to the pool now (what dropping the lease does).
    pub fn give_back(self) {}

    /// Turns the lease into the raw context a WSK completion routine gets: the slot stays
    /// taken until [`SlotLease::from_raw`] recovers the lease.
    pub fn into_raw(self) -> NonNull<Slot<Owner>> {
        let slot = self.slot;
        core::mem::forget(self);
        slot
    }

    /// Recovers the lease that [`SlotLease::into_raw`] gave up.
    ///
    /// # Safety
    /// `slot` came from `into_raw` on a lease of `pool`, and this is the one recovery of that
    /// lease: nothing else uses the slot afterwards.
    pub unsafe fn from_raw(pool: &'a SlotPool<Owner>, slot: NonNull<Slot<Owner>>) -> Self {
        SlotLease { pool, slot }
    }
}

impl<Owner> Drop for SlotLease<'_, Owner> {
    fn drop(&mut self) {
        // SAFETY: the lease is the slot's one owner, and it ends here.
        unsafe { self.pool.put(self.slot) };
    }
}

/// Synchronisation: `slots` and `count` change only in `build`/`rebuild`/`destroy`, which run with no
/// other user (the engine's gates are closed); `free_head` and each free slot's `next_free` are
/// touched only with `lock` held; `free_count` is a statistic (Relaxed); `slot_size` is fixed at
/// init; `returned` is a kernel event. A taken slot's other fields (its IRPs included) belong to
/// the one [`SlotLease`] that holds it, or to the WSK call and completion routine it was handed
/// to (`into_raw`), whose parts of a batch share only the slot's atomics; the free list's lock
/// orders one holder's writes before the next holder's reads.
pub struct SlotPool<Owner> {
    slots: AtomicPtr<Slot<Owner>>,
    count: AtomicU32,
    slot_size: u32,
    /// Head of the free list; read and written only with `lock` held.
    free_head: UnsafeCell<u32>,
    free_count: AtomicU32,
    lock: SpinLock,
    returned: Event,
}

// SAFETY: every field is an atomic, a kernel object, immutable after init, or (`free_head`)
// accessed only with `lock` held, as stated on the struct.
unsafe impl<Owner> Sync for SlotPool<Owner> {}

impl<Owner> SlotPool<Owner> {
    /// Initialises an empty pool of `slot_size`-byte slots in place; [`SlotPool::build`] fills it.
    ///
    /// # Safety
    /// `this` points to writable nonpaged memory that stays put until the pool is destroyed.
    pub unsafe fn init(this: *mut Self, slot_size: u32) {
        // Each field is written once before use. Getting a field's place makes no reference
        // (the memory is not initialised yet); writing it drops nothing.
        // SAFETY: the caller's guarantee: `this` is writable memory that stays put.
        let lock = unsafe { &raw mut (*this).lock };
        // SAFETY: as above: the lock's place, which stays put for the pool's life.
        unsafe { SpinLock::init(lock) };
        // SAFETY: the caller's guarantee.
        let returned = unsafe { &raw mut (*this).returned };
        // SAFETY: as above: the event's place, which stays put for the pool's life.
        unsafe { Event::init(returned, EventKind::Synchronization, false) };
        // SAFETY: the caller's guarantee.
        let slots = unsafe { &raw mut (*this).slots };
        // SAFETY: writable, uninitialised field.
        unsafe { slots.write(AtomicPtr::new(core::ptr::null_mut())) };
        // SAFETY: the caller's guarantee.
        let count = unsafe { &raw mut (*this).count };
        // SAFETY: writable, uninitialised field.
        unsafe { count.write(AtomicU32::new(0)) };
        // SAFETY: the caller's guarantee.
        let size = unsafe { &raw mut (*this).slot_size };
        // SAFETY: writable, uninitialised field.
        unsafe { size.write(slot_size) };
        // SAFETY: the caller's guarantee.
        let free_head = unsafe { &raw mut (*this).free_head };
        // SAFETY: writable, uninitialised field.
        unsafe { free_head.write(UnsafeCell::new(NONE)) };
        // SAFETY: the caller's guarantee.
        let free_count = unsafe { &raw mut (*this).free_count };
        // SAFETY: writable, uninitialised field.
        unsafe { free_count.write(AtomicU32::new(0)) };
    }

    /// Builds `count` slots. On failure everything built is freed and the pool stays empty.
    ///
    /// # Safety
    /// The pool is empty and no other thread uses it during the call (the engine's gates are
    /// closed).
    pub unsafe fn build(&self, count: u32, owner: *const Owner) -> bool {
        let Some((slots, head)) = self.build_array(count, owner) else {
            return false;
        };
        // SAFETY: the caller's guarantee: the pool is empty and ours alone.
        unsafe { self.install(slots, count, head) };
        true
    }

    /// Replaces the pool's slots with `count` new ones. The new slots are built first and the
    /// old ones freed only once that succeeded, so a failure leaves the pool as it was.
    ///
    /// # Safety
    /// No slot is in use and no other thread uses the pool during the call.
    pub unsafe fn rebuild(&self, count: u32, owner: *const Owner) -> bool {
        let Some((slots, head)) = self.build_array(count, owner) else {
            return false;
        };
        // SAFETY: the caller's guarantee.
        unsafe { self.destroy() };
        // SAFETY: the caller's guarantee; emptied just above.
        unsafe { self.install(slots, count, head) };
        true
    }

    /// Builds a slot array of `count` slots, not yet part of the pool, its free list chained
    /// through `next_free`: the array and the head of that list. On failure everything built
    /// is freed.
    fn build_array(&self, count: u32, owner: *const Owner) -> Option<(*mut Slot<Owner>, u32)> {
        let bytes = (count as usize).checked_mul(size_of::<Slot<Owner>>())?;
        let array = kernel::allocate_bytes(bytes)?;
        let slots = array.as_ptr().cast::<Slot<Owner>>();
        let mut head = NONE;
        for index in 0..count {
            let Some(slot) = self.build_slot(owner) else {
                // SAFETY: slots 0..index are built, and the array is nobody else's.
                unsafe { free_array(slots, index) };
                return None;
            };
            // SAFETY: `index` < `count`, inside the slot array of `count` slots.
            let place = unsafe { slots.add(index as usize) };
            // SAFETY: inside the array, not yet initialised: nothing is dropped.
            unsafe {
                place.write(Slot {
                    next_free: head,
                    ..slot
                })
            };
            head = index;
        }
        Some((slots, head))
    }

    /// Makes a built array the pool's slots, every one free.
    ///
    /// # Safety
    /// The pool is empty, no other thread uses it, and `slots`/`head` come from `build_array`
    /// with `count`.
    unsafe fn install(&self, slots: *mut Slot<Owner>, count: u32, head: u32) {
        // SAFETY: the caller's guarantee: nobody else touches the free list now.
        self.free_head.with_mut(|place| unsafe { *place = head });
        self.free_count.store(count, Ordering::Relaxed);
        self.count.store(count, Ordering::Release);
        self.slots.store(slots, Ordering::Release);
    }

    fn build_slot(&self, owner: *const Owner) -> Option<Slot<Owner>> {
        let irp = irp::allocate_irp()?;
        let Some(buffer) = kernel::allocate_bytes(self.slot_size as usize) else {
            // SAFETY: allocated above and never submitted.
            unsafe { irp::free(irp) };
            return None;
        };
        let Some(nodes) = kernel::allocate_bytes(NODES_BYTES) else {
            // SAFETY: from allocate_bytes, not yet in a slot.
            unsafe { kernel::free(buffer) };
            // SAFETY: from allocate_irp, never submitted.
            unsafe { irp::free(irp) };
            return None;
        };
        let no_irp = core::ptr::null_mut();
        // SAFETY: the buffer is nonpaged pool of `slot_size` bytes.
        let mdl = unsafe { IoAllocateMdl(buffer.as_ptr().cast(), self.slot_size, 0, 0, no_irp) };
        if mdl.is_null() {
            // SAFETY: from allocate_bytes, not yet in a slot.
            unsafe { kernel::free(buffer) };
            // SAFETY: from allocate_bytes, not yet in a slot.
            unsafe { kernel::free(nodes) };
            // SAFETY: from allocate_irp, never submitted.
            unsafe { irp::free(irp) };
            return None;
        }
        // SAFETY: the MDL describes nonpaged pool.
        unsafe { MmBuildMdlForNonPagedPool(mdl) };
        Some(Slot {
            wsk_buf: WSK_BUF {
                Mdl: mdl,
                Offset: 0,
                Length: 0,
            },
            remote: SockAddrStorage::ZERO,
            buffer,
            request: None,
            reply: core::ptr::null_mut(),
            sequence: 0,
            family: Family::V4,
            owner,
            nodes: nodes.cast(),
            irp,
            part_irps: core::ptr::null_mut(),
            batch_count: 0,
            parts_pending: AtomicU32::new(0),
            parts_sent: AtomicU32::new(0),
            parts_bytes: AtomicU64::new(0),
            first_error: AtomicI32::new(0),
            next_free: NONE,
        })
    }

    pub fn slot_count(&self) -> u32 {
        self.count.load(Ordering::Acquire)
    }

    pub fn slot_size(&self) -> u32 {
        self.slot_size
    }

    pub fn free_slots(&self) -> u32 {
        self.free_count.load(Ordering::Relaxed)
    }

    fn pop(&self) -> Option<NonNull<Slot<Owner>>> {
        let _held = self.lock.lock();
        let slot = self.free_head.with_mut(|head| {
            // SAFETY: the free list is only touched with the lock held.
            let head = unsafe { &mut *head };
            if *head == NONE {
                return None;
            }
            // SAFETY: free-list indices are < count, inside the slot array.
            let slot = unsafe { self.slots.load(Ordering::Acquire).add(*head as usize) };
            // SAFETY: a free slot is owned by the pool; the lock is held.
            *head = unsafe { (*slot).next_free };
            NonNull::new(slot)
        })?;
        self.free_count.fetch_sub(1, Ordering::Relaxed);
        Some(slot)
    }

    /// Takes a free slot, waiting up to `timeout_ms` (at PASSIVE_LEVEL) for one to come back.
    pub fn take(&self, timeout_ms: u32) -> Option<SlotLease<'_, Owner>> {
        let lease = |slot| SlotLease { pool: self, slot };
        if let Some(slot) = self.pop() {
            return Some(lease(slot));
        }
        let mut waited = 0;
        while waited < timeout_ms {
            let step = (timeout_ms - waited).min(50);
            self.returned.wait(step);
            waited += step;
            if let Some(slot) = self.pop() {
                return Some(lease(slot));
            }
        }
        None
    }

    /// Returns a slot (callable at DISPATCH_LEVEL, from a completion routine); only a
    /// [`SlotLease`] ending calls it.
    ///
    /// # Safety
    /// `slot` came from `take` on this pool and is not used by the caller afterwards.
    unsafe fn put(&self, slot: NonNull<Slot<Owner>>) {
        {
            let _held = self.lock.lock();
            // The free list is only touched with the lock held; the caller's guarantee: the
            // slot is one of ours and no longer used.
            let base = self.slots.load(Ordering::Acquire);
            // SAFETY: the slot is inside the array that starts at `base`.
            let index = unsafe { slot.as_ptr().offset_from(base) } as u32;
            // SAFETY: the caller's guarantee: the slot is ours alone now.
            let slot = unsafe { &mut *slot.as_ptr() };
            slot.request = None;
            slot.reply = core::ptr::null_mut();
            self.free_head.with_mut(|head| {
                // SAFETY: the cell's pointer, valid; the lock is held.
                slot.next_free = unsafe { *head };
                // SAFETY: as above.
                unsafe { *head = index };
            });
            self.free_count.fetch_add(1, Ordering::Relaxed);
        }
        self.returned.set();
    }

    /// Frees every slot's MDL, buffer, nodes and IRPs and the slot array, leaving the pool
    /// empty.
    ///
    /// # Safety
    /// No slot is in use and no other thread uses the pool during the call.
    pub unsafe fn destroy(&self) {
        let slots = self.slots.swap(core::ptr::null_mut(), Ordering::AcqRel);
        let count = self.count.swap(0, Ordering::AcqRel);
        // SAFETY: the pool's array of `count` built slots, no longer reachable from the pool.
        unsafe { free_array(slots, count) };
        // SAFETY: the caller's guarantee: nobody else touches the free list now.
        self.free_head.with_mut(|head| unsafe { *head = NONE });
        self.free_count.store(0, Ordering::Relaxed);
    }
}

/// Frees slots 0..`count` of `slots` (each one's MDL, buffer, nodes and IRPs) and the array.
///
/// # Safety
/// `slots` is NULL or an array from `build_array` whose first `count` slots are built, no
/// slot is in use, nobody else uses the array, and it is not used after.
unsafe fn free_array<Owner>(slots: *mut Slot<Owner>, count: u32) {
    if let Some(array) = NonNull::new(slots) {
        for index in 0..count {
            // SAFETY: `index` < `count`: inside the slot array.
            let place = unsafe { slots.add(index as usize) };
            // SAFETY: slots 0..count were built by `build_array`; no one else uses them.
            let slot = unsafe { &*place };
            // SAFETY: the slot's MDL, freed once.
            unsafe { IoFreeMdl(slot.mdl()) };
            // SAFETY: the slot's buffer from allocate_bytes, freed once.
            unsafe { kernel::free(slot.buffer) };
            // SAFETY: the slot's nodes from allocate_bytes, freed once.
            unsafe { kernel::free(slot.nodes) };
            // SAFETY: the slot's IRP from allocate_irp, which no provider owns (no send is
            // in flight), freed once.
            unsafe { irp::free(slot.irp) };
            if let Some(array) = NonNull::new(slot.part_irps) {
                for part in 0..MAX_BATCH_DATAGRAMS {
                    // SAFETY: `part` < MAX_BATCH_DATAGRAMS: inside the slot's array.
                    let entry = unsafe { array.as_ptr().add(part) };
                    // SAFETY: an entry of the array, NULL or an IRP from `part_irps`.
                    let irp = unsafe { *entry };
                    if !irp.is_null() {
                        // SAFETY: an IRP from `part_irps` that no provider owns (no send is
                        // in flight), freed once.
                        unsafe { irp::free(irp) };
                    }
                }
                // SAFETY: from allocate_bytes in `part_irps`, freed once.
                unsafe { kernel::free(array) };
            }
        }
        // SAFETY: the slot array from `build_array`, freed once.
        unsafe { kernel::free(array) };
    }
}

/// Model checking with loom (`RUSTFLAGS="--cfg loom"`, see README): the real [`SlotPool`]'s
/// free list under concurrent `take` and `give_back`. The pool's memory comes from the kernel
/// model (ExAllocatePool2, IoAllocateMdl), entered on the model's main thread only.
#[cfg(all(test, loom))]
mod loom_tests {
    use core::ptr::NonNull;
    use std::sync::OnceLock;

    use loom::sync::Arc;
    use loom::sync::atomic::AtomicBool;
    use loom::thread;
    use wdk_sys::KernelConfig;
    use wdk_sys::harness::Kernel;

    use super::{Slot, SlotLease, SlotPool};
    use crate::sync::atomic::Ordering;

    const SLOTS: u32 = 2;

    /// One kernel for every loom iteration: booting one starts its worker threads.
    fn kernel() -> &'static Kernel {
        static KERNEL: OnceLock<Kernel> = OnceLock::new();
        KERNEL.get_or_init(|| Kernel::boot(KernelConfig::default()))
    }

    /// The pool, plus one flag per slot saying "some thread holds this slot": a slot handed to
    /// two holders at once trips the flag.
    struct Shared {
        pool: Box<SlotPool<()>>,
        held: [AtomicBool; SLOTS as usize],
    }

    // SAFETY: SlotPool is Sync; the slots are reached only through take/give_back.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}

    impl Shared {
        fn index(&self, slot: NonNull<Slot<()>>) -> usize {
            let base = self.pool.slots.load(Ordering::Acquire);
            // SAFETY: `slot` came from this pool's slot array.
            let index = unsafe { slot.as_ptr().offset_from(base) };
            usize::try_from(index).unwrap()
        }

        fn hold(&self, lease: &SlotLease<'_, ()>) {
            let slot = NonNull::new(lease.as_ptr()).unwrap();
            let was_held = self.held[self.index(slot)].swap(true, Ordering::AcqRel);
            assert!(!was_held, "one slot handed to two holders");
        }

        fn give_back(&self, lease: SlotLease<'_, ()>) {
            let slot = NonNull::new(lease.as_ptr()).unwrap();
            self.held[self.index(slot)].store(false, Ordering::Release);
            lease.give_back();
        }
    }

    fn new_pool() -> Box<SlotPool<()>> {
        let mut pool = Box::<SlotPool<()>>::new_uninit();
        // SAFETY: the Box's memory stays put until the pool is destroyed below.
        unsafe { SlotPool::init(pool.as_mut_ptr(), 256) };
        // SAFETY: initialised by `init`.
        let pool = unsafe { pool.assume_init() };
        // SAFETY: empty, and no other thread has the pool yet.
        let built = kernel().run(|| unsafe { pool.build(SLOTS, core::ptr::null()) });
        assert!(built);
        pool
    }

    /// Two threads take and give back slots, one holding both for a while: every slot handed
    /// out is held by one thread only, and afterwards every slot is free exactly once (all
    /// SLOTS can be taken, distinct, and no more).
    #[test]
    fn take_and_give_back_lose_and_duplicate_nothing() {
        loom::model(|| {
            let shared = Arc::new(Shared {
                pool: new_pool(),
                held: [AtomicBool::new(false), AtomicBool::new(false)],
            });
            let both = {
                let shared = shared.clone();
                thread::spawn(move || {
                    let first = shared.pool.take(50);
                    first.as_ref().map(|lease| shared.hold(lease));
                    let second = shared.pool.take(50);
                    second.as_ref().map(|lease| shared.hold(lease));
                    second.map(|lease| shared.give_back(lease));
                    first.map(|lease| shared.give_back(lease));
                })
            };
            if let Some(lease) = shared.pool.take(50) {
                shared.hold(&lease);
                shared.give_back(lease);
            }
            both.join().unwrap();

            let pool = &shared.pool;
            assert_eq!(pool.free_slots(), SLOTS);
            let taken: Vec<_> = (0..SLOTS).map(|_| pool.take(0).unwrap()).collect();
            assert_ne!(
                taken[0].as_ptr(),
                taken[1].as_ptr(),
                "the free list holds one slot twice"
            );
            assert!(
                pool.take(0).is_none(),
                "the free list holds more than SLOTS"
            );
            drop(taken);
            // SAFETY: every slot is back and the other thread has ended.
            kernel().run(|| unsafe { pool.destroy() });
        });
    }
}
