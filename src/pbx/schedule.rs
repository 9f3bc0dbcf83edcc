//! Is the trust line open at an instant (clause 10.4), when does it close, when
//! does it next open, and why it is closed (weekend, public holiday and which,
//! before or after hours). The PBX's dialplan asks `GET /v1/schedule/now`
//! (`src/server/schedule.rs`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::calendar::{Calendar, DayKind};

/// The line's state at one instant.
#[derive(Debug, Serialize)]
pub struct LineState {
    pub open: bool,
    /// `OPEN` or `CLOSED`.
    pub state: &'static str,
    pub at: DateTime<Utc>,
    pub timezone: String,
    /// When open: the instant the line closes today.
    pub closes_at: Option<DateTime<Utc>>,
    /// The next opening (after today's, when open now).
    pub next_opening: DateTime<Utc>,
    /// Why: `working hours`, `before hours`, `after hours`, `weekend`,
    /// `public holiday: …`, `day off: …`.
    pub reason: String,
    pub day: DayKind,
}

pub fn line_state(calendar: &Calendar, at: DateTime<Utc>) -> LineState {
    let hours = calendar.hours();
    let local = at.with_timezone(&hours.tz);
    let day = calendar.day(local.date_naive());
    let closes_at = calendar.closes_at(at);
    let reason = if closes_at.is_some() {
        "working hours".to_owned()
    } else if !day.is_working() {
        day.to_string()
    } else if local.time() < hours.opens {
        format!("before hours (opens {})", hours.opens.format("%H:%M"))
    } else {
        format!("after hours (closed at {})", hours.closes.format("%H:%M"))
    };
    LineState {
        open: closes_at.is_some(),
        state: if closes_at.is_some() {
            "OPEN"
        } else {
            "CLOSED"
        },
        at,
        timezone: hours.tz.to_string(),
        closes_at,
        next_opening: calendar.next_opening(at),
        reason,
        day,
    }
}
