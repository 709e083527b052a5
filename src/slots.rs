//! The send-buffer pool: fixed-size slots of nonpaged memory, each with its MDL and WSK_BUF
//! built once at load, so a send copies the payload and allocates nothing but its IRP.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use wdk_sys::ntddk::{IoAllocateMdl, IoFreeMdl, MmBuildMdlForNonPagedPool};
use wdk_sys::{PMDL, WDFREQUEST};

use crate::kernel::{self, Event, EventKind, SpinLock};
use crate::wsk::SockAddrStorage;
use crate::wsk::abi::WSK_BUF;

/// One datagram in flight: its buffer, MDL, WSK_BUF and destination, plus the request it
/// completes.
#[repr(C)]
pub struct Slot {
    pub wsk_buf: WSK_BUF,
    pub remote: SockAddrStorage,
    pub buffer: NonNull<u8>,
    pub request: WDFREQUEST,
    pub reply: *mut u8,
    pub sequence: u64,
    pub engine: *const crate::engine::Engine,
    next_free: u32,
}

const NONE: u32 = u32::MAX;

pub struct SlotPool {
    slots: *mut Slot,
    count: u32,
    slot_size: u32,
    /// Head of the free list; read and written only with `lock` held.
    free_head: UnsafeCell<u32>,
    free_count: AtomicU32,
    lock: SpinLock,
    returned: Event,
}

impl SlotPool {
    /// Builds `count` slots of `slot_size` bytes in place. On failure everything built so far
    /// is freed and the pool is left empty (safe to `destroy`).
    ///
    /// # Safety
    /// `this` points to writable nonpaged memory that stays put until `destroy`.
    pub unsafe fn init(
        this: *mut SlotPool,
        count: u32,
        slot_size: u32,
        engine: *const crate::engine::Engine,
    ) -> bool {
        // SAFETY: the caller's guarantee.
        let pool = unsafe { &mut *this };
        // SAFETY: as above; the lock and event live inside the pool.
        unsafe {
            SpinLock::init(&raw mut pool.lock);
            Event::init(&raw mut pool.returned, EventKind::Synchronization, false);
        }
        pool.count = 0;
        pool.slot_size = slot_size;
        pool.free_head = UnsafeCell::new(NONE);
        pool.free_count = AtomicU32::new(0);
        let Some(bytes) = (count as usize).checked_mul(size_of::<Slot>()) else {
            return false;
        };
        let Some(slots) = kernel::allocate_bytes(bytes) else {
            return false;
        };
        pool.slots = slots.as_ptr().cast();
        for index in 0..count {
            let Some(buffer) = kernel::allocate_bytes(slot_size as usize) else {
                // SAFETY: slots 0..index are built; free them.
                unsafe { pool.destroy() };
                return false;
            };
            // SAFETY: the buffer is nonpaged pool of `slot_size` bytes.
            let mdl = unsafe {
                IoAllocateMdl(
                    buffer.as_ptr().cast(),
                    slot_size,
                    0,
                    0,
                    core::ptr::null_mut(),
                )
            };
            if mdl.is_null() {
                // SAFETY: from allocate_bytes, not yet in a slot.
                unsafe { kernel::free(buffer) };
                // SAFETY: as above.
                unsafe { pool.destroy() };
                return false;
            }
            // SAFETY: the MDL describes nonpaged pool.
            unsafe { MmBuildMdlForNonPagedPool(mdl) };
            let slot = Slot {
                wsk_buf: WSK_BUF {
                    Mdl: mdl,
                    Offset: 0,
                    Length: 0,
                },
                remote: SockAddrStorage::ZERO,
                buffer,
                request: core::ptr::null_mut(),
                reply: core::ptr::null_mut(),
                sequence: 0,
                engine,
                next_free: *pool.free_head.get_mut(),
            };
            // SAFETY: `index` < `count`, inside the slot array.
            unsafe { pool.slots.add(index as usize).write(slot) };
            *pool.free_head.get_mut() = index;
            pool.count = index + 1;
            pool.free_count.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    pub fn slot_count(&self) -> u32 {
        self.count
    }

    pub fn slot_size(&self) -> u32 {
        self.slot_size
    }

    pub fn free_slots(&self) -> u32 {
        self.free_count.load(Ordering::Relaxed)
    }

    fn pop(&self) -> Option<NonNull<Slot>> {
        let _held = self.lock.lock();
        // SAFETY: the free list is only touched with the lock held.
        let head = unsafe { &mut *self.free_head.get() };
        if *head == NONE {
            return None;
        }
        // SAFETY: free-list indices are < count, inside the slot array.
        let slot = unsafe { self.slots.add(*head as usize) };
        // SAFETY: a free slot is owned by the pool; the lock is held.
        *head = unsafe { (*slot).next_free };
        self.free_count.fetch_sub(1, Ordering::Relaxed);
        NonNull::new(slot)
    }

    /// Takes a free slot, waiting up to `timeout_ms` (at PASSIVE_LEVEL) for one to come back.
    pub fn take(&self, timeout_ms: u32) -> Option<NonNull<Slot>> {
        if let Some(slot) = self.pop() {
            return Some(slot);
        }
        let mut waited = 0;
        while waited < timeout_ms {
            let step = (timeout_ms - waited).min(50);
            self.returned.wait(step);
            waited += step;
            if let Some(slot) = self.pop() {
                return Some(slot);
            }
        }
        None
    }

    /// Returns a slot (callable at DISPATCH_LEVEL, from a completion routine).
    ///
    /// # Safety
    /// `slot` came from `take` on this pool and is not used by the caller afterwards.
    pub unsafe fn give_back(&self, slot: NonNull<Slot>) {
        {
            let _held = self.lock.lock();
            // SAFETY: the free list is only touched with the lock held.
            let head = unsafe { &mut *self.free_head.get() };
            // SAFETY: the caller's guarantee: the slot is one of ours and no longer used.
            unsafe {
                let index = slot.as_ptr().offset_from(self.slots) as u32;
                (*slot.as_ptr()).request = core::ptr::null_mut();
                (*slot.as_ptr()).reply = core::ptr::null_mut();
                (*slot.as_ptr()).next_free = *head;
                *head = index;
            }
            self.free_count.fetch_add(1, Ordering::Relaxed);
        }
        self.returned.set();
    }

    /// Frees every slot's MDL and buffer and the slot array. No send may be in flight.
    ///
    /// # Safety
    /// Called once, at unload (or on a failed init), with no slot in use.
    pub unsafe fn destroy(&mut self) {
        if self.slots.is_null() {
            return;
        }
        for index in 0..self.count {
            // SAFETY: slots 0..count were built by `init`.
            let slot = unsafe { &*self.slots.add(index as usize) };
            let mdl: PMDL = slot.wsk_buf.Mdl;
            // SAFETY: built in `init`, freed once here.
            unsafe {
                IoFreeMdl(mdl);
                kernel::free(slot.buffer);
            }
        }
        if let Some(slots) = NonNull::new(self.slots) {
            // SAFETY: the slot array from `init`, freed once.
            unsafe { kernel::free(slots) };
        }
        self.slots = core::ptr::null_mut();
        self.count = 0;
        *self.free_head.get_mut() = NONE;
        self.free_count.store(0, Ordering::Relaxed);
    }
}
