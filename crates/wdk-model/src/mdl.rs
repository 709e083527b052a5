//! MDLs: `IoAllocateMdl`, `MmBuildMdlForNonPagedPool`, `IoFreeMdl`, and the checks WSK applies
//! to a WSK_BUF's chain.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use crate::constants::*;
use crate::kernel::{self, FaultSite, KernelState, lock, rules};
use crate::pool;
use crate::types::*;

#[derive(Debug)]
pub(crate) struct MdlRecord {
    pub layout: Layout,
    /// Sends in flight that use this MDL.
    pub pins: u32,
}

#[derive(Debug, Default)]
pub(crate) struct MdlTable {
    pub live: HashMap<usize, MdlRecord>,
}

impl KernelState {
    /// This kernel's MDL table: its slot (`kernel::slots`), filled by `crate::boot`.
    fn mdls(&self) -> &Mutex<MdlTable> {
        self.slot()
    }
}

/// How many MDLs are allocated and not freed (the harness's leak report).
pub(crate) fn live_count(kernel: &KernelState) -> usize {
    lock(kernel.mdls()).live.len()
}

const PAGE: usize = PAGE_SIZE as usize;

fn pages_spanned(va: usize, len: usize) -> usize {
    ((va % PAGE) + len).div_ceil(PAGE)
}

/// Allocates an MDL describing `[VirtualAddress, VirtualAddress + Length)`.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn IoAllocateMdl(
    VirtualAddress: PVOID,
    Length: ULONG,
    SecondaryBuffer: BOOLEAN,
    ChargeQuota: BOOLEAN,
    Irp: PIRP,
) -> PMDL {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "IoAllocateMdl", kernel::DISPATCH) {
        return core::ptr::null_mut();
    }
    if SecondaryBuffer != 0 || ChargeQuota != 0 || !Irp.is_null() {
        kernel.violate(
            rules::WSK_BAD_ARGUMENT,
            "the model supports IoAllocateMdl(va, len, FALSE, FALSE, NULL) only",
        );
        return core::ptr::null_mut();
    }
    if kernel.injected_fault(FaultSite::MdlAllocate).is_some()
        || Length == 0
        || VirtualAddress.is_null()
    {
        return core::ptr::null_mut();
    }
    let va = VirtualAddress as usize;
    let pages = pages_spanned(va, Length as usize);
    let size = size_of::<MDL>() + pages * size_of::<u64>();
    let Ok(layout) = Layout::from_size_align(size, 8) else {
        return core::ptr::null_mut();
    };
    let Ok(size_field) = CSHORT::try_from(size) else {
        return core::ptr::null_mut();
    };
    // SAFETY: nonzero size.
    let mdl = unsafe { alloc_zeroed(layout) }.cast::<MDL>();
    if mdl.is_null() {
        return mdl;
    }
    // SAFETY: `mdl` is a fresh, zeroed allocation large enough for an MDL.
    unsafe {
        (*mdl).Size = size_field;
        (*mdl).StartVa = (va & !(PAGE - 1)) as PVOID;
        (*mdl).ByteOffset = (va % PAGE) as ULONG;
        (*mdl).ByteCount = Length;
    }
    lock(kernel.mdls())
        .live
        .insert(mdl as usize, MdlRecord { layout, pins: 0 });
    kernel
        .counters
        .mdl_allocations
        .fetch_add(1, Ordering::Relaxed);
    mdl
}

/// Fills in an MDL for memory from nonpaged pool.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn MmBuildMdlForNonPagedPool(MemoryDescriptorList: PMDL) {
    let kernel = kernel::current();
    let mdl = MemoryDescriptorList;
    if !kernel::require_irql(&kernel, "MmBuildMdlForNonPagedPool", kernel::DISPATCH) {
        return;
    }
    if !lock(kernel.mdls()).live.contains_key(&(mdl as usize)) {
        kernel.violate(
            rules::MDL_UNKNOWN,
            format!("MmBuildMdlForNonPagedPool({:#x})", mdl as usize),
        );
        return;
    }
    // SAFETY: the MDL is live (checked above).
    let (va, len) = unsafe { (mdl_virtual_address(mdl), (*mdl).ByteCount as usize) };
    let nonpaged = matches!(pool::table(&kernel).containing(va, len), Some((_, a)) if a.nonpaged);
    if !nonpaged {
        kernel.violate(
            rules::MDL_NOT_NONPAGED,
            format!("MmBuildMdlForNonPagedPool over [{va:#x}, +{len}) which is not nonpaged pool"),
        );
        return;
    }
    // SAFETY: the MDL is live; its page array follows the header inside its allocation.
    unsafe {
        (*mdl).MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL as CSHORT;
        (*mdl).MappedSystemVa = va as PVOID;
        let pages = mdl.add(1).cast::<u64>();
        for page in 0..pages_spanned(va, len) {
            pages.add(page).write(((va / PAGE) + page) as u64);
        }
    }
}

/// Frees an MDL.
///
/// # Safety
/// Same contract as the real routine.
#[allow(non_snake_case)]
pub unsafe fn IoFreeMdl(Mdl: PMDL) {
    let kernel = kernel::current();
    if !kernel::require_irql(&kernel, "IoFreeMdl", kernel::DISPATCH) {
        return;
    }
    let mut mdls = lock(kernel.mdls());
    match mdls.live.get(&(Mdl as usize)) {
        None => {
            drop(mdls);
            kernel.violate(
                rules::MDL_UNKNOWN,
                format!(
                    "IoFreeMdl({:#x}): not a live MDL (double free?)",
                    Mdl as usize
                ),
            );
        }
        Some(record) if record.pins > 0 => {
            drop(mdls);
            kernel.violate(
                rules::MDL_FREED_WHILE_PENDING,
                format!("IoFreeMdl({:#x}) while a send uses it", Mdl as usize),
            );
        }
        Some(_) => {
            let Some(record) = mdls.live.remove(&(Mdl as usize)) else {
                return;
            };
            drop(mdls);
            // SAFETY: allocated by IoAllocateMdl with this layout, removed from the table.
            unsafe { dealloc(Mdl.cast(), record.layout) };
        }
    }
}

