//! Checks of the driver crate's `Cargo.toml` (the repository root manifest) against what
//! wdk-build 0.6 and its cargo-make packaging flow expect.

use toml::{Table, Value};

use crate::Findings;

/// The keys wdk-build 0.6 accepts in a KMDF `driver-model` table (it denies unknown fields).
const KMDF_DRIVER_MODEL_KEYS: &[&str] = &[
    "driver-type",
    "kmdf-version-major",
    "target-kmdf-version-minor",
    "minimum-kmdf-version-minor",
];

/// Parses a manifest.
///
/// # Errors
///
/// Returns the TOML parser's message.
pub fn parse(text: &str) -> Result<Table, String> {
    text.parse::<Table>().map_err(|error| error.to_string())
}

/// The package name with `-` replaced by `_`, as cargo-make's `CARGO_MAKE_CRATE_FS_NAME`.
///
/// # Errors
///
/// Fails when `[package] name` is missing.
pub fn crate_fs_name(manifest: &Table) -> Result<String, String> {
    package_name(manifest)
        .map(|name| name.replace('-', "_"))
        .ok_or_else(|| "the manifest has no [package] name".to_owned())
}

/// The version requirement of the `wdk-build` build-dependency, plain or target-specific.
#[must_use]
pub fn wdk_build_requirement(manifest: &Table) -> Option<String> {
    let plain = manifest.get("build-dependencies");
    let per_target = manifest
        .get("target")
        .and_then(Value::as_table)
        .into_iter()
        .flat_map(|targets| targets.values())
        .map(|target| target.get("build-dependencies"));
    std::iter::once(plain)
        .chain(per_target)
        .flatten()
        .filter_map(|dependencies| dependencies.get("wdk-build"))
        .find_map(dependency_version)
}

/// Checks the driver manifest: KMDF metadata, crate type, lib name, panic strategy, wdk-build.
#[must_use]
pub fn check_driver_manifest(text: &str) -> Findings {
    let mut findings = Findings::new();
    let manifest = match parse(text) {
        Ok(manifest) => manifest,
        Err(error) => {
            findings.push("manifest.parse", error);
            return findings;
        }
    };
    match crate_fs_name(&manifest) {
        Ok(fs_name) => check_lib_target(&manifest, &fs_name, &mut findings),
        Err(error) => findings.push("manifest.package", error),
    }
    check_wdk_metadata(&manifest, &mut findings);
    check_panic_strategy(&manifest, &mut findings);
    if wdk_build_requirement(&manifest).is_none() {
        findings.push(
            "manifest.wdk-build",
            "no `wdk-build` build-dependency with a version (build.rs needs it on Windows)",
        );
    }
    findings
}

fn package_name(manifest: &Table) -> Option<&str> {
    manifest.get("package")?.get("name")?.as_str()
}

fn dependency_version(dependency: &Value) -> Option<String> {
    match dependency {
        Value::String(version) => Some(version.clone()),
        Value::Table(table) => table.get("version")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn check_lib_target(manifest: &Table, fs_name: &str, findings: &mut Findings) {
    let lib = manifest.get("lib");
    if let Some(lib_name) = lib.and_then(|lib| lib.get("name")).and_then(Value::as_str)
        && lib_name != fs_name
    {
        findings.push(
            "manifest.lib-name",
            format!(
                "[lib] name `{lib_name}` differs from `{fs_name}`: the packaging flow copies \
                 `{fs_name}.dll` to `{fs_name}.sys`"
            ),
        );
    }
    let crate_types = lib
        .and_then(|lib| lib.get("crate-type"))
        .and_then(Value::as_array)
        .map(|types| types.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    if !crate_types.contains(&"cdylib") {
        findings.push(
            "manifest.crate-type",
            "[lib] crate-type must include \"cdylib\": the packaging flow only packages cdylibs",
        );
    }
}

fn check_wdk_metadata(manifest: &Table, findings: &mut Findings) {
    let package_wdk = manifest
        .get("package")
        .and_then(|package| package.get("metadata"))
        .and_then(|metadata| metadata.get("wdk"));
    let workspace_wdk = manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("metadata"))
        .and_then(|metadata| metadata.get("wdk"));
    let Some(package_wdk) = package_wdk.and_then(Value::as_table) else {
        findings.push(
            "manifest.wdk-metadata",
            "[package.metadata.wdk] is missing: cargo make only packages crates that have it",
        );
        return;
    };
    let model = match (package_wdk.get("driver-model"), workspace_wdk) {
        (Some(model), None) => model,
        (None, Some(workspace)) => match workspace.get("driver-model") {
            Some(model) => model,
            None => {
                findings.push("manifest.wdk-metadata", "no wdk `driver-model` table");
                return;
            }
        },
        (Some(_), Some(_)) => {
            findings.push(
                "manifest.wdk-metadata",
                "wdk metadata is set both for the package and the workspace; keep one",
            );
            return;
        }
        (None, None) => {
            findings.push("manifest.wdk-metadata", "no wdk `driver-model` table");
            return;
        }
    };
    check_unknown_wdk_keys(package_wdk, findings);
    check_kmdf_driver_model(model, findings);
}

fn check_unknown_wdk_keys(wdk: &Table, findings: &mut Findings) {
    for key in wdk.keys().filter(|key| *key != "driver-model") {
        findings.push(
            "manifest.wdk-metadata",
            format!("unknown key `{key}` in [package.metadata.wdk] (wdk-build denies it)"),
        );
    }
}

fn check_kmdf_driver_model(model: &Value, findings: &mut Findings) {
    let Some(model) = model.as_table() else {
        findings.push("manifest.wdk-metadata", "`driver-model` is not a table");
        return;
    };
    for key in model
        .keys()
        .filter(|key| !KMDF_DRIVER_MODEL_KEYS.contains(&key.as_str()))
    {
        findings.push(
            "manifest.wdk-metadata",
            format!("unknown key `{key}` in driver-model (wdk-build denies it)"),
        );
    }
    if model.get("driver-type").and_then(Value::as_str) != Some("KMDF") {
        findings.push("manifest.wdk-metadata", "driver-type must be \"KMDF\"");
    }
    if model.get("kmdf-version-major").and_then(Value::as_integer) != Some(1) {
        findings.push("manifest.wdk-metadata", "kmdf-version-major must be 1");
    }
    let target = model
        .get("target-kmdf-version-minor")
        .and_then(Value::as_integer);
    match target {
        Some(minor) if u8::try_from(minor).is_ok() => {
            check_minimum_minor(model, minor, findings);
        }
        _ => findings.push(
            "manifest.wdk-metadata",
            "target-kmdf-version-minor must be an integer from 0 to 255",
        ),
    }
}

fn check_minimum_minor(model: &Table, target: i64, findings: &mut Findings) {
    let Some(minimum) = model.get("minimum-kmdf-version-minor") else {
        return;
    };
    match minimum.as_integer() {
        Some(minimum) if u8::try_from(minimum).is_ok() && minimum <= target => {}
        _ => findings.push(
            "manifest.wdk-metadata",
            "minimum-kmdf-version-minor must be an integer no greater than the target minor",
        ),
    }
}

fn check_panic_strategy(manifest: &Table, findings: &mut Findings) {
    for profile in ["dev", "release"] {
        let panic = manifest
            .get("profile")
            .and_then(|profiles| profiles.get(profile))
            .and_then(|settings| settings.get("panic"))
            .and_then(Value::as_str);
        if panic != Some("abort") {
            findings.push(
                "manifest.panic",
                format!("[profile.{profile}] panic must be \"abort\" for a kernel-mode driver"),
            );
        }
    }
}
