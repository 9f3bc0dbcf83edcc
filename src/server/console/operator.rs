//! The operator's pages: the live queue of answered calls awaiting notes (server-sent
//! events) and the guided clause-10.5 form, saved through
//! `pbx::notes::record_operator_notes`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::{Lang, Msg, local, t};
use super::session::Sessions;
use super::*;
use crate::app::App;
use crate::journal::{Appeal, AppealId, AppealKey, Channel, ListFilter, ScriptPoint, Status};
use crate::pbx::error::PbxError;

/// The queue's live updates: the one script of the console, a module of its own.
const QUEUE_JS: &str = include_str!("queue.js");

/// How long one event stream lasts before the browser opens the next (so a
/// shutdown never waits long for it).
const STREAM_SECONDS: u32 = 25;

pub(super) async fn queue_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        QUEUE_JS,
    )
        .into_response()
}

/// The phone appeals awaiting the operator's notes, oldest first.
pub(super) async fn awaiting_notes(app: &App) -> Result<Vec<Appeal>, crate::journal::JournalError> {
    app.journal
        .list(&ListFilter {
            channel: Some(Channel::Phone),
            status: Some(Status::AwaitingOperatorNotes),
            limit: Some(200),
            ..ListFilter::default()
        })
        .await
}

/// The queue as the page's script redraws it: id, number, received (Astana).
pub(super) async fn queue_json(app: &App) -> Option<String> {
    let tz = *app.config.calendar.timezone;
    let appeals = awaiting_notes(app).await.ok()?;
    let rows: Vec<serde_json::Value> = appeals
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a.id,
                "number": a.registration_number,
                "received": local(a.received_at, tz),
            })
        })
        .collect();
    serde_json::to_string(&rows).ok()
}

/// The operator's queue, live: an event each time it changes (checked every
/// second), for `STREAM_SECONDS`; the browser then opens the next stream. Ends
/// with the session; does not renew it.
pub(super) async fn queue_events(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    _session: Session<rule::OperatorQueue>,
) -> Response {
    use axum::response::sse::{Event, Sse};
    let Some(id) = cookie(&headers, COOKIE).map(str::to_owned) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let state = (app, sessions, id, 0u32, None::<String>);
    let stream = futures_util::stream::unfold(state, |(app, sessions, id, n, last)| async move {
        if n >= STREAM_SECONDS {
            return None;
        }
        if n > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        if !sessions.alive(&id, app.clock.now()) {
            return None;
        }
        let data = queue_json(&app).await?;
        let event = if last.as_deref() == Some(data.as_str()) {
            Event::default().comment("")
        } else {
            Event::default()
                .event("queue")
                .retry(std::time::Duration::from_secs(1))
                .data(&data)
        };
        Some((
            Ok::<_, std::convert::Infallible>(event),
            (app, sessions, id, n + 1, Some(data)),
        ))
    });
    Sse::new(stream).into_response()
}

/// The operator's queue: phone appeals awaiting their notes, oldest first.
pub(super) async fn queue(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
    session: Session<rule::OperatorQueue>,
) -> Response {
    let lang = session.lang;
    let appeals = match awaiting_notes(&app).await {
        Ok(a) => a,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let tz = *app.config.calendar.timezone;
    let body = html! {
        h1 { (t(lang, Msg::Queue)) }
        @if q.contains_key("saved") { p.notice role="status" { (t(lang, Msg::NotesSaved)) } }
        p #queue-empty .muted hidden[!appeals.is_empty()] { (t(lang, Msg::NoCalls)) }
        table #queue hidden[appeals.is_empty()] data-record=(t(lang, Msg::RecordNotes)) data-new=(t(lang, Msg::NewCall)) {
            thead { tr { th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Received)) } th {} } }
            tbody #queue-rows {
                @for a in &appeals {
                    tr data-id=(a.id) {
                        td { (a.registration_number) }
                        td { (local(a.received_at, tz)) }
                        td { a href={ "/console/appeals/" (a.id) "/notes" } { (t(lang, Msg::RecordNotes)) } }
                    }
                }
            }
        }
        p.muted { button #notify.link type="button" hidden { (t(lang, Msg::EnableNotifications)) } }
        script type="module" src="/console/static/queue.js" {}
    };
    page(lang, t(lang, Msg::Queue), Some(&session), body).into_response()
}

