//! A parser for the INF syntax used by Windows driver packages (and their `.inx` templates).
//!
//! Covered: `[sections]` (names compare case-insensitively; a repeated section continues the
//! earlier one), `key = value, value` entries and key-less entries, `;` comments outside quoted
//! strings, quoted strings with `""` as an escaped quote, `\` line continuation, and `%token%`
//! substitution from `[Strings]` (`%%` is a literal percent sign; `%13%`-style numeric DIRIDs are
//! left in place).

use std::fmt;

/// A parsed INF file: its sections in file order.
#[derive(Debug, Clone, Default)]
pub struct InfFile {
    sections: Vec<Section>,
}

/// One `[section]` with its entries in file order.
#[derive(Debug, Clone)]
pub struct Section {
    /// The name as written between the brackets, trimmed.
    pub name: String,
    /// Line of the (first) header.
    pub line: usize,
    /// The entries of the section.
    pub entries: Vec<Entry>,
}

/// One logical line inside a section.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Line where the logical line starts.
    pub line: usize,
    /// The part left of the first `=` outside quotes, unquoted; `None` for key-less entries.
    pub key: Option<String>,
    /// The comma-separated values, trimmed and unquoted; empty fields are kept as `""`.
    pub values: Vec<String>,
}

/// Why the text is not a well-formed INF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Why a `%token%` reference could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `%token%` has no entry in `[Strings]`.
    UnknownToken(String),
    /// A `%` without its closing partner.
    UnterminatedToken,
}

impl fmt::Display for ExpandError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownToken(token) => write!(formatter, "%{token}% is not defined in [Strings]"),
            Self::UnterminatedToken => write!(formatter, "unterminated %token%"),
        }
    }
}

impl std::error::Error for ExpandError {}

/// Parses INF text. A leading UTF-8 byte order mark is ignored.
///
/// # Errors
///
/// Returns the first syntax error: an unterminated quoted string, a malformed section header,
/// an entry before the first section, an empty key, or a continuation on the last line.
pub fn parse(text: &str) -> Result<InfFile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut file = InfFile::default();
    let mut current: Option<usize> = None;
    for logical in logical_lines(text)? {
        if logical.text.is_empty() {
            continue;
        }
        if logical.text.starts_with('[') {
            let name = section_name(&logical)?;
            current = Some(file.open_section(name, logical.line));
        } else {
            let entry = parse_entry(&logical)?;
            let index = current.ok_or_else(|| ParseError {
                line: logical.line,
                message: "entry outside of any [section]".to_owned(),
            })?;
            file.sections[index].entries.push(entry);
        }
    }
    Ok(file)
}

impl InfFile {
    /// All sections in file order.
    #[must_use]
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section called `name` (case-insensitive).
    #[must_use]
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|section| section.name.eq_ignore_ascii_case(name))
    }

    /// The value of `token` in `[Strings]` (case-insensitive), without the percent signs.
    #[must_use]
    pub fn string(&self, token: &str) -> Option<&str> {
        let strings = self.section("Strings")?;
        strings
            .entries
            .iter()
            .find(|entry| {
                entry
                    .key
                    .as_deref()
                    .is_some_and(|key| key.eq_ignore_ascii_case(token))
            })
            .and_then(|entry| entry.values.first())
            .map(String::as_str)
    }

    /// Replaces every `%token%` in `value` with its `[Strings]` value.
    ///
    /// # Errors
    ///
    /// Fails on a token missing from `[Strings]` or on an unpaired `%`.
    pub fn expand(&self, value: &str) -> Result<String, ExpandError> {
        let mut expanded = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find('%') {
            expanded.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('%').ok_or(ExpandError::UnterminatedToken)?;
            let token = &after[..end];
            expanded.push_str(&self.token_replacement(token)?);
            rest = &after[end + 1..];
        }
        expanded.push_str(rest);
        Ok(expanded)
    }

    fn token_replacement(&self, token: &str) -> Result<String, ExpandError> {
        if token.is_empty() {
            return Ok("%".to_owned());
        }
        if token.bytes().all(|byte| byte.is_ascii_digit()) {
            return Ok(format!("%{token}%"));
        }
        self.string(token)
            .map(str::to_owned)
            .ok_or_else(|| ExpandError::UnknownToken(token.to_owned()))
    }

    fn open_section(&mut self, name: String, line: usize) -> usize {
        if let Some(index) = self
            .sections
            .iter()
            .position(|section| section.name.eq_ignore_ascii_case(&name))
        {
            return index;
        }
        self.sections.push(Section {
            name,
            line,
            entries: Vec::new(),
        });
        self.sections.len() - 1
    }
}

