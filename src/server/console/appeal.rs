//! An appeal's page for the manager and the Director: what may be plain, the
//! suggestion, the history; the recorded reveal of identity and text; the
//! classification (`cases::classify`); on the revealed page, the recorded
//! correction of the details (`pbx::notes::correct_details`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::{Msg, local, t};
use super::*;
use crate::app::App;
use crate::journal::sealed::Confidential;
use crate::journal::{Appeal, AppealId};
use crate::pbx::notes::Correction;
use crate::server::problem::Problem;

#[derive(Deserialize)]
pub(super) struct AppealQuery {
    done: Option<String>,
}

pub(super) async fn appeal_page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(q): Query<AppealQuery>,
    session: Session<rule::ReadCases>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("classified") => Some(t(session.lang, Msg::Classified)),
        Some("corrected") => Some(t(session.lang, Msg::Corrected)),
        Some(_) => Some(t(session.lang, Msg::Recorded)),
        None => None,
    };
    appeal_view(&app, &session, id, None, notice, StatusCode::OK, None).await
}

/// An appeal's page: what may be plain, the suggestion, the history; with
/// `revealed`, the reporter and the text too (after the disclosure is recorded);
/// with `correcting`, the correction form holding what was typed and the field
/// refused instead of the current values.
pub(super) async fn appeal_view(
    app: &App,
    session: &LoggedIn,
    id: i64,
    revealed: Option<Appeal>,
    notice: Option<&str>,
    status: StatusCode,
    correcting: Option<(&CorrectForm, Option<&str>)>,
) -> Response {
    let lang = session.lang;
    let appeal = match app.journal.get(AppealId(id)).await {
        Ok(a) => a,
        Err(e) => return Problem::from(e).into_response(),
    };
    let history = match app.journal.history(appeal.id).await {
        Ok(h) => h,
        Err(e) => return Problem::from(e).into_response(),
    };
    let deadlines = match app.deadlines.of_appeal(appeal.id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot read an appeal's deadlines");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // The reasons of its acts: sealed ones opened only once the appeal is
    // revealed (a recorded disclosure), with the key given at the login.
    let key = revealed
        .as_ref()
        .and_then(|_| session.office_key())
        .map(|k| k.as_ref());
    let reasons = match app.journal.reasons(appeal.id, key).await {
        Ok(r) => r,
        Err(e) => return Problem::from(e).into_response(),
    };
    let (sealed_word, destroyed_word) = (t(lang, Msg::ReasonSealed), t(lang, Msg::ReasonDestroyed));
    let tz = *app.config.calendar.timezone;
    let suggestion = crate::triage::suggestion_for(&appeal);
    let materials = match &revealed {
        Some(_) => Some(super::materials::render(app, session, &appeal).await),
        None => None,
    };
    let body = html! {
        h1 { (appeal.registration_number) }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        table {
            tbody {
                tr { th { (t(lang, Msg::Received)) } td { (local(appeal.received_at, tz)) } }
                tr { th { (t(lang, Msg::Registered)) } td { (appeal.registration_date.format("%d.%m.%Y")) } }
                tr { th { (t(lang, Msg::Channel)) } td { (appeal.channel) } }
                tr { th { (t(lang, Msg::Category)) } td { (appeal.category) } }
                tr { th { (t(lang, Msg::Status)) } td { (appeal.status) } }
                tr { th { (t(lang, Msg::Flags)) } td {
                    @if appeal.anonymous { (t(lang, Msg::Anonymous)) " " }
                    @if appeal.no_return_address { (t(lang, Msg::NoReturn)) }
                } }
                tr { th { (t(lang, Msg::Suggestion)) } td { (suggestion.describe()) } }
            }
        }
        @match &revealed {
            Some(open) => {
                fieldset {
                    legend { (t(lang, Msg::Caller)) " · " (t(lang, Msg::StateSecret)) }
                    dl {
                        @for (label, value) in [
                            (Msg::FullName, &open.reporter.name),
                            (Msg::Organisation, &open.reporter.organisation),
                            (Msg::PostalAddress, &open.reporter.postal_address),
                            (Msg::Phone, &open.reporter.phone),
                            (Msg::Email, &open.reporter.email),
                        ] {
                            @if let Some(v) = value { dt { (t(lang, label)) } dd { (v) } }
                        }
                    }
                    @if let Some(subject) = &open.subject { p { strong { (subject) } } }
                    @if let Some(text) = &open.substance { p.substance { (text) } }
                }
                @if session.may(Action::CorrectDetails) {
                    @match correcting {
                        Some((form, bad)) => (correct_form(session, &appeal, form, bad)),
                        None => (correct_form(session, &appeal, &CorrectForm::of(open), None)),
                    }
                }
                @if let Some(materials) = &materials { (materials) }
                (super::documents::citizen_forms(session, &appeal, &deadlines))
            }
            None => {
                form method="post" action={ "/console/appeals/" (appeal.id) "/reveal" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { (t(lang, Msg::Reveal)) }
                    span.muted { " " (t(lang, Msg::RevealRecorded)) }
                }
            }
        }
        @if session.may(Action::Classify) && appeal.category == crate::journal::Category::Unclassified {
            form.card method="post" action={ "/console/appeals/" (appeal.id) "/classify" } {
                h2 { (t(lang, Msg::Classify)) }
                input type="hidden" name="csrf" value=(session.csrf);
                label for="category" { (t(lang, Msg::Category)) }
                select #category name="category" required {
                    @for c in ["corruption", "not_corruption", "criminal_offence"] {
                        option value=(c) { (c) }
                    }
                }
                label for="reason" { (t(lang, Msg::Reason)) }
                input #reason type="text" name="reason" required;
                button type="submit" { (t(lang, Msg::Classify)) }
            }
        }
        (super::case::case_acts(app, session, &appeal, &deadlines, &history, &reasons))
        (super::documents::documents_panel(app, session, &appeal, &history).await)
        h2 { (t(lang, Msg::History)) }
        table #history {
            tbody {
                @for e in &history {
                    tr {
                        td { (local(e.at, tz)) } td { (e.kind) } td { (e.actor) }
                        td.detail { @if e.detail != "{}" && e.detail != "null" { (reasons.shown_text(&e.detail, sealed_word, destroyed_word)) } }
                    }
                }
            }
        }
    };
    (
        status,
        page(
            lang,
            &appeal.registration_number.to_string(),
            Some(session),
            body,
        ),
    )
        .into_response()
}

