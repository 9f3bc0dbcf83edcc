//! The console: the browser workplace of the line's people, served by the daemon
//! under `/console`. Server-rendered HTML (maud), one embedded style sheet, no
//! script: every flow works with forms alone.
//!
//! - `session`: sessions in memory, their cookie, idle and absolute limits, CSRF
//!   tokens, failed logins and the lockout.
//! - `i18n`: the words in Kazakh, Russian and English; Astana time.
//! - here: the routes, the pages, and the headers every answer carries (CSP with
//!   no script at all, `frame-ancestors 'none'`, `Cache-Control: no-store`).
//!
//! Each action calls the same function as the CLI and the API (one write path):
//! the operator's notes are `pbx::notes::record_operator_notes`.

pub mod i18n;
pub mod session;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::app::App;
use crate::journal::{Appeal, AppealId, AppealKey, Channel, ListFilter, ScriptPoint, Status};
use crate::persons::Role;
use crate::tokens::tokens_equal;
use i18n::{Lang, Msg, local, t};
use session::{COOKIE, Session, Sessions};

/// The cookie that carries the login form's CSRF token before there is a session.
const LOGIN_COOKIE: &str = "senim_login";

/// How many appeals a Journal page shows.
const PAGE: u32 = 50;

const CSS: &str = include_str!("console.css");
/// The queue's live updates: the one script of the console, a module of its own.
const QUEUE_JS: &str = include_str!("queue.js");

/// How long one event stream lasts before the browser opens the next (so a
/// shutdown never waits long for it).
const STREAM_SECONDS: u32 = 25;

/// The console's routes, with their own session store.
pub fn routes(app: &App) -> Router<Arc<App>> {
    let sessions = Arc::new(Sessions::new(
        app.config.console.idle_minutes,
        app.config.console.absolute_hours,
    ));
    Router::new()
        .route("/console", get(home))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/logout-everywhere", post(logout_everywhere))
        .route("/console/queue", get(queue))
        .route("/console/queue/events", get(queue_events))
        .route("/console/static/queue.js", get(queue_js))
        .route(
            "/console/appeals/{id}/notes",
            get(notes_page).post(save_notes),
        )
        .route("/console/journal", get(journal))
        .route("/console/audit", get(audit))
        .route("/console/alerts", get(alerts))
        .route("/console/outbox", get(outbox))
        .route("/console/outbox/{id}/retry", post(outbox_retry))
        .route("/console/alerts/{id}/read", post(alert_read))
        .route("/console/appeals/{id}", get(appeal_page))
        .route("/console/appeals/{id}/reveal", post(reveal))
        .route("/console/appeals/{id}/classify", post(classify))
        .route("/console/static/console.css", get(css))
        .layer(Extension(sessions))
        .layer(axum::middleware::from_fn(headers))
}

/// What every console answer carries: no script may run, no frame may hold it,
/// nothing is cached (pages show identities and texts), no referrer leaves.
async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
             img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn queue_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        QUEUE_JS,
    )
        .into_response()
}

