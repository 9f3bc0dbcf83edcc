//! The documents on an appeal's page (`documents`): the ones the outgoing
//! register holds for it, each offered as DOCX and PDF; for the manager or the
//! Director once the Director has consented to send the report (10.7) and the
//! materials package is made, the button that makes the cover letter
//! (`documents::Documents::cover_letter`, the same call as `senim documents
//! cover-letter`); on a revealed appeal, the reply to the citizen and, while
//! its notice is owed, the notice that the reply is extended (the same calls
//! as `senim documents reply` and `extension-notice`), whose letters come back
//! as PDF, DOCX or both in a ZIP and are not kept. Downloads are addressed by
//! the register's row id, never by anything of the reporter, and are sent as
//! attachments.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::i18n::{Msg, local, t};
use super::*;
use crate::app::App;
use crate::deadlines::{Deadline, Kind};
use crate::documents::{DocumentError, DocumentKind, Format, Issued, ReplyInput, ReplyMethod};
use crate::journal::audit::EventRow;
use crate::journal::{Appeal, AppealId, Status};
use crate::server::problem::Problem;

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

/// The documents part of an appeal's page: the register's rows for it, the
/// cover letter's button (or what it waits for) and the package's.
pub(super) async fn documents_panel(
    app: &App,
    session: &LoggedIn,
    appeal: &Appeal,
    history: &[EventRow],
) -> Markup {
    let lang = session.lang;
    let issuer = session.may(Action::IssueDocuments);
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
    // The letter lists the materials package's pages: it waits for one.
    let packaged = crate::documents::package::last_package(history).is_some();
    let open = issuer && appeal.status != Status::Closed;
    let can_issue = open && consented && packaged;
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
            } @else if open && !consented {
                p.muted { (t(lang, Msg::CoverLetterNeedsConsent)) }
            } @else if open {
                p.muted #needs-package { (t(lang, Msg::CoverLetterNeedsPackage)) }
            }
            @if open {
                form.card #package method="post" action={ "/console/appeals/" (appeal.id) "/package" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    p { (t(lang, Msg::PackageExplained)) }
                    p.muted { (t(lang, Msg::PackageAtTheCommandLine)) " " code { "senim journal materials " (appeal.registration_number) " --zip FILE" } }
                    button type="submit" { (t(lang, Msg::MakePackage)) }
                }
            }
        }
    }
}

/// Makes the cover letter in the person's own name; the appeal's page again,
/// with its downloads, or with why it was refused.
pub(super) async fn cover_letter(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, .. }: Posted<rule::IssueDocuments>,
) -> Response {
    let by = match session.acting() {
        Ok(by) => by,
        Err(refusal) => return refusal.into_response(),
    };
    match app.documents().cover_letter(AppealId(id), &by).await {
        Ok(_) => Redirect::to(&format!(
            "/console/appeals/{id}?done={}#documents",
            crate::documents::ISSUED
        ))
        .into_response(),
        Err(e) => refusal(&app, &session, id, e).await,
    }
}

