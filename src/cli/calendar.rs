//! `senim calendar [YEAR | --at INSTANT]`: the working-day calendar, a year's
//! days off, or the line's state at an instant.

use std::io::Write;

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use clap::Args;

use crate::app;
use crate::calendar::Calendar;
use crate::config::Config;

#[derive(Args, Debug)]
pub struct CalendarArgs {
    /// The year whose days off and worked weekend days to list (default: this year).
    pub year: Option<i32>,
    /// An instant (RFC 3339, e.g. 2026-03-20T17:59:00+05:00): is the line open, when
    /// does it next open, and on which date is an appeal received then registered.
    #[arg(long, conflicts_with = "year")]
    pub at: Option<DateTime<FixedOffset>>,
}

/// Runs `senim calendar`, before any runtime or database: the configured
/// calendar, at the system clock's now.
pub fn run(config: &Config, args: &CalendarArgs) -> anyhow::Result<()> {
    let calendar = app::load_calendar(config)?;
    print_calendar(
        &calendar,
        args,
        crate::clock::Clock::now(&crate::clock::SystemClock),
    )
}

fn print_calendar(
    calendar: &Calendar,
    args: &CalendarArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let hours = calendar.hours();
    let mut out = std::io::stdout().lock();
    if let Some(at) = args.at {
        let at = at.with_timezone(&Utc);
        let local = |t: DateTime<Utc>| {
            t.with_timezone(&hours.tz)
                .format("%Y-%m-%d %H:%M %Z (%:z)")
                .to_string()
        };
        writeln!(out, "at:                {}", local(at))?;
        let date = at.with_timezone(&hours.tz).date_naive();
        writeln!(
            out,
            "day:               {} ({})",
            date.format("%A"),
            calendar.day(date)
        )?;
        match calendar.closes_at(at) {
            Some(closes) => writeln!(out, "line:              OPEN, closes {}", local(closes))?,
            None => writeln!(out, "line:              CLOSED")?,
        }
        writeln!(
            out,
            "next opening:      {}",
            local(calendar.next_opening(at))
        )?;
        writeln!(out, "registration date: {}", calendar.registration_date(at))?;
        return Ok(());
    }
    let year = args
        .year
        .unwrap_or_else(|| now.with_timezone(&hours.tz).year());
    writeln!(
        out,
        "Non-working weekdays and worked weekend days of {year} ({}, open {}–{} on working days):",
        hours.tz,
        hours.opens.format("%H:%M"),
        hours.closes.format("%H:%M")
    )?;
    for (date, kind) in calendar.year(year) {
        writeln!(out, "{}  {}  {kind}", date, date.format("%a"))?;
    }
    for (_, date) in calendar.estimated_years(year..=year) {
        writeln!(
            out,
            "Kurban Ait (first day) {year}: {date} {}, ESTIMATED (counted with this estimate \
             until the official date is in the calendar data)",
            date.format("%a")
        )?;
    }
    if !calendar.missing_years(year..=year).is_empty() {
        writeln!(
            out,
            "WARNING: no Kurban Ait date for {year} in the calendar data"
        )?;
    }
    Ok(())
}
