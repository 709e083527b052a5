//! The repository's files agree, and copies of them with one real cross-file mismatch do not.

use std::path::{Path, PathBuf};

use packaging_checks::{Findings, check};

/// Every file the checks read, relative to the repository root.
const FILES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "Makefile.toml",
    ".cargo/config.toml",
    ".github/workflows/windows.yml",
    "README.md",
    "docs/WINDOWS.md",
    "wsk_sample.inx",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the checks on a temporary copy of the files with `edits` applied: `(file, text, new
/// text)`, where `text` must occur in `file`; `new text` replaces its first occurrence.
fn check_copy_with(edits: &[(&str, &str, &str)]) -> Findings {
    check_renamed_copy_with("wsk_sample.inx", edits)
}

/// Like [`check_copy_with`], with the INX copied as `inx_name`.
fn check_renamed_copy_with(inx_name: &str, edits: &[(&str, &str, &str)]) -> Findings {
    let copy = tempfile::tempdir().expect("temporary directory");
    for file in FILES {
        let mut text = std::fs::read_to_string(repo_root().join(file)).expect(file);
        for (_, from, to) in edits.iter().filter(|(edited, _, _)| edited == file) {
            assert!(text.contains(from), "{file} does not contain {from:?}");
            text = text.replacen(from, to, 1);
        }
        let target = copy.path().join(if *file == "wsk_sample.inx" {
            inx_name
        } else {
            file
        });
        std::fs::create_dir_all(target.parent().expect("parent")).expect("create_dir_all");
        std::fs::write(target, text).expect("write");
    }
    check(copy.path())
}

fn assert_found(findings: &Findings, rule: &str) {
    assert!(findings.has(rule), "expected [{rule}], found:\n{findings}");
}

#[test]
fn the_repository_files_agree() {
    let findings = check(&repo_root());
    assert!(findings.0.is_empty(), "{findings}");
    assert!(
        check_copy_with(&[]).0.is_empty(),
        "an unedited copy agrees too"
    );
}

#[test]
fn an_inx_hardware_id_other_than_the_code_s_is_found() {
    let findings = check_copy_with(&[(
        "wsk_sample.inx",
        r"WskSample_Device, Root\WskSample",
        r"WskSample_Device, Root\WskSender",
    )]);
    assert_found(&findings, "inx.hardware-id");
}

#[test]
fn an_inx_sddl_other_than_the_code_s_is_found() {
    let findings = check_copy_with(&[(
        "wsk_sample.inx",
        r#"HKR,,Security,,"D:P(A;;GA;;;SY)(A;;GA;;;BA)""#,
        r#"HKR,,Security,,"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;WD)""#,
    )]);
    assert_found(&findings, "inx.sddl");
}

#[test]
fn an_inx_service_other_than_the_function_driver_is_found() {
    let findings = check_copy_with(&[(
        "wsk_sample.inx",
        "KmdfService = WskSample,",
        "KmdfService = WskSender,",
    )]);
    assert_found(&findings, "inx.service");
}

#[test]
fn a_kmdf_version_the_inx_and_docs_do_not_allow_for_is_found() {
    let findings = check_copy_with(&[(
        "Cargo.toml",
        "target-kmdf-version-minor = 31",
        "target-kmdf-version-minor = 33",
    )]);
    assert_found(&findings, "kmdf.inx");
    assert_found(&findings, "kmdf.docs");
}

#[test]
fn a_hard_coded_kmdf_version_in_the_inx_is_found() {
    let findings = check_copy_with(&[(
        "wsk_sample.inx",
        "KmdfLibraryVersion = $KMDFVERSION$",
        "KmdfLibraryVersion = 1.31",
    )]);
    assert_found(&findings, "inx.stampinf");
}

#[test]
fn a_renamed_crate_is_found_in_the_inx_and_the_workflow() {
    let findings = check_renamed_copy_with(
        "wsk_sender.inx",
        &[(
            "Cargo.toml",
            r#"name = "wsk-sample""#,
            r#"name = "wsk-sender""#,
        )],
    );
    assert_found(&findings, "inx.names");
    assert_found(&findings, "workflow.names");
}

#[test]
fn a_load_script_on_another_wdk_build_series_is_found() {
    let findings = check_copy_with(&[(
        "Makefile.toml",
        r#"//! wdk-build = "0.6.0""#,
        r#"//! wdk-build = "0.5.0""#,
    )]);
    assert_found(&findings, "makefile.wdk-build");
}

#[test]
fn rustflags_that_would_drop_the_static_crt_are_found() {
    let findings = check_copy_with(&[
        (
            "Makefile.toml",
            "[env]",
            "[env]\nRUSTFLAGS = \"-D warnings\"",
        ),
        (
            ".github/workflows/windows.yml",
            "  CARGO_TERM_COLOR: always",
            "  CARGO_TERM_COLOR: always\n  RUSTFLAGS: \"\"",
        ),
        (
            ".cargo/config.toml",
            "[target.x86_64-pc-windows-msvc]",
            "[target.x86_64-unknown-linux-gnu]",
        ),
    ]);
    assert_found(&findings, "makefile.rustflags");
    assert_found(&findings, "workflow.rustflags");
    assert_found(&findings, "cargo-config.crt-static");
}

#[test]
fn a_wdk_the_docs_do_not_name_is_found() {
    let findings = check_copy_with(&[(
        ".github/workflows/windows.yml",
        "version: 10.0.26100.6584",
        "version: 10.0.26100.4202",
    )]);
    assert_found(&findings, "docs.wdk");
}
