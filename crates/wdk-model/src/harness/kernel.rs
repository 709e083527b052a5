//! `Kernel`: one booted kernel with (at most) one driver, the handle tests and wskctl hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::handle::{self, Handle};
use super::outcome::{Access, DriverEntry, HarnessError, IoMode, IoResult, Report};
use super::{ioctl, pnp, report};
use crate::boot;
use crate::constants::*;
use crate::debug::{self, DebugLine};
use crate::kernel::{self, CounterSnapshot, FaultSite, KernelConfig, KernelState, Violation, lock};
use crate::pool;
use crate::sddl::Caller;
use crate::types::*;
use crate::wdf::ObjectKind;

/// A booted kernel with (at most) one driver.
pub struct Kernel {
    core: Arc<KernelState>,
    driver_object: Box<[u64; 42]>,
    registry_path: Vec<u16>,
    loaded: std::sync::atomic::AtomicBool,
    report: std::sync::Mutex<Option<Report>>,
    /// Handles opened and not yet dropped (shared with each Handle).
    open_handles: Arc<AtomicUsize>,
}

impl Kernel {
    /// Boots a kernel with these knobs.
    pub fn boot(config: KernelConfig) -> Kernel {
        let registry_path = r"\Registry\Machine\System\CurrentControlSet\Services\WskSample"
            .encode_utf16()
            .collect();
        Kernel {
            core: boot::boot(config),
            driver_object: Box::new([0; 42]),
            registry_path,
            loaded: std::sync::atomic::AtomicBool::new(false),
            report: std::sync::Mutex::new(None),
            open_handles: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn enter(&self) -> kernel::EnterGuard {
        let guard = kernel::enter(&self.core);
        kernel::set_irql(kernel::PASSIVE);
        guard
    }

    /// Runs `f` as kernel-mode code of this kernel, at PASSIVE_LEVEL on the calling thread:
    /// for tests that play a (possibly broken) driver without loading one.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = self.enter();
        f()
    }

    /// Streams trace lines as they happen (tracing must be on in the config).
    pub fn on_trace(&self, sink: impl Fn(&str) + Send + 'static) {
        self.core.set_trace_sink(Some(Box::new(sink)));
    }

    /// Takes the trace recorded so far.
    pub fn take_trace(&self) -> Vec<String> {
        self.core.take_trace()
    }

    /// What the driver printed with DbgPrintEx so far, oldest first.
    pub fn debug_output(&self) -> Vec<DebugLine> {
        debug::output(&self.core)
    }

    /// Rules broken so far.
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.core.violations).clone()
    }

    /// Allocation and call counters.
    pub fn counters(&self) -> CounterSnapshot {
        self.core.counters()
    }

    /// Makes every socket whose WskReceiveFromEvent is enabled "no longer functional": its
    /// callback is called once with a NULL DataIndication (Learn, PFN_WSK_RECEIVE_FROM_EVENT), at
    /// DISPATCH_LEVEL on a provider thread. Returns how many callbacks were made.
    pub fn fail_event_sockets(&self) -> usize {
        crate::wsk::events::indicate_failure(&self.core)
    }

    /// Calls reached at a fault-injection site (counted when faults are configured).
    pub fn site_calls(&self, site: FaultSite) -> u64 {
        self.core.site_calls(site)
    }

    /// Live pool allocations with `tag`: (count, bytes).
    pub fn pool_in_use(&self, tag: ULONG) -> (usize, usize) {
        pool::table(&self.core)
            .by_tag()
            .get(&tag)
            .copied()
            .unwrap_or_default()
    }

    /// Calls the driver's DriverEntry at PASSIVE_LEVEL, then delivers the root-enumerated
    /// device to its EvtDriverDeviceAdd.
    pub fn load(&mut self, entry: DriverEntry) -> Result<(), HarnessError> {
        let _entered = self.enter();
        let path = UNICODE_STRING {
            Length: (self.registry_path.len() * 2) as u16,
            MaximumLength: (self.registry_path.len() * 2) as u16,
            Buffer: self.registry_path.as_mut_ptr(),
        };
        self.core.note("kernel: calling DriverEntry");
        self.core.in_driver_entry.store(true, Ordering::SeqCst);
        // SAFETY: a DRIVER_OBJECT-sized buffer and a registry path that live as long as the kernel.
        let status = unsafe { entry(self.driver_object.as_mut_ptr().cast(), &path) };
        self.core.in_driver_entry.store(false, Ordering::SeqCst);
        pnp::check_irql(&self.core, "DriverEntry");
        if status < 0 {
            // KMDF deletes a driver object whose DriverEntry failed: its cleanup callback
            // runs, EvtDriverUnload does not.
            pnp::delete_driver_object(&self.core);
            return Err(HarnessError::DriverEntryFailed(status));
        }
        self.loaded.store(true, Ordering::SeqCst);
        let (driver, device_add) = {
            let mut state = lock(self.core.wdf());
            let Some(driver) = state.driver else {
                return Err(HarnessError::DeviceAddFailed(STATUS_UNSUCCESSFUL));
            };
            let init = state.new_object(ObjectKind::DeviceInit);
            state.device_inits.insert(init, Default::default());
            (driver, state.device_add.map(|f| (f, init)))
        };
        let Some((device_add, init)) = device_add else {
            return Err(HarnessError::DeviceAddFailed(STATUS_UNSUCCESSFUL));
        };
        self.core
            .note("PnP: delivering Root\\WskSample to EvtDriverDeviceAdd");
        // SAFETY: the driver's callback with a live driver handle and a fresh device init.
        let status = unsafe { device_add(driver as WDFDRIVER, init as PWDFDEVICE_INIT) };
        pnp::check_irql(&self.core, "EvtDriverDeviceAdd");
        let mut state = lock(self.core.wdf());
        if state.device_inits.remove(&init).is_some() {
            state.delete_object(init);
        }
        if status < 0 || state.devices.is_empty() {
            return Err(HarnessError::DeviceAddFailed(status));
        }
        Ok(())
    }

    /// Opens a device by its user-mode path (`\\.\Name`) for synchronous I/O, enforcing its
    /// SDDL.
    pub fn open(&self, path: &str, access: Access, caller: Caller) -> Result<Handle, HarnessError> {
        self.open_with(path, access, caller, IoMode::Synchronous)
    }

    /// Opens a device by its user-mode path (`\\.\Name`), enforcing its SDDL.
    pub fn open_with(
        &self,
        path: &str,
        access: Access,
        caller: Caller,
        mode: IoMode,
    ) -> Result<Handle, HarnessError> {
        handle::open(&self.core, &self.open_handles, path, access, caller, mode)
    }

    /// DeviceIoControl with METHOD_BUFFERED semantics: checks the handle's access against the
    /// code's access bits, builds the shared system buffer, presents the request to the
    /// default queue's EvtIoDeviceControl and waits for the driver to complete it.
    ///
    /// On a handle opened for synchronous I/O the call first waits for any other call on the
    /// same handle to finish, as the I/O manager does. The queue presents a request only while
    /// fewer than its NumberOfPresentedRequests are in the driver's hands
    /// (FxIoQueue::DispatchEvents); a queue created with 0 never presents one, so the call fails
    /// at once with [`HarnessError::RuleBroken`] naming WDF_QUEUE_PRESENTS_NOTHING instead of
    /// hanging as it would on Windows.
    pub fn device_io_control(
        &self,
        handle: &Handle,
        code: u32,
        input: &[u8],
        output_len: usize,
    ) -> Result<IoResult, HarnessError> {
        let _entered = self.enter();
        if !self.loaded.load(Ordering::SeqCst) {
            return Err(HarnessError::NotLoaded);
        }
        ioctl::device_io_control(&self.core, handle, code, input, output_len)
    }

    /// Unloads the driver the orderly way (`devcon remove` / `pnputil /remove-device`, then
    /// `sc stop`): the PnP manager sends IRP_MN_QUERY_REMOVE_DEVICE, and with a handle open the
    /// query is vetoed (the I/O manager's open-handle check on the device stack), so nothing is
    /// removed or purged and the driver stays loaded: Windows then asks for a reboot. The
    /// returned report says so in [`Report::vetoed`] and is not cached: close the handles
    /// (drop them) and call again.
    ///
    /// Without open handles: removes the device (waiting, bounded, for its requests), runs the
    /// cleanup callbacks and EvtDriverUnload at PASSIVE_LEVEL, then checks for leaks.
    pub fn unload(&self) -> Report {
        self.unload_inner(false)
    }

    fn unload_inner(&self, ignore_handles: bool) -> Report {
        let mut cached = lock(&self.report);
        if let Some(report) = cached.as_ref() {
            return report.clone();
        }
        let _entered = self.enter();
        let open = self.open_handles.load(Ordering::SeqCst);
        if self.loaded.load(Ordering::SeqCst) && open > 0 && !ignore_handles {
            let removed = lock(self.core.wdf()).devices.is_empty();
            let veto = if removed {
                format!(
                    "{open} handle(s) still open after surprise removal: the remove waits for them to close, and the driver cannot unload before"
                )
            } else {
                format!(
                    "query-remove vetoed: {open} handle(s) open to the device; nothing was removed or purged and the driver stays loaded (Windows asks for a reboot)"
                )
            };
            self.core.note(format!("PnP: {veto}"));
            return Report {
                violations: lock(&self.core.violations).clone(),
                leaks: Vec::new(),
                vetoed: Some(veto),
            };
        }
        if self.loaded.swap(false, Ordering::SeqCst) {
            pnp::remove_devices(&self.core);
            pnp::unload_driver(&self.core);
        } else {
            // A client played by a test (`run`) unloads here too.
            pnp::check_completion_routines(&self.core);
        }
        let report = report::build(&self.core);
        *cached = Some(report.clone());
        report
    }

    /// Surprise removal (the device disappears; IRP_MN_SURPRISE_REMOVAL, which no handle can
    /// veto): KMDF purges the default queue, calling EvtIoStop with WdfRequestStopActionPurge
    /// once for each request the driver still owns, waits (bounded here) for every request to
    /// complete, and deletes the device. New requests are failed; open handles stay open until
    /// closed, and [`Kernel::unload`] then unloads the driver.
    pub fn surprise_remove(&self) {
        let _entered = self.enter();
        if self.loaded.load(Ordering::SeqCst) {
            self.core.note("PnP: surprise removal");
            pnp::remove_devices(&self.core);
        }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        if self.loaded.load(Ordering::SeqCst) && lock(&self.report).is_none() {
            // Tearing the kernel down with handles still open: the device goes as on surprise
            // removal, then the driver unloads regardless (the handles can no longer be used).
            self.surprise_remove();
            let _ = self.unload_inner(true);
        }
        boot::shutdown(&self.core);
    }
}
