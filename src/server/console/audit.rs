//! The auditor's page: the chain verified now and the last published head.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::i18n::{Msg, t};
use super::session::Sessions;
use super::*;
use crate::app::App;

/// The auditor's page: the audit chain verified now (`Journal::verify`, as `senim
/// journal verify`), with its findings, and the last head published to the
/// auditors (`journal.published_heads_file`).
pub(super) async fn audit(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, &[Role::Auditor]));
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
    };
    page(lang, t(lang, Msg::Audit), Some(&session), body).into_response()
}
