//! The report as CSV: `figures`, one table of `figure,value` rows (for the
//! line's own use), and `publication`, what the enterprise publishes on its web
//! site (4.7): per month, the appeals by channel, category and outcome, each
//! count below `SUPPRESS_BELOW` shown as `<5`.
//!
//! Every cell a spreadsheet would take for a formula is neutralised as the
//! Journal's export does it (`journal::export::neutralised`): a unit's name is
//! the only text that is not Senim's own.

use std::io::Write;

use super::{Counts, MonthFigures, Report, Stats};
use crate::journal::export::neutralised;

/// Counts below this are not published: they could point at a person.
pub const SUPPRESS_BELOW: u64 = 5;
/// What a suppressed count reads as.
pub const SUPPRESSED: &str = "<5";
/// What a count withheld so that a suppressed one cannot be worked out from the
/// month's total reads as (secondary suppression).
pub const WITHHELD: &str = "*";
/// The publication's columns: nothing finer than a month.
pub const PUBLICATION_HEADER: [&str; 4] = ["month", "figure", "value", "appeals"];

/// The report as `figure,value` rows: the period, the counts, the times (in
/// seconds, the reply in days), the deadlines and the months.
pub fn figures(report: &Report, sink: impl Write) -> anyhow::Result<()> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut put = |figure: String, value: String| rows.push((figure, value));
    put("period.from".into(), report.period.from.to_string());
    put("period.to".into(), report.period.to.to_string());
    put("as_of".into(), report.as_of.to_string());
    put("appeals".into(), report.appeals.to_string());
    put("anonymous".into(), report.anonymous.to_string());
    put("after_hours".into(), report.after_hours.to_string());
    let counts = |put: &mut dyn FnMut(String, String), prefix: &str, counts: &Counts| {
        for (name, n) in counts.iter() {
            put(format!("{prefix}.{name}"), n.to_string());
        }
    };
    counts(&mut put, "channel", &report.by_channel);
    counts(&mut put, "category", &report.by_category);
    counts(&mut put, "status", &report.by_status);
    counts(&mut put, "outcome", &report.outcomes);
    counts(&mut put, "unit", &report.by_unit);
    counts(&mut put, "decision", &report.decisions);
    let c = &report.calls;
    for (name, n) in [
        ("calls", c.calls),
        ("calls.answered", c.answered),
        ("calls.voicemail", c.voicemail),
        ("calls.missed", c.missed),
        ("calls.after_hours", c.after_hours),
        ("calls.missed_after_hours", c.missed_after_hours),
    ] {
        put(name.into(), n.to_string());
    }
    let stats = |put: &mut dyn FnMut(String, String), prefix: &str, unit: &str, s: &Stats| {
        put(format!("{prefix}.count"), s.count.to_string());
        let or_empty = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        put(format!("{prefix}.median_{unit}"), or_empty(s.median));
        put(format!("{prefix}.max_{unit}"), or_empty(s.max));
    };
    let times = &report.times;
    stats(
        &mut put,
        "time_to_register",
        "seconds",
        &times.register_seconds,
    );
    let alert = &times.director_alert;
    stats(
        &mut put,
        "time_to_director_alert",
        "seconds",
        &alert.seconds,
    );
    put("director_alert.on_time".into(), alert.on_time.to_string());
    put("director_alert.late".into(), alert.late.to_string());
    put("director_alert.not_sent".into(), alert.not_sent.to_string());
    stats(&mut put, "time_to_reply", "days", &times.reply_days);
    let kinds = std::iter::once(("all", &report.deadlines.all)).chain(
        report
            .deadlines
            .by_kind
            .iter()
            .map(|(k, c)| (k.as_str(), c)),
    );
    for (kind, d) in kinds {
        put(format!("deadlines.{kind}.met"), d.met.to_string());
        put(format!("deadlines.{kind}.met_late"), d.met_late.to_string());
        put(format!("deadlines.{kind}.overdue"), d.overdue.to_string());
        put(format!("deadlines.{kind}.open"), d.open.to_string());
    }
    for m in &report.months {
        let p = format!("month.{}", m.month);
        put(format!("{p}.appeals"), m.appeals.to_string());
        counts(&mut put, &format!("{p}.channel"), &m.by_channel);
        counts(&mut put, &format!("{p}.category"), &m.by_category);
        counts(&mut put, &format!("{p}.status"), &m.by_status);
        put(format!("{p}.calls"), m.calls.calls.to_string());
        put(format!("{p}.missed_calls"), m.calls.missed.to_string());
    }
    let mut w = ::csv::Writer::from_writer(sink);
    w.write_record(["figure", "value"])?;
    for (figure, value) in &rows {
        let (figure, value) = (neutralised(figure), neutralised(value));
        w.write_record([&*figure, &*value])?;
    }
    w.flush()?;
    Ok(())
}

