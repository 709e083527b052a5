//! Handles to the device: opening one (the device's symbolic link and SDDL), and closing it,
//! which is the IRP_MJ_CLEANUP of its file object.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::outcome::{Access, HarnessError, IoMode};
use crate::kernel::{KernelState, lock};
use crate::sddl::{self, Caller};
use crate::wdf;

/// An open handle to the device. Dropping it closes it (CloseHandle): a device with open
/// handles cannot be removed in an orderly way (see [`Kernel::unload`](super::Kernel::unload)).
#[derive(Debug)]
pub struct Handle {
    pub(super) access: Access,
    pub(super) device: usize,
    /// For a handle opened for synchronous I/O (no FILE_FLAG_OVERLAPPED): the I/O manager
    /// serialises the calls on its file object (FO_SYNCHRONOUS_IO: IopXxxControlFile, behind
    /// NtDeviceIoControlFile, takes IopAcquireFileObjectLock), so two threads' DeviceIoControl
    /// calls on it never overlap.
    pub(super) synchronous: Option<Arc<Mutex<()>>>,
    _open: OpenHandle,
}

impl Handle {
    /// Whether the handle was closed (CloseHandle ran while the caller still holds it).
    pub(super) fn is_closed(&self) -> bool {
        self._open.closed.load(Ordering::SeqCst)
    }

    /// The handle's file object, as requests record it.
    pub(super) fn file(&self) -> usize {
        self._open.file
    }

    /// CloseHandle while calls on the handle may still be pending on other threads (they
    /// keep the file object referenced, not the handle): IRP_MJ_CLEANUP runs now (see
    /// `OpenHandle`), and later calls on it fail with STATUS_INVALID_HANDLE. Dropping the
    /// handle closes it too, once.
    pub fn close(&self) {
        self._open.cleanup();
    }
}

/// Counts a handle as open until it is dropped; closing it is the IRP_MJ_CLEANUP of its file
/// object.
struct OpenHandle {
    open: Arc<AtomicUsize>,
    core: Arc<KernelState>,
    file: usize,
    closed: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for OpenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenHandle({:#x})", self.file)
    }
}

/// File objects handed out (a handle's identity; never 0).
static NEXT_FILE: AtomicUsize = AtomicUsize::new(1);

impl Drop for OpenHandle {
    fn drop(&mut self) {
        self.cleanup();
    }
}

impl OpenHandle {
    fn cleanup(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // IRP_MJ_CLEANUP: FxPkgGeneral::OnCleanup (irphandlers/general/fxpkggeneral.cpp) calls
        // FxPkgIo::FlushAllQueuesByFileObject, whose FxIoQueue::FlushByFileObject
        // (irphandlers/io/fxioqueue.cpp) cancels every request of this file object still
        // waiting in a queue (CancelForQueue: completed with STATUS_CANCELLED when the queue
        // has no EvtIoCanceledOnQueue). Requests the driver holds are the driver's to complete.
        let file = self.file;
        let cancelled = wdf::cancel_queued(&mut lock(self.core.wdf()), |r| r.file == file);
        if cancelled > 0 {
            self.core.note(format!(
                "KMDF: handle closed: {cancelled} queued request(s) of its file object cancelled"
            ));
            self.core.wdf_changed().notify_all();
        }
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Opens a device by its user-mode path (`\\.\Name`), enforcing its SDDL.
pub(super) fn open(
    core: &Arc<KernelState>,
    open_handles: &Arc<AtomicUsize>,
    path: &str,
    access: Access,
    caller: Caller,
    mode: IoMode,
) -> Result<Handle, HarnessError> {
    let link = path
        .strip_prefix(r"\\.\")
        .map(|name| format!(r"\DosDevices\{name}"));
    let state = lock(core.wdf());
    let device = state.devices.iter().find(|d| {
        link.as_ref().is_some_and(|l| {
            d.symbolic_links.iter().any(|s| {
                s.eq_ignore_ascii_case(l)
                    || s.eq_ignore_ascii_case(&l.replace(r"\DosDevices\", r"\??\"))
            })
        })
    });
    let Some(device) = device else {
        return Err(HarnessError::NoSuchDevice(path.to_string()));
    };
    // Without an SDDL the framework applies SDDL_DEVOBJ_SYS_ALL_ADM_ALL.
    let dacl = device
        .settings
        .sddl
        .as_deref()
        .and_then(sddl::parse)
        .unwrap_or_else(|| sddl::parse("D:P(A;;GA;;;SY)(A;;GA;;;BA)").unwrap_or_default());
    if !sddl::grants(&dacl, caller, access.read, access.write) {
        return Err(HarnessError::AccessDenied);
    }
    open_handles.fetch_add(1, Ordering::SeqCst);
    Ok(Handle {
        access,
        device: device.handle,
        synchronous: (mode == IoMode::Synchronous).then(|| Arc::new(Mutex::new(()))),
        _open: OpenHandle {
            open: open_handles.clone(),
            core: core.clone(),
            file: NEXT_FILE.fetch_add(1, Ordering::Relaxed),
            closed: std::sync::atomic::AtomicBool::new(false),
        },
    })
}
