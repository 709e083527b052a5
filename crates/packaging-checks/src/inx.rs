//! Checks of the driver's INF template (`<crate>.inx`): internal consistency (every referenced
//! section exists, every `%token%` resolves), agreement with the project (hardware ID, service
//! name, device SDDL, binary and catalog names) and the shape stampinf and `infverif /v /w`
//! expect from a root-enumerated KMDF driver package.

use std::collections::BTreeSet;

use crate::inf::{self, Entry, InfFile, Section};
use crate::{Findings, ProjectFacts};

/// The models decoration: NT on the architecture stampinf fills in, Windows 10 build 19041 or
/// later (the first build with KMDF 1.31 in the box; DIRID 13 itself needs 16299).
pub const MODELS_DECORATION: &str = "NT$ARCH$.10.0...19041";
/// The token stampinf replaces with the KMDF version taken from Cargo.toml (`-k 1.31`).
pub const KMDF_VERSION_TOKEN: &str = "$KMDFVERSION$";
/// DIRID 13: the driver store; an isolated driver package installs and runs from there.
const DRIVER_STORE_DIRID: &str = "13";
/// `AddService` flag marking the function driver of the device.
const SPSVCINST_ASSOCSERVICE: u64 = 0x2;

/// In-box setup classes whose GUID the INF must spell exactly.
const INBOX_CLASSES: &[(&str, &str)] = &[
    ("System", "{4d36e97d-e325-11ce-bfc1-08002be10318}"),
    ("SoftwareDevice", "{62f9c741-b25a-46ce-b54c-9bccce08b6f2}"),
    (
        "SoftwareComponent",
        "{5c4c3332-344d-483c-8739-259e934c9cc8}",
    ),
];

/// Sections Windows reads by name; everything else must be referenced from somewhere.
const STANDARD_SECTIONS: &[&str] = &[
    "Version",
    "Manufacturer",
    "Strings",
    "DestinationDirs",
    "SourceDisksNames",
    "SourceDisksFiles",
];

/// Directives a declarative (`infverif /w`) driver package may not use.
const FORBIDDEN_DIRECTIVES: &[&str] = &[
    "DelFiles",
    "RenFiles",
    "UpdateInis",
    "UpdateIniFields",
    "Ini2Reg",
    "RegisterDlls",
    "UnregisterDlls",
    "ProfileItems",
];

/// Checks the INX text against the project facts; an empty result means it passes.
#[must_use]
pub fn check_inx(text: &str, facts: &ProjectFacts) -> Findings {
    let mut findings = Findings::new();
    check_ascii(text, &mut findings);
    match inf::parse(text) {
        Ok(file) => {
            let mut checker = Checker::new(&file, facts);
            checker.check_all();
            findings.append(checker.findings);
        }
        Err(error) => findings.push("inx.parse", error.to_string()),
    }
    findings
}

fn check_ascii(text: &str, findings: &mut Findings) {
    if let Some((index, _)) = text.lines().enumerate().find(|(_, line)| !line.is_ascii()) {
        findings.push(
            "inx.encoding",
            format!(
                "line {}: non-ASCII text; keep the INX ASCII (an INF is ANSI or UTF-16)",
                index + 1
            ),
        );
    }
}

