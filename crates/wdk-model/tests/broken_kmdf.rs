//! The model's KMDF self-tests: a small KMDF driver written here (a device, a default parallel
//! queue, EvtIoDeviceControl and EvtIoStop), run through the harness the way the real driver
//! is. It is first done right (a clean report), then broken in one way per test, each break
//! caught under the rule it breaks; the rest pin behaviours the model takes from Microsoft's
//! KMDF source (fxioqueue.cpp, fxrequest.cpp, fxdeviceapi.cpp, ...), each able to fail against
//! the model as it was before (docs/ARCHITECTURE.md, "KMDF as the framework does it").
//!
//! The driver's callbacks are plain functions, so its state lives in statics; the tests take
//! a lock so that they run one at a time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use wdk_model::harness::{Access, Handle, HarnessError, IoMode, Kernel, Report};
use wdk_model::ntddk::KeGetCurrentIrql;
use wdk_model::wdf::*;
use wdk_model::*;

const DEVICE_NAME: &str = r"\Device\KmdfSelfTest";
const LINK_NAME: &str = r"\DosDevices\KmdfSelfTest";
const USER_PATH: &str = r"\\.\KmdfSelfTest";
const SDDL: &str = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";
const IOCTL: u32 = 0x0022_2000; // FILE_DEVICE_UNKNOWN, function 0x800, METHOD_BUFFERED, ANY
const STATUS_BUFFER_OVERFLOW: NTSTATUS = 0x8000_0005_u32 as NTSTATUS;

/// What EvtIoDeviceControl does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnRequest {
    /// Completes it with STATUS_SUCCESS.
    Complete,
    /// Keeps it (in HELD) until EvtIoStop.
    Hold,
    /// Acknowledges a stop nobody asked for, then completes it.
    AcknowledgeThenComplete,
    /// Writes 4 output bytes and completes with a warning (STATUS_BUFFER_OVERFLOW), Information 4.
    CompleteWithWarning,
    /// Completes with success and Information 8.
    CompleteWithInformation8,
    /// Waits (bounded) for a second request to be in the driver too, then completes.
    WaitForCompany,
}

/// What EvtIoStop does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnStop {
    /// Completes every request the driver holds (as the real driver's cancel-all does).
    CompleteAllHeld,
    /// Acknowledges the request twice, then completes it.
    AcknowledgeTwice,
    /// Acknowledges with Requeue and leaves the request to the framework.
    AcknowledgeWithRequeue,
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    presented: u32,
    driver_level: WDF_EXECUTION_LEVEL,
    device_level: WDF_EXECUTION_LEVEL,
    on_request: OnRequest,
    on_stop: OnStop,
    second_link: bool,
    name: bool,
    sddl_before_name: bool,
    /// Spoils the driver config or attributes in DriverEntry.
    driver_break: Option<DriverBreak>,
    /// Spoils the queue config.
    queue_break: Option<QueueBreak>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DriverBreak {
    ConfigSize,
    UnknownInitFlag,
    NonPnpWithDeviceAdd,
    ContextSizeOverrideWithoutType,
    ParentObject,
    CreatedTwice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QueueBreak {
    Size,
    DispatchInvalid,
    NoCallback,
    SequentialWithPresentedCount,
    PowerManagedOutOfRange,
    SecondDefaultQueue,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            presented: u32::MAX,
            driver_level: _WDF_EXECUTION_LEVEL::WdfExecutionLevelInheritFromParent,
            device_level: _WDF_EXECUTION_LEVEL::WdfExecutionLevelInheritFromParent,
            on_request: OnRequest::Complete,
            on_stop: OnStop::CompleteAllHeld,
            second_link: false,
            name: true,
            sddl_before_name: false,
            driver_break: None,
            queue_break: None,
        }
    }
}

static SERIAL: Mutex<()> = Mutex::new(());
static PLAN: Mutex<Option<Plan>> = Mutex::new(None);
static HELD: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static LEVELS: Mutex<Vec<KIRQL>> = Mutex::new(Vec::new());
static LINK_STATUSES: Mutex<Vec<NTSTATUS>> = Mutex::new(Vec::new());
static STOPS: AtomicUsize = AtomicUsize::new(0);
static IN_DRIVER: AtomicUsize = AtomicUsize::new(0);
static MOST_IN_DRIVER: AtomicUsize = AtomicUsize::new(0);

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn plan() -> Plan {
    locked(&PLAN).unwrap_or_default()
}

