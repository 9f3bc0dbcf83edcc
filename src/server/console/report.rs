//! The report page for the manager, the Director and the auditor: the analysis
//! of a period's appeals (10.13) with its charts, the same figures as `senim
//! report` (`report::Report::compute`, drawn by `report::html::figures`), and
//! its downloads: the report as PDF, the figures as a workbook (XLSX) and as
//! CSV, the page as HTML, and the publication for the web site (4.7, `senim
//! report publish`) as CSV and XLSX. Counts and times only.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use maud::html;
use serde::Deserialize;

use super::i18n::{Msg, t};
use super::*;
use crate::app::App;
use crate::report::{Period, Report, ReportError};

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

/// The quarter of `today` and the three before it, oldest first, each named
/// as `--quarter` takes it (`2026-Q4`): the Director's quarterly report.
fn last_quarters(today: NaiveDate) -> Vec<(String, Period)> {
    let this = (today.year(), today.month0() / 3 + 1);
    let mut quarters: Vec<(String, Period)> = (0..4)
        .filter_map(|back| {
            let index = this.0 * 4 + this.1 as i32 - 1 - back;
            let name = format!("{}-Q{}", index.div_euclid(4), index.rem_euclid(4) + 1);
            Period::quarter(&name).ok().map(|p| (name, p))
        })
        .collect();
    quarters.reverse();
    quarters
}

/// A field of the query, if given (not blank).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The report of the period in the query: the form, the downloads and the figures.
pub(super) async fn report(
    State(app): State<Arc<App>>,
    Query(q): Query<PeriodQuery>,
    session: Session<rule::ReadReport>,
) -> Response {
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
        p.quarters #quarters {
            (t(lang, Msg::Quarters)) ": "
            @for (name, period) in last_quarters(today) {
                a href={ "/console/report?" (PeriodQuery::of(period)) } { (name) } " "
            }
        }
        @if let Some(e) = error {
            p.error role="alert" { (t(lang, e)) }
        }
        @if let Some(r) = &report {
            @let query = PeriodQuery::of(r.period);
            p.downloads {
                @for file in Download::ALL {
                    a href={ "/console/report/" (file.name()) "?" (query) } download { (t(lang, file.words())) }
                }
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

/// What the report page offers to download, each a file of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Download {
    /// The report for the Director, in the person's language.
    Pdf,
    /// The figures and the trend as a workbook, in the person's language.
    FiguresXlsx,
    FiguresCsv,
    /// The self-contained page, in the person's language.
    Html,
    /// For the web site: whole months, counts below 5 suppressed.
    PublicationCsv,
    PublicationXlsx,
}

/// A workbook's media type.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Download {
    const ALL: [Download; 6] = [
        Download::Pdf,
        Download::FiguresXlsx,
        Download::FiguresCsv,
        Download::Html,
        Download::PublicationCsv,
        Download::PublicationXlsx,
    ];

    /// The file's name in the route, and the end of the name it is saved as.
    fn name(self) -> &'static str {
        match self {
            Download::Pdf => "report.pdf",
            Download::FiguresXlsx => "figures.xlsx",
            Download::FiguresCsv => "figures.csv",
            Download::Html => "report.html",
            Download::PublicationCsv => "publication.csv",
            Download::PublicationXlsx => "publication.xlsx",
        }
    }

    fn of(name: &str) -> Option<Download> {
        Download::ALL.into_iter().find(|d| d.name() == name)
    }

    fn words(self) -> Msg {
        match self {
            Download::Pdf => Msg::DownloadPdf,
            Download::FiguresXlsx => Msg::DownloadWorkbook,
            Download::FiguresCsv => Msg::DownloadFigures,
            Download::Html => Msg::DownloadPage,
            Download::PublicationCsv => Msg::DownloadPublication,
            Download::PublicationXlsx => Msg::DownloadPublicationXlsx,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Download::Pdf => "application/pdf",
            Download::FiguresXlsx | Download::PublicationXlsx => XLSX,
            Download::FiguresCsv | Download::PublicationCsv => "text/csv; charset=utf-8",
            Download::Html => "text/html; charset=utf-8",
        }
    }

    /// The publication counts whole months only.
    fn period(self, asked: Period) -> Period {
        match self {
            Download::PublicationCsv | Download::PublicationXlsx => asked.whole_months(),
            _ => asked,
        }
    }

    /// The file's bytes; the error says what failed.
    fn render(self, report: &Report, lang: Lang, now: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match self {
            Download::Pdf => {
                bytes = crate::report::pdf::render(report, lang, now).map_err(anyhow::Error::msg)?
            }
            Download::FiguresXlsx => bytes = crate::report::xlsx::figures(report, lang)?,
            Download::FiguresCsv => crate::report::csv::figures(report, &mut bytes)?,
            Download::Html => bytes = crate::report::html::page(report, lang).into_bytes(),
            Download::PublicationCsv => {
                crate::report::csv::publication(&report.months, &mut bytes)?
            }
            Download::PublicationXlsx => bytes = crate::report::xlsx::publication(&report.months)?,
        }
        Ok(bytes)
    }
}

/// A download of the period's report (`Download`): for the same readers as the
/// page, as an attachment.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    Query(q): Query<PeriodQuery>,
    session: Session<rule::ReadReport>,
) -> Response {
    let today = app.today();
    let asked = match q.period(today) {
        Ok(p) => p,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    let Some(download) = Download::of(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let period = download.period(asked);
    let report = match Report::compute(&app.report_sources(), period, today).await {
        Ok(r) => r,
        Err(e) => return unavailable(&e),
    };
    let bytes = match download.render(&report, session.lang, app.clock.now()) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "console: cannot write the report");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    tracing::info!(
        actor = session.actor(),
        file,
        from = %period.from,
        to = %period.to,
        "console: report downloaded"
    );
    let name = format!("senim-{}-{}-{}", period.from, period.to, download.name());
    attachment(bytes, download.content_type(), &name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_offers_this_quarter_and_the_three_before() {
        let today = NaiveDate::from_ymd_opt(2026, 2, 10).unwrap_or_default();
        let quarters = last_quarters(today);
        let names: Vec<&str> = quarters.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]);
        let (_, q) = &quarters[2];
        assert_eq!(
            (q.from.to_string(), q.to.to_string()),
            ("2025-10-01".to_owned(), "2025-12-31".to_owned())
        );
    }
}