/// # Safety
/// `mdl` must be live.
unsafe fn mdl_virtual_address(mdl: PMDL) -> usize {
    // SAFETY: the caller guarantees `mdl` is live.
    unsafe { (*mdl).StartVa as usize + (*mdl).ByteOffset as usize }
}

/// One segment of a validated WSK_BUF: where the bytes are and which allocations hold them.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub mdl: usize,
    pub pool: usize,
    pub address: usize,
    pub len: usize,
}

/// Validates the chain a WSK_BUF describes (live MDLs over nonpaged or locked memory, range
/// inside the chain) and returns the byte segments. Records the violation and returns `None`
/// when the chain is bad.
pub(crate) fn validate_chain(
    kernel: &KernelState,
    first: PMDL,
    offset: usize,
    length: usize,
) -> Option<Vec<Segment>> {
    let mdls = lock(kernel.mdls());
    let mut pool = pool::table(kernel);
    let mut segments = Vec::new();
    let mut skip = offset;
    let mut remaining = length;
    let mut mdl = first;
    let mut first_len = None;
    let mut chain_len = 0usize;
    let mut problem = None;
    while !mdl.is_null() {
        if !mdls.live.contains_key(&(mdl as usize)) {
            problem = Some((
                rules::MDL_UNKNOWN,
                format!("WSK_BUF chain holds {:#x}, not a live MDL", mdl as usize),
            ));
            break;
        }
        // SAFETY: the MDL is live (checked above) and cannot be freed while we hold the table.
        let (flags, va, len, next) = unsafe {
            (
                (*mdl).MdlFlags as u32,
                mdl_virtual_address(mdl),
                (*mdl).ByteCount as usize,
                (*mdl).Next,
            )
        };
        first_len.get_or_insert(len);
        chain_len += len;
        if flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PAGES_LOCKED) == 0 {
            problem = Some((
                rules::MDL_NOT_LOCKED,
                format!(
                    "MDL {:#x} (flags {flags:#x}) is neither built for nonpaged pool nor locked",
                    mdl as usize
                ),
            ));
            break;
        }
        let Some((pool_start, allocation)) = pool.containing(va, len) else {
            problem = Some((
                rules::BUFFER_FREED_WHILE_PENDING,
                format!(
                    "MDL {:#x} describes [{va:#x}, +{len}) which is no longer allocated",
                    mdl as usize
                ),
            ));
            break;
        };
        if !allocation.nonpaged {
            problem = Some((
                rules::MDL_NOT_LOCKED,
                format!("MDL {:#x} describes paged pool", mdl as usize),
            ));
            break;
        }
        let take_from = skip.min(len);
        skip -= take_from;
        let take = (len - take_from).min(remaining);
        if take > 0 {
            segments.push(Segment {
                mdl: mdl as usize,
                pool: pool_start,
                address: va + take_from,
                len: take,
            });
            remaining -= take;
        }
        mdl = next;
    }
    drop(pool);
    drop(mdls);
    if let Some((rule, detail)) = problem {
        kernel.violate(rule, detail);
        return None;
    }
    let first_len = first_len.unwrap_or(0);
    if first.is_null() || offset >= first_len || remaining > 0 {
        kernel.violate(
            rules::WSK_BUF_RANGE,
            format!("WSK_BUF Offset {offset} Length {length} over a chain whose first MDL has {first_len} bytes and which has {chain_len} in all"),
        );
        return None;
    }
    Some(segments)
}

/// Pins (or unpins) the MDLs and pool allocations of a pending send.
pub(crate) fn pin(kernel: &KernelState, segments: &[Segment], pin: bool) {
    let mut mdls = lock(kernel.mdls());
    let mut pool = pool::table(kernel);
    for segment in segments {
        if let Some(record) = mdls.live.get_mut(&segment.mdl) {
            record.pins = if pin {
                record.pins + 1
            } else {
                record.pins.saturating_sub(1)
            };
        }
        if let Some(allocation) = pool.live.get_mut(&segment.pool) {
            allocation.pins = if pin {
                allocation.pins + 1
            } else {
                allocation.pins.saturating_sub(1)
            };
        }
    }
}

/// Whether the memory the segments describe still holds `snapshot`.
pub(crate) fn matches(segments: &[Segment], snapshot: &[u8]) -> bool {
    let mut rest = snapshot;
    for segment in segments {
        let Some((expected, tail)) = rest.split_at_checked(segment.len) else {
            return false;
        };
        // SAFETY: the segment lies inside a live, pinned pool allocation (validate_chain + pin).
        let now = unsafe { std::slice::from_raw_parts(segment.address as *const u8, segment.len) };
        if now != expected {
            return false;
        }
        rest = tail;
    }
    rest.is_empty()
}

/// Copies the bytes the segments describe. The segments are pinned, so the memory is live.
pub(crate) fn gather(segments: &[Segment]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(segments.iter().map(|s| s.len).sum());
    for segment in segments {
        // SAFETY: the segment lies inside a live, pinned pool allocation (validate_chain + pin).
        bytes.extend_from_slice(unsafe {
            std::slice::from_raw_parts(segment.address as *const u8, segment.len)
        });
    }
    bytes
}
