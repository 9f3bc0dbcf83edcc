//! Integration tests of `senim::calendar` (clause 10.4 of the standard).

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use senim::calendar::{Calendar, CalendarData, CalendarDataError, DayKind, WorkingHours};
use support::time::{astana_at as astana, date, utc};

fn calendar() -> Calendar {
    Calendar::new(WorkingHours::default(), CalendarData::embedded())
}

// ---------------------------------------------------------------------------
// Every date of a year that breaks the Monday–Friday pattern, pinned by hand.
// H = public holiday on a weekday, O = weekday off (moved or transferred),
// W = worked weekend day.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    H,
    O,
    W,
}

fn mark(kind: &DayKind) -> Option<Mark> {
    match kind {
        DayKind::PublicHoliday { .. } => Some(Mark::H),
        DayKind::DayOff { .. } => Some(Mark::O),
        DayKind::WorkedWeekend { .. } => Some(Mark::W),
        DayKind::Working | DayKind::Weekend => None,
    }
}

fn assert_year(year: i32, expected: &[(u32, u32, Mark)]) {
    let expected: Vec<(NaiveDate, Mark)> = expected
        .iter()
        .map(|&(m, d, mark)| (date(year, m, d), mark))
        .collect();
    let actual: Vec<(NaiveDate, Mark)> = calendar()
        .year(year)
        .iter()
        .map(|(day, kind)| (*day, mark(kind).expect("year() lists only special days")))
        .collect();
    assert_eq!(actual, expected, "special days of {year}");
}

use Mark::{H, O, W};

#[test]
fn year_2024_is_pinned() {
    assert_year(
        2024,
        &[
            (1, 1, H),   // New Year (Mon)
            (1, 2, H),   // New Year (Tue); Christmas 7 Jan is a Sunday, not moved
            (3, 8, H),   // Women's Day (Fri)
            (3, 21, H),  // Nauryz (Thu)
            (3, 22, H),  // Nauryz (Fri)
            (3, 25, O),  // Nauryz 23 Mar fell on Saturday
            (5, 1, H),   // Unity Day (Wed)
            (5, 4, W),   // Saturday worked ...
            (5, 7, H),   // Defender of the Fatherland Day (Tue)
            (5, 8, O),   // ... for Wednesday 8 May off
            (5, 9, H),   // Victory Day (Thu); Kurban Ait 16 Jun is a Sunday
            (7, 8, O),   // Capital Day 6 Jul fell on Saturday
            (8, 30, H),  // Constitution Day (Fri)
            (10, 25, H), // Republic Day (Fri)
            (12, 16, H), // Independence Day (Mon)
        ],
    );
}

#[test]
fn year_2025_is_pinned() {
    assert_year(
        2025,
        &[
            (1, 1, H),   // New Year (Wed)
            (1, 2, H),   // New Year (Thu)
            (1, 3, O),   // Friday off ...
            (1, 5, W),   // ... for Sunday worked
            (1, 7, H),   // Orthodox Christmas (Tue)
            (3, 10, O),  // Women's Day 8 Mar fell on Saturday
            (3, 21, H),  // Nauryz (Fri)
            (3, 24, O),  // Nauryz 22 Mar fell on Saturday
            (3, 25, O),  // Nauryz 23 Mar fell on Sunday
            (5, 1, H),   // Unity Day (Thu)
            (5, 7, H),   // Defender of the Fatherland Day (Wed)
            (5, 9, H),   // Victory Day (Fri)
            (6, 6, H),   // Kurban Ait (Fri)
            (7, 7, O),   // Capital Day 6 Jul fell on Sunday
            (9, 1, O),   // Constitution Day 30 Aug fell on Saturday
            (10, 27, O), // Republic Day 25 Oct fell on Saturday
            (12, 16, H), // Independence Day (Tue)
        ],
    );
}

