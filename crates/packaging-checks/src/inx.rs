//! The INX against the code and `Cargo.toml`: hardware ID, device SDDL, service, binary and
//! catalog names; and the few rules only a Windows run would reveal: every `%token%` and section
//! reference resolves (infverif), DriverVer and KmdfLibraryVersion are left to stampinf, and the
//! service binary runs from the driver store (DIRID 13, an isolated package).

use crate::inf::{self, Inf};
use crate::{DEVICE_SDDL, Facts, Findings, HARDWARE_ID, SERVICE_NAME};

/// The token `stampinf -k <major.minor>` replaces with the KMDF version from `Cargo.toml`.
const KMDF_TOKEN: &str = "$KMDFVERSION$";
/// `AddService` flag that marks the device's function driver.
const SPSVCINST_ASSOCSERVICE: u32 = 0x2;

/// Checks the INX text; returns the smallest Windows build its models decorations name
/// (`NT$ARCH$.10.0...<build>`), for the KMDF check.
pub fn check(text: &str, facts: &Facts, findings: &mut Findings) -> Option<u32> {
    let inf = inf::parse(text);
    let mut checker = Checker {
        inf: &inf,
        findings,
    };
    checker.tokens_resolve();
    let stem = &facts.stem;
    checker.expect_value(
        "Version",
        "CatalogFile",
        &format!("{stem}.cat"),
        "inx.names",
    );
    checker.expect_value("Version", "DriverVer", "", "inx.stampinf");

    let mut builds = Vec::new();
    let mut installs = Vec::new();
    for manufacturer in inf.section("Manufacturer").unwrap_or_default() {
        let decorations = manufacturer.values.get(1..).unwrap_or_default();
        builds.extend(
            decorations
                .iter()
                .filter_map(|decoration| decoration_build(decoration)),
        );
        for decoration in decorations {
            let models = format!("{}.{decoration}", manufacturer.value(0));
            for model in checker.need(&models, "[Manufacturer]").unwrap_or_default() {
                let ids = model.values.get(1..).unwrap_or_default();
                for id in ids
                    .iter()
                    .filter(|id| !id.eq_ignore_ascii_case(HARDWARE_ID))
                {
                    checker.findings.push(
                        "inx.hardware-id",
                        format!(
                            "[{models}] lists `{id}`; the code's HARDWARE_ID is `{HARDWARE_ID}`"
                        ),
                    );
                }
                if ids
                    .first()
                    .is_some_and(|id| id.eq_ignore_ascii_case(HARDWARE_ID))
                {
                    installs.push(model.value(0).to_owned());
                }
            }
        }
    }
    if installs.is_empty() {
        checker.findings.push(
            "inx.hardware-id",
            format!("no [Manufacturer] model lists the hardware ID {HARDWARE_ID}"),
        );
    }
    for install in installs {
        checker.device_install(&install, stem);
    }
    builds.into_iter().min()
}

/// `<build>` of a models decoration `NT<arch>.<major>.<minor>.<product>.<suite>.<build>`.
fn decoration_build(decoration: &str) -> Option<u32> {
    decoration.split('.').nth(5)?.parse().ok()
}

struct Checker<'a> {
    inf: &'a Inf,
    findings: &'a mut Findings,
}