/// The phone appeals awaiting the operator's notes, oldest first.
async fn awaiting_notes(app: &App) -> Result<Vec<Appeal>, crate::journal::JournalError> {
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
async fn queue_json(app: &App) -> Option<String> {
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
async fn queue_events(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
) -> Response {
    use axum::response::sse::{Event, Sse};
    if let Err(r) = require(&app, &sessions, &headers, &[Role::Operator]) {
        return *r;
    }
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

/// A cookie's value from the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for the console: `HttpOnly`, `SameSite=Strict`, `Secure` over
/// HTTPS; `max_age` 0 deletes it.
fn set_cookie(app: &App, name: &str, value: &str, path: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if app.config.server.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{secure}{age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("senim_invalid=1"))
}

/// The live session of the request, if any.
fn current(app: &App, sessions: &Sessions, headers: &HeaderMap) -> Option<Arc<Session>> {
    sessions.touch(cookie(headers, COOKIE)?, app.clock.now())
}

/// The session, holding one of `roles`; otherwise the login page (no session) or
/// a 403 page.
fn require(
    app: &App,
    sessions: &Sessions,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<Arc<Session>, Refusal> {
    let Some(session) = current(app, sessions, headers) else {
        return Err(Box::new(Redirect::to("/console/login").into_response()));
    };
    if roles.iter().any(|r| session.has(*r)) {
        Ok(session)
    } else {
        let lang = session.lang;
        let view = page(
            lang,
            t(lang, Msg::Forbidden),
            Some(&session),
            html! {
                p.error { (t(lang, Msg::Forbidden)) }
            },
        );
        Err(Box::new((StatusCode::FORBIDDEN, view).into_response()))
    }
}

/// `require` for a form's post: the session, its role, and the form's CSRF token.
fn require_post(
    app: &App,
    sessions: &Sessions,
    headers: &HeaderMap,
    roles: &[Role],
    csrf: Option<&str>,
) -> Result<Arc<Session>, Refusal> {
    let session = require(app, sessions, headers, roles)?;
    check_csrf(&session, csrf)?;
    Ok(session)
}

/// A form's CSRF token checked against the session's (403 otherwise).
fn check_csrf(session: &Session, token: Option<&str>) -> Result<(), Refusal> {
    match token {
        Some(token) if tokens_equal(&session.csrf, token) => Ok(()),
        _ => {
            let view = page(
                session.lang,
                t(session.lang, Msg::BadForm),
                Some(session),
                html! {
                    p.error { (t(session.lang, Msg::BadForm)) }
                },
            );
            Err(Box::new((StatusCode::FORBIDDEN, view).into_response()))
        }
    }
}

/// The value of a `Result<_, Refusal>`, or the refusal as the handler's answer.
macro_rules! or_refuse {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(refusal) => return *refusal,
        }
    };
}

/// A page given instead of the one asked for (the login, a 403, a 409), boxed:
/// a response is large, and most requests get the page they asked for.
type Refusal = Box<Response>;

/// A form that is one button: a post of the session's CSRF token to `action`.
fn post_button(action: &str, csrf: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button.link type="submit" { (label) }
        }
    }
}