#[test]
fn year_2026_is_pinned() {
    assert_year(
        2026,
        &[
            (1, 1, H),  // New Year (Thu)
            (1, 2, H),  // New Year (Fri)
            (1, 7, H),  // Orthodox Christmas (Wed)
            (3, 9, O),  // Women's Day 8 Mar fell on Sunday
            (3, 23, H), // Nauryz (Mon)
            (3, 24, O), // Nauryz 21 Mar fell on Saturday
            (3, 25, O), // Nauryz 22 Mar fell on Sunday
            (5, 1, H),  // Unity Day (Fri)
            (5, 7, H),  // Defender of the Fatherland Day (Thu)
            (5, 11, O), // Victory Day 9 May fell on Saturday
            (5, 27, H), // Kurban Ait (Wed)
            (7, 6, H),  // Capital Day (Mon)
            // No Constitution Day: 30 August is no longer a holiday.
            (10, 26, O), // Republic Day 25 Oct fell on Sunday
            (12, 16, H), // Independence Day (Wed)
        ],
    );
}

#[test]
fn year_2020_lists_the_worked_moved_day_off() {
    // The Monday 11 May 2020 day off (Victory Day fell on Saturday) was
    // transferred to Friday 8 May, so that Monday was worked.
    let cal = calendar();
    assert!(cal.is_working_day(date(2020, 5, 11)));
    assert!(!cal.is_working_day(date(2020, 5, 8)));
    let may: Vec<_> = cal
        .year(2020)
        .into_iter()
        .filter(|(day, _)| day.month() == 5)
        .map(|(day, kind)| (day.day(), mark(&kind)))
        .collect();
    assert_eq!(
        may,
        vec![(1, Some(H)), (7, Some(H)), (8, Some(O)), (11, Some(W))]
    );
}

#[test]
fn day_kinds_explain_themselves() {
    let cal = calendar();
    let shown = |y, m, d| cal.day(date(y, m, d)).to_string();
    assert_eq!(shown(2026, 3, 23), "public holiday: Nauryz meiramy");
    assert_eq!(
        shown(2026, 3, 24),
        "day off: Nauryz (21 Mar) fell on Saturday"
    );
    assert_eq!(
        shown(2026, 3, 25),
        "day off: Nauryz (22 Mar) fell on Sunday"
    );
    assert_eq!(shown(2026, 3, 21), "public holiday: Nauryz meiramy");
    assert_eq!(shown(2026, 3, 26), "working day");
    assert_eq!(shown(2026, 3, 28), "weekend");
    assert_eq!(shown(2024, 6, 16), "public holiday: Kurban Ait (first day)");
    assert_eq!(
        shown(2024, 5, 8),
        "day off: transferred from Saturday 4 May 2024 (Order of the Acting Minister of \
         Labour and Social Protection of Population of 17 April 2024, adilet.zan.kz G24G0000109)"
    );
    assert_eq!(
        shown(2024, 5, 4),
        "working day: day off transferred to Wednesday 8 May 2024 (Order of the Acting \
         Minister of Labour and Social Protection of Population of 17 April 2024, adilet.zan.kz \
         G24G0000109)"
    );
    assert_eq!(
        cal.day(date(2024, 5, 8)),
        DayKind::DayOff {
            reason: "transferred from Saturday 4 May 2024 (Order of the Acting Minister of \
                     Labour and Social Protection of Population of 17 April 2024, adilet.zan.kz \
                     G24G0000109)"
                .to_string()
        }
    );
}

#[test]
fn constitution_day_moves_to_15_march_from_2027() {
    let cal = calendar();
    assert!(cal.is_working_day(date(2026, 3, 16))); // Monday; 2026 has no Constitution Day
    assert_eq!(
        cal.day(date(2027, 3, 15)),
        DayKind::PublicHoliday {
            name: "Constitution Day".to_string(),
            estimated: false,
        }
    );
    assert!(cal.is_working_day(date(2027, 8, 30))); // Monday
}

#[test]
fn orthodox_christmas_and_kurban_ait_never_move() {
    let cal = calendar();
    // 7 Jan 2024 and Kurban Ait 16 Jun 2024 were Sundays; the Mondays after are worked.
    assert!(cal.is_working_day(date(2024, 1, 8)));
    assert!(cal.is_working_day(date(2024, 6, 17)));
}

// ---------------------------------------------------------------------------
// Time zone and working hours
// ---------------------------------------------------------------------------