/// Takes the test lock and sets the driver's plan, clearing what the last test left.
fn setup(plan: Plan) -> MutexGuard<'static, ()> {
    let guard = locked(&SERIAL);
    *locked(&PLAN) = Some(plan);
    locked(&HELD).clear();
    locked(&LEVELS).clear();
    locked(&LINK_STATUSES).clear();
    STOPS.store(0, Ordering::SeqCst);
    IN_DRIVER.store(0, Ordering::SeqCst);
    MOST_IN_DRIVER.store(0, Ordering::SeqCst);
    guard
}

/// A UNICODE_STRING over `text`, which must outlive its use.
fn unicode(text: &[u16]) -> UNICODE_STRING {
    let bytes = (text.len() * 2) as u16;
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: text.as_ptr().cast_mut(),
    }
}

fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

/// WDF_OBJECT_ATTRIBUTES_INIT with this execution level.
fn attributes(level: WDF_EXECUTION_LEVEL) -> WDF_OBJECT_ATTRIBUTES {
    WDF_OBJECT_ATTRIBUTES {
        Size: size_of::<WDF_OBJECT_ATTRIBUTES>() as u32,
        ExecutionLevel: level,
        SynchronizationScope: _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeInheritFromParent,
        ..WDF_OBJECT_ATTRIBUTES::default()
    }
}

unsafe extern "system" fn driver_entry(driver: PDRIVER_OBJECT, path: PCUNICODE_STRING) -> NTSTATUS {
    let mut config = WDF_DRIVER_CONFIG {
        Size: size_of::<WDF_DRIVER_CONFIG>() as u32,
        EvtDriverDeviceAdd: Some(device_add),
        ..WDF_DRIVER_CONFIG::default()
    };
    let plan = plan();
    let mut attributes = attributes(plan.driver_level);
    match plan.driver_break {
        Some(DriverBreak::ConfigSize) => config.Size -= 4,
        Some(DriverBreak::UnknownInitFlag) => config.DriverInitFlags = 0x100,
        // WdfDriverInitNonPnpDriver.
        Some(DriverBreak::NonPnpWithDeviceAdd) => config.DriverInitFlags = 1,
        Some(DriverBreak::ContextSizeOverrideWithoutType) => attributes.ContextSizeOverride = 64,
        Some(DriverBreak::ParentObject) => attributes.ParentObject = driver.cast(),
        Some(DriverBreak::CreatedTwice) | None => {}
    }
    let mut handle: WDFDRIVER = core::ptr::null_mut();
    // SAFETY: the system's driver object and path; our config and attributes.
    let status =
        unsafe { WdfDriverCreate(driver, path, &mut attributes, &mut config, &mut handle) };
    if status < 0 || plan.driver_break != Some(DriverBreak::CreatedTwice) {
        return status;
    }
    // SAFETY: as above.
    unsafe { WdfDriverCreate(driver, path, &mut attributes, &mut config, &mut handle) }
}

