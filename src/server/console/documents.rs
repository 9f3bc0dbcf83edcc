//! The documents on an appeal's page (`documents`): the ones the outgoing
//! register holds for it, each offered as DOCX and PDF; and, for the manager or
//! the Director once the Director has consented to send the report (10.7), the
//! button that makes the cover letter (`documents::Documents::cover_letter`,
//! the same call as `senim documents cover-letter`). Downloads are addressed by
//! the register's row id, never by anything of the reporter, and are sent as
//! attachments.

use std::sync::Arc;

use axum::extract::{Extension, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::i18n::{Msg, local, t};
use super::session::{Session, Sessions};
use super::*;
use crate::app::App;
use crate::documents::{DocumentError, DocumentKind, Format, ISSUERS, ReplyInput, ReplyMethod};
use crate::journal::{Appeal, AppealId, Status};

fn kind_words(lang: super::i18n::Lang, kind: DocumentKind) -> &'static str {
    t(
        lang,
        match kind {
            DocumentKind::CoverLetter => Msg::KindCoverLetter,
            DocumentKind::Reply => Msg::KindReply,
            DocumentKind::ExtensionNotice => Msg::KindExtensionNotice,
        },
    )
}

/// The documents section of an appeal's page.
pub(super) async fn section(app: &App, session: &Session, appeal: &Appeal) -> Markup {
    let lang = session.lang;
    let issuer = ISSUERS.iter().any(|r| session.has(*r));
    let entries = match app.documents().list(Some(appeal.id), None).await {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot read the outgoing register");
            return html! { p.error { (t(lang, Msg::Unavailable)) } };
        }
    };
    let tz = *app.config.calendar.timezone;
    // The Director's last word on sending the report, as the letter checks it.
    let consented = crate::cases::acts::require_consent(&app.journal, appeal.id)
        .await
        .is_ok();
    let can_issue = issuer && appeal.status != Status::Closed && consented;
    html! {
        section #documents {
            h2 { (t(lang, Msg::DocumentsHeading)) }
            @if entries.is_empty() {
                p.muted { (t(lang, Msg::NoDocuments)) }
            } @else {
                table #register {
                    thead { tr {
                        th { (t(lang, Msg::OutgoingNumber)) } th { (t(lang, Msg::Kind)) }
                        th { (t(lang, Msg::Issued)) } th { (t(lang, Msg::Recipient)) } th { (t(lang, Msg::Files)) }
                    } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td { strong { (e.number) } }
                                td { (kind_words(lang, e.kind)) }
                                td { (local(e.issued_at, tz)) " · " (e.created_by) }
                                td { (e.recipient) }
                                td {
                                    @for f in &e.files {
                                        a href={ "/console/documents/" (e.id) "/" (f.format) } download {
                                            (f.format.as_str().to_uppercase())
                                        }
                                        span.muted.hash title=(f.sha256) { " SHA-256 " (&f.sha256[..12.min(f.sha256.len())]) "… " }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if can_issue {
                form.card #cover-letter method="post" action={ "/console/appeals/" (appeal.id) "/cover-letter" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    p { (t(lang, Msg::CoverLetterExplained)) }
                    button type="submit" { (t(lang, Msg::GenerateCoverLetter)) }
                }
            } @else if issuer && appeal.status != Status::Closed {
                p.muted { (t(lang, Msg::CoverLetterNeedsConsent)) }
            }
        }
    }
}

/// Makes the cover letter in the person's own name; the appeal's page again,
/// with its downloads, or with why it was refused.
pub(super) async fn cover_letter(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = or_refuse!(require_post(
        &app,
        &sessions,
        &headers,
        ISSUERS,
        form.csrf.as_deref()
    ));
    match app
        .documents()
        .cover_letter(AppealId(id), &session.actor())
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/console/appeals/{id}?done={}#documents",
            crate::documents::ISSUED
        ))
        .into_response(),
        Err(DocumentError::Refused(why)) => {
            super::appeal::refused(&app, &session, id, &why, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(DocumentError::Journal(e)) => crate::server::problem::Problem::from(e).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console: cannot make the cover letter");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The reply form, on the page of an appeal revealed (opened with the
/// session's key): for the manager or the Director, until it is replied.
pub(super) fn reply_form(session: &Session, appeal: &Appeal) -> Markup {
    let lang = session.lang;
    let open = !matches!(appeal.status, Status::Closed | Status::Replied);
    if !ISSUERS.iter().any(|r| session.has(*r)) || !open {
        return html! {};
    }
    html! {
        form.card #reply method="post" action={ "/console/appeals/" (appeal.id) "/reply" } {
            h2 { (t(lang, Msg::ReplyHeading)) }
            input type="hidden" name="csrf" value=(session.csrf);
            label for="reply-text" { (t(lang, Msg::ReplyText)) }
            textarea #reply-text name="text" rows="8" required {}
            label for="reply-method" { (t(lang, Msg::ReplyMethod)) }
            select #reply-method name="method" required {
                option value="email" { (t(lang, Msg::MethodEmail)) }
                option value="post" { (t(lang, Msg::MethodPost)) }
                option value="by_hand" { (t(lang, Msg::MethodByHand)) }
            }
            button type="submit" { (t(lang, Msg::SendReply)) }
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ReplyForm {
    csrf: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    method: String,
}

/// Sends the reply in the person's own name (`documents::Documents::reply`, the
/// same call as `senim documents reply`): the appeal is opened with the
/// session's key (the disclosure recorded, purpose `reply`). By e-mail, the
/// page again; by post or by hand, the letter's PDF as an attachment, which is
/// not kept.
pub(super) async fn reply(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Response {
    let session = or_refuse!(require_post(
        &app,
        &sessions,
        &headers,
        ISSUERS,
        form.csrf.as_deref()
    ));
    let Ok(method) = form.method.parse::<ReplyMethod>() else {
        let why = "method: email, post or by_hand";
        return super::appeal::refused(&app, &session, id, why, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    let appeal = match app.journal.get(AppealId(id)).await {
        Ok(a) => a,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    if appeal.sealed.is_some() && session.office_key().is_none() {
        let notice = t(session.lang, Msg::NeedsKey);
        return super::appeal::refused(&app, &session, id, notice, StatusCode::FORBIDDEN).await;
    }
    if let Err(e) = app
        .journal
        .record_disclosure(&[appeal.id], &session.actor(), "reply")
        .await
    {
        return crate::server::problem::Problem::from(e).into_response();
    }
    let opened = match session.office_key() {
        Some(unlocked) => app.journal.open(appeal, unlocked).await,
        None => Ok(appeal),
    };
    let appeal = match opened {
        Ok(a) => a,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let input = ReplyInput {
        text: form.text,
        method,
        on: app.today(),
    };
    match app
        .documents()
        .reply(&appeal, &input, &session.actor())
        .await
    {
        Ok(issued) => match issued
            .contents
            .into_iter()
            .find(|(f, _)| f.format == Format::Pdf)
        {
            Some((file, bytes)) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(Format::Pdf.media_type()),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        super::materials::disposition("attachment", &file.name),
                    ),
                ],
                bytes,
            )
                .into_response(),
            None => Redirect::to(&format!(
                "/console/appeals/{id}?done={}#documents",
                crate::documents::ISSUED
            ))
            .into_response(),
        },
        Err(DocumentError::Refused(why)) => {
            super::appeal::refused(&app, &session, id, &why, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(DocumentError::Journal(e)) => crate::server::problem::Problem::from(e).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console: cannot send the reply");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A registered document's file, as issued, as an attachment.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path((id, format)): Path<(i64, String)>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, ISSUERS));
    let not_found = || {
        let lang = session.lang;
        let view = page(
            lang,
            t(lang, Msg::NotFound),
            Some(&session),
            html! { p.error { (t(lang, Msg::NotFound)) } },
        );
        (StatusCode::NOT_FOUND, view).into_response()
    };
    let Ok(format) = format.parse::<Format>() else {
        return not_found();
    };
    match app.documents().file(id, format).await {
        Ok((_, file, bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(format.media_type()),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    super::materials::disposition("attachment", &file.name),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(DocumentError::NotFound(_)) => not_found(),
        Err(DocumentError::Journal(e)) => crate::server::problem::Problem::from(e).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console: cannot read a document");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
