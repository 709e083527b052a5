//! Just enough of the INF syntax for the INX checks. No crate on crates.io reads INF files well
//! enough: inf-rs 0.2 keeps key-less lines whole (no field split, no comment stripping) and
//! compares section names case-sensitively.
//!
//! Read here: `[sections]` (case-insensitive names), `key = a, b` and key-less `a, b` lines,
//! `;` comments outside quotes, `"quoted"` fields, and `%token%` from `[Strings]`. Not read:
//! `\` line continuations and repeated section headers (the INX uses neither).

/// One line of a section: the key left of `=`, if any, and the comma-separated fields, trimmed
/// and unquoted.
#[derive(Debug)]
pub struct Line {
    pub key: Option<String>,
    pub values: Vec<String>,
}

impl Line {
    /// Field `index`, or "" when the line is shorter.
    pub fn value(&self, index: usize) -> &str {
        self.values.get(index).map_or("", String::as_str)
    }
}

#[derive(Debug, Default)]
pub struct Inf {
    pub sections: Vec<(String, Vec<Line>)>,
}

pub fn parse(text: &str) -> Inf {
    let mut inf = Inf::default();
    for raw in text.lines() {
        let trimmed = raw.trim();
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .map(|(name, _)| name.trim().to_owned())
        {
            inf.sections.push((name, Vec::new()));
        } else if let (Some(line), Some((_, lines))) =
            (parse_line(trimmed), inf.sections.last_mut())
        {
            lines.push(line);
        }
    }
    inf
}

fn parse_line(text: &str) -> Option<Line> {
    let (mut key, mut values, mut field) = (None, Vec::new(), String::new());
    let mut quoted = false;
    for character in text.chars() {
        match character {
            '"' => quoted = !quoted,
            ';' if !quoted => break,
            '=' if !quoted && key.is_none() && values.is_empty() => {
                key = Some(std::mem::take(&mut field).trim().to_owned());
            }
            ',' if !quoted => values.push(std::mem::take(&mut field).trim().to_owned()),
            other => field.push(other),
        }
    }
    values.push(field.trim().to_owned());
    (key.is_some() || values.iter().any(|value| !value.is_empty())).then_some(Line { key, values })
}

impl Inf {
    /// The lines of section `name` (case-insensitive).
    pub fn section(&self, name: &str) -> Option<&[Line]> {
        self.sections
            .iter()
            .find(|(section, _)| section.eq_ignore_ascii_case(name))
            .map(|(_, lines)| lines.as_slice())
    }

    /// The lines of section `name` whose key is `key` (case-insensitive).
    pub fn keyed<'a, 'k>(
        &'a self,
        name: &str,
        key: &'k str,
    ) -> impl Iterator<Item = &'a Line> + use<'a, 'k> {
        self.section(name)
            .unwrap_or_default()
            .iter()
            .filter(|line| {
                line.key
                    .as_deref()
                    .is_some_and(|line_key| line_key.eq_ignore_ascii_case(key))
            })
    }

    /// Field 0 of the first `key` line of section `name`.
    pub fn value(&self, name: &str, key: &str) -> Option<&str> {
        self.keyed(name, key).next().map(|line| line.value(0))
    }

    /// `text` with every `%token%` replaced from `[Strings]`; `%%` is `%`; `%13%`-style DIRIDs stay.
    pub fn expand(&self, text: &str) -> Result<String, String> {
        let pieces: Vec<&str> = text.split('%').collect();
        if pieces.len().is_multiple_of(2) {
            return Err(format!("unpaired % in `{text}`"));
        }
        let mut expanded = String::new();
        for (index, piece) in pieces.iter().enumerate() {
            if index.is_multiple_of(2) {
                expanded.push_str(piece);
            } else if piece.is_empty() {
                expanded.push('%');
            } else if piece.bytes().all(|byte| byte.is_ascii_digit()) {
                expanded.push_str(&format!("%{piece}%"));
            } else {
                expanded.push_str(
                    self.value("Strings", piece)
                        .ok_or_else(|| format!("%{piece}% is not defined in [Strings]"))?,
                );
            }
        }
        Ok(expanded)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_keys_fields_quotes_comments_and_tokens() {
        let inf = super::parse(
            "; head\n[Version]\nSignature = \"$WINDOWS NT$\" ; note\nDriverVer = ; stamped\n\
             [sec]\nHKR,,Security,,\"D:P(A;;GA;;;SY)\"\n[strings]\nName = \"a, b\"\n",
        );
        assert_eq!(inf.value("version", "signature"), Some("$WINDOWS NT$"));
        assert_eq!(inf.value("Version", "DriverVer"), Some(""));
        let line = &inf.section("SEC").unwrap()[0];
        assert_eq!((line.key.as_deref(), line.value(2)), (None, "Security"));
        assert_eq!(line.value(4), "D:P(A;;GA;;;SY)");
        assert_eq!(inf.expand(r"%name% %13%\x").as_deref(), Ok(r"a, b %13%\x"));
        assert!(inf.expand("%missing%").is_err() && inf.expand("50%").is_err());
    }
}
