//! Why a request failed before its completion routine could complete it: the NTSTATUS it is
//! completed with and the counter it adds to. Shared by the engine (which fails requests) and
//! the IOCTL dispatch (which validates them, counts the failure and completes the request).

use wdk_sys::NTSTATUS;

/// Which counter a failed request adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Validation,
    NoResources,
    NotReady,
    Transport,
    Cancelled,
}

/// A request that failed before its completion routine could complete it.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    pub status: NTSTATUS,
    pub kind: FailureKind,
}

impl Failure {
    pub fn new(status: NTSTATUS, kind: FailureKind) -> Self {
        Failure { status, kind }
    }
}
