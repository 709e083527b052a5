//! Pool: `ExAllocatePool2` / `ExFreePoolWithTag`, tracked by tag, with Driver Verifier's special
//! pool modelled (see [`SpecialPool`]).
//!
//! Learn, "Special Pool" (Driver Verifier): each allocation is placed on pages of its own and a
//! driver that reads or writes a buffer after freeing it gets bug check 0xCC / 0xD5
//! (PAGE_FAULT_IN_FREED_SPECIAL_POOL). The model does the same on the host: every allocation is
//! its own anonymous mapping; a freed one is filled with [`FREED_POOL_POISON`] and kept in a
//! bounded quarantine. In [`SpecialPool::Protect`] its pages are made inaccessible as well, and
//! the process's SIGSEGV/SIGBUS handler turns a fault on them into a named stop.

mod registry;

use std::alloc::{Layout, alloc, alloc_zeroed, dealloc};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, Once};

use crate::constants::*;
use crate::kernel::{self, FaultSite, KernelState, Rule, SpecialPool, lock, rules};
use crate::types::*;

/// Fill for memory the caller asked not to be zeroed, so reads of it stand out.
pub(crate) const UNINITIALIZED_FILL: u8 = 0xC5;

/// Fill of freed special pool while it is quarantined (the byte MSVC's debug heap uses for freed
/// memory): a stale read sees it, a stale write changes it.
pub const FREED_POOL_POISON: u8 = 0xDD;

/// At most this many freed allocations are quarantined per kernel (oldest leave first).
const QUARANTINE_ALLOCATIONS: usize = 1024;
/// At most this many bytes of pages are quarantined per kernel (oldest leave first).
const QUARANTINE_BYTES: usize = 64 << 20;
/// How many of the most recently freed allocations are checked around each pool call and after
/// each DeviceIoControl (the whole quarantine is checked at unload and as allocations leave it).
const RECENT_CHECKS: usize = 8;

/// Pages of the special pool: one anonymous mapping owned by one allocation.
struct Pages(region::Allocation);

// SAFETY: the mapping is plain memory owned by this value (unmapped on drop); it has no thread
// affinity, and every access to its bytes is made by the driver or under the pool table's lock.
unsafe impl Send for Pages {}

/// Where an allocation's memory comes from.
enum Backing {
    /// The host allocator (SpecialPool::Off).
    Host(Layout),
    /// Pages of its own.
    Pages(Pages),
}

impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backing::Host(layout) => write!(f, "host {layout:?}"),
            Backing::Pages(pages) => write!(f, "pages {:x?}", pages.0.as_range()),
        }
    }
}

#[derive(Debug)]
pub(crate) struct PoolAllocation {
    pub size: usize,
    pub tag: ULONG,
    pub nonpaged: bool,
    /// Sends in flight whose buffers lie in this allocation.
    pub pins: u32,
    backing: Backing,
}

/// A freed allocation kept, poisoned, so that a stale pointer finds no new owner.
struct Quarantined {
    address: usize,
    size: usize,
    tag: ULONG,
    /// The mapping's start and length.
    range: std::ops::Range<usize>,
    /// The pages (None only while dropping).
    pages: Option<Pages>,
    /// Who freed it (thread, IRQL, the caller's source location).
    freed_by: Box<str>,
    /// Its entry in the fault handler's registry, when its pages are inaccessible.
    registered: Option<usize>,
    /// The rule a touch of it breaks (POOL_USE_AFTER_FREE, or the WSK provider's rule for an
    /// indication list it took back: see [`provider_free`]).
    rule: &'static str,
}

impl Quarantined {
    /// The first byte that is no longer poison, as (offset, value). Only for unprotected pages.
    fn changed_byte(&self) -> Option<(usize, u8)> {
        if self.registered.is_some() {
            return None;
        }
        // SAFETY: the pages are mapped, readable (not protected) and owned by this entry; the
        // allocation occupies their first `size` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(self.address as *const u8, self.size) };
        bytes
            .iter()
            .position(|&b| b != FREED_POOL_POISON)
            .map(|offset| (offset, bytes[offset]))
    }

    fn describe_write(&self, offset: usize, value: u8, found: &str) -> String {
        format!(
            "allocation {:#x} (tag '{}', {} bytes) was written after it was freed: byte {offset} \
             (address {:#x}) is {value:#04x}, not the poison {FREED_POOL_POISON:#04x}; freed by {}; \
             found {found}",
            self.address,
            tag_name(self.tag),
            self.size,
            self.address + offset,
            self.freed_by
        )
    }
}

impl Drop for Quarantined {
    fn drop(&mut self) {
        // Unmap first, then release the registry entry: a fault on the pages in between is
        // still named.
        drop(self.pages.take());
        if let Some(slot) = self.registered.take() {
            registry::release(slot);
        }
    }
}

#[derive(Default)]
pub(crate) struct PoolTable {
    /// Keyed by start address; ordered so an address can be mapped to its allocation.
    pub live: BTreeMap<usize, PoolAllocation>,
    /// Freed special-pool allocations, oldest first.
    quarantine: VecDeque<Quarantined>,
    /// Bytes of pages in `quarantine`.
    quarantined_bytes: usize,
}

