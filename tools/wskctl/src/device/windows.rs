//! Backend for Windows: the installed driver behind `\\.\WskSample`, reached with `CreateFileW`
//! and synchronous `DeviceIoControl`.

use std::ptr;

use windows_sys::Win32::Foundation::{
    CloseHandle, GENERIC_READ, GENERIC_WRITE, GetLastError, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING,
};
use windows_sys::Win32::System::IO::DeviceIoControl;

use super::{Device, DeviceAccess, DeviceError, OpenOptions, UnloadReport};

/// What reports call this backend.
pub const BACKEND_NAME: &str = r"\\.\WskSample (installed driver)";

/// An open handle to the driver's device.
pub struct WindowsDevice {
    handle: HANDLE,
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
                FILE_ATTRIBUTE_NORMAL,
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
        // SAFETY: the handle is open; the input and output pointers are valid for the lengths
        // passed (null with length 0 when empty, which DeviceIoControl accepts); `returned` is a
        // valid u32; no OVERLAPPED, so the call is synchronous (the handle was opened without
        // FILE_FLAG_OVERLAPPED) and nothing is used after it returns.
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
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(DeviceError::from_win32_ioctl(last_error()));
        }
        output.truncate(returned as usize);
        Ok(output)
    }
}

fn last_error() -> u32 {
    // SAFETY: GetLastError only reads the calling thread's last-error value.
    unsafe { GetLastError() }
}
