//! The test bench: boot a kernel, load a driver (call its DriverEntry and deliver the
//! root-enumerated device), open its device, send it IOCTLs, unload it and read the report.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::kernel::{self, Kernel as Core, lock, rules};
pub use crate::kernel::{CounterSnapshot, KernelConfig, Violation};
use crate::sddl::{self, Caller};
use crate::types::*;
use crate::wdf::{ObjectKind, StopState};
use crate::{irp, pool};

/// A driver's entry point, as the driver exports it.
pub type DriverEntry = unsafe extern "system" fn(PDRIVER_OBJECT, PCUNICODE_STRING) -> NTSTATUS;

/// What a handle was opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// FILE_READ_DATA (GENERIC_READ).
    pub read: bool,
    /// FILE_WRITE_DATA (GENERIC_WRITE).
    pub write: bool,
}

impl Access {
    /// GENERIC_READ | GENERIC_WRITE.
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
    };
    /// GENERIC_READ.
    pub const READ: Access = Access {
        read: true,
        write: false,
    };
}

/// An open handle to the device. Dropping it closes it (CloseHandle): a device with open
/// handles cannot be removed in an orderly way (see [`Kernel::unload`]).
#[derive(Debug)]
pub struct Handle {
    access: Access,
    device: usize,
    /// For a handle opened for synchronous I/O (no FILE_FLAG_OVERLAPPED): the I/O manager
    /// serialises the calls on its file object (FO_SYNCHRONOUS_IO: IopXxxControlFile, behind
    /// NtDeviceIoControlFile, takes IopAcquireFileObjectLock), so two threads' DeviceIoControl
    /// calls on it never overlap.
    synchronous: Option<Arc<Mutex<()>>>,
    _open: OpenHandle,
}

impl Handle {
    /// The handle's file object, as requests record it.
    fn file(&self) -> usize {
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
    core: Arc<Core>,
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
        let cancelled = crate::wdf::cancel_queued(&mut lock(&self.core.wdf), |r| r.file == file);
        if cancelled > 0 {
            self.core.note(format!(
                "KMDF: handle closed: {cancelled} queued request(s) of its file object cancelled"
            ));
            self.core.wdf_changed.notify_all();
        }
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How a handle is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IoMode {
    /// CreateFile without FILE_FLAG_OVERLAPPED (what wskctl does): calls on the handle are
    /// serialised by the I/O manager.
    #[default]
    Synchronous,
    /// FILE_FLAG_OVERLAPPED: calls on the handle may be in the driver at the same time.
    Overlapped,
}

/// What DeviceIoControl returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoResult {
    /// The request's final status.
    pub status: NTSTATUS,
    /// Bytes the driver reported (Information).
    pub information: u64,
    /// The output bytes the I/O manager copies back: the first `information` bytes (for
    /// success and warning statuses), none for errors.
    pub output: Vec<u8>,
}

/// Why the harness could not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarnessError {
    /// DriverEntry failed with this status.
    DriverEntryFailed(NTSTATUS),
    /// EvtDriverDeviceAdd failed with this status, or created no device.
    DeviceAddFailed(NTSTATUS),
    /// No device answers to that path.
    NoSuchDevice(String),
    /// The device's security descriptor denies the caller.
    AccessDenied,
    /// The driver did not complete the request in time (a user thread would hang).
    RequestNotCompleted,
    /// No driver is loaded.
    NotLoaded,
    /// The request can never complete because the driver broke this rule (on Windows the
    /// caller would hang); the violation is also in the report.
    RuleBroken(Violation),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::DriverEntryFailed(s) => write!(f, "DriverEntry failed with {s:#010x}"),
            HarnessError::DeviceAddFailed(s) => {
                write!(f, "EvtDriverDeviceAdd failed with {s:#010x}")
            }
            HarnessError::NoSuchDevice(p) => write!(f, "no device is named {p}"),
            HarnessError::AccessDenied => {
                write!(f, "the device's security descriptor denies access")
            }
            HarnessError::RequestNotCompleted => {
                write!(f, "the driver did not complete the request in time")
            }
            HarnessError::NotLoaded => write!(f, "no driver is loaded"),
            HarnessError::RuleBroken(violation) => {
                write!(f, "the request can never complete: {violation}")
            }
        }
    }
}