/// The page around every view: the header with the person's pages and log-out.
fn page(lang: Lang, title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Senim" }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body {
                header {
                    span.brand { "Senim" }
                    @if let Some(s) = session {
                        nav {
                            @if s.has(Role::Operator) {
                                a href="/console/queue" { (t(lang, Msg::Queue)) }
                            }
                            @if s.has(Role::Manager) || s.has(Role::Director) || s.has(Role::Auditor) {
                                a href="/console/journal" { (t(lang, Msg::Journal)) }
                            }
                            @if s.has(Role::Director) {
                                a href="/console/alerts" { (t(lang, Msg::Alerts)) }
                            }
                            @if s.has(Role::Manager) {
                                a href="/console/outbox" { (t(lang, Msg::Outbox)) }
                            }
                            @if s.has(Role::Auditor) {
                                a href="/console/audit" { (t(lang, Msg::Audit)) }
                            }
                        }
                        span.who {
                            span { (t(lang, Msg::SignedInAs)) " " strong { (s.full_name) } }
                            (post_button("/console/logout", &s.csrf, t(lang, Msg::LogOut)))
                            (post_button("/console/logout-everywhere", &s.csrf, t(lang, Msg::LogOutEverywhere)))
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

async fn home(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
) -> Response {
    match current(&app, &sessions, &headers) {
        None => Redirect::to("/console/login").into_response(),
        Some(s) if s.has(Role::Operator) => Redirect::to("/console/queue").into_response(),
        Some(s) if s.has(Role::Director) => Redirect::to("/console/alerts").into_response(),
        Some(_) => Redirect::to("/console/journal").into_response(),
    }
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn lang_of(app: &App, asked: Option<&str>) -> Lang {
    asked
        .and_then(|l| l.parse().ok())
        .unwrap_or(app.config.console.language)
}

async fn login_page(State(app): State<Arc<App>>, Query(q): Query<LangQuery>) -> Response {
    let lang = lang_of(&app, q.lang.as_deref());
    login_form(&app, lang, None, StatusCode::OK)
}

/// The login form, with a fresh CSRF token in a cookie of its own.
fn login_form(app: &App, lang: Lang, error: Option<String>, status: StatusCode) -> Response {
    let Some(token) = session::random_token() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let body = html! {
        form.card.login method="post" action="/console/login" {
            h1 { (t(lang, Msg::LoginHeading)) }
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="lang" value=(lang.as_str());
            label for="login" { (t(lang, Msg::Login)) }
            input #login type="text" name="login" autocomplete="username" required autofocus;
            label for="password" { (t(lang, Msg::Password)) }
            input #password type="password" name="password" autocomplete="current-password" required;
            label for="passphrase" { (t(lang, Msg::Passphrase)) }
            input #passphrase type="password" name="passphrase" autocomplete="off";
            button type="submit" { (t(lang, Msg::SignIn)) }
            p.muted {
                a href="/console/login?lang=kk" { "Қазақша" } " · "
                a href="/console/login?lang=ru" { "Русский" } " · "
                a href="/console/login?lang=en" { "English" }
            }
        }
    };
    let mut response = (status, page(lang, t(lang, Msg::LoginHeading), None, body)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, LOGIN_COOKIE, &token, "/console/login", None),
    );
    response
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    passphrase: String,
    csrf: Option<String>,
    lang: Option<String>,
}

async fn login(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&app, form.lang.as_deref());
    let expected = cookie(&headers, LOGIN_COOKIE);
    match (expected, form.csrf.as_deref()) {
        (Some(a), Some(b)) if tokens_equal(a, b) => {}
        _ => {
            return login_form(
                &app,
                lang,
                Some(t(lang, Msg::BadForm).into()),
                StatusCode::FORBIDDEN,
            );
        }
    }
    let now = app.clock.now();
    let login = form.login.trim().to_owned();
    if let Err(locked) = sessions.check_locked(&login, now) {
        let until = local(locked.until, *app.config.calendar.timezone);
        let message = format!("{} {until}.", t(lang, Msg::LockedOut));
        return login_form(&app, lang, Some(message), StatusCode::TOO_MANY_REQUESTS);
    }
    let person = match app.persons.check_password(&login, &form.password).await {
        Ok(Some(person)) => person,
        Ok(None) => {
            sessions.failed(&login, now);
            tracing::warn!("console: a failed login");
            return login_form(
                &app,
                lang,
                Some(t(lang, Msg::WrongLogin).into()),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "console: cannot check a password");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let unlocked = if form.passphrase.is_empty() {
        None
    } else {
        let keys = crate::sealing::Keys::new(app.db.clone());
        match keys
            .unlock(
                &person.login,
                age::secrecy::SecretString::from(form.passphrase),
            )
            .await
        {
            Ok(unlocked) => Some(unlocked),
            Err(_) => {
                sessions.failed(&login, now);
                return login_form(
                    &app,
                    lang,
                    Some(t(lang, Msg::WrongPassphrase).into()),
                    StatusCode::UNAUTHORIZED,
                );
            }
        }
    };
    let Some(id) = sessions.start(&person, unlocked, lang, now) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    tracing::info!(login = person.login, "console: logged in");
    let mut response = Redirect::to("/console").into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&app, COOKIE, &id, "/console", None),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&app, LOGIN_COOKIE, "", "/console/login", Some(0)),
    );
    response
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn logout(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = current(&app, &sessions, &headers) else {
        return Redirect::to("/console/login").into_response();
    };
    if let Err(refused) = check_csrf(&session, form.csrf.as_deref()) {
        return *refused;
    }
    if let Some(id) = cookie(&headers, COOKIE) {
        sessions.end(id);
    }
    logged_out(&app)
}

async fn logout_everywhere(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = current(&app, &sessions, &headers) else {
        return Redirect::to("/console/login").into_response();
    };
    if let Err(refused) = check_csrf(&session, form.csrf.as_deref()) {
        return *refused;
    }
    let ended = sessions.end_all(&session.login);
    tracing::info!(
        login = session.login,
        ended,
        "console: logged out everywhere"
    );
    logged_out(&app)
}

fn logged_out(app: &App) -> Response {
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, COOKIE, "", "/console", Some(0)),
    );
    response
}

/// The operator's queue: phone appeals awaiting their notes, oldest first.
async fn queue(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, &[Role::Operator]));
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
async fn awaiting(app: &App, session: &Session, id: i64) -> Result<Appeal, Refusal> {
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
        Ok(_) | Err(crate::journal::JournalError::NotFound(_)) => Err(Box::new(not_awaiting())),
        Err(e) => Err(Box::new(
            crate::server::problem::Problem::from(e).into_response(),
        )),
    }
}

