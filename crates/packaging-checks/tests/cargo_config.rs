//! `.cargo/config.toml` gives Windows MSVC builds `+crt-static` and leaves Linux builds alone.

mod common;

use common::{Mutation, assert_mutations_caught, read_repo_file};
use packaging_checks::cargo_config::check_cargo_config;

#[test]
fn cargo_config_defects_are_caught() {
    assert_mutations_caught(
        &read_repo_file(".cargo/config.toml"),
        MUTATIONS,
        check_cargo_config,
    );
}

#[test]
fn string_and_attached_flag_forms_are_accepted() {
    let string_form =
        "[target.x86_64-pc-windows-msvc]\nrustflags = \"-C target-feature=+crt-static\"\n";
    assert!(check_cargo_config(string_form).is_empty());
    let attached =
        "[target.x86_64-pc-windows-msvc]\nrustflags = [\"-Ctarget-feature=+crt-static\"]\n";
    assert!(check_cargo_config(attached).is_empty());
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "not valid TOML",
        edits: &[(
            "[target.x86_64-pc-windows-msvc]",
            "[target.x86_64-pc-windows-msvc",
        )],
        rule: "cargo-config.parse",
    },
    Mutation {
        description: "no crt-static for x86_64 Windows",
        edits: &[(
            "[target.x86_64-pc-windows-msvc]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]",
            "[target.x86_64-pc-windows-msvc]\nrustflags = []",
        )],
        rule: "cargo-config.crt-static",
    },
    Mutation {
        description: "misspelt feature",
        edits: &[(
            "[target.x86_64-pc-windows-msvc]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]",
            "[target.x86_64-pc-windows-msvc]\nrustflags = [\"-C\", \"target-feature=+crt-statik\"]",
        )],
        rule: "cargo-config.crt-static",
    },
    Mutation {
        description: "flags for every target",
        edits: &[(
            "[target.x86_64-pc-windows-msvc]",
            "[build]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n\n[target.x86_64-pc-windows-msvc]",
        )],
        rule: "cargo-config.scope",
    },
    Mutation {
        description: "crt-static for Linux",
        edits: &[(
            "[target.aarch64-pc-windows-msvc]",
            "[target.x86_64-unknown-linux-gnu]",
        )],
        rule: "cargo-config.scope",
    },
];