/// The appeal's page again, with what was refused and why.
pub(super) async fn refused(
    app: &App,
    session: &LoggedIn,
    id: i64,
    why: &str,
    status: StatusCode,
) -> Response {
    appeal_view(app, session, id, None, Some(why), status, None).await
}

/// A domain error of a form on the appeal's page, as the one mapping
/// (`server::problem`) words it: what the person can mend (a 4xx) on the page
/// again, saying why (422: the form refused); anything else as the problem.
pub(super) async fn refused_with(
    app: &App,
    session: &LoggedIn,
    id: i64,
    problem: Problem,
) -> Response {
    if problem.status().is_client_error() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        refused(app, session, id, problem.detail(), status).await
    } else {
        problem.into_response()
    }
}

/// The reporter and the text, shown on a click that the Journal records
/// (`identity_disclosed`, purpose `console`); a sealed appeal opens with the key
/// the person unlocked at the login.
pub(super) async fn reveal(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, .. }: Posted<rule::Reveal>,
) -> Answer {
    let open = opened(&app, &session, id, "console").await?;
    Ok(appeal_view(&app, &session, id, Some(open), None, StatusCode::OK, None).await)
}

/// Appeal `id` for a read of its identity or text: refused (the page saying
/// to log in with the key) if it is sealed and the session holds no office
/// key, else the read recorded (`identity_disclosed`, `purpose`). Not opened:
/// `opened` opens it.
pub(super) async fn disclosed(
    app: &App,
    session: &LoggedIn,
    id: i64,
    purpose: &str,
) -> Result<Appeal, Response> {
    let appeal = app
        .journal
        .get(AppealId(id))
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    if appeal.sealed.is_some() && session.office_key().is_none() {
        let notice = t(session.lang, Msg::NeedsKey);
        return Err(refused(app, session, id, notice, StatusCode::FORBIDDEN).await);
    }
    let by = crate::rulebook::acting::<rule::Reveal>(&session.roles, session.actor())
        .map_err(|_| super::access::forbidden(session).into_response())?;
    app.journal
        .record_disclosure(&[appeal.id], &by, purpose)
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    Ok(appeal)
}

/// `disclosed`, then opened with the session's office key (as stored if it
/// was never sealed).
pub(super) async fn opened(
    app: &App,
    session: &LoggedIn,
    id: i64,
    purpose: &str,
) -> Result<Appeal, Response> {
    let appeal = disclosed(app, session, id, purpose).await?;
    match session.office_key() {
        Some(unlocked) => app.journal.open(appeal, unlocked).await,
        None => Ok(appeal),
    }
    .map_err(|e| Problem::from(e).into_response())
}

#[derive(Deserialize)]
pub(super) struct ClassifyForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    reason: String,
}

