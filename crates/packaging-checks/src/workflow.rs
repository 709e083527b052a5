//! Checks of the GitHub Actions workflow: a Windows job that installs the WDK and LLVM, builds,
//! lints, tests, packages the driver with `cargo make` (RUSTFLAGS removed) and uploads the
//! package; a Linux job that runs `.ci/run`; third-party actions pinned.

use crate::yaml::{self, Value};
use crate::{Findings, ProjectFacts};

/// The Windows runner image the driver job uses.
pub const WINDOWS_RUNNER: &str = "windows-2025";
/// The Linux runner image of the `.ci/run` job.
pub const LINUX_RUNNER: &str = "ubuntu-latest";
/// WDK series the Windows job installs (any QFE of it).
pub const WDK_SERIES: &str = "10.0.26100";
/// LLVM release the Windows job installs (libclang for bindgen).
pub const LLVM_VERSION: &str = "17.0.6";
/// The target the Windows job builds for.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-msvc";
/// Packages whose tests run on the Windows host without the driver loaded.
pub const HOST_TESTED_PACKAGES: &[&str] = &["wsk-sample-ioctl", "wskctl"];

/// One step of a job, with the fields the checks look at.
struct Step<'a> {
    index: usize,
    node: &'a Value,
    label: String,
    uses: Option<String>,
    run: Option<String>,
}

impl Step<'_> {
    fn uses_action(&self, action: &str) -> bool {
        self.uses.as_deref().is_some_and(|uses| {
            uses.split_once('@')
                .is_some_and(|(name, _)| name.eq_ignore_ascii_case(action))
        })
    }

    fn uses_local_action(&self, action: &str) -> bool {
        self.uses.as_deref().is_some_and(|uses| {
            uses.starts_with("./") && uses.trim_end_matches('/').ends_with(&format!("/{action}"))
        })
    }

    fn with(&self, key: &str) -> Option<String> {
        yaml::field_text(&self.node["with"], key)
    }

    fn run_text(&self) -> &str {
        self.run.as_deref().unwrap_or("")
    }
}

/// Checks the workflow text; an empty result means it passes.
#[must_use]
pub fn check_workflow(text: &str, facts: &ProjectFacts) -> Findings {
    let mut findings = Findings::new();
    let document = match yaml::parse_single_document(text) {
        Ok(document) => document,
        Err(error) => {
            findings.push("workflow.parse", error);
            return findings;
        }
    };
    if document["jobs"].as_hash().is_none() {
        findings.push("workflow.parse", "the workflow has no `jobs` mapping");
        return findings;
    }
    check_action_pinning(&document, &mut findings);
    check_workflow_env(&document, &mut findings);
    match find_job(&document, WINDOWS_RUNNER) {
        Some(job) => WindowsJob::new(&document, job, facts).check(&mut findings),
        None => findings.push(
            "workflow.windows-job",
            format!("no job runs on {WINDOWS_RUNNER}"),
        ),
    }
    match find_job(&document, LINUX_RUNNER) {
        Some(job) => check_linux_job(job, &mut findings),
        None => findings.push(
            "workflow.linux-job",
            format!("no job runs on {LINUX_RUNNER}"),
        ),
    }
    findings
}

fn find_job<'a>(document: &'a Value, runner: &str) -> Option<&'a Value> {
    let jobs = document["jobs"].as_hash()?;
    jobs.values().find(|job| {
        runner_labels(&job["runs-on"])
            .iter()
            .any(|label| label == runner)
    })
}

fn runner_labels(runs_on: &Value) -> Vec<String> {
    match runs_on {
        Value::Array(labels) => labels.iter().filter_map(yaml::scalar_text).collect(),
        Value::Hash(_) => runner_labels(&runs_on["labels"]),
        other => yaml::scalar_text(other).into_iter().collect(),
    }
}