/// What the operator typed, echoed back when the form is refused.
#[derive(Default, Deserialize)]
struct NotesForm {
    csrf: Option<String>,
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
}

fn notes_view(
    lang: Lang,
    session: &Session,
    appeal: &Appeal,
    form: &NotesForm,
    tz: chrono_tz::Tz,
    error: Option<&str>,
) -> Markup {
    let field = |id: &'static str, label: Msg, value: &str, kind: &'static str| {
        html! {
            div {
                label for=(id) { (t(lang, label)) }
                input id=(id) name=(id) type=(kind) value=(value);
            }
        }
    };
    let point = |name: &'static str, text: Msg, ticked: bool| {
        html! {
            label {
                input type="checkbox" name=(name) value="said" checked[ticked];
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
                    (field("email", Msg::Email, &form.email, "email"))
                }
                label for="substance" { (t(lang, Msg::Substance)) }
                textarea #substance name="substance" required { (form.substance) }
            }
            button type="submit" { (t(lang, Msg::Save)) }
        }
    };
    page(lang, t(lang, Msg::RecordNotes), Some(session), body)
}

async fn notes_page(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, &[Role::Operator]));
    let appeal = or_refuse!(awaiting(&app, &session, id).await);
    let tz = *app.config.calendar.timezone;
    notes_view(
        session.lang,
        &session,
        &appeal,
        &NotesForm::default(),
        tz,
        None,
    )
    .into_response()
}

fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

async fn save_notes(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<NotesForm>,
) -> Response {
    let session = or_refuse!(require_post(
        &app,
        &sessions,
        &headers,
        &[Role::Operator],
        form.csrf.as_deref()
    ));
    let appeal = or_refuse!(awaiting(&app, &session, id).await);
    let lang = session.lang;
    let tz = *app.config.calendar.timezone;
    let all_said = form.script_own_name.is_some()
        && form.script_scope.is_some()
        && form.script_secret.is_some();
    if !all_said || given(&form.substance).is_none() {
        let view = notes_view(
            lang,
            &session,
            &appeal,
            &form,
            tz,
            Some(t(lang, Msg::ScriptRequired)),
        );
        return (StatusCode::UNPROCESSABLE_ENTITY, view).into_response();
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
        script: vec![
            ScriptPoint::OwnNameAndPosition,
            ScriptPoint::LineScope,
            ScriptPoint::StateSecretWarning,
        ],
    };
    let key = AppealKey::Id(appeal.id);
    match crate::pbx::notes::record_operator_notes(&app.journal, &key, notes, &session.actor())
        .await
    {
        Ok(_) => Redirect::to("/console/queue?saved=1").into_response(),
        Err(crate::journal::JournalError::NotAllowed(_)) => {
            let view = notes_view(
                lang,
                &session,
                &appeal,
                &form,
                tz,
                Some(t(lang, Msg::NotAwaiting)),
            );
            (StatusCode::CONFLICT, view).into_response()
        }
        Err(e) => crate::server::problem::Problem::from(e).into_response(),
    }
}