/// The phone appeal the operator may complete, or the page saying it is not.
pub(super) async fn awaiting(app: &App, session: &LoggedIn, id: i64) -> Result<Appeal, Refusal> {
    let lang = session.lang;
    let not_awaiting = || {
        (
            StatusCode::CONFLICT,
            page(
                lang,
                t(lang, Msg::NotAwaiting),
                Some(session),
                html! {
                    p.error { (t(lang, Msg::NotAwaiting)) }
                    p { a href="/console/queue" { (t(lang, Msg::Queue)) } }
                },
            ),
        )
            .into_response()
    };
    match app.journal.get(AppealId(id)).await {
        Ok(a) if a.channel == Channel::Phone && a.status == Status::AwaitingOperatorNotes => Ok(a),
        Ok(_) | Err(crate::journal::JournalError::NotFound(_)) => Err(not_awaiting().into()),
        Err(e) => Err(crate::server::problem::Problem::from(e)
            .into_response()
            .into()),
    }
}

/// What the operator typed, echoed back when the form is refused.
#[derive(Default, Deserialize)]
pub(super) struct NotesForm {
    #[serde(default)]
    surname: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    patronymic: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    postal_address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    substance: String,
    script_own_name: Option<String>,
    script_scope: Option<String>,
    script_secret: Option<String>,
    script_liability: Option<String>,
}

impl NotesForm {
    /// The points of the script ticked as said.
    fn said(&self) -> Vec<ScriptPoint> {
        [
            (&self.script_own_name, ScriptPoint::OwnNameAndPosition),
            (&self.script_scope, ScriptPoint::LineScope),
            (&self.script_secret, ScriptPoint::StateSecretWarning),
            (&self.script_liability, ScriptPoint::DisclosureLiability),
        ]
        .into_iter()
        .filter_map(|(ticked, point)| ticked.is_some().then_some(point))
        .collect()
    }
}

/// The words for a refused field of the notes or a correction (`phone`,
/// `email`), shown next to it.
pub(super) fn field_error(lang: Lang, field: &str) -> Option<&'static str> {
    match field {
        "phone" => Some(t(lang, Msg::BadPhone)),
        "email" => Some(t(lang, Msg::BadEmail)),
        _ => None,
    }
}

/// One labelled input named `name` (its id `prefix` + `name`), with the error
/// about it (if any) beside it.
pub(super) fn labelled_input(
    lang: Lang,
    prefix: &str,
    name: &'static str,
    label: Msg,
    value: &str,
    kind: &'static str,
    error: Option<&str>,
) -> Markup {
    let id = format!("{prefix}{name}");
    let described = error.map(|_| format!("{id}-error"));
    html! {
        div {
            label for=(id) { (t(lang, label)) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described.as_deref()];
            @if let Some(e) = error { p.error id={ (id) "-error" } role="alert" { (e) } }
        }
    }
}

