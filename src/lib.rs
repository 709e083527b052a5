//! wsk-sample: the KMDF driver binary. It exports DriverEntry and supplies the kernel allocator
//! and the panic handler; everything else is the driver's logic in `wsk-sample-driver`
//! (crates/driver), which the host tests and wskctl link directly.
//!
//! Off Windows this crate builds to an empty library: the host runs the same logic in the kernel
//! model instead (crates/driver/src/lib.rs has the one switch), so nothing here is host-tested.
#![cfg_attr(target_os = "windows", no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(target_os = "windows")]
mod windows {
    use wdk_sys::{NTSTATUS, PCUNICODE_STRING, PDRIVER_OBJECT};

    // A panic handler that bugchecks, and the kernel's pool as the global allocator.
    extern crate wdk_panic;
    #[global_allocator]
    static GLOBAL_ALLOCATOR: wdk_alloc::WdkAllocator = wdk_alloc::WdkAllocator;

    /// The driver's entry point, called by KMDF's FxDriverEntry (WdfDriverEntry.lib) once the
    /// framework is bound.
    ///
    /// # Safety
    /// Called by the system with its driver object and registry path.
    #[unsafe(export_name = "DriverEntry")]
    pub unsafe extern "system" fn driver_entry(
        driver: PDRIVER_OBJECT,
        registry_path: PCUNICODE_STRING,
    ) -> NTSTATUS {
        // SAFETY: the caller's contract is the one wsk_sample_driver::driver_entry states.
        unsafe { wsk_sample_driver::driver_entry(driver, registry_path) }
    }
}