/// The Journal's filters, from the page's query.
#[derive(Default, Deserialize)]
struct JournalQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    category: Option<String>,
    status: Option<String>,
    number: Option<String>,
    page: Option<u32>,
}

fn parsed<T: std::str::FromStr>(value: &Option<String>) -> Option<T> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
}

/// The Journal for the manager, the Director and the auditor: no identity and no
/// text, newest first, with filters and pages.
async fn journal(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Query(q): Query<JournalQuery>,
) -> Response {
    let session = or_refuse!(require(
        &app,
        &sessions,
        &headers,
        &[Role::Manager, Role::Director, Role::Auditor]
    ));
    let lang = session.lang;
    let readers = session.has(Role::Manager) || session.has(Role::Director);
    let page_no = q.page.unwrap_or(0).min(100_000);
    let appeals = match parsed::<AppealKey>(&q.number) {
        Some(key) => match app.journal.find(&key).await {
            Ok(a) => Ok(vec![a]),
            Err(crate::journal::JournalError::NotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        },
        None => {
            let filter = ListFilter {
                from: parsed(&q.from),
                to: parsed(&q.to),
                channel: parsed(&q.channel),
                category: parsed(&q.category),
                status: parsed(&q.status),
                limit: Some(PAGE + 1),
                offset: Some(page_no * PAGE),
                newest_first: true,
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
            (select("status", Msg::Status, vec!["registered", "awaiting_operator_notes", "in_review", "forwarded", "under_investigation", "closed"], &q.status))
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

/// The roles that open an appeal's page: they read appeals (10.14).
const READERS: &[Role] = &[Role::Manager, Role::Director];

#[derive(Deserialize)]
struct AppealQuery {
    done: Option<String>,
}

async fn appeal_page(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AppealQuery>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, READERS));
    let notice =
        (q.done.as_deref() == Some("classified")).then(|| t(session.lang, Msg::Classified));
    appeal_view(&app, &session, id, None, notice, StatusCode::OK).await
}

/// An appeal's page: what may be plain, the suggestion, the history; with
/// `revealed`, the reporter and the text too (after the disclosure is recorded).
async fn appeal_view(
    app: &App,
    session: &Session,
    id: i64,
    revealed: Option<Appeal>,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.lang;
    let appeal = match app.journal.get(AppealId(id)).await {
        Ok(a) => a,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let history = match app.journal.history(appeal.id).await {
        Ok(h) => h,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    let tz = *app.config.calendar.timezone;
    let suggestion = crate::triage::suggestion_for(&appeal);
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
            }
            None => {
                form method="post" action={ "/console/appeals/" (appeal.id) "/reveal" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { (t(lang, Msg::Reveal)) }
                    span.muted { " " (t(lang, Msg::RevealRecorded)) }
                }
            }
        }
        @if session.has(Role::Manager) && appeal.category == crate::journal::Category::Unclassified {
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
        h2 { (t(lang, Msg::History)) }
        table {
            tbody {
                @for e in &history {
                    tr { td { (local(e.at, tz)) } td { (e.kind) } td { (e.actor) } }
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

/// The reporter and the text, shown on a click that the Journal records
/// (`identity_disclosed`, purpose `console`); a sealed appeal opens with the key
/// the person unlocked at the login.
async fn reveal(
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
        READERS,
        form.csrf.as_deref()
    ));
    let lang = session.lang;
    let appeal = match app.journal.get(AppealId(id)).await {
        Ok(a) => a,
        Err(e) => return crate::server::problem::Problem::from(e).into_response(),
    };
    if appeal.sealed.is_some() && session.unlocked.is_none() {
        let notice = t(lang, Msg::NeedsKey);
        return appeal_view(
            &app,
            &session,
            id,
            None,
            Some(notice),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if let Err(e) = app
        .journal
        .record_disclosure(&[appeal.id], &session.actor(), "console")
        .await
    {
        return crate::server::problem::Problem::from(e).into_response();
    }
    let opened = match &session.unlocked {
        Some(unlocked) => app.journal.open(appeal, unlocked).await,
        None => Ok(appeal),
    };
    match opened {
        Ok(open) => appeal_view(&app, &session, id, Some(open), None, StatusCode::OK).await,
        Err(e) => crate::server::problem::Problem::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct ClassifyForm {
    csrf: Option<String>,
    #[serde(default)]
    category: String,
    #[serde(default)]
    reason: String,
}

/// The manager's classification: `cases::classify`, the same as the CLI's and the
/// API's (the alerts it causes go out through the outbox).
async fn classify(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ClassifyForm>,
) -> Response {
    let session = or_refuse!(require_post(
        &app,
        &sessions,
        &headers,
        &[Role::Manager],
        form.csrf.as_deref()
    ));
    let lang = session.lang;
    let Ok(category) = form.category.parse::<crate::journal::Category>() else {
        let notice = t(lang, Msg::BadForm);
        return appeal_view(
            &app,
            &session,
            id,
            None,
            Some(notice),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match crate::cases::classify(
        &app.journal,
        &app.alerts,
        AppealId(id),
        category,
        &form.reason,
        &session.actor(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/appeals/{id}?done=classified")).into_response(),
        Err(crate::cases::ClassifyError::Journal(e)) => {
            crate::server::problem::Problem::from(e).into_response()
        }
        Err(e) => {
            let notice = e.to_string();
            appeal_view(
                &app,
                &session,
                id,
                None,
                Some(&notice),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The auditor's page: the audit chain verified now (`Journal::verify`, as `senim
/// journal verify`), with its findings, and the last head published to the
/// auditors (`journal.published_heads_file`).
async fn audit(
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

/// The Director's alerts (10.6), newest first, each with its receipt: "read",
/// when and by whom (an `alert_read` event of the appeal), or a button to mark it.
async fn alerts(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, &[Role::Director]));
    let lang = session.lang;
    let tz = *app.config.calendar.timezone;
    let entries = match app.outbox.alerts(100).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot list the alerts");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let read = match entry.appeal_id {
            Some(appeal) => match app.journal.history(AppealId(appeal)).await {
                Ok(events) => events.into_iter().find(|e| {
                    e.kind == crate::journal::ALERT_READ
                        && serde_json::from_str::<serde_json::Value>(&e.detail)
                            .is_ok_and(|d| d["mail"] == entry.id)
                }),
                Err(e) => return crate::server::problem::Problem::from(e).into_response(),
            },
            None => None,
        };
        rows.push((entry, read));
    }
    let body = html! {
        h1 { (t(lang, Msg::Alerts)) }
        @if rows.is_empty() {
            p.muted { (t(lang, Msg::NoAlerts)) }
        } @else {
            table {
                thead { tr {
                    th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Kind)) } th { (t(lang, Msg::Sent)) }
                    th { (t(lang, Msg::DueBy)) } th { (t(lang, Msg::ReadReceipt)) }
                } }
                tbody {
                    @for (entry, read) in &rows {
                        tr {
                            td {
                                @if let Some(appeal) = entry.appeal_id {
                                    a href={ "/console/appeals/" (appeal) } { (entry.reference) }
                                } @else { (entry.reference) }
                            }
                            td { (entry.kind) }
                            td {
                                @match entry.sent_at {
                                    Some(at) => { (local(at, tz)) }
                                    None => { (entry.state) }
                                }
                            }
                            td { @if let Some(due) = entry.due_by { (local(due, tz)) } }
                            td {
                                @match read {
                                    Some(event) => { (t(lang, Msg::Read)) " " (local(event.at, tz)) " · " (event.actor) }
                                    None => {
                                        @if entry.appeal_id.is_some() {
                                            (post_button(&format!("/console/alerts/{}/read", entry.id), &session.csrf, t(lang, Msg::MarkRead)))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t(lang, Msg::Alerts), Some(&session), body).into_response()
}

/// The Director marks an alert read: an `alert_read` event in her name.
async fn alert_read(
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
        &[Role::Director],
        form.csrf.as_deref()
    ));
    let is_alert = |kind: &str| {
        crate::outbox::DIRECTOR_ALERTS
            .iter()
            .any(|k| k.as_str() == kind)
    };
    let appeal = match app.outbox.get(id).await {
        Ok(entry) if is_alert(&entry.kind) => entry.appeal_id,
        Ok(_) | Err(crate::outbox::OutboxError::NotFound(_)) => None,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot read the alert");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Some(appeal) = appeal else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match app
        .journal
        .record_alert_read(AppealId(appeal), &session.actor(), id)
        .await
    {
        Ok(()) => Redirect::to("/console/alerts").into_response(),
        Err(e) => crate::server::problem::Problem::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct OutboxQuery {
    state: Option<String>,
    retried: Option<u64>,
}

/// The manager's view of the outbox: the mail Senim sends (never its content),
/// newest first, failed mail with a button to try again now.
async fn outbox(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Query(q): Query<OutboxQuery>,
) -> Response {
    let session = or_refuse!(require(&app, &sessions, &headers, &[Role::Manager]));
    let lang = session.lang;
    let tz = *app.config.calendar.timezone;
    let state = parsed::<crate::outbox::MailState>(&q.state);
    let entries = match app.outbox.list(state, 100).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot list the outbox");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let body = html! {
        h1 { (t(lang, Msg::Outbox)) }
        @if let Some(n) = q.retried { p.notice role="status" { (t(lang, Msg::Retried)) " " (n) } }
        p {
            a href="/console/outbox" { (t(lang, Msg::Any)) } " · "
            a href="/console/outbox?state=failed" { "failed" } " · "
            a href="/console/outbox?state=pending" { "pending" } " · "
            a href="/console/outbox?state=sent" { "sent" }
        }
        @if entries.is_empty() {
            p.muted { (t(lang, Msg::NoMail)) }
        } @else {
            table {
                thead { tr {
                    th { "#" } th { (t(lang, Msg::Kind)) } th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Status)) }
                    th { (t(lang, Msg::Attempts)) } th { (t(lang, Msg::Sent)) } th { (t(lang, Msg::LastError)) } th {}
                } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (e.id) }
                            td { (e.kind) }
                            td { (e.reference) }
                            td { (e.state) }
                            td { (e.attempts) }
                            td { @if let Some(at) = e.sent_at { (local(at, tz)) } }
                            td { @if let Some(err) = &e.last_error { (err) } }
                            td {
                                @if e.state == crate::outbox::MailState::Failed {
                                    (post_button(&format!("/console/outbox/{}/retry", e.id), &session.csrf, t(lang, Msg::Retry)))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t(lang, Msg::Outbox), Some(&session), body).into_response()
}

/// A failed mail put back for an attempt now, as `senim outbox retry` and the API.
async fn outbox_retry(
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
        &[Role::Manager],
        form.csrf.as_deref()
    ));
    match app.outbox.retry(Some(id), app.clock.now()).await {
        Ok(n) => {
            tracing::info!(
                outbox_id = id,
                actor = session.actor(),
                "mail put back for retry"
            );
            Redirect::to(&format!("/console/outbox?retried={n}")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "console: cannot retry a mail");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
