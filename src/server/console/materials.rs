//! An appeal's case materials on its page, for the manager and the Director once
//! they have revealed it (the recorded click, `appeal::reveal`): the mail thread
//! oldest first (date, sender, subject, what each mail was, its text), each
//! mail's attachments, and, for a phone appeal, each call's numbers and its
//! recording's player.
//!
//! The downloads (`raw_mail`, `attachment`, `recording`) are GETs for readers
//! only. Their URLs name the appeal's id, a mail's database id and positions,
//! never a name, a file name or a text. Each checks that what it names belongs
//! to the appeal (404 otherwise), refuses a sealed item to a session without the
//! office key (403, "log in with your key"), records the disclosure in the audit
//! chain (`Journal::record_disclosure`, purpose `console: raw mail`,
//! `console: attachment` or `console: recording`) and only then answers. What
//! came from outside is never rendered by the browser: raw mail is
//! `message/rfc822` and attachments `application/octet-stream`, both as
//! `Content-Disposition: attachment`; a recording is played inline only when its
//! first bytes say it is audio. A store's failure is logged by its kind alone
//! (an error's text may quote what it failed on) and answers 503.

use std::io::Read;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::i18n::{Lang, Msg, local, t};
use super::session::LoggedIn;
use super::{Answer, Refusal, Session, page, rule};
use crate::app::App;
use crate::journal::{Appeal, AppealId, JournalError};
use crate::mailbox::store::{self as mail, AttachmentInfo, MessageFields, MessagePk};
use crate::pbx::PbxError;
use crate::pbx::store::CallNumbers;
use crate::sealing::Unlocked;

/// Why the materials cannot be read now; logged by `kind` only.
enum Failure {
    Journal(JournalError),
    Mail(mail::StoreError),
    Database(sqlx::Error),
    Pbx(PbxError),
    Recording(crate::pbx::recordings::RecordingError),
    Blocking,
}

impl Failure {
    fn kind(&self) -> &'static str {
        use crate::pbx::recordings::RecordingError;
        match self {
            Failure::Journal(JournalError::Unavailable(_)) => "database unavailable",
            Failure::Journal(JournalError::Sealing(_)) => "sealing",
            Failure::Journal(_) => "journal",
            Failure::Mail(mail::StoreError::Database(e))
            | Failure::Pbx(PbxError::Database(e))
            | Failure::Recording(RecordingError::Database(e))
            | Failure::Database(e) => {
                if crate::db::is_unavailable(e) {
                    "database unavailable"
                } else {
                    "database"
                }
            }
            Failure::Mail(mail::StoreError::Sealing(_))
            | Failure::Pbx(PbxError::Seal(_))
            | Failure::Recording(RecordingError::Seal(_)) => "sealing",
            Failure::Mail(_) => "mail store",
            Failure::Pbx(_) => "call log",
            Failure::Recording(RecordingError::Io(_)) => "recording file",
            Failure::Recording(_) => "recording",
            Failure::Blocking => "reading task",
        }
    }

    fn log(&self, appeal: i64, what: &str) {
        tracing::error!(
            appeal,
            what,
            kind = self.kind(),
            "the appeal's materials cannot be read"
        );
    }
}

impl From<JournalError> for Failure {
    fn from(e: JournalError) -> Self {
        Failure::Journal(e)
    }
}
impl From<mail::StoreError> for Failure {
    fn from(e: mail::StoreError) -> Self {
        Failure::Mail(e)
    }
}
impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Database(e)
    }
}
impl From<PbxError> for Failure {
    fn from(e: PbxError) -> Self {
        Failure::Pbx(e)
    }
}
impl From<crate::pbx::recordings::RecordingError> for Failure {
    fn from(e: crate::pbx::recordings::RecordingError) -> Self {
        Failure::Recording(e)
    }
}

/// The key a session reads with: the office key it unlocked at the login, or
/// none, for what was stored plain.
fn key_of(session: &LoggedIn) -> Arc<Unlocked> {
    session
        .office_key()
        .cloned()
        .unwrap_or_else(|| Arc::new(Unlocked::without_keys(&session.actor())))
}

/// An item as the page can show it.
enum Shown<T> {
    Open(T),
    /// Sealed, and the session holds no key.
    NeedsKey,
}

