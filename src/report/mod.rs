//! What came in and what became of it, summarised for a period of registration
//! dates (clause 10.13), and the figures the enterprise publishes on its web
//! site (4.7). Counts and times only: no identity, no text, no registration
//! number. Owns no table: it asks each owner for counts.
//!
//! - here: the period (`Period`, its checks naming the field), the figures
//!   (`Report::compute`) and how they are defined;
//! - `words`: the report's words in Kazakh, Russian and English;
//! - `html`: the figures as HTML (`figures`: for the console too, so no `style`
//!   attribute), and the self-contained page of `senim report` (inline CSS, no
//!   script);
//! - `svg`: the charts, drawn on the server with SVG presentation attributes;
//! - `figures`: the figures as named rows (`channel.email`, ...) with their
//!   words, what `csv` and `xlsx` write;
//! - `publication`: what is published (4.7): per month, channel, category,
//!   status, the Director's decisions and the conclusions, counts below 5
//!   suppressed;
//! - `csv`: the figures as `figure,value` rows, and the publication;
//! - `xlsx`: the figures and the trend as a workbook, and the publication;
//! - `pdf`: the report for the Director as a PDF (tables, the trend drawn as
//!   a chart, page numbers), through `crate::pdf`.
//!
//! Where the figures come from, each from its owner: the Journal's aggregate
//! counts, receipt and registration instants and events (`Journal::tally`,
//! `timings`, `events_of_period`, read by `Done::of`: what was done, the units,
//! the decisions, the conclusions); the deadlines of those appeals
//! (`Deadlines::of_appeals`); the Director's alerts (`Outbox::director_alerts_of`);
//! the call log (`pbx::store::call_summary`); working hours (`Calendar::is_open`).

pub mod csv;
pub mod figures;
pub mod html;
pub mod pdf;
pub mod publication;
pub mod svg;
pub mod words;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::calendar::Calendar;
use crate::db::Db;
use crate::deadlines::{DeadlineError, Deadlines, Kind};
use crate::journal::{AppealId, Category, Channel, Journal, JournalError, Status};
use crate::outbox::{Outbox, OutboxError};
use crate::pbx::store::CallSummary;

/// The longest period a report covers.
pub const MAX_YEARS: u32 = 10;

/// The events of the audit chain the report counts as what was done with an
/// appeal (`cases::acts` and `deadlines::Event` name them).
pub const OUTCOME_EVENTS: [&str; 8] = [
    "routed",
    "forwarded",
    "redirected",
    "not_considered",
    "investigation_ordered",
    "decision",
    "reply_sent",
    "closed",
];

/// The chain's name of the routing to a unit (10.9): its detail names the unit.
const ROUTED: &str = "routed";
/// The chain's name of the reply to the citizen: its detail holds the date.
const REPLY_SENT: &str = "reply_sent";
/// The chain's name of the Director's decision (7.11): its detail holds which.
const DECISION: &str = "decision";
/// The chain's name of a change of status (`journal::Amendment::Status`): its
/// detail holds the new status and the act that set it (`reason`).
const STATUS_CHANGED: &str = "status_changed";
/// The chain's name of an entry of the investigation file
/// (`investigation::ENTRY`): its detail names the entry's kind (`entry`) and,
/// for the commission's conclusion, whether the report was found
/// substantiated (`substantiated`: true or false).
const INVESTIGATION_ENTRY: &str = "investigation_entry";

/// The events `Report::compute` reads: the outcomes, the status changes and
/// the investigation file's entries.
const EVENTS_READ: [&str; 10] = [
    OUTCOME_EVENTS[0],
    OUTCOME_EVENTS[1],
    OUTCOME_EVENTS[2],
    OUTCOME_EVENTS[3],
    OUTCOME_EVENTS[4],
    OUTCOME_EVENTS[5],
    OUTCOME_EVENTS[6],
    OUTCOME_EVENTS[7],
    STATUS_CHANGED,
    INVESTIGATION_ENTRY,
];

