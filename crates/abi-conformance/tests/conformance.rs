//! The Rust layouts against Wine's headers (compiled by mingw-w64's gcc) and against the
//! reference table, plus the negative proof: every check fails when a Rust value drifts.
//!
//! The C checks are reported as ignored (with the reason on stderr) when the compiler or the
//! headers are missing, unless `WSK_SAMPLE_REQUIRE_CONFORMANCE=1` makes them mandatory (then they
//! run and fail); see .ci/abi-conformance.sh. That decision is made when the tests start, so
//! this file runs its tests with libtest-mimic (`harness = false`): libtest's `#[ignore]` is fixed
//! at compile time.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use abi_conformance::c_source::render;
use abi_conformance::exclusions::{exclusion_for, exclusions};
use abi_conformance::reference::{
    NPI_WSK_INTERFACE_ID, disagreements, guid_bytes, reference_table,
};
use abi_conformance::toolchain::{CChecks, Compilation, Toolchain};
use abi_conformance::{CItem, Fact, Property, Side, all_facts};

use libtest_mimic::{Arguments, Trial};

fn main() {
    let arguments = Arguments::from_args();
    let c_checks = CChecks::here();
    if let CChecks::Ignore(reason) = &c_checks {
        eprintln!("abi-conformance: the C checks against Wine's headers are ignored: {reason}");
    }
    // A check against Wine's headers: ignored or failing as `c_checks` says.
    let c = |name: &str, check: fn(&Toolchain)| {
        let c_checks = c_checks.clone();
        let ignored = matches!(c_checks, CChecks::Ignore(_));
        Trial::test(name, move || match c_checks {
            CChecks::Run(toolchain) => {
                check(&toolchain);
                Ok(())
            }
            // Reached for an ignored check only with --ignored or --include-ignored.
            CChecks::Ignore(reason) | CChecks::Fail(reason) => Err(reason.into()),
        })
        .with_ignored_flag(ignored)
    };
    let rust = |name: &str, check: fn()| {
        Trial::test(name, move || {
            check();
            Ok(())
        })
    };
    macro_rules! trials {
        ($kind:ident: $($check:ident),* $(,)?) => {
            [$($kind(stringify!($check), $check)),*]
        };
    }
    let trials = trials![c:
        wine_headers_accept_every_rust_layout,
        every_c_assertion_fails_when_its_rust_value_drifts,
        a_single_drift_in_any_struct_fails_the_build,
        excluded_facts_still_disagree_with_wine,
    ]
    .into_iter()
    .chain(trials![rust:
        every_exclusion_covers_some_fact,
        rust_layouts_match_the_reference_table,
        every_reference_entry_is_checked_by_each_side_that_defines_its_type,
        the_reference_table_catches_every_drift_it_covers,
        io_size_of_irp_with_one_stack_location_is_280,
        the_abi_carries_the_reference_npi_wsk_interface_id,
        every_struct_of_every_side_is_checked,
        c_designators_hold_no_bindgen_names_and_every_message_is_unique,
        the_checked_numbers_include_the_ones_the_driver_depends_on,
    ])
    .collect();
    libtest_mimic::run(&arguments, trials).exit();
}

// ---------------------------------------------------------------------------------------------
// Against Wine's headers
// ---------------------------------------------------------------------------------------------

fn wine_headers_accept_every_rust_layout(toolchain: &Toolchain) {
    let compilation = compile(toolchain, "abi-conformance", &all_facts());
    assert!(
        compilation.accepted,
        "Wine's headers disagree with the Rust side:\n{}",
        compilation.report()
    );
}

