//! Dates and instants for tests, written as people read them: a calendar date, an
//! Astana wall-clock time, a UTC instant.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// An Astana wall-clock time (to the minute) as a UTC instant.
pub fn astana(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    astana_at(y, m, d, h, min, 0)
}

/// An Astana wall-clock time (to the second) as a UTC instant; Astana is UTC+6 until
/// 2024-02-29 18:00 UTC, UTC+5 since.
pub fn astana_at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Almaty
        .with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("unambiguous Astana test time")
        .to_utc()
}

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("valid UTC test instant")
}
