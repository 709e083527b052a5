//! The driver's INF template: consistent in itself, with the project, and with what stampinf and
//! `infverif /v /w` expect. Each rule is shown to fire on a deliberately broken copy.

mod common;

use common::{Mutation, assert_mutations_caught, read_repo_file, reference_facts};
use packaging_checks::inx::check_inx;

fn inx_text() -> String {
    read_repo_file(&reference_facts().inx_file())
}

fn check(text: &str) -> packaging_checks::Findings {
    check_inx(text, &reference_facts())
}

#[test]
fn version_section_defects_are_caught() {
    assert_mutations_caught(&inx_text(), VERSION_MUTATIONS, check);
}

#[test]
fn file_copy_defects_are_caught() {
    assert_mutations_caught(&inx_text(), FILE_MUTATIONS, check);
}

#[test]
fn model_and_install_section_defects_are_caught() {
    assert_mutations_caught(&inx_text(), MODEL_MUTATIONS, check);
}

#[test]
fn device_security_defects_are_caught() {
    assert_mutations_caught(&inx_text(), SECURITY_MUTATIONS, check);
}

#[test]
fn service_defects_are_caught() {
    assert_mutations_caught(&inx_text(), SERVICE_MUTATIONS, check);
}

#[test]
fn kmdf_defects_are_caught() {
    assert_mutations_caught(&inx_text(), KMDF_MUTATIONS, check);
}

#[test]
fn syntax_strings_and_package_rule_defects_are_caught() {
    assert_mutations_caught(&inx_text(), SYNTAX_AND_PACKAGE_MUTATIONS, check);
}

#[test]
fn a_different_project_fact_is_a_mismatch() {
    let text = inx_text();
    let mut facts = reference_facts();
    facts.hardware_id = r"Root\OtherDevice".to_owned();
    assert!(check_inx(&text, &facts).has_rule("inx.hardware-id"));

    let mut facts = reference_facts();
    facts.device_sddl = "D:P(A;;GA;;;SY)".to_owned();
    assert!(check_inx(&text, &facts).has_rule("inx.device-security"));

    let mut facts = reference_facts();
    facts.service_name = "OtherService".to_owned();
    let findings = check_inx(&text, &facts);
    assert!(findings.has_rule("inx.services") && findings.has_rule("inx.wdf"));

    let mut facts = reference_facts();
    facts.crate_fs_name = "other_driver".to_owned();
    let findings = check_inx(&text, &facts);
    assert!(findings.has_rule("inx.catalog"));
    assert!(findings.has_rule("inx.copy-files"));
    assert!(findings.has_rule("inx.service-install"));
}

const VERSION_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "wrong Signature",
        edits: &[(
            r#"Signature   = "$WINDOWS NT$""#,
            r#"Signature   = "$CHICAGO$""#,
        )],
        rule: "inx.version",
    },
    Mutation {
        description: "no Provider",
        edits: &[("Provider    = %ManufacturerName%\n", "")],
        rule: "inx.version",
    },
    Mutation {
        description: "System class with another GUID",
        edits: &[(
            "ClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10318}",
            "ClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10319}",
        )],
        rule: "inx.class",
    },
    Mutation {
        description: "malformed ClassGuid",
        edits: &[(
            "ClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10318}",
            "ClassGuid   = 4d36e97d-e325-11ce-bfc1-08002be10318",
        )],
        rule: "inx.class",
    },
    Mutation {
        description: "no Class",
        edits: &[("Class       = System\n", "")],
        rule: "inx.class",
    },
    Mutation {
        description: "catalog named differently from the package",
        edits: &[(
            "CatalogFile = wsk_sample.cat",
            "CatalogFile = wsk-sample.cat",
        )],
        rule: "inx.catalog",
    },
    Mutation {
        description: "hard-coded DriverVer",
        edits: &[("DriverVer   = ;", "DriverVer   = 01/01/2026,1.0.0.0 ;")],
        rule: "inx.driver-ver",
    },
    Mutation {
        description: "no DriverVer placeholder",
        edits: &[(
            "DriverVer   = ; stamped by stampinf during `cargo make`\n",
            "",
        )],
        rule: "inx.driver-ver",
    },
    Mutation {
        description: "PnpLockdown off",
        edits: &[("PnpLockdown = 1", "PnpLockdown = 0")],
        rule: "inx.pnp-lockdown",
    },
];