impl KernelState {
    /// This kernel's pool table: its slot (`kernel::slots`), filled by `crate::boot`; private
    /// to this module (others call [`table`]).
    fn pool(&self) -> &Mutex<PoolTable> {
        self.slot()
    }
}

/// Locks `kernel`'s pool table: for the subsystems above pool (MDLs check what memory they
/// describe) and the harness's leak report.
pub(crate) fn table(kernel: &KernelState) -> MutexGuard<'_, PoolTable> {
    lock(kernel.pool())
}

impl std::fmt::Debug for PoolTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolTable")
            .field("live", &self.live)
            .field("quarantined", &self.quarantine.len())
            .finish()
    }
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

    /// Descriptions of writes found in the poison of the `recent` most recently freed
    /// allocations (all of them with `usize::MAX`).
    fn poison_damage(&self, recent: usize, found: &str) -> Vec<String> {
        self.quarantine
            .iter()
            .rev()
            .take(recent)
            .filter_map(|q| {
                q.changed_byte()
                    .map(|(offset, value)| q.describe_write(offset, value, found))
            })
            .collect()
    }

    /// Quarantines a freed allocation, letting the oldest go past the bounds. Returns the
    /// writes found in those that left.
    fn quarantine(&mut self, entry: Quarantined) -> Vec<String> {
        self.quarantined_bytes += entry.range.len();
        self.quarantine.push_back(entry);
        let mut damage = Vec::new();
        while self.quarantine.len() > QUARANTINE_ALLOCATIONS
            || self.quarantined_bytes > QUARANTINE_BYTES
        {
            let Some(oldest) = self.quarantine.pop_front() else {
                break;
            };
            self.quarantined_bytes -= oldest.range.len();
            if let Some((offset, value)) = oldest.changed_byte() {
                damage.push(oldest.describe_write(offset, value, "as it left the quarantine"));
            }
        }
        damage
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

/// Records, under POOL_WRITE_AFTER_FREE, writes found in the poison of the most recently freed
/// allocations. Called after each DeviceIoControl.
pub(crate) fn check_recent(kernel: &KernelState, found: &str) {
    if kernel.config.special_pool == SpecialPool::Off {
        return;
    }
    let damage = lock(kernel.pool()).poison_damage(RECENT_CHECKS, found);
    for detail in damage {
        kernel.violate(rules::POOL_WRITE_AFTER_FREE, detail);
    }
}

/// Checks the whole quarantine (at unload).
pub(crate) fn check_all(kernel: &KernelState, found: &str) {
    let damage = lock(kernel.pool()).poison_damage(usize::MAX, found);
    for detail in damage {
        kernel.violate(rules::POOL_WRITE_AFTER_FREE, detail);
    }
}

/// Who is calling: thread, IRQL, completion routine or not, and the caller's location.
fn caller(location: &std::panic::Location<'_>) -> String {
    let thread = std::thread::current();
    let name = thread
        .name()
        .map_or_else(|| format!("{:?}", thread.id()), str::to_string);
    let routine = if kernel::in_completion_routine() {
        " in a completion routine"
    } else {
        ""
    };
    format!(
        "thread '{name}' at IRQL {}{routine}, ExFreePoolWithTag called from {location}",
        kernel::irql()
    )
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
    check_recent(&kernel, "at an ExAllocatePool2");
    if kernel.injected_fault(FaultSite::PoolAllocate).is_some() || NumberOfBytes == 0 {
        return core::ptr::null_mut();
    }
    let Ok(size) = usize::try_from(NumberOfBytes) else {
        return core::ptr::null_mut();
    };
    let zeroed = Flags & POOL_FLAG_UNINITIALIZED == 0;
    let (memory, backing) = if kernel.config.special_pool == SpecialPool::Off {
        let Some(layout) = layout(size) else {
            return core::ptr::null_mut();
        };
        // SAFETY: the layout has a nonzero size.
        let memory = unsafe {
            if zeroed {
                alloc_zeroed(layout)
            } else {
                alloc(layout)
            }
        };
        (memory, Backing::Host(layout))
    } else {
        // Fresh anonymous pages read as zero.
        let Ok(mut pages) = region::alloc(size, region::Protection::READ_WRITE) else {
            return core::ptr::null_mut();
        };
        (pages.as_mut_ptr::<u8>(), Backing::Pages(Pages(pages)))
    };
    if memory.is_null() {
        return core::ptr::null_mut();
    }
    if !zeroed {
        // SAFETY: `memory` was just allocated with at least `size` writable bytes.
        unsafe { core::ptr::write_bytes(memory, UNINITIALIZED_FILL, size) };
    }
    lock(kernel.pool()).live.insert(
        memory as usize,
        PoolAllocation {
            size,
            tag: Tag,
            nonpaged,
            pins: 0,
            backing,
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
#[track_caller]
pub unsafe fn ExFreePoolWithTag(P: PVOID, Tag: ULONG) {
    let location = std::panic::Location::caller();
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "ExFreePoolWithTag", kernel::DISPATCH) {
        return;
    }
    check_recent(&kernel, "at an ExFreePoolWithTag");
    let address = P as usize;
    let mut pool = lock(kernel.pool());
    let Some(allocation) = pool.live.get(&address) else {
        let freed = pool
            .quarantine
            .iter()
            .rev()
            .find(|q| q.address == address)
            .map(|q| format!("; it was freed by {}", q.freed_by));
        drop(pool);
        kernel.violate(
            rules::POOL_BAD_FREE,
            format!(
                "ExFreePoolWithTag({address:#x}) is not a live allocation{}",
                freed.as_deref().unwrap_or(" (double free?)")
            ),
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
    let pages = match allocation.backing {
        Backing::Host(layout) => {
            drop(pool);
            // SAFETY: the allocation was made by `ExAllocatePool2` with this layout and is
            // removed from the table, so it is freed once.
            unsafe { dealloc(P.cast(), layout) };
            return;
        }
        Backing::Pages(pages) => pages,
    };
    quarantine_pages(
        &kernel,
        pool,
        address,
        (allocation.size, allocation.tag),
        pages,
        caller(location),
        rules::POOL_USE_AFTER_FREE.id,
    );
}

/// Poisons a freed special-pool allocation and quarantines it (its pages made inaccessible in
/// [`SpecialPool::Protect`], a touch then stopping under `rule`); reports the writes found in
/// the allocations leaving the quarantine.
fn quarantine_pages(
    kernel: &KernelState,
    mut pool: std::sync::MutexGuard<'_, PoolTable>,
    address: usize,
    (size, tag): (usize, ULONG),
    pages: Pages,
    freed_by: String,
    rule: &'static str,
) {
    // SAFETY: the pages are mapped read-write and no longer live: their owner gave them up.
    unsafe { core::ptr::write_bytes(address as *mut u8, FREED_POOL_POISON, pages.0.len()) };
    let mut entry = Quarantined {
        address,
        size,
        tag,
        range: pages.0.as_range(),
        pages: Some(pages),
        freed_by: freed_by.into_boxed_str(),
        registered: None,
        rule,
    };
    if kernel.config.special_pool == SpecialPool::Protect {
        entry.registered = registry::register(
            entry.range.clone(),
            entry.address,
            (entry.size, entry.tag),
            &entry.freed_by,
            entry.rule,
        );
        if entry.registered.is_some() {
            let range = entry.range.clone();
            // SAFETY: the pages belong to this quarantine entry; nothing may use them any more,
            // and any access from now on is the use after free this mode exists to stop.
            let protected = unsafe {
                region::protect(
                    range.start as *const u8,
                    range.len(),
                    region::Protection::NONE,
                )
            };
            if protected.is_err()
                && let Some(slot) = entry.registered.take()
            {
                registry::release(slot);
            }
        }
    }
    let damage = pool.quarantine(entry);
    drop(pool);
    for detail in damage {
        kernel.violate(rules::POOL_WRITE_AFTER_FREE, detail);
    }
}

/// Allocates nonpaged pool for the provider's own use (the WSK provider's indication lists):
/// tracked like a driver's allocation (a list never given back shows as a leak at unload) but
/// neither counted in [`crate::kernel::counters::Counters`] nor a fault-injection site, since the driver
/// made no call. Zeroed. None if the host refuses the memory.
pub(crate) fn provider_allocate(kernel: &KernelState, size: usize, tag: ULONG) -> Option<usize> {
    let size = size.max(1);
    let (memory, backing) = if kernel.config.special_pool == SpecialPool::Off {
        let layout = layout(size)?;
        // SAFETY: the layout has a nonzero size.
        (unsafe { alloc_zeroed(layout) }, Backing::Host(layout))
    } else {
        let mut pages = region::alloc(size, region::Protection::READ_WRITE).ok()?;
        (pages.as_mut_ptr::<u8>(), Backing::Pages(Pages(pages)))
    };
    if memory.is_null() {
        return None;
    }
    lock(kernel.pool()).live.insert(
        memory as usize,
        PoolAllocation {
            size,
            tag,
            nonpaged: true,
            pins: 0,
            backing,
        },
    );
    Some(memory as usize)
}

/// Frees a [`provider_allocate`] allocation. With the special pool on, its pages are
/// quarantined like freed driver pool, and a later touch stops naming `rule` (the provider
/// took the memory back; `freed_by` says when).
pub(crate) fn provider_free(kernel: &KernelState, address: usize, rule: Rule, freed_by: String) {
    let mut pool = lock(kernel.pool());
    let Some(allocation) = pool.live.remove(&address) else {
        return;
    };
    match allocation.backing {
        Backing::Host(layout) => {
            drop(pool);
            // SAFETY: made by `provider_allocate` with this layout and removed from the table.
            unsafe { dealloc(address as *mut u8, layout) };
        }
        Backing::Pages(pages) => {
            let (size, tag) = (allocation.size, allocation.tag);
            quarantine_pages(kernel, pool, address, (size, tag), pages, freed_by, rule.id);
        }
    }
}

/// Installs (once per process) the handler that names a fault on protected freed pool.
pub(crate) fn install_fault_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(registry::install);
}