/// The Director's decisions after an investigation (7.11), as the chain names
/// them (`deadlines::InvestigationDecision`): stopped, handed to the authorities,
/// disciplinary, other measures.
pub const DECISIONS: [&str; 4] = [
    "stop_consideration",
    "hand_to_authorities",
    "disciplinary",
    "other_measures",
];

/// What the commission concluded (7.10), per appeal with a conclusion:
/// substantiated, not substantiated, or a conclusion recorded without saying
/// (before the file recorded it).
pub const FINDINGS: [&str; 3] = ["substantiated", "not_substantiated", "not_stated"];

/// The outcome (`OUTCOME_EVENTS`) a change to `status` stands for, `reason`
/// being the act that made it (`cases::Case::record` gives the act's name):
/// what a status set without the act's own event (by `journal status` before
/// it went through the acts) still counts as, so that every appeal of a
/// status is in the outcome that leads to it.
pub fn outcome_of_status(status: Status, reason: Option<&str>) -> Option<&'static str> {
    Some(match status {
        Status::Routed => "routed",
        Status::Forwarded if reason == Some("redirected") => "redirected",
        Status::Forwarded => "forwarded",
        Status::NotConsidered => "not_considered",
        Status::UnderInvestigation => "investigation_ordered",
        Status::Decided => "decision",
        Status::Replied => "reply_sent",
        Status::Closed => "closed",
        Status::Registered | Status::AwaitingOperatorNotes | Status::InReview => return None,
    })
}

/// What can go wrong making a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period asked for is not one; the text names the field.
    #[error("{0}")]
    Invalid(String),
    /// The period is longer than `MAX_YEARS`; the text names the field.
    #[error("{0}")]
    TooLong(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Deadlines(#[from] DeadlineError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error("the call log cannot be read: {0}")]
    Calls(#[from] sqlx::Error),
}

/// A period of registration dates (Astana), both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The period from `from` to `to`: `to` not before `from`, at most
    /// `MAX_YEARS` long.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, ReportError> {
        if to < from {
            return Err(ReportError::Invalid(format!(
                "to: {to} is before from ({from})"
            )));
        }
        let longest = from
            .checked_add_months(Months::new(12 * MAX_YEARS))
            .unwrap_or(NaiveDate::MAX);
        if to >= longest {
            return Err(ReportError::TooLong(format!(
                "to: a report covers at most {MAX_YEARS} years (from {from}, to before {longest})"
            )));
        }
        Ok(Period { from, to })
    }

    /// The period from two dates as a form gives them (YYYY-MM-DD); the error
    /// names the field.
    pub fn parse(from: &str, to: &str) -> Result<Period, ReportError> {
        Period::new(parse_date("from", from)?, parse_date("to", to)?)
    }

    /// The calendar quarter written `2026-Q4` (or `2026-q4`): its first day
    /// to its last. The error says what is wrong, for the caller to name the
    /// field.
    pub fn quarter(value: &str) -> Result<Period, ReportError> {
        let value = value.trim();
        let shown = value.chars().take(40).collect::<String>();
        let wrong =
            || ReportError::Invalid(format!("`{shown}` is not a quarter (YYYY-QN, as 2026-Q4)"));
        let (year, q) = value
            .split_once(['Q', 'q'])
            .and_then(|(year, q)| Some((year.strip_suffix('-')?, q)))
            .ok_or_else(wrong)?;
        if year.len() != 4 || q.len() != 1 {
            return Err(wrong());
        }
        let year: i32 = year.parse().map_err(|_| wrong())?;
        let q: u32 = q.parse().map_err(|_| wrong())?;
        if !(1..=4).contains(&q) {
            return Err(ReportError::Invalid(format!(
                "`{shown}`: a year has quarters Q1 to Q4"
            )));
        }
        let from = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1).ok_or_else(wrong)?;
        Period::new(from, month_end(from + Months::new(2)))
    }

    /// The year and the quarter (1 to 4) if the period is exactly one calendar
    /// quarter.
    pub fn as_quarter(self) -> Option<(i32, u32)> {
        let q = self.from.month().div_ceil(3);
        let whole = self.from.day() == 1
            && self.from.month() == 3 * q - 2
            && self.to == month_end(self.from + Months::new(2));
        whole.then_some((self.from.year(), q))
    }

    /// The same period stretched to whole months: from the first day of
    /// `from`'s month to the last day of `to`'s (what is published counts no
    /// part of a month).
    pub fn whole_months(self) -> Period {
        Period {
            from: month_start(self.from),
            to: month_end(self.to),
        }
    }

    /// The months the period touches, oldest first, each cut to the period.
    pub fn months(self) -> Vec<(YearMonth, Period)> {
        let mut months = Vec::new();
        let mut start = month_start(self.from);
        while start <= self.to {
            let part = Period {
                from: start.max(self.from),
                to: month_end(start).min(self.to),
            };
            months.push((YearMonth::of(start), part));
            start = month_end(start) + Days::new(1);
        }
        months
    }

    /// The period's first instant and the instant after its last day, in `tz`.
    pub fn instants(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            midnight(self.from, tz),
            midnight(self.to + Days::new(1), tz),
        )
    }
}