impl std::error::Error for HarnessError {}

/// What unload found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every rule broken during the kernel's life, leaks included (rule LEAK).
    pub violations: Vec<Violation>,
    /// One line per kind of object with what was still outstanding (empty when clean).
    pub leaks: Vec<String>,
    /// Set when the unload did not happen: the PnP manager vetoed the orderly removal because
    /// handles were open (nothing was purged; the driver stays loaded).
    pub vetoed: Option<String>,
}

impl Report {
    /// No violation and no leak, and the driver really unloaded.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty() && self.leaks.is_empty() && self.vetoed.is_none()
    }

    /// Whether a violation of `rule` was recorded.
    pub fn broke(&self, rule: crate::Rule) -> bool {
        self.violations.iter().any(|v| v.rule == rule)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return write!(
                f,
                "clean: no rule broken; pool, IRPs, MDLs, sockets, registrations, captures and requests all returned"
            );
        }
        for violation in &self.violations {
            writeln!(f, "{violation}")?;
        }
        for leak in &self.leaks {
            writeln!(f, "leak: {leak}")?;
        }
        if let Some(veto) = &self.vetoed {
            writeln!(f, "not unloaded: {veto}")?;
        }
        Ok(())
    }
}

/// A booted kernel with (at most) one driver.
pub struct Kernel {
    core: Arc<Core>,
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
            core: Core::new(config),
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
    pub fn debug_output(&self) -> Vec<crate::DebugLine> {
        lock(&self.core.debug_output).clone()
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
    pub fn site_calls(&self, site: crate::FaultSite) -> u64 {
        self.core.site_calls(site)
    }

    /// Live pool allocations with `tag`: (count, bytes).
    pub fn pool_in_use(&self, tag: ULONG) -> (usize, usize) {
        lock(&self.core.pool)
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
        self.check_irql("DriverEntry");
        if status < 0 {
            // KMDF deletes a driver object whose DriverEntry failed: its cleanup callback
            // runs, EvtDriverUnload does not.
            self.delete_driver_object();
            return Err(HarnessError::DriverEntryFailed(status));
        }
        self.loaded.store(true, Ordering::SeqCst);
        let (driver, device_add) = {
            let mut state = lock(&self.core.wdf);
            let Some(driver) = state.driver else {
                return Err(HarnessError::DeviceAddFailed(crate::STATUS_UNSUCCESSFUL));
            };
            let init = state.new_object(ObjectKind::DeviceInit);
            state.device_inits.insert(init, Default::default());
            (driver, state.device_add.map(|f| (f, init)))
        };
        let Some((device_add, init)) = device_add else {
            return Err(HarnessError::DeviceAddFailed(crate::STATUS_UNSUCCESSFUL));
        };
        self.core
            .note("PnP: delivering Root\\WskSample to EvtDriverDeviceAdd");
        // SAFETY: the driver's callback with a live driver handle and a fresh device init.
        let status = unsafe { device_add(driver as WDFDRIVER, init as PWDFDEVICE_INIT) };
        self.check_irql("EvtDriverDeviceAdd");
        let mut state = lock(&self.core.wdf);
        if state.device_inits.remove(&init).is_some() {
            state.delete_object(init);
        }
        if status < 0 || state.devices.is_empty() {
            return Err(HarnessError::DeviceAddFailed(status));
        }
        Ok(())
    }

    fn check_irql(&self, callback: &str) {
        if kernel::irql() != kernel::PASSIVE {
            self.core.violate(
                rules::IRQL_NOT_RESTORED,
                format!("{callback} returned at IRQL {}", kernel::irql()),
            );
            kernel::set_irql(kernel::PASSIVE);
        }
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
        let link = path
            .strip_prefix(r"\\.\")
            .map(|name| format!(r"\DosDevices\{name}"));
        let state = lock(&self.core.wdf);
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
        self.open_handles.fetch_add(1, Ordering::SeqCst);
        Ok(Handle {
            access,
            device: device.handle,
            synchronous: (mode == IoMode::Synchronous).then(|| Arc::new(Mutex::new(()))),
            _open: OpenHandle {
                open: self.open_handles.clone(),
                core: self.core.clone(),
                file: NEXT_FILE.fetch_add(1, Ordering::Relaxed),
                closed: std::sync::atomic::AtomicBool::new(false),
            },
        })
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
        if handle._open.closed.load(Ordering::SeqCst) {
            return Ok(IoResult {
                status: crate::STATUS_INVALID_HANDLE,
                information: 0,
                output: Vec::new(),
            });
        }
        let required = (code >> 14) & 3;
        if (required & 1 != 0 && !handle.access.read) || (required & 2 != 0 && !handle.access.write)
        {
            return Ok(IoResult {
                status: crate::STATUS_ACCESS_DENIED,
                information: 0,
                output: Vec::new(),
            });
        }
        let _serialised = handle
            .synchronous
            .as_ref()
            .map(|lock| lock.lock().unwrap_or_else(|p| p.into_inner()));
        let fail = |status| {
            Ok(IoResult {
                status,
                information: 0,
                output: Vec::new(),
            })
        };
        let deadline = Instant::now() + self.core.config.request_timeout;
        let (request, queue, callback, passive) = {
            let mut state = lock(&self.core.wdf);
            loop {
                let Some(device) = state.devices.iter().find(|d| d.handle == handle.device) else {
                    return fail(crate::STATUS_DELETE_PENDING);
                };
                if device.purging {
                    // The queue is purging (surprise removal): FxIoQueue fails new requests
                    // with STATUS_CANCELLED.
                    return fail(crate::STATUS_CANCELLED);
                }
                let Some(queue) = device.default_queue else {
                    return fail(crate::STATUS_INVALID_DEVICE_REQUEST);
                };
                let Some(record) = state.queues.get(&queue) else {
                    return fail(crate::STATUS_INVALID_DEVICE_REQUEST);
                };
                let Some(callback) = record.device_control else {
                    return fail(crate::STATUS_INVALID_DEVICE_REQUEST);
                };
                if record.max_presented == 0 {
                    drop(state);
                    let violation = Violation {
                        rule: rules::WDF_QUEUE_PRESENTS_NOTHING,
                        detail: format!(
                            "IOCTL {code:#010x} sent to a parallel queue with NumberOfPresentedRequests = 0: it stays in the queue forever and DeviceIoControl never returns"
                        ),
                    };
                    self.core.violate(violation.rule, violation.detail.clone());
                    return Err(HarnessError::RuleBroken(violation));
                }
                let (max, passive) = (record.max_presented, record.passive);
                let presented = state
                    .requests
                    .values()
                    .filter(|r| r.queue == queue && r.completion.is_none())
                    .count();
                if (presented as u64) < u64::from(max) {
                    // Poison the part of the system buffer past the input so an output field
                    // the driver forgot to write shows up as 0xC5 bytes.
                    let mut buffer = vec![pool::UNINITIALIZED_FILL; input.len().max(output_len)];
                    buffer[..input.len()].copy_from_slice(input);
                    let request = state.new_object(ObjectKind::Request);
                    state.requests.insert(
                        request,
                        crate::wdf::RequestRecord {
                            buffer,
                            input_len: input.len(),
                            output_len,
                            completion: None,
                            queue,
                            stop: StopState::NotNotified,
                            file: handle.file(),
                            queued: false,
                        },
                    );
                    state.dispatching += 1;
                    break (request, queue, callback, passive);
                }
                // The request waits in the queue until the driver completes one it holds.
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    return Err(HarnessError::RequestNotCompleted);
                };
                state = self
                    .core
                    .wdf_changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        };
        // KMDF presents requests at PASSIVE_LEVEL only when the queue's execution level (its
        // own, or inherited from the device and the driver) asks for it.
        let level = if passive {
            kernel::PASSIVE
        } else {
            kernel::DISPATCH
        };
        kernel::set_irql(level);
        // SAFETY: the driver's callback with live queue and request handles.
        unsafe {
            callback(
                queue as WDFQUEUE,
                request as WDFREQUEST,
                output_len,
                input.len(),
                code,
            )
        };
        {
            let mut state = lock(&self.core.wdf);
            state.dispatching -= 1;
            self.core.wdf_changed.notify_all();
        }
        if kernel::irql() != level {
            self.core.violate(
                rules::IRQL_NOT_RESTORED,
                format!("EvtIoDeviceControl returned at IRQL {}", kernel::irql()),
            );
        }
        kernel::set_irql(kernel::PASSIVE);
        let result = self.wait_for(request);
        pool::check_recent(&self.core, "after a DeviceIoControl");
        result
    }

    fn wait_for(&self, request: usize) -> Result<IoResult, HarnessError> {
        let deadline = Instant::now() + self.core.config.request_timeout;
        let mut state = lock(&self.core.wdf);
        loop {
            let completion = state.requests.get(&request).and_then(|r| r.completion);
            if let Some((status, information)) = completion {
                let record = state.requests.remove(&request);
                state.delete_object(request);
                let mut output = Vec::new();
                // The I/O manager (IopCompleteRequest, IRP_BUFFERED_IO with
                // IRP_INPUT_OPERATION) copies a buffered IOCTL's output back unless the status
                // is an error (NT_ERROR: severity 3): success, informational and warning
                // statuses (e.g. STATUS_BUFFER_OVERFLOW) all copy Information bytes.
                let nt_error = (status as u32) >> 30 == 3;
                if !nt_error && let Some(record) = record {
                    let copied = (information as usize).min(record.output_len);
                    output = record.buffer[..copied].to_vec();
                }
                return Ok(IoResult {
                    status,
                    information,
                    output,
                });
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err(HarnessError::RequestNotCompleted);
            };
            state = self
                .core
                .wdf_changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
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
            let removed = lock(&self.core.wdf).devices.is_empty();
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
            self.remove_devices();
            self.unload_driver();
        } else {
            // A client played by a test (`run`) unloads here too.
            self.check_completion_routines();
        }
        let report = self.build_report();
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
            self.remove_devices();
        }
    }

    fn remove_devices(&self) {
        let core = &self.core;
        core.note("PnP: removing the device");
        {
            let mut state = lock(&core.wdf);
            for device in state.devices.iter_mut() {
                device.purging = true;
            }
            // The purge cancels what waits in the queues (FxIoQueue::QueuePurge: requests
            // not yet presented are completed with STATUS_CANCELLED).
            let cancelled = crate::wdf::cancel_queued(&mut state, |_| true);
            drop(state);
            if cancelled > 0 {
                core.note(format!(
                    "KMDF: purge cancelled {cancelled} queued request(s)"
                ));
                core.wdf_changed.notify_all();
            }
        }
        self.stop_outstanding_requests();
        let deadline = Instant::now() + core.config.request_timeout;
        let mut state = lock(&core.wdf);
        loop {
            let outstanding = state
                .requests
                .values()
                .filter(|r| r.completion.is_none())
                .count();
            // The purge also waits until no EvtIoDeviceControl is still running (see
            // `WdfState::dispatching`): only then does the device's cleanup run.
            if outstanding == 0 && state.dispatching == 0 {
                break;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                let dispatching = state.dispatching;
                drop(state);
                core.violate(rules::WDF_REQUEST_NOT_COMPLETED, format!("{outstanding} request(s) still outstanding and {dispatching} EvtIoDeviceControl call(s) still running at device removal: KMDF would wait forever"));
                state = lock(&core.wdf);
                break;
            };
            state = core
                .wdf_changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let devices = std::mem::take(&mut state.devices);
        drop(state);
        for device in devices {
            let cleanups = {
                let mut state = lock(&core.wdf);
                let mut cleanups = Vec::new();
                for q in device.default_queue.iter().chain(&device.other_queues) {
                    state.queues.remove(q);
                    cleanups.extend(
                        state
                            .objects
                            .get(q)
                            .and_then(|o| o.cleanup)
                            .map(|f| (f, *q)),
                    );
                }
                cleanups.extend(
                    state
                        .objects
                        .get(&device.handle)
                        .and_then(|o| o.cleanup)
                        .map(|f| (f, device.handle)),
                );
                cleanups
            };
            for (cleanup, object) in cleanups {
                // SAFETY: the driver's cleanup callback for an object that is still live.
                unsafe { cleanup(object as WDFOBJECT) };
                self.check_irql("EvtCleanupCallback");
            }
            let mut state = lock(&core.wdf);
            for queue in device.default_queue.iter().chain(&device.other_queues) {
                state.delete_object(*queue);
            }
            state.delete_object(device.handle);
            drop(state);
            crate::devobj::delete_device(core, device.handle);
        }
        crate::devobj::all_devices_gone(core);
    }

    /// The purge's notification loop, as FxIoQueue::ProcessPowerEvents does it
    /// (FxIoQueuePowerPurgeNotifyingDriver, fxioqueue.cpp): one request at a time, taken from
    /// the driver-owned list under the queue lock, EvtIoStop called with the lock dropped. A
    /// request the driver completes meanwhile leaves the list, so it is never notified; one
    /// already notified is not notified again.
    fn stop_outstanding_requests(&self) {
        loop {
            let next = {
                let mut state = lock(&self.core.wdf);
                let found = state
                    .requests
                    .iter()
                    .filter(|(_, r)| {
                        r.completion.is_none() && !r.queued && r.stop == StopState::NotNotified
                    })
                    .map(|(&request, r)| (request, r.queue))
                    .min();
                let Some((request, queue)) = found else {
                    break;
                };
                let stop = state.queues.get(&queue).and_then(|q| q.io_stop);
                let passive = state.queues.get(&queue).is_some_and(|q| q.passive);
                if let Some(record) = state.requests.get_mut(&request) {
                    record.stop = StopState::Notified;
                }
                stop.map(|f| (f, queue, request, passive))
            };
            // Without EvtIoStop the framework just waits for the driver to complete it.
            let Some((io_stop, queue, request, passive)) = next else {
                continue;
            };
            self.core
                .note("KMDF: EvtIoStop (purge) for a request the driver owns");
            let level = if passive {
                kernel::PASSIVE
            } else {
                kernel::DISPATCH
            };
            kernel::set_irql(level);
            // SAFETY: the driver's callback with its live queue and a request it owns.
            unsafe {
                io_stop(
                    queue as WDFQUEUE,
                    request as WDFREQUEST,
                    _WDF_REQUEST_STOP_ACTION_FLAGS::WdfRequestStopActionPurge as ULONG,
                )
            };
            if kernel::irql() != level {
                self.core.violate(
                    rules::IRQL_NOT_RESTORED,
                    format!("EvtIoStop returned at IRQL {}", kernel::irql()),
                );
            }
            kernel::set_irql(kernel::PASSIVE);
        }
    }

    fn unload_driver(&self) {
        let core = &self.core;
        let (driver, unload) = {
            let state = lock(&core.wdf);
            (state.driver, state.unload)
        };
        let Some(driver) = driver else { return };
        // The I/O manager unloads a driver only once its device objects are deleted, and a
        // referenced one (IoSetCompletionRoutineEx holds one until its routine has returned)
        // is deleted only when the last reference drops (Learn, IoDeleteDevice).
        crate::devobj::wait_unreferenced(core);
        if let Some(unload) = unload {
            core.note("kernel: calling EvtDriverUnload");
            // SAFETY: the driver's unload callback with its live driver handle.
            unsafe { unload(driver as WDFDRIVER) };
            self.check_irql("EvtDriverUnload");
        }
        self.delete_driver_object();
        self.check_completion_routines();
    }

    /// After unload no completion routine of the driver may still run: its code is about to
    /// be unmapped.
    fn check_completion_routines(&self) {
        let core = &self.core;
        // A routine that has signalled its waiter may still be returning (its epilogue); give
        // it a moment. One still running after that is doing real work in an unloaded driver.
        let grace = Instant::now() + std::time::Duration::from_millis(500);
        let mut running = core.completion_routines_running.load(Ordering::SeqCst);
        while running > 0 && Instant::now() < grace {
            std::thread::sleep(std::time::Duration::from_millis(1));
            running = core.completion_routines_running.load(Ordering::SeqCst);
        }
        if running > 0 {
            core.violate(
                rules::UNLOAD_WITH_COMPLETION_RUNNING,
                format!("{running} completion routine(s) still running when the driver unloaded"),
            );
        }
    }

    /// Runs the driver object's cleanup callback and deletes it.
    fn delete_driver_object(&self) {
        let core = &self.core;
        let (driver, cleanup) = {
            let state = lock(&core.wdf);
            let Some(driver) = state.driver else { return };
            (driver, state.objects.get(&driver).and_then(|o| o.cleanup))
        };
        if let Some(cleanup) = cleanup {
            // SAFETY: the driver's cleanup callback for its still-live driver object.
            unsafe { cleanup(driver as WDFOBJECT) };
        }
        let mut state = lock(&core.wdf);
        state.delete_object(driver);
        state.driver = None;
    }

    fn build_report(&self) -> Report {
        let core = &self.core;
        pool::check_all(core, "at unload");
        let mut leaks = Vec::new();
        let pool_tags = lock(&core.pool).by_tag();
        let mut tags: Vec<_> = pool_tags.into_iter().collect();
        tags.sort();
        for (tag, (count, bytes)) in tags {
            leaks.push(format!(
                "pool tag '{}': {count} allocation(s), {bytes} bytes",
                pool::tag_name(tag)
            ));
        }
        let irps = irp::live_irps(core);
        if !irps.is_empty() {
            leaks.push(format!("{} IRP(s) never freed: {irps:x?}", irps.len()));
        }
        let references = crate::devobj::references_left(core);
        if references > 0 {
            leaks.push(format!(
                "{references} device object reference(s) never dropped (IoSetCompletionRoutineEx contexts of IRPs never sent)"
            ));
        }
        let mdls = lock(&core.mdls).live.len();
        if mdls > 0 {
            leaks.push(format!("{mdls} MDL(s) never freed"));
        }
        {
            let wsk = core.wsk.lock();
            if !wsk.sockets.is_empty() {
                leaks.push(format!("{} socket(s) never closed", wsk.sockets.len()));
            }
            let registrations = wsk.registrations.len();
            let captures: u32 = wsk.registrations.values().map(|r| r.captures).sum();
            drop(wsk);
            if registrations > 0 {
                leaks.push(format!(
                    "{registrations} WSK registration(s) never deregistered"
                ));
                core.violate(
                    rules::WSK_UNLOAD_WITH_REGISTRATION,
                    format!("{registrations} WSK registration(s) alive after unload"),
                );
            }
            if captures > 0 {
                leaks.push(format!("{captures} provider NPI capture(s) never released"));
                core.violate(
                    rules::WSK_UNLOAD_WITH_CAPTURE,
                    format!("{captures} provider NPI capture(s) held after unload"),
                );
            }
        }
        let state = lock(&core.wdf);
        let requests = state
            .requests
            .values()
            .filter(|r| r.completion.is_none())
            .count();
        if requests > 0 {
            leaks.push(format!("{requests} request(s) never completed"));
        }
        // A completed request waiting for its caller to pick up the result is, on Windows,
        // already gone from the framework; only the caller's copy of the result remains.
        let awaiting_pickup = |handle: &usize| {
            state
                .requests
                .get(handle)
                .is_some_and(|r| r.completion.is_some())
        };
        let objects: HashMap<String, usize> = state
            .objects
            .iter()
            .filter(|(handle, _)| !awaiting_pickup(handle))
            .fold(HashMap::new(), |mut m, (_, o)| {
                *m.entry(format!("{:?}", o.kind)).or_default() += 1;
                m
            });
        drop(state);
        for (kind, count) in objects {
            leaks.push(format!("{count} WDF {kind} object(s) never deleted"));
        }
        for leak in &leaks {
            core.violate(rules::LEAK, leak.clone());
        }
        Report {
            violations: lock(&core.violations).clone(),
            leaks,
            vetoed: None,
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
        self.core.set_trace_sink(None);
        self.core.workers.shutdown();
    }
}
