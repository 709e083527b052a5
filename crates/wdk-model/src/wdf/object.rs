//! Objects' attributes and typed contexts: FxValidateObjectAttributes, the execution level an
//! object inherits, `WdfObjectGetTypedContextWorker`; and UNICODE_STRING validation.

use std::alloc::{Layout, alloc_zeroed};

use super::state::*;
use crate::constants::*;
use crate::kernel::{self, KernelState, lock, rules};
use crate::types::*;

/// Reads a UNICODE_STRING, checking its fields as FxValidateUnicodeString
/// (src/framework/shared/inc/private/common/fxvalidatefunctions.hpp) does: Length and
/// MaximumLength even, Buffer non-NULL when MaximumLength > 0, Length <= MaximumLength (the
/// framework's failure status for each is STATUS_INVALID_PARAMETER).
///
/// # Safety
/// `string` must be NULL or point to a UNICODE_STRING whose Buffer holds Length bytes.
pub(crate) unsafe fn read_unicode(string: PCUNICODE_STRING) -> Option<String> {
    // SAFETY: the caller's guarantee.
    let s = unsafe { string.as_ref() }?;
    if s.Length % 2 != 0
        || s.MaximumLength % 2 != 0
        || (s.MaximumLength > 0 && s.Buffer.is_null())
        || s.Length > s.MaximumLength
    {
        return None;
    }
    if s.Buffer.is_null() {
        return Some(String::new());
    }
    // SAFETY: the caller guarantees Buffer holds Length bytes.
    let units = unsafe { std::slice::from_raw_parts(s.Buffer, usize::from(s.Length / 2)) };
    String::from_utf16(units).ok()
}

/// Applies object attributes the way FxValidateObjectAttributes
/// (src/framework/shared/object/fxvalidatefunctions.cpp) checks them: Size (else
/// STATUS_INFO_LENGTH_MISMATCH), the context type record, ContextSizeOverride, ParentObject where
/// none is allowed (STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED), then the ExecutionLevel and
/// SynchronizationScope ranges (STATUS_WDF_OBJECT_ATTRIBUTES_INVALID; 0 is Invalid, which is
/// what a zeroed structure without WDF_OBJECT_ATTRIBUTES_INIT holds). Allocates the typed
/// context and records the cleanup callback. Returns the requested execution level (NULL
/// attributes: InheritFromParent), which the caller resolves against the parent.
///
/// # Safety
/// `attributes` must be NULL or point to WDF_OBJECT_ATTRIBUTES.
pub(super) unsafe fn apply_attributes(
    kernel: &KernelState,
    state: &mut WdfState,
    routine: &str,
    handle: usize,
    attributes: PWDF_OBJECT_ATTRIBUTES,
    parent_allowed: bool,
) -> Result<WDF_EXECUTION_LEVEL, NTSTATUS> {
    // SAFETY: the caller's guarantee.
    let Some(attributes) = (unsafe { attributes.as_ref() }) else {
        return Ok(_WDF_EXECUTION_LEVEL::WdfExecutionLevelInheritFromParent);
    };
    let refuse = |status: NTSTATUS, why: String| {
        kernel.violate(rules::WDF_BAD_CONFIG, format!("{routine}: {why}"));
        Err(status)
    };
    if attributes.Size as usize != size_of::<WDF_OBJECT_ATTRIBUTES>() {
        return refuse(
            STATUS_INFO_LENGTH_MISMATCH,
            format!("WDF_OBJECT_ATTRIBUTES.Size is {}", attributes.Size),
        );
    }
    // SAFETY: a non-null ContextTypeInfo points at the driver's static type record.
    let info = unsafe { attributes.ContextTypeInfo.as_ref() };
    if let Some(info) = info {
        if info.Size as usize != size_of::<WDF_OBJECT_CONTEXT_TYPE_INFO>() {
            return refuse(
                STATUS_INFO_LENGTH_MISMATCH,
                format!("WDF_OBJECT_CONTEXT_TYPE_INFO.Size is {}", info.Size),
            );
        }
        if info.ContextSize > 0 && info.ContextName.is_null() {
            return refuse(
                STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
                "a context type with a size needs a ContextName".into(),
            );
        }
    }
    if attributes.ContextSizeOverride > 0
        && info.is_none_or(|i| attributes.ContextSizeOverride < i.ContextSize)
    {
        return refuse(
            STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
            "ContextSizeOverride without a context type, or below its ContextSize".into(),
        );
    }
    if !parent_allowed && !attributes.ParentObject.is_null() {
        return refuse(
            STATUS_WDF_PARENT_ASSIGNMENT_NOT_ALLOWED,
            "this object takes no ParentObject".into(),
        );
    }
    let level = attributes.ExecutionLevel;
    let scope = attributes.SynchronizationScope;
    if level == _WDF_EXECUTION_LEVEL::WdfExecutionLevelInvalid
        || level > _WDF_EXECUTION_LEVEL::WdfExecutionLevelDispatch
        || scope == _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeInvalid
        || scope > _WDF_SYNCHRONIZATION_SCOPE::WdfSynchronizationScopeNone
    {
        return refuse(
            STATUS_WDF_OBJECT_ATTRIBUTES_INVALID,
            format!(
                "ExecutionLevel {level} / SynchronizationScope {scope} out of range (0 is Invalid; WDF_OBJECT_ATTRIBUTES_INIT sets InheritFromParent)"
            ),
        );
    }
    if let Some(object) = state.objects.get_mut(&handle) {
        object.cleanup = attributes.EvtCleanupCallback;
        if let Some(info) = info {
            let size = info.ContextSize.max(attributes.ContextSizeOverride).max(1);
            let Ok(layout) = Layout::from_size_align(size, 16) else {
                return Err(STATUS_INVALID_PARAMETER);
            };
            // SAFETY: nonzero size.
            let memory = unsafe { alloc_zeroed(layout) };
            if memory.is_null() {
                return Err(STATUS_INSUFFICIENT_RESOURCES);
            }
            object.context = Some(ObjectContext {
                type_key: type_key(attributes.ContextTypeInfo),
                memory: memory as usize,
                layout,
            });
        }
    }
    Ok(level)
}

