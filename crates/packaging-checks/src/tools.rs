//! The build and CI files against `Cargo.toml`/`Cargo.lock` and each other: the wdk-build the
//! Makefile's load script builds, the static CRT the Windows targets need, the WDK the workflow
//! installs, and the package names it uploads.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_norway::Value;

use crate::{Facts, Findings, lookup, versions};

/// The files these checks read, parsed where a crate parses them.
#[derive(Debug)]
pub struct Files {
    pub lock: toml::Table,
    pub makefile: toml::Table,
    pub cargo_config: toml::Table,
    pub workflow: String,
}

/// The parts of a GitHub Actions workflow the checks read; everything else is ignored.
#[derive(Debug, Deserialize)]
struct Workflow {
    #[serde(default)]
    env: Env,
    jobs: BTreeMap<String, Job>,
}

#[derive(Debug, Deserialize)]
struct Job {
    #[serde(rename = "runs-on", default)]
    runs_on: Value,
    #[serde(default)]
    env: Env,
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, Value>,
    #[serde(default)]
    env: Env,
}

type Env = BTreeMap<String, Value>;

/// The target of a Windows runner's host toolchain.
const WINDOWS_HOST: &str = "x86_64-pc-windows-msvc";
/// wdk-build refuses to configure a driver without it (its `StaticCrtNotEnabled` error).
const CRT_STATIC: &str = "target-feature=+crt-static";
/// Either variable replaces `.cargo/config.toml`'s rustflags, even when empty.
const RUSTFLAGS: [&str; 2] = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"];

pub fn check(files: &Files, facts: &Facts, docs: &str, findings: &mut Findings) {
    makefile(files, findings);
    let workflow: Workflow = match serde_norway::from_str(&files.workflow) {
        Ok(workflow) => workflow,
        Err(error) => return findings.push("workflow.parse", error.to_string()),
    };
    let jobs = || workflow.jobs.values();
    let envs = std::iter::once(&workflow.env)
        .chain(jobs().map(|job| &job.env))
        .chain(jobs().flat_map(|job| job.steps.iter().map(|step| &step.env)));
    for variable in envs.flat_map(|env| RUSTFLAGS.into_iter().filter(|key| env.contains_key(*key)))
    {
        findings.push(
            "workflow.rustflags",
            format!("the workflow sets {variable}, which replaces the crt-static flag of .cargo/config.toml"),
        );
    }
    let windows: Vec<&Job> = jobs()
        .filter(|job| {
            strings(&job.runs_on)
                .iter()
                .any(|label| label.contains("windows"))
        })
        .collect();
    if windows.is_empty() {
        findings.push("workflow.windows", "no job runs on a Windows runner");
    }
    for job in windows {
        let targets = (job.steps.iter())
            .filter_map(|step| step.with.get("targets")?.as_str())
            .flat_map(|targets| targets.split(','))
            .map(str::trim);
        let targets: BTreeSet<&str> = std::iter::once(WINDOWS_HOST).chain(targets).collect();
        for target in targets
            .into_iter()
            .filter(|target| target.ends_with("-windows-msvc"))
        {
            if !crt_static(&files.cargo_config, target) {
                findings.push(
                    "cargo-config.crt-static",
                    format!(r#"the workflow builds for {target}; .cargo/config.toml must give it rustflags ["-C", "{CRT_STATIC}"]"#),
                );
            }
        }
        let wdk = job.steps.iter().filter(|step| {
            step.uses
                .as_deref()
                .is_some_and(|uses| uses.ends_with("/install-wdk"))
        });
        match wdk
            .filter_map(|step| step.with.get("version")?.as_str())
            .next()
        {
            None => findings.push(
                "workflow.wdk",
                "no install-wdk step with a `version` in the Windows job",
            ),
            Some(version) => wdk_version(version, facts, docs, findings),
        }
    }
    let names: BTreeSet<&str> = file_names(&files.workflow)
        .filter(|(stem, _)| *stem != facts.stem)
        .map(|(_, name)| name)
        .collect();
    for name in names {
        findings.push(
            "workflow.names",
            format!(
                "the workflow names {name}; the package's files are named {}.*",
                facts.stem
            ),
        );
    }
}

/// The WDK must carry the headers of the targeted KMDF version, and the docs name the same kit.
fn wdk_version(version: &str, facts: &Facts, docs: &str, findings: &mut Findings) {
    let build = version
        .split('.')
        .nth(2)
        .and_then(|build| build.parse::<u32>().ok());
    if let (Some(build), Some(needed)) = (build, versions::in_box_build(facts.kmdf))
        && build < needed
    {
        findings.push(
            "kmdf.wdk",
            format!(
                "the workflow installs WDK {version}, older than KMDF {}.{} (build {needed})",
                facts.kmdf.0, facts.kmdf.1
            ),
        );
    }
    if !docs.contains(version) {
        findings.push(
            "docs.wdk",
            format!("the workflow installs WDK {version}, which README.md and docs/WINDOWS.md never name"),
        );
    }
}

/// `(stem, word)` for each `<stem>.sys|.inf|.cat|.pdb` and `<stem>_package` word in `text`.
fn file_names(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split(|character: char| !(character.is_ascii_alphanumeric() || "._".contains(character)))
        .filter_map(|word| {
            let stem = [".sys", ".inf", ".cat", ".pdb", "_package"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))?;
            Some((stem, word))
        })
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Sequence(items) => items.iter().filter_map(Value::as_str).collect(),
        other => other.as_str().into_iter().collect(),
    }
}