unsafe extern "C" fn device_add(_driver: WDFDRIVER, mut init: PWDFDEVICE_INIT) -> NTSTATUS {
    let plan = plan();
    let (name, sddl, link) = (utf16(DEVICE_NAME), utf16(SDDL), utf16(LINK_NAME));
    let (name, sddl, link) = (unicode(&name), unicode(&sddl), unicode(&link));
    // SAFETY: the framework's device init and strings that outlive the calls.
    unsafe {
        if plan.sddl_before_name {
            let status = WdfDeviceInitAssignSDDLString(init, &sddl);
            if status < 0 {
                return status;
            }
        }
        if plan.name {
            let status = WdfDeviceInitAssignName(init, &name);
            if status < 0 {
                return status;
            }
        }
        if !plan.sddl_before_name {
            let status = WdfDeviceInitAssignSDDLString(init, &sddl);
            if status < 0 {
                return status;
            }
        }
    }
    let mut attributes = attributes(plan.device_level);
    let mut device: WDFDEVICE = core::ptr::null_mut();
    // SAFETY: as above; the framework takes `init` on success.
    let status = unsafe { WdfDeviceCreate(&mut init, &mut attributes, &mut device) };
    if status < 0 {
        return status;
    }
    // SAFETY: a live device and a name that outlives the call.
    let status = unsafe { WdfDeviceCreateSymbolicLink(device, &link) };
    locked(&LINK_STATUSES).push(status);
    if status < 0 {
        return status;
    }
    if plan.second_link {
        let second = utf16(r"\DosDevices\KmdfSelfTest2");
        // SAFETY: as above.
        let status = unsafe { WdfDeviceCreateSymbolicLink(device, &unicode(&second)) };
        locked(&LINK_STATUSES).push(status);
    }
    let mut config = WDF_IO_QUEUE_CONFIG {
        Size: size_of::<WDF_IO_QUEUE_CONFIG>() as u32,
        DispatchType: _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchParallel,
        PowerManaged: _WDF_TRI_STATE::WdfFalse,
        DefaultQueue: 1,
        EvtIoDeviceControl: Some(device_control),
        EvtIoStop: Some(io_stop),
        ..WDF_IO_QUEUE_CONFIG::default()
    };
    config.Settings.Parallel.NumberOfPresentedRequests = plan.presented;
    match plan.queue_break {
        Some(QueueBreak::Size) => config.Size -= 8,
        Some(QueueBreak::DispatchInvalid) => config.DispatchType = 0,
        Some(QueueBreak::NoCallback) => config.EvtIoDeviceControl = None,
        Some(QueueBreak::SequentialWithPresentedCount) => {
            config.DispatchType = _WDF_IO_QUEUE_DISPATCH_TYPE::WdfIoQueueDispatchSequential
        }
        Some(QueueBreak::PowerManagedOutOfRange) => config.PowerManaged = 7,
        Some(QueueBreak::SecondDefaultQueue) => {
            let mut queue: WDFQUEUE = core::ptr::null_mut();
            // SAFETY: a live device and our config.
            let status =
                unsafe { WdfIoQueueCreate(device, &mut config, core::ptr::null_mut(), &mut queue) };
            if status < 0 {
                return status;
            }
        }
        None => {}
    }
    let mut queue: WDFQUEUE = core::ptr::null_mut();
    // SAFETY: a live device and our config.
    unsafe { WdfIoQueueCreate(device, &mut config, core::ptr::null_mut(), &mut queue) }
}

unsafe extern "C" fn device_control(
    _queue: WDFQUEUE,
    request: WDFREQUEST,
    _output_length: usize,
    _input_length: usize,
    _code: ULONG,
) {
    // SAFETY: a kernel routine, called from a callback.
    locked(&LEVELS).push(unsafe { KeGetCurrentIrql() });
    match plan().on_request {
        OnRequest::Complete => {
            // SAFETY: a request the framework presented and we have not completed.
            unsafe { WdfRequestComplete(request, STATUS_SUCCESS) }
        }
        OnRequest::Hold => locked(&HELD).push(request as usize),
        OnRequest::AcknowledgeThenComplete => {
            // SAFETY: as above (the acknowledgement outside EvtIoStop is the break).
            unsafe {
                WdfRequestStopAcknowledge(request, 0);
                WdfRequestComplete(request, STATUS_SUCCESS);
            }
        }
        OnRequest::CompleteWithWarning => {
            let mut buffer: PVOID = core::ptr::null_mut();
            // SAFETY: as above; the output is ours.
            let status = unsafe {
                WdfRequestRetrieveOutputBuffer(request, 4, &mut buffer, core::ptr::null_mut())
            };
            if status < 0 {
                // SAFETY: as above.
                unsafe { WdfRequestComplete(request, status) };
                return;
            }
            // SAFETY: the framework returned at least 4 writable bytes; then as above.
            unsafe {
                buffer.cast::<[u8; 4]>().write(*b"WARN");
                WdfRequestCompleteWithInformation(request, STATUS_BUFFER_OVERFLOW, 4);
            }
        }
        OnRequest::CompleteWithInformation8 => {
            // SAFETY: as above.
            unsafe { WdfRequestCompleteWithInformation(request, STATUS_SUCCESS, 8) }
        }
        OnRequest::WaitForCompany => {
            let now = IN_DRIVER.fetch_add(1, Ordering::SeqCst) + 1;
            MOST_IN_DRIVER.fetch_max(now, Ordering::SeqCst);
            // Long enough that a busy machine cannot make two overlapping calls look serial.
            let deadline = Instant::now() + Duration::from_secs(2);
            while IN_DRIVER.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            MOST_IN_DRIVER.fetch_max(IN_DRIVER.load(Ordering::SeqCst), Ordering::SeqCst);
            // Stay until the other one has seen us too.
            std::thread::sleep(Duration::from_millis(20));
            IN_DRIVER.fetch_sub(1, Ordering::SeqCst);
            // SAFETY: as above.
            unsafe { WdfRequestComplete(request, STATUS_SUCCESS) }
        }
    }
}

