//! NTSTATUS values the driver completes requests with or receives from WSK,
//! with names and one-line meanings for the tool's messages.

/// The operation completed successfully.
pub const STATUS_SUCCESS: i32 = 0;
/// The operation will complete asynchronously.
pub const STATUS_PENDING: i32 = 0x0000_0103;
/// Warning: the output buffer was too small and the data was truncated.
pub const STATUS_BUFFER_OVERFLOW: i32 = 0x8000_0005u32 as i32;
/// Warning: the device is busy.
pub const STATUS_DEVICE_BUSY: i32 = 0x8000_0011u32 as i32;
/// Generic failure.
pub const STATUS_UNSUCCESSFUL: i32 = 0xC000_0001u32 as i32;
/// The operation is not implemented.
pub const STATUS_NOT_IMPLEMENTED: i32 = 0xC000_0002u32 as i32;
/// A buffer length does not match what the request requires.
pub const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004u32 as i32;
/// An invalid handle was used.
pub const STATUS_INVALID_HANDLE: i32 = 0xC000_0008u32 as i32;
/// An invalid parameter was passed.
pub const STATUS_INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
/// The device does not handle this request.
pub const STATUS_INVALID_DEVICE_REQUEST: i32 = 0xC000_0010u32 as i32;
/// Completion routine return value: the IRP is not finished yet.
pub const STATUS_MORE_PROCESSING_REQUIRED: i32 = 0xC000_0016u32 as i32;
/// Not enough memory.
pub const STATUS_NO_MEMORY: i32 = 0xC000_0017u32 as i32;
/// Access was denied.
pub const STATUS_ACCESS_DENIED: i32 = 0xC000_0022u32 as i32;
/// The buffer is too small for the result.
pub const STATUS_BUFFER_TOO_SMALL: i32 = 0xC000_0023u32 as i32;
/// The object is being deleted.
pub const STATUS_DELETE_PENDING: i32 = 0xC000_0056u32 as i32;
/// The structure revision is not understood.
pub const STATUS_REVISION_MISMATCH: i32 = 0xC000_0059u32 as i32;
/// Not enough system resources.
pub const STATUS_INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;
/// The device is not ready.
pub const STATUS_DEVICE_NOT_READY: i32 = 0xC000_00A3u32 as i32;
/// The operation timed out.
pub const STATUS_IO_TIMEOUT: i32 = 0xC000_00B5u32 as i32;
/// The handle was closed forcibly.
pub const STATUS_FILE_FORCED_CLOSED: i32 = 0xC000_00B6u32 as i32;
/// The request is not supported.
pub const STATUS_NOT_SUPPORTED: i32 = 0xC000_00BBu32 as i32;
/// A user buffer is not valid.
pub const STATUS_INVALID_USER_BUFFER: i32 = 0xC000_00E8u32 as i32;
/// The request was cancelled.
pub const STATUS_CANCELLED: i32 = 0xC000_0120u32 as i32;
/// The address is not valid.
pub const STATUS_INVALID_ADDRESS: i32 = 0xC000_0141u32 as i32;
/// The device is in a state that does not allow the request.
pub const STATUS_INVALID_DEVICE_STATE: i32 = 0xC000_0184u32 as i32;
/// The buffer size is not valid.
pub const STATUS_INVALID_BUFFER_SIZE: i32 = 0xC000_0206u32 as i32;
/// A component of a network address is not valid.
pub const STATUS_INVALID_ADDRESS_COMPONENT: i32 = 0xC000_0207u32 as i32;
/// The address is already in use.
pub const STATUS_ADDRESS_ALREADY_EXISTS: i32 = 0xC000_020Au32 as i32;
/// The object was not found.
pub const STATUS_NOT_FOUND: i32 = 0xC000_0225u32 as i32;
/// The remote system refused the connection.
pub const STATUS_CONNECTION_REFUSED: i32 = 0xC000_0236u32 as i32;
/// The socket already has an address.
pub const STATUS_ADDRESS_ALREADY_ASSOCIATED: i32 = 0xC000_0238u32 as i32;
/// The network is unreachable.
pub const STATUS_NETWORK_UNREACHABLE: i32 = 0xC000_023Cu32 as i32;
/// The host is unreachable.
pub const STATUS_HOST_UNREACHABLE: i32 = 0xC000_023Du32 as i32;
/// The remote port is unreachable.
pub const STATUS_PORT_UNREACHABLE: i32 = 0xC000_023Fu32 as i32;
/// The device has been removed.
pub const STATUS_DEVICE_REMOVED: i32 = 0xC000_02B6u32 as i32;
/// The requested interface is not supported.
pub const STATUS_NOINTERFACE: i32 = 0xC000_02B9u32 as i32;

