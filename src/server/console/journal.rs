//! The Journal page for the manager, the Director and the auditor: no identity, no
//! text, with filters, search by number and pages.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::{Msg, local, t};
use super::*;
use crate::app::App;
use crate::journal::{AppealId, AppealKey, ListFilter};

/// How many appeals a Journal page shows.
const PAGE: u32 = 50;

/// The Journal's filters, from the page's query.
#[derive(Default, Deserialize)]
pub(super) struct JournalQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    category: Option<String>,
    status: Option<String>,
    number: Option<String>,
    /// Only appeals with a deadline past due (`Deadlines::board`).
    overdue: Option<String>,
    page: Option<u32>,
}

/// The Journal for the manager, the Director and the auditor: no identity and no
/// text, newest first, with filters and pages.
pub(super) async fn journal(
    State(app): State<Arc<App>>,
    Query(q): Query<JournalQuery>,
    session: Session<rule::ReadJournal>,
) -> Response {
    let lang = session.lang;
    // A number links to the appeal's page for whom it would let in.
    let readers = session.may(Action::ReadCases);
    let page_no = q.page.unwrap_or(0).min(100_000);
    let appeals = match parsed::<AppealKey>(&q.number) {
        Some(key) => match app.journal.find(&key).await {
            Ok(a) => Ok(vec![a]),
            Err(crate::journal::JournalError::NotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        },
        None => {
            let overdue = if q.overdue.as_deref().is_some_and(|v| !v.is_empty()) {
                match app.deadlines.board(app.today()).await {
                    Ok(board) => {
                        let mut ids: Vec<AppealId> =
                            board.overdue.iter().map(|d| d.appeal_id).collect();
                        ids.sort();
                        ids.dedup();
                        Some(ids)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "console: cannot read the deadlines");
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                }
            } else {
                None
            };
            let filter = ListFilter {
                from: parsed(&q.from),
                to: parsed(&q.to),
                channel: parsed(&q.channel),
                category: parsed(&q.category),
                status: parsed(&q.status),
                limit: Some(PAGE + 1),
                offset: Some(page_no * PAGE),
                newest_first: true,
                ids: overdue,
            };
            app.journal.list(&filter).await
        }
    };
    let mut appeals = match appeals {
        Ok(a) => a,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let more = appeals.len() > PAGE as usize;
    appeals.truncate(PAGE as usize);
    let tz = *app.config.calendar.timezone;
    let select =
        |name: &'static str, label: Msg, options: Vec<&'static str>, chosen: &Option<String>| {
            html! {
                div {
                    label for=(name) { (t(lang, label)) }
                    select id=(name) name=(name) {
                        option value="" { (t(lang, Msg::Any)) }
                        @for o in options {
                            option value=(o) selected[chosen.as_deref() == Some(o)] { (o) }
                        }
                    }
                }
            }
        };
    let query_for = |page: u32| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("from", &q.from),
            ("to", &q.to),
            ("channel", &q.channel),
            ("category", &q.category),
            ("status", &q.status),
            ("overdue", &q.overdue),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                pairs.push((k, v.to_owned()));
            }
        }
        pairs.push(("page", page.to_string()));
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    };
    let body = html! {
        h1 { (t(lang, Msg::Journal)) }
        form.filters method="get" action="/console/journal" {
            div { label for="number" { (t(lang, Msg::Number)) } input #number type="text" name="number" value=[q.number.as_deref()] placeholder="TL-2026-000001"; }
            div { label for="from" { (t(lang, Msg::From)) } input #from type="date" name="from" value=[q.from.as_deref()]; }
            div { label for="to" { (t(lang, Msg::To)) } input #to type="date" name="to" value=[q.to.as_deref()]; }
            (select("channel", Msg::Channel, vec!["phone", "email", "web", "other"], &q.channel))
            (select("category", Msg::Category, vec!["unclassified", "corruption", "not_corruption", "criminal_offence"], &q.category))
            (select("status", Msg::Status, crate::journal::Status::ALL.iter().map(|s| s.as_str()).collect(), &q.status))
            div.check {
                label {
                    input #overdue type="checkbox" name="overdue" value="1" checked[q.overdue.as_deref().is_some_and(|v| !v.is_empty())];
                    " " (t(lang, Msg::Overdue))
                }
            }
            button type="submit" { (t(lang, Msg::Show)) }
        }
        @if appeals.is_empty() {
            p.muted { (t(lang, Msg::NoAppeals)) }
        } @else {
            table {
                thead { tr {
                    th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Registered)) } th { (t(lang, Msg::Received)) }
                    th { (t(lang, Msg::Channel)) } th { (t(lang, Msg::Category)) } th { (t(lang, Msg::Status)) } th { (t(lang, Msg::Flags)) }
                } }
                tbody {
                    @for a in &appeals {
                        tr {
                            td {
                                @if readers {
                                    a href={ "/console/appeals/" (a.id) } { (a.registration_number) }
                                } @else {
                                    (a.registration_number)
                                }
                            }
                            td { (a.registration_date.format("%d.%m.%Y")) }
                            td { (local(a.received_at, tz)) }
                            td { (a.channel) }
                            td { (a.category) }
                            td { (a.status) }
                            td {
                                @if a.anonymous { (t(lang, Msg::Anonymous)) " " }
                                @if a.no_return_address { (t(lang, Msg::NoReturn)) }
                            }
                        }
                    }
                }
            }
        }
        div.pager {
            @if page_no > 0 { a href={ "/console/journal?" (query_for(page_no - 1)) } { "← " (t(lang, Msg::Previous)) } }
            @if more { a href={ "/console/journal?" (query_for(page_no + 1)) } { (t(lang, Msg::Next)) " →" } }
        }
    };
    page(lang, t(lang, Msg::Journal), Some(&session), body).into_response()
}