/// Resolves InheritFromParent against the parent's effective level (FxDriver::Initialize,
/// FxDeviceBase::ConfigureConstraints, FxIoQueue::ConfigureConstraints): true for PASSIVE_LEVEL.
pub(super) fn resolve_passive(level: WDF_EXECUTION_LEVEL, parent_passive: bool) -> bool {
    match level {
        _WDF_EXECUTION_LEVEL::WdfExecutionLevelPassive => true,
        _WDF_EXECUTION_LEVEL::WdfExecutionLevelDispatch => false,
        _ => parent_passive,
    }
}

pub(super) fn type_key(info: PCWDF_OBJECT_CONTEXT_TYPE_INFO) -> usize {
    // SAFETY: a non-null type record is the driver's static data.
    match unsafe { info.as_ref() } {
        Some(record) if !record.UniqueType.is_null() => record.UniqueType as usize,
        _ => info as usize,
    }
}

/// `WdfObjectGetTypedContextWorker`.
///
/// # Safety
/// Same contract as the real method.
pub unsafe fn WdfObjectGetTypedContextWorker(
    Handle: WDFOBJECT,
    TypeInfo: PCWDF_OBJECT_CONTEXT_TYPE_INFO,
) -> PVOID {
    let kernel = kernel::current();
    let state = lock(kernel.wdf());
    let found = state
        .objects
        .get(&(Handle as usize))
        .map(|o| o.context.as_ref().map(|c| (c.type_key, c.memory)));
    drop(state);
    match found {
        Some(Some((key, memory))) if key == type_key(TypeInfo) => memory as PVOID,
        Some(_) => {
            kernel.violate(
                rules::WDF_BAD_HANDLE,
                format!(
                    "WdfObjectGetTypedContextWorker({:#x}): the object has no context of that type",
                    Handle as usize
                ),
            );
            core::ptr::null_mut()
        }
        None => {
            kernel.violate(
                rules::WDF_BAD_HANDLE,
                format!(
                    "WdfObjectGetTypedContextWorker({:#x}): not a live object",
                    Handle as usize
                ),
            );
            core::ptr::null_mut()
        }
    }
}
