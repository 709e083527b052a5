//! The KMDF version of `Cargo.toml` against the INX's models decoration and the docs, and the
//! names the docs' install commands use.

use std::collections::BTreeSet;

use crate::{Facts, Findings, HARDWARE_ID};

/// KMDF 1.minor and the first Windows build that has it in the box, from Microsoft Learn's "KMDF
/// version history" ("Drivers using this KMDF version run on"). A driver whose models allow an
/// older build installs there and then fails to start. 1.29 is missing on purpose: it shipped in
/// Windows 10 1903 but in no WDK, so nothing can target it. 1.33's lowest is Windows Server 2022.
const IN_BOX: &[(u64, u32)] = &[
    (23, 16299),
    (25, 17134),
    (27, 17763),
    (31, 19041),
    (33, 20348),
];

/// The first Windows build with the KMDF version `Cargo.toml` targets, if it is one we know.
pub fn in_box_build((major, minor): (u64, u64)) -> Option<u32> {
    let found = IN_BOX.iter().find(|(known, _)| *known == minor);
    found.filter(|_| major == 1).map(|(_, build)| *build)
}

/// `inx_build`: the smallest build of the INX's models decorations. `docs`: README.md and
/// docs/WINDOWS.md.
pub fn check(facts: &Facts, inx_build: Option<u32>, docs: &str, findings: &mut Findings) {
    let (major, minor) = facts.kmdf;
    match (in_box_build(facts.kmdf), inx_build) {
        (None, _) => findings.push(
            "kmdf.version",
            format!("Cargo.toml targets KMDF {major}.{minor}, which no WDK ships (known: 1.23 to 1.33, not 1.29)"),
        ),
        (Some(needed), Some(build)) if build >= needed => {}
        (Some(needed), build) => findings.push(
            "kmdf.inx",
            format!(
                "the INX models allow Windows build {}, but KMDF {major}.{minor} is in the box only from build {needed}: decorate them NT$ARCH$.10.0...{needed}",
                build.map_or("(no NT$ARCH$.10.0...<build> decoration)".to_owned(), |build| build.to_string()),
            ),
        ),
    }
    for mention in words_after(docs, "KMDF ") {
        if mention.contains('.') && mention != format!("{major}.{minor}") {
            findings.push(
                "kmdf.docs",
                format!("the docs say KMDF {mention}; Cargo.toml targets {major}.{minor}"),
            );
        }
    }
    for mention in words_after(docs, "NT$ARCH$.10.0...") {
        if Some(mention.as_str()) != inx_build.map(|build| build.to_string()).as_deref() {
            findings.push(
                "kmdf.docs",
                format!(
                    "the docs name the decoration ...{mention}; the INX's build is {inx_build:?}"
                ),
            );
        }
    }
    for mention in words_after(docs, r"Root\") {
        if !format!(r"Root\{mention}").eq_ignore_ascii_case(HARDWARE_ID) {
            findings.push(
                "docs.hardware-id",
                format!(r"the docs use Root\{mention}; the code's HARDWARE_ID is {HARDWARE_ID}"),
            );
        }
    }
}

/// The distinct words (letters, digits, `.`, `_`; no trailing `.`) after `prefix` in `text`.
fn words_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(index, _)| {
            let rest = &text[index + prefix.len()..];
            let end = rest
                .find(|character: char| {
                    !(character.is_ascii_alphanumeric() || "._".contains(character))
                })
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('.').to_owned()
        })
        .collect()
}
