//! The unload report: what the driver left behind, by kind.

use std::collections::HashMap;

use super::outcome::Report;
use crate::kernel::{KernelState, lock, rules};
use crate::wsk::provider;
use crate::{devobj, irp, mdl, pool};

pub(super) fn build(core: &KernelState) -> Report {
    pool::check_all(core, "at unload");
    let mut leaks = Vec::new();
    let pool_tags = pool::table(core).by_tag();
    let mut tags: Vec<_> = pool_tags.into_iter().collect();
    tags.sort();
    for (tag, (count, bytes)) in tags {
        leaks.push(format!(
            "pool tag '{}': {count} allocation(s), {bytes} bytes",
            pool::tag_name(tag)
        ));
    }
    let irps = irp::live_irps(core);
    if !irps.is_empty() {
        leaks.push(format!("{} IRP(s) never freed: {irps:x?}", irps.len()));
    }
    let references = devobj::references_left(core);
    if references > 0 {
        leaks.push(format!(
            "{references} device object reference(s) never dropped (IoSetCompletionRoutineEx contexts of IRPs never sent)"
        ));
    }
    let mdls = mdl::live_count(core);
    if mdls > 0 {
        leaks.push(format!("{mdls} MDL(s) never freed"));
    }
    {
        let provider::Leftovers {
            sockets,
            registrations,
            captures,
        } = provider::leftovers(core);
        if sockets > 0 {
            leaks.push(format!("{sockets} socket(s) never closed"));
        }
        if registrations > 0 {
            leaks.push(format!(
                "{registrations} WSK registration(s) never deregistered"
            ));
            core.violate(
                rules::WSK_UNLOAD_WITH_REGISTRATION,
                format!("{registrations} WSK registration(s) alive after unload"),
            );
        }
        if captures > 0 {
            leaks.push(format!("{captures} provider NPI capture(s) never released"));
            core.violate(
                rules::WSK_UNLOAD_WITH_CAPTURE,
                format!("{captures} provider NPI capture(s) held after unload"),
            );
        }
    }
    let state = lock(core.wdf());
    let requests = state
        .requests
        .values()
        .filter(|r| r.completion.is_none())
        .count();
    if requests > 0 {
        leaks.push(format!("{requests} request(s) never completed"));
    }
    // A completed request waiting for its caller to pick up the result is, on Windows,
    // already gone from the framework; only the caller's copy of the result remains.
    let awaiting_pickup = |handle: &usize| {
        state
            .requests
            .get(handle)
            .is_some_and(|r| r.completion.is_some())
    };
    let objects: HashMap<String, usize> = state
        .objects
        .iter()
        .filter(|(handle, _)| !awaiting_pickup(handle))
        .fold(HashMap::new(), |mut m, (_, o)| {
            *m.entry(format!("{:?}", o.kind)).or_default() += 1;
            m
        });
    drop(state);
    for (kind, count) in objects {
        leaks.push(format!("{count} WDF {kind} object(s) never deleted"));
    }
    for leak in &leaks {
        core.violate(rules::LEAK, leak.clone());
    }
    Report {
        violations: lock(&core.violations).clone(),
        leaks,
        vetoed: None,
    }
}