impl<'a> Checker<'a> {
    /// Section `name`; a missing one is what infverif would reject.
    fn need(&mut self, name: &str, referrer: &str) -> Option<&'a [inf::Line]> {
        let section = self.inf.section(name);
        if section.is_none() {
            self.findings.push(
                "inx.sections",
                format!("[{name}] (named by {referrer}) does not exist"),
            );
        }
        section
    }

    /// The expanded field 0 of `key` in `section` must be `expected` (case-insensitive).
    fn expect_value(&mut self, section: &str, key: &str, expected: &str, rule: &'static str) {
        let found = self.inf.value(section, key).map(|value| self.expand(value));
        if !found
            .as_deref()
            .is_some_and(|found| found.eq_ignore_ascii_case(expected))
        {
            self.findings.push(
                rule,
                format!("[{section}] {key} must be `{expected}`, found {found:?}"),
            );
        }
    }

    fn expand(&self, value: &str) -> String {
        self.inf.expand(value).unwrap_or_else(|_| value.to_owned())
    }

    fn tokens_resolve(&mut self) {
        for (name, lines) in &self.inf.sections {
            let texts = lines
                .iter()
                .flat_map(|line| line.key.iter().chain(&line.values));
            for error in texts.filter_map(|text| self.inf.expand(text).err()) {
                self.findings
                    .push("inx.strings", format!("[{name}]: {error}"));
            }
        }
    }

    /// The install sections of the model: `<install>.NT` and its `.HW`, `.Services`, `.Wdf`.
    fn device_install(&mut self, install: &str, stem: &str) {
        let Some(base) = [format!("{install}.NT$ARCH$"), format!("{install}.NT")]
            .into_iter()
            .find(|name| self.inf.section(name).is_some())
        else {
            self.need(&format!("{install}.NT"), "the model");
            return;
        };
        let driver = format!("{stem}.sys");
        let lists: Vec<String> = self
            .inf
            .keyed(&base, "CopyFiles")
            .flat_map(|line| line.values.clone())
            .collect();
        let mut copied = Vec::new();
        for list in lists {
            match list.strip_prefix('@') {
                Some(file) => copied.push(file.to_owned()),
                None => {
                    let files = self.need(&list, "CopyFiles").unwrap_or_default();
                    copied.extend(files.iter().map(|line| line.value(0).to_owned()));
                }
            }
        }
        if !copied.iter().any(|file| file.eq_ignore_ascii_case(&driver)) {
            self.findings
                .push("inx.names", format!("[{base}] does not copy {driver}"));
        }
        if self.inf.value("SourceDisksFiles", &driver).is_none() {
            self.findings.push(
                "inx.names",
                format!("[SourceDisksFiles] does not list {driver}"),
            );
        }
        self.device_security(&format!("{base}.HW"));
        self.services(&format!("{base}.Services"), &driver);
        self.wdf(&format!("{base}.Wdf"));
    }

    fn device_security(&mut self, hardware: &str) {
        let lists: Vec<String> = self
            .inf
            .keyed(hardware, "AddReg")
            .flat_map(|line| line.values.clone())
            .collect();
        let mut descriptors = Vec::new();
        for list in lists {
            for line in self.need(&list, "AddReg").unwrap_or_default() {
                if line.key.is_none() && line.value(2).eq_ignore_ascii_case("Security") {
                    descriptors
                        .push(self.expand(&line.values.get(4..).unwrap_or_default().join(",")));
                }
            }
        }
        if descriptors.is_empty() || descriptors.iter().any(|sddl| sddl != DEVICE_SDDL) {
            self.findings.push(
                "inx.sddl",
                format!("[{hardware}] sets Security {descriptors:?}; the code's DEVICE_SDDL is `{DEVICE_SDDL}`"),
            );
        }
    }

    fn services(&mut self, services: &str, driver: &str) {
        let functions: Vec<(String, String)> = self
            .inf
            .keyed(services, "AddService")
            .filter(|line| parse_flags(line.value(1)) & SPSVCINST_ASSOCSERVICE != 0)
            .map(|line| (self.expand(line.value(0)), line.value(2).to_owned()))
            .collect();
        match functions.as_slice() {
            [(name, install)] if name.eq_ignore_ascii_case(SERVICE_NAME) => {
                if self.need(install, "AddService").is_some() {
                    let binary = format!(r"%13%\{driver}");
                    self.expect_value(install, "ServiceBinary", &binary, "inx.names");
                }
            }
            _ => self.findings.push(
                "inx.service",
                format!("[{services}] function services {functions:?}; expected one, `{SERVICE_NAME}`, with flag 0x2"),
            ),
        }
    }

    fn wdf(&mut self, wdf: &str) {
        let Some(line) = self.inf.keyed(wdf, "KmdfService").next() else {
            self.findings
                .push("inx.service", format!("[{wdf}] has no KmdfService"));
            return;
        };
        if !self
            .expand(line.value(0))
            .eq_ignore_ascii_case(SERVICE_NAME)
        {
            self.findings.push(
                "inx.service",
                format!(
                    "KmdfService names `{}`, not `{SERVICE_NAME}`",
                    line.value(0)
                ),
            );
        }
        if self.need(line.value(1), "KmdfService").is_some() {
            self.expect_value(
                line.value(1),
                "KmdfLibraryVersion",
                KMDF_TOKEN,
                "inx.stampinf",
            );
        }
    }
}

/// An INF number: `0x` hexadecimal or decimal; 0 when it is neither.
fn parse_flags(text: &str) -> u32 {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).unwrap_or(0),
        None => text.parse().unwrap_or(0),
    }
}
