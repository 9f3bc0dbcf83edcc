//! `/healthz` (the process answers), `/readyz` (the database answers) and
//! `/metrics` (Prometheus text).
//!
//! Missing calendar data (a Kurban Ait date not yet in the data file for this
//! year or the next) is a warning, never unreadiness: a PBX or balancer that
//! checks `/readyz` must not close the trust line for a year over a holiday's
//! date. It is logged once per year and process (`CALENDAR DATA MISSING`), kept
//! in the gauge `senim_calendar_data_missing{holiday="kurban_ait",year}` (1
//! missing, 0 present) and shown in `/readyz`'s details.
//!
//! The main listener, which faces the PBXes, answers `/healthz` and `/readyz`'s
//! status alone (`{"status":"ready"}` or 503 `{"status":"not ready"}`). The
//! details (the database, the calendar, the outbox's backlog and the age of the
//! oldest undelivered mail, the mailbox's last contact and error, whether the
//! Director is configured) and `/metrics` are served only on the metrics listener
//! (`server.metrics_listen`), behind `server.metrics_token` when one is set.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use serde_json::{Value, json};

use super::problem::Problem;
use crate::app::App;

/// The main listener's: `/healthz`, and `/readyz` without its details.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz_status))
}

/// The metrics listener's: `/metrics`, and `/readyz` with its details.
pub fn metrics_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/readyz", get(readyz_details))
        .route("/metrics", get(metrics))
}

/// With a token (`server.metrics_token`), every request to the metrics listener
/// must carry `Authorization: Bearer <token>`, compared in constant time; any
/// other is 401. Without one, every request passes.
pub async fn require_token(
    State(token): State<Option<Arc<str>>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(expected) = token {
        match super::auth::bearer(request.headers()) {
            Ok(given) if crate::tokens::tokens_equal(&expected, given) => {}
            Ok(_) => {
                return Problem::unauthorized("unknown token (see server.metrics_token)")
                    .into_response();
            }
            Err(problem) => return problem.into_response(),
        }
    }
    next.run(request).await
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 `{"status":"ready"}` or 503 `{"status":"not ready"}`: the status alone.
async fn readyz_status(State(app): State<Arc<App>>) -> Response {
    let (ready, _, _) = checks(&app).await;
    let word = if ready { "ready" } else { "not ready" };
    (status_of(ready), Json(json!({"status": word}))).into_response()
}

fn status_of(ready: bool) -> StatusCode {
    if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// The status and every detail behind it.
async fn readyz_details(State(app): State<Arc<App>>) -> Response {
    let (ready, details) = readiness(&app).await;
    (status_of(ready), Json(details)).into_response()
}

/// Whether the daemon is ready (the database answers), and the details:
/// `{"ready", "database", "calendar", "outbox", "alerts", "mailbox"}`.
async fn readiness(app: &App) -> (bool, Value) {
    let (ready, database, calendar) = checks(app).await;
    let outbox = match app.outbox.backlog().await {
        Ok(b) => {
            let age = b
                .oldest_undelivered
                .map(|t| (app.clock.now() - t).num_seconds().max(0));
            json!({
                "undelivered": b.undelivered,
                "failed": b.failed,
                "oldest_undelivered_age_seconds": age,
            })
        }
        Err(e) => json!({"error": e.to_string()}),
    };
    let alerts = json!({
        "director_configured": !app.config.alerts.director.is_empty(),
    });
    // The mailbox is reported, not required: the daemon still takes calls without it.
    let mailbox = serde_json::to_value(app.mailbox.status.snapshot()).unwrap_or_default();
    (
        ready,
        json!({"ready": ready, "database": database, "calendar": calendar, "outbox": outbox, "alerts": alerts, "mailbox": mailbox}),
    )
}

/// What readiness rests on: the database answers. The calendar is checked
/// and reported beside it (`ok`: this year's data is in the file), but, like
/// the mailbox, it is not required.
async fn checks(app: &App) -> (bool, Value, Value) {
    let database = match app.db.ping().await {
        Ok(()) => json!({"ok": true, "backend": app.db.backend()}),
        Err(e) => json!({"ok": false, "backend": app.db.backend(), "error": e.to_string()}),
    };
    let calendar = calendar_data(app);
    let ready = database["ok"] == true;
    (ready, database, calendar)
}

/// The calendar data for this year and the next: the details, the gauge, and
/// the log line for a year first found missing.
pub(super) fn calendar_data(app: &App) -> Value {
    let year = app.today().year();
    let missing = app.calendar.missing_years(year..=year + 1);
    for checked in year..=year + 1 {
        let gauge = if missing.contains(&checked) { 1.0 } else { 0.0 };
        metrics::gauge!(
            "senim_calendar_data_missing",
            "holiday" => "kurban_ait",
            "year" => checked.to_string()
        )
        .set(gauge);
    }
    warn_once(&missing);
    let estimated: serde_json::Map<String, Value> = app
        .calendar
        .estimated_years(year..=year + 1)
        .into_iter()
        .map(|(year, date)| (year.to_string(), json!(date)))
        .collect();
    let counted = if estimated.is_empty() {
        String::new()
    } else {
        let dates: Vec<String> = estimated
            .values()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        format!("; counted meanwhile with the estimate {}", dates.join(", "))
    };
    json!({
        "ok": !missing.contains(&year),
        "missing_kurban_ait": missing,
        "estimated_kurban_ait": estimated,
        "warning": (!missing.is_empty()).then(|| format!(
            "the calendar data has no Kurban Ait date for {missing:?}{counted}: add the official \
             date to the calendar file (calendar.file); the trust line stays ready"
        )),
    })
}

/// Logs each missing year once in the process's life (not per request).
fn warn_once(missing: &[i32]) {
    static WARNED: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for &year in missing {
        if warned.insert(year) {
            tracing::error!(
                year,
                "CALENDAR DATA MISSING: no Kurban Ait date for {year}; working days of that year \
                 may be wrong (an estimate stands in where there is one) until the official date \
                 is added to the calendar file (calendar.file)"
            );
        }
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let handle = crate::telemetry::metrics();
    calendar_data(&app);
    // The outbox gauges are read at scrape time.
    if let Ok(b) = app.outbox.backlog().await {
        let age = b
            .oldest_undelivered
            .map_or(0, |t| (app.clock.now() - t).num_seconds().max(0));
        metrics::gauge!("senim_outbox_undelivered").set(b.undelivered as f64);
        metrics::gauge!("senim_outbox_failed").set(b.failed as f64);
        metrics::gauge!("senim_outbox_oldest_undelivered_age_seconds").set(age as f64);
    }
    let body = handle.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