#[test]
fn tzdata_knows_the_2024_switch_to_utc_plus_5() {
    assert!(
        chrono_tz::IANA_TZDB_VERSION >= "2024a",
        "chrono-tz ships tzdata {}, 2024a or later is needed",
        chrono_tz::IANA_TZDB_VERSION
    );
    assert_eq!(astana(2024, 2, 29, 9, 0, 0), utc(2024, 2, 29, 3, 0, 0));
    assert_eq!(astana(2024, 3, 1, 9, 0, 0), utc(2024, 3, 1, 4, 0, 0));
    let cal = calendar();
    // Thursday 29 Feb 2024, 18:00 Astana (+06) -> Friday 1 March, 09:00 Astana (+05).
    assert_eq!(
        cal.next_opening(utc(2024, 2, 29, 12, 0, 0)),
        utc(2024, 3, 1, 4, 0, 0)
    );
    assert_eq!(
        cal.closes_at(utc(2024, 2, 29, 11, 59, 59)),
        Some(utc(2024, 2, 29, 12, 0, 0))
    );
    assert_eq!(
        cal.closes_at(utc(2024, 3, 1, 12, 59, 59)),
        Some(utc(2024, 3, 1, 13, 0, 0))
    );
    // 04:30Z is 09:30 on 1 March (+05) but would be 10:30 under +06: open either way;
    // 03:30Z is 08:30 on 1 March: closed (it would have been open under +06).
    assert!(cal.is_open(utc(2024, 3, 1, 4, 30, 0)));
    assert!(!cal.is_open(utc(2024, 3, 1, 3, 30, 0)));
}

#[test]
fn default_hours_are_astana_nine_to_six() {
    let hours = WorkingHours::default();
    assert_eq!(hours.tz, chrono_tz::Asia::Almaty);
    assert_eq!(hours.opens, NaiveTime::from_hms_opt(9, 0, 0).expect("time"));
    assert_eq!(
        hours.closes,
        NaiveTime::from_hms_opt(18, 0, 0).expect("time")
    );
    assert_eq!(calendar().hours(), &hours);
}

#[test]
fn is_open_at_the_edges_of_working_hours() {
    let cal = calendar();
    // Tuesday 10 June 2025, an ordinary working day.
    assert!(!cal.is_open(astana(2025, 6, 10, 8, 59, 59)));
    assert!(cal.is_open(astana(2025, 6, 10, 9, 0, 0)));
    assert!(cal.is_open(astana(2025, 6, 10, 17, 59, 59)));
    assert!(!cal.is_open(astana(2025, 6, 10, 18, 0, 0)));
    // Closed all day on a weekend, a holiday, a moved and a transferred day off.
    assert!(!cal.is_open(astana(2025, 6, 14, 12, 0, 0)));
    assert!(!cal.is_open(astana(2025, 6, 6, 12, 0, 0)));
    assert!(!cal.is_open(astana(2025, 3, 25, 12, 0, 0)));
    assert!(!cal.is_open(astana(2025, 1, 3, 12, 0, 0)));
    // Open on a worked Sunday.
    assert!(cal.is_open(astana(2025, 1, 5, 12, 0, 0)));
}

#[test]
fn closes_at_only_while_open() {
    let cal = calendar();
    assert_eq!(
        cal.closes_at(astana(2025, 6, 10, 9, 0, 0)),
        Some(astana(2025, 6, 10, 18, 0, 0))
    );
    assert_eq!(cal.closes_at(astana(2025, 6, 10, 8, 0, 0)), None);
    assert_eq!(cal.closes_at(astana(2025, 6, 10, 18, 0, 0)), None);
    assert_eq!(cal.closes_at(astana(2025, 6, 14, 12, 0, 0)), None);
}

#[test]
fn next_opening_same_day_and_exact_instant() {
    let cal = calendar();
    let nine = astana(2025, 6, 10, 9, 0, 0);
    assert_eq!(cal.next_opening(astana(2025, 6, 10, 7, 15, 0)), nine);
    assert_eq!(cal.next_opening(nine), nine);
    // Already open: the next working day's opening.
    assert_eq!(
        cal.next_opening(astana(2025, 6, 10, 10, 0, 0)),
        astana(2025, 6, 11, 9, 0, 0)
    );
}

