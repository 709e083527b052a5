//! Small conveniences over `yaml-rust2` values for reading GitHub Actions workflows.

use yaml_rust2::Yaml;

pub use yaml_rust2::Yaml as Value;

/// Parses a YAML document; an empty stream is an error.
///
/// # Errors
///
/// Returns the scanner's message, or a note that the stream holds no document.
pub fn parse_single_document(text: &str) -> Result<Yaml, String> {
    let mut documents =
        yaml_rust2::YamlLoader::load_from_str(text).map_err(|error| error.to_string())?;
    match documents.len() {
        0 => Err("the file holds no YAML document".to_owned()),
        1 => Ok(documents.remove(0)),
        count => Err(format!("expected one YAML document, found {count}")),
    }
}

/// A scalar as text (`17.0.6`, `true`, `10` all read as written); `None` for other nodes.
#[must_use]
pub fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        Yaml::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The mapping entry `key` of `value` as text, if it is a scalar.
#[must_use]
pub fn field_text(value: &Yaml, key: &str) -> Option<String> {
    scalar_text(&value[key])
}

/// The keys of a mapping that are strings, in document order.
#[must_use]
pub fn string_keys(value: &Yaml) -> Vec<String> {
    value
        .as_hash()
        .map(|hash| {
            hash.keys()
                .filter_map(|key| key.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
