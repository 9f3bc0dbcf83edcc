//! The built-in rules: the holidays of the Law of the Republic of Kazakhstan
//! of 13 December 2001 No. 267-II "On holidays in the Republic of Kazakhstan",
//! with the years each one was in force, and the rule of its Article 5 that
//! moves the day off of a holiday falling on a Saturday or Sunday to the next
//! working day.
//!
//! Orthodox Christmas (7 January) and the first day of Kurban Ait are days off
//! too, but they never move. Kurban Ait follows the lunar calendar, so its date
//! comes from the data file (see `data.rs`), not from here.
//!
//! The rules start in 2002, the first full year of the Law; earlier years are
//! out of scope and have no holidays here.
//!
//! In-force years were checked against the Law's amendment history on
//! adilet.zan.kz as cited by the Python `holidays` package (countries/kazakhstan.py,
//! version 0.109) and against news reports:
//! - Nauryz: 22 March only until 2009, 21–23 March since 2010;
//! - Capital Day (6 July): since 2009;
//! - Republic Day (25 October): until 2008, and again since 2022;
//! - First President Day (1 December): 2012–2021;
//! - Defender of the Fatherland Day (7 May): since 2013;
//! - Independence Day: 16–17 December until 2021, 16 December only since 2022;
//! - Constitution Day: 30 August until 2025. The Constitution adopted by the
//!   referendum of 15 March 2026 (in force 1 July 2026) makes the day of its
//!   adoption, 15 March, Constitution Day; 30 August is no longer a holiday, so
//!   2026 has no Constitution Day and 15 March is one from 2027;
//! - Orthodox Christmas (7 January): since 2006.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate, Weekday};

/// The first year the rules here describe.
pub(crate) const FIRST_YEAR: i32 = 2002;

/// Open-ended "and every year since".
const ONWARDS: i32 = i32::MAX;

/// The name used for the first day of Kurban Ait.
pub(crate) const KURBAN_AIT: &str = "Kurban Ait (first day)";

/// One holiday date of the Law, for the years it was in force.
struct Rule {
    /// Name shown for the holiday itself.
    name: &'static str,
    /// Shorter name used when describing a moved day off.
    short: &'static str,
    month: u32,
    day: u32,
    years: RangeInclusive<i32>,
    /// Whether a Saturday/Sunday occurrence moves the day off (false only for
    /// Orthodox Christmas).
    moves: bool,
}

const fn rule(
    name: &'static str,
    short: &'static str,
    (month, day): (u32, u32),
    years: RangeInclusive<i32>,
) -> Rule {
    Rule {
        name,
        short,
        month,
        day,
        years,
        moves: true,
    }
}

const NEW_YEAR: &str = "New Year";
const NAURYZ: &str = "Nauryz meiramy";
const CONSTITUTION_DAY: &str = "Constitution Day";
const REPUBLIC_DAY: &str = "Republic Day";
const INDEPENDENCE_DAY: &str = "Independence Day";

/// Every holiday of the Law, in calendar order within a year.
const RULES: &[Rule] = &[
    rule(NEW_YEAR, NEW_YEAR, (1, 1), FIRST_YEAR..=ONWARDS),
    rule(NEW_YEAR, NEW_YEAR, (1, 2), FIRST_YEAR..=ONWARDS),
    Rule {
        name: "Orthodox Christmas",
        short: "Orthodox Christmas",
        month: 1,
        day: 7,
        years: 2006..=ONWARDS,
        moves: false,
    },
    rule(
        "International Women's Day",
        "Women's Day",
        (3, 8),
        FIRST_YEAR..=ONWARDS,
    ),
    rule(CONSTITUTION_DAY, CONSTITUTION_DAY, (3, 15), 2027..=ONWARDS),
    rule(NAURYZ, "Nauryz", (3, 21), 2010..=ONWARDS),
    rule(NAURYZ, "Nauryz", (3, 22), FIRST_YEAR..=ONWARDS),
    rule(NAURYZ, "Nauryz", (3, 23), 2010..=ONWARDS),
    rule(
        "Kazakhstan People's Unity Day",
        "Unity Day",
        (5, 1),
        FIRST_YEAR..=ONWARDS,
    ),
    rule(
        "Defender of the Fatherland Day",
        "Defender of the Fatherland Day",
        (5, 7),
        2013..=ONWARDS,
    ),
    rule("Victory Day", "Victory Day", (5, 9), FIRST_YEAR..=ONWARDS),
    rule("Capital Day", "Capital Day", (7, 6), 2009..=ONWARDS),
    rule(
        CONSTITUTION_DAY,
        CONSTITUTION_DAY,
        (8, 30),
        FIRST_YEAR..=2025,
    ),
    rule(REPUBLIC_DAY, REPUBLIC_DAY, (10, 25), FIRST_YEAR..=2008),
    rule(REPUBLIC_DAY, REPUBLIC_DAY, (10, 25), 2022..=ONWARDS),
    rule(
        "First President Day",
        "First President Day",
        (12, 1),
        2012..=2021,
    ),
    rule(
        INDEPENDENCE_DAY,
        INDEPENDENCE_DAY,
        (12, 16),
        FIRST_YEAR..=ONWARDS,
    ),
    rule(
        INDEPENDENCE_DAY,
        INDEPENDENCE_DAY,
        (12, 17),
        FIRST_YEAR..=2021,
    ),
];