#[test]
fn next_opening_across_a_weekend() {
    let cal = calendar();
    let monday = astana(2025, 6, 16, 9, 0, 0);
    assert_eq!(cal.next_opening(astana(2025, 6, 13, 18, 0, 0)), monday);
    assert_eq!(cal.next_opening(astana(2025, 6, 14, 9, 0, 0)), monday);
    assert_eq!(cal.next_opening(astana(2025, 6, 15, 23, 59, 59)), monday);
}

#[test]
fn next_opening_across_a_holiday_run() {
    let cal = calendar();
    // Nauryz 2026: Sat 21, Sun 22, Mon 23 (holiday), Tue 24, Wed 25 (moved days off).
    assert_eq!(
        cal.next_opening(astana(2026, 3, 20, 18, 0, 0)),
        astana(2026, 3, 26, 9, 0, 0)
    );
    // New Year 2025: 1–3 January off, Saturday 4 off, Sunday 5 January worked.
    assert_eq!(
        cal.next_opening(astana(2024, 12, 31, 18, 30, 0)),
        astana(2025, 1, 5, 9, 0, 0)
    );
}

// ---------------------------------------------------------------------------
// Registration date and working-day arithmetic
// ---------------------------------------------------------------------------

#[test]
fn registration_date_follows_the_close_of_working_hours() {
    let cal = calendar();
    let friday = date(2025, 6, 13);
    let monday = date(2025, 6, 16);
    assert_eq!(
        cal.registration_date(astana(2025, 6, 13, 17, 59, 0)),
        friday
    );
    assert_eq!(
        cal.registration_date(astana(2025, 6, 13, 17, 59, 59)),
        friday
    );
    assert_eq!(cal.registration_date(astana(2025, 6, 13, 18, 0, 0)), monday);
    // Before opening counts for the same day.
    assert_eq!(cal.registration_date(astana(2025, 6, 13, 0, 30, 0)), friday);
    // The Astana date counts, not the UTC one: 20:00Z Thursday is 01:00 Friday.
    assert_eq!(cal.registration_date(utc(2025, 6, 12, 20, 0, 0)), friday);
    // Saturday and Sunday go to Monday.
    assert_eq!(cal.registration_date(astana(2025, 6, 14, 10, 0, 0)), monday);
    assert_eq!(cal.registration_date(astana(2025, 6, 15, 23, 0, 0)), monday);
}

#[test]
fn registration_date_before_a_holiday() {
    let cal = calendar();
    // Friday before the Nauryz run 2026.
    assert_eq!(
        cal.registration_date(astana(2026, 3, 20, 18, 0, 0)),
        date(2026, 3, 26)
    );
    // Monday 6 May 2024, evening: 7 holiday, 8 transferred off, 9 holiday.
    assert_eq!(
        cal.registration_date(astana(2024, 5, 6, 19, 0, 0)),
        date(2024, 5, 10)
    );
    // On the holiday itself.
    assert_eq!(
        cal.registration_date(astana(2024, 5, 7, 11, 0, 0)),
        date(2024, 5, 10)
    );
}

#[test]
fn registration_date_on_31_december() {
    let cal = calendar();
    // 31 December is a working day.
    assert_eq!(
        cal.registration_date(astana(2025, 12, 31, 17, 0, 0)),
        date(2025, 12, 31)
    );
    // After hours: 1–2 January 2026 holidays, 3–4 weekend.
    assert_eq!(
        cal.registration_date(astana(2025, 12, 31, 18, 0, 0)),
        date(2026, 1, 5)
    );
    // 2024 → 2025: the first working day is the worked Sunday 5 January.
    assert_eq!(
        cal.registration_date(astana(2024, 12, 31, 23, 0, 0)),
        date(2025, 1, 5)
    );
    assert_eq!(date(2025, 1, 5).weekday(), Weekday::Sun);
}

