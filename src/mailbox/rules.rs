//! Which messages are machine-made (RFC 3834 and common practice), so they are
//! kept but neither registered as appeals nor acknowledged. The rules, first
//! match wins:
//!
//! | Rule | Kind |
//! |---|---|
//! | `Content-Type: multipart/report` (a delivery status notification) | bounce |
//! | `Return-Path: <>` (null reverse path) | bounce |
//! | From's local part `MAILER-DAEMON` or `postmaster` | bounce |
//! | `Auto-Submitted` present and not `no` | auto-reply |
//! | `X-Autoreply`, `X-Autorespond` present, or `Precedence: auto_reply` | auto-reply |
//! | `Precedence: bulk`, `list` or `junk` | list |
//! | any `List-*` header (`List-Id`, `List-Unsubscribe`, ...) | list |

crate::text_enum! {
    /// What kind of machine-made message it is.
    AutomaticKind { Bounce = "bounce", AutoReply = "auto_reply", List = "list" }
}

/// A machine-made message and the rule that said so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Automatic {
    pub kind: AutomaticKind,
    pub rule: &'static str,
}

/// The headers the rules look at: `(name, value)`, names in any case, values
/// unfolded. `from_address` is the parsed From address, if any.
pub fn classify<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    from_address: Option<&str>,
) -> Option<Automatic> {
    let headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let found = |kind, rule| Some(Automatic { kind, rule });

    if value("content-type").is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/report"))
    {
        return found(AutomaticKind::Bounce, "content-type multipart/report");
    }
    if value("return-path").is_some_and(|v| {
        v.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace())
            .is_empty()
    }) {
        return found(AutomaticKind::Bounce, "null return path");
    }
    if let Some(address) = from_address {
        let local = address.split('@').next().unwrap_or_default();
        if local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster") {
            return found(AutomaticKind::Bounce, "from mailer-daemon or postmaster");
        }
    }
    if let Some(v) = value("auto-submitted") {
        let token = v.split(';').next().unwrap_or_default().trim();
        if !token.eq_ignore_ascii_case("no") {
            return found(AutomaticKind::AutoReply, "auto-submitted");
        }
    }
    if value("x-autoreply").is_some() || value("x-autorespond").is_some() {
        return found(AutomaticKind::AutoReply, "x-autoreply");
    }
    if let Some(p) = value("precedence") {
        let p = p.to_ascii_lowercase();
        if p == "auto_reply" {
            return found(AutomaticKind::AutoReply, "precedence auto_reply");
        }
        if matches!(p.as_str(), "bulk" | "list" | "junk") {
            return found(AutomaticKind::List, "precedence bulk/list/junk");
        }
    }
    if headers.iter().any(|(n, _)| n.starts_with("list-")) {
        return found(AutomaticKind::List, "list-* header");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(headers: &[(&str, &str)], from: Option<&str>) -> Option<AutomaticKind> {
        classify(headers.iter().copied(), from).map(|a| a.kind)
    }

    #[test]
    fn people_are_not_machines() {
        assert_eq!(
            kind(
                &[("Subject", "hi"), ("Auto-Submitted", "no")],
                Some("a@b.kz")
            ),
            None
        );
        assert_eq!(kind(&[("Precedence", "first-class")], Some("a@b.kz")), None);
    }

    #[test]
    fn each_rule_matches() {
        use AutomaticKind::*;
        for (headers, from, expected) in [
            (
                vec![(
                    "Content-Type",
                    "multipart/report; report-type=delivery-status",
                )],
                None,
                Bounce,
            ),
            (vec![("Return-Path", "<>")], Some("x@y.kz"), Bounce),
            (vec![], Some("MAILER-DAEMON@mx.kz"), Bounce),
            (vec![], Some("postmaster@mx.kz"), Bounce),
            (vec![("Auto-Submitted", "auto-replied")], None, AutoReply),
            (
                vec![("auto-submitted", "Auto-Generated; x=1")],
                None,
                AutoReply,
            ),
            (vec![("X-Autoreply", "yes")], None, AutoReply),
            (vec![("Precedence", "auto_reply")], None, AutoReply),
            (vec![("Precedence", "Bulk")], None, List),
            (vec![("List-Id", "<news.example.kz>")], None, List),
            (vec![("List-Unsubscribe", "<mailto:x@y>")], None, List),
        ] {
            assert_eq!(kind(&headers, from), Some(expected), "{headers:?} {from:?}");
        }
    }
}
