//! `GET /v1/schedule/now`: the line's state (`pbx::schedule::line_state`) for the
//! PBX's dialplan. `?format=text` answers just `OPEN` or `CLOSED`, for a dialplan
//! that branches on `CURL()`; `?at=<RFC 3339>` asks about another instant.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use chrono::DateTime;
use serde::Deserialize;

use super::problem::Problem;
use crate::app::App;
use crate::pbx::schedule::line_state;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/v1/schedule/now", get(schedule_now))
}

#[derive(Deserialize)]
struct ScheduleQuery {
    format: Option<String>,
    at: Option<String>,
}

async fn schedule_now(
    State(app): State<Arc<App>>,
    query: Result<Query<ScheduleQuery>, QueryRejection>,
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
