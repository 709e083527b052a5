//! Linux-side checks that the files only a Windows build uses agree with each other and with the
//! code: the INX, `Cargo.toml`'s KMDF metadata and `Cargo.lock`, `Makefile.toml`,
//! `.cargo/config.toml`, the GitHub workflow and the docs (README.md, docs/WINDOWS.md).
//!
//! Only mistakes that nothing on Linux would otherwise notice are checked: names and versions that
//! must agree across files (hardware ID, device SDDL, service, binary and catalog names, the KMDF
//! version) and the few INX rules a Windows run (stampinf, infverif, installing) would reveal. The
//! exact text of the workflow is not pinned; Dependabot keeps its actions current.

mod inf;
mod inx;
mod tools;
mod versions;

use std::fmt;
use std::path::Path;

pub use wsk_sample_ioctl::{DEVICE_SDDL, HARDWARE_ID, SERVICE_NAME};

/// One broken rule: a stable identifier (tests match on it) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub message: String,
}

/// Everything one run found; empty when the files agree.
#[derive(Debug, Default)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    fn push(&mut self, rule: &'static str, message: impl Into<String>) {
        self.0.push(Finding {
            rule,
            message: message.into(),
        });
    }

    /// True when some finding breaks `rule`.
    #[must_use]
    pub fn has(&self, rule: &str) -> bool {
        self.0.iter().any(|finding| finding.rule == rule)
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.0 {
            writeln!(formatter, "[{}] {}", finding.rule, finding.message)?;
        }
        Ok(())
    }
}

/// What the files must agree on, from their sources of truth (the ABI crate's constants above
/// and the driver's `Cargo.toml`).
#[derive(Debug, Clone)]
pub struct Facts {
    /// Stem of the `.sys`, `.inx`/`.inf`, `.cat` and `_package` names: the package name with `-`
    /// replaced by `_` (cargo-make's `CARGO_MAKE_CRATE_FS_NAME`).
    pub stem: String,
    /// `kmdf-version-major` and `target-kmdf-version-minor` of
    /// `[package.metadata.wdk.driver-model]`: what `stampinf -k` writes into the INF.
    pub kmdf: (u64, u64),
}

impl Facts {
    fn from_manifest(manifest: &toml::Table) -> Result<Self, String> {
        let stem = lookup(manifest, &["package", "name"])
            .and_then(toml::Value::as_str)
            .map(|name| name.replace('-', "_"))
            .ok_or("Cargo.toml has no [package] name")?;
        let number = |key: &str| {
            lookup(
                manifest,
                &["package", "metadata", "wdk", "driver-model", key],
            )
            .and_then(toml::Value::as_integer)
            .and_then(|value| u64::try_from(value).ok())
            .ok_or_else(|| format!("Cargo.toml: no [package.metadata.wdk.driver-model] {key}"))
        };
        Ok(Self {
            stem,
            kmdf: (
                number("kmdf-version-major")?,
                number("target-kmdf-version-minor")?,
            ),
        })
    }
}

/// The value at `path` in a TOML table.
pub(crate) fn lookup<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(table.get(*first)?, |value, key| value.get(key))
}

/// Runs every check on the repository (or a copy of its files) at `root`.
#[must_use]
pub fn check(root: &Path) -> Findings {
    let mut findings = Findings::default();
    if let Err(error) = check_files(root, &mut findings) {
        findings.push("files", error);
    }
    findings
}

fn check_files(root: &Path, findings: &mut Findings) -> Result<(), String> {
    let read = |relative: &str| {
        std::fs::read_to_string(root.join(relative))
            .map_err(|error| format!("cannot read {relative}: {error}"))
    };
    let toml = |relative: &str| -> Result<toml::Table, String> {
        read(relative)?
            .parse()
            .map_err(|error| format!("{relative}: {error}"))
    };
    let facts = Facts::from_manifest(&toml("Cargo.toml")?)?;
    let inx = read(&format!("{}.inx", facts.stem))?;
    let docs = [read("README.md")?, read("docs/WINDOWS.md")?].join("\n");
    let tool_files = tools::Files {
        lock: toml("Cargo.lock")?,
        makefile: toml("Makefile.toml")?,
        cargo_config: toml(".cargo/config.toml")?,
        workflow: read(".github/workflows/windows.yml")?,
    };
    let inx_build = inx::check(&inx, &facts, findings);
    versions::check(&facts, inx_build, &docs, findings);
    tools::check(&tool_files, &facts, &docs, findings);
    Ok(())
}