const FILE_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "files copied to System32\\drivers (DIRID 12)",
        edits: &[("DefaultDestDir = 13", "DefaultDestDir = 12")],
        rule: "inx.destination-dirs",
    },
    Mutation {
        description: "no DestinationDirs for the file list",
        edits: &[("DefaultDestDir = 13", "Other_Files = 13")],
        rule: "inx.destination-dirs",
    },
    Mutation {
        description: "source file on an undeclared disk",
        edits: &[("wsk_sample.sys = 1,,", "wsk_sample.sys = 2,,")],
        rule: "inx.source-disks",
    },
    Mutation {
        description: "copied file not in SourceDisksFiles",
        edits: &[("wsk_sample.sys = 1,,", "other.sys = 1,,")],
        rule: "inx.source-disks",
    },
    Mutation {
        description: "the file list copies another binary",
        edits: &[(
            "[WskSample_Driver_Files]\nwsk_sample.sys",
            "[WskSample_Driver_Files]\nwsk_sample.dll",
        )],
        rule: "inx.copy-files",
    },
    Mutation {
        description: "CopyFiles names a missing section",
        edits: &[(
            "CopyFiles = WskSample_Driver_Files",
            "CopyFiles = WskSample_Drivers",
        )],
        rule: "inx.section-reference",
    },
];

const MODEL_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "models without the 10.0...19041 decoration",
        edits: &[(
            "WskSample_Models,NT$ARCH$.10.0...19041",
            "WskSample_Models,NT$ARCH$",
        )],
        rule: "inx.models",
    },
    Mutation {
        description: "models section renamed",
        edits: &[(
            "[WskSample_Models.NT$ARCH$.10.0...19041]",
            "[WskSample_Model.NT$ARCH$.10.0...19041]",
        )],
        rule: "inx.section-reference",
    },
    Mutation {
        description: "no [Manufacturer]",
        edits: &[("[Manufacturer]", "[Manufacturers]")],
        rule: "inx.models",
    },
    Mutation {
        description: "hardware ID differs from the driver's",
        edits: &[(
            r"WskSample_Device, Root\WskSample",
            r"WskSample_Device, Root\WskSampl",
        )],
        rule: "inx.hardware-id",
    },
    Mutation {
        description: "an extra compatible ID",
        edits: &[(
            r"WskSample_Device, Root\WskSample",
            r"WskSample_Device, Root\WskSample, Root\Other",
        )],
        rule: "inx.hardware-id",
    },
    Mutation {
        description: "the model's install section is missing",
        edits: &[("[WskSample_Device.NT]\n", "[WskSample_Dev.NT]\n")],
        rule: "inx.install-section",
    },
];

const SECURITY_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: ".NT.HW section misnamed",
        edits: &[("[WskSample_Device.NT.HW]", "[WskSample_Device.HW]")],
        rule: "inx.device-security",
    },
    Mutation {
        description: "AddReg names a missing section",
        edits: &[(
            "AddReg = WskSample_Device_Security",
            "AddReg = WskSample_Security",
        )],
        rule: "inx.section-reference",
    },
    Mutation {
        description: "SDDL grants Everyone access",
        edits: &[(
            r#"HKR,,Security,,"D:P(A;;GA;;;SY)(A;;GA;;;BA)""#,
            r#"HKR,,Security,,"D:P(A;;GA;;;SY)(A;;GA;;;WD)""#,
        )],
        rule: "inx.device-security",
    },
    Mutation {
        description: "no Security value",
        edits: &[(
            r#"HKR,,Security,,"D:P(A;;GA;;;SY)(A;;GA;;;BA)""#,
            r#"HKR,,Securities,,"D:P(A;;GA;;;SY)(A;;GA;;;BA)""#,
        )],
        rule: "inx.device-security",
    },
    Mutation {
        description: "registry write outside HKR",
        edits: &[(
            "HKR,,DeviceCharacteristics,0x10001,0x100",
            r"HKLM,System\CurrentControlSet\Services\WskSample,Start,0x10001,2",
        )],
        rule: "inx.addreg",
    },
];

