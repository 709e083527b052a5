//! Why a request failed before its completion routine could complete it: the NTSTATUS it is
//! completed with and the counter it adds to. Shared by the engine (which fails requests) and
//! the IOCTL dispatch (which validates them, counts the failure and completes the request).

use wdk_sys::NTSTATUS;

/// Which counter a failed request adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Validation,
    /// No send slot or memory was available.
    NoResources,
    NotReady,
    Transport,
    Cancelled,
    /// Refused with STATUS_DEVICE_BUSY because other work was in the way: the family's gate
    /// closed for a reconfiguration, sends in flight on a family being reconfigured, or the
    /// control lock held past its bound. Nothing ran short, so it is not NoResources.
    Busy,
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