unsafe extern "C" fn io_stop(_queue: WDFQUEUE, request: WDFREQUEST, _flags: ULONG) {
    STOPS.fetch_add(1, Ordering::SeqCst);
    match plan().on_stop {
        OnStop::CompleteAllHeld => {
            let held: Vec<usize> = locked(&HELD).drain(..).collect();
            for request in held {
                // SAFETY: requests we hold and have not completed.
                unsafe { WdfRequestComplete(request as WDFREQUEST, STATUS_CANCELLED) };
            }
        }
        OnStop::AcknowledgeTwice => {
            locked(&HELD).retain(|&r| r != request as usize);
            // SAFETY: the request being stopped (the second acknowledgement is the break).
            unsafe {
                WdfRequestStopAcknowledge(request, 0);
                WdfRequestStopAcknowledge(request, 0);
                WdfRequestComplete(request, STATUS_CANCELLED);
            }
        }
        OnStop::AcknowledgeWithRequeue => {
            locked(&HELD).retain(|&r| r != request as usize);
            // SAFETY: the request being stopped, acknowledged once; it is the framework's now.
            unsafe { WdfRequestStopAcknowledge(request, 1) };
        }
    }
}

fn load(config: KernelConfig) -> Kernel {
    let mut kernel = Kernel::boot(config);
    kernel
        .load(driver_entry)
        .expect("the self-test driver loads");
    kernel
}

fn open(kernel: &Kernel, mode: IoMode) -> Handle {
    kernel
        .open_with(USER_PATH, Access::READ_WRITE, Caller::Administrator, mode)
        .expect("the device opens")
}

fn ioctl(
    kernel: &Kernel,
    handle: &Handle,
    output: usize,
) -> Result<(NTSTATUS, Vec<u8>), HarnessError> {
    kernel
        .device_io_control(handle, IOCTL, b"in", output)
        .map(|r| (r.status, r.output))
}

fn assert_broke(report: &Report, rule: Rule) {
    assert!(
        report.broke(rule),
        "expected {} in the report, got:\n{report}",
        rule.id
    );
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected a clean report:\n{report}");
}

/// Loads the driver, sends one IOCTL (no output) on a handle opened for synchronous I/O, which
/// must succeed, closes the handle and unloads; returns the report.
fn one_request() -> Report {
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Synchronous);
    assert_eq!(ioctl(&kernel, &handle, 0).map(|r| r.0), Ok(STATUS_SUCCESS));
    drop(handle);
    kernel.unload()
}

/// Sends two IOCTLs at once on `handle`; both must succeed.
fn two_at_once(kernel: &Kernel, handle: &Handle) {
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..2)
            .map(|_| s.spawn(|| ioctl(kernel, handle, 0).map(|r| r.0)))
            .collect();
        for call in calls {
            assert_eq!(call.join().expect("caller"), Ok(STATUS_SUCCESS));
        }
    });
}