/// True when `[target.<target>] rustflags` holds `-C target-feature=+crt-static`.
fn crt_static(config: &toml::Table, target: &str) -> bool {
    let flags: Vec<&str> = match lookup(config, &["target", target, "rustflags"]) {
        Some(toml::Value::Array(flags)) => flags.iter().filter_map(toml::Value::as_str).collect(),
        Some(toml::Value::String(flags)) => flags.split_whitespace().collect(),
        _ => Vec::new(),
    };
    let separate = flags.windows(2).any(|pair| pair == ["-C", CRT_STATIC]);
    separate
        || flags
            .iter()
            .any(|flag| flag.strip_prefix("-C") == Some(CRT_STATIC))
}

/// The load script builds its own wdk-build (from its embedded manifest) and loads the makefile
/// of the wdk-build in Cargo.lock: the two must be one release series.
fn makefile(files: &Files, findings: &mut Findings) {
    let makefile = &files.makefile;
    let locked = lookup(&files.lock, &["package"])
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .find(|package| package.get("name").and_then(toml::Value::as_str) == Some("wdk-build"))
        .and_then(|package| semver::Version::parse(package.get("version")?.as_str()?).ok());
    let script = lookup(makefile, &["config", "load_script"]).and_then(toml::Value::as_str);
    let requirement = script.and_then(embedded_wdk_build);
    match (locked, requirement) {
        (Some(locked), Some(requirement)) if requirement.matches(&locked) => {}
        (locked, requirement) => findings.push(
            "makefile.wdk-build",
            format!(
                "the load script asks for wdk-build {}, Cargo.lock has {}",
                requirement.map_or("(none found)".to_owned(), |req| req.to_string()),
                locked.map_or("(none)".to_owned(), |version| version.to_string()),
            ),
        ),
    }
    if lookup(makefile, &["config", "default_to_workspace"]).and_then(toml::Value::as_bool)
        != Some(false)
    {
        findings.push(
            "makefile.workspace",
            "[config] default_to_workspace must be false: in workspace mode cargo-make runs tasks only in the members, never in the root driver package",
        );
    }
    if lookup(makefile, &["env"])
        .is_some_and(|env| RUSTFLAGS.iter().any(|key| env.get(key).is_some()))
    {
        findings.push(
            "makefile.rustflags",
            "[env] sets RUSTFLAGS, which replaces the crt-static flag of .cargo/config.toml",
        );
    }
}

/// The wdk-build requirement of the manifest embedded in a rust-script (`//! ```cargo` block).
fn embedded_wdk_build(script: &str) -> Option<semver::VersionReq> {
    let manifest: String = script
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("//!"))
        .skip_while(|line| line.trim() != "```cargo")
        .skip(1)
        .take_while(|line| line.trim() != "```")
        .map(|line| format!("{line}\n"))
        .collect();
    let manifest: toml::Table = manifest.parse().ok()?;
    let dependency = lookup(&manifest, &["dependencies", "wdk-build"])?;
    let requirement = dependency
        .as_str()
        .or_else(|| dependency.get("version")?.as_str())?;
    semver::VersionReq::parse(requirement).ok()
}
