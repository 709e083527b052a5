//! The driver's Cargo.toml carries what wdk-build 0.6 and its packaging flow need.

mod common;

use common::{Mutation, assert_mutations_caught, read_repo_file};
use packaging_checks::manifest::check_driver_manifest;

#[test]
fn driver_manifest_defects_are_caught() {
    assert_mutations_caught(
        &read_repo_file("Cargo.toml"),
        MUTATIONS,
        check_driver_manifest,
    );
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "not valid TOML",
        edits: &[("[lib]", "[lib")],
        rule: "manifest.parse",
    },
    Mutation {
        description: "UMDF instead of KMDF",
        edits: &[(r#"driver-type = "KMDF""#, r#"driver-type = "UMDF""#)],
        rule: "manifest.wdk-metadata",
    },
    Mutation {
        description: "KMDF major version 2",
        edits: &[("kmdf-version-major = 1", "kmdf-version-major = 2")],
        rule: "manifest.wdk-metadata",
    },
    Mutation {
        description: "target minor version as a string",
        edits: &[(
            "target-kmdf-version-minor = 31",
            r#"target-kmdf-version-minor = "31""#,
        )],
        rule: "manifest.wdk-metadata",
    },
    Mutation {
        description: "minimum minor above the target",
        edits: &[(
            "target-kmdf-version-minor = 31",
            "target-kmdf-version-minor = 31\nminimum-kmdf-version-minor = 33",
        )],
        rule: "manifest.wdk-metadata",
    },
    Mutation {
        description: "a key wdk-build does not know",
        edits: &[(
            "kmdf-version-major = 1",
            "kmdf-version-major = 1\nkmdf-version-minor = 31",
        )],
        rule: "manifest.wdk-metadata",
    },
    Mutation {
        description: "no wdk metadata",
        edits: &[(
            "[package.metadata.wdk.driver-model]",
            "[package.metadata.other.driver-model]",
        )],
        rule: "manifest.wdk-metadata",
    },
    Mutation {
        description: "no cdylib",
        edits: &[(
            r#"crate-type = ["cdylib", "rlib"]"#,
            r#"crate-type = ["rlib"]"#,
        )],
        rule: "manifest.crate-type",
    },
    Mutation {
        description: "a lib name the packaging flow would not find",
        edits: &[("[lib]", "[lib]\nname = \"wsk\"")],
        rule: "manifest.lib-name",
    },
    Mutation {
        description: "unwinding dev profile",
        edits: &[(
            "[profile.dev]\npanic = \"abort\"",
            "[profile.dev]\npanic = \"unwind\"",
        )],
        rule: "manifest.panic",
    },
    Mutation {
        description: "no wdk-build build-dependency",
        edits: &[(r#"wdk-build = "0.6.0""#, r#"wdk-builder = "0.6.0""#)],
        rule: "manifest.wdk-build",
    },
];
