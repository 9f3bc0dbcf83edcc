//! The auditor's page: the chain verified now, the last published head, and the
//! Journal's export without identity.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::html;
use serde::Deserialize;

use super::i18n::{Msg, t};
use super::*;
use crate::app::App;
use crate::journal::ListFilter;

/// The auditor's page: the audit chain verified now (`Journal::verify`, as `senim
/// journal verify`), with its findings, the last head published to the auditors
/// (`journal.published_heads_file`), and the form that exports the Journal
/// without identity.
pub(super) async fn audit(State(app): State<Arc<App>>, session: Session<rule::Audit>) -> Response {
    audit_page(&app, &session, &ExportForm::default(), None).await
}

/// The auditor's page, the export form holding `form`'s dates; with `error`, a
/// 422 naming what is wrong with them.
async fn audit_page(
    app: &App,
    session: &LoggedIn,
    form: &ExportForm,
    error: Option<Msg>,
) -> Response {
    let lang = session.lang;
    let report = match app.journal.verify().await {
        Ok(r) => r,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let last_head = app
        .config
        .journal
        .published_heads_file
        .as_deref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        });
    let body = html! {
        h1 { (t(lang, Msg::Audit)) }
        @if report.is_intact() {
            p.notice role="status" {
                (t(lang, Msg::ChainIntact)) " " (report.appeals) " / " (report.events)
            }
        } @else {
            p.error role="alert" { (t(lang, Msg::ChainBroken)) }
            table {
                tbody {
                    @for f in &report.findings {
                        tr { td { (f.what) } td { (f.problem) } }
                    }
                }
            }
        }
        h2 { (t(lang, Msg::LastHead)) }
        @match &last_head {
            Some(head) => { pre.head { (head) } }
            None => { p.muted { (t(lang, Msg::NoHead)) } }
        }
        h2 { (t(lang, Msg::Export)) }
        form.card.export method="post" action="/console/audit/export" {
            p.muted { (t(lang, Msg::ExportHint)) }
            @if let Some(e) = error { p.error role="alert" { (t(lang, e)) } }
            input type="hidden" name="csrf" value=(session.csrf);
            fieldset.filters {
                legend { (t(lang, Msg::RegistrationDates)) }
                div { label for="export-from" { (t(lang, Msg::From)) } input #export-from type="date" name="from" value=[form.from.as_deref()]; }
                div { label for="export-to" { (t(lang, Msg::To)) } input #export-to type="date" name="to" value=[form.to.as_deref()]; }
                button type="submit" { (t(lang, Msg::DownloadCsv)) }
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, page(lang, t(lang, Msg::Audit), Some(session), body)).into_response()
}

#[derive(Default, Deserialize)]
pub(super) struct ExportForm {
    from: Option<String>,
    to: Option<String>,
}

/// An optional date of the form: `Ok(None)` when not given, `Err` when not a date.
fn date(value: &Option<String>) -> Result<Option<NaiveDate>, ()> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ()),
    }
}

/// The Journal without identity and text as CSV, for the auditor: the same
/// export as `senim journal export` (`journal::export::without_identity`), the
/// appeals registered between the optional dates, each recorded in the audit
/// chain as `exported` in the auditor's name before a byte is sent.
pub(super) async fn export(
    State(app): State<Arc<App>>,
    Posted { session, form }: Posted<rule::Audit, ExportForm>,
) -> Response {
    let (from, to) = match (date(&form.from), date(&form.to)) {
        (Ok(from), Ok(to)) if !matches!((from, to), (Some(f), Some(t)) if f > t) => (from, to),
        _ => return audit_page(&app, &session, &form, Some(Msg::BadDates)).await,
    };
    let filter = ListFilter {
        from,
        to,
        ..ListFilter::default()
    };
    let mut csv = Vec::new();
    let actor = session.actor();
    let count =
        match crate::journal::export::without_identity(&app.journal, &filter, &actor, &mut csv)
            .await
        {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "console: cannot export the Journal");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        };
    tracing::info!(
        appeals = count,
        actor,
        "console: the Journal exported without identity"
    );
    let tz = *app.config.calendar.timezone;
    let today = app.clock.now().with_timezone(&tz).date_naive();
    let disposition = format!("attachment; filename=\"journal-{today}.csv\"");
    let mut response = csv.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
