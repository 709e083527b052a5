//! The rules the model enforces and the record of a broken one.

use std::fmt;

/// A rule of the kernel the driver must follow; breaking one is what would be a bugcheck or a
/// Driver Verifier stop on Windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Stable identifier, used by tests to say which rule they expect to see broken.
    pub id: &'static str,
    /// What the rule says.
    pub text: &'static str,
}

/// Every rule the model checks.
pub mod rules {
    use super::Rule;
    macro_rules! rules {
        ($($name:ident = $text:literal;)*) => {
            $(#[doc = $text] pub const $name: Rule = Rule { id: stringify!($name), text: $text };)*
            /// All rules, for documentation and reports.
            pub const ALL: &[Rule] = &[$($name),*];
        };
    }
    rules! {
        IRQL_TOO_HIGH = "the routine was called above the highest IRQL it allows";
        IRQL_NOT_RESTORED = "a callback returned at a different IRQL than it was called at";
        COMPLETION_ROUTINE_RETURN = "the completion routine of a driver-allocated IRP must return STATUS_MORE_PROCESSING_REQUIRED";
        COMPLETION_ROUTINE_NOT_SET = "an IRP passed to WSK needs a completion routine set with all three SL_INVOKE_ON_* flags";
        IRP_NO_STACK_LOCATION = "an IRP passed to WSK needs a free stack location (IoAllocateIrp(1, FALSE))";
        IRP_DOUBLE_FREE = "an IRP must be freed exactly once";
        IRP_USE_AFTER_FREE = "an IRP must not be used after IoFreeIrp";
        IRP_UNKNOWN = "the IRP was not allocated with IoAllocateIrp";
        IRP_FREED_WHILE_OWNED = "an IRP must not be freed while the provider owns it";
        IRP_RESUBMITTED = "an IRP must not be passed to WSK again before it completes";
        IRP_REUSED_WHILE_OWNED = "IoReuseIrp is only for an IRP the driver owns: allocated with IoAllocateIrp and never submitted, or completed (its completion routine running or run); not one the provider still holds (Learn, Reusing IRPs: drivers reuse IRPs they created; Wine ntoskrnl IoReuseIrp rewrites the whole IRP with IoInitializeIrp, which would wipe the stack location the provider is using)";
        IRP_NOT_REINITIALIZED = "an IRP that completed must be reinitialised with IoReuseIrp before it is passed to WSK again (Learn, Reusing IRPs: a driver that created an IRP with IoAllocateIrp reuses it by calling IoReuseIrp; without it the last call's Cancel, PendingReturned and IoStatus stay behind, which Wine's IoReuseIrp/IoInitializeIrp zero): the strict side";
        MDL_UNKNOWN = "the MDL was not allocated with IoAllocateMdl or was already freed";
        MDL_NOT_NONPAGED = "MmBuildMdlForNonPagedPool needs memory from nonpaged pool";
        MDL_NOT_LOCKED = "memory passed to WSK must be nonpaged pool or locked";
        MDL_FREED_WHILE_PENDING = "an MDL must stay allocated until the send using it completes";
        WSK_BUF_RANGE = "WSK_BUF Offset must lie in the first MDL and Offset + Length within the chain";
        BUFFER_MODIFIED_WHILE_PENDING = "memory described by a WSK_BUF must not change until the send completes";
        BUFFER_FREED_WHILE_PENDING = "memory described by a WSK_BUF must stay allocated until the send completes";
        POOL_BAD_FLAGS = "ExAllocatePool2 needs exactly one pool type flag and a nonzero tag";
        POOL_BAD_FREE = "ExFreePoolWithTag needs a live allocation from ExAllocatePool2";
        POOL_TAG_MISMATCH = "ExFreePoolWithTag must pass the tag the allocation was made with";
        POOL_USE_AFTER_FREE = "pool must not be read or written after ExFreePoolWithTag (Driver Verifier special pool: bug check 0xD5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL)";
        POOL_WRITE_AFTER_FREE = "freed pool must not be written: the special pool's poison in the quarantine was changed";
        SPIN_LOCK_MISUSE = "a spin lock must be released by its owner and never acquired recursively";
        EVENT_NOT_INITIALIZED = "a KEVENT must be initialized with KeInitializeEvent before use";
        WSK_FLAGS_NOT_ZERO = "WSK datagram calls take Flags = 0";
        WSK_SOCKET_INVALID = "a WSK call needs a live socket (not closed, not freed)";
        WSK_NOT_BOUND = "a datagram socket must be bound before it sends or receives";
        WSK_FAMILY_MISMATCH = "addresses passed to a socket must be of the socket's family";
        WSK_NULL_REMOTE_ADDRESS = "a NULL RemoteAddress needs a fixed remote or send-to address";
        WSK_AMBIGUOUS_DESTINATION = "RemoteAddress may be NULL only where Learn defines the result: WskSendTo on a socket with exactly one of a fixed remote (SIO_WSK_SET_REMOTE_ADDRESS) or fixed send-to (SIO_WSK_SET_SENDTO_ADDRESS) address; PFN_WSK_SEND_MESSAGES documents no fallback, and with both set the choice is undocumented";
        WSK_CLOSE_OVERLAP = "WskCloseSocket must not overlap another call on the socket";
        WSK_INPUT_MODIFIED_WHILE_PENDING = "a SOCKADDR passed to WSK (WskBind, WskControlSocket input, WskSendTo/WskSendMessages RemoteAddress) must not change until its IRP completes: the subsystem completes the IRP only once the operation is done (Learn, Using IRPs with Winsock Kernel Functions) and may read its inputs until then (the strict side, as for WSK_BUF bytes)";
        WSK_UNLOAD_WITH_REGISTRATION = "every successful WskRegister needs exactly one WskDeregister before the driver unloads: the registration refers to the client dispatch table in the driver image (Learn, WskRegister / WskDeregister)";
        WSK_UNLOAD_WITH_CAPTURE = "every WskCaptureProviderNPI needs its WskReleaseProviderNPI before the driver unloads (Learn, WskCaptureProviderNPI / WskDeregister)";
        WSK_NPI_NOT_CAPTURED = "provider dispatch calls need a captured provider NPI";
        WSK_UNBALANCED = "WskRegister/WskDeregister and capture/release must be balanced";
        WSK_DEREGISTER_HANG = "WskDeregister with sockets open or NPIs captured blocks forever";
        WSK_BAD_ARGUMENT = "the WSK call's arguments are not valid";
        UNBOUNDED_WAIT_IN_DRIVER_ENTRY = "DriverEntry must never wait without bound";
        WDF_BAD_CONFIG = "a WDF structure was passed with a wrong Size or missing required fields";
        WDF_BAD_HANDLE = "the WDF handle is not a live object of the expected kind";
        WDF_REQUEST_COMPLETED_TWICE = "a request must be completed exactly once";
        WDF_INFORMATION_TOO_LARGE = "a successful request's Information must not exceed its output buffer";
        WDF_REQUEST_NOT_COMPLETED = "every request must be completed before the device is removed";
        WDF_QUEUE_PRESENTS_NOTHING = "a parallel queue with Settings.Parallel.NumberOfPresentedRequests == 0 never presents a request (FxIoQueue::Initialize copies it into m_MaxParallelQueuePresentedRequests; FxIoQueue::DispatchEvents never presents while m_DriverIoCount >= it): WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE sets (ULONG)-1";
        WDF_STOP_ACK_NOT_STOPPING = "WdfRequestStopAcknowledge is valid only for a request delivered to EvtIoStop and not yet acknowledged or completed (FxRequest::VerifyRequestIsInEvtIoStopContext, FxRequest::VerifyStopAcknowledge)";
        COMPLETION_ROUTINE_UNPROTECTED = "an IRP issued after the driver's devices are deleted must carry its completion routine through IoSetCompletionRoutineEx on a live device object of the driver, and none is left: such a routine can still be returning when the image is unmapped, since nothing references a device object for it (Learn, IoSetCompletionRoutineEx; IoDeleteDevice; Unloading a driver). Issue the last WSK calls (the final closes) while the device exists, from its cleanup";
        COMPLETION_EX_DEVICE_NOT_LIVE = "IoSetCompletionRoutineEx needs a live device object of the driver, which it references until the routine has returned (Learn, IoSetCompletionRoutineEx)";
        COMPLETION_EX_CONTEXT_LEAKED = "an IRP with a completion routine set by IoSetCompletionRoutineEx must be sent: the context it allocated, and its device object reference, are released only by the I/O manager's wrapper after the routine runs; set it only once the IRP is certain to be sent (Learn, IoSetCompletionRoutineEx; KMDF fxiotarget.cpp FxIoTarget::SubmitLocked)";
        WSK_INDICATION_TOUCHED_AFTER_RETURN = "a WSK_DATAGRAM_INDICATION list (its nodes, addresses, MDLs and data) is the client's only until WskReceiveFromEvent returns, unless it returns STATUS_PENDING (Learn, PFN_WSK_RECEIVE_FROM_EVENT: STATUS_SUCCESS means the application retrieved all datagrams)";
        WSK_INDICATION_USED_AFTER_RELEASE = "an indication list retained with STATUS_PENDING must not be used after WskRelease gave it back (Learn, PFN_WSK_RELEASE_DATA_INDICATION_LIST)";
        WSK_INDICATION_RELEASED_TWICE = "an indication list retained with STATUS_PENDING needs exactly one WskRelease, and only a retained list may be released (Learn, PFN_WSK_RECEIVE_FROM_EVENT, PFN_WSK_RELEASE_DATA_INDICATION_LIST)";
        WSK_INDICATION_NOT_RELEASED = "every indication list retained with STATUS_PENDING must be released before WskCloseSocket: closing does not release them (Learn, PFN_WSK_RELEASE_DATA_INDICATION_LIST remarks)";
        UNLOAD_WITH_COMPLETION_RUNNING = "a driver must not unload while its completion routines can still run";
        LEAK = "everything allocated must be freed by the time the driver unloads";
    }
}

/// A broken rule, with what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What the driver did.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KERNEL MODEL STOP {}: {} ({})",
            self.rule.id, self.detail, self.rule.text
        )
    }
}
