//! The repository's Windows files pass every check with the facts read from their sources of
//! truth: the driver's Cargo.toml and the IOCTL crate's `HARDWARE_ID` and `DEVICE_SDDL`.

mod common;

use common::{assert_clean, read_repo_file, reference_facts, repo_root};
use packaging_checks::{ProjectFacts, cargo_config, inx, makefile, manifest, workflow};

const IOCTL_SOURCE: &str = "crates/wsk-sample-ioctl/src/lib.rs";

fn facts_from_sources() -> ProjectFacts {
    ProjectFacts::from_sources(&read_repo_file("Cargo.toml"), &read_repo_file(IOCTL_SOURCE))
        .unwrap_or_else(|error| panic!("project facts from Cargo.toml and {IOCTL_SOURCE}: {error}"))
}

#[test]
fn the_sources_of_truth_hold_the_project_facts() {
    assert_eq!(facts_from_sources(), reference_facts());
}

#[test]
fn the_inx_is_named_after_the_crate_and_matches_the_code() {
    let facts = facts_from_sources();
    let inx_path = repo_root().join(facts.inx_file());
    assert!(
        inx_path.is_file(),
        "{} must exist: cargo make copies it to .inf",
        inx_path.display()
    );
    assert_clean(
        &inx::check_inx(&read_repo_file(&facts.inx_file()), &facts),
        "the INX",
    );
}

#[test]
fn the_driver_manifest_passes() {
    assert_clean(
        &manifest::check_driver_manifest(&read_repo_file("Cargo.toml")),
        "Cargo.toml",
    );
}

#[test]
fn the_makefile_passes_and_matches_the_driver_wdk_build() {
    let driver_manifest =
        manifest::parse(&read_repo_file("Cargo.toml")).expect("Cargo.toml parses");
    let requirement = manifest::wdk_build_requirement(&driver_manifest);
    assert!(
        requirement.is_some(),
        "the driver has a wdk-build build-dependency"
    );
    assert_clean(
        &makefile::check_makefile(&read_repo_file("Makefile.toml"), requirement.as_deref()),
        "Makefile.toml",
    );
}

#[test]
fn the_workflow_passes() {
    let driver_manifest =
        manifest::parse(&read_repo_file("Cargo.toml")).expect("Cargo.toml parses");
    let facts = ProjectFacts {
        crate_fs_name: manifest::crate_fs_name(&driver_manifest).expect("package name"),
        ..reference_facts()
    };
    assert_clean(
        &workflow::check_workflow(&read_repo_file(".github/workflows/windows.yml"), &facts),
        "the workflow",
    );
}

#[test]
fn the_cargo_config_passes() {
    assert_clean(
        &cargo_config::check_cargo_config(&read_repo_file(".cargo/config.toml")),
        ".cargo/config.toml",
    );
}
