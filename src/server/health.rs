//! `/healthz` (the process answers), `/readyz` (the database answers and the
//! calendar has data for this year and the next; it also shows the outbox's
//! backlog, the age of the oldest undelivered mail, and the mailbox's last contact
//! and error) and `/metrics` (Prometheus text).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use serde_json::json;

use crate::app::App;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let database = match app.db.ping().await {
        Ok(()) => json!({"ok": true, "backend": app.db.backend()}),
        Err(e) => json!({"ok": false, "backend": app.db.backend(), "error": e.to_string()}),
    };
    let year = app.today().year();
    let missing = app.calendar.missing_years(year..=year + 1);
    let calendar = json!({
        "ok": !missing.contains(&year),
        "missing_kurban_ait": missing,
        "warning": (!missing.is_empty()).then(|| format!(
            "the calendar data has no Kurban Ait date for {missing:?}: add it to the calendar file"
        )),
    });
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
    let ready = database["ok"] == true && calendar["ok"] == true;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ready, "database": database, "calendar": calendar, "outbox": outbox, "alerts": alerts, "mailbox": mailbox})),
    )
        .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let handle = crate::telemetry::metrics();
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