/// One mail of the thread, opened.
struct Mail {
    info: mail::ThreadMessage,
    content: Shown<(MessageFields, Vec<AttachmentInfo>)>,
}

/// One call of the appeal, opened.
struct Call {
    numbers: Shown<Option<CallNumbers>>,
    /// `None`: no recording stored; `Some(false)`: sealed, no key.
    recording: Option<bool>,
}

/// The materials part of a revealed appeal's page. The disclosure of the page
/// itself is the reveal's; each download records its own.
pub(super) async fn render(app: &App, session: &LoggedIn, appeal: &Appeal) -> Markup {
    let lang = session.lang;
    match read(app, session, appeal.id).await {
        Ok((mails, calls)) => materials_list(app, lang, appeal, &mails, &calls),
        Err(e) => {
            e.log(appeal.id.0, "page");
            html! {
                section.materials {
                    h2 { (t(lang, Msg::Materials)) }
                    p.error role="alert" { (t(lang, Msg::Unavailable)) }
                }
            }
        }
    }
}

async fn read(
    app: &App,
    session: &LoggedIn,
    id: AppealId,
) -> Result<(Vec<Mail>, Vec<Call>), Failure> {
    let db = &app.db;
    let key = key_of(session);
    let keyless = session.office_key().is_none();
    let mut mails = Vec::new();
    for info in mail::thread_of(db, id).await? {
        let pk = MessagePk(info.id);
        let content = if info.generation.is_some() && keyless {
            Shown::NeedsKey
        } else {
            let fields = mail::fields(db, pk, &key).await?.unwrap_or_default();
            Shown::Open((fields, mail::attachment_list(db, pk, &key).await?))
        };
        mails.push(Mail { info, content });
    }
    let mut calls = Vec::new();
    for (source, call_id, _) in crate::pbx::store::calls_of(db, id).await? {
        let numbers = match crate::pbx::store::call_numbers(db, &key, &source, &call_id).await {
            Ok(numbers) => Shown::Open(numbers),
            Err(PbxError::Seal(_)) if keyless => Shown::NeedsKey,
            Err(e) => return Err(e.into()),
        };
        let recording = crate::pbx::store::stored_recording(db, &source, &call_id)
            .await?
            .map(|(_, generation)| generation.is_none() || !keyless);
        calls.push(Call { numbers, recording });
    }
    Ok((mails, calls))
}

