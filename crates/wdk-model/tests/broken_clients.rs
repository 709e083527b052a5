//! The model's self-tests. A small client written here, first done right (a clean report, so the
//! checks raise no false alarms), then broken in one way per case; each break must be reported
//! under exactly the rule it breaks (plus the rules its case declares as consequences, such as
//! the leak it leaves). One more test checks that every rule in `rules::ALL` has a broken client:
//! a clean report proves nothing for a rule no test has ever seen broken.
//!
//! Each case is its own test (`RULE_ID::what_the_client_does`, run with libtest-mimic), so
//! `cargo test -p wdk-model --test broken_clients -- IRP_` runs a subset.
//!
//! Adding broken clients from another file: put it under `tests/cases/` (or point a `#[path]`
//! at it), give it `pub fn cases() -> Vec<Case>` using `crate::common::*`, and add its
//! `cases()` to [`all_cases`].

mod cases;
mod common;

use libtest_mimic::{Arguments, Failed, Trial};
use wdk_model::Rule;
use wdk_model::rules;

use common::Case;

/// Every broken client.
fn all_cases() -> Vec<Case> {
    [
        cases::nt::cases(),
        cases::wsk::cases(),
        cases::kmdf::cases(),
        cases::special_pool::cases(),
        cases::wsk_unload::cases(),
        cases::receive::cases(),
        cases::unload_window::cases(),
        cases::events::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Rules that need no broken client here, each with the reason. Keep this list empty of
/// anything else: a rule without a broken client is a rule nobody has seen work.
const EXEMPT: &[(Rule, &str)] = &[];

/// Rules of `rules::ALL` with no case (and not exempt).
fn uncovered(cases: &[Case]) -> Vec<&'static str> {
    rules::ALL
        .iter()
        .filter(|rule| !cases.iter().any(|case| case.rule == **rule))
        .filter(|rule| !EXEMPT.iter().any(|(exempt, _)| exempt == *rule))
        .map(|rule| rule.id)
        .collect()
}

fn every_rule_has_a_broken_client() -> Result<(), Failed> {
    let cases = all_cases();
    let missing = uncovered(&cases);
    if !missing.is_empty() {
        return Err(format!(
            "{} rule(s) of rules::ALL have no deliberately broken client: {missing:?}",
            missing.len()
        )
        .into());
    }
    for (rule, _) in EXEMPT {
        if !rules::ALL.contains(rule) {
            return Err(format!("exempt rule {} is not in rules::ALL", rule.id).into());
        }
        if cases.iter().any(|case| case.rule == *rule) {
            return Err(format!("{} has a broken client: drop its exemption", rule.id).into());
        }
    }
    let mut names: Vec<String> = cases.iter().map(Case::test_name).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    if names.len() != before {
        return Err("two cases share a name".into());
    }
    Ok(())
}

/// The coverage check itself must be able to fail: with one rule's broken clients left out of
/// the table, it names that rule.
fn the_coverage_check_names_a_rule_left_without_a_client() -> Result<(), Failed> {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|case| case.rule != rules::IRP_DOUBLE_FREE)
        .collect();
    let missing = uncovered(&cases);
    if missing != ["IRP_DOUBLE_FREE"] {
        return Err(format!("expected only IRP_DOUBLE_FREE to be missing, got {missing:?}").into());
    }
    Ok(())
}

fn main() {
    let arguments = Arguments::from_args();
    let mut trials = vec![
        Trial::test(
            "clean::a_correct_client_sends_and_leaves_a_clean_report",
            cases::correct::a_correct_client_sends_and_leaves_a_clean_report,
        ),
        Trial::test(
            "clean::a_client_reusing_its_irp_with_io_reuse_irp_is_clean",
            cases::correct::a_client_reusing_its_irp_with_io_reuse_irp_is_clean,
        ),
        Trial::test(
            "coverage::every_rule_has_a_broken_client",
            every_rule_has_a_broken_client,
        ),
        Trial::test(
            "coverage::the_check_names_a_rule_left_without_a_client",
            the_coverage_check_names_a_rule_left_without_a_client,
        ),
    ];
    trials.extend(
        cases::wsk_unload::checks()
            .into_iter()
            .map(|(name, check)| Trial::test(format!("wsk::{name}"), check)),
    );
    trials.extend(
        cases::receive::checks()
            .into_iter()
            .map(|(name, check)| Trial::test(format!("receive::{name}"), check)),
    );
    trials.extend(
        cases::events::checks()
            .into_iter()
            .map(|(name, check)| Trial::test(format!("events::{name}"), check)),
    );
    trials.extend(
        cases::unload_window::checks()
            .into_iter()
            .map(|(name, check)| Trial::test(format!("unload::{name}"), check)),
    );
    trials.extend(
        all_cases()
            .into_iter()
            .map(|case| Trial::test(case.test_name(), move || case.check().map_err(Failed::from))),
    );
    libtest_mimic::run(&arguments, trials).exit();
}
