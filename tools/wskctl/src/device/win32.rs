//! Names and meanings of the Win32 error codes `CreateFileW` and `DeviceIoControl` report for
//! this driver (the I/O manager turns the driver's NTSTATUS into one of these).

pub const ERROR_INVALID_FUNCTION: u32 = 1;
pub const ERROR_FILE_NOT_FOUND: u32 = 2;
pub const ERROR_PATH_NOT_FOUND: u32 = 3;
pub const ERROR_ACCESS_DENIED: u32 = 5;
pub const ERROR_REVISION_MISMATCH: u32 = 1306;
pub const ERROR_OPERATION_ABORTED: u32 = 995;

/// (code, name, meaning).
const TABLE: &[(u32, &str, &str)] = &[
    (
        ERROR_INVALID_FUNCTION,
        "ERROR_INVALID_FUNCTION",
        "the driver does not handle this request",
    ),
    (
        ERROR_FILE_NOT_FOUND,
        "ERROR_FILE_NOT_FOUND",
        "the device does not exist",
    ),
    (
        ERROR_PATH_NOT_FOUND,
        "ERROR_PATH_NOT_FOUND",
        "the device path does not exist",
    ),
    (
        ERROR_ACCESS_DENIED,
        "ERROR_ACCESS_DENIED",
        "access was denied",
    ),
    (6, "ERROR_INVALID_HANDLE", "the handle is not valid"),
    (21, "ERROR_NOT_READY", "the device is not ready"),
    (
        24,
        "ERROR_BAD_LENGTH",
        "a buffer length does not match what the request requires",
    ),
    (31, "ERROR_GEN_FAILURE", "the device failed the request"),
    (50, "ERROR_NOT_SUPPORTED", "the request is not supported"),
    (55, "ERROR_DEV_NOT_EXIST", "the device no longer exists"),
    (
        59,
        "ERROR_UNEXP_NET_ERR",
        "an unexpected network error occurred (the driver's STATUS_INVALID_ADDRESS)",
    ),
    (
        87,
        "ERROR_INVALID_PARAMETER",
        "a parameter of the request is not valid",
    ),
    (121, "ERROR_SEM_TIMEOUT", "the operation timed out"),
    (
        122,
        "ERROR_INSUFFICIENT_BUFFER",
        "the buffer is too small for the result",
    ),
    (
        170,
        "ERROR_BUSY",
        "the resource is in use (the driver's STATUS_DEVICE_BUSY)",
    ),
    (
        234,
        "ERROR_MORE_DATA",
        "more data is available than the buffer holds",
    ),
    (
        ERROR_OPERATION_ABORTED,
        "ERROR_OPERATION_ABORTED",
        "the request was cancelled",
    ),
    (
        1214,
        "ERROR_INVALID_NETNAME",
        "the network address is not valid",
    ),
    (1223, "ERROR_CANCELLED", "the operation was cancelled"),
    (
        1225,
        "ERROR_CONNECTION_REFUSED",
        "the remote system refused the connection",
    ),
    (
        1231,
        "ERROR_NETWORK_UNREACHABLE",
        "the remote network is not reachable",
    ),
    (
        1232,
        "ERROR_HOST_UNREACHABLE",
        "the remote host is not reachable",
    ),
    (
        1234,
        "ERROR_PORT_UNREACHABLE",
        "nothing is listening on the remote port",
    ),
    (
        ERROR_REVISION_MISMATCH,
        "ERROR_REVISION_MISMATCH",
        "the driver does not understand this structure version",
    ),
    (
        1450,
        "ERROR_NO_SYSTEM_RESOURCES",
        "not enough system resources to complete the request",
    ),
    (1460, "ERROR_TIMEOUT", "the operation timed out"),
    (1617, "ERROR_DEVICE_REMOVED", "the device has been removed"),
    (
        1784,
        "ERROR_INVALID_USER_BUFFER",
        "a buffer or its size is not valid for this request",
    ),
];

/// The C name of a known code, else `None`.
pub fn name(code: u32) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(value, _, _)| *value == code)
        .map(|(_, name, _)| *name)
}

/// A one-line meaning of a known code, else "unknown error".
pub fn describe(code: u32) -> &'static str {
    TABLE
        .iter()
        .find(|(value, _, _)| *value == code)
        .map_or("unknown error", |(_, _, meaning)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes_have_names() {
        assert_eq!(name(2), Some("ERROR_FILE_NOT_FOUND"));
        assert_eq!(name(1234), Some("ERROR_PORT_UNREACHABLE"));
        assert_eq!(name(4242), None);
        assert_eq!(describe(4242), "unknown error");
    }

    #[test]
    fn codes_and_names_are_unique() {
        for (index, (code, name, _)) in TABLE.iter().enumerate() {
            assert!(
                TABLE[index + 1..]
                    .iter()
                    .all(|(c, n, _)| c != code && n != name),
                "{name}"
            );
        }
    }
}
