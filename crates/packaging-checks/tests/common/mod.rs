//! Helpers shared by the packaging tests: reading the repository's files and running a checker
//! on deliberately broken copies of them.

// Each test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use packaging_checks::{Findings, ProjectFacts};

/// The repository root (this crate lives in `crates/packaging-checks`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text of a file of the repository, given relative to its root.
pub fn read_repo_file(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The facts the project fixes (hardware ID, device SDDL, service and crate names). The mutation
/// tests check the checkers against these, so that they do not depend on other crates' progress;
/// `repository.rs` checks that the sources of truth agree with them.
pub fn reference_facts() -> ProjectFacts {
    ProjectFacts {
        crate_fs_name: "wsk_sample".to_owned(),
        hardware_id: r"Root\WskSample".to_owned(),
        device_sddl: "D:P(A;;GA;;;SY)(A;;GA;;;BA)".to_owned(),
        service_name: "WskSample".to_owned(),
    }
}

/// Fails with every finding listed when `findings` is not empty.
pub fn assert_clean(findings: &Findings, what: &str) {
    assert!(findings.is_empty(), "{what} should pass, but:\n{findings}");
}

/// A deliberate defect: text replacements to apply and the rule that must catch the result.
pub struct Mutation {
    pub description: &'static str,
    /// `(original text, replacement)`; each original text must occur exactly once.
    pub edits: &'static [(&'static str, &'static str)],
    pub rule: &'static str,
}

/// Applies the edits of `mutation` to `original`.
pub fn apply(original: &str, mutation: &Mutation) -> String {
    let mut text = original.to_owned();
    for (from, to) in mutation.edits {
        let occurrences = text.matches(from).count();
        assert_eq!(
            occurrences, 1,
            "mutation `{}`: {from:?} occurs {occurrences} times; it must occur once",
            mutation.description
        );
        text = text.replacen(from, to, 1);
    }
    text
}

/// Checks that `check` passes on `original` and reports each mutation's rule on the mutated copy.
pub fn assert_mutations_caught(
    original: &str,
    mutations: &[Mutation],
    check: impl Fn(&str) -> Findings,
) {
    assert_clean(&check(original), "the unmodified file");
    let missed: Vec<String> = mutations
        .iter()
        .filter_map(|mutation| {
            let findings = check(&apply(original, mutation));
            (!findings.has_rule(mutation.rule)).then(|| {
                format!(
                    "`{}` was not reported as [{}]; findings:\n{findings}",
                    mutation.description, mutation.rule
                )
            })
        })
        .collect();
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
