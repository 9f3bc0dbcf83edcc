//! The report as rows of named figures, what `csv` and `xlsx` write: each row
//! a stable name (`channel.email`, `deadlines.reply.overdue`,
//! `month.2026-11.missed_calls`), its value, and what it is in the reader's
//! language (`By channel: e-mail`), for the workbook.

use std::fmt;

use super::words::{Lang, W, name, outcome, unit, w};
use super::{Counts, Report, Stats};

/// A figure's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Count(u64),
    /// A time, in seconds or days.
    Number(i64),
    /// A time with no appeal to measure.
    Empty,
    /// A date (`2026-11-01`), or what is published in place of a small count.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Empty => Ok(()),
            Value::Text(t) => f.write_str(t),
        }
    }
}

/// One row: the figure's stable name, its words in the reader's language, its
/// value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    pub figure: String,
    pub label: String,
    pub value: Value,
}

/// The rows being made.
struct Rows {
    lang: Lang,
    rows: Vec<Figure>,
}

impl Rows {
    fn put(&mut self, figure: String, label: String, value: Value) {
        self.rows.push(Figure {
            figure,
            label,
            value,
        });
    }

    fn count(&mut self, figure: &str, word: W, n: u64) {
        let label = w(self.lang, word).to_owned();
        self.put(figure.to_owned(), label, Value::Count(n));
    }

    /// Every name of `counts` as `<prefix>.<name>`, labelled `<heading>: <its words>`.
    fn counts(
        &mut self,
        prefix: &str,
        heading: &str,
        counts: &Counts,
        words: impl Fn(&str) -> String,
    ) {
        for (stored, n) in counts.iter() {
            let label = format!("{heading}: {}", words(stored));
            self.put(format!("{prefix}.{stored}"), label, Value::Count(n));
        }
    }

    /// A time's count, median and longest, in `unit` (`seconds` or `days`).
    fn stats(&mut self, prefix: &str, measure: W, unit: (&str, W), s: &Stats) {
        let (lang, measure) = (self.lang, w(self.lang, measure));
        let value = |v: Option<i64>| v.map_or(Value::Empty, Value::Number);
        let of = |what: W| format!("{measure}: {}, {}", w(lang, what), w(lang, unit.1));
        self.put(
            format!("{prefix}.count"),
            format!("{measure}: {}", w(lang, W::Count)),
            Value::Count(s.count),
        );
        self.put(
            format!("{prefix}.median_{}", unit.0),
            of(W::Median),
            value(s.median),
        );
        self.put(format!("{prefix}.max_{}", unit.0), of(W::Max), value(s.max));
    }
}