fn steps_of(job: &Value) -> Vec<Step<'_>> {
    job["steps"]
        .as_vec()
        .map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(index, node)| Step {
                    index,
                    node,
                    label: yaml::field_text(node, "name")
                        .unwrap_or_else(|| format!("step {}", index + 1)),
                    uses: yaml::field_text(node, "uses"),
                    run: yaml::field_text(node, "run"),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ----- pinning ---------------------------------------------------------------------------------

fn check_action_pinning(document: &Value, findings: &mut Findings) {
    let Some(jobs) = document["jobs"].as_hash() else {
        return;
    };
    for job in jobs.values() {
        for step in steps_of(job) {
            if let Some(problem) = step.uses.as_deref().and_then(pinning_problem) {
                findings.push("workflow.pinning", format!("{}: {problem}", step.label));
            }
        }
    }
}

/// Why `uses` is not pinned well enough, if it is not.
fn pinning_problem(uses: &str) -> Option<String> {
    if uses.starts_with("./") {
        return None;
    }
    if uses.starts_with("docker://") {
        return (!uses.contains("@sha256:")).then(|| format!("`{uses}` is not pinned to a digest"));
    }
    let Some((action, reference)) = uses.rsplit_once('@') else {
        return Some(format!("`{uses}` names no version"));
    };
    let acceptable = is_commit_sha(reference)
        || is_release_tag(reference)
        || (action.eq_ignore_ascii_case("dtolnay/rust-toolchain") && is_toolchain_name(reference));
    (!acceptable).then(|| {
        format!("`{uses}` follows `{reference}`; pin a release tag (vN[.N[.N]]) or a commit SHA")
    })
}

fn is_commit_sha(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn is_release_tag(reference: &str) -> bool {
    reference.strip_prefix('v').is_some_and(|version| {
        let parts: Vec<&str> = version.split('.').collect();
        parts.len() <= 3
            && parts
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
    })
}

/// dtolnay/rust-toolchain publishes no tags: its branches are toolchain names.
fn is_toolchain_name(reference: &str) -> bool {
    let numbered = reference
        .split('.')
        .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
        && reference.starts_with("1.");
    matches!(reference, "stable" | "beta" | "nightly") || numbered
}

// ----- RUSTFLAGS -------------------------------------------------------------------------------

fn check_workflow_env(document: &Value, findings: &mut Findings) {
    if sets_rustflags(&document["env"]) {
        findings.push(
            "workflow.rustflags",
            "the workflow `env` sets RUSTFLAGS, which replaces the crt-static flag of \
             .cargo/config.toml on Windows",
        );
    }
}

fn sets_rustflags(env: &Value) -> bool {
    yaml::string_keys(env)
        .iter()
        .any(|key| key == "RUSTFLAGS" || key == "CARGO_ENCODED_RUSTFLAGS")
}

/// The shell a `run` step uses when it names none.
fn default_shell(document: &Value, job: &Value) -> String {
    yaml::field_text(&job["defaults"]["run"], "shell")
        .or_else(|| yaml::field_text(&document["defaults"]["run"], "shell"))
        .unwrap_or_else(|| "pwsh".to_owned())
}

fn shell_family(shell: &str) -> &str {
    let program = shell.split_whitespace().next().unwrap_or("");
    match program.to_ascii_lowercase().as_str() {
        "pwsh" | "powershell" => "pwsh",
        "bash" | "sh" => "bash",
        "cmd" => "cmd",
        _ => "other",
    }
}

/// True when `line`, run by a shell of `family`, removes RUSTFLAGS from the environment.
/// Setting it to an empty string does not count: Cargo treats an empty RUSTFLAGS as set.
fn removes_rustflags(family: &str, line: &str) -> bool {
    let compact: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = compact.to_ascii_lowercase();
    match family {
        "pwsh" => {
            let removes_item = lower.starts_with("remove-item")
                && (lower.contains("env:rustflags") || lower.contains("env:\\rustflags"));
            let assigns_null = lower.replace(' ', "") == "$env:rustflags=$null";
            removes_item || assigns_null
        }
        "bash" => {
            let tokens: Vec<&str> = compact.split(' ').collect();
            tokens.first() == Some(&"unset") && tokens.contains(&"RUSTFLAGS")
        }
        "cmd" => lower == "set rustflags=" || lower == "set \"rustflags=\"",
        _ => false,
    }
}

// ----- cargo command lines ---------------------------------------------------------------------

/// Logical lines of a script: `\` (sh) and `` ` `` (PowerShell) continuations joined.
fn script_lines(script: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in script.lines() {
        let trimmed = line.trim_end();
        match trimmed
            .strip_suffix('\\')
            .or_else(|| trimmed.strip_suffix('`'))
        {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(trimmed);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    if !pending.is_empty() {
        lines.push(pending);
    }
    lines
}

/// For each `cargo [+toolchain] <subcommand> ...` in the script: its line number and arguments.
fn cargo_invocations(script: &str, subcommand: &str) -> Vec<(usize, Vec<String>)> {
    let mut invocations = Vec::new();
    for (line_number, line) in script_lines(script).iter().enumerate() {
        for command in line.split(['&', '|', ';']) {
            let tokens: Vec<&str> = command.split_whitespace().collect();
            let Some((&program, rest)) = tokens.split_first() else {
                continue;
            };
            if program != "cargo" && program != "cargo.exe" {
                continue;
            }
            let rest = match rest.first() {
                Some(toolchain) if toolchain.starts_with('+') => &rest[1..],
                _ => rest,
            };
            if rest.first() == Some(&subcommand) {
                let arguments = rest[1..].iter().map(|&token| token.to_owned()).collect();
                invocations.push((line_number, arguments));
            }
        }
    }
    invocations
}

fn has_flag(arguments: &[String], flag: &str) -> bool {
    arguments
        .iter()
        .take_while(|argument| *argument != "--")
        .any(|argument| argument == flag)
}

fn flag_value<'a>(arguments: &'a [String], flag: &str) -> Option<&'a str> {
    let inline_prefix = format!("{flag}=");
    arguments
        .iter()
        .take_while(|argument| *argument != "--")
        .enumerate()
        .find_map(|(index, argument)| {
            if argument == flag {
                arguments.get(index + 1).map(String::as_str)
            } else {
                argument.strip_prefix(&inline_prefix)
            }
        })
}

fn packages(arguments: &[String]) -> Vec<&str> {
    let mut selected = Vec::new();
    let mut iterator = arguments.iter().take_while(|argument| *argument != "--");
    while let Some(argument) = iterator.next() {
        if argument == "-p" || argument == "--package" {
            selected.extend(iterator.next().map(String::as_str));
        } else if let Some(name) = argument.strip_prefix("--package=") {
            selected.push(name);
        }
    }
    selected
}

fn denies_warnings(arguments: &[String]) -> bool {
    let Some(separator) = arguments.iter().position(|argument| argument == "--") else {
        return false;
    };
    let lint_arguments = &arguments[separator + 1..];
    lint_arguments
        .windows(2)
        .any(|pair| pair[0] == "-D" && pair[1] == "warnings")
        || lint_arguments
            .iter()
            .any(|argument| argument == "-Dwarnings")
}

// ----- the Windows job -------------------------------------------------------------------------

struct WindowsJob<'a> {
    document: &'a Value,
    job: &'a Value,
    steps: Vec<Step<'a>>,
    facts: &'a ProjectFacts,
}

/// Positions of the steps the order rules compare.
#[derive(Default)]
struct Milestones {
    checkout: Option<usize>,
    wdk: Option<usize>,
    llvm: Option<usize>,
    toolchain: Option<usize>,
    build: Option<usize>,
    clippy: Option<usize>,
    test: Option<usize>,
    cargo_make_install: Option<usize>,
    cargo_make: Option<usize>,
    upload: Option<usize>,
}

impl<'a> WindowsJob<'a> {
    fn new(document: &'a Value, job: &'a Value, facts: &'a ProjectFacts) -> Self {
        Self {
            document,
            job,
            steps: steps_of(job),
            facts,
        }
    }

    fn check(&self, findings: &mut Findings) {
        if sets_rustflags(&self.job["env"]) {
            findings.push(
                "workflow.rustflags",
                "the Windows job `env` sets RUSTFLAGS, which replaces the crt-static flag of \
                 .cargo/config.toml",
            );
        }
        self.check_step_environments(findings);
        let milestones = Milestones {
            checkout: self.require(
                findings,
                "workflow.checkout",
                "checks out the repository",
                |step| step.uses_action("actions/checkout") && step.with("repository").is_none(),
            ),
            wdk: self.require(
                findings,
                "workflow.wdk",
                "installs WDK 10.0.26100 from NuGet",
                Self::installs_wdk,
            ),
            llvm: self.require(findings, "workflow.llvm", "installs LLVM 17.0.6", |step| {
                Self::installs_llvm(step)
            }),
            toolchain: self.require(
                findings,
                "workflow.rust-toolchain",
                "installs Rust with the x86_64-pc-windows-msvc target",
                |step| {
                    step.uses_action("dtolnay/rust-toolchain")
                        && step
                            .with("targets")
                            .is_some_and(|targets| targets.contains(WINDOWS_TARGET))
                },
            ),
            build: self.require_cargo(
                findings,
                "workflow.build",
                "build",
                "cargo build --locked",
                |arguments| has_flag(arguments, "--locked"),
            ),
            clippy: self.require_cargo(
                findings,
                "workflow.clippy",
                "clippy",
                "cargo clippy --all-targets -- -D warnings",
                |arguments| has_flag(arguments, "--all-targets") && denies_warnings(arguments),
            ),
            test: self.require_cargo(
                findings,
                "workflow.test",
                "test",
                "cargo test --locked -p wsk-sample-ioctl -p wskctl",
                |arguments| {
                    let selected = packages(arguments);
                    has_flag(arguments, "--locked")
                        && HOST_TESTED_PACKAGES
                            .iter()
                            .all(|package| selected.contains(package))
                },
            ),
            cargo_make_install: self.require(
                findings,
                "workflow.cargo-make-install",
                "installs cargo-make with taiki-e/install-action",
                |step| {
                    step.uses_action("taiki-e/install-action")
                        && step
                            .with("tool")
                            .is_some_and(|tools| tools.contains("cargo-make"))
                },
            ),
            cargo_make: self.check_cargo_make(findings),
            upload: self.check_upload(findings),
        };
        self.check_upstream_actions(findings);
        check_order(&milestones, findings);
    }

    /// Index of the first step matching `predicate`; records `rule` when there is none.
    fn require(
        &self,
        findings: &mut Findings,
        rule: &'static str,
        what: &str,
        predicate: impl Fn(&Step<'_>) -> bool,
    ) -> Option<usize> {
        let found = self
            .steps
            .iter()
            .find(|step| predicate(step))
            .map(|step| step.index);
        if found.is_none() {
            findings.push(rule, format!("no step of the Windows job {what}"));
        }
        found
    }

    /// Index of the first step running `cargo <subcommand>` with arguments accepted by `accept`.
    fn require_cargo(
        &self,
        findings: &mut Findings,
        rule: &'static str,
        subcommand: &str,
        example: &str,
        accept: impl Fn(&[String]) -> bool,
    ) -> Option<usize> {
        self.require(findings, rule, &format!("runs `{example}`"), |step| {
            cargo_invocations(step.run_text(), subcommand)
                .iter()
                .any(|(_, arguments)| accept(arguments))
        })
    }

    fn installs_wdk(step: &Step<'_>) -> bool {
        let from_action = step.uses_local_action("install-wdk")
            && step.with("version").is_some_and(|version| {
                version == WDK_SERIES || version.starts_with(&format!("{WDK_SERIES}."))
            })
            && step.with("source").is_none_or(|source| source == "nuget");
        let run = step.run_text();
        let from_script = run.contains("Microsoft.Windows.WDK.x64") && run.contains(WDK_SERIES);
        from_action || from_script
    }

    fn installs_llvm(step: &Step<'_>) -> bool {
        let from_action = step.uses_local_action("install-llvm")
            && step.with("version").as_deref() == Some(LLVM_VERSION);
        let run = step.run_text();
        let from_script = run.to_ascii_lowercase().contains("llvm") && run.contains(LLVM_VERSION);
        from_action || from_script
    }

    fn shell_of(&self, step: &Step<'_>) -> String {
        yaml::field_text(step.node, "shell")
            .unwrap_or_else(|| default_shell(self.document, self.job))
    }

    fn check_step_environments(&self, findings: &mut Findings) {
        for step in &self.steps {
            if sets_rustflags(&step.node["env"]) {
                findings.push(
                    "workflow.rustflags",
                    format!(
                        "{}: the step `env` sets RUSTFLAGS (even an empty value replaces the \
                         crt-static flag of .cargo/config.toml)",
                        step.label
                    ),
                );
            }
            let exports = step
                .run_text()
                .lines()
                .any(|line| line.contains("RUSTFLAGS") && line.contains("GITHUB_ENV"));
            if exports {
                findings.push(
                    "workflow.rustflags",
                    format!(
                        "{}: exports RUSTFLAGS to later steps through GITHUB_ENV",
                        step.label
                    ),
                );
            }
        }
    }

    fn check_cargo_make(&self, findings: &mut Findings) -> Option<usize> {
        let Some((step, line, _)) = self.cargo_make_invocation() else {
            findings.push(
                "workflow.cargo-make",
                "no step of the Windows job runs `cargo make`",
            );
            return None;
        };
        let family = self.shell_of(step);
        let family = shell_family(&family);
        let cleared = script_lines(step.run_text())
            .iter()
            .take(line)
            .any(|script_line| removes_rustflags(family, script_line.trim()));
        if !cleared {
            findings.push(
                "workflow.cargo-make",
                format!(
                    "{}: remove RUSTFLAGS before `cargo make` (it leaks into the rust-script build \
                     of wdk-build; an empty value is not enough)",
                    step.label
                ),
            );
        }
        Some(step.index)
    }

    fn cargo_make_invocation(&self) -> Option<(&Step<'a>, usize, Vec<String>)> {
        self.steps.iter().find_map(|step| {
            cargo_invocations(step.run_text(), "make")
                .into_iter()
                .next()
                .map(|(line, arguments)| (step, line, arguments))
        })
    }

    /// `target/[<triple>/]<profile dir>/<crate>_package`, from the `cargo make` arguments.
    fn expected_package_path(&self) -> String {
        let arguments = self
            .cargo_make_invocation()
            .map(|(_, _, arguments)| arguments)
            .unwrap_or_default();
        let profile = if has_flag(&arguments, "--release") {
            "release"
        } else {
            match flag_value(&arguments, "--profile") {
                None | Some("dev") => "debug",
                Some(profile) => profile,
            }
        };
        let triple = flag_value(&arguments, "--target")
            .map(|triple| format!("{triple}/"))
            .unwrap_or_default();
        format!("target/{triple}{profile}/{}", self.facts.package_dir())
    }

    fn check_upload(&self, findings: &mut Findings) -> Option<usize> {
        let Some(step) = self
            .steps
            .iter()
            .find(|step| step.uses_action("actions/upload-artifact"))
        else {
            findings.push("workflow.upload", "no step uploads the driver package");
            return None;
        };
        let expected = self.expected_package_path();
        let path = step.with("path").unwrap_or_default();
        let uploads_package = path
            .lines()
            .any(|line| line.trim().replace('\\', "/").trim_end_matches('/') == expected);
        if !uploads_package {
            findings.push(
                "workflow.upload",
                format!(
                    "{}: upload `{expected}` (where cargo make puts the package), not `{path}`",
                    step.label
                ),
            );
        }
        if step.with("if-no-files-found").as_deref() != Some("error") {
            findings.push(
                "workflow.upload",
                format!(
                    "{}: set `if-no-files-found: error` so a missing package fails the job",
                    step.label
                ),
            );
        }
        Some(step.index)
    }

    /// `./.github/actions/...` steps need the upstream actions checked out at a pinned commit.
    fn check_upstream_actions(&self, findings: &mut Findings) {
        let Some(first_local) = self.steps.iter().find(|step| {
            step.uses
                .as_deref()
                .is_some_and(|uses| uses.starts_with("./.github/actions/"))
        }) else {
            return;
        };
        let pinned_checkout = self.steps.iter().take(first_local.index).any(|step| {
            step.uses_action("actions/checkout")
                && step.with("repository").is_some_and(|repository| {
                    repository.eq_ignore_ascii_case("microsoft/windows-drivers-rs")
                })
                && step
                    .with("ref")
                    .is_some_and(|reference| is_commit_sha(&reference))
        });
        if !pinned_checkout {
            findings.push(
                "workflow.upstream-actions",
                format!(
                    "{} uses ./.github/actions but no earlier step checks out \
                     microsoft/windows-drivers-rs at a commit SHA",
                    first_local.label
                ),
            );
        }
    }
}

fn check_order(milestones: &Milestones, findings: &mut Findings) {
    let rules = [
        (
            "the checkout",
            milestones.checkout,
            "the WDK install",
            milestones.wdk,
        ),
        (
            "the checkout",
            milestones.checkout,
            "the LLVM install",
            milestones.llvm,
        ),
        (
            "the WDK install",
            milestones.wdk,
            "cargo build",
            milestones.build,
        ),
        (
            "the LLVM install",
            milestones.llvm,
            "cargo build",
            milestones.build,
        ),
        (
            "the Rust install",
            milestones.toolchain,
            "cargo build",
            milestones.build,
        ),
        (
            "the Rust install",
            milestones.toolchain,
            "cargo clippy",
            milestones.clippy,
        ),
        (
            "the Rust install",
            milestones.toolchain,
            "cargo test",
            milestones.test,
        ),
        (
            "cargo build",
            milestones.build,
            "cargo make",
            milestones.cargo_make,
        ),
        (
            "the cargo-make install",
            milestones.cargo_make_install,
            "cargo make",
            milestones.cargo_make,
        ),
        (
            "cargo make",
            milestones.cargo_make,
            "the upload",
            milestones.upload,
        ),
    ];
    for (first_name, first, second_name, second) in rules {
        if let (Some(first), Some(second)) = (first, second)
            && first >= second
        {
            findings.push(
                "workflow.order",
                format!(
                    "{first_name} (step {}) must come before {second_name} (step {})",
                    first + 1,
                    second + 1
                ),
            );
        }
    }
}

// ----- the Linux job ---------------------------------------------------------------------------

fn check_linux_job(job: &Value, findings: &mut Findings) {
    let steps = steps_of(job);
    let checkout = steps
        .iter()
        .position(|step| step.uses_action("actions/checkout"));
    let runs_ci = steps.iter().position(|step| {
        script_lines(step.run_text())
            .iter()
            .any(|line| line.split_whitespace().collect::<Vec<_>>() == ["bash", ".ci/run"])
    });
    match (checkout, runs_ci) {
        (Some(checkout), Some(runs_ci)) if checkout < runs_ci => {}
        (_, None) => findings.push(
            "workflow.linux-job",
            "the Linux job does not run `bash .ci/run`",
        ),
        _ => findings.push(
            "workflow.linux-job",
            "the Linux job must check out the repository before `bash .ci/run`",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{cargo_invocations, denies_warnings, packages, pinning_problem, removes_rustflags};

    fn arguments(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn finds_cargo_invocations_across_continuations_and_separators() {
        let script = "echo hi && cargo +stable build \\\n  --locked\ncargo test -p a; cargo clippy";
        assert_eq!(
            cargo_invocations(script, "build"),
            vec![(0, arguments("--locked"))]
        );
        assert_eq!(
            cargo_invocations(script, "test"),
            vec![(1, arguments("-p a"))]
        );
        assert_eq!(cargo_invocations(script, "clippy").len(), 1);
        assert!(cargo_invocations("echo cargo build", "build").is_empty());
    }

    #[test]
    fn reads_packages_and_lint_levels() {
        let test = arguments("--locked -p a --package b --package=c -- -p d");
        assert_eq!(packages(&test), vec!["a", "b", "c"]);
        assert!(denies_warnings(&arguments("--all-targets -- -D warnings")));
        assert!(denies_warnings(&arguments("-- -Dwarnings")));
        assert!(!denies_warnings(&arguments("-D warnings")));
    }

    #[test]
    fn recognises_rustflags_removal_per_shell() {
        assert!(removes_rustflags(
            "pwsh",
            "Remove-Item Env:RUSTFLAGS -ErrorAction SilentlyContinue"
        ));
        assert!(removes_rustflags("pwsh", "Remove-Item Env:\\RUSTFLAGS"));
        assert!(removes_rustflags("pwsh", "$env:RUSTFLAGS = $null"));
        assert!(!removes_rustflags("pwsh", "$env:RUSTFLAGS = ''"));
        assert!(!removes_rustflags("pwsh", "unset RUSTFLAGS"));
        assert!(removes_rustflags("bash", "unset RUSTFLAGS"));
        assert!(!removes_rustflags("bash", "export RUSTFLAGS="));
        assert!(removes_rustflags("cmd", "set RUSTFLAGS="));
    }

    #[test]
    fn pinning_accepts_tags_and_commits_only() {
        assert!(pinning_problem("actions/checkout@v6").is_none());
        assert!(pinning_problem("actions/checkout@v6.1.0").is_none());
        assert!(
            pinning_problem("actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803").is_none()
        );
        assert!(pinning_problem("dtolnay/rust-toolchain@stable").is_none());
        assert!(pinning_problem("dtolnay/rust-toolchain@1.91.0").is_none());
        assert!(pinning_problem("./.github/actions/install-wdk").is_none());
        assert!(pinning_problem("actions/checkout@main").is_some());
        assert!(pinning_problem("actions/checkout").is_some());
        assert!(pinning_problem("someone/action@stable").is_some());
    }
}