/// All facts wrong at once: each compared fact's own assertion must be among the failures, so
/// no assertion in the file is vacuous. (Facts that already fail unperturbed are left out: a
/// drift of +8 could land on the C value by chance.)
fn every_c_assertion_fails_when_its_rust_value_drifts(toolchain: &Toolchain) {
    let facts = all_facts();
    let baseline = compile(toolchain, "all-baseline", &facts);
    let already_failing: HashSet<&str> = baseline.failed_assertions().into_iter().collect();
    let perturbed: Vec<Fact> = facts.iter().map(Fact::perturbed).collect();
    let compilation = compile(toolchain, "all-perturbed", &perturbed);
    assert!(
        !compilation.accepted,
        "every value was wrong and the C file still compiled"
    );
    let failed: HashSet<&str> = compilation.failed_assertions().into_iter().collect();
    let silent: Vec<String> = compared(&facts)
        .filter(|fact| !already_failing.contains(fact.c_message_literal().as_str()))
        .map(Fact::perturbed)
        .filter(|drifted| !failed.contains(drifted.c_message_literal().as_str()))
        .map(|drifted| drifted.message())
        .collect();
    assert!(
        silent.is_empty(),
        "these assertions did not fire on a wrong value:\n{}",
        silent.join("\n")
    );
}