impl Section {
    /// The entries whose key is `key` (case-insensitive).
    pub fn entries_with_key<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |entry| {
            entry
                .key
                .as_deref()
                .is_some_and(|entry_key| entry_key.eq_ignore_ascii_case(key))
        })
    }

    /// The first entry whose key is `key` (case-insensitive).
    #[must_use]
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| {
            entry
                .key
                .as_deref()
                .is_some_and(|entry_key| entry_key.eq_ignore_ascii_case(key))
        })
    }

    /// The entries without a key (file lists, `AddReg` lines, ...).
    pub fn keyless_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|entry| entry.key.is_none())
    }
}

impl Entry {
    /// The value at `index`, or `""` when the entry has fewer values.
    #[must_use]
    pub fn value(&self, index: usize) -> &str {
        self.values.get(index).map_or("", String::as_str)
    }
}

struct LogicalLine {
    line: usize,
    text: String,
}

fn logical_lines(text: &str) -> Result<Vec<LogicalLine>, ParseError> {
    let mut lines = Vec::new();
    let mut pending: Option<LogicalLine> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let content = strip_comment(raw, number)?.trim_end();
        let (content, continues) = match content.strip_suffix('\\') {
            Some(head) => (head, true),
            None => (content, false),
        };
        let logical = pending.get_or_insert_with(|| LogicalLine {
            line: number,
            text: String::new(),
        });
        logical.text.push_str(content.trim_start());
        if !continues {
            lines.extend(pending.take());
        }
    }
    match pending {
        Some(unfinished) => Err(ParseError {
            line: unfinished.line,
            message: "line continuation (\\) on the last line".to_owned(),
        }),
        None => Ok(lines),
    }
}

fn strip_comment(raw: &str, line: usize) -> Result<&str, ParseError> {
    let mut in_quotes = false;
    for (index, character) in raw.char_indices() {
        match character {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => return Ok(&raw[..index]),
            _ => {}
        }
    }
    if in_quotes {
        return Err(ParseError {
            line,
            message: "unterminated quoted string".to_owned(),
        });
    }
    Ok(raw)
}

fn section_name(logical: &LogicalLine) -> Result<String, ParseError> {
    let error = |message: &str| ParseError {
        line: logical.line,
        message: message.to_owned(),
    };
    let inner = logical
        .text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| error("section header must be `[name]` with nothing after it"))?;
    let name = inner.trim();
    if name.is_empty() || name.contains(['[', ']']) {
        return Err(error("malformed section name"));
    }
    Ok(name.to_owned())
}

fn parse_entry(logical: &LogicalLine) -> Result<Entry, ParseError> {
    match find_outside_quotes(&logical.text, '=') {
        Some(equals) => {
            let key = unquote(logical.text[..equals].trim());
            if key.is_empty() {
                return Err(ParseError {
                    line: logical.line,
                    message: "entry with an empty key".to_owned(),
                });
            }
            Ok(Entry {
                line: logical.line,
                key: Some(key),
                values: split_values(&logical.text[equals + 1..]),
            })
        }
        None => Ok(Entry {
            line: logical.line,
            key: None,
            values: split_values(&logical.text),
        }),
    }
}

fn find_outside_quotes(text: &str, wanted: char) -> Option<usize> {
    let mut in_quotes = false;
    for (index, character) in text.char_indices() {
        if character == '"' {
            in_quotes = !in_quotes;
        } else if character == wanted && !in_quotes {
            return Some(index);
        }
    }
    None
}

fn split_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = text;
    while let Some(comma) = find_outside_quotes(rest, ',') {
        values.push(unquote(rest[..comma].trim()));
        rest = &rest[comma + 1..];
    }
    values.push(unquote(rest.trim()));
    if values.len() == 1 && values[0].is_empty() {
        values.clear();
    }
    values
}

/// Removes INF quoting: `"a;b"` is `a;b`, `""` inside quotes is one `"`.
fn unquote(field: &str) -> String {
    let mut text = String::with_capacity(field.len());
    let mut characters = field.chars().peekable();
    let mut in_quotes = false;
    while let Some(character) = characters.next() {
        match (character, in_quotes) {
            ('"', true) if characters.peek() == Some(&'"') => {
                characters.next();
                text.push('"');
            }
            ('"', _) => in_quotes = !in_quotes,
            (other, _) => text.push(other),
        }
    }
    text
}