struct Checker<'a> {
    file: &'a InfFile,
    facts: &'a ProjectFacts,
    findings: Findings,
    /// Lower-cased names of the sections something refers to.
    referenced: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a InfFile, facts: &'a ProjectFacts) -> Self {
        Self {
            file,
            facts,
            findings: Findings::new(),
            referenced: BTreeSet::new(),
        }
    }

    fn check_all(&mut self) {
        self.check_string_tokens();
        self.check_version();
        self.check_destination_dirs();
        self.check_source_disks();
        for install in self.install_sections_of_models() {
            self.check_device_install(&install);
        }
        self.check_forbidden_constructs();
        self.check_hardcoded_paths();
        if !self.reference_chain_is_broken() {
            self.check_unreferenced_sections();
        }
    }

    /// When the models-to-install-sections chain is broken, every section below the break looks
    /// unreferenced; those findings would only repeat the real one.
    fn reference_chain_is_broken(&self) -> bool {
        [
            "inx.models",
            "inx.hardware-id",
            "inx.install-section",
            "inx.section-reference",
        ]
        .iter()
        .any(|rule| self.findings.has_rule(rule))
    }

    // ----- lookups -------------------------------------------------------------------------

    /// Looks a section up and remembers that it is used.
    fn find(&mut self, name: &str) -> Option<&'a Section> {
        let file: &'a InfFile = self.file;
        let section = file.section(name)?;
        self.referenced.insert(section.name.to_ascii_lowercase());
        Some(section)
    }

    /// Like [`Self::find`], recording `rule` when the section does not exist.
    fn require(&mut self, name: &str, rule: &'static str, referrer: &str) -> Option<&'a Section> {
        let section = self.find(name);
        if section.is_none() {
            self.findings.push(
                rule,
                format!("[{name}] (needed by {referrer}) does not exist"),
            );
        }
        section
    }

    /// A section named by another one; a missing one breaks `inx.section-reference`.
    fn reference(&mut self, name: &str, referrer: &str) -> Option<&'a Section> {
        self.require(name, "inx.section-reference", referrer)
    }

    /// `value` with `%tokens%` expanded; unresolvable tokens are reported by
    /// [`Self::check_string_tokens`], so the raw text is used for them here.
    fn expand(&self, value: &str) -> String {
        self.file.expand(value).unwrap_or_else(|_| value.to_owned())
    }

    /// First value of the first `key` entry in `section`, expanded.
    fn value_of(&self, section: &Section, key: &str) -> Option<String> {
        section.entry(key).map(|entry| self.expand(entry.value(0)))
    }

    // ----- [Strings] -----------------------------------------------------------------------

    fn check_string_tokens(&mut self) {
        let file = self.file;
        for section in file
            .sections()
            .iter()
            .filter(|section| !section.name.eq_ignore_ascii_case("Strings"))
        {
            for entry in &section.entries {
                let texts = entry.key.iter().chain(entry.values.iter());
                for text in texts {
                    if let Err(error) = file.expand(text) {
                        self.findings.push(
                            "inx.strings",
                            format!("line {} in [{}]: {error}", entry.line, section.name),
                        );
                    }
                }
            }
        }
    }

    // ----- [Version] -----------------------------------------------------------------------

    fn check_version(&mut self) {
        let Some(version) = self.require("Version", "inx.version", "every INF") else {
            return;
        };
        let signature = self.value_of(version, "Signature");
        if !signature
            .as_deref()
            .is_some_and(|value| value.eq_ignore_ascii_case("$WINDOWS NT$"))
        {
            self.findings.push(
                "inx.version",
                format!("Signature must be \"$WINDOWS NT$\", found {signature:?}"),
            );
        }
        if self
            .value_of(version, "Provider")
            .is_none_or(|provider| provider.trim().is_empty())
        {
            self.findings
                .push("inx.version", "Provider is missing or empty");
        }
        self.check_class(version);
        self.check_catalog(version);
        self.check_driver_ver(version);
        if self.value_of(version, "PnpLockdown").as_deref() != Some("1") {
            self.findings.push(
                "inx.pnp-lockdown",
                "PnpLockdown = 1 is required (the driver files must be protected)",
            );
        }
    }

    fn check_class(&mut self, version: &Section) {
        let class = self.value_of(version, "Class").unwrap_or_default();
        let guid = self.value_of(version, "ClassGuid").unwrap_or_default();
        if class.is_empty() {
            self.findings.push("inx.class", "Class is missing or empty");
        }
        if !is_guid(&guid) {
            self.findings.push(
                "inx.class",
                format!(
                    "ClassGuid `{guid}` is not a {{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}} GUID"
                ),
            );
            return;
        }
        let inbox = INBOX_CLASSES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&class));
        if let Some((name, expected)) = inbox
            && !expected.eq_ignore_ascii_case(&guid)
        {
            self.findings.push(
                "inx.class",
                format!("the in-box class {name} has ClassGuid {expected}, not {guid}"),
            );
        }
    }

    fn check_catalog(&mut self, version: &Section) {
        let expected = self.facts.catalog_file();
        let catalog = self.value_of(version, "CatalogFile");
        if !catalog
            .as_deref()
            .is_some_and(|name| name.eq_ignore_ascii_case(&expected))
        {
            self.findings.push(
                "inx.catalog",
                format!("CatalogFile must be {expected} (the catalog inf2cat creates), found {catalog:?}"),
            );
        }
    }

    fn check_driver_ver(&mut self, version: &Section) {
        match version.entry("DriverVer") {
            None => self.findings.push(
                "inx.driver-ver",
                "DriverVer placeholder is missing (stampinf -d * -v * stamps it)",
            ),
            Some(entry) if entry.values.iter().any(|value| !value.is_empty()) => {
                self.findings.push(
                    "inx.driver-ver",
                    format!(
                        "line {}: DriverVer is hard-coded; leave it empty for stampinf",
                        entry.line
                    ),
                );
            }
            Some(_) => {}
        }
    }

    // ----- files ---------------------------------------------------------------------------

    fn check_destination_dirs(&mut self) {
        let Some(dirs) = self.require("DestinationDirs", "inx.destination-dirs", "CopyFiles")
        else {
            return;
        };
        for entry in &dirs.entries {
            let dirid = entry.value(0);
            if dirid != DRIVER_STORE_DIRID {
                self.findings.push(
                    "inx.destination-dirs",
                    format!(
                        "line {}: files go to DIRID {dirid}; an isolated driver package uses 13",
                        entry.line
                    ),
                );
            }
        }
    }

    fn check_source_disks(&mut self) {
        let names = self.require("SourceDisksNames", "inx.source-disks", "[SourceDisksFiles]");
        let files = self.require("SourceDisksFiles", "inx.source-disks", "CopyFiles");
        let (Some(names), Some(files)) = (names, files) else {
            return;
        };
        for file in &files.entries {
            let disk = file.value(0);
            if names.entry(disk).is_none() {
                self.findings.push(
                    "inx.source-disks",
                    format!(
                        "line {}: disk `{disk}` of {} is not in [SourceDisksNames]",
                        file.line,
                        file.key.as_deref().unwrap_or("?")
                    ),
                );
            }
        }
    }

    fn is_on_source_disk(&self, file_name: &str) -> bool {
        self.file
            .section("SourceDisksFiles")
            .is_some_and(|files| files.entry(file_name).is_some())
    }

    fn has_destination(&self, file_list: &str) -> bool {
        self.file.section("DestinationDirs").is_some_and(|dirs| {
            dirs.entry(file_list)
                .or_else(|| dirs.entry("DefaultDestDir"))
                .is_some()
        })
    }

    // ----- models --------------------------------------------------------------------------

    /// The install sections of the models that list the project's hardware ID.
    fn install_sections_of_models(&mut self) -> Vec<String> {
        let Some(manufacturer) = self.require("Manufacturer", "inx.models", "every device INF")
        else {
            return Vec::new();
        };
        let mut installs: Vec<String> = Vec::new();
        for entry in &manufacturer.entries {
            for models in self.models_sections(entry) {
                for install in self.installs_for_hardware_id(models) {
                    if !installs.contains(&install) {
                        installs.push(install);
                    }
                }
            }
        }
        if installs.is_empty() {
            self.findings.push(
                "inx.hardware-id",
                format!("no model lists the hardware ID {}", self.facts.hardware_id),
            );
        }
        installs
    }

    fn models_sections(&mut self, manufacturer_entry: &Entry) -> Vec<&'a Section> {
        let base = manufacturer_entry.value(0);
        if base.is_empty() {
            self.findings.push(
                "inx.models",
                format!(
                    "line {}: manufacturer without a models section",
                    manufacturer_entry.line
                ),
            );
            return Vec::new();
        }
        let decorations = &manufacturer_entry.values[1..];
        if !decorations
            .iter()
            .any(|decoration| decoration.eq_ignore_ascii_case(MODELS_DECORATION))
        {
            self.findings.push(
                "inx.models",
                format!("models `{base}` lack the {MODELS_DECORATION} decoration"),
            );
        }
        let names: Vec<String> = if decorations.is_empty() {
            vec![base.to_owned()]
        } else {
            decorations
                .iter()
                .map(|decoration| format!("{base}.{decoration}"))
                .collect()
        };
        names
            .iter()
            .filter_map(|name| self.reference(name, "[Manufacturer]"))
            .collect()
    }

    fn installs_for_hardware_id(&mut self, models: &Section) -> Vec<String> {
        let mut installs = Vec::new();
        for model in &models.entries {
            let ids = model.values.get(1..).unwrap_or_default();
            for id in ids {
                if !id.eq_ignore_ascii_case(&self.facts.hardware_id) {
                    self.findings.push(
                        "inx.hardware-id",
                        format!(
                            "line {}: [{}] lists `{id}`; the driver's hardware ID is `{}`",
                            model.line, models.name, self.facts.hardware_id
                        ),
                    );
                }
            }
            if ids
                .first()
                .is_some_and(|id| id.eq_ignore_ascii_case(&self.facts.hardware_id))
            {
                installs.push(model.value(0).to_owned());
            }
        }
        installs
    }

    // ----- the device's install sections ---------------------------------------------------

    fn check_device_install(&mut self, base: &str) {
        let candidates = [
            format!("{base}.NT$ARCH$"),
            format!("{base}.NT"),
            base.to_owned(),
        ];
        let Some(install) = candidates.iter().find_map(|name| self.find(name)) else {
            self.findings.push(
                "inx.install-section",
                format!("no install section [{base}.NT] for the model"),
            );
            return;
        };
        self.check_copy_files(install);
        self.check_device_security(&format!("{}.HW", install.name));
        self.check_services(&format!("{}.Services", install.name));
        self.check_wdf(&format!("{}.Wdf", install.name));
    }

    fn check_copy_files(&mut self, install: &Section) {
        let referrer = format!("CopyFiles in [{}]", install.name);
        let mut copied: Vec<String> = Vec::new();
        for entry in install.entries_with_key("CopyFiles") {
            for target in &entry.values {
                if let Some(single_file) = target.strip_prefix('@') {
                    copied.push(single_file.to_owned());
                } else if let Some(list) = self.reference(target, &referrer) {
                    copied.extend(self.files_of_copy_list(list));
                }
            }
        }
        let driver_file = self.facts.driver_file();
        if !copied
            .iter()
            .any(|file| file.eq_ignore_ascii_case(&driver_file))
        {
            self.findings.push(
                "inx.copy-files",
                format!("[{}] does not copy {driver_file}", install.name),
            );
        }
        let missing: Vec<&String> = copied
            .iter()
            .filter(|file| !self.is_on_source_disk(file))
            .collect();
        for file in missing {
            self.findings.push(
                "inx.source-disks",
                format!("{file} is copied but not listed in [SourceDisksFiles]"),
            );
        }
    }

    fn files_of_copy_list(&mut self, list: &Section) -> Vec<String> {
        if !self.has_destination(&list.name) {
            self.findings.push(
                "inx.destination-dirs",
                format!(
                    "[DestinationDirs] has neither DefaultDestDir nor an entry for [{}]",
                    list.name
                ),
            );
        }
        let mut files = Vec::new();
        for entry in &list.entries {
            if entry.key.is_some() {
                self.findings.push(
                    "inx.copy-files",
                    format!("line {}: a file list line has no `=`", entry.line),
                );
                continue;
            }
            let source = entry.value(1);
            files.push(
                if source.is_empty() {
                    entry.value(0)
                } else {
                    source
                }
                .to_owned(),
            );
        }
        files
    }

    fn check_device_security(&mut self, hardware_section: &str) {
        let Some(hardware) =
            self.require(hardware_section, "inx.device-security", "the device SDDL")
        else {
            return;
        };
        let referrer = format!("AddReg in [{}]", hardware.name);
        let mut descriptors = Vec::new();
        for entry in hardware.entries_with_key("AddReg") {
            for name in &entry.values {
                if let Some(registry) = self.reference(name, &referrer) {
                    descriptors.extend(self.security_values(registry));
                }
            }
        }
        if descriptors.is_empty() {
            self.findings.push(
                "inx.device-security",
                format!("[{hardware_section}] sets no HKR,,Security,,\"<SDDL>\" value"),
            );
        }
        for descriptor in descriptors
            .iter()
            .filter(|descriptor| **descriptor != self.facts.device_sddl)
        {
            self.findings.push(
                "inx.device-security",
                format!(
                    "device SDDL `{descriptor}` differs from the driver's `{}`",
                    self.facts.device_sddl
                ),
            );
        }
    }

    /// The `HKR,,Security,,...` values of an AddReg section; reports non-HKR lines.
    fn security_values(&mut self, registry: &Section) -> Vec<String> {
        let mut descriptors = Vec::new();
        for line in &registry.entries {
            let root = line.value(0);
            if line.key.is_some() || !root.eq_ignore_ascii_case("HKR") {
                self.findings.push(
                    "inx.addreg",
                    format!(
                        "line {} in [{}]: only HKR registry lines are allowed in a driver package",
                        line.line, registry.name
                    ),
                );
                continue;
            }
            if line.value(1).is_empty() && line.value(2).eq_ignore_ascii_case("Security") {
                let data = line.values.get(4..).unwrap_or_default().join(",");
                descriptors.push(self.expand(&data));
            }
        }
        descriptors
    }

    fn check_services(&mut self, services_section: &str) {
        let Some(services) = self.require(services_section, "inx.services", "the device") else {
            return;
        };
        let mut function_services = Vec::new();
        for add in services.entries_with_key("AddService") {
            let name = self.expand(add.value(0));
            let flags = parse_number(&self.expand(add.value(1)));
            match flags {
                Some(flags) if flags & SPSVCINST_ASSOCSERVICE != 0 => {
                    function_services.push(name.clone())
                }
                Some(_) => {}
                None => self.findings.push(
                    "inx.services",
                    format!(
                        "line {}: AddService flags `{}` are not a number",
                        add.line,
                        add.value(1)
                    ),
                ),
            }
            let install = add.value(2);
            let referrer = format!("AddService {name}");
            if let Some(service_install) = self.reference(install, &referrer) {
                self.check_service_install(service_install);
            }
        }
        self.check_function_service(services_section, &function_services);
    }

    fn check_function_service(&mut self, services_section: &str, names: &[String]) {
        match names {
            [] => self.findings.push(
                "inx.services",
                format!("[{services_section}] has no AddService with 0x00000002 (SPSVCINST_ASSOCSERVICE)"),
            ),
            [name] if name.eq_ignore_ascii_case(&self.facts.service_name) => {}
            [name] => self.findings.push(
                "inx.services",
                format!("the function driver service is `{name}`, expected `{}`", self.facts.service_name),
            ),
            _ => self.findings.push(
                "inx.services",
                format!("[{services_section}] marks several services as the function driver"),
            ),
        }
    }

    fn check_service_install(&mut self, install: &Section) {
        let expectations = [
            ("ServiceType", 1, "SERVICE_KERNEL_DRIVER"),
            ("StartType", 3, "SERVICE_DEMAND_START"),
            ("ErrorControl", 1, "SERVICE_ERROR_NORMAL"),
        ];
        for (key, expected, meaning) in expectations {
            let value = self.value_of(install, key);
            if value.as_deref().and_then(parse_number) != Some(expected) {
                self.findings.push(
                    "inx.service-install",
                    format!(
                        "[{}] {key} must be {expected} ({meaning}), found {value:?}",
                        install.name
                    ),
                );
            }
        }
        let expected_binary = format!(r"%13%\{}", self.facts.driver_file());
        let binary = self.value_of(install, "ServiceBinary");
        if !binary
            .as_deref()
            .is_some_and(|path| path.eq_ignore_ascii_case(&expected_binary))
        {
            self.findings.push(
                "inx.service-install",
                format!(
                    "[{}] ServiceBinary must be {expected_binary}, found {binary:?}",
                    install.name
                ),
            );
        }
        if self
            .value_of(install, "DisplayName")
            .is_none_or(|name| name.trim().is_empty())
        {
            self.findings.push(
                "inx.service-install",
                format!("[{}] has no DisplayName", install.name),
            );
        }
    }

    fn check_wdf(&mut self, wdf_section: &str) {
        let Some(wdf) = self.require(wdf_section, "inx.wdf", "a KMDF driver") else {
            return;
        };
        let Some(kmdf_service) = wdf.entry("KmdfService") else {
            self.findings
                .push("inx.wdf", format!("[{wdf_section}] has no KmdfService"));
            return;
        };
        let service = self.expand(kmdf_service.value(0));
        if !service.eq_ignore_ascii_case(&self.facts.service_name) {
            self.findings.push(
                "inx.wdf",
                format!(
                    "KmdfService names `{service}`, expected `{}`",
                    self.facts.service_name
                ),
            );
        }
        let Some(wdf_install) = self.reference(kmdf_service.value(1), "KmdfService") else {
            return;
        };
        let version = self.value_of(wdf_install, "KmdfLibraryVersion");
        if version.as_deref() != Some(KMDF_VERSION_TOKEN) {
            self.findings.push(
                "inx.wdf",
                format!(
                    "[{}] KmdfLibraryVersion must be {KMDF_VERSION_TOKEN} (stampinf -k fills it), found {version:?}",
                    wdf_install.name
                ),
            );
        }
    }

    // ----- package-wide rules --------------------------------------------------------------

    fn check_forbidden_constructs(&mut self) {
        let file = self.file;
        for section in file.sections() {
            let name = section.name.to_ascii_lowercase();
            if name.ends_with(".coinstallers") || name.starts_with("classinstall32") {
                self.findings.push(
                    "inx.forbidden",
                    format!(
                        "[{}]: co-installers and class installers are not allowed",
                        section.name
                    ),
                );
            }
            for entry in &section.entries {
                self.check_forbidden_entry(section, entry);
            }
        }
    }

    fn check_forbidden_entry(&mut self, section: &Section, entry: &Entry) {
        if let Some(key) = entry.key.as_deref()
            && let Some(directive) = FORBIDDEN_DIRECTIVES
                .iter()
                .find(|directive| directive.eq_ignore_ascii_case(key))
        {
            self.findings.push(
                "inx.forbidden",
                format!(
                    "line {} in [{}]: {directive} is not allowed",
                    entry.line, section.name
                ),
            );
        }
        if entry.key.is_none() && entry.value(2).eq_ignore_ascii_case("CoInstallers32") {
            self.findings.push(
                "inx.forbidden",
                format!(
                    "line {} in [{}]: CoInstallers32 registers a co-installer",
                    entry.line, section.name
                ),
            );
        }
    }

    fn check_hardcoded_paths(&mut self) {
        let file = self.file;
        for section in file.sections() {
            for entry in &section.entries {
                for value in &entry.values {
                    let expanded = self.expand(value);
                    if let Some(problem) = hardcoded_path_problem(&expanded) {
                        self.findings.push(
                            "inx.hardcoded-path",
                            format!("line {} in [{}]: {problem}", entry.line, section.name),
                        );
                    }
                }
            }
        }
    }

    fn check_unreferenced_sections(&mut self) {
        let file = self.file;
        for section in file.sections() {
            let name = section.name.to_ascii_lowercase();
            if !is_standard_section(&name) && !self.referenced.contains(&name) {
                self.findings.push(
                    "inx.unused-section",
                    format!("[{}] is not referenced by anything", section.name),
                );
            }
        }
    }
}

