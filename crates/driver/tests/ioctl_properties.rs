//! IOCTL properties through the whole DeviceIoControl path: the fuzz target's scenarios (a fresh
//! kernel, the real driver, perhaps one injected failure, up to 32 raw, valid, mutated,
//! access-restricted or concurrent IOCTLs), drawn by proptest for a bounded number of cases and
//! checked against the same invariants: no panic, no rule broken, sizes within the output
//! buffer, statuses as the ABI predicts, no uninitialised output, statistics that agree with
//! what was done, and a clean unload.
//!
//! The generator and the invariants are the `ioctl-scenarios` crate (crates/ioctl-scenarios),
//! shared with the fuzz target `fuzz/fuzz_targets/ioctl.rs`. Cases: `PROPTEST_CASES` (default 64); the seed is fixed unless
//! `PROPTEST_RNG_SEED` is set.
#![cfg(not(target_os = "windows"))]

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use ioctl_scenarios::{Scenario, Summary, run};

/// Random bytes, as libFuzzer would hand them to the target.
fn scenario_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 64..4_096)
}

fn config() -> Config {
    let defaults = Config::default();
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64),
        rng_seed: match defaults.rng_seed {
            RngSeed::Random => RngSeed::Fixed(0x5753_4B53_494F_4354),
            seed => seed,
        },
        // Regressions are printed, not written next to the test.
        failure_persistence: None,
        ..defaults
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_ioctl_sequence_keeps_the_invariants(bytes in scenario_bytes()) {
        let scenario = Scenario::from_bytes(&bytes);
        match run(&scenario) {
            Ok(_) => {}
            Err(finding) => prop_assert!(false, "{}", finding),
        }
    }
}

/// The generator reaches the deep paths: with the fixed seed, the cases above include successful
/// sends, batches, configuration and stats (checked after they ran, in the same process).
#[test]
fn the_generator_reaches_every_success_path() {
    // Runs its own small set so it does not depend on test order.
    let mut runner = proptest::test_runner::TestRunner::new(Config {
        cases: 24,
        ..config()
    });
    let totals = RefCell::new(Summary::default());
    runner
        .run(&scenario_bytes(), |bytes| {
            let summary = run(&Scenario::from_bytes(&bytes))
                .map_err(|f| TestCaseError::fail(f.to_string()))?;
            let mut t = totals.borrow_mut();
            t.ioctls += summary.ioctls;
            t.reached_driver += summary.reached_driver;
            t.sends_ok += summary.sends_ok;
            t.batches_ok += summary.batches_ok;
            t.configs_ok += summary.configs_ok;
            t.stats_ok += summary.stats_ok;
            t.runtime_errors += summary.runtime_errors;
            t.rewritten += summary.rewritten;
            Ok(())
        })
        .expect("every case keeps the invariants");
    let totals = totals.into_inner();
    eprintln!("coverage of 24 cases: {totals:?}");
    assert!(totals.sends_ok > 0, "no successful send: {totals:?}");
    assert!(totals.batches_ok > 0, "no successful batch: {totals:?}");
    assert!(totals.configs_ok > 0, "no successful configure: {totals:?}");
    assert!(totals.stats_ok > 0, "no successful stats query: {totals:?}");
}
