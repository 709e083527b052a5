//! Pool: `ExAllocatePool2` / `ExFreePoolWithTag`, tracked by tag.

use std::alloc::{Layout, alloc, alloc_zeroed, dealloc};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use crate::constants::*;
use crate::kernel::{self, FaultSite, lock, rules};
use crate::types::*;

/// Fill for memory the caller asked not to be zeroed, so reads of it stand out.
pub(crate) const UNINITIALIZED_FILL: u8 = 0xC5;

#[derive(Debug)]
pub(crate) struct PoolAllocation {
    pub size: usize,
    pub tag: ULONG,
    pub nonpaged: bool,
    /// Sends in flight whose buffers lie in this allocation.
    pub pins: u32,
}

#[derive(Debug, Default)]
pub(crate) struct PoolTable {
    /// Keyed by start address; ordered so an address can be mapped to its allocation.
    pub live: BTreeMap<usize, PoolAllocation>,
}

impl PoolTable {
    /// The allocation containing `[addr, addr + len)`, if one does.
    pub(crate) fn containing(
        &mut self,
        addr: usize,
        len: usize,
    ) -> Option<(usize, &mut PoolAllocation)> {
        let (&start, allocation) = self.live.range_mut(..=addr).next_back()?;
        let end = start + allocation.size;
        (addr >= start && addr.checked_add(len)? <= end).then_some((start, allocation))
    }

    /// Live allocations grouped by tag: tag → (count, bytes).
    pub(crate) fn by_tag(&self) -> HashMap<ULONG, (usize, usize)> {
        let mut tags: HashMap<ULONG, (usize, usize)> = HashMap::new();
        for allocation in self.live.values() {
            let entry = tags.entry(allocation.tag).or_default();
            entry.0 += 1;
            entry.1 += allocation.size;
        }
        tags
    }
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.max(1), 16).ok()
}

/// Renders a pool tag the way pool tools show it ('WskS').
pub fn tag_name(tag: ULONG) -> String {
    tag.to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect()
}

/// Allocates pool memory.
///
/// # Safety
/// Same contract as the real routine: the result must be freed with `ExFreePoolWithTag` and
/// the same tag.
#[allow(non_snake_case)]
pub unsafe fn ExAllocatePool2(Flags: POOL_FLAGS, NumberOfBytes: SIZE_T, Tag: ULONG) -> PVOID {
    let kernel = kernel::current();
    let pool_type = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED | POOL_FLAG_NON_PAGED_EXECUTE);
    if pool_type.count_ones() != 1 || Tag == 0 {
        kernel.violate(
            rules::POOL_BAD_FLAGS,
            format!("ExAllocatePool2(flags {Flags:#x}, {NumberOfBytes} bytes, tag {Tag:#x})"),
        );
        return core::ptr::null_mut();
    }
    let nonpaged = pool_type != POOL_FLAG_PAGED;
    let max = if nonpaged { kernel::DISPATCH } else { 1 };
    if !kernel::require_irql(&kernel, "ExAllocatePool2", max) {
        return core::ptr::null_mut();
    }
    if kernel.injected_fault(FaultSite::PoolAllocate).is_some() || NumberOfBytes == 0 {
        return core::ptr::null_mut();
    }
    let Ok(size) = usize::try_from(NumberOfBytes) else {
        return core::ptr::null_mut();
    };
    let Some(layout) = layout(size) else {
        return core::ptr::null_mut();
    };
    let zeroed = Flags & POOL_FLAG_UNINITIALIZED == 0;
    // SAFETY: the layout has a nonzero size.
    let memory = unsafe {
        if zeroed {
            alloc_zeroed(layout)
        } else {
            alloc(layout)
        }
    };
    if memory.is_null() {
        return core::ptr::null_mut();
    }
    if !zeroed {
        // SAFETY: `memory` was just allocated with `size` bytes.
        unsafe { core::ptr::write_bytes(memory, UNINITIALIZED_FILL, size) };
    }
    lock(&kernel.pool).live.insert(
        memory as usize,
        PoolAllocation {
            size,
            tag: Tag,
            nonpaged,
            pins: 0,
        },
    );
    kernel
        .counters
        .pool_allocations
        .fetch_add(1, Ordering::Relaxed);
    memory.cast()
}

/// Frees pool memory.
///
/// # Safety
/// `P` must come from `ExAllocatePool2` (the model checks and reports otherwise).
#[allow(non_snake_case)]
pub unsafe fn ExFreePoolWithTag(P: PVOID, Tag: ULONG) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "ExFreePoolWithTag", kernel::DISPATCH) {
        return;
    }
    let address = P as usize;
    let mut pool = lock(&kernel.pool);
    let Some(allocation) = pool.live.get(&address) else {
        drop(pool);
        kernel.violate(
            rules::POOL_BAD_FREE,
            format!("ExFreePoolWithTag({address:#x}) is not a live allocation (double free?)"),
        );
        return;
    };
    if allocation.tag != Tag {
        let detail = format!(
            "allocation {address:#x} has tag '{}', freed with '{}'",
            tag_name(allocation.tag),
            tag_name(Tag)
        );
        drop(pool);
        kernel.violate(rules::POOL_TAG_MISMATCH, detail);
        return;
    }
    if allocation.pins > 0 {
        let detail = format!(
            "allocation {address:#x} holds the buffer of {} send(s) still pending",
            allocation.pins
        );
        drop(pool);
        kernel.violate(rules::BUFFER_FREED_WHILE_PENDING, detail);
        return;
    }
    let Some(allocation) = pool.live.remove(&address) else {
        return;
    };
    drop(pool);
    if let Some(layout) = layout(allocation.size) {
        // SAFETY: the allocation was made by `ExAllocatePool2` with this layout and is removed
        // from the table, so it is freed once.
        unsafe { dealloc(P.cast(), layout) };
    }
}