/// The manager's classification: `cases::classify`, the same as the CLI's and the
/// API's (the alerts it causes go out through the outbox).
pub(super) async fn classify(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::Classify, ClassifyForm>,
) -> Response {
    let lang = session.lang;
    let by = match session.acting() {
        Ok(by) => by,
        Err(refusal) => return refusal.into_response(),
    };
    let Ok(category) = form.category.parse::<crate::journal::Category>() else {
        let notice = t(lang, Msg::BadForm);
        return refused(&app, &session, id, notice, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match app
        .case()
        .classify(
            AppealId(id),
            category,
            &form.reason,
            &by,
            app.clock.now(),
            app.today(),
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/console/appeals/{id}?done=classified")).into_response(),
        Err(crate::cases::ClassifyError::Journal(e)) => Problem::from(e).into_response(),
        Err(e) => refused_with(&app, &session, id, e.into()).await,
    }
}

crate::appeal_details! {
    ;
    /// The correction form: the current values (or what was typed), the reason. A
    /// field not posted is not corrected.
    #[derive(Default, Deserialize)]
    pub(super) struct CorrectForm {
        #[serde(default)]
        pub reason: String,
    }
}

impl CorrectForm {
    /// The form holding an opened appeal's current values.
    fn of(open: &Appeal) -> Self {
        crate::move_details!(Confidential::every_field_of(open) => Self { reason: String::new() })
    }

    /// The correction of the fields posted that differ from `open`'s (trimmed).
    fn changes(&self, open: &Appeal) -> Correction {
        let current = Self::of(open);
        let changed = |typed: &Option<String>, now: &Option<String>| {
            let typed = typed.as_deref()?.trim();
            (typed != now.as_deref().unwrap_or_default().trim()).then(|| typed.to_owned())
        };
        crate::zip_details!(self, current, changed => Correction {
            reason: self.reason.clone(),
        })
    }
}

fn correct_form(
    session: &LoggedIn,
    appeal: &Appeal,
    form: &CorrectForm,
    bad: Option<&str>,
) -> maud::Markup {
    let lang = session.lang;
    let field = |id: &'static str, label: Msg, value: &Option<String>| {
        let value = value.as_deref().unwrap_or_default();
        let error = bad.filter(|b| *b == id).and_then(|b| match b {
            "reason" => Some(t(lang, Msg::CorrectReasonRequired)),
            other => super::operator::field_error(lang, other),
        });
        // The ids are the form's own (`correct-…`): the page has other forms.
        super::operator::labelled_input(lang, "correct-", id, label, value, "text", error)
    };
    html! {
        form.card #correct method="post" action={ "/console/appeals/" (appeal.id) "/correct" } {
            h2 { (t(lang, Msg::Correct)) }
            p.muted { (t(lang, Msg::CorrectHelp)) }
            input type="hidden" name="csrf" value=(session.csrf);
            (field("name", Msg::FullName, &form.name))
            (field("organisation", Msg::Organisation, &form.organisation))
            (field("postal_address", Msg::PostalAddress, &form.postal_address))
            (field("phone", Msg::Phone, &form.phone))
            (field("email", Msg::Email, &form.email))
            (field("subject", Msg::Subject, &form.subject))
            label for="correct-substance" { (t(lang, Msg::Substance)) }
            textarea #correct-substance name="substance" { (form.substance.as_deref().unwrap_or_default()) }
            (field("reason", Msg::CorrectReason, &Some(form.reason.clone())))
            button type="submit" { (t(lang, Msg::Correct)) }
        }
    }
}

/// A manager's or the Director's correction from the revealed page: the appeal
/// opened again (a recorded read) to see which fields changed, then
/// `pbx::notes::correct_details`. Refused, the revealed page again with what
/// was typed and the error beside its field.
pub(super) async fn correct(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::CorrectDetails, CorrectForm>,
) -> Answer {
    let lang = session.lang;
    let open = opened(&app, &session, id, "correction").await?;
    let again = |open: Appeal, notice: &'static str, bad: Option<&'static str>| {
        let app = &app;
        let session = &session;
        let form = &form;
        async move {
            let bad_field = bad;
            appeal_view(
                app,
                session,
                id,
                Some(open),
                Some(notice),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((form, bad_field)),
            )
            .await
        }
    };
    if form.reason.trim().is_empty() {
        return Ok(again(open, t(lang, Msg::CorrectReasonRequired), Some("reason")).await);
    }
    let correction = form.changes(&open);
    if correction.name.is_none()
        && correction.organisation.is_none()
        && correction.postal_address.is_none()
        && correction.phone.is_none()
        && correction.email.is_none()
        && correction.subject.is_none()
        && correction.substance.is_none()
    {
        return Ok(again(open, t(lang, Msg::CorrectNothing), None).await);
    }
    let key = crate::journal::AppealKey::Id(AppealId(id));
    Ok(
        match crate::pbx::notes::correct_details(&app.journal, &key, correction, &session.actor())
            .await
        {
            Ok(_) => Redirect::to(&format!("/console/appeals/{id}?done=corrected")).into_response(),
            Err(crate::pbx::PbxError::Refused { field, .. })
                if field == "phone" || field == "email" =>
            {
                let bad = if field == "phone" { "phone" } else { "email" };
                again(open, t(lang, Msg::FieldsRefused), Some(bad)).await
            }
            Err(e) => Problem::from(e).into_response(),
        },
    )
}
