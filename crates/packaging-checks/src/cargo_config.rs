//! Checks of `.cargo/config.toml`: Windows MSVC builds get `-C target-feature=+crt-static`
//! (wdk-build refuses to configure a driver without it) and nothing else does.

use toml::{Table, Value};

use crate::Findings;

/// The target the Windows CI job builds.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-msvc";
/// The rustc target feature wdk-build requires.
pub const CRT_STATIC: &str = "target-feature=+crt-static";

/// Checks the text of `.cargo/config.toml`.
#[must_use]
pub fn check_cargo_config(text: &str) -> Findings {
    let mut findings = Findings::new();
    let config = match text.parse::<Table>() {
        Ok(config) => config,
        Err(error) => {
            findings.push("cargo-config.parse", error.to_string());
            return findings;
        }
    };
    check_windows_target(&config, &mut findings);
    check_scope(&config, &mut findings);
    findings
}

fn check_windows_target(config: &Table, findings: &mut Findings) {
    let flags = config
        .get("target")
        .and_then(|targets| targets.get(WINDOWS_TARGET))
        .and_then(|target| target.get("rustflags"))
        .map(rustflags)
        .unwrap_or_default();
    if !enables_crt_static(&flags) {
        findings.push(
            "cargo-config.crt-static",
            format!("[target.{WINDOWS_TARGET}] rustflags must contain \"-C\", \"{CRT_STATIC}\""),
        );
    }
}

fn check_scope(config: &Table, findings: &mut Findings) {
    if config
        .get("build")
        .and_then(|build| build.get("rustflags"))
        .is_some()
    {
        findings.push(
            "cargo-config.scope",
            "[build] rustflags would apply to the Linux builds too; scope the flags to \
             [target.<windows triple>]",
        );
    }
    let Some(targets) = config.get("target").and_then(Value::as_table) else {
        return;
    };
    for (target, settings) in targets {
        let flags = settings.get("rustflags").map(rustflags).unwrap_or_default();
        if enables_crt_static(&flags) && !is_windows_msvc(target) {
            findings.push(
                "cargo-config.scope",
                format!("[target.{target}] enables crt-static but is not a Windows MSVC target"),
            );
        }
    }
}

/// Rustflags as a list of arguments; Cargo accepts an array or a space-separated string.
fn rustflags(value: &Value) -> Vec<String> {
    match value {
        Value::String(flags) => flags.split_whitespace().map(str::to_owned).collect(),
        Value::Array(flags) => flags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn enables_crt_static(flags: &[String]) -> bool {
    let joined = flags
        .windows(2)
        .any(|pair| pair[0] == "-C" && pair[1] == CRT_STATIC);
    let attached = flags
        .iter()
        .any(|flag| flag.strip_prefix("-C") == Some(CRT_STATIC));
    joined || attached
}

fn is_windows_msvc(target: &str) -> bool {
    let triple = target.ends_with("-pc-windows-msvc");
    let cfg = target.starts_with("cfg(") && target.contains("windows") && target.contains("msvc");
    triple || cfg
}
