//! Just enough of Cargo's version requirements to compare the `wdk-build` requirement of the
//! driver's build-dependency with the one in the Makefile's load script.

/// `major.minor.patch` of a plain requirement such as `0.6.0`, `^0.6` or `=0.6.0`.
pub(crate) fn parse_requirement(requirement: &str) -> Option<(u64, u64, u64)> {
    let trimmed = requirement.trim();
    let bare = trimmed
        .strip_prefix('^')
        .or_else(|| trimmed.strip_prefix('='))
        .unwrap_or(trimmed)
        .trim();
    let mut parts = bare.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |part| part.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |part| part.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

/// True when both requirements select the same semver-compatible series (for 0.x: same minor).
pub(crate) fn same_series(left: &str, right: &str) -> bool {
    match (parse_requirement(left), parse_requirement(right)) {
        (Some((0, left_minor, _)), Some((0, right_minor, _))) => left_minor == right_minor,
        (Some((left_major, _, _)), Some((right_major, _, _))) => left_major == right_major,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_requirement, same_series};

    #[test]
    fn parses_plain_caret_and_exact_requirements() {
        assert_eq!(parse_requirement("0.6.0"), Some((0, 6, 0)));
        assert_eq!(parse_requirement("^0.6"), Some((0, 6, 0)));
        assert_eq!(parse_requirement("=1.2.3"), Some((1, 2, 3)));
        assert_eq!(parse_requirement("0.6.x"), None);
        assert_eq!(parse_requirement(">=0.6"), None);
    }

    #[test]
    fn zero_major_versions_must_share_the_minor() {
        assert!(same_series("0.6.0", "0.6.2"));
        assert!(!same_series("0.5.1", "0.6.0"));
        assert!(same_series("1.0", "1.4.2"));
        assert!(!same_series("garbage", "0.6.0"));
    }
}