/// The report as rows: the period, the counts, the times (in seconds, the
/// reply in days), the deadlines and the months.
pub fn rows(report: &Report, lang: Lang) -> Vec<Figure> {
    let t = |word| w(lang, word);
    let n = |stored: &str| name(lang, stored);
    let mut r = Rows {
        lang,
        rows: Vec::new(),
    };
    let date = |d: chrono::NaiveDate| Value::Text(d.to_string());
    let registered = |end| format!("{}: {}", t(W::Period), t(end));
    r.put(
        "period.from".into(),
        registered(W::From),
        date(report.period.from),
    );
    r.put(
        "period.to".into(),
        registered(W::To),
        date(report.period.to),
    );
    r.put("as_of".into(), t(W::AsOf).to_owned(), date(report.as_of));
    r.count("appeals", W::Appeals, report.appeals);
    r.count("anonymous", W::Anonymous, report.anonymous);
    r.count("after_hours", W::AfterHours, report.after_hours);
    r.counts("channel", t(W::ByChannel), &report.by_channel, n);
    r.counts("category", t(W::ByCategory), &report.by_category, n);
    r.counts("status", t(W::ByStatus), &report.by_status, n);
    r.counts("outcome", t(W::Outcomes), &report.outcomes, |e| {
        outcome(lang, e)
    });
    r.counts("unit", t(W::ByUnit), &report.by_unit, |u| unit(lang, u));
    r.counts("decision", t(W::Decisions), &report.decisions, n);
    r.counts("conclusion", t(W::Findings), &report.findings, n);
    let c = &report.calls;
    let logged = |word| format!("{}: {}", t(W::CallsLogged), t(word));
    let after = format!("{}: {}", t(W::CallsAfterHours), t(W::MissedAfterHours));
    r.count("calls", W::CallsLogged, c.calls);
    r.put(
        "calls.answered".into(),
        logged(W::Answered),
        Value::Count(c.answered),
    );
    r.put(
        "calls.voicemail".into(),
        logged(W::Voicemail),
        Value::Count(c.voicemail),
    );
    r.count("calls.missed", W::MissedCalls, c.missed);
    r.count("calls.after_hours", W::CallsAfterHours, c.after_hours);
    r.put(
        "calls.missed_after_hours".into(),
        after,
        Value::Count(c.missed_after_hours),
    );
    let times = &report.times;
    let (seconds, days) = (("seconds", W::Seconds), ("days", W::Days));
    r.stats(
        "time_to_register",
        W::TimeToRegister,
        seconds,
        &times.register_seconds,
    );
    let alert = &times.director_alert;
    r.stats(
        "time_to_director_alert",
        W::TimeToAlert,
        seconds,
        &alert.seconds,
    );
    r.count("director_alert.on_time", W::AlertsInTime, alert.on_time);
    r.count("director_alert.late", W::AlertsLate, alert.late);
    r.count("director_alert.not_sent", W::AlertsNotSent, alert.not_sent);
    r.stats("time_to_reply", W::TimeToReply, days, &times.reply_days);
    let kinds = std::iter::once(("all", t(W::Total).to_owned(), &report.deadlines.all)).chain(
        report
            .deadlines
            .by_kind
            .iter()
            .map(|(k, c)| (k.as_str(), n(k.as_str()), c)),
    );
    for (kind, words, d) in kinds {
        for (end, word, count) in [
            ("met", W::Met, d.met),
            ("met_late", W::MetLate, d.met_late),
            ("overdue", W::Overdue, d.overdue),
            ("open", W::Open, d.open),
            ("ended", W::Ended, d.ended),
        ] {
            let label = format!("{}: {words}: {}", t(W::Deadlines), t(word));
            r.put(
                format!("deadlines.{kind}.{end}"),
                label,
                Value::Count(count),
            );
        }
    }
    for m in &report.months {
        let (p, month) = (format!("month.{}", m.month), m.month.to_string());
        let of = |word| format!("{month}: {}", t(word));
        r.put(
            format!("{p}.appeals"),
            of(W::Appeals),
            Value::Count(m.appeals),
        );
        r.counts(&format!("{p}.channel"), &of(W::ByChannel), &m.by_channel, n);
        r.counts(
            &format!("{p}.category"),
            &of(W::ByCategory),
            &m.by_category,
            n,
        );
        r.counts(&format!("{p}.status"), &of(W::ByStatus), &m.by_status, n);
        r.counts(&format!("{p}.decision"), &of(W::Decisions), &m.decisions, n);
        r.counts(&format!("{p}.conclusion"), &of(W::Findings), &m.findings, n);
        r.put(
            format!("{p}.calls"),
            of(W::CallsLogged),
            Value::Count(m.calls.calls),
        );
        let missed = Value::Count(m.calls.missed);
        r.put(format!("{p}.missed_calls"), of(W::MissedCallsShort), missed);
    }
    r.rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_the_csv_writes_them() {
        assert_eq!(Value::Count(8).to_string(), "8");
        assert_eq!(Value::Number(-3).to_string(), "-3");
        assert_eq!(Value::Empty.to_string(), "");
        assert_eq!(Value::Text("<5".into()).to_string(), "<5");
    }
}
