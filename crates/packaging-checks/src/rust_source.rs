//! Reads `const NAME: &str = "...";` string constants out of Rust source text, so the packaging
//! checks can compare the INX with the values the code uses without depending on that crate.

/// The value of the string constant `name` declared in `source`.
///
/// Accepts `const` and `pub const` (any visibility) of type `&str` or `&'static str`, with a
/// normal (`"..."`, escapes decoded) or raw (`r"..."`, `r#"..."#`) string literal. Comments are
/// ignored.
///
/// # Errors
///
/// Fails when no such declaration exists, when its initialiser is not a string literal, or when
/// several declarations disagree.
pub fn string_const(source: &str, name: &str) -> Result<String, String> {
    let code = strip_comments(source)?;
    let mut values: Vec<String> = Vec::new();
    for declaration in const_declarations(&code, name) {
        let value = parse_declaration(declaration)
            .map_err(|reason| format!("`const {name}` is not a string constant: {reason}"))?;
        if !values.contains(&value) {
            values.push(value);
        }
    }
    match values.len() {
        0 => Err(format!(
            "no `const {name}: &str = \"...\";` declaration found"
        )),
        1 => Ok(values.remove(0)),
        _ => Err(format!(
            "`const {name}` is declared with different values: {values:?}"
        )),
    }
}

/// The text following `const <name>` for each declaration of `name`.
fn const_declarations<'a>(code: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    code.match_indices("const")
        .filter(|&(index, _)| is_word_at(code, index, "const".len()))
        .filter_map(move |(index, _)| {
            let after_keyword = &code[index + "const".len()..];
            let trimmed = after_keyword.trim_start();
            if trimmed.len() == after_keyword.len() {
                return None;
            }
            let rest = trimmed.strip_prefix(name)?;
            let continues_identifier = rest.chars().next().is_some_and(is_identifier_char);
            (!continues_identifier).then_some(rest)
        })
}

fn parse_declaration(rest: &str) -> Result<String, String> {
    let after_colon = rest
        .trim_start()
        .strip_prefix(':')
        .ok_or("missing `: &str`")?;
    let (declared_type, initialiser) = after_colon.split_once('=').ok_or("missing `=`")?;
    let declared_type: String = declared_type.split_whitespace().collect();
    if declared_type != "&str" && declared_type != "&'staticstr" {
        return Err(format!("type is `{declared_type}`, not `&str`"));
    }
    let (value, after_literal) = parse_string_literal(initialiser.trim_start())?;
    if !after_literal.trim_start().starts_with(';') {
        return Err("the string literal is not the whole initialiser".to_owned());
    }
    Ok(value)
}

/// Parses a string literal at the start of `text`; returns its value and the text after it.
fn parse_string_literal(text: &str) -> Result<(String, &str), String> {
    if let Some(raw) = text.strip_prefix('r') {
        return parse_raw_literal(raw);
    }
    let body = text
        .strip_prefix('"')
        .ok_or("initialiser is not a string literal")?;
    parse_escaped_literal(body)
}

fn parse_raw_literal(text: &str) -> Result<(String, &str), String> {
    let hashes = text.len() - text.trim_start_matches('#').len();
    let body = text[hashes..]
        .strip_prefix('"')
        .ok_or("malformed raw string literal")?;
    let terminator = format!("\"{}", "#".repeat(hashes));
    let end = body
        .find(&terminator)
        .ok_or("unterminated raw string literal")?;
    Ok((body[..end].to_owned(), &body[end + terminator.len()..]))
}

fn parse_escaped_literal(body: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut characters = body.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Ok((value, &body[index + 1..])),
            '\\' => decode_escape(&mut characters, &mut value)?,
            other => value.push(other),
        }
    }
    Err("unterminated string literal".to_owned())
}

fn decode_escape(
    characters: &mut std::str::CharIndices<'_>,
    value: &mut String,
) -> Result<(), String> {
    let (_, escape) = characters.next().ok_or("unterminated escape")?;
    match escape {
        'n' => value.push('\n'),
        'r' => value.push('\r'),
        't' => value.push('\t'),
        '0' => value.push('\0'),
        '\\' | '"' | '\'' => value.push(escape),
        'x' => value.push(hex_escape(characters)?),
        'u' => value.push(unicode_escape(characters)?),
        '\n' => skip_leading_whitespace(characters, value),
        other => return Err(format!("unknown escape `\\{other}`")),
    }
    Ok(())
}

fn hex_escape(characters: &mut std::str::CharIndices<'_>) -> Result<char, String> {
    let digits: String = characters.take(2).map(|(_, digit)| digit).collect();
    let code = u8::from_str_radix(&digits, 16).map_err(|_| format!("bad `\\x{digits}`"))?;
    if code > 0x7f {
        return Err(format!("`\\x{digits}` is out of range"));
    }
    Ok(char::from(code))
}

fn unicode_escape(characters: &mut std::str::CharIndices<'_>) -> Result<char, String> {
    if characters.next().map(|(_, open)| open) != Some('{') {
        return Err("`\\u` must be followed by `{`".to_owned());
    }
    let digits: String = characters
        .by_ref()
        .map(|(_, digit)| digit)
        .take_while(|&digit| digit != '}')
        .filter(|&digit| digit != '_')
        .collect();
    u32::from_str_radix(&digits, 16)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| format!("bad `\\u{{{digits}}}`"))
}