/// Makes the appeal's materials package (10.12, 7.8) in the person's own
/// name, opened with the office key given at the login, and hands it over
/// as the answer: it holds the reporter's identity, so it is made in memory
/// (`Documents::package_in_memory`) and never touches the disk. Its making is
/// a disclosure (`materials_package`) and a `document_issued` event naming its
/// SHA-256, recorded before it is handed over, as at the command line.
pub(super) async fn package(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, .. }: Posted<rule::IssueDocuments>,
) -> Answer {
    let appeal = super::appeal::disclosed(&app, &session, id, "materials_package").await?;
    let actor = session.actor();
    let keyless = crate::sealing::Unlocked::without_keys(&actor);
    let unlocked = session.office_key().map_or(&keyless, |k| k.as_ref());
    let name = format!("{}-materials.zip", appeal.registration_number);
    let made = app
        .documents()
        .package_in_memory(appeal, unlocked, &actor)
        .await;
    Ok(match made {
        Ok((_, bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/zip"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    super::materials::disposition("attachment", &name),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, appeal_id = id, "console: cannot make a materials package");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    })
}

/// Where earlier versions wrote a materials package while it was made (in
/// plain, inside the data directory): only emptied now.
fn packages_dir(app: &App) -> std::path::PathBuf {
    app.config.database.data_dir.join("console-packages")
}

/// Removes what a crash (`kill -9` while a package was made) left in
/// `packages_dir` under an earlier version: each package names the reporter
/// and is never kept.
pub(super) fn remove_unfinished_packages(app: &App) {
    let dir = packages_dir(app);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        if let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::error!(error = %e, "console: cannot remove an unfinished materials package");
        }
    }
}

/// A document refused (the appeal's page again, saying why), or failed (the
/// problem, logged by the one mapping).
async fn refusal(app: &App, session: &LoggedIn, id: i64, e: DocumentError) -> Response {
    match e {
        DocumentError::Journal(e) => Problem::from(e).into_response(),
        e => super::appeal::refused_with(app, session, id, e.into()).await,
    }
}

/// How a letter to the citizen comes back: it names the person, so it is not
/// kept, and the one answer must carry what the person needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LetterFormat {
    Pdf,
    Docx,
    /// Both, in one ZIP archive.
    Zip,
}

impl LetterFormat {
    fn parse(value: &str) -> Result<LetterFormat, &'static str> {
        match value {
            "" | "zip" => Ok(LetterFormat::Zip),
            "pdf" => Ok(LetterFormat::Pdf),
            "docx" => Ok(LetterFormat::Docx),
            _ => Err("format: pdf, docx or zip"),
        }
    }
}

/// The choice of the letter's format, on the reply's and the notice's forms.
fn format_choice(lang: super::i18n::Lang, id: &str) -> Markup {
    html! {
        label for=(id) { (t(lang, Msg::LetterFormat)) }
        select id=(id) name="format" {
            option value="zip" selected { (t(lang, Msg::FormatBoth)) }
            option value="pdf" { "PDF" }
            option value="docx" { "DOCX" }
        }
    }
}

/// The letters to the citizen, on the page of an appeal revealed (opened with
/// the session's key), for the manager or the Director: the reply until the
/// appeal is replied; the extension notice while its deadline is open (after
/// `reply_extended`), its date and reason taken from the extended reply
/// deadline.
pub(super) fn citizen_forms(session: &LoggedIn, appeal: &Appeal, deadlines: &[Deadline]) -> Markup {
    let lang = session.lang;
    if !session.may(Action::IssueDocuments) || appeal.status == Status::Closed {
        return html! {};
    }
    let notice_owed = deadlines
        .iter()
        .any(|d| d.kind == Kind::ExtensionNotice && d.is_open());
    let extended = deadlines
        .iter()
        .rev()
        .find(|d| d.kind == Kind::Reply && d.extended);
    html! {
        @if appeal.status != Status::Replied {
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
                (format_choice(lang, "reply-format"))
                p.muted { (t(lang, Msg::LetterNotKept)) }
                button type="submit" { (t(lang, Msg::SendReply)) }
            }
        }
        @if notice_owed {
            form.card #extension-notice method="post" action={ "/console/appeals/" (appeal.id) "/extension-notice" } {
                h2 { (t(lang, Msg::ExtensionNoticeHeading)) }
                input type="hidden" name="csrf" value=(session.csrf);
                label for="notice-until" { (t(lang, Msg::Until)) }
                input #notice-until type="date" name="until" required value=[extended.map(|d| d.due_on)];
                label for="notice-reason" { (t(lang, Msg::Reason)) }
                input #notice-reason type="text" name="reason" required value=[extended.and_then(|d| d.reason.as_deref())];
                (format_choice(lang, "notice-format"))
                p.muted { (t(lang, Msg::LetterNotKept)) }
                button type="submit" { (t(lang, Msg::MakeExtensionNotice)) }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ReplyForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    format: String,
}

/// What a letter's form asked for, once it `parsed` (else the page again,
/// naming the field), and the appeal opened with the session's key, the
/// disclosure recorded first (`purpose`); or the answer that refuses it.
async fn opened_for<T>(
    app: &App,
    session: &LoggedIn,
    id: i64,
    purpose: &str,
    parsed: Result<T, &'static str>,
) -> Result<(T, Appeal), Response> {
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(why) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Err(super::appeal::refused(app, session, id, why, status).await);
        }
    };
    let appeal = super::appeal::opened(app, session, id, purpose).await?;
    Ok((parsed, appeal))
}

