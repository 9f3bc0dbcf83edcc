//! `GET /v1/schedule/now`: is the trust line open (clause 10.4), when does it
//! close, when does it next open, and why it is closed (weekend, public holiday
//! and which, before or after hours). `?format=text` answers just `OPEN` or
//! `CLOSED`, for a dialplan that branches on `CURL()`; `?at=<RFC 3339>` asks
//! about another instant.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::calendar::{Calendar, DayKind};
use crate::server::problem::Problem;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/v1/schedule/now", get(schedule_now))
}

#[derive(Deserialize)]
struct ScheduleQuery {
    format: Option<String>,
    at: Option<String>,
}

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

async fn schedule_now(
    State(app): State<Arc<App>>,
    query: Result<Query<ScheduleQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return Problem::bad_request("the query string is malformed").into_response();
    };
    let at = match query.at.as_deref() {
        None => app.clock.now(),
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(t) => t.to_utc(),
            Err(_) => {
                return Problem::field(
                    StatusCode::BAD_REQUEST,
                    "at",
                    "at must be an RFC 3339 instant with offset, e.g. 2026-11-18T10:00:00+05:00",
                )
                .into_response();
            }
        },
    };
    let state = line_state(&app.calendar, at);
    match query.format.as_deref() {
        None | Some("json") => Json(state).into_response(),
        Some("text") => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            state.state,
        )
            .into_response(),
        Some(_) => Problem::field(
            StatusCode::BAD_REQUEST,
            "format",
            "format must be json or text",
        )
        .into_response(),
    }
}
