//! Backend for Windows: the installed driver behind `\\.\WskSample`, reached with `CreateFileW`
//! and `DeviceIoControl` on an overlapped handle.
//!
//! Why overlapped: on a handle opened without FILE_FLAG_OVERLAPPED "I/O operations are
//! serialized" (Learn, CreateFileW, FILE_FLAG_OVERLAPPED), so while one thread waits in
//! a pended receive, another thread's "stop receiving" request would wait behind it and
//! `recv --timeout` or Ctrl-C could never end the wait. With an overlapped handle every call
//! carries its own OVERLAPPED and this backend waits for it (GetOverlappedResult with bWait), so
//! calls stay synchronous for the caller but no longer queue behind each other.

use std::cell::Cell;
use std::ptr;

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_IO_PENDING, GENERIC_READ, GENERIC_WRITE, GetLastError, HANDLE,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, FILE_ATTRIBUTE_NORMAL, FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE,
    OPEN_EXISTING,
};
use windows_sys::Win32::System::IO::{DeviceIoControl, GetOverlappedResult, OVERLAPPED};
use windows_sys::Win32::System::Threading::CreateEventW;

use super::{Device, DeviceAccess, DeviceError, OpenOptions, UnloadReport};

/// What reports call this backend.
pub const BACKEND_NAME: &str = r"\\.\WskSample (installed driver)";

/// An open handle to the driver's device.
pub struct WindowsDevice {
    handle: HANDLE,
}

// SAFETY: the handle is a process-wide kernel handle, usable from any thread. Calls through
// `&self` (`ioctl`) each use their own OVERLAPPED and their calling thread's own event and wait
// for their own completion, so concurrent calls share nothing in user mode; the handle is closed
// only through `&mut self` (`finish`) or Drop, which no `&self` call can overlap.
unsafe impl Send for WindowsDevice {}
// SAFETY: as above.
unsafe impl Sync for WindowsDevice {}

thread_local! {
    /// This thread's manual-reset event for overlapped calls (created on first use, never
    /// closed: one per thread that talks to the driver, released by the system at exit).
    /// DeviceIoControl resets it when it starts a call.
    static EVENT: Cell<HANDLE> = const { Cell::new(ptr::null_mut()) };
}

/// The calling thread's event for overlapped calls.
fn thread_event() -> Result<HANDLE, DeviceError> {
    EVENT.with(|event| {
        if event.get().is_null() {
            // SAFETY: no security attributes and no name (both optional, passed as null);
            // manual-reset (TRUE), initially not signalled (FALSE).
            let created = unsafe { CreateEventW(ptr::null(), 1, 0, ptr::null()) };
            if created.is_null() {
                return Err(DeviceError::Other(format!(
                    "CreateEventW failed with Win32 error {}",
                    last_error()
                )));
            }
            event.set(created);
        }
        Ok(event.get())
    })
}

impl WindowsDevice {
    /// Opens `\\.\WskSample` with the access the command needs (the I/O manager checks it
    /// against each control code's access bits). There is no trace on Windows.
    pub fn open(options: OpenOptions) -> Result<WindowsDevice, DeviceError> {
        let access = match options.access {
            DeviceAccess::Query => GENERIC_READ,
            DeviceAccess::Send => GENERIC_READ | GENERIC_WRITE,
        };
        let path: Vec<u16> = wsk_sample_ioctl::USER_DEVICE_PATH
            .encode_utf16()
            .chain(Some(0))
            .collect();
        // SAFETY: `path` is a NUL-terminated UTF-16 string that outlives the call; the security
        // attributes and template handle are optional and passed as null.
        let handle = unsafe {
            CreateFileW(
                path.as_ptr(),
                access,
                FILE_SHARE_READ | FILE_SHARE_WRITE,
                ptr::null(),
                OPEN_EXISTING,
                FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED,
                ptr::null_mut(),
            )
        };
        if handle == INVALID_HANDLE_VALUE || handle.is_null() {
            return Err(DeviceError::from_win32_open(last_error()));
        }
        Ok(WindowsDevice { handle })
    }

    /// Closes the handle. The real kernel keeps no model report; Driver Verifier is the tool
    /// for that on Windows.
    /// Only the kernel model counts allocations.
    pub fn model_allocations(&self) -> Option<super::ModelAllocations> {
        None
    }

    pub fn finish(&mut self) -> Option<UnloadReport> {
        self.close();
        None
    }

    fn close(&mut self) {
        if !self.handle.is_null() && self.handle != INVALID_HANDLE_VALUE {
            // SAFETY: the handle came from CreateFileW, is owned by this value and is closed once:
            // it is replaced by null right after.
            unsafe { CloseHandle(self.handle) };
            self.handle = ptr::null_mut();
        }
    }
}

impl Drop for WindowsDevice {
    fn drop(&mut self) {
        self.close();
    }
}

impl Device for WindowsDevice {
    fn ioctl(&self, code: u32, input: &[u8], output_len: usize) -> Result<Vec<u8>, DeviceError> {
        if self.handle.is_null() {
            return Err(DeviceError::Other(
                "the device handle is already closed".to_string(),
            ));
        }
        let too_large = || DeviceError::Other("request buffer larger than 4 GiB".to_string());
        let input_len = u32::try_from(input.len()).map_err(|_| too_large())?;
        let output_size = u32::try_from(output_len).map_err(|_| too_large())?;
        let mut output = vec![0u8; output_len];
        let mut returned: u32 = 0;
        let event = thread_event()?;
        // SAFETY: OVERLAPPED is a plain C struct for which all-zero bytes are valid (offsets 0,
        // no event yet).
        let mut overlapped: OVERLAPPED = unsafe { std::mem::zeroed() };
        overlapped.hEvent = event;
        // SAFETY: the handle is open; the input and output pointers are valid for the lengths
        // passed (null with length 0 when empty, which DeviceIoControl accepts); `returned` is a
        // valid u32; `overlapped`, `output` and `input` stay alive and unmoved until the call
        // has completed, because every path below waits for the completion before returning.
        let ok = unsafe {
            DeviceIoControl(
                self.handle,
                code,
                if input.is_empty() {
                    ptr::null()
                } else {
                    input.as_ptr().cast()
                },
                input_len,
                if output.is_empty() {
                    ptr::null_mut()
                } else {
                    output.as_mut_ptr().cast()
                },
                output_size,
                &mut returned,
                &mut overlapped,
            )
        };
        if ok == 0 {
            let error = last_error();
            if error != ERROR_IO_PENDING {
                // Failed at once: nothing is pending on `overlapped`.
                return Err(DeviceError::from_win32_ioctl(error));
            }
            // SAFETY: the call above is pending on `overlapped`, which lives in this frame; with
            // bWait TRUE this returns only once the request has completed (successfully or not),
            // after which the system no longer touches `overlapped` or the buffers.
            let done = unsafe { GetOverlappedResult(self.handle, &overlapped, &mut returned, 1) };
            if done == 0 {
                return Err(DeviceError::from_win32_ioctl(last_error()));
            }
        }
        output.truncate(returned as usize);
        Ok(output)
    }
}

fn last_error() -> u32 {
    // SAFETY: GetLastError only reads the calling thread's last-error value.
    unsafe { GetLastError() }
}
