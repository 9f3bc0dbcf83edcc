//! The report page for the manager, the Director and the auditor: the analysis
//! of a period's appeals (10.13) with its charts, the same figures as `senim
//! report` (`report::Report::compute`, drawn by `report::html::figures`), and
//! its downloads: the figures as CSV, the page as HTML, and the publication for
//! the web site (4.7, `senim report publish`). Counts and times only.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use maud::html;
use serde::Deserialize;

use super::i18n::{Msg, t};
use super::session::Sessions;
use super::*;
use crate::app::App;
use crate::report::{Period, Report, ReportError};

/// Who sees the report.
const READERS: &[Role] = &[Role::Manager, Role::Director, Role::Auditor];

/// The period of the page's query.
#[derive(Default, Deserialize)]
pub(super) struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

impl PeriodQuery {
    /// The period asked for; without dates, this year up to today.
    fn period(&self, today: NaiveDate) -> Result<Period, ReportError> {
        match (given(&self.from), given(&self.to)) {
            (None, None) => {
                let from = today.with_ordinal(1).unwrap_or(today);
                Period::new(from, today)
            }
            (from, to) => Period::parse(from.unwrap_or_default(), to.unwrap_or_default()),
        }
    }

    /// The query string that asks for `period` again.
    fn of(period: Period) -> String {
        serde_urlencoded::to_string([
            ("from", period.from.to_string()),
            ("to", period.to.to_string()),
        ])
        .unwrap_or_default()
    }
}

/// A field of the query, if given (not blank).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The report of the period in the query: the form, the downloads and the figures.
pub(super) async fn report(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, READERS));
    let lang = session.lang;
    let today = app.today();
    let (period, error) = match q.period(today) {
        Ok(p) => (Some(p), None),
        Err(ReportError::TooLong(_)) => (None, Some(Msg::ReportTooLong)),
        Err(_) => (None, Some(Msg::BadDates)),
    };
    let report = match period {
        Some(p) => match Report::compute(&app.report_sources(), p, today).await {
            Ok(r) => Some(r),
            Err(e) => return unavailable(&e),
        },
        None => None,
    };
    let (from, to) = match &report {
        Some(r) => (
            Some(r.period.from.to_string()),
            Some(r.period.to.to_string()),
        ),
        None => (q.from.clone(), q.to.clone()),
    };
    let body = html! {
        h1 { (t(lang, Msg::ReportHeading)) }
        form.filters method="get" action="/console/report" {
            div { label for="from" { (t(lang, Msg::From)) } input #from type="date" name="from" value=[from.as_deref()] required; }
            div { label for="to" { (t(lang, Msg::To)) } input #to type="date" name="to" value=[to.as_deref()] required; }
            span.muted { (t(lang, Msg::ReportPeriod)) }
            button type="submit" { (t(lang, Msg::Show)) }
        }
        @if let Some(e) = error {
            p.error role="alert" { (t(lang, e)) }
        }
        @if let Some(r) = &report {
            @let query = PeriodQuery::of(r.period);
            p.downloads {
                a href={ "/console/report/figures.csv?" (query) } download { (t(lang, Msg::DownloadFigures)) }
                a href={ "/console/report/report.html?" (query) } download { (t(lang, Msg::DownloadPage)) }
                a href={ "/console/report/publication.csv?" (query) } download { (t(lang, Msg::DownloadPublication)) }
            }
            (crate::report::html::figures(r, lang))
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        page(lang, t(lang, Msg::Report), Some(&session), body),
    )
        .into_response()
}

/// A download of the period's report: `figures.csv`, `report.html` or
/// `publication.csv` (whole months, counts below 5 suppressed).
pub(super) async fn download(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, READERS));
    let today = app.today();
    let asked = match q.period(today) {
        Ok(p) => p,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    let period = match file.as_str() {
        "publication.csv" => asked.whole_months(),
        "figures.csv" | "report.html" => asked,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let report = match Report::compute(&app.report_sources(), period, today).await {
        Ok(r) => r,
        Err(e) => return unavailable(&e),
    };
    let mut bytes = Vec::new();
    let (written, content_type) = match file.as_str() {
        "publication.csv" => (
            crate::report::csv::publication(&report.months, &mut bytes),
            "text/csv; charset=utf-8",
        ),
        "figures.csv" => (
            crate::report::csv::figures(&report, &mut bytes),
            "text/csv; charset=utf-8",
        ),
        _ => {
            bytes = crate::report::html::page(&report, session.lang).into_bytes();
            (Ok(()), "text/html; charset=utf-8")
        }
    };
    if let Err(e) = written {
        tracing::error!(error = %format!("{e:#}"), "console: cannot write the report");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    tracing::info!(
        actor = session.actor(),
        file,
        from = %period.from,
        to = %period.to,
        "console: report downloaded"
    );
    let name = format!("senim-{}-{}-{}", period.from, period.to, file);
    attachment(bytes, content_type, &name)
}

/// `bytes` as a file to save, never shown in the console's frame.
fn attachment(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The report cannot be made now (the database): logged, 503.
fn unavailable(e: &ReportError) -> Response {
    tracing::error!(error = %e, "console: cannot make the report");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}