/// The materials as the page lists them: the mail thread, then the calls.
fn materials_list(
    app: &App,
    lang: Lang,
    appeal: &Appeal,
    mails: &[Mail],
    calls: &[Call],
) -> Markup {
    let tz = *app.config.calendar.timezone;
    let base = format!("/console/appeals/{}", appeal.id);
    let needs_key = html! { p.muted { (t(lang, Msg::SealedNeedsKey)) } };
    html! {
        section.materials {
            h2 { (t(lang, Msg::Materials)) }
            p.muted { (t(lang, Msg::DownloadsRecorded)) }
            @if !mails.is_empty() {
                h3 { (t(lang, Msg::Correspondence)) }
                @for (n, m) in mails.iter().enumerate() {
                    article.card.mail {
                        h4 {
                            (t(lang, Msg::Mail)) " " (n + 1) " · "
                            @if m.info.disposition == "appeal" {
                                (t(lang, Msg::MailFirst))
                            } @else {
                                (t(lang, Msg::MailLater))
                            }
                        }
                        dl.meta {
                            dt { (t(lang, Msg::Received)) } dd { (local(m.info.received_at, tz)) }
                            @if let Shown::Open((fields, _)) = &m.content {
                                dt { (t(lang, Msg::Sender)) }
                                dd {
                                    @if let Some(name) = &fields.from_name { (name) " " }
                                    @if let Some(address) = &fields.from_address { "<" (address) ">" }
                                }
                                dt { (t(lang, Msg::Subject)) }
                                dd { (fields.subject.as_deref().unwrap_or("—")) }
                            }
                            dt { (t(lang, Msg::Size)) } dd { (size(m.info.size)) }
                        }
                        @match &m.content {
                            Shown::NeedsKey => { (needs_key) }
                            Shown::Open((fields, attachments)) => {
                                @match &fields.body_text {
                                    Some(text) => { pre.mail-text { (text) } }
                                    None => { p.muted { (t(lang, Msg::NoText)) } }
                                }
                                @if !attachments.is_empty() {
                                    table.attachments {
                                        caption { (t(lang, Msg::Attachments)) }
                                        thead { tr {
                                            th { (t(lang, Msg::FileName)) }
                                            th { (t(lang, Msg::FileType)) }
                                            th { (t(lang, Msg::Size)) }
                                            th {}
                                        } }
                                        tbody {
                                            @for (k, a) in attachments.iter().enumerate() {
                                                tr {
                                                    td { (a.filename.as_deref().unwrap_or("—")) }
                                                    td { (a.content_type) }
                                                    td { (size(a.size)) }
                                                    td {
                                                        @if a.destroyed {
                                                            span.muted { (t(lang, Msg::Destroyed)) }
                                                        } @else {
                                                            a href={ (base) "/mail/" (m.info.id) "/attachments/" (k + 1) } {
                                                                (t(lang, Msg::Download))
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                                p {
                                    @if m.info.destroyed {
                                        span.muted { (t(lang, Msg::Destroyed)) }
                                    } @else {
                                        a href={ (base) "/mail/" (m.info.id) "/raw" } { (t(lang, Msg::RawMail)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !calls.is_empty() {
                h3 { (t(lang, Msg::Calls)) }
                @for (n, c) in calls.iter().enumerate() {
                    article.card.call {
                        h4 { (t(lang, Msg::Call)) " " (n + 1) }
                        @match &c.numbers {
                            Shown::NeedsKey => { (needs_key) }
                            Shown::Open(numbers) => {
                                @let numbers = numbers.clone().unwrap_or_default();
                                dl.meta {
                                    dt { (t(lang, Msg::CallerNumber)) }
                                    dd {
                                        (numbers.caller.as_deref().unwrap_or("—"))
                                        @if let Some(raw) = numbers.caller_raw.as_deref().filter(|r| Some(*r) != numbers.caller.as_deref()) {
                                            span.muted { " (" (raw) ")" }
                                        }
                                    }
                                    dt { (t(lang, Msg::CalledNumber)) }
                                    dd { (numbers.called.as_deref().unwrap_or("—")) }
                                    dt { (t(lang, Msg::Extension)) }
                                    dd { (numbers.extension.as_deref().unwrap_or("—")) }
                                }
                            }
                        }
                        @let src = format!("{base}/calls/{}/recording", n + 1);
                        @match c.recording {
                            None => { p.muted { (t(lang, Msg::NoRecording)) } }
                            Some(false) => { p { (t(lang, Msg::Recording)) ": " } (needs_key) }
                            Some(true) => {
                                p.recording {
                                    span { (t(lang, Msg::Recording)) }
                                    // Nothing is fetched (and recorded) until the reader plays it.
                                    audio controls preload="none" src=(src) {
                                        a href=(src) { (t(lang, Msg::DownloadRecording)) }
                                    }
                                    a href=(src) download { (t(lang, Msg::DownloadRecording)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A size as people read it.
fn size(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KB", b / KIB)
    } else {
        format!("{:.1} MB", b / (KIB * KIB))
    }
}

/// A page given instead of a download.
fn refusal(session: &LoggedIn, status: StatusCode, msg: Msg) -> Response {
    let lang = session.lang;
    let view = page(
        lang,
        t(lang, msg),
        Some(session),
        html! { p.error role="alert" { (t(lang, msg)) } },
    );
    (status, view).into_response()
}

fn not_found(session: &LoggedIn) -> Response {
    refusal(session, StatusCode::NOT_FOUND, Msg::NotFound)
}

fn needs_key(session: &LoggedIn) -> Response {
    refusal(session, StatusCode::FORBIDDEN, Msg::NeedsKey)
}

fn unavailable(session: &LoggedIn, failure: Failure, appeal: i64, what: &str) -> Response {
    failure.log(appeal, what);
    refusal(session, StatusCode::SERVICE_UNAVAILABLE, Msg::Unavailable)
}

/// The appeal a download names, or the page to answer with.
async fn appeal_of(app: &App, session: &LoggedIn, id: i64, what: &str) -> Result<Appeal, Refusal> {
    match app.journal.get(AppealId(id)).await {
        Ok(appeal) => Ok(appeal),
        Err(JournalError::NotFound(_)) => Err(not_found(session).into()),
        Err(e) => Err(unavailable(session, e.into(), id, what).into()),
    }
}

/// The mail `mail` (a database id) of the appeal, with its place in the thread
/// (1 for the first), if it is one of the appeal's and its bytes are still kept;
/// refused while sealed and the session holds no key.
async fn mail_of(
    app: &App,
    session: &LoggedIn,
    appeal: &Appeal,
    mail_id: i64,
    what: &str,
) -> Result<(usize, mail::ThreadMessage), Refusal> {
    let thread = mail::thread_of(&app.db, appeal.id)
        .await
        .map_err(|e| Refusal::from(unavailable(session, e.into(), appeal.id.0, what)))?;
    let Some((n, m)) = thread
        .into_iter()
        .enumerate()
        .find(|(_, m)| m.id == mail_id)
    else {
        return Err(not_found(session).into());
    };
    if m.destroyed {
        return Err(not_found(session).into());
    }
    if m.generation.is_some() && session.office_key().is_none() {
        return Err(needs_key(session).into());
    }
    Ok((n + 1, m))
}

/// Records the disclosure of `appeal`'s materials (`purpose`) before they leave.
async fn record(
    app: &App,
    session: &LoggedIn,
    appeal: &Appeal,
    purpose: &str,
) -> Result<(), Refusal> {
    let by = crate::rulebook::acting::<rule::Reveal>(&session.roles, session.actor())
        .map_err(|_| super::access::forbidden(session))?;
    app.journal
        .record_disclosure(&[appeal.id], &by, purpose)
        .await
        .map_err(|e| unavailable(session, e.into(), appeal.id.0, purpose).into())
}

/// `Content-Disposition` for a name that is safe already (`materials::safe_name`):
/// an ASCII fallback and the UTF-8 name (RFC 6266).
pub(super) fn disposition(kind: &'static str, name: &str) -> HeaderValue {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let ascii: String = name
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if plain(char::from(b)) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(kind))
}

fn download(content_type: &'static str, disposition: HeaderValue, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// A mail of the appeal as it was received (`.eml`).
pub(super) async fn raw_mail(
    State(app): State<Arc<App>>,
    Path((id, mail_id)): Path<(i64, i64)>,
    session: Session<rule::Reveal>,
) -> Answer {
    const WHAT: &str = "console: raw mail";
    let appeal = appeal_of(&app, &session, id, WHAT).await?;
    let (n, m) = mail_of(&app, &session, &appeal, mail_id, WHAT).await?;
    record(&app, &session, &appeal, WHAT).await?;
    Ok(
        match mail::raw_unlocked(&app.db, MessagePk(m.id), &key_of(&session)).await {
            Ok(Some(raw)) if !raw.is_empty() => {
                let name = format!("{}-mail-{n}.eml", appeal.registration_number);
                download(
                    "message/rfc822",
                    disposition("attachment", &crate::materials::safe_name(&name)),
                    raw,
                )
            }
            Ok(_) => not_found(&session),
            Err(e) => unavailable(&session, e.into(), id, WHAT),
        },
    )
}

/// The attachment at position `k` (1 for the first) of a mail of the appeal.
pub(super) async fn attachment(
    State(app): State<Arc<App>>,
    Path((id, mail_id, k)): Path<(i64, i64, i64)>,
    session: Session<rule::Reveal>,
) -> Answer {
    const WHAT: &str = "console: attachment";
    let appeal = appeal_of(&app, &session, id, WHAT).await?;
    let (_, m) = mail_of(&app, &session, &appeal, mail_id, WHAT).await?;
    let pk = MessagePk(m.id);
    let key = key_of(&session);
    let listed = mail::attachment_list(&app.db, pk, &key)
        .await
        .map_err(|e| unavailable(&session, e.into(), id, WHAT))?;
    let index = k - 1;
    match usize::try_from(index).ok().and_then(|i| listed.get(i)) {
        Some(a) if !a.destroyed => {}
        _ => return Ok(not_found(&session)),
    }
    record(&app, &session, &appeal, WHAT).await?;
    Ok(match mail::attachment_at(&app.db, pk, index, &key).await {
        Ok(Some(a)) => {
            let name = crate::materials::safe_name(a.filename.as_deref().unwrap_or("attachment"));
            // Never rendered by the browser, whatever the mail said it was.
            download(
                "application/octet-stream",
                disposition("attachment", &name),
                a.content,
            )
        }
        Ok(None) => not_found(&session),
        Err(e) => unavailable(&session, e.into(), id, WHAT),
    })
}

/// The recording of the appeal's call at position `n` (1 for the first), for
/// the page's player and for download.
pub(super) async fn recording(
    State(app): State<Arc<App>>,
    Path((id, n)): Path<(i64, i64)>,
    session: Session<rule::Reveal>,
) -> Answer {
    const WHAT: &str = "console: recording";
    let failed = |failure: Failure| Refusal::from(unavailable(&session, failure, id, WHAT));
    let appeal = appeal_of(&app, &session, id, WHAT).await?;
    let calls = crate::pbx::store::calls_of(&app.db, appeal.id)
        .await
        .map_err(|e| failed(e.into()))?;
    let Some((source, call_id, _)) = usize::try_from(n - 1).ok().and_then(|i| calls.get(i)) else {
        return Ok(not_found(&session));
    };
    match crate::pbx::store::stored_recording(&app.db, source, call_id).await {
        Ok(None) => return Ok(not_found(&session)),
        Ok(Some((_, Some(_)))) if session.office_key().is_none() => return Ok(needs_key(&session)),
        Ok(Some(_)) => {}
        Err(e) => return Err(failed(e.into())),
    }
    record(&app, &session, &appeal, WHAT).await?;
    let reader = app
        .pbx
        .open_recording(&key_of(&session), source, call_id)
        .await
        .map_err(|e| failed(e.into()))?;
    let read = tokio::task::spawn_blocking(move || {
        let (mut reader, mut bytes) = (reader, Vec::new());
        reader.read_to_end(&mut bytes).map(|_| bytes)
    })
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(failed(Failure::Recording(e.into()))),
        Err(_) => return Err(failed(Failure::Blocking)),
    };
    let stem = format!("{}-call-{n}", appeal.registration_number);
    Ok(match audio_type(&bytes) {
        Some((content_type, extension)) => download(
            content_type,
            disposition("inline", &format!("{stem}.{extension}")),
            bytes,
        ),
        // Not audio that a browser knows: a file to save, never shown.
        None => download(
            "application/octet-stream",
            disposition("attachment", &format!("{stem}.audio")),
            bytes,
        ),
    })
}

/// The audio type a recording's first bytes say, with its file extension.
fn audio_type(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE".as_slice()) {
        Some(("audio/wav", "wav"))
    } else if head.starts_with(b"OggS") {
        Some(("audio/ogg", "ogg"))
    } else if head.starts_with(b"fLaC") {
        Some(("audio/flac", "flac"))
    } else if head.starts_with(b"ID3")
        || (head.len() > 1 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
    {
        Some(("audio/mpeg", "mp3"))
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(("audio/webm", "webm"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_typed_by_their_first_bytes() {
        assert_eq!(
            audio_type(b"RIFF\x24\0\0\0WAVEfmt "),
            Some(("audio/wav", "wav"))
        );
        assert_eq!(audio_type(b"ID3\x04"), Some(("audio/mpeg", "mp3")));
        assert_eq!(audio_type(b"OggS\0"), Some(("audio/ogg", "ogg")));
        assert_eq!(audio_type(b"<html><script>"), None);
        assert_eq!(audio_type(b""), None);
    }

    #[test]
    fn download_names_are_quoted_safely() {
        let name = crate::materials::safe_name("akt \"1\"; x=.pdf");
        assert_eq!(
            disposition("attachment", &name),
            "attachment; filename=\"akt__1___x_.pdf\"; filename*=UTF-8''akt__1___x_.pdf"
        );
        assert_eq!(
            disposition("attachment", &crate::materials::safe_name("акт.pdf")),
            "attachment; filename=\"___.pdf\"; filename*=UTF-8''%D0%B0%D0%BA%D1%82.pdf"
        );
    }
}
