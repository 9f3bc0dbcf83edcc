//! The Astana working-day calendar (clause 10.4 of the standard).
//!
//! This module owns every answer to "is the trust line working now, and which
//! day counts": which dates are working days in Kazakhstan, when working hours
//! open and close, the date an appeal is registered on, and deadlines counted
//! in working days.
//!
//! Three inputs, kept apart:
//! - [`WorkingHours`] (time zone, opening and closing time) come from the
//!   daemon's configuration;
//! - the Kazakhstan rules are built in (`law.rs`): the holidays of the Law "On
//!   holidays in the Republic of Kazakhstan" with the years each was in force,
//!   and the move of a weekend holiday's day off to the next working day;
//! - the year-by-year facts come from [`CalendarData`] (`config/calendar-kz.toml`):
//!   the first day of Kurban Ait and the transfers of days off ordered each year;
//!   for a year whose Kurban Ait is not yet there, a built-in estimate (2027:
//!   16 May, as the Python `holidays` package 0.109 gives it), shown as
//!   estimated ([`DayKind::PublicHoliday`]'s `estimated`, [`Calendar::estimated_years`]).
//!
//! Everything here is pure: the current instant is always an argument, the
//! clock is never read.

mod data;
mod law;

use std::fmt;
use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

pub use data::{CalendarData, CalendarDataError, Transfer};

use law::LawDay;

/// When the trust line answers on a working day, in the given time zone.
///
/// `opens` must be before `closes`; otherwise the line is never open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    pub tz: Tz,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

const NINE_AM: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(time) => time,
    None => panic!("09:00 is a valid time"),
};

const SIX_PM: NaiveTime = match NaiveTime::from_hms_opt(18, 0, 0) {
    Some(time) => time,
    None => panic!("18:00 is a valid time"),
};

impl Default for WorkingHours {
    /// Astana time (IANA `Asia/Almaty`), 09:00–18:00.
    fn default() -> Self {
        Self {
            tz: chrono_tz::Asia::Almaty,
            opens: NINE_AM,
            closes: SIX_PM,
        }
    }
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary Monday–Friday.
    Working,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// A holiday of the Law, Orthodox Christmas or the first day of Kurban
    /// Ait (whatever the day of the week). `estimated`: the first day of Kurban
    /// Ait by the built-in estimate, its official date not yet in the data.
    PublicHoliday {
        name: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        estimated: bool,
    },
    /// A weekday off: the moved day off of a holiday that fell on a weekend,
    /// or a day off transferred by a Government decree or Ministry order.
    DayOff { reason: String },
    /// A day that would be off (a Saturday or Sunday, or once a holiday's
    /// moved day off) but is worked because its day off was transferred.
    WorkedWeekend { reason: String },
}

impl DayKind {
    /// Whether this is a working day.
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Working | DayKind::WorkedWeekend { .. })
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayKind::Working => f.write_str("working day"),
            DayKind::Weekend => f.write_str("weekend"),
            DayKind::PublicHoliday {
                name,
                estimated: false,
            } => write!(f, "public holiday: {name}"),
            DayKind::PublicHoliday {
                name,
                estimated: true,
            } => write!(
                f,
                "public holiday: {name}, ESTIMATED date (the official date is not yet in the calendar data)"
            ),
            DayKind::DayOff { reason } => write!(f, "day off: {reason}"),
            DayKind::WorkedWeekend { reason } => write!(f, "working day: {reason}"),
        }
    }
}

/// The working-day calendar: working hours plus Kazakhstan's days off.
#[derive(Debug, Clone)]
pub struct Calendar {
    hours: WorkingHours,
    data: CalendarData,
}

impl Calendar {
    pub fn new(hours: WorkingHours, data: CalendarData) -> Calendar {
        Calendar { hours, data }
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    pub fn data(&self) -> &CalendarData {
        &self.data
    }

    /// What kind of day `date` is. A transfer takes precedence over the Law,
    /// the Law over the plain day of the week.
    pub fn day(&self, date: NaiveDate) -> DayKind {
        if let Some(transfer) = self.data.transfer_with_worked_day(date) {
            return DayKind::WorkedWeekend {
                reason: format!(
                    "day off transferred to {} ({})",
                    long_date(transfer.day_off),
                    transfer.order
                ),
            };
        }
        if let Some(transfer) = self.data.transfer_with_day_off(date) {
            return DayKind::DayOff {
                reason: format!(
                    "transferred from {} ({})",
                    long_date(transfer.worked),
                    transfer.order
                ),
            };
        }
        match self.data.law_day(date) {
            Some(LawDay::Holiday(holiday)) => DayKind::PublicHoliday {
                name: holiday.name.to_string(),
                estimated: holiday.name == law::KURBAN_AIT
                    && self.data.kurban_ait_estimate(date.year()).is_some(),
            },
            Some(LawDay::MovedDayOff(moved)) => DayKind::DayOff {
                reason: format!(
                    "{} ({}) fell on {}",
                    moved.holiday.short,
                    moved.holiday.date.format("%-d %b"),
                    moved.holiday.date.format("%A")
                ),
            },
            None if law::is_weekend(date) => DayKind::Weekend,
            None => DayKind::Working,
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day(date).is_working()
    }

    /// Whether `at` falls within working hours of a working day.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.closes_at(at).is_some()
    }

    /// The earliest instant at or after `at` at which working hours begin: `at`
    /// itself if it is exactly an opening instant; today's opening if `at` is
    /// earlier on a working day; otherwise (including while open) the opening
    /// of the next working day.
    pub fn next_opening(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let today = self.local_date(at);
        if self.is_working_day(today) {
            let opening = self.instant(today, self.hours.opens);
            if opening >= at {
                return opening;
            }
        }
        self.instant(self.next_working_day_after(today), self.hours.opens)
    }

    /// When open at `at`, the instant working hours close that day; `None`
    /// when closed.
    pub fn closes_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = self.local_date(at);
        if !self.is_working_day(today) {
            return None;
        }
        let opening = self.instant(today, self.hours.opens);
        let closing = self.instant(today, self.hours.closes);
        (opening <= at && at < closing).then_some(closing)
    }

