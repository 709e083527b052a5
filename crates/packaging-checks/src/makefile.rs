//! Checks of the cargo-make `Makefile.toml` that packages the driver, against the form
//! wdk-build 0.6 documents: `extend = "target/rust-driver-makefile.toml"` plus a `[config]
//! load_script` rust-script that depends on `wdk-build` and calls
//! `wdk_build::cargo_make::load_rust_driver_makefile()`.

use toml::{Table, Value};

use crate::Findings;
use crate::version;

/// Where `load_rust_driver_makefile()` links wdk-build's makefile to.
pub const EXTENDED_MAKEFILE: &str = "target/rust-driver-makefile.toml";
/// The call the load script must make.
pub const LOAD_CALL: &str = "wdk_build::cargo_make::load_rust_driver_makefile()";

/// Checks the Makefile text. `driver_wdk_build` is the `wdk-build` requirement of the driver's
/// build-dependency; the load script must ask for the same series.
#[must_use]
pub fn check_makefile(text: &str, driver_wdk_build: Option<&str>) -> Findings {
    let mut findings = Findings::new();
    let makefile = match text.parse::<Table>() {
        Ok(makefile) => makefile,
        Err(error) => {
            findings.push("makefile.parse", error.to_string());
            return findings;
        }
    };
    check_extend(&makefile, &mut findings);
    let config = makefile.get("config").and_then(Value::as_table);
    match config.and_then(load_script) {
        Some(script) => check_load_script(&script, driver_wdk_build, &mut findings),
        None => findings.push(
            "makefile.load-script",
            "[config] load_script (a string or an array of strings) is missing",
        ),
    }
    check_workspace_mode(config, &mut findings);
    check_no_rustflags(&makefile, &mut findings);
    findings
}

fn check_extend(makefile: &Table, findings: &mut Findings) {
    let first_extend = match makefile.get("extend") {
        Some(Value::String(path)) => Some(path.as_str()),
        Some(Value::Table(table)) => table.get("path").and_then(Value::as_str),
        Some(Value::Array(items)) => items.first().and_then(|item| match item {
            Value::String(path) => Some(path.as_str()),
            Value::Table(table) => table.get("path").and_then(Value::as_str),
            _ => None,
        }),
        _ => None,
    };
    if first_extend != Some(EXTENDED_MAKEFILE) {
        findings.push(
            "makefile.extend",
            format!("`extend` must (first) name \"{EXTENDED_MAKEFILE}\", found {first_extend:?}"),
        );
    }
}

fn load_script(config: &Table) -> Option<String> {
    match config.get("load_script")? {
        Value::String(script) => Some(script.clone()),
        Value::Array(lines) => lines
            .iter()
            .map(|line| line.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|lines| lines.join("\n")),
        _ => None,
    }
}

fn check_load_script(script: &str, driver_wdk_build: Option<&str>, findings: &mut Findings) {
    if !script.trim_start().starts_with("#!@rust") {
        findings.push(
            "makefile.load-script",
            "the load script must start with `#!@rust` (a rust-script)",
        );
    }
    let call_with_question_mark = format!("{LOAD_CALL}?");
    if !script.contains(&call_with_question_mark) {
        findings.push(
            "makefile.load-script",
            format!("the load script must call `{call_with_question_mark}`"),
        );
    }
    match script_wdk_build_requirement(script) {
        Ok(requirement) => check_script_version(&requirement, driver_wdk_build, findings),
        Err(problem) => findings.push("makefile.load-script", problem),
    }
}

fn check_script_version(
    requirement: &str,
    driver_wdk_build: Option<&str>,
    findings: &mut Findings,
) {
    let Some(driver_requirement) = driver_wdk_build else {
        return;
    };
    if !version::same_series(requirement, driver_requirement) {
        findings.push(
            "makefile.wdk-build-version",
            format!(
                "the load script asks for wdk-build {requirement}, the driver builds with \
                 {driver_requirement}"
            ),
        );
    }
}

/// The `wdk-build` requirement in the script's embedded manifest (the ```` ```cargo ```` block
/// written as `//!` doc comments).
fn script_wdk_build_requirement(script: &str) -> Result<String, String> {
    let manifest_text =
        embedded_manifest(script).ok_or("the load script has no `//! ```cargo` manifest block")?;
    let manifest = manifest_text
        .parse::<Table>()
        .map_err(|error| format!("the load script's manifest is not TOML: {error}"))?;
    let dependency = manifest
        .get("dependencies")
        .and_then(|dependencies| dependencies.get("wdk-build"))
        .ok_or("the load script's manifest does not depend on wdk-build")?;
    match dependency {
        Value::String(requirement) => Ok(requirement.clone()),
        Value::Table(table) => table
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "the load script's wdk-build dependency has no version".to_owned()),
        _ => Err("the load script's wdk-build dependency is malformed".to_owned()),
    }
}

fn embedded_manifest(script: &str) -> Option<String> {
    let mut doc_lines = script
        .lines()
        .map(str::trim_start)
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line));
    doc_lines.find(|line| line.trim() == "```cargo")?;
    let mut manifest = String::new();
    for line in doc_lines {
        if line.trim() == "```" {
            return Some(manifest);
        }
        manifest.push_str(line);
        manifest.push('\n');
    }
    None
}

fn check_workspace_mode(config: Option<&Table>, findings: &mut Findings) {
    let default_to_workspace = config
        .and_then(|config| config.get("default_to_workspace"))
        .and_then(Value::as_bool);
    if default_to_workspace != Some(false) {
        findings.push(
            "makefile.workspace",
            "[config] default_to_workspace must be false: the driver is the root package of a \
             workspace, and in workspace mode cargo-make only runs tasks in the members",
        );
    }
}

fn check_no_rustflags(makefile: &Table, findings: &mut Findings) {
    let sets_rustflags = makefile
        .get("env")
        .and_then(Value::as_table)
        .is_some_and(|env| env.contains_key("RUSTFLAGS"));
    if sets_rustflags {
        findings.push(
            "makefile.rustflags",
            "[env] must not set RUSTFLAGS: it replaces .cargo/config.toml's crt-static flag and \
             leaks into the rust-script build of wdk-build",
        );
    }
}
