//! The INF parser the INX checks rely on.

use packaging_checks::inf::{ExpandError, parse};

const SAMPLE: &str = "\u{feff}; header comment\r
[Version]\r
Signature = \"$WINDOWS NT$\" ; trailing comment\r
\r
[Install.NT]\r
AddReg = First, \\\r
         Second ; continued\r
\r
[first]\r
HKR,,Security,,\"D:P(A;;GA;;;SY)\" ; semicolons inside quotes are data\r
HKR,,Quoted,,\"say \"\"hi\"\"\"\r
\r
[version]\r
Provider = %Company%\r
\r
[Strings]\r
Company = \"Example; Inc.\"\r
";

#[test]
fn reads_sections_entries_comments_and_continuations() {
    let file = parse(SAMPLE).expect("the sample parses");
    let names: Vec<&str> = file
        .sections()
        .iter()
        .map(|section| section.name.as_str())
        .collect();
    assert_eq!(names, ["Version", "Install.NT", "first", "Strings"]);

    let version = file
        .section("VERSION")
        .expect("section names are case-insensitive");
    assert_eq!(
        version.entry("signature").map(|entry| entry.value(0)),
        Some("$WINDOWS NT$")
    );
    assert_eq!(
        version.entry("Provider").map(|entry| entry.line),
        Some(14),
        "a repeated section header continues the section"
    );

    let add_reg = file
        .section("Install.NT")
        .and_then(|section| section.entry("AddReg"));
    assert_eq!(
        add_reg.map(|entry| entry.values.clone()),
        Some(vec!["First".to_owned(), "Second".to_owned()])
    );

    let registry = file.section("First").expect("AddReg section");
    let security: Vec<&str> = registry.entries[0]
        .values
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(security, ["HKR", "", "Security", "", "D:P(A;;GA;;;SY)"]);
    assert_eq!(registry.entries[1].value(4), "say \"hi\"");
    assert_eq!(registry.entries[1].key, None);
}

#[test]
fn expands_string_tokens() {
    let file = parse(SAMPLE).expect("the sample parses");
    assert_eq!(file.expand("%company%").as_deref(), Ok("Example; Inc."));
    assert_eq!(
        file.expand(r"%13%\driver.sys").as_deref(),
        Ok(r"%13%\driver.sys")
    );
    assert_eq!(file.expand("100%% sure").as_deref(), Ok("100% sure"));
    assert_eq!(
        file.expand("%Missing%"),
        Err(ExpandError::UnknownToken("Missing".to_owned()))
    );
    assert_eq!(file.expand("50% off"), Err(ExpandError::UnterminatedToken));
}

#[test]
fn rejects_malformed_text() {
    let cases = [
        ("Key = value\n[Version]\n", 1, "entry outside"),
        ("[Version]\nKey = \"unterminated\n", 2, "unterminated"),
        ("[Version\nKey = value\n", 1, "section header"),
        ("[Version] extra\n", 1, "section header"),
        ("[]\n", 1, "malformed section name"),
        ("[Version]\n = value\n", 2, "empty key"),
        ("[Version]\nKey = a, \\\n", 2, "last line"),
    ];
    for (text, line, message) in cases {
        let error = parse(text).expect_err(text);
        assert_eq!(error.line, line, "{text:?}: {error}");
        assert!(error.message.contains(message), "{text:?}: {error}");
    }
}

#[test]
fn keeps_empty_fields_and_keyless_lists() {
    let file = parse(
        "[SourceDisksNames]\n1 = %Disk%,,,\"\"\n[Files]\na.sys\nb.sys,c.sys\n[Strings]\nDisk = d\n",
    )
    .expect("parses");
    let disk = file
        .section("SourceDisksNames")
        .and_then(|section| section.entry("1"))
        .expect("disk 1");
    assert_eq!(disk.values, ["%Disk%", "", "", ""]);
    let files = file.section("Files").expect("file list");
    let listed: Vec<(Option<&str>, &str, &str)> = files
        .entries
        .iter()
        .map(|entry| (entry.key.as_deref(), entry.value(0), entry.value(1)))
        .collect();
    assert_eq!(listed, [(None, "a.sys", ""), (None, "b.sys", "c.sys")]);
}
