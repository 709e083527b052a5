//! Backend for hosts other than Windows: the real driver code, loaded into the kernel model
//! in-process. Each wskctl run boots a fresh kernel, so there is no installed driver to miss;
//! the model's own checks (IRQL, IRP and MDL rules, leaks) are reported at unload.

use wdk_model::harness::{Access, Handle, HarnessError, IoMode, Kernel};
use wdk_model::{Caller, CounterSnapshot, KernelConfig};

use super::{
    Device, DeviceAccess, DeviceError, ModelAllocations, OpenOptions, Status, UnloadReport,
};

/// What `--help` and reports call this backend.
pub const BACKEND_NAME: &str = "kernel model (in-process)";

/// The kernel model with the driver loaded and its device open (until `finish`).
pub struct ModelDevice {
    kernel: Kernel,
    handle: Option<Handle>,
    /// The model's counters right after the driver loaded and its device was opened.
    loaded: CounterSnapshot,
}

impl ModelDevice {
    /// Boots a kernel, loads the driver and opens `\\.\WskSample` as an administrator would.
    pub fn open(options: OpenOptions) -> Result<ModelDevice, DeviceError> {
        let config = KernelConfig {
            trace: options.trace.is_some(),
            ..KernelConfig::default()
        };
        let mut kernel = Kernel::boot(config);
        if let Some(sink) = options.trace {
            kernel.on_trace(sink);
        }
        kernel
            .load(wsk_sample_driver::driver_entry)
            .map_err(load_error)?;
        let access = match options.access {
            DeviceAccess::Query => Access::READ,
            DeviceAccess::Send => Access::READ_WRITE,
        };
        let mode = if options.concurrent {
            IoMode::Overlapped
        } else {
            IoMode::Synchronous
        };
        let handle = kernel
            .open_with(
                wsk_sample_ioctl::USER_DEVICE_PATH,
                access,
                Caller::Administrator,
                mode,
            )
            .map_err(harness_error)?;
        let loaded = kernel.counters();
        Ok(ModelDevice {
            kernel,
            handle: Some(handle),
            loaded,
        })
    }

    /// What the model allocated for the driver since it loaded (the difference from the
    /// counters taken right after load).
    pub fn model_allocations(&self) -> Option<ModelAllocations> {
        let now = self.kernel.counters();
        Some(ModelAllocations {
            irps: now.irp_allocations - self.loaded.irp_allocations,
            mdls: now.mdl_allocations - self.loaded.mdl_allocations,
            pool: now.pool_allocations - self.loaded.pool_allocations,
        })
    }

    /// Closes the handle, unloads the driver (an orderly removal, which open handles would
    /// veto) and returns the model's report of broken rules and leaks.
    pub fn finish(&mut self) -> Option<UnloadReport> {
        drop(self.handle.take());
        let report = self.kernel.unload();
        Some(UnloadReport {
            clean: report.is_clean(),
            text: report.to_string().trim_end().to_string(),
        })
    }
}

impl Device for ModelDevice {
    fn ioctl(&self, code: u32, input: &[u8], output_len: usize) -> Result<Vec<u8>, DeviceError> {
        let handle = self.handle.as_ref().ok_or(HarnessError::NotLoaded);
        let result = handle
            .and_then(|h| self.kernel.device_io_control(h, code, input, output_len))
            .map_err(harness_error)?;
        if wsk_sample_ioctl::status::nt_success(result.status) {
            Ok(result.output)
        } else {
            Err(DeviceError::from_ntstatus(result.status))
        }
    }
}

fn load_error(error: HarnessError) -> DeviceError {
    match error {
        HarnessError::DriverEntryFailed(status) | HarnessError::DeviceAddFailed(status) => {
            DeviceError::Other(format!(
                "the driver failed to start in the kernel model ({error}): {}",
                Status::Nt(status)
            ))
        }
        other => harness_error(other),
    }
}

fn harness_error(error: HarnessError) -> DeviceError {
    let detail = error.to_string();
    match error {
        HarnessError::NoSuchDevice(_) | HarnessError::NotLoaded => {
            DeviceError::NotInstalled { detail }
        }
        HarnessError::AccessDenied => DeviceError::AccessDenied { detail },
        HarnessError::DriverEntryFailed(_) | HarnessError::DeviceAddFailed(_) => {
            DeviceError::Other(detail)
        }
        HarnessError::RequestNotCompleted => DeviceError::Other(format!(
            "the driver did not complete the request in time (on Windows the call would hang): {detail}"
        )),
        HarnessError::RuleBroken(_) => {
            DeviceError::Other(format!("on Windows this call would hang forever: {detail}"))
        }
    }
}
