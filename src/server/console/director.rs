//! The Director's pages: the alerts as sent (10.6), each with its read receipt.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::i18n::{Msg, local, t};
use super::*;
use crate::app::App;
use crate::journal::AppealId;

/// The Director's alerts (10.6), newest first, each with its receipt: "read",
/// when and by whom (an `alert_read` event of the appeal), or a button to mark it.
pub(super) async fn alerts(
    State(app): State<Arc<App>>,
    session: Session<rule::DirectorAlerts>,
) -> Response {
    let lang = session.lang;
    let tz = *app.config.calendar.timezone;
    let entries = match app.outbox.alerts(100).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot list the alerts");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let appeals: Vec<AppealId> = entries
        .iter()
        .filter_map(|e| e.appeal_id)
        .map(AppealId)
        .collect();
    let reads = match app
        .journal
        .events_of_kind(crate::journal::ALERT_READ, &appeals)
        .await
    {
        Ok(r) => r,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let rows: Vec<_> = entries
        .into_iter()
        .map(|entry| {
            let read = reads
                .iter()
                .find(|e| {
                    Some(e.appeal_id) == entry.appeal_id
                        && serde_json::from_str::<serde_json::Value>(&e.detail)
                            .is_ok_and(|d| d["mail"] == entry.id)
                })
                .cloned();
            (entry, read)
        })
        .collect();
    let body = html! {
        h1 { (t(lang, Msg::Alerts)) }
        @if rows.is_empty() {
            p.muted { (t(lang, Msg::NoAlerts)) }
        } @else {
            table {
                thead { tr {
                    th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Kind)) } th { (t(lang, Msg::Sent)) }
                    th { (t(lang, Msg::DueBy)) } th { (t(lang, Msg::ReadReceipt)) }
                } }
                tbody {
                    @for (entry, read) in &rows {
                        tr {
                            td {
                                @if let Some(appeal) = entry.appeal_id {
                                    a href={ "/console/appeals/" (appeal) } { (entry.reference) }
                                } @else { (entry.reference) }
                            }
                            td { (entry.kind) }
                            td {
                                @match entry.sent_at {
                                    Some(at) => { (local(at, tz)) }
                                    None => { (entry.state) }
                                }
                            }
                            td { @if let Some(due) = entry.due_by { (local(due, tz)) } }
                            td {
                                @match read {
                                    Some(event) => { (t(lang, Msg::Read)) " " (local(event.at, tz)) " · " (event.actor) }
                                    None => {
                                        @if entry.appeal_id.is_some() {
                                            (post_button(&format!("/console/alerts/{}/read", entry.id), &session.csrf, t(lang, Msg::MarkRead)))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t(lang, Msg::Alerts), Some(&session), body).into_response()
}

/// The Director marks an alert read: an `alert_read` event in her name.
pub(super) async fn alert_read(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, .. }: Posted<rule::DirectorAlerts>,
) -> Response {
    let is_alert = |kind: &str| {
        crate::outbox::DIRECTOR_ALERTS
            .iter()
            .any(|k| k.as_str() == kind)
    };
    let appeal = match app.outbox.get(id).await {
        Ok(entry) if is_alert(&entry.kind) => entry.appeal_id,
        Ok(_) | Err(crate::outbox::OutboxError::NotFound(_)) => None,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot read the alert");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Some(appeal) = appeal else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match app
        .journal
        .record_alert_read(AppealId(appeal), &session.actor(), id)
        .await
    {
        Ok(()) => Redirect::to("/console/alerts").into_response(),
        Err(e) => crate::server::problem::Problem::from(e).into_response(),
    }
}