/// The driver holds one request (its EvtIoStop does `on_stop`); a surprise removal must get it
/// cancelled. Closes the handle and unloads; returns the report.
fn a_held_request_surprise_removed(on_stop: OnStop) -> Report {
    let _serial = setup(Plan {
        on_request: OnRequest::Hold,
        on_stop,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Overlapped);
    std::thread::scope(|s| {
        let call = s.spawn(|| ioctl(&kernel, &handle, 0).map(|r| r.0));
        wait_until("the driver holds the request", || locked(&HELD).len() == 1);
        kernel.surprise_remove();
        assert_eq!(call.join().expect("caller"), Ok(STATUS_CANCELLED));
    });
    drop(handle);
    kernel.unload()
}

/// With `plan`, loading the driver must fail with `expected` and be reported as WDF_BAD_CONFIG.
fn bad_config_refused(plan: Plan, expected: HarnessError, what: &str) {
    let _serial = setup(plan);
    let mut kernel = Kernel::boot(KernelConfig::default());
    assert_eq!(kernel.load(driver_entry), Err(expected), "{what}");
    assert_broke(&kernel.unload(), rules::WDF_BAD_CONFIG);
}

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_correct_kmdf_driver_leaves_a_clean_report() {
    let _serial = setup(Plan::default());
    assert_clean(&one_request());
}

#[test]
fn a_queue_that_presents_no_requests_is_named_and_fails_the_first_request_fast() {
    let _serial = setup(Plan {
        presented: 0,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    assert!(
        kernel
            .violations()
            .iter()
            .any(|v| v.rule == rules::WDF_QUEUE_PRESENTS_NOTHING),
        "WdfIoQueueCreate with NumberOfPresentedRequests = 0 was not reported"
    );
    let handle = open(&kernel, IoMode::Synchronous);
    let started = Instant::now();
    match ioctl(&kernel, &handle, 0) {
        Err(HarnessError::RuleBroken(v)) => assert_eq!(v.rule, rules::WDF_QUEUE_PRESENTS_NOTHING),
        other => panic!("expected the rule, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the harness waited instead of failing fast"
    );
    assert!(locked(&LEVELS).is_empty(), "a request was presented");
    drop(handle);
    assert_broke(&kernel.unload(), rules::WDF_QUEUE_PRESENTS_NOTHING);
}

#[test]
fn number_of_presented_requests_bounds_what_the_driver_holds() {
    for (presented, expected) in [(1, 1), (u32::MAX, 2)] {
        let _serial = setup(Plan {
            presented,
            on_request: OnRequest::WaitForCompany,
            ..Plan::default()
        });
        let kernel = load(KernelConfig::default());
        let handle = open(&kernel, IoMode::Overlapped);
        two_at_once(&kernel, &handle);
        assert_eq!(
            MOST_IN_DRIVER.load(Ordering::SeqCst),
            expected,
            "NumberOfPresentedRequests {presented}"
        );
        drop(handle);
        assert_clean(&kernel.unload());
    }
}

#[test]
fn calls_on_a_handle_opened_for_synchronous_io_never_overlap() {
    for (mode, expected) in [(IoMode::Synchronous, 1), (IoMode::Overlapped, 2)] {
        let _serial = setup(Plan {
            on_request: OnRequest::WaitForCompany,
            ..Plan::default()
        });
        let kernel = load(KernelConfig::default());
        let handle = open(&kernel, mode);
        two_at_once(&kernel, &handle);
        assert_eq!(MOST_IN_DRIVER.load(Ordering::SeqCst), expected, "{mode:?}");
        drop(handle);
        assert_clean(&kernel.unload());
    }
}

#[test]
fn stop_acknowledge_outside_evt_io_stop_is_caught() {
    let _serial = setup(Plan {
        on_request: OnRequest::AcknowledgeThenComplete,
        ..Plan::default()
    });
    assert_broke(&one_request(), rules::WDF_STOP_ACK_NOT_STOPPING);
}

#[test]
fn a_stop_acknowledged_twice_is_caught() {
    let report = a_held_request_surprise_removed(OnStop::AcknowledgeTwice);
    assert_broke(&report, rules::WDF_STOP_ACK_NOT_STOPPING);
}

#[test]
fn evt_io_stop_comes_once_per_request_the_driver_still_owns() {
    let _serial = setup(Plan {
        on_request: OnRequest::Hold,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Overlapped);
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..3)
            .map(|_| s.spawn(|| ioctl(&kernel, &handle, 0).map(|r| r.0)))
            .collect();
        wait_until("the driver holds three requests", || {
            locked(&HELD).len() == 3
        });
        kernel.surprise_remove();
        for call in calls {
            assert_eq!(call.join().expect("caller"), Ok(STATUS_CANCELLED));
        }
    });
    // The first EvtIoStop completed all three: the others are no longer the driver's.
    assert_eq!(STOPS.load(Ordering::SeqCst), 1);
    drop(handle);
    assert_clean(&kernel.unload());
}

#[test]
fn an_orderly_removal_with_an_open_handle_is_vetoed_and_purges_nothing() {
    let _serial = setup(Plan {
        on_request: OnRequest::Hold,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Overlapped);
    std::thread::scope(|s| {
        let call = s.spawn(|| ioctl(&kernel, &handle, 0).map(|r| r.0));
        wait_until("the driver holds the request", || locked(&HELD).len() == 1);
        let vetoed = kernel.unload();
        assert!(vetoed.vetoed.is_some(), "{vetoed}");
        assert!(!vetoed.is_clean());
        assert_eq!(STOPS.load(Ordering::SeqCst), 0, "a vetoed removal purged");
        assert_eq!(locked(&HELD).len(), 1);
        // Surprise removal is not vetoed: the purge reaches the driver.
        kernel.surprise_remove();
        assert_eq!(STOPS.load(Ordering::SeqCst), 1);
        assert_eq!(call.join().expect("caller"), Ok(STATUS_CANCELLED));
    });
    // Still open: the driver cannot unload yet.
    assert!(kernel.unload().vetoed.is_some());
    assert_eq!(
        ioctl(&kernel, &handle, 0).map(|r| r.0),
        Ok(STATUS_DELETE_PENDING)
    );
    drop(handle);
    assert_clean(&kernel.unload());
}

#[test]
fn information_past_the_output_buffer_is_caught_only_when_there_is_an_output_buffer() {
    let _serial = setup(Plan {
        on_request: OnRequest::CompleteWithInformation8,
        ..Plan::default()
    });
    // With no output buffer the Information may count input bytes used: no check.
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Synchronous);
    assert_eq!(ioctl(&kernel, &handle, 0), Ok((STATUS_SUCCESS, Vec::new())));
    drop(handle);
    assert_clean(&kernel.unload());
    // With 4 bytes of output, 8 is the verifier's bugcheck (the request never completes).
    let kernel = load(KernelConfig {
        request_timeout: Duration::from_millis(300),
        ..KernelConfig::default()
    });
    let handle = open(&kernel, IoMode::Synchronous);
    assert_eq!(
        ioctl(&kernel, &handle, 4),
        Err(HarnessError::RequestNotCompleted)
    );
    drop(handle);
    assert_broke(&kernel.unload(), rules::WDF_INFORMATION_TOO_LARGE);
}

#[test]
fn a_warning_status_still_copies_the_output_back() {
    let _serial = setup(Plan {
        on_request: OnRequest::CompleteWithWarning,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Synchronous);
    assert_eq!(
        ioctl(&kernel, &handle, 4),
        Ok((STATUS_BUFFER_OVERFLOW, b"WARN".to_vec()))
    );
    drop(handle);
    assert_clean(&kernel.unload());
}

#[test]
fn an_execution_level_left_invalid_is_refused_with_the_frameworks_status() {
    let _serial = setup(Plan::default());
    let kernel = Kernel::boot(KernelConfig::default());
    let mut driver_object = [0u64; 42];
    let path = utf16(r"\Registry\Machine\System\CurrentControlSet\Services\KmdfSelfTest");
    let status = kernel.run(|| {
        let mut config = WDF_DRIVER_CONFIG {
            Size: size_of::<WDF_DRIVER_CONFIG>() as u32,
            EvtDriverDeviceAdd: Some(device_add),
            ..WDF_DRIVER_CONFIG::default()
        };
        // Size set, the rest zero: ExecutionLevel 0 is WdfExecutionLevelInvalid.
        let mut attributes = WDF_OBJECT_ATTRIBUTES {
            Size: size_of::<WDF_OBJECT_ATTRIBUTES>() as u32,
            ..WDF_OBJECT_ATTRIBUTES::default()
        };
        let mut handle: WDFDRIVER = core::ptr::null_mut();
        // SAFETY: a DRIVER_OBJECT-sized buffer, a path and our structures, all live.
        unsafe {
            WdfDriverCreate(
                driver_object.as_mut_ptr().cast(),
                &unicode(&path),
                &mut attributes,
                &mut config,
                &mut handle,
            )
        }
    });
    assert_eq!(status, STATUS_WDF_OBJECT_ATTRIBUTES_INVALID);
    assert_broke(&kernel.unload(), rules::WDF_BAD_CONFIG);
}

#[test]
fn inherit_from_parent_takes_the_parents_execution_level() {
    use _WDF_EXECUTION_LEVEL::*;
    for (driver_level, device_level, expected) in [
        // The device and its queue inherit the driver's PASSIVE_LEVEL.
        (
            WdfExecutionLevelPassive,
            WdfExecutionLevelInheritFromParent,
            0,
        ),
        // A kernel-mode driver's own default is WdfExecutionLevelDispatch.
        (
            WdfExecutionLevelInheritFromParent,
            WdfExecutionLevelInheritFromParent,
            2,
        ),
        (WdfExecutionLevelPassive, WdfExecutionLevelDispatch, 2),
    ] {
        let _serial = setup(Plan {
            driver_level,
            device_level,
            ..Plan::default()
        });
        let report = one_request();
        assert_eq!(
            *locked(&LEVELS),
            vec![expected],
            "driver {driver_level}, device {device_level}"
        );
        assert_clean(&report);
    }
}

#[test]
fn a_second_symbolic_link_is_refused() {
    let _serial = setup(Plan {
        second_link: true,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    assert_eq!(
        *locked(&LINK_STATUSES),
        vec![STATUS_SUCCESS, STATUS_INVALID_DEVICE_REQUEST]
    );
    assert_broke(&kernel.unload(), rules::WDF_BAD_CONFIG);
}

#[test]
fn an_sddl_may_come_before_the_name_but_needs_one_at_device_create() {
    let _serial = setup(Plan {
        sddl_before_name: true,
        ..Plan::default()
    });
    let kernel = load(KernelConfig::default());
    let handle = open(&kernel, IoMode::Synchronous);
    drop(handle);
    assert_clean(&kernel.unload());

    drop(_serial);
    bad_config_refused(
        Plan {
            name: false,
            ..Plan::default()
        },
        HarnessError::DeviceAddFailed(STATUS_INVALID_SECURITY_DESCR),
        "no name",
    );
}

#[test]
fn driver_config_and_attribute_errors_get_the_frameworks_statuses() {
    for (driver_break, status) in [
        (DriverBreak::ConfigSize, STATUS_INFO_LENGTH_MISMATCH),
        (DriverBreak::UnknownInitFlag, STATUS_INVALID_PARAMETER),
        (DriverBreak::NonPnpWithDeviceAdd, STATUS_INVALID_PARAMETER),
        (
            DriverBreak::ContextSizeOverrideWithoutType,
            STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
        ),
        (
            DriverBreak::ParentObject,
            STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED,
        ),
        (DriverBreak::CreatedTwice, STATUS_DRIVER_INTERNAL_ERROR),
    ] {
        bad_config_refused(
            Plan {
                driver_break: Some(driver_break),
                ..Plan::default()
            },
            HarnessError::DriverEntryFailed(status),
            &format!("{driver_break:?}"),
        );
    }
}

#[test]
fn queue_config_errors_get_the_frameworks_statuses() {
    for (queue_break, status) in [
        (QueueBreak::Size, STATUS_INFO_LENGTH_MISMATCH),
        (QueueBreak::DispatchInvalid, STATUS_INVALID_PARAMETER),
        (QueueBreak::NoCallback, STATUS_WDF_NO_CALLBACK),
        (
            QueueBreak::SequentialWithPresentedCount,
            STATUS_INVALID_PARAMETER,
        ),
        (QueueBreak::PowerManagedOutOfRange, STATUS_INVALID_PARAMETER),
        (QueueBreak::SecondDefaultQueue, STATUS_INVALID_DEVICE_STATE),
    ] {
        bad_config_refused(
            Plan {
                queue_break: Some(queue_break),
                ..Plan::default()
            },
            HarnessError::DeviceAddFailed(status),
            &format!("{queue_break:?}"),
        );
    }
}

#[test]
fn a_request_requeued_during_a_purge_is_cancelled_by_the_framework() {
    assert_clean(&a_held_request_surprise_removed(
        OnStop::AcknowledgeWithRequeue,
    ));
}
