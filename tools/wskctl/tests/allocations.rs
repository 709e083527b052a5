//! `send --json` on the kernel model reports what the model allocated for the driver during the
//! run (`"model": {"irps_allocated", "mdls_allocated", "pool_allocations"}`, counted from right
//! after the driver loaded), for single sends and for batches.
//!
//! The assertions are relations between a long and a short run: what the extra requests of the
//! long run cost is [`IRPS_PER_REQUEST`] each, and the rest is the same first-use setup. Since
//! each slot owns its IRP, reused with IoReuseIrp (issue 12, item 5), a request costs nothing.
#![cfg(not(windows))]

mod common;

use std::time::Duration;

use common::{json, run, stderr, stdout};
use test_fixtures::Receiver;

/// IRPs the driver allocates per send request or per batch request: none, a send goes out on
/// its slot's IRP (built with the slot when the driver loads).
const IRPS_PER_REQUEST: u64 = 0;

/// IRPs the first use of a family allocates, whatever the count: the control path's
/// synchronous calls (socket creation, bind, local address), at most this many.
const MOST_SETUP_IRPS: u64 = 8;

/// What one run reported: (requests, irps, mdls, pool).
fn send(receiver: &Receiver, count: u64, batch: Option<u64>) -> (u64, u64, u64, u64) {
    let count_text = count.to_string();
    let batch_text = batch.map(|b| b.to_string());
    let target = receiver.target();
    let mut args = vec![
        "send",
        "--to",
        &target,
        "--payload",
        "x",
        "--count",
        &count_text,
        "--json",
    ];
    if let Some(batch) = &batch_text {
        args.extend(["--batch", batch]);
    }
    let output = run(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&output),
        stderr(&output)
    );
    let summary = json(&output);
    assert_eq!(summary["datagrams_sent"], count, "{summary}");
    let model = &summary["model"];
    let field = |name: &str| {
        model[name]
            .as_u64()
            .unwrap_or_else(|| panic!("model.{name} missing or not a count: {summary}"))
    };
    let requests = summary["requests"]
        .as_u64()
        .unwrap_or_else(|| panic!("requests missing: {summary}"));
    let expected_requests = batch.map_or(count, |b| count.div_ceil(b));
    assert_eq!(requests, expected_requests, "{summary}");
    receiver.drain(Duration::from_millis(200));
    (
        requests,
        field("irps_allocated"),
        field("mdls_allocated"),
        field("pool_allocations"),
    )
}

fn counts_follow_the_requests(batch: Option<u64>) {
    let receiver = Receiver::v4();
    let (short_requests, short_irps, short_mdls, short_pool) = send(&receiver, 200, batch);
    let (long_requests, long_irps, long_mdls, long_pool) = send(&receiver, 2000, batch);
    // The send path builds no MDL and takes no pool: the slots' buffers and MDLs are made at load.
    assert_eq!((short_mdls, short_pool), (0, 0), "batch {batch:?}");
    assert_eq!((long_mdls, long_pool), (0, 0), "batch {batch:?}");
    // What the extra requests of the long run cost.
    assert_eq!(
        long_irps - short_irps,
        IRPS_PER_REQUEST * (long_requests - short_requests),
        "batch {batch:?}: {short_irps} IRPs for {short_requests} requests, {long_irps} for {long_requests}"
    );
    // The rest is the same first-use setup in both runs.
    let setup = |irps: u64, requests: u64| {
        irps.checked_sub(IRPS_PER_REQUEST * requests)
            .unwrap_or_else(|| panic!("batch {batch:?}: {irps} IRPs for {requests} requests"))
    };
    let short_setup = setup(short_irps, short_requests);
    let long_setup = setup(long_irps, long_requests);
    assert_eq!(short_setup, long_setup, "batch {batch:?}");
    assert!(
        short_setup <= MOST_SETUP_IRPS,
        "batch {batch:?}: {short_setup} setup IRPs"
    );
}

#[test]
fn single_sends_report_the_model_allocations_of_the_run() {
    counts_follow_the_requests(None);
}

#[test]
fn batches_report_the_model_allocations_of_the_run() {
    counts_follow_the_requests(Some(64));
}
