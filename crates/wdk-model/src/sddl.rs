//! Just enough SDDL to enforce a device's DACL at open: `D:P` followed by allow ACEs
//! `(A;;RIGHTS;;;SID)` with generic rights (GA, GR, GW, GX) and the well-known SIDs SY, BA,
//! BU, WD.

/// Who opens the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// LocalSystem (SY).
    System,
    /// An elevated administrator (BA).
    Administrator,
    /// A standard user (BU, WD).
    User,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ace {
    pub read: bool,
    pub write: bool,
    pub sid: String,
}

/// Parses the DACL; `None` for anything outside the supported subset.
pub(crate) fn parse(sddl: &str) -> Option<Vec<Ace>> {
    let mut rest = sddl.strip_prefix("D:")?;
    rest = rest.strip_prefix('P').unwrap_or(rest);
    let mut aces = Vec::new();
    while !rest.is_empty() {
        let end = rest.find(')')?;
        let body = rest.strip_prefix('(')?.get(..end - 1)?;
        rest = &rest[end + 1..];
        let fields: Vec<&str> = body.split(';').collect();
        let [kind, flags, rights, object, inherit, sid] = fields.as_slice() else {
            return None;
        };
        if *kind != "A" || !flags.is_empty() || !object.is_empty() || !inherit.is_empty() {
            return None;
        }
        let mut ace = Ace {
            read: false,
            write: false,
            sid: (*sid).to_string(),
        };
        for right in rights.as_bytes().chunks(2) {
            match right {
                b"GA" => (ace.read, ace.write) = (true, true),
                b"GR" | b"GX" => ace.read = true,
                b"GW" => ace.write = true,
                _ => return None,
            }
        }
        if !matches!(*sid, "SY" | "BA" | "BU" | "WD") {
            return None;
        }
        aces.push(ace);
    }
    Some(aces)
}

fn sids(caller: Caller) -> &'static [&'static str] {
    match caller {
        Caller::System => &["SY", "BA", "WD"],
        Caller::Administrator => &["BA", "BU", "WD"],
        Caller::User => &["BU", "WD"],
    }
}

/// Whether the DACL grants `caller` the requested access.
pub(crate) fn grants(aces: &[Ace], caller: Caller, read: bool, write: bool) -> bool {
    let held = sids(caller);
    let mut can_read = false;
    let mut can_write = false;
    for ace in aces.iter().filter(|a| held.contains(&a.sid.as_str())) {
        can_read |= ace.read;
        can_write |= ace.write;
    }
    (!read || can_read) && (!write || can_write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_dacl_admits_system_and_administrators_only() {
        let aces = parse("D:P(A;;GA;;;SY)(A;;GA;;;BA)").expect("valid SDDL");
        assert!(grants(&aces, Caller::System, true, true));
        assert!(grants(&aces, Caller::Administrator, true, true));
        assert!(!grants(&aces, Caller::User, true, false));
        assert!(!grants(&aces, Caller::User, false, true));
    }

    #[test]
    fn read_only_grants_do_not_allow_writing() {
        let aces = parse("D:P(A;;GR;;;BU)").expect("valid SDDL");
        assert!(grants(&aces, Caller::User, true, false));
        assert!(!grants(&aces, Caller::User, true, true));
    }

    #[test]
    fn malformed_or_unsupported_sddl_is_refused() {
        for bad in [
            "",
            "O:BA",
            "D:P(A;;GA;;;SY",
            "D:P(D;;GA;;;WD)",
            "D:P(A;;XX;;;SY)",
            "D:P(A;;GA;;;S-1-5-32-544)",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