const SERVICE_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: ".NT.Services section misnamed",
        edits: &[(
            "[WskSample_Device.NT.Services]",
            "[WskSample_Device.Services]",
        )],
        rule: "inx.services",
    },
    Mutation {
        description: "service named differently",
        edits: &[("AddService = WskSample,", "AddService = WskSampleSvc,")],
        rule: "inx.services",
    },
    Mutation {
        description: "service not marked as the function driver",
        edits: &[("WskSample,0x00000002,", "WskSample,0x00000000,")],
        rule: "inx.services",
    },
    Mutation {
        description: "service install section missing",
        edits: &[(
            "0x00000002,WskSample_Service_Install",
            "0x00000002,WskSample_Service",
        )],
        rule: "inx.section-reference",
    },
    Mutation {
        description: "not a kernel driver",
        edits: &[("ServiceType    = 1", "ServiceType    = 2")],
        rule: "inx.service-install",
    },
    Mutation {
        description: "boot-start service",
        edits: &[("StartType      = 3", "StartType      = 0")],
        rule: "inx.service-install",
    },
    Mutation {
        description: "critical error control",
        edits: &[("ErrorControl   = 1", "ErrorControl   = 3")],
        rule: "inx.service-install",
    },
    Mutation {
        description: "service binary named differently",
        edits: &[(
            r"ServiceBinary  = %13%\wsk_sample.sys",
            r"ServiceBinary  = %13%\wsksample.sys",
        )],
        rule: "inx.service-install",
    },
    Mutation {
        description: "service binary in System32\\drivers",
        edits: &[(
            r"ServiceBinary  = %13%\wsk_sample.sys",
            r"ServiceBinary  = %12%\wsk_sample.sys",
        )],
        rule: "inx.hardcoded-path",
    },
    Mutation {
        description: "service binary at an absolute path",
        edits: &[(
            r"ServiceBinary  = %13%\wsk_sample.sys",
            r"ServiceBinary  = C:\Windows\System32\drivers\wsk_sample.sys",
        )],
        rule: "inx.hardcoded-path",
    },
];

const KMDF_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: ".NT.Wdf section misnamed",
        edits: &[("[WskSample_Device.NT.Wdf]", "[WskSample_Device.Wdf]")],
        rule: "inx.wdf",
    },
    Mutation {
        description: "KmdfService names another service",
        edits: &[("KmdfService = WskSample,", "KmdfService = Other,")],
        rule: "inx.wdf",
    },
    Mutation {
        description: "KmdfService names a missing wdfsect",
        edits: &[("WskSample, WskSample_wdfsect", "WskSample, WskSample_wdf")],
        rule: "inx.section-reference",
    },
    Mutation {
        description: "KMDF version hard-coded instead of stamped",
        edits: &[(
            "KmdfLibraryVersion = $KMDFVERSION$",
            "KmdfLibraryVersion = 1.31",
        )],
        rule: "inx.wdf",
    },
];

const SYNTAX_AND_PACKAGE_MUTATIONS: &[Mutation] = &[
    Mutation {
        description: "a %token% missing from [Strings]",
        edits: &[(
            "WskSample.ServiceDesc = \"WSK Sample UDP Sender Service\"\n",
            "",
        )],
        rule: "inx.strings",
    },
    Mutation {
        description: "unterminated quoted string",
        edits: &[(
            "DiskName              = \"wsk-sample Installation Disk\"",
            "DiskName              = \"wsk-sample Installation Disk",
        )],
        rule: "inx.parse",
    },
    Mutation {
        description: "an entry before the first section",
        edits: &[(
            "; wsk_sample.inx - INF template",
            "Stray = 1\n; wsk_sample.inx - INF template",
        )],
        rule: "inx.parse",
    },
    Mutation {
        description: "non-ASCII text",
        edits: &[(
            "\"WSK Sample UDP Sender Device\"",
            "\"WSK Sample UDP Sender Device \u{2013} test\"",
        )],
        rule: "inx.encoding",
    },
    Mutation {
        description: "a co-installer section",
        edits: &[(
            "[Strings]",
            "[WskSample_Device.NT.CoInstallers]\nCopyFiles = WskSample_Driver_Files\n\n[Strings]",
        )],
        rule: "inx.forbidden",
    },
    Mutation {
        description: "a DelFiles directive",
        edits: &[(
            "CopyFiles = WskSample_Driver_Files",
            "CopyFiles = WskSample_Driver_Files\nDelFiles = WskSample_Driver_Files",
        )],
        rule: "inx.forbidden",
    },
    Mutation {
        description: "a section nothing refers to",
        edits: &[("[Strings]", "[Leftover_Section]\nKey = Value\n\n[Strings]")],
        rule: "inx.unused-section",
    },
];