#[test]
fn add_working_days_counts_only_working_days() {
    let cal = calendar();
    // n = 0: the day itself if working, else the next working day.
    assert_eq!(
        cal.add_working_days(date(2025, 6, 10), 0),
        date(2025, 6, 10)
    );
    assert_eq!(
        cal.add_working_days(date(2025, 6, 14), 0),
        date(2025, 6, 16)
    );
    assert_eq!(
        cal.add_working_days(date(2026, 3, 23), 0),
        date(2026, 3, 26)
    );
    // Friday + 1 and Saturday + 1 are both Monday.
    assert_eq!(
        cal.add_working_days(date(2025, 6, 13), 1),
        date(2025, 6, 16)
    );
    assert_eq!(
        cal.add_working_days(date(2025, 6, 14), 1),
        date(2025, 6, 16)
    );
    // Across holiday runs.
    assert_eq!(
        cal.add_working_days(date(2026, 3, 20), 1),
        date(2026, 3, 26)
    );
    assert_eq!(cal.add_working_days(date(2024, 5, 6), 1), date(2024, 5, 10));
    // Friday 3 May 2024 + 1 is the worked Saturday 4 May.
    assert_eq!(cal.add_working_days(date(2024, 5, 3), 1), date(2024, 5, 4));
    // Across New Year and Orthodox Christmas: 30, 31 Dec, 5, 6, 8 Jan.
    assert_eq!(
        cal.add_working_days(date(2025, 12, 29), 5),
        date(2026, 1, 8)
    );
    // Ten working days from Friday 1 May 2026: 4–6, 8, 12–15, 18, 19 May.
    assert_eq!(
        cal.add_working_days(date(2026, 5, 1), 10),
        date(2026, 5, 19)
    );
}

#[test]
fn missing_years_are_those_without_kurban_ait() {
    let cal = calendar();
    assert_eq!(cal.missing_years(2013..=2026), Vec::<i32>::new());
    assert_eq!(cal.missing_years(2025..=2028), vec![2027, 2028]);
    assert_eq!(cal.missing_years(2010..=2012), vec![2010, 2011, 2012]);
}

/// Kurban Ait 2027 (issue 19): until the official date is in the data, the
/// estimate 16 May 2027 (a Sunday) is counted, shown as estimated, and the
/// year is still reported as missing; earlier years keep their configured
/// dates, never estimated.
#[test]
fn kurban_ait_2027_is_the_estimate_until_configured() {
    let cal = calendar();
    let kurban = cal.day(date(2027, 5, 16));
    assert_eq!(
        kurban,
        DayKind::PublicHoliday {
            name: "Kurban Ait (first day)".to_string(),
            estimated: true,
        }
    );
    assert!(kurban.to_string().contains("ESTIMATED"), "{kurban}");
    assert_eq!(
        serde_json::to_value(&kurban).unwrap()["estimated"],
        serde_json::json!(true)
    );
    // Never moved: Monday 17 May 2027 is worked.
    assert!(cal.is_working_day(date(2027, 5, 17)));
    assert_eq!(
        cal.estimated_years(2025..=2028),
        vec![(2027, date(2027, 5, 16))]
    );
    // The warning stays: the official date is still missing.
    assert_eq!(cal.missing_years(2027..=2027), vec![2027]);

    // 2026 and earlier: the configured dates, exactly, never estimated.
    for (y, m, d) in [(2024, 6, 16), (2025, 6, 6), (2026, 5, 27)] {
        let day = cal.day(date(y, m, d));
        assert_eq!(
            day,
            DayKind::PublicHoliday {
                name: "Kurban Ait (first day)".to_string(),
                estimated: false,
            },
            "{y}"
        );
        assert!(!day.to_string().contains("ESTIMATED"), "{day}");
        let plain = serde_json::to_value(&day).unwrap();
        assert!(plain.get("estimated").is_none(), "{plain}");
    }
    assert!(cal.is_working_day(date(2026, 5, 28)));
    assert!(!cal.is_working_day(date(2026, 5, 27)));

    // A configured date replaces the estimate.
    let data = CalendarData::from_toml_str("[kurban_ait]\n2027 = 2027-05-17\n").unwrap();
    let configured = Calendar::new(WorkingHours::default(), data);
    assert_eq!(configured.day(date(2027, 5, 16)), DayKind::Weekend);
    assert_eq!(
        configured.day(date(2027, 5, 17)),
        DayKind::PublicHoliday {
            name: "Kurban Ait (first day)".to_string(),
            estimated: false,
        }
    );
    assert_eq!(configured.estimated_years(2027..=2027), vec![]);
    assert_eq!(configured.missing_years(2027..=2027), Vec::<i32>::new());
}