/// A date of a form or a command line (YYYY-MM-DD); the error names the field.
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, ReportError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ReportError::Invalid(format!(
            "{field}: required (a date, YYYY-MM-DD)"
        )));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        ReportError::Invalid(format!(
            "{field}: `{}` is not a date (YYYY-MM-DD)",
            value.chars().take(40).collect::<String>()
        ))
    })
}

fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn month_end(date: NaiveDate) -> NaiveDate {
    month_start(date)
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(date)
}

/// The first instant of `date` in `tz`.
fn midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let local = date.and_time(chrono::NaiveTime::MIN);
    tz.from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.to_utc())
}

/// A calendar month, written `2026-11`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Counts by name, in a fixed order (every channel, category, status, even at
/// 0): a JSON object in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(String, u64)>);

impl Counts {
    /// Every name of `names`, counted by `count`.
    fn of<T: Copy>(
        names: &[T],
        name: impl Fn(T) -> &'static str,
        count: impl Fn(T) -> u64,
    ) -> Self {
        Counts(
            names
                .iter()
                .map(|n| (name(*n).to_owned(), count(*n)))
                .collect(),
        )
    }

    /// The count of `name` (0 if absent).
    pub fn get(&self, name: &str) -> u64 {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, c)| c).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(n, c)| (n.as_str(), *c))
    }
}

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, count) in &self.0 {
            map.serialize_entry(name, count)?;
        }
        map.end()
    }
}

/// A time measured over some appeals: how many, the median and the longest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub count: u64,
    /// The middle value; of an even count, the mean of the two middle ones
    /// (rounded down).
    pub median: Option<i64>,
    pub max: Option<i64>,
}

impl Stats {
    pub fn of(mut values: Vec<i64>) -> Stats {
        values.sort_unstable();
        let n = values.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(values[n / 2]),
            _ => Some((values[n / 2 - 1] + values[n / 2]).div_euclid(2)),
        };
        Stats {
            count: n as u64,
            median,
            max: values.last().copied(),
        }
    }
}

/// The Director's alerts of the period's appeals (10.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlertFigures {
    /// Registration → the first alert delivered, in seconds.
    pub seconds: Stats,
    /// Delivered by the alert's legal deadline (23:59:59 Astana on the day
    /// after registration).
    pub on_time: u64,
    /// Delivered after it.
    pub late: u64,
    /// Not delivered yet.
    pub not_sent: u64,
}

/// The times of the period's appeals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Times {
    /// Receipt → registration, in seconds.
    pub register_seconds: Stats,
    /// Registration → the Director's first alert delivered.
    pub director_alert: AlertFigures,
    /// Receipt (its Astana date) → the reply's date, in days.
    pub reply_days: Stats,
}

