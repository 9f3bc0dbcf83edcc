//! The manager's outbox: the mail Senim sends (never its content), failed mail
//! with a retry.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::{Msg, local, t};
use super::*;
use crate::app::App;

#[derive(Deserialize)]
pub(super) struct OutboxQuery {
    state: Option<String>,
    retried: Option<u64>,
}

/// The manager's view of the outbox: the mail Senim sends (never its content),
/// newest first, failed mail with a button to try again now.
pub(super) async fn outbox(
    State(app): State<Arc<App>>,
    Query(q): Query<OutboxQuery>,
    session: Session<rule::ReadOutbox>,
) -> Response {
    let lang = session.lang;
    let tz = *app.config.calendar.timezone;
    let state = parsed::<crate::outbox::MailState>(&q.state);
    let entries = match app.outbox.list(state, 100).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot list the outbox");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let body = html! {
        h1 { (t(lang, Msg::Outbox)) }
        @if let Some(n) = q.retried { p.notice role="status" { (t(lang, Msg::Retried)) " " (n) } }
        p {
            a href="/console/outbox" { (t(lang, Msg::Any)) } " · "
            a href="/console/outbox?state=failed" { "failed" } " · "
            a href="/console/outbox?state=pending" { "pending" } " · "
            a href="/console/outbox?state=sent" { "sent" }
        }
        @if entries.is_empty() {
            p.muted { (t(lang, Msg::NoMail)) }
        } @else {
            table {
                thead { tr {
                    th { "#" } th { (t(lang, Msg::Kind)) } th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Status)) }
                    th { (t(lang, Msg::Attempts)) } th { (t(lang, Msg::Sent)) } th { (t(lang, Msg::LastError)) } th {}
                } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (e.id) }
                            td { (e.kind) }
                            td { (e.reference) }
                            td { (e.state) }
                            td { (e.attempts) }
                            td { @if let Some(at) = e.sent_at { (local(at, tz)) } }
                            td { @if let Some(err) = &e.last_error { (err) } }
                            td {
                                @if e.state == crate::outbox::MailState::Failed {
                                    (post_button(&format!("/console/outbox/{}/retry", e.id), &session.csrf, t(lang, Msg::Retry)))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t(lang, Msg::Outbox), Some(&session), body).into_response()
}

/// A failed mail put back for an attempt now, as `senim outbox retry` and the API.
pub(super) async fn outbox_retry(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, .. }: Posted<rule::RetryMail>,
) -> Response {
    match app.outbox.retry(Some(id), app.clock.now()).await {
        Ok(n) => {
            tracing::info!(
                outbox_id = id,
                actor = session.actor(),
                "mail put back for retry"
            );
            Redirect::to(&format!("/console/outbox?retried={n}")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "console: cannot retry a mail");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