/// A letter to the citizen as the answer, in `format`: an attachment, kept
/// nowhere. An e-mail reply has no letter: the page again.
fn letter_answer(id: i64, issued: Issued, format: LetterFormat) -> Response {
    let pick = |wanted: Format| issued.contents.iter().find(|(f, _)| f.format == wanted);
    let (name, media, bytes) = match format {
        LetterFormat::Pdf | LetterFormat::Docx => {
            let wanted = if format == LetterFormat::Pdf {
                Format::Pdf
            } else {
                Format::Docx
            };
            match pick(wanted) {
                Some((file, bytes)) => (file.name.clone(), wanted.media_type(), bytes.clone()),
                None => return done(id),
            }
        }
        LetterFormat::Zip => {
            let Some((first, _)) = issued.contents.first() else {
                return done(id);
            };
            let stem = first
                .name
                .rsplit_once('.')
                .map_or(first.name.as_str(), |(stem, _)| stem);
            let mut zip = crate::materials::ZipSink::new(std::io::Cursor::new(Vec::new()));
            let written = issued
                .contents
                .iter()
                .try_for_each(|(file, bytes)| {
                    crate::materials::Sink::put(&mut zip, &file.name, bytes)
                })
                .and_then(|()| zip.finish());
            match written {
                Ok(cursor) => (
                    format!("{stem}.zip"),
                    "application/zip",
                    cursor.into_inner(),
                ),
                Err(e) => {
                    tracing::error!(error = %e, "console: cannot pack a letter");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (
                header::CONTENT_DISPOSITION,
                super::materials::disposition("attachment", &name),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The appeal's page again, at its documents.
fn done(id: i64) -> Response {
    Redirect::to(&format!(
        "/console/appeals/{id}?done={}#documents",
        crate::documents::ISSUED
    ))
    .into_response()
}

/// Sends the reply in the person's own name (`documents::Documents::reply`, the
/// same call as `senim documents reply`): the appeal is opened with the
/// session's key (the disclosure recorded, purpose `reply`). By e-mail, the
/// page again; by post or by hand, the letter as an attachment in the format
/// chosen (PDF, DOCX or both in a ZIP), which is not kept.
pub(super) async fn reply(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::IssueDocuments, ReplyForm>,
) -> Answer {
    let parsed = form
        .method
        .parse::<ReplyMethod>()
        .map_err(|_| "method: email, post or by_hand")
        .and_then(|m| Ok((m, LetterFormat::parse(&form.format)?)));
    let ((method, format), appeal) = opened_for(&app, &session, id, "reply", parsed).await?;
    let by = session.acting()?;
    let input = ReplyInput {
        text: form.text,
        method,
        on: app.today(),
    };
    Ok(match app.documents().reply(&appeal, &input, &by).await {
        Ok(issued) => letter_answer(id, issued, format),
        Err(e) => refusal(&app, &session, id, e).await,
    })
}

#[derive(serde::Deserialize)]
pub(super) struct NoticeForm {
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    format: String,
}

/// Makes the notice that the reply is extended, in the person's own name
/// (`documents::Documents::extension_notice`, the same call as `senim
/// documents extension-notice`): the appeal opened with the session's key (the
/// disclosure recorded, purpose `extension_notice`), the `citizen_notified`
/// act recorded; the letter comes back as an attachment and is not kept.
pub(super) async fn extension_notice(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::IssueDocuments, NoticeForm>,
) -> Answer {
    let parsed = form
        .until
        .trim()
        .parse::<chrono::NaiveDate>()
        .map_err(|_| "until: not a date (YYYY-MM-DD)")
        .and_then(|until| Ok((until, LetterFormat::parse(&form.format)?)));
    let ((until, format), appeal) =
        opened_for(&app, &session, id, "extension_notice", parsed).await?;
    let by = session.acting()?;
    Ok(
        match app
            .documents()
            .extension_notice(&appeal, until, &form.reason, &by)
            .await
        {
            Ok(issued) => letter_answer(id, issued, format),
            Err(e) => refusal(&app, &session, id, e).await,
        },
    )
}

/// A registered document's file, as issued, as an attachment.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    Path((id, format)): Path<(i64, String)>,
    session: Session<rule::IssueDocuments>,
) -> Response {
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
        Err(e) => Problem::from(e).into_response(),
    }
}
