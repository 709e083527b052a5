//! Receive buffers: nonpaged memory for the largest datagram, its MDL and its IRP, built once
//! when the engine is created, so receiving a datagram allocates nothing.

use core::mem::MaybeUninit;
use core::ptr::NonNull;
use core::sync::atomic::AtomicU8;

use wdk_sys::PIRP;
use wdk_sys::ntddk::{IoAllocateMdl, IoFreeMdl, MmBuildMdlForNonPagedPool};

use crate::irp;
use crate::kernel;
use crate::wsk::SockAddrStorage;
use crate::wsk::abi::WSK_BUF;

/// Bytes per receive buffer: room for the largest UDP datagram (65,527 bytes over IPv6).
pub const BUFFER_SIZE: u32 = 65_536;

/// Where a buffer is. Exactly one owner at a time:
/// - `IDLE`: nobody's; the receiver may post it (compare-exchange to `BUSY` claims it);
/// - `BUSY`: posted to WSK, or held by the code that took it (a completion routine, a receive
///   request, the backlog under the receiver's lock). The owner is whoever holds the pointer
///   by one of those routes; only that owner touches the non-atomic fields.
pub const IDLE: u8 = 0;
pub const BUSY: u8 = 1;

/// One receive buffer. `#[repr(C)]` because WSK writes `remote` and `flags` through raw
/// pointers while the IRP is pending.
#[repr(C)]
pub struct Buffer {
    pub wsk_buf: WSK_BUF,
    /// The datagram's source, written by WSK at completion.
    pub remote: SockAddrStorage,
    /// WskReceiveFrom's ControlFlags (MSG_TRUNC and friends), written by WSK at completion.
    pub flags: u32,
    /// Bytes received, set by the completion routine.
    pub length: u32,
    pub memory: NonNull<u8>,
    /// Allocated once, reused for every post with IoReuseIrp.
    pub irp: PIRP,
    /// The receiver it belongs to (fixed at build).
    pub receiver: *const super::Receiver,
    pub state: AtomicU8,
}

impl Buffer {
    /// Builds a buffer for `receiver`: memory, MDL (for nonpaged pool) and IRP.
    pub fn build(receiver: *const super::Receiver) -> Option<NonNull<Buffer>> {
        let this = kernel::allocate::<Buffer>()?;
        let Some(memory) = kernel::allocate_bytes(BUFFER_SIZE as usize) else {
            // SAFETY: from allocate, not used elsewhere.
            unsafe { kernel::free(this) };
            return None;
        };
        // SAFETY: the memory is nonpaged pool of BUFFER_SIZE bytes, outliving the MDL.
        let mdl = unsafe {
            IoAllocateMdl(
                memory.as_ptr().cast(),
                BUFFER_SIZE,
                0,
                0,
                core::ptr::null_mut(),
            )
        };
        let irp = irp::allocate_irp();
        let (false, Some(irp)) = (mdl.is_null(), irp) else {
            if !mdl.is_null() {
                // SAFETY: allocated above, not used elsewhere.
                unsafe { IoFreeMdl(mdl) };
            }
            if let Some(irp) = irp {
                // SAFETY: allocated above, never submitted.
                unsafe { irp::free(irp) };
            }
            // SAFETY: allocated above, not used elsewhere.
            unsafe { kernel::free(memory) };
            // SAFETY: as above.
            unsafe { kernel::free(this) };
            return None;
        };
        // SAFETY: the MDL describes nonpaged pool.
        unsafe { MmBuildMdlForNonPagedPool(mdl) };
        let buffer = Buffer {
            wsk_buf: WSK_BUF {
                Mdl: mdl,
                Offset: 0,
                Length: u64::from(BUFFER_SIZE),
            },
            remote: SockAddrStorage::ZERO,
            flags: 0,
            length: 0,
            memory,
            irp,
            receiver,
            state: AtomicU8::new(IDLE),
        };
        // SAFETY: fresh memory sized for a Buffer, written whole before use.
        unsafe { this.as_ptr().write(MaybeUninit::new(buffer)) };
        Some(this.cast())
    }

    /// The received bytes.
    ///
    /// # Safety
    /// The caller owns the buffer (BUSY, taken by one of the routes above) and it holds a
    /// completed datagram.
    pub unsafe fn datagram(&self) -> &[u8] {
        let length = self.length.min(BUFFER_SIZE) as usize;
        // SAFETY: `memory` holds BUFFER_SIZE bytes; the caller's guarantee for the contents.
        unsafe { core::slice::from_raw_parts(self.memory.as_ptr(), length) }
    }

    /// Frees the buffer, its MDL and IRP.
    ///
    /// # Safety
    /// The buffer is IDLE and nothing refers to it any more.
    pub unsafe fn destroy(this: NonNull<Buffer>) {
        // SAFETY: the caller's guarantee: the buffer is built and nobody else refers to it.
        let buffer = unsafe { this.as_ref() };
        let (irp, mdl, memory) = (buffer.irp, buffer.wsk_buf.Mdl, buffer.memory);
        // SAFETY: allocated in `build`; idle, so no provider owns it.
        unsafe { irp::free(irp) };
        // SAFETY: allocated in `build`, not used again.
        unsafe { IoFreeMdl(mdl) };
        // SAFETY: as above.
        unsafe { kernel::free(memory) };
        // SAFETY: as above; no reference to it is used after this.
        unsafe { kernel::free(this) };
    }
}
