//! The deadline board for the manager and the Director: open deadlines
//! overdue, due today, and due within three working days (the same lists as
//! the manager's 09:00 digest, `Deadlines::board`), each linking to its appeal.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::i18n::{Msg, t};
use super::*;
use crate::app::App;
use crate::journal::AppealId;

pub(super) async fn board(
    State(app): State<Arc<App>>,
    session: Session<rule::ReadCases>,
) -> Response {
    let lang = session.lang;
    let today = app.today();
    let board = match app.deadlines.board(today).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot read the deadlines");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut numbers: HashMap<AppealId, String> = HashMap::new();
    for d in board.overdue.iter().chain(&board.today).chain(&board.soon) {
        if let std::collections::hash_map::Entry::Vacant(entry) = numbers.entry(d.appeal_id) {
            match app.journal.get(d.appeal_id).await {
                Ok(a) => {
                    entry.insert(a.registration_number.to_string());
                }
                Err(e) => return crate::server::problem::Problem::from(e).into_response(),
            }
        }
    }
    let body = html! {
        h1 { (t(lang, Msg::Deadlines)) " · " (today.format("%d.%m.%Y")) }
        @for (id, title, list) in [
            ("overdue", Msg::Overdue, &board.overdue),
            ("due-today", Msg::DueToday, &board.today),
            ("due-soon", Msg::DueSoon, &board.soon),
        ] {
            section id=(id) {
                h2 { (t(lang, title)) " · " (list.len()) }
                @if list.is_empty() {
                    p.muted { (t(lang, Msg::NoDeadlines)) }
                } @else {
                    table {
                        thead { tr {
                            th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Kind)) } th { (t(lang, Msg::Due)) }
                        } }
                        tbody {
                            @for d in list {
                                tr.overdue[d.due_on < today] {
                                    td { a href={ "/console/appeals/" (d.appeal_id) } { (numbers.get(&d.appeal_id).map_or("?", String::as_str)) } }
                                    td { (super::case::kind_words(lang, d.kind)) }
                                    td {
                                        (d.due_on.format("%d.%m.%Y"))
                                        @if d.extended { " · " (t(lang, Msg::Extended)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t(lang, Msg::Deadlines), Some(&session), body).into_response()
}