fn is_standard_section(lowercase_name: &str) -> bool {
    STANDARD_SECTIONS.iter().any(|standard| {
        let standard = standard.to_ascii_lowercase();
        lowercase_name == standard
            || lowercase_name
                .strip_prefix(&standard)
                .is_some_and(|suffix| suffix.starts_with('.'))
    })
}

/// Why `value` hard-codes a location (a drive path or a DIRID other than 13), if it does.
fn hardcoded_path_problem(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let has_drive_path = bytes
        .windows(3)
        .any(|window| window[0].is_ascii_alphabetic() && window[1] == b':' && window[2] == b'\\');
    if has_drive_path {
        return Some(format!("`{value}` contains an absolute path"));
    }
    let dirids = value
        .split('%')
        .skip(1)
        .step_by(2)
        .filter(|token| !token.is_empty() && token.bytes().all(|byte| byte.is_ascii_digit()));
    for dirid in dirids {
        if dirid != DRIVER_STORE_DIRID {
            return Some(format!(
                "`{value}` uses DIRID %{dirid}%; only %13% keeps the package isolated"
            ));
        }
    }
    None
}

fn is_guid(text: &str) -> bool {
    let Some(inner) = text
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
    else {
        return false;
    };
    let groups: Vec<&str> = inner.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups.iter().zip(lengths).all(|(group, length)| {
            group.len() == length && group.bytes().all(|byte| byte.is_ascii_hexdigit())
        })
}

/// An INF number: `0x` hexadecimal or decimal.
fn parse_number(text: &str) -> Option<u64> {
    let trimmed = text.trim();
    match trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => trimmed.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::{hardcoded_path_problem, is_guid, parse_number};

    #[test]
    fn guids_numbers_and_paths() {
        assert!(is_guid("{4d36e97d-e325-11ce-bfc1-08002be10318}"));
        assert!(!is_guid("4d36e97d-e325-11ce-bfc1-08002be10318"));
        assert!(!is_guid("{4d36e97d-e325-11ce-bfc1-08002be1031}"));
        assert!(!is_guid("{4d36e97d-e325-11ce-bfc1-08002be1031g}"));
        assert_eq!(parse_number("0x00000002"), Some(2));
        assert_eq!(parse_number(" 3 "), Some(3));
        assert_eq!(parse_number("three"), None);
        assert!(hardcoded_path_problem(r"%13%\wsk_sample.sys").is_none());
        assert!(hardcoded_path_problem(r"%12%\wsk_sample.sys").is_some());
        assert!(hardcoded_path_problem(r"C:\Windows\wsk_sample.sys").is_some());
        assert!(hardcoded_path_problem("D:P(A;;GA;;;SY)").is_none());
    }
}
