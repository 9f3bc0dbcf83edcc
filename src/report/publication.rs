//! What the enterprise publishes on its web site (4.7), as rows both `csv` and
//! `xlsx` write: for each whole month, the appeals in all, by channel, by
//! category, by outcome (the status on the day of the export), by the
//! Director's decision after an investigation (7.11: the measures taken) and
//! by the commission's conclusion (7.10: substantiated or not), each count
//! below `SUPPRESS_BELOW` shown as `<5`, and where a group of counts has
//! exactly one `<5` beside a total that is published or could be worked out,
//! its smallest other count withheld as `*`, so that the `<5` cannot be worked
//! out. Nothing finer than a month, no text, no time, and no unit: a unit's
//! name beside a month's count narrows who is concerned, and who reported, to
//! a few colleagues (`docs/report.md`).

use super::figures::Value;
use super::{Counts, MonthFigures};

/// Counts below this are not published: they could point at a person.
pub const SUPPRESS_BELOW: u64 = 5;
/// What a suppressed count reads as.
pub const SUPPRESSED: &str = "<5";
/// What a count withheld so that a suppressed one cannot be worked out from the
/// month's total reads as (secondary suppression).
pub const WITHHELD: &str = "*";
/// The publication's columns: nothing finer than a month.
pub const HEADER: [&str; 4] = ["month", "figure", "value", "appeals"];

/// One published row: the month (`2026-11`), what is counted (`all`,
/// `channel`, `category`, `outcome`, `decision`, `conclusion`), which value of
/// it (`all`, `email`, `disciplinary`, `substantiated`, ...) and the appeals
/// as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub month: String,
    pub figure: &'static str,
    pub value: String,
    pub appeals: Value,
}

/// The publication of `months` (whole months: `Period::whole_months`).
pub fn rows(months: &[MonthFigures]) -> Vec<Row> {
    let mut rows = Vec::new();
    for m in months {
        let month = m.month.to_string();
        let row = |figure, value: &str, appeals| Row {
            month: month.clone(),
            figure,
            value: value.to_owned(),
            appeals,
        };
        rows.push(row("all", "all", published(m.appeals)));
        for (figure, counts) in [
            ("channel", &m.by_channel),
            ("category", &m.by_category),
            ("outcome", &m.by_status),
        ] {
            for (value, cell) in suppressed(m.appeals, counts) {
                rows.push(row(figure, value, cell));
            }
        }
        // Of the month's appeals only some are decided or concluded: each
        // group's own sum stands for its total (one could add it up).
        for (figure, counts) in [("decision", &m.decisions), ("conclusion", &m.findings)] {
            for (value, cell) in suppressed(counts.total(), counts) {
                rows.push(row(figure, value, cell));
            }
        }
    }
    rows
}

/// A count as published: `<5` below 5.
fn published(n: u64) -> Value {
    if n < SUPPRESS_BELOW {
        Value::Text(SUPPRESSED.to_owned())
    } else {
        Value::Count(n)
    }
}

/// A group of counts (that add up to `total`) as published: each below 5 as
/// `<5`; if exactly one is, while the total is published, the smallest other
/// is withheld too (`*`).
fn suppressed(total: u64, counts: &Counts) -> Vec<(&str, Value)> {
    let mut cells: Vec<(&str, Value)> = counts
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
            cells[i].1 = Value::Text(WITHHELD.to_owned());
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
        suppressed(total, &c)
            .into_iter()
            .map(|(_, v)| v.to_string())
            .collect()
    }

    #[test]
    fn counts_below_five_are_suppressed() {
        assert_eq!(published(0).to_string(), "<5");
        assert_eq!(published(3).to_string(), "<5");
        assert_eq!(published(4).to_string(), "<5");
        assert_eq!(published(5), Value::Count(5));
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

    fn month(decisions: &[(&str, u64)], findings: &[(&str, u64)]) -> MonthFigures {
        let from = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date");
        let to = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        MonthFigures {
            month: super::super::YearMonth::of(from),
            period: super::super::Period { from, to },
            appeals: 40,
            by_channel: counts(&[("phone", 20), ("email", 20)]),
            by_category: counts(&[("corruption", 40)]),
            by_status: counts(&[("decided", 40)]),
            decisions: counts(decisions),
            findings: counts(findings),
            calls: Default::default(),
        }
    }

    #[test]
    fn decisions_and_conclusions_are_published_suppressed() {
        let m = month(
            &[
                ("stop_consideration", 12),
                ("hand_to_authorities", 2),
                ("disciplinary", 9),
                ("other_measures", 0),
            ],
            &[
                ("substantiated", 14),
                ("not_substantiated", 6),
                ("not_stated", 3),
            ],
        );
        let published: Vec<(String, String)> = rows(&[m])
            .into_iter()
            .filter(|r| r.figure == "decision" || r.figure == "conclusion")
            .map(|r| (format!("{}.{}", r.figure, r.value), r.appeals.to_string()))
            .collect();
        let expected = [
            ("decision.stop_consideration", "12"),
            ("decision.hand_to_authorities", "<5"),
            ("decision.disciplinary", "9"),
            ("decision.other_measures", "<5"),
            // 23 = 14 + 6 + 3: the 3 alone would be the sum less the rest.
            ("conclusion.substantiated", "14"),
            ("conclusion.not_substantiated", "*"),
            ("conclusion.not_stated", "<5"),
        ];
        assert_eq!(
            published,
            expected
                .iter()
                .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        );
    }
}