/// How deadlines ended, or stand on the report's date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineCounts {
    /// Met on or before the day due.
    pub met: u64,
    /// Met, after the day due.
    pub met_late: u64,
    /// Not met, and the day due has passed.
    pub overdue: u64,
    /// Not met, not yet due.
    pub open: u64,
    /// Ended by the case's end (closed, not considered, forwarded,
    /// redirected): no longer owed, neither met nor missed.
    pub ended: u64,
}

impl DeadlineCounts {
    /// Met late or overdue.
    pub fn missed(&self) -> u64 {
        self.met_late + self.overdue
    }

    /// Every deadline counted: met, met late, overdue, open or ended.
    pub fn total(&self) -> u64 {
        self.met + self.met_late + self.overdue + self.open + self.ended
    }

    fn add(&mut self, d: &crate::deadlines::Deadline, today: NaiveDate) {
        match d.met_on {
            Some(met) if met <= d.due_on => self.met += 1,
            Some(_) => self.met_late += 1,
            None if d.ended_on.is_some() => self.ended += 1,
            None if d.due_on < today => self.overdue += 1,
            None => self.open += 1,
        }
    }
}

/// The deadlines of the period's appeals, in all and by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineFigures {
    pub all: DeadlineCounts,
    /// Every kind, in `deadlines::Kind`'s order.
    pub by_kind: Vec<(Kind, DeadlineCounts)>,
}

/// One month of the trend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    pub month: YearMonth,
    /// The part of the month in the period.
    pub period: Period,
    pub appeals: u64,
    pub by_channel: Counts,
    pub by_category: Counts,
    pub by_status: Counts,
    /// The Director's decisions (7.11) on the month's appeals (`DECISIONS`).
    pub decisions: Counts,
    /// The commission's conclusions (7.10) on the month's appeals (`FINDINGS`).
    pub findings: Counts,
    pub calls: CallSummary,
}

/// The summary of a period (clause 10.13). See `docs/report.md` for each
/// figure's definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub period: Period,
    /// The date open deadlines are judged on (Astana): the day the report is made.
    pub as_of: NaiveDate,
    /// Appeals registered in the period.
    pub appeals: u64,
    /// Of them anonymous (neither name nor organisation).
    pub anonymous: u64,
    /// Of them received outside working hours (the Astana calendar: evenings,
    /// weekends, holidays).
    pub after_hours: u64,
    pub by_channel: Counts,
    pub by_category: Counts,
    /// Their status on the report's date.
    pub by_status: Counts,
    /// Appeals sent on to each unit (10.9), by the unit's name: every unit
    /// configured (0 included), then any other a routing named.
    pub by_unit: Counts,
    /// Appeals with at least one event of each kind of `OUTCOME_EVENTS`, or a
    /// change to the status it sets (`outcome_of_status`).
    pub outcomes: Counts,
    /// The Director's decisions after an investigation (7.11): each appeal
    /// once, by its last decision (`DECISIONS`, 0 included).
    pub decisions: Counts,
    /// The commission's conclusions (7.10): each appeal with a conclusion
    /// once, by its last (`FINDINGS`).
    pub findings: Counts,
    /// The call log of the period (calls that started in it).
    pub calls: CallSummary,
    pub times: Times,
    pub deadlines: DeadlineFigures,
    pub months: Vec<MonthFigures>,
}