    /// The (Astana) date an appeal received at `received_at` is registered on:
    /// that day if it is a working day and the appeal came before working
    /// hours closed (including before they opened); otherwise the next
    /// working day.
    pub fn registration_date(&self, received_at: DateTime<Utc>) -> NaiveDate {
        let day = self.local_date(received_at);
        if self.is_working_day(day) && received_at < self.instant(day, self.hours.closes) {
            day
        } else {
            self.next_working_day_after(day)
        }
    }

    /// The `n`-th working day after `date`.
    ///
    /// `n = 0` gives `date` itself when it is a working day, else the next
    /// working day. For `n >= 1` the days counted are strictly after `date`,
    /// whatever `date` is: Friday + 1 is the next Monday (if working), and so
    /// is Saturday + 1.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return if self.is_working_day(date) {
                date
            } else {
                self.next_working_day_after(date)
            };
        }
        (0..n).fold(date, |day, _| self.next_working_day_after(day))
    }

    /// Every date of `year` that breaks the Monday–Friday pattern, in order:
    /// each weekday that is not worked and each day worked by a transfer
    /// (a Saturday or Sunday; once, in 2020, a holiday's moved day off).
    pub fn year(&self, year: i32) -> Vec<(NaiveDate, DayKind)> {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            return Vec::new();
        };
        first
            .iter_days()
            .take_while(|date| date.year() == year)
            .filter_map(|date| {
                let kind = self.day(date);
                let breaks_pattern = match kind {
                    DayKind::WorkedWeekend { .. } => true,
                    _ => kind.is_working() == law::is_weekend(date),
                };
                breaks_pattern.then_some((date, kind))
            })
            .collect()
    }

    /// The years in `years` for which the data has no Kurban Ait date (so the
    /// calendar cannot be exact for them, even where an estimate stands in).
    pub fn missing_years(&self, years: RangeInclusive<i32>) -> Vec<i32> {
        years
            .filter(|year| self.data.kurban_ait(*year).is_none())
            .collect()
    }

    /// The years in `years` whose Kurban Ait is the built-in estimate, with
    /// the estimated date (each is also in [`Calendar::missing_years`]).
    pub fn estimated_years(&self, years: RangeInclusive<i32>) -> Vec<(i32, NaiveDate)> {
        years
            .filter_map(|year| Some((year, self.data.kurban_ait_estimate(year)?)))
            .collect()
    }

    /// The first working day strictly after `date`.
    fn next_working_day_after(&self, date: NaiveDate) -> NaiveDate {
        date.iter_days()
            .skip(1)
            .find(|day| self.is_working_day(*day))
            // Only reachable at the end of chrono's date range.
            .unwrap_or(NaiveDate::MAX)
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.hours.tz).date_naive()
    }

    /// The instant of local `time` on `date` in the working-hours time zone.
    /// A time repeated by a clock change is taken at its first occurrence; a
    /// time skipped by one is taken with the offset in force before the change
    /// (so it lands just after the change).
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        match self.hours.tz.from_local_datetime(&local).earliest() {
            Some(instant) => instant.with_timezone(&Utc),
            None => skipped_local_time(self.hours.tz, local),
        }
    }
}

/// The instant for a local time that does not exist (a gap): read with the
/// offset in force a day before.
fn skipped_local_time(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let day_before = local - chrono::Duration::days(1);
    let offset = tz.offset_from_local_datetime(&day_before).earliest();
    let seconds_east = offset.map_or(0, |offset| {
        use chrono::Offset;
        offset.fix().local_minus_utc()
    });
    (local - chrono::Duration::seconds(seconds_east.into())).and_utc()
}

/// "Saturday 4 May 2024".
fn long_date(date: NaiveDate) -> String {
    date.format("%A %-d %B %Y").to_string()
}
