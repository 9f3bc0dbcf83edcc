//! The year-by-year calendar data: the first day of Kurban Ait and the
//! Government's (since 2024, the Ministry of Labour's) transfers of days off.
//! It lives in `config/calendar-kz.toml`, which is compiled in as the default
//! and can be replaced at run time by an administrator's copy.
//!
//! Until a year's official Kurban Ait date is in the data, the built-in
//! estimate of [`ESTIMATED_KURBAN_AIT`] stands in for it (marked as estimated
//! wherever the calendar is shown, and still reported as missing data).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::law::{self, LawDay};

/// The data file shipped with the daemon.
const EMBEDDED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/config/calendar-kz.toml"
));

/// Estimated first days of Kurban Ait, used only while the data has no date
/// for the year: the dates the Python `holidays` package 0.109 gives as
/// "Eid al-Adha (estimated)" for Kazakhstan (its Islamic-calendar estimate),
/// checked by `tests/calendar.rs` against the package. DUMK announces the
/// official date during the year; a configured date replaces the estimate.
const ESTIMATED_KURBAN_AIT: &[(i32, u32, u32)] = &[(2027, 5, 16)];

/// One transfer of a day off: `worked` (normally a Saturday or Sunday) is a
/// working day and `day_off` (a weekday) is a day off instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub day_off: NaiveDate,
    pub worked: NaiveDate,
    /// The act that ordered it, e.g. "Government Decree No. 713 of 6 October 2021".
    pub order: String,
}

/// Validated year-by-year data for [`super::Calendar`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarData {
    kurban_ait: BTreeMap<i32, NaiveDate>,
    transfers: Vec<Transfer>,
}

/// Why a calendar data file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CalendarDataError {
    #[error("cannot read calendar data file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("calendar data is not valid: {0}")]
    Syntax(Box<toml::de::Error>),
    #[error("calendar data line {line}, {key}: {problem}")]
    Invalid {
        line: usize,
        key: String,
        problem: String,
    },
    #[error("{path}: {source}")]
    InFile {
        path: PathBuf,
        source: Box<CalendarDataError>,
    },
}

impl From<toml::de::Error> for CalendarDataError {
    fn from(error: toml::de::Error) -> Self {
        Self::Syntax(Box::new(error))
    }
}

/// The file as written, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    #[serde(default)]
    kurban_ait: BTreeMap<String, Spanned<Datetime>>,
    #[serde(default)]
    transfer: Vec<RawTransfer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    day_off: Spanned<Datetime>,
    worked: Spanned<Datetime>,
    order: Spanned<String>,
}

impl CalendarData {
    /// The data compiled into the daemon from `config/calendar-kz.toml`.
    ///
    /// # Panics
    /// Only if the shipped file is invalid, which the test suite rules out.
    pub fn embedded() -> Self {
        match Self::from_toml_str(EMBEDDED) {
            Ok(data) => data,
            Err(error) => panic!("the embedded config/calendar-kz.toml is invalid: {error}"),
        }
    }

    /// Reads and validates a data file (it replaces the embedded data as a whole).
    pub fn from_file(path: &Path) -> Result<Self, CalendarDataError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalendarDataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|error| CalendarDataError::InFile {
            path: path.to_path_buf(),
            source: Box::new(error),
        })
    }

    /// Parses and validates data in the format of `config/calendar-kz.toml`.
    pub fn from_toml_str(text: &str) -> Result<Self, CalendarDataError> {
        let raw: RawData = toml::from_str(text)?;
        let source = Source { text };
        let kurban_ait = source.kurban_ait(raw.kurban_ait)?;
        let mut data = CalendarData {
            kurban_ait,
            transfers: Vec::with_capacity(raw.transfer.len()),
        };
        for (index, raw_transfer) in raw.transfer.into_iter().enumerate() {
            let transfer = source.transfer(index + 1, raw_transfer, &data)?;
            data.transfers.push(transfer);
        }
        Ok(data)
    }

    /// The first day of Kurban Ait in `year`, if the data has it.
    pub fn kurban_ait(&self, year: i32) -> Option<NaiveDate> {
        self.kurban_ait.get(&year).copied()
    }

    /// The built-in estimate of the first day of Kurban Ait in `year`, when
    /// the data has no date for it (a configured date replaces the estimate).
    pub fn kurban_ait_estimate(&self, year: i32) -> Option<NaiveDate> {
        if self.kurban_ait.contains_key(&year) {
            return None;
        }
        ESTIMATED_KURBAN_AIT
            .iter()
            .find(|(estimated_year, _, _)| *estimated_year == year)
            .and_then(|&(year, month, day)| NaiveDate::from_ymd_opt(year, month, day))
    }

    /// The first day of Kurban Ait the calendar counts with in `year`: the
    /// configured date, else the estimate, else none.
    pub(crate) fn kurban_ait_counted(&self, year: i32) -> Option<NaiveDate> {
        self.kurban_ait(year)
            .or_else(|| self.kurban_ait_estimate(year))
    }

    /// Every transfer, in file order.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// The transfer that makes `date` a day off.
    pub(crate) fn transfer_with_day_off(&self, date: NaiveDate) -> Option<&Transfer> {
        self.transfers.iter().find(|t| t.day_off == date)
    }

    /// The transfer that makes `date` a working day.
    pub(crate) fn transfer_with_worked_day(&self, date: NaiveDate) -> Option<&Transfer> {
        self.transfers.iter().find(|t| t.worked == date)
    }

    /// What the Law says about `date`, given this data's Kurban Ait dates
    /// (or the estimate for a year without one).
    pub(crate) fn law_day(&self, date: NaiveDate) -> Option<LawDay> {
        law::law_day(date, self.kurban_ait_counted(date.year()))
    }
}