// ---------------------------------------------------------------------------
// The data file
// ---------------------------------------------------------------------------

fn invalid(text: &str) -> (usize, String, String) {
    match CalendarData::from_toml_str(text) {
        Err(CalendarDataError::Invalid { line, key, problem }) => (line, key, problem),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn data_file_syntax_errors_name_the_line() {
    let error = CalendarData::from_toml_str("[kurban_ait]\n2027 = \n").expect_err("syntax");
    assert!(matches!(error, CalendarDataError::Syntax(_)));
    assert!(error.to_string().contains("line 2"), "{error}");

    let error = CalendarData::from_toml_str("[kurban_ait]\n2027 = 2027-05-16\n[holidays]\nx = 1\n")
        .expect_err("unknown table");
    assert!(error.to_string().contains("line 3"), "{error}");
    assert!(error.to_string().contains("holidays"), "{error}");

    let error = CalendarData::from_toml_str(
        "[[transfer]]\nday_off = 2027-01-08\nworked = 2027-01-10\norder = \"x\"\nnote = 1\n",
    )
    .expect_err("unknown key");
    assert!(error.to_string().contains("note"), "{error}");

    let error = CalendarData::from_toml_str("[[transfer]]\nday_off = 2027-01-08\norder = \"x\"\n")
        .expect_err("missing key");
    assert!(error.to_string().contains("worked"), "{error}");
}

#[test]
fn data_file_rejects_a_worked_weekday() {
    let (line, key, problem) = invalid(
        "# comment\n[[transfer]]\nday_off = 2027-01-08\nworked = 2027-01-12\norder = \"x\"\n",
    );
    assert_eq!(line, 4);
    assert_eq!(key, "[[transfer]] #1 worked");
    assert!(problem.contains("Saturday or Sunday"), "{problem}");
    assert!(problem.contains("Tuesday"), "{problem}");
}

#[test]
fn data_file_rejects_a_weekend_or_holiday_day_off() {
    let (line, key, problem) =
        invalid("[[transfer]]\nday_off = 2027-01-09\nworked = 2027-01-10\norder = \"x\"\n");
    assert_eq!((line, key.as_str()), (2, "[[transfer]] #1 day_off"));
    assert!(problem.contains("weekday"), "{problem}");

    let (_, _, problem) =
        invalid("[[transfer]]\nday_off = 2027-01-07\nworked = 2027-01-10\norder = \"x\"\n");
    assert!(problem.contains("Orthodox Christmas"), "{problem}");

    // 9 March 2026 is already off (Women's Day fell on Sunday).
    let (_, _, problem) =
        invalid("[[transfer]]\nday_off = 2026-03-09\nworked = 2026-03-14\norder = \"x\"\n");
    assert!(problem.contains("already a day off"), "{problem}");
}

#[test]
fn data_file_rejects_a_worked_holiday_duplicate_or_empty_order() {
    // Saturday 21 March 2026 is Nauryz.
    let (_, key, problem) =
        invalid("[[transfer]]\nday_off = 2026-03-20\nworked = 2026-03-21\norder = \"x\"\n");
    assert_eq!(key, "[[transfer]] #1 worked");
    assert!(problem.contains("Nauryz"), "{problem}");

    let (line, key, _) = invalid(
        "[[transfer]]\nday_off = 2027-01-08\nworked = 2027-01-10\norder = \"x\"\n\
         [[transfer]]\nday_off = 2027-01-08\nworked = 2027-01-09\norder = \"y\"\n",
    );
    assert_eq!((line, key.as_str()), (6, "[[transfer]] #2 day_off"));

    let (line, key, _) =
        invalid("[[transfer]]\nday_off = 2027-01-08\nworked = 2027-01-10\norder = \"  \"\n");
    assert_eq!((line, key.as_str()), (4, "[[transfer]] #1 order"));
}

#[test]
fn data_file_rejects_bad_kurban_ait_entries() {
    let (line, key, problem) = invalid("[kurban_ait]\n2026 = 2026-05-27\n2027 = 2026-05-16\n");
    assert_eq!((line, key.as_str()), (3, "kurban_ait.2027"));
    assert!(problem.contains("not in 2027"), "{problem}");

    let (_, key, problem) = invalid("[kurban_ait]\n\"next\" = 2027-05-16\n");
    assert_eq!(key, "kurban_ait.next");
    assert!(problem.contains("not a year"), "{problem}");

    let (_, _, problem) = invalid("[kurban_ait]\n2027 = 2027-05-16T09:00:00\n");
    assert!(problem.contains("plain date"), "{problem}");

    let error = CalendarData::from_toml_str("[kurban_ait]\n2027 = \"2027-05-16\"\n")
        .expect_err("a string is not a date");
    assert!(error.to_string().contains("line 2"), "{error}");
}

#[test]
fn data_errors_display_line_and_key() {
    let error =
        CalendarData::from_toml_str("[kurban_ait]\n2027 = 2026-05-16\n").expect_err("wrong year");
    assert_eq!(
        error.to_string(),
        "calendar data line 2, kurban_ait.2027: the date 2026-05-16 is not in 2027"
    );
}

#[test]
fn a_custom_data_file_overrides_the_embedded_one() {
    let dir = std::env::temp_dir().join(format!("senim-calendar-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("calendar-kz.toml");
    std::fs::write(
        &path,
        "[kurban_ait]\n2027 = 2027-05-17\n\n\
         [[transfer]]\nday_off = 2027-01-08\nworked = 2027-01-10\norder = \"Test order\"\n",
    )
    .expect("write data file");
    let custom = CalendarData::from_file(&path).expect("custom data parses");
    std::fs::remove_dir_all(&dir).expect("clean up");

    let embedded = calendar();
    let cal = Calendar::new(WorkingHours::default(), custom);
    assert_eq!(embedded.missing_years(2026..=2027), vec![2027]);
    // The custom file replaces the embedded data as a whole.
    assert_eq!(cal.missing_years(2026..=2027), vec![2026]);
    assert!(embedded.is_working_day(date(2027, 5, 17)));
    assert!(!cal.is_working_day(date(2027, 5, 17)));
    assert!(!cal.is_working_day(date(2027, 1, 8)));
    assert_eq!(
        cal.day(date(2027, 1, 10)).to_string(),
        "working day: day off transferred to Friday 8 January 2027 (Test order)"
    );
    // 2024's transfer is gone with the embedded data; the Law still applies.
    assert!(cal.is_working_day(date(2024, 5, 8)));
    assert!(!cal.is_working_day(date(2024, 5, 7)));
}

#[test]
fn data_file_errors_name_the_file() {
    let missing = Path::new("/nonexistent/senim/calendar-kz.toml");
    let error = CalendarData::from_file(missing).expect_err("no such file");
    assert!(matches!(error, CalendarDataError::Read { .. }));
    assert!(
        error
            .to_string()
            .contains("/nonexistent/senim/calendar-kz.toml")
    );

    let dir = std::env::temp_dir().join(format!("senim-calendar-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[kurban_ait]\n2027 = 2028-05-16\n").expect("write data file");
    let error = CalendarData::from_file(&path).expect_err("invalid data");
    std::fs::remove_dir_all(&dir).expect("clean up");
    let shown = error.to_string();
    assert!(shown.contains("bad.toml"), "{shown}");
    assert!(shown.contains("line 2"), "{shown}");
}

// ---------------------------------------------------------------------------
// Cross-check against an independent source: the Python `holidays` package.
// ---------------------------------------------------------------------------

/// Years compared with the `holidays` package (version 0.109).
const CROSSCHECK_YEARS: std::ops::RangeInclusive<i32> = 2013..=2025;

/// Dates where this calendar and the `holidays` package knowingly disagree:
/// (date, non-working here?, why we trust our side).
const KNOWN_DISAGREEMENTS: &[(i32, u32, u32, bool, &str)] = &[];

/// The package's non-working dates for `years`, from tests/calendar_crosscheck.py.
fn holidays_package_dates(years: &[i32]) -> BTreeSet<NaiveDate> {
    crosscheck_script(&[], years)
        .lines()
        .map(|line| {
            NaiveDate::parse_from_str(line.trim(), "%Y-%m-%d")
                .unwrap_or_else(|error| panic!("bad line {line:?} from the script: {error}"))
        })
        .collect()
}

/// The package's first day of Kurban Ait (Eid al-Adha) for `years`, each with
/// whether the package marks it "(estimated)".
fn holidays_package_kurban_ait(years: &[i32]) -> Vec<(NaiveDate, bool)> {
    crosscheck_script(&["--kurban-ait"], years)
        .lines()
        .map(|line| {
            let (day, word) = line
                .trim()
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line {line:?} from the script"));
            let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .unwrap_or_else(|error| panic!("bad line {line:?} from the script: {error}"));
            (day, word == "estimated")
        })
        .collect()
}

/// tests/calendar_crosscheck.py's output for `options` and `years`.
fn crosscheck_script(options: &[&str], years: &[i32]) -> String {
    let manifest_dir = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("python3")
        .arg("tests/calendar_crosscheck.py")
        .args(options)
        .args(years.iter().map(i32::to_string))
        .current_dir(manifest_dir)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run python3 ({error}): the calendar cross-check needs Python 3 \
                 and the holidays package: pip install holidays==0.109"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "tests/calendar_crosscheck.py failed ({}): {stderr}\n\
         the calendar cross-check needs: pip install holidays==0.109",
        output.status
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn crosscheck_with_the_python_holidays_package() {
    let years: Vec<i32> = CROSSCHECK_YEARS.collect();
    let theirs = holidays_package_dates(&years);
    let cal = calendar();
    let mut disagreements = Vec::new();
    for year in CROSSCHECK_YEARS {
        let first = date(year, 1, 1);
        for day in first.iter_days().take_while(|day| day.year() == year) {
            let off_here = !cal.is_working_day(day);
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            // The package lists holidays only (weekends are implied), and does
            // not mark a worked weekend day: compare weekdays both ways, and
            // require every date it lists to be off here.
            let off_there = theirs.contains(&day) || (weekend && off_here);
            if off_here != off_there {
                let known = KNOWN_DISAGREEMENTS
                    .iter()
                    .any(|&(y, m, d, here, _)| date(y, m, d) == day && here == off_here);
                if !known {
                    disagreements.push(format!(
                        "{day} ({}): here {}, holidays package {}",
                        day.format("%a"),
                        cal.day(day),
                        if off_there { "non-working" } else { "working" }
                    ));
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "undocumented disagreements with the holidays package:\n{}",
        disagreements.join("\n")
    );
}

/// Kurban Ait as the calendar counts it, year by year, against the package:
/// the configured dates of 2013–2026 are its dates (2026's it still calls
/// estimated, egov.kz's calendar confirms it), and 2027, not yet configured,
/// is counted with the package's own estimate, 16 May, and marked estimated.
#[test]
fn kurban_ait_matches_the_holidays_package_and_2027_is_its_estimate() {
    let years: Vec<i32> = (2013..=2027).collect();
    let theirs = holidays_package_kurban_ait(&years);
    assert_eq!(theirs.len(), years.len(), "{theirs:?}");
    let cal = calendar();
    for (day, estimated_there) in theirs {
        let DayKind::PublicHoliday { name, estimated } = cal.day(day) else {
            panic!("{day}: the package's Kurban Ait is {} here", cal.day(day));
        };
        assert!(name.starts_with("Kurban Ait"), "{day}: {name}");
        let expected_estimated = day.year() == 2027;
        assert_eq!(estimated, expected_estimated, "{day}");
        if expected_estimated {
            assert!(estimated_there, "{day}: the package no longer estimates it");
        }
    }
}