/// After `\` + newline, a string literal skips the whitespace that starts the next line.
fn skip_leading_whitespace(characters: &mut std::str::CharIndices<'_>, value: &mut String) {
    for (_, character) in characters.by_ref() {
        if !character.is_whitespace() {
            value.push(character);
            return;
        }
    }
}

/// `source` with comments replaced by spaces; string and character literals are kept intact.
fn strip_comments(source: &str) -> Result<String, String> {
    let mut code = String::with_capacity(source.len());
    let mut index = 0;
    while index < source.len() {
        let rest = &source[index..];
        if rest.starts_with("//") {
            index += rest.find('\n').unwrap_or(rest.len());
            code.push(' ');
        } else if rest.starts_with("/*") {
            index += block_comment_length(rest)?;
            code.push(' ');
        } else {
            let length = match literal_length(source, index)? {
                0 => rest.chars().next().map_or(1, char::len_utf8),
                literal => literal,
            };
            code.push_str(&rest[..length]);
            index += length;
        }
    }
    Ok(code)
}

fn block_comment_length(text: &str) -> Result<usize, String> {
    let mut depth = 0usize;
    let mut index = 0;
    while index < text.len() {
        let rest = &text[index..];
        if rest.starts_with("/*") {
            depth += 1;
            index += 2;
        } else if rest.starts_with("*/") {
            depth -= 1;
            index += 2;
            if depth == 0 {
                return Ok(index);
            }
        } else {
            index += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    Err("unterminated block comment".to_owned())
}

/// Length of the string, raw string or character literal starting at `index`, or 0.
fn literal_length(source: &str, index: usize) -> Result<usize, String> {
    let rest = &source[index..];
    let at_token_start = !source[..index]
        .chars()
        .next_back()
        .is_some_and(|previous| is_identifier_char(previous) && !source[..index].ends_with('b'));
    if let Some(body) = rest.strip_prefix('"') {
        let (_, after) = parse_escaped_literal(body)?;
        return Ok(rest.len() - after.len());
    }
    if at_token_start
        && let Some(raw) = rest.strip_prefix('r')
        && (raw.starts_with('"') || raw.starts_with('#'))
        && let Ok((_, after)) = parse_raw_literal(raw)
    {
        return Ok(rest.len() - after.len());
    }
    if rest.starts_with('\'') {
        return Ok(char_literal_length(rest));
    }
    Ok(0)
}

/// Length of a character literal at the start of `text`, or 1 for a lifetime's quote.
fn char_literal_length(text: &str) -> usize {
    let mut characters = text.char_indices().skip(1);
    match characters.next() {
        Some((_, '\\')) => text
            .get(3..)
            .and_then(|after_escape| after_escape.find('\''))
            .map_or(1, |end| end + 4),
        Some((_, character)) => {
            let after = 1 + character.len_utf8();
            if text[after..].starts_with('\'') {
                after + 1
            } else {
                1
            }
        }
        None => 1,
    }
}

fn is_word_at(text: &str, index: usize, length: usize) -> bool {
    let before = text[..index].chars().next_back();
    let after = text[index + length..].chars().next();
    !before.is_some_and(is_identifier_char) && !after.is_some_and(is_identifier_char)
}

fn is_identifier_char(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

#[cfg(test)]
mod tests {
    use super::string_const;

    #[test]
    fn reads_raw_and_escaped_constants() {
        let source = r###"
            /// The hardware ID (`const NOT_THIS: &str = "x";` in a doc comment is ignored).
            pub const HARDWARE_ID: &str = r"Root\WskSample";
            pub(crate) const ESCAPED: &'static str = "a\\b\"c\x41\u{1F600}";
            const HASHED: &str = r#"say "hi""#; // trailing comment
            const NOT_A_STRING: u32 = 5;
        "###;
        assert_eq!(
            string_const(source, "HARDWARE_ID").as_deref(),
            Ok(r"Root\WskSample")
        );
        assert_eq!(
            string_const(source, "ESCAPED").as_deref(),
            Ok("a\\b\"cA\u{1F600}")
        );
        assert_eq!(string_const(source, "HASHED").as_deref(), Ok("say \"hi\""));
        assert!(string_const(source, "NOT_THIS").is_err());
        assert!(string_const(source, "NOT_A_STRING").is_err());
        assert!(string_const(source, "MISSING").is_err());
        assert!(string_const(source, "HARDWARE").is_err());
    }

    #[test]
    fn rejects_conflicting_declarations() {
        let source = r#"
            #[cfg(a)] const NAME: &str = "one";
            #[cfg(b)] const NAME: &str = "two";
        "#;
        assert!(string_const(source, "NAME").is_err());
    }

    #[test]
    fn handles_lifetimes_and_char_literals() {
        let source = r#"
            fn f<'a>(x: &'a str) -> char { '"' }
            fn g() -> char { '\'' }
            const QUOTE: &str = "//not a comment";
        "#;
        assert_eq!(
            string_const(source, "QUOTE").as_deref(),
            Ok("//not a comment")
        );
    }
}