/// The text being parsed, to turn byte spans into line numbers.
struct Source<'a> {
    text: &'a str,
}

impl Source<'_> {
    fn line_of(&self, span: std::ops::Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn invalid<T>(
        &self,
        span: std::ops::Range<usize>,
        key: String,
        problem: String,
    ) -> Result<T, CalendarDataError> {
        Err(CalendarDataError::Invalid {
            line: self.line_of(span),
            key,
            problem,
        })
    }

    /// A TOML local date (`2024-05-08`, no time of day or offset) as a date.
    fn date(&self, value: &Spanned<Datetime>, key: &str) -> Result<NaiveDate, CalendarDataError> {
        let datetime = value.get_ref();
        let date = match (datetime.date, datetime.time, datetime.offset) {
            (Some(date), None, None) => {
                NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
            }
            _ => None,
        };
        match date {
            Some(date) => Ok(date),
            None => self.invalid(
                value.span(),
                key.to_string(),
                format!("expected a plain date like 2024-05-08, found {datetime}"),
            ),
        }
    }

    fn kurban_ait(
        &self,
        raw: BTreeMap<String, Spanned<Datetime>>,
    ) -> Result<BTreeMap<i32, NaiveDate>, CalendarDataError> {
        let mut out = BTreeMap::new();
        for (year_key, value) in &raw {
            let key = format!("kurban_ait.{year_key}");
            let date = self.date(value, &key)?;
            let Ok(year) = year_key.parse::<i32>() else {
                return self.invalid(
                    value.span(),
                    key,
                    format!("`{year_key}` is not a year; write e.g. 2027 = 2027-05-16"),
                );
            };
            if date.year() != year {
                return self.invalid(
                    value.span(),
                    key,
                    format!("the date {date} is not in {year}"),
                );
            }
            out.insert(year, date);
        }
        Ok(out)
    }

    /// Validates the `number`-th `[[transfer]]` against the Law and the
    /// transfers before it.
    fn transfer(
        &self,
        number: usize,
        raw: RawTransfer,
        earlier: &CalendarData,
    ) -> Result<Transfer, CalendarDataError> {
        let key = |field: &str| format!("[[transfer]] #{number} {field}");
        let day_off = self.date(&raw.day_off, &key("day_off"))?;
        let worked = self.date(&raw.worked, &key("worked"))?;
        if let Some(problem) = worked_day_problem(worked, earlier) {
            return self.invalid(raw.worked.span(), key("worked"), problem);
        }
        if let Some(problem) = day_off_problem(day_off, earlier) {
            return self.invalid(raw.day_off.span(), key("day_off"), problem);
        }
        let order = raw.order.get_ref().trim();
        if order.is_empty() {
            return self.invalid(
                raw.order.span(),
                key("order"),
                "name the decree or order that set this transfer".to_string(),
            );
        }
        Ok(Transfer {
            day_off,
            worked,
            order: order.to_string(),
        })
    }
}

fn weekday_name(date: NaiveDate) -> String {
    date.format("%A").to_string()
}

/// Why `worked` cannot be a transfer's worked day, if it cannot.
///
/// It must be a Saturday or Sunday, or a weekday that is off only because a
/// holiday fell on a weekend (2020: the Monday 11 May day off of Victory Day
/// was transferred to Friday 8 May). It cannot be a holiday itself.
fn worked_day_problem(worked: NaiveDate, earlier: &CalendarData) -> Option<String> {
    if let Some(other) = earlier.transfer_with_worked_day(worked) {
        return Some(format!(
            "{worked} is already the worked day of the transfer to {}",
            other.day_off
        ));
    }
    match earlier.law_day(worked) {
        Some(LawDay::Holiday(holiday)) => Some(format!(
            "{worked} is a holiday ({}) and cannot be worked",
            holiday.name
        )),
        Some(LawDay::MovedDayOff(_)) => None,
        None if law::is_weekend(worked) => None,
        None => Some(format!(
            "a worked day must be a Saturday or Sunday (or a holiday's moved day off); {worked} is an ordinary {}",
            weekday_name(worked)
        )),
    }
}

/// Why `day_off` cannot be a transfer's day off, if it cannot: it must be a
/// weekday that would otherwise be worked.
fn day_off_problem(day_off: NaiveDate, earlier: &CalendarData) -> Option<String> {
    if law::is_weekend(day_off) {
        return Some(format!(
            "a transferred day off must be a weekday; {day_off} is a {}",
            weekday_name(day_off)
        ));
    }
    if let Some(other) = earlier.transfer_with_day_off(day_off) {
        return Some(format!(
            "{day_off} is already the day off of the transfer from {}",
            other.worked
        ));
    }
    match earlier.law_day(day_off) {
        Some(LawDay::Holiday(holiday)) => {
            Some(format!("{day_off} is already a holiday ({})", holiday.name))
        }
        Some(LawDay::MovedDayOff(moved)) => Some(format!(
            "{day_off} is already a day off ({} moved from {})",
            moved.holiday.name, moved.holiday.date
        )),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_valid() {
        let data = CalendarData::from_toml_str(EMBEDDED);
        assert!(data.is_ok(), "{:?}", data.err());
    }

    #[test]
    fn estimates_are_valid_dates_of_their_year() {
        for &(year, month, day) in ESTIMATED_KURBAN_AIT {
            let date = NaiveDate::from_ymd_opt(year, month, day);
            assert_eq!(date.map(|d| d.year()), Some(year), "{year}-{month}-{day}");
        }
    }
}
