//! The cargo-make `Makefile.toml` has the `load_script`/`extend` form wdk-build 0.6 documents.

mod common;

use common::{Mutation, assert_mutations_caught, read_repo_file};
use packaging_checks::makefile::check_makefile;
use packaging_checks::manifest;

fn driver_wdk_build() -> String {
    let driver_manifest =
        manifest::parse(&read_repo_file("Cargo.toml")).expect("Cargo.toml parses");
    manifest::wdk_build_requirement(&driver_manifest)
        .expect("the driver has a wdk-build build-dependency")
}

#[test]
fn makefile_defects_are_caught() {
    let requirement = driver_wdk_build();
    assert_mutations_caught(&read_repo_file("Makefile.toml"), MUTATIONS, |text| {
        check_makefile(text, Some(&requirement))
    });
}

#[test]
fn a_driver_on_another_wdk_build_series_is_a_mismatch() {
    let findings = check_makefile(&read_repo_file("Makefile.toml"), Some("0.5.1"));
    assert!(
        findings.has_rule("makefile.wdk-build-version"),
        "{findings}"
    );
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "not valid TOML",
        edits: &[("[config]", "[config")],
        rule: "makefile.parse",
    },
    Mutation {
        description: "extends another makefile",
        edits: &[(
            r#"extend = "target/rust-driver-makefile.toml""#,
            r#"extend = "target/rust-driver-sample-makefile.toml""#,
        )],
        rule: "makefile.extend",
    },
    Mutation {
        description: "no load_script",
        edits: &[("load_script = '''", "windows_load_script = '''")],
        rule: "makefile.load-script",
    },
    Mutation {
        description: "load script is not a rust-script",
        edits: &[("#!@rust", "#!@duckscript")],
        rule: "makefile.load-script",
    },
    Mutation {
        description: "load script loads the samples makefile",
        edits: &[(
            "load_rust_driver_makefile()?",
            "load_rust_driver_sample_makefile()?",
        )],
        rule: "makefile.load-script",
    },
    Mutation {
        description: "load script ignores the error",
        edits: &[(
            "load_rust_driver_makefile()?",
            "load_rust_driver_makefile().ok();",
        )],
        rule: "makefile.load-script",
    },
    Mutation {
        description: "load script without the wdk-build dependency",
        edits: &[(r#"//! wdk-build = "0.6.0""#, r#"//! wdk-sys = "0.5.2""#)],
        rule: "makefile.load-script",
    },
    Mutation {
        description: "load script on an older wdk-build",
        edits: &[(r#"//! wdk-build = "0.6.0""#, r#"//! wdk-build = "0.5.1""#)],
        rule: "makefile.wdk-build-version",
    },
    Mutation {
        description: "workspace mode (would skip the root driver package)",
        edits: &[(
            "default_to_workspace = false",
            "default_to_workspace = true",
        )],
        rule: "makefile.workspace",
    },
    Mutation {
        description: "RUSTFLAGS in [env]",
        edits: &[(
            r#"extend = "target/rust-driver-makefile.toml""#,
            "extend = \"target/rust-driver-makefile.toml\"\n\n[env]\nRUSTFLAGS = \"-D warnings\"",
        )],
        rule: "makefile.rustflags",
    },
];
