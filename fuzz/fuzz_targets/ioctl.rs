//! Fuzzes the wsk-sample driver's IOCTLs through the whole DeviceIoControl path of the kernel
//! model: each input is a [`Scenario`] (a fresh kernel, the real driver, perhaps one injected
//! failure, up to 32 raw, valid, mutated, access-restricted or concurrent IOCTLs) checked
//! against every invariant of the `ioctl-scenarios` crate (crates/ioctl-scenarios).
//! A broken invariant panics, which libFuzzer reports as a crash and saves as an artifact;
//! `cargo fuzz fmt ioctl <artifact>` prints the scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ioctl_scenarios::{Scenario, run};

fuzz_target!(|scenario: Scenario| {
    if let Err(finding) = run(&scenario) {
        panic!("IOCTL invariant broken: {finding}");
    }
});