/// (value, C name, meaning) for every constant above.
const TABLE: &[(i32, &str, &str)] = &[
    (
        STATUS_SUCCESS,
        "STATUS_SUCCESS",
        "the operation completed successfully",
    ),
    (
        STATUS_PENDING,
        "STATUS_PENDING",
        "the operation was started and will complete later",
    ),
    (
        STATUS_BUFFER_OVERFLOW,
        "STATUS_BUFFER_OVERFLOW",
        "the output buffer was too small; the data was truncated",
    ),
    (
        STATUS_DEVICE_BUSY,
        "STATUS_DEVICE_BUSY",
        "the device is busy; try again later",
    ),
    (
        STATUS_UNSUCCESSFUL,
        "STATUS_UNSUCCESSFUL",
        "the operation failed",
    ),
    (
        STATUS_NOT_IMPLEMENTED,
        "STATUS_NOT_IMPLEMENTED",
        "the requested operation is not implemented",
    ),
    (
        STATUS_INFO_LENGTH_MISMATCH,
        "STATUS_INFO_LENGTH_MISMATCH",
        "the buffer length does not match what the request requires",
    ),
    (
        STATUS_INVALID_HANDLE,
        "STATUS_INVALID_HANDLE",
        "the handle is not valid",
    ),
    (
        STATUS_INVALID_PARAMETER,
        "STATUS_INVALID_PARAMETER",
        "a parameter of the request is not valid",
    ),
    (
        STATUS_INVALID_DEVICE_REQUEST,
        "STATUS_INVALID_DEVICE_REQUEST",
        "the device does not handle this request",
    ),
    (
        STATUS_MORE_PROCESSING_REQUIRED,
        "STATUS_MORE_PROCESSING_REQUIRED",
        "the request needs more processing before it completes",
    ),
    (
        STATUS_NO_MEMORY,
        "STATUS_NO_MEMORY",
        "not enough memory to complete the request",
    ),
    (
        STATUS_ACCESS_DENIED,
        "STATUS_ACCESS_DENIED",
        "access was denied",
    ),
    (
        STATUS_BUFFER_TOO_SMALL,
        "STATUS_BUFFER_TOO_SMALL",
        "the buffer is too small for the result",
    ),
    (
        STATUS_DELETE_PENDING,
        "STATUS_DELETE_PENDING",
        "the device or file is being deleted",
    ),
    (
        STATUS_REVISION_MISMATCH,
        "STATUS_REVISION_MISMATCH",
        "the request uses a structure version the driver does not understand",
    ),
    (
        STATUS_INSUFFICIENT_RESOURCES,
        "STATUS_INSUFFICIENT_RESOURCES",
        "not enough memory or other resources to complete the request",
    ),
    (
        STATUS_DEVICE_NOT_READY,
        "STATUS_DEVICE_NOT_READY",
        "the device is not ready",
    ),
    (
        STATUS_IO_TIMEOUT,
        "STATUS_IO_TIMEOUT",
        "the operation timed out",
    ),
    (
        STATUS_FILE_FORCED_CLOSED,
        "STATUS_FILE_FORCED_CLOSED",
        "the handle was closed forcibly",
    ),
    (
        STATUS_NOT_SUPPORTED,
        "STATUS_NOT_SUPPORTED",
        "the request is not supported",
    ),
    (
        STATUS_INVALID_USER_BUFFER,
        "STATUS_INVALID_USER_BUFFER",
        "a user buffer is not valid",
    ),
    (
        STATUS_CANCELLED,
        "STATUS_CANCELLED",
        "the request was cancelled",
    ),
    (
        STATUS_INVALID_ADDRESS,
        "STATUS_INVALID_ADDRESS",
        "the address is not valid",
    ),
    (
        STATUS_INVALID_DEVICE_STATE,
        "STATUS_INVALID_DEVICE_STATE",
        "the device is not in a state that allows this request",
    ),
    (
        STATUS_INVALID_BUFFER_SIZE,
        "STATUS_INVALID_BUFFER_SIZE",
        "the buffer size is not valid for this request",
    ),
    (
        STATUS_INVALID_ADDRESS_COMPONENT,
        "STATUS_INVALID_ADDRESS_COMPONENT",
        "a part of the network address (family, port or octets) is not valid",
    ),
    (
        STATUS_ADDRESS_ALREADY_EXISTS,
        "STATUS_ADDRESS_ALREADY_EXISTS",
        "the address is already in use",
    ),
    (
        STATUS_NOT_FOUND,
        "STATUS_NOT_FOUND",
        "the object was not found",
    ),
    (
        STATUS_CONNECTION_REFUSED,
        "STATUS_CONNECTION_REFUSED",
        "the remote system refused the connection",
    ),
    (
        STATUS_ADDRESS_ALREADY_ASSOCIATED,
        "STATUS_ADDRESS_ALREADY_ASSOCIATED",
        "the socket is already bound to an address",
    ),
    (
        STATUS_NETWORK_UNREACHABLE,
        "STATUS_NETWORK_UNREACHABLE",
        "the remote network is not reachable",
    ),
    (
        STATUS_HOST_UNREACHABLE,
        "STATUS_HOST_UNREACHABLE",
        "the remote host is not reachable",
    ),
    (
        STATUS_PORT_UNREACHABLE,
        "STATUS_PORT_UNREACHABLE",
        "nothing is listening on the remote port",
    ),
    (
        STATUS_DEVICE_REMOVED,
        "STATUS_DEVICE_REMOVED",
        "the device has been removed",
    ),
    (
        STATUS_NOINTERFACE,
        "STATUS_NOINTERFACE",
        "the requested interface is not supported",
    ),
];

fn entry(status: i32) -> Option<&'static (i32, &'static str, &'static str)> {
    TABLE.iter().find(|(value, _, _)| *value == status)
}

/// The C name of a known status (`"STATUS_INVALID_PARAMETER"`), else `None`.
pub fn name(status: i32) -> Option<&'static str> {
    entry(status).map(|(_, name, _)| *name)
}

/// A one-line human meaning of a known status, else `"unknown status"`.
pub fn describe(status: i32) -> &'static str {
    entry(status).map_or("unknown status", |(_, _, meaning)| *meaning)
}

/// `NT_SUCCESS`: true for success, informational and pending values.
pub const fn nt_success(status: i32) -> bool {
    status >= 0
}

#[cfg(test)]
pub(crate) fn all() -> impl Iterator<Item = (i32, &'static str)> {
    TABLE.iter().map(|(value, name, _)| (*value, *name))
}