/// A non-working holiday date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holiday {
    pub(crate) name: &'static str,
    pub(crate) short: &'static str,
    pub(crate) date: NaiveDate,
    /// Whether its day off moves when it falls on a weekend.
    pub(crate) moves: bool,
}

/// The weekday that became a day off because `holiday` fell on a weekend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MovedDayOff {
    pub(crate) date: NaiveDate,
    pub(crate) holiday: Holiday,
}

/// What the Law (plus the Kurban Ait date) says about one date, when it is
/// not an ordinary day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LawDay {
    Holiday(Holiday),
    MovedDayOff(MovedDayOff),
}

pub(crate) fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// All holidays of `year`, in date order: the Law's holidays in force that
/// year plus the first day of Kurban Ait when its date is known.
pub(crate) fn holidays(year: i32, kurban_ait: Option<NaiveDate>) -> Vec<Holiday> {
    let mut out: Vec<Holiday> = RULES
        .iter()
        .filter(|rule| rule.years.contains(&year))
        .filter_map(|rule| {
            let date = NaiveDate::from_ymd_opt(year, rule.month, rule.day)?;
            Some(Holiday {
                name: rule.name,
                short: rule.short,
                date,
                moves: rule.moves,
            })
        })
        .collect();
    if let Some(date) = kurban_ait.filter(|date| date.year() == year) {
        out.push(Holiday {
            name: KURBAN_AIT,
            short: KURBAN_AIT,
            date,
            moves: false,
        });
    }
    out.sort_by_key(|holiday| holiday.date);
    out
}

/// The weekdays off of `year` created by holidays falling on a weekend.
///
/// Holidays are taken in date order; each moves to the first following
/// weekday that is neither a holiday nor already taken by an earlier move, so
/// runs come out right (Nauryz 2026: Saturday 21 and Sunday 22 March, with
/// Monday 23 a holiday itself, give Tuesday 24 and Wednesday 25 March). The
/// latest movable holiday is 17 December, so a move never crosses into the
/// next year.
pub(crate) fn moved_days_off(year: i32, kurban_ait: Option<NaiveDate>) -> Vec<MovedDayOff> {
    let holidays = holidays(year, kurban_ait);
    let mut taken: BTreeSet<NaiveDate> = holidays.iter().map(|holiday| holiday.date).collect();
    let mut out = Vec::new();
    for holiday in holidays
        .iter()
        .filter(|holiday| holiday.moves && is_weekend(holiday.date))
    {
        let free_weekday = holiday
            .date
            .iter_days()
            .skip(1)
            .find(|date| !is_weekend(*date) && !taken.contains(date));
        if let Some(date) = free_weekday {
            taken.insert(date);
            out.push(MovedDayOff {
                date,
                holiday: holiday.clone(),
            });
        }
    }
    out
}

/// What the Law says about `date`: a holiday, a moved day off, or nothing
/// special (`None`: an ordinary weekday or weekend day). Government transfers
/// are not applied here.
pub(crate) fn law_day(date: NaiveDate, kurban_ait: Option<NaiveDate>) -> Option<LawDay> {
    let year = date.year();
    if let Some(holiday) = holidays(year, kurban_ait)
        .into_iter()
        .find(|holiday| holiday.date == date)
    {
        return Some(LawDay::Holiday(holiday));
    }
    moved_days_off(year, kurban_ait)
        .into_iter()
        .find(|moved| moved.date == date)
        .map(LawDay::MovedDayOff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn moved(year: i32) -> Vec<(NaiveDate, &'static str)> {
        moved_days_off(year, None)
            .into_iter()
            .map(|m| (m.date, m.holiday.short))
            .collect()
    }

    #[test]
    fn nauryz_2026_run_moves_to_24_and_25_march() {
        let march: Vec<_> = moved(2026)
            .into_iter()
            .filter(|(d, _)| d.month() == 3)
            .collect();
        assert_eq!(
            march,
            vec![
                (date(2026, 3, 9), "Women's Day"),
                (date(2026, 3, 24), "Nauryz"),
                (date(2026, 3, 25), "Nauryz"),
            ]
        );
    }

    #[test]
    fn move_skips_a_holiday_on_the_following_monday() {
        // 2016: Defender of the Fatherland Day on Saturday 7 May, Victory Day
        // on Monday 9 May, so the day off is Tuesday 10 May.
        assert!(moved(2016).contains(&(date(2016, 5, 10), "Defender of the Fatherland Day")));
    }

    #[test]
    fn christmas_and_kurban_ait_never_move() {
        // 7 January 2024 and Kurban Ait 16 June 2024 were Sundays.
        let kurban = Some(date(2024, 6, 16));
        let moved_2024: Vec<_> = moved_days_off(2024, kurban)
            .into_iter()
            .map(|m| m.holiday.name)
            .collect();
        assert!(!moved_2024.contains(&"Orthodox Christmas"));
        assert!(!moved_2024.contains(&KURBAN_AIT));
    }

    #[test]
    fn constitution_day_in_force_years() {
        let names = |year| -> Vec<(u32, u32)> {
            holidays(year, None)
                .into_iter()
                .filter(|h| h.name == CONSTITUTION_DAY)
                .map(|h| (h.date.month(), h.date.day()))
                .collect()
        };
        assert_eq!(names(2025), vec![(8, 30)]);
        assert_eq!(names(2026), vec![]);
        assert_eq!(names(2027), vec![(3, 15)]);
    }

    #[test]
    fn nothing_before_the_law() {
        assert!(holidays(FIRST_YEAR - 1, None).is_empty());
    }
}