/// What was done with the appeals of a period, read from the events of their
/// audit chains, oldest first (`Done::of`); each appeal counted once per
/// figure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Done {
    /// For each outcome of `OUTCOME_EVENTS`, the appeals with its event or a
    /// change to the status it sets (`outcome_of_status`).
    pub outcomes: BTreeMap<&'static str, BTreeSet<i64>>,
    /// For each unit a `routed` event names (the manager's routing, or the
    /// classification's: `on_classification`), the appeals sent to it.
    pub units: BTreeMap<String, BTreeSet<i64>>,
    /// Each decided appeal's last decision (7.11): the `decision` event's, or
    /// the investigation file's `decided` entry's where it names one.
    pub decisions: BTreeMap<i64, String>,
    /// Each appeal with a conclusion (7.10): whether its last conclusion found
    /// the report substantiated (`None`: the conclusion did not say).
    pub findings: BTreeMap<i64, Option<bool>>,
    /// The first `reply_sent` date of each replied appeal.
    pub replied_on: HashMap<i64, NaiveDate>,
}

impl Done {
    /// What `events` (any kinds; those of `EVENTS_READ` count) say was done.
    pub fn of(events: &[crate::journal::audit::EventRow]) -> Done {
        let mut done = Done::default();
        for e in events {
            let id = e.appeal_id;
            let detail: serde_json::Value =
                serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null);
            let substantiated = detail["substantiated"].as_bool();
            if let Some(kind) = OUTCOME_EVENTS.iter().find(|k| **k == e.kind) {
                done.outcome(kind, id);
            }
            match e.kind.as_str() {
                ROUTED => {
                    if let Some(unit) = detail["unit"].as_str() {
                        done.units.entry(unit.to_owned()).or_default().insert(id);
                    }
                }
                DECISION => {
                    if let Some(decision) = detail["decision"].as_str() {
                        done.decisions.insert(id, decision.to_owned());
                    }
                    if substantiated.is_some() {
                        done.findings.insert(id, substantiated);
                    }
                }
                REPLY_SENT => {
                    if let Some(on) = detail["on"]
                        .as_str()
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    {
                        done.replied_on.entry(id).or_insert(on);
                    }
                }
                STATUS_CHANGED => {
                    let status = detail["status"].as_str().and_then(|s| s.parse().ok());
                    if let Some(kind) =
                        status.and_then(|s| outcome_of_status(s, detail["reason"].as_str()))
                    {
                        done.outcome(kind, id);
                    }
                }
                INVESTIGATION_ENTRY => match detail["entry"].as_str() {
                    Some("ordered") => done.outcome("investigation_ordered", id),
                    Some("conclusion") => {
                        done.findings.insert(id, substantiated);
                    }
                    Some("decided") => {
                        done.outcome(DECISION, id);
                        if let Some(decision) = detail["decision"].as_str() {
                            done.decisions.insert(id, decision.to_owned());
                        }
                        if substantiated.is_some() {
                            done.findings.insert(id, substantiated);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        done
    }

    fn outcome(&mut self, kind: &'static str, id: i64) {
        self.outcomes.entry(kind).or_default().insert(id);
    }

    /// The appeals `keep` keeps with each outcome, in `OUTCOME_EVENTS`' order.
    pub fn outcomes(&self, keep: &dyn Fn(i64) -> bool) -> Counts {
        Counts::of(
            &OUTCOME_EVENTS,
            |k| k,
            |k| {
                self.outcomes
                    .get(k)
                    .map_or(0, |ids| ids.iter().filter(|id| keep(**id)).count() as u64)
            },
        )
    }

    /// The appeals `keep` keeps by their last decision: every decision of
    /// `DECISIONS` (0 included), then any other the chain names.
    pub fn decisions(&self, keep: &dyn Fn(i64) -> bool) -> Counts {
        let mut counts = Counts::of(&DECISIONS, |d| d, |_| 0);
        for (_, decision) in self.decisions.iter().filter(|(id, _)| keep(**id)) {
            match counts.0.iter_mut().find(|(d, _)| d == decision) {
                Some((_, n)) => *n += 1,
                None => counts.0.push((decision.clone(), 1)),
            }
        }
        counts
    }

    /// The appeals `keep` keeps with a conclusion, by what it found (`FINDINGS`).
    pub fn findings(&self, keep: &dyn Fn(i64) -> bool) -> Counts {
        let found = |value: Option<bool>| {
            self.findings
                .iter()
                .filter(|(id, v)| keep(**id) && **v == value)
                .count() as u64
        };
        Counts(vec![
            (FINDINGS[0].to_owned(), found(Some(true))),
            (FINDINGS[1].to_owned(), found(Some(false))),
            (FINDINGS[2].to_owned(), found(None)),
        ])
    }
}

/// What a report is made from, each part its owner's (`App::report_sources`).
pub struct Sources<'a> {
    pub journal: &'a Journal,
    pub deadlines: &'a Deadlines,
    pub outbox: &'a Outbox,
    /// The database, for the call log (`pbx::store::call_summary`).
    pub db: &'a Db,
    pub calendar: &'a Calendar,
    /// The units appeals are sent on to (10.9: `[[alerts.routes]]`, "default
    /// unit"), listed in the report even when nothing went to them.
    pub units: Vec<String>,
}

impl Report {
    /// The figures of the appeals registered in `period`, open deadlines judged
    /// on `as_of`.
    pub async fn compute(
        sources: &Sources<'_>,
        period: Period,
        as_of: NaiveDate,
    ) -> Result<Report, ReportError> {
        let tz = sources.calendar.hours().tz;
        let tally = sources.journal.tally(period.from, period.to).await?;
        let timings = sources.journal.timings(period.from, period.to).await?;
        let events = sources
            .journal
            .events_of_period(&EVENTS_READ, period.from, period.to)
            .await?;
        let ids: Vec<AppealId> = timings.iter().map(|t| t.id).collect();
        let deadlines = sources.deadlines.of_appeals(&ids).await?;
        let raw_ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let alerts = sources.outbox.director_alerts_of(&raw_ids).await?;

        // Counts, from the Journal's aggregate.
        let count = |keep: &dyn Fn(&crate::journal::Tally) -> bool| -> u64 {
            tally.iter().filter(|t| keep(t)).map(|t| t.appeals).sum()
        };
        let channels = |keep: &dyn Fn(&crate::journal::Tally) -> bool| {
            Counts::of(Channel::ALL, Channel::as_str, |c| {
                count(&|t| t.channel == c && keep(t))
            })
        };
        let categories = |keep: &dyn Fn(&crate::journal::Tally) -> bool| {
            Counts::of(Category::ALL, Category::as_str, |c| {
                count(&|t| t.category == c && keep(t))
            })
        };
        let statuses = |keep: &dyn Fn(&crate::journal::Tally) -> bool| {
            Counts::of(Status::ALL, Status::as_str, |s| {
                count(&|t| t.status == s && keep(t))
            })
        };

        // What was done, the units, the decisions and the conclusions.
        let done = Done::of(&events);
        let outcomes = done.outcomes(&|_| true);
        let by_unit = unit_counts(&sources.units, &done);
        let mut replied_on = done.replied_on.clone();
        let deadline_figures = DeadlineFigures::of(&deadlines, as_of, &mut replied_on);
        let times = Times::of(&timings, &alerts, &replied_on, tz);

        // Months.
        let registered_on: HashMap<i64, NaiveDate> = timings
            .iter()
            .map(|t| (t.id.0, t.registration_date))
            .collect();
        let mut months = Vec::new();
        let mut calls = CallSummary::default();
        for (month, part) in period.months() {
            let within = |t: &crate::journal::Tally| {
                t.registration_date >= part.from && t.registration_date <= part.to
            };
            let in_month = |id: i64| {
                registered_on
                    .get(&id)
                    .is_some_and(|d| *d >= part.from && *d <= part.to)
            };
            let (start, end) = part.instants(tz);
            let month_calls = crate::pbx::store::call_summary(sources.db, start, end).await?;
            calls = calls.plus(month_calls);
            months.push(MonthFigures {
                month,
                period: part,
                appeals: count(&within),
                by_channel: channels(&within),
                by_category: categories(&within),
                by_status: statuses(&within),
                decisions: done.decisions(&in_month),
                findings: done.findings(&in_month),
                calls: month_calls,
            });
        }

        Ok(Report {
            period,
            as_of,
            appeals: count(&|_| true),
            anonymous: count(&|t| t.anonymous),
            after_hours: timings
                .iter()
                .filter(|t| !sources.calendar.is_open(t.received_at))
                .count() as u64,
            by_channel: channels(&|_| true),
            by_category: categories(&|_| true),
            by_status: statuses(&|_| true),
            by_unit,
            outcomes,
            decisions: done.decisions(&|_| true),
            findings: done.findings(&|_| true),
            calls,
            times,
            deadlines: deadline_figures,
            months,
        })
    }
}

/// Appeals sent on to each unit: every unit configured (0 included), then any
/// other a routing named.
fn unit_counts(units: &[String], done: &Done) -> Counts {
    let mut by_unit = Counts(units.iter().map(|u| (u.clone(), 0)).collect());
    for (unit, ids) in &done.units {
        let n = ids.len() as u64;
        match by_unit.0.iter_mut().find(|(u, _)| u == unit) {
            Some((_, count)) => *count = n,
            None => by_unit.0.push((unit.clone(), n)),
        }
    }
    by_unit
}

impl DeadlineFigures {
    /// How `deadlines` stand on `as_of`, in all and by kind; a met reply
    /// deadline gives its appeal's reply date where no `reply_sent` gave it
    /// (`replied_on`).
    fn of(
        deadlines: &[crate::deadlines::Deadline],
        as_of: NaiveDate,
        replied_on: &mut HashMap<i64, NaiveDate>,
    ) -> DeadlineFigures {
        let mut all = DeadlineCounts::default();
        let mut by_kind: Vec<(Kind, DeadlineCounts)> = Kind::ALL
            .iter()
            .map(|k| (*k, DeadlineCounts::default()))
            .collect();
        for d in deadlines {
            all.add(d, as_of);
            if let Some((_, counts)) = by_kind.iter_mut().find(|(k, _)| *k == d.kind) {
                counts.add(d, as_of);
            }
            if let (Kind::Reply, Some(met)) = (d.kind, d.met_on) {
                replied_on.entry(d.appeal_id.0).or_insert(met);
            }
        }
        DeadlineFigures { all, by_kind }
    }
}

impl Times {
    /// The times of the appeals `timings`: registration, the Director's alert
    /// (`alerts`), the reply (`replied_on`, counted from the Astana date of receipt).
    fn of(
        timings: &[crate::journal::Timing],
        alerts: &[crate::outbox::AlertDelivery],
        replied_on: &HashMap<i64, NaiveDate>,
        tz: Tz,
    ) -> Times {
        let received: HashMap<i64, &crate::journal::Timing> =
            timings.iter().map(|t| (t.id.0, t)).collect();
        let register = Stats::of(
            timings
                .iter()
                .map(|t| (t.registered_at - t.received_at).num_seconds().max(0))
                .collect(),
        );
        let mut alert = AlertFigures::default();
        let mut alert_seconds = Vec::new();
        for a in alerts {
            let Some(t) = received.get(&a.appeal_id) else {
                continue;
            };
            match a.first_sent_at {
                Some(sent) => {
                    alert_seconds.push((sent - t.registered_at).num_seconds().max(0));
                    match a.due_by {
                        Some(due) if sent > due => alert.late += 1,
                        _ => alert.on_time += 1,
                    }
                }
                None => alert.not_sent += 1,
            }
        }
        alert.seconds = Stats::of(alert_seconds);
        let reply = Stats::of(
            replied_on
                .iter()
                .filter_map(|(id, on)| {
                    let t = received.get(id)?;
                    let received_on = t.received_at.with_timezone(&tz).date_naive();
                    Some((*on - received_on).num_days().max(0))
                })
                .collect(),
        );
        Times {
            register_seconds: register,
            director_alert: alert,
            reply_days: reply,
        }
    }
}

#[cfg(test)]
mod tests;