fn notes_view(
    lang: Lang,
    session: &LoggedIn,
    appeal: &Appeal,
    form: &NotesForm,
    tz: chrono_tz::Tz,
    error: Option<&str>,
    bad_field: Option<&str>,
) -> Markup {
    let field = |id: &'static str, label: Msg, value: &str, kind: &'static str| {
        let error = bad_field
            .filter(|f| *f == id)
            .and_then(|f| field_error(lang, f));
        labelled_input(lang, "", id, label, value, kind, error)
    };
    // Refused for the script: each point not ticked is marked.
    let script_refused = bad_field == Some("script");
    let point = |name: &'static str, text: Msg, ticked: bool| {
        let unsaid = script_refused && !ticked;
        html! {
            label.error[unsaid] {
                input type="checkbox" name=(name) value="said" checked[ticked]
                    aria-invalid=[unsaid.then_some("true")];
                span { (t(lang, text)) }
            }
        }
    };
    let body = html! {
        h1 { (appeal.registration_number) " · " (local(appeal.received_at, tz)) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.card method="post" action={ "/console/appeals/" (appeal.id) "/notes" } {
            input type="hidden" name="csrf" value=(session.csrf);
            fieldset.script {
                legend { (t(lang, Msg::ScriptHeading)) }
                (point("script_own_name", Msg::ScriptOwnName, form.script_own_name.is_some()))
                (point("script_scope", Msg::ScriptScope, form.script_scope.is_some()))
                (point("script_secret", Msg::ScriptSecret, form.script_secret.is_some()))
                (point("script_liability", Msg::ScriptLiability, form.script_liability.is_some()))
            }
            fieldset {
                legend { (t(lang, Msg::Caller)) }
                div.grid {
                    (field("surname", Msg::Surname, &form.surname, "text"))
                    (field("given_name", Msg::GivenName, &form.given_name, "text"))
                    (field("patronymic", Msg::Patronymic, &form.patronymic, "text"))
                }
                div.grid2 {
                    (field("organisation", Msg::Organisation, &form.organisation, "text"))
                    (field("postal_address", Msg::PostalAddress, &form.postal_address, "text"))
                    (field("phone", Msg::Phone, &form.phone, "tel"))
                    (field("email", Msg::Email, &form.email, "text"))
                }
                label for="substance" { (t(lang, Msg::Substance)) }
                textarea #substance name="substance" required { (form.substance) }
            }
            button type="submit" { (t(lang, Msg::Save)) }
        }
    };
    page(lang, t(lang, Msg::RecordNotes), Some(session), body)
}

pub(super) async fn notes_page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    session: Session<rule::OperatorQueue>,
) -> Answer {
    let appeal = awaiting(&app, &session, id).await?;
    let tz = *app.config.calendar.timezone;
    Ok(notes_view(
        session.lang,
        &session,
        &appeal,
        &NotesForm::default(),
        tz,
        None,
        None,
    )
    .into_response())
}

fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

pub(super) async fn save_notes(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::OperatorQueue, NotesForm>,
) -> Answer {
    let appeal = awaiting(&app, &session, id).await?;
    let lang = session.lang;
    let tz = *app.config.calendar.timezone;
    // The form again, everything typed in it, saying why (beside `bad`).
    let again = |status: StatusCode, why: Msg, bad: Option<&str>| {
        let notice = Some(t(lang, why));
        let view = notes_view(lang, &session, &appeal, &form, tz, notice, bad);
        (status, view).into_response()
    };
    let said = form.said();
    let unsaid = !ScriptPoint::missing_from(&said).is_empty();
    if unsaid || given(&form.substance).is_none() {
        let bad = unsaid.then_some("script");
        return Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            Msg::ScriptRequired,
            bad,
        ));
    }
    let name = [&form.surname, &form.given_name, &form.patronymic]
        .iter()
        .filter_map(|p| given(p))
        .collect::<Vec<_>>()
        .join(" ");
    let notes = crate::pbx::notes::OperatorNotes {
        name: given(&name),
        organisation: given(&form.organisation),
        postal_address: given(&form.postal_address),
        phone: given(&form.phone),
        email: given(&form.email),
        subject: None,
        substance: given(&form.substance),
        script: said,
    };
    let key = AppealKey::Id(appeal.id);
    let actor = session.actor();
    Ok(
        match crate::pbx::notes::record_operator_notes(&app.journal, &key, notes, &actor).await {
            Ok(_) => Redirect::to("/console/queue?saved=1").into_response(),
            Err(PbxError::Journal(crate::journal::JournalError::NotAllowed(_))) => {
                again(StatusCode::CONFLICT, Msg::NotAwaiting, None)
            }
            // A phone or an e-mail address that cannot be used: the form
            // again, the error beside the field.
            Err(PbxError::Refused { field, .. }) if field_error(lang, &field).is_some() => again(
                StatusCode::UNPROCESSABLE_ENTITY,
                Msg::FieldsRefused,
                Some(&field),
            ),
            Err(e) => crate::server::problem::Problem::from(e).into_response(),
        },
    )
}
