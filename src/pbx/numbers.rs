//! The caller's number as a PBX sends it, and its E.164 form where it can be
//! decided. Kazakh numbers come in many shapes (`+77012345678`, `87012345678`,
//! `7012345678`, `8 (7172) 55-12-34`); all are `+7` and ten digits. A withheld
//! caller (`anonymous`, `restricted`, `unknown`, ...) is no number at all. The raw
//! string is always kept, for the call log.

/// Who called, as far as the PBX knows.
#[derive(Clone, PartialEq, Eq)]
pub enum Caller {
    /// The PBX says the number is withheld (`anonymous`, `restricted`, ...).
    Withheld { raw: String },
    /// A number in E.164 form (`+77012345678`).
    E164 { raw: String, number: String },
    /// Something that is not recognisably a public number (an internal extension,
    /// a short code): kept as sent.
    Other { raw: String },
}

/// What PBXes send for a caller without a number.
const WITHHELD: &[&str] = &[
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "withheld",
];

impl Caller {
    /// Reads a caller id as sent; `None` if there is nothing there.
    pub fn parse(raw: &str) -> Option<Caller> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let owned = raw.to_owned();
        if WITHHELD.iter().any(|w| w.eq_ignore_ascii_case(raw)) {
            return Some(Caller::Withheld { raw: owned });
        }
        Some(match e164(raw) {
            Some(number) => Caller::E164 { raw: owned, number },
            None => Caller::Other { raw: owned },
        })
    }

    /// The string the PBX sent.
    pub fn raw(&self) -> &str {
        match self {
            Caller::Withheld { raw } | Caller::E164 { raw, .. } | Caller::Other { raw } => raw,
        }
    }

    /// The number to call back: E.164 where decided, else as sent; none if withheld.
    pub fn number(&self) -> Option<&str> {
        match self {
            Caller::Withheld { .. } => None,
            Caller::E164 { number, .. } => Some(number),
            Caller::Other { raw } => Some(raw),
        }
    }
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Confidential: never the number itself.
        match self {
            Caller::Withheld { .. } => f.write_str("Caller::Withheld"),
            Caller::E164 { .. } => f.write_str("Caller::E164(<confidential>)"),
            Caller::Other { .. } => f.write_str("Caller::Other(<confidential>)"),
        }
    }
}

/// The E.164 form of a number written with spaces, brackets, dots and dashes:
/// `+<digits>` as given (8 to 15 digits); Kazakhstan's `8` trunk prefix, `7`
/// country code or bare ten digits as `+7` and ten digits; `00`/`810` (the
/// international prefixes) as `+`. The operator's notes check a reporter's
/// phone with it (`notes`).
pub fn e164(raw: &str) -> Option<String> {
    let (plus, rest) = match raw.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let international = |d: &str| (8..=15).contains(&d.len()).then(|| format!("+{d}"));
    if plus {
        return international(&digits);
    }
    if let Some(d) = digits.strip_prefix("810").filter(|d| d.len() >= 8) {
        return international(d);
    }
    if let Some(d) = digits.strip_prefix("00") {
        return international(d);
    }
    match digits.len() {
        10 => Some(format!("+7{digits}")),
        11 if digits.starts_with('8') || digits.starts_with('7') => {
            Some(format!("+7{}", &digits[1..]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(raw: &str) -> Option<String> {
        Caller::parse(raw).and_then(|c| c.number().map(str::to_owned))
    }

    #[test]
    fn kazakh_numbers_in_every_shape_are_e164() {
        for raw in [
            "+77012345678",
            "87012345678",
            "77012345678",
            "7012345678",
            "8 701 234 56 78",
            "+7 (701) 234-56-78",
            "8-701-234-56-78",
        ] {
            assert_eq!(number(raw).as_deref(), Some("+77012345678"), "{raw}");
        }
        assert_eq!(number("8 (7172) 55-12-34").as_deref(), Some("+77172551234"));
        assert_eq!(number("+49 30 1234567").as_deref(), Some("+49301234567"));
        assert_eq!(number("0049301234567").as_deref(), Some("+49301234567"));
        assert_eq!(number("81049301234567").as_deref(), Some("+49301234567"));
    }

    #[test]
    fn the_raw_string_is_kept() {
        let c = Caller::parse(" 8 (7172) 55-12-34 ").unwrap();
        assert_eq!(c.raw(), "8 (7172) 55-12-34");
        assert!(matches!(c, Caller::E164 { .. }));
    }

    #[test]
    fn withheld_callers_have_no_number() {
        for raw in ["anonymous", "Anonymous", "restricted", "UNKNOWN", "private"] {
            let c = Caller::parse(raw).unwrap();
            assert!(matches!(c, Caller::Withheld { .. }), "{raw}");
            assert_eq!(c.number(), None);
            assert_eq!(c.raw(), raw);
        }
        assert!(Caller::parse("").is_none());
        assert!(Caller::parse("   ").is_none());
    }

    #[test]
    fn what_is_not_a_public_number_is_kept_as_sent() {
        for raw in ["201", "*100#", "+7701", "12345678901234567", "sip:bob@pbx"] {
            let c = Caller::parse(raw).unwrap();
            assert!(matches!(c, Caller::Other { .. }), "{raw}");
            assert_eq!(c.number(), Some(raw));
        }
    }
}