/// The publication (4.7) of whole months (`Period::whole_months`): for each
/// month, the appeals in all, by channel, by category and by outcome (the
/// status on the day of the export), every count below 5 as `<5`, and where a
/// group of counts has exactly one `<5` beside a published total, its smallest
/// other count withheld as `*` so that the `<5` cannot be worked out. Nothing
/// finer than a month, no text, no unit, no time.
pub fn publication(months: &[MonthFigures], sink: impl Write) -> anyhow::Result<()> {
    let mut w = ::csv::Writer::from_writer(sink);
    w.write_record(PUBLICATION_HEADER)?;
    for m in months {
        let month = m.month.to_string();
        w.write_record([month.as_str(), "all", "all", published(m.appeals).as_str()])?;
        for (figure, counts) in [
            ("channel", &m.by_channel),
            ("category", &m.by_category),
            ("outcome", &m.by_status),
        ] {
            for (value, cell) in suppressed(m.appeals, counts) {
                w.write_record([month.as_str(), figure, value, cell.as_str()])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// A count as published: `<5` below 5.
fn published(n: u64) -> String {
    if n < SUPPRESS_BELOW {
        SUPPRESSED.to_owned()
    } else {
        n.to_string()
    }
}

/// A group of counts (that add up to `total`) as published: each below 5 as
/// `<5`; if exactly one is, while the total is published, the smallest other
/// is withheld too (`*`).
fn suppressed(total: u64, counts: &Counts) -> Vec<(&str, String)> {
    let mut cells: Vec<(&str, String)> = counts
        .iter()
        .map(|(name, n)| (name, published(n)))
        .collect();
    let below = counts.iter().filter(|(_, n)| *n < SUPPRESS_BELOW).count();
    if below == 1 && total >= SUPPRESS_BELOW {
        let smallest = counts
            .iter()
            .enumerate()
            .filter(|(_, (_, n))| *n >= SUPPRESS_BELOW)
            .min_by_key(|(_, (_, n))| *n)
            .map(|(i, _)| i);
        if let Some(i) = smallest {
            cells[i].1 = WITHHELD.to_owned();
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Counts {
        Counts(pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect())
    }

    fn cells(total: u64, pairs: &[(&str, u64)]) -> Vec<String> {
        let c = counts(pairs);
        suppressed(total, &c).into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn counts_below_five_are_suppressed() {
        assert_eq!(published(0), "<5");
        assert_eq!(published(3), "<5");
        assert_eq!(published(4), "<5");
        assert_eq!(published(5), "5");
        assert_eq!(
            cells(12, &[("a", 12), ("b", 0), ("c", 0)]),
            ["12", "<5", "<5"]
        );
    }

    #[test]
    fn a_lone_suppressed_count_takes_another_with_it() {
        // 21 = 7 + 5 + 3 + 6: the 3 alone would be 21 - 18.
        assert_eq!(
            cells(21, &[("a", 7), ("b", 5), ("c", 3), ("d", 6)]),
            ["7", "*", "<5", "6"]
        );
        // Two suppressed already: nothing more to hide.
        assert_eq!(
            cells(20, &[("a", 9), ("b", 8), ("c", 3), ("d", 0)]),
            ["9", "8", "<5", "<5"]
        );
        // The total itself is suppressed: nothing can be worked out.
        assert_eq!(cells(3, &[("a", 3)]), ["<5"]);
    }
}