/// One wrong value among all the right ones, for a sample of every struct of every side (its
/// size and its last member) and of the constants: the build fails on exactly that assertion.
/// Judged against the unperturbed file's failures, so the proof holds even while a real
/// disagreement makes that file fail.
fn a_single_drift_in_any_struct_fails_the_build(toolchain: &Toolchain) {
    let facts = all_facts();
    let baseline = compile(toolchain, "drift-baseline", &facts);
    let samples = drift_samples(&facts);
    let problems: Vec<String> = in_parallel(&samples, |index, sample| {
        let drifted = with_drift(&facts, sample);
        let compilation = compile(toolchain, &format!("drift-{index:03}"), &drifted);
        single_failure_problem(&baseline, &compilation, &sample.perturbed())
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        problems.is_empty(),
        "{} of {} drifts were not caught alone:\n{}",
        problems.len(),
        samples.len(),
        problems.join("\n")
    );
}

/// An exclusion hides a disagreement with Wine; if Wine stops disagreeing, the exclusion must go.
fn excluded_facts_still_disagree_with_wine(toolchain: &Toolchain) {
    let exclusions = exclusions();
    let excluded: Vec<Fact> = all_facts()
        .into_iter()
        .filter(|fact| exclusion_for(&exclusions, fact).is_some())
        .collect();
    assert!(!excluded.is_empty());
    let now_agreeing: Vec<String> = in_parallel(&excluded, |index, fact| {
        let compilation = toolchain
            .check(
                &scratch_directory(),
                &format!("excluded-{index:03}"),
                &render(std::slice::from_ref(fact), &[]),
            )
            .expect("run the C compiler");
        compilation.accepted.then(|| fact.message())
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        now_agreeing.is_empty(),
        "Wine's headers now agree; drop these exclusions:\n{}",
        now_agreeing.join("\n")
    );
}

fn every_exclusion_covers_some_fact() {
    let facts = all_facts();
    for exclusion in exclusions() {
        assert!(
            facts.iter().any(|fact| exclusion.covers(fact)),
            "stale exclusion {exclusion:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Against the reference table
// ---------------------------------------------------------------------------------------------

fn rust_layouts_match_the_reference_table() {
    let disagreements = disagreements(&all_facts(), &reference_table());
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Every number of the table is checked on every side that defines its type, so the table is
/// not silently skipped when a Rust name or C designator changes.
fn every_reference_entry_is_checked_by_each_side_that_defines_its_type() {
    let table = reference_table();
    let mut unchecked = Vec::new();
    for side in Side::ALL {
        let facts = side.facts();
        let types: HashSet<&str> = facts.iter().filter_map(|fact| fact.item.c_type()).collect();
        for expected in table
            .iter()
            .filter(|expected| expected.item.c_type().is_some_and(|ty| types.contains(ty)))
        {
            if !facts.iter().any(|fact| expected.matches_item_of(fact)) {
                unchecked.push(format!(
                    "{side:?}: {:?} of {}",
                    expected.property, expected.item
                ));
            }
        }
    }
    let facts = all_facts();
    for expected in table
        .iter()
        .filter(|expected| matches!(expected.item, CItem::Constant(_)))
    {
        if !facts.iter().any(|fact| expected.matches_item_of(fact)) {
            unchecked.push(format!("no side defines {}", expected.item));
        }
    }
    assert!(
        unchecked.is_empty(),
        "reference entries no fact states:\n{}",
        unchecked.join("\n")
    );
}

fn the_reference_table_catches_every_drift_it_covers() {
    let table = reference_table();
    let facts = all_facts();
    let covered: Vec<&Fact> = facts
        .iter()
        .filter(|fact| table.iter().any(|expected| expected.matches_item_of(fact)))
        // Facts already off the table are the other test's business (+8 could land on it).
        .filter(|fact| disagreements(std::slice::from_ref(*fact), &table).is_empty())
        .collect();
    assert!(
        covered.len() > 150,
        "only {} facts are covered by the table",
        covered.len()
    );
    for fact in covered {
        assert_eq!(
            disagreements(&[fact.perturbed()], &table).len(),
            1,
            "a drift of {} went unnoticed",
            fact.message()
        );
    }
}

fn io_size_of_irp_with_one_stack_location_is_280() {
    assert_eq!(
        size_of::<wdk_model::IRP>() + size_of::<wdk_model::IO_STACK_LOCATION>(),
        280
    );
}

/// Wine's headers do not define NPI_WSK_INTERFACE_ID; the table is the only other source. The
/// GUID's bytes as they lie in memory (Data1..Data3 little-endian on x64, Data4 as written).
fn the_abi_carries_the_reference_npi_wsk_interface_id() {
    let id = &wsk_abi::NPI_WSK_INTERFACE_ID;
    let mut bytes = Vec::with_capacity(16);
    bytes.extend(id.Data1.to_le_bytes());
    bytes.extend(id.Data2.to_le_bytes());
    bytes.extend(id.Data3.to_le_bytes());
    bytes.extend(id.Data4);
    assert_eq!(bytes, guid_bytes(NPI_WSK_INTERFACE_ID));
}

// ---------------------------------------------------------------------------------------------
// The generator itself
// ---------------------------------------------------------------------------------------------

/// Deleting a struct from the generator would quietly stop checking it.
fn every_struct_of_every_side_is_checked() {
    const WSK: &[&str] = &[
        "WSK_CLIENT_DISPATCH",
        "WSK_CLIENT_NPI",
        "WSK_REGISTRATION",
        "WSK_SOCKET",
        "WSK_BUF",
        "WSK_BUF_LIST",
        "SOCKADDR",
        "SOCKADDR_IN",
        "SOCKADDR_IN6",
        "WSK_PROVIDER_DISPATCH",
        "WSK_PROVIDER_NPI",
        "WSK_PROVIDER_DATAGRAM_DISPATCH",
        "WSK_DATAGRAM_INDICATION",
        "WSK_CLIENT_DATAGRAM_DISPATCH",
        "WSK_EVENT_CALLBACK_CONTROL",
    ];
    const KERNEL: &[&str] = &[
        "IRP",
        "IO_STACK_LOCATION",
        "MDL",
        "IO_STATUS_BLOCK",
        "KEVENT",
        "LARGE_INTEGER",
        "UNICODE_STRING",
        "GUID",
        "LIST_ENTRY",
        "KSPIN_LOCK",
        "ULONG",
        "NTSTATUS",
    ];
    for (side, required) in [(Side::Wsk, WSK), (Side::ModelKernel, KERNEL)] {
        let facts = side.facts();
        for ty in required {
            let members = facts
                .iter()
                .filter(|fact| fact.item.c_type() == Some(*ty))
                .count();
            assert!(members >= 2, "{side:?} checks {members} facts of {ty}");
        }
    }
}

fn c_designators_hold_no_bindgen_names_and_every_message_is_unique() {
    let facts = all_facts();
    let mut messages = HashSet::new();
    for fact in &facts {
        if let CItem::Field { field, .. } = &fact.item {
            assert!(
                !field.is_empty() && !field.contains("__bindgen"),
                "bad C designator for {}",
                fact.rust
            );
        }
        assert!(
            messages.insert(fact.message()),
            "two facts say {}",
            fact.message()
        );
    }
}

fn the_checked_numbers_include_the_ones_the_driver_depends_on() {
    let facts = all_facts();
    let stated = |item: CItem, property: Property| {
        facts
            .iter()
            .filter(|fact| fact.item == item && fact.property == property)
            .map(|fact| fact.value)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        stated(
            CItem::field("IRP", "Tail.Overlay.CurrentStackLocation"),
            Property::Offset
        ),
        [184]
    );
    assert_eq!(
        stated(
            CItem::field("WSK_PROVIDER_DATAGRAM_DISPATCH", "WskSendTo"),
            Property::Offset
        ),
        [24]
    );
    assert_eq!(stated(CItem::constant("AF_INET6"), Property::Value), [23]);
    assert_eq!(
        stated(
            CItem::field("WSK_DATAGRAM_INDICATION", "RemoteAddress"),
            Property::Offset
        ),
        [48]
    );
    assert_eq!(
        stated(CItem::constant("SO_WSK_EVENT_CALLBACK"), Property::Value),
        [0x4002]
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn scratch_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("abi-conformance")
}

fn compile(toolchain: &Toolchain, name: &str, facts: &[Fact]) -> Compilation {
    toolchain
        .check(&scratch_directory(), name, &render(facts, &exclusions()))
        .expect("run the C compiler")
}

/// The facts the C file compares (not excluded).
fn compared(facts: &[Fact]) -> impl Iterator<Item = &Fact> {
    let exclusions = exclusions();
    facts
        .iter()
        .filter(move |fact| exclusion_for(&exclusions, fact).is_none())
}

/// Per side and C type: the type's size and its last member's offset; per side, the first and
/// last constant.
fn drift_samples(facts: &[Fact]) -> Vec<&Fact> {
    let mut samples = Vec::new();
    for side in Side::ALL {
        let side_facts = side.facts();
        let of_side: Vec<&Fact> = compared(facts)
            .filter(|fact| side_facts.contains(fact))
            .collect();
        let mut by_type: BTreeMap<&str, Vec<&Fact>> = BTreeMap::new();
        for fact in &of_side {
            if let Some(ty) = fact.item.c_type() {
                by_type.entry(ty).or_default().push(fact);
            }
        }
        for type_facts in by_type.values() {
            samples.extend(type_facts.iter().find(|fact| {
                matches!(fact.item, CItem::Type(_)) && fact.property == Property::Size
            }));
            samples.extend(
                type_facts
                    .iter()
                    .rev()
                    .find(|fact| fact.property == Property::Offset),
            );
        }
        let constants: Vec<&Fact> = of_side
            .iter()
            .copied()
            .filter(|fact| fact.property == Property::Value)
            .collect();
        samples.extend(constants.first().into_iter().chain(constants.last()));
    }
    samples.dedup();
    samples
}

/// `facts` with `target` replaced by its perturbed copy.
fn with_drift(facts: &[Fact], target: &Fact) -> Vec<Fact> {
    facts
        .iter()
        .map(|fact| {
            if fact == target {
                fact.perturbed()
            } else {
                fact.clone()
            }
        })
        .collect()
}

/// `None` when, compared with `baseline`, the compilation failed on exactly one more
/// assertion: the one of `drifted`.
fn single_failure_problem(
    baseline: &Compilation,
    compilation: &Compilation,
    drifted: &Fact,
) -> Option<String> {
    let expected = drifted.c_message_literal();
    let baseline_failures: HashSet<&str> = baseline.failed_assertions().into_iter().collect();
    let new_failures: Vec<&str> = compilation
        .failed_assertions()
        .into_iter()
        .filter(|failure| !baseline_failures.contains(failure))
        .collect();
    let caught_alone = !compilation.accepted
        && new_failures == [expected.as_str()]
        && compilation.errors().len() <= baseline.errors().len() + 1;
    (!caught_alone).then(|| {
        format!(
            "{}: expected only this assertion to fail; got:\n{}",
            drifted.message(),
            compilation.report()
        )
    })
}

/// `work(index, item)` for every item, on as many threads as there are cores.
fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(chunk_index, part)| {
                let work = &work;
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(offset, item)| work(chunk_index * chunk + offset, item))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("worker thread"))
            .collect()
    })
}
