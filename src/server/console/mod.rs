//! The console: the browser workplace of the line's people, served by the daemon
//! under `/console`. Server-rendered HTML (maud), one embedded style sheet, one
//! small script module (the live queue); every flow works with forms alone.
//!
//! - here: the routes, the page frame (its links asking the rulebook, as the
//!   routes do), and the headers every answer carries (CSP with `script-src
//!   'self'`, `frame-ancestors 'none'`, `Cache-Control: no-store`).
//! - `access`: what every handler takes: the session allowed an action of the
//!   rulebook (`Session<A>`), a form's post with its CSRF token checked
//!   (`Posted<A, T>`), and the refusal (`Refusal`) they pass on with `?`.
//! - `session`: sessions in memory, their cookie, idle and absolute limits, CSRF
//!   tokens, failed logins and the lockout.
//! - `i18n`: the words in Kazakh, Russian and English; Astana time.
//! - one module per workplace: `login` (and the session's language), `operator`
//!   (queue and the 10.5 form), `journal`, `appeal` (the appeal's page),
//!   `materials` (a revealed appeal's mail, attachments, calls and recordings, and
//!   their recorded downloads), `case` (its deadlines and the acts recorded
//!   there), `documents` (the cover letter and the appeal's outgoing documents),
//!   `board` (the deadline board), `director` (alerts and read receipts),
//!   `outbox`, `audit`, `report` (the analysis of a period, 10.13, and the
//!   figures for the web site, 4.7), `investigation` (the sealed investigation
//!   file, 7.3–7.11, for the Director, the managers and the commission).
//!
//! Each action calls the same function as the CLI and the API (one write path):
//! the operator's notes are `pbx::notes::record_operator_notes`, a classification
//! `cases::classify`.

mod access;
mod appeal;
mod audit;
mod board;
mod case;
mod director;
mod documents;
pub mod i18n;
mod investigation;
mod journal;
mod login;
mod materials;
mod operator;
mod outbox;
mod report;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};

use crate::app::App;
use crate::rulebook::{Action, rule};
use access::{Answer, Posted, Refusal, Session};
use i18n::{Lang, Msg, t};
use session::{COOKIE, LoggedIn, Sessions};

const CSS: &str = include_str!("console.css");

/// The largest console form (notes, a reason, a correction).
const FORM_MAX: usize = 64 * 1024;
/// The largest login form (a login of `persons::LOGIN_MAX_BYTES`, a password, a
/// passphrase, a token).
const LOGIN_FORM_MAX: usize = 4 * 1024;

/// The console's routes, with their own session store, whose expired sessions
/// are swept every `session::SWEEP_SECONDS` while the routes live. A materials
/// package a crash left half made (it names the reporter) is removed first.
pub fn routes(app: &App) -> Router<Arc<App>> {
    documents::remove_unfinished_packages(app);
    let sessions = Arc::new(Sessions::new(
        app.config.console.idle_minutes,
        app.config.console.absolute_hours,
    ));
    sweep_expired(&sessions, app.clock.clone());
    Router::new()
        .route("/console", get(home))
        .route(
            "/console/login",
            get(login::login_page)
                .post(login::login)
                .layer(axum::extract::DefaultBodyLimit::max(LOGIN_FORM_MAX)),
        )
        .route("/console/logout", post(login::logout))
        .route("/console/logout-everywhere", post(login::logout_everywhere))
        .route("/console/language", post(login::set_language))
        .route("/console/queue", get(operator::queue))
        .route("/console/queue/events", get(operator::queue_events))
        .route("/console/static/queue.js", get(operator::queue_js))
        .route(
            "/console/appeals/{id}/notes",
            get(operator::notes_page).post(operator::save_notes),
        )
        .route("/console/journal", get(journal::journal))
        .route("/console/audit", get(audit::audit))
        .route("/console/audit/export", post(audit::export))
        .route("/console/alerts", get(director::alerts))
        .route("/console/outbox", get(outbox::outbox))
        .route("/console/outbox/{id}/retry", post(outbox::outbox_retry))
        .route("/console/alerts/{id}/read", post(director::alert_read))
        .route("/console/appeals/{id}", get(appeal::appeal_page))
        .route("/console/appeals/{id}/reveal", post(appeal::reveal))
        .route("/console/appeals/{id}/classify", post(appeal::classify))
        .route("/console/appeals/{id}/correct", post(appeal::correct))
        .route("/console/appeals/{id}/act", post(case::act))
        .route("/console/deadlines", get(board::board))
        .route("/console/investigations", get(investigation::list))
        .route(
            "/console/investigations/{id}",
            get(investigation::file_page).post(investigation::record),
        )
        .route("/console/report", get(report::report))
        .route("/console/report/{file}", get(report::download))
        .route("/console/appeals/{id}/package", post(documents::package))
        .route(
            "/console/appeals/{id}/cover-letter",
            post(documents::cover_letter),
        )
        .route("/console/appeals/{id}/reply", post(documents::reply))
        .route(
            "/console/appeals/{id}/extension-notice",
            post(documents::extension_notice),
        )
        .route("/console/documents/{id}/{format}", get(documents::download))
        .route(
            "/console/appeals/{id}/mail/{mail}/raw",
            get(materials::raw_mail),
        )
        .route(
            "/console/appeals/{id}/mail/{mail}/attachments/{k}",
            get(materials::attachment),
        )
        .route(
            "/console/appeals/{id}/calls/{n}/recording",
            get(materials::recording),
        )
        .route("/console/static/console.css", get(css))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_MAX))
        .layer(axum::middleware::from_fn_with_state(
            app.persons.clone(),
            ends_disabled,
        ))
        .layer(Extension(sessions))
        .layer(axum::middleware::from_fn(headers))
        .layer(axum::middleware::from_fn(wiping_the_stack))
}

/// Runs the request with the stack wiped after each of its steps (each poll
/// of its future, on whichever thread ran it): what a session's keys opened
/// for the request copied into the frames of the X25519 arithmetic is gone
/// when the request is (`sealing::wipe_stack`).
async fn wiping_the_stack(request: Request, next: Next) -> Response {
    Wiped(Box::pin(next.run(request))).await
}

/// A future whose every poll ends with `sealing::wipe_stack`.
struct Wiped<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for Wiped<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let step = self.0.as_mut().poll(cx);
        crate::sealing::wipe_stack();
        step
    }
}

/// Drops the expired sessions (and their sealed keys) every
/// `session::SWEEP_SECONDS`, until the routes are dropped.
fn sweep_expired(sessions: &Arc<Sessions>, clock: crate::clock::SharedClock) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let sessions = Arc::downgrade(sessions);
    runtime.spawn(async move {
        let period = std::time::Duration::from_secs(session::SWEEP_SECONDS);
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            let Some(sessions) = sessions.upgrade() else {
                return;
            };
            let dropped = sessions.sweep(clock.now());
            if dropped > 0 {
                tracing::info!(dropped, "console: expired sessions dropped");
            }
        }
    });
}

/// A person disabled while logged in (`senim persons disable`) can do nothing
/// more: before any console request, a session whose person is disabled (or
/// gone) is ended with all of theirs, and the request goes on without it (to
/// the login page). If the database cannot say, the request is refused.
async fn ends_disabled(
    State(persons): State<crate::persons::Persons>,
    Extension(sessions): Extension<Arc<Sessions>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(login) = cookie(request.headers(), COOKIE).and_then(|id| sessions.login_of(id)) {
        match persons.is_active(&login).await {
            Ok(true) => {}
            Ok(false) => {
                let ended = sessions.end_all(&login);
                tracing::info!(login, ended, "console sessions of a disabled person ended");
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot check the session's person");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    next.run(request).await
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
             img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'",
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

/// A form that is one button: a post of the session's CSRF token to `action`.
fn post_button(action: &str, csrf: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button.link type="submit" { (label) }
        }
    }
}

/// A form's CSRF token and what it records (`name`, `value`), hidden.
fn hidden_fields(csrf: &str, name: &str, value: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name=(name) value=(value);
    }
}

/// A labelled date field, required.
fn date_field(
    lang: Lang,
    name: &str,
    id: &str,
    label: Msg,
    value: Option<chrono::NaiveDate>,
) -> Markup {
    html! {
        label for=(id) { (t(lang, label)) }
        input id=(id) type="date" name=(name) value=[value] required;
    }
}

/// The pages the header links to, each shown to those who may take its action.
const NAV: [(Action, &str, Msg); 8] = [
    (Action::OperatorQueue, "/console/queue", Msg::Queue),
    (Action::ReadJournal, "/console/journal", Msg::Journal),
    (Action::ReadCases, "/console/deadlines", Msg::Deadlines),
    (Action::DirectorAlerts, "/console/alerts", Msg::Alerts),
    (
        Action::Investigations,
        "/console/investigations",
        Msg::Investigations,
    ),
    (Action::ReadOutbox, "/console/outbox", Msg::Outbox),
    (Action::Audit, "/console/audit", Msg::Audit),
    (Action::ReadReport, "/console/report", Msg::Report),
];

/// The page around every view: the header with the person's pages and log-out.
fn page(lang: Lang, title: &str, session: Option<&LoggedIn>, body: Markup) -> Markup {
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
                            @for (action, href, label) in NAV {
                                @if s.may(action) {
                                    a href=(href) { (t(lang, label)) }
                                }
                            }
                        }
                        span.who {
                            (language_switch(lang, &s.csrf))
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

/// The header's language switch: one form, a button per language (the current
/// one pressed), posted with the session's CSRF token.
fn language_switch(lang: Lang, csrf: &str) -> Markup {
    html! {
        form.languages method="post" action="/console/language" aria-label=(t(lang, Msg::Language)) {
            input type="hidden" name="csrf" value=(csrf);
            @for l in Lang::ALL {
                @if *l == lang {
                    button.link.current type="submit" name="lang" value=(l.as_str()) lang=(l.as_str()) aria-pressed="true" disabled { (i18n::name(*l)) }
                } @else {
                    button.link type="submit" name="lang" value=(l.as_str()) lang=(l.as_str()) aria-pressed="false" { (i18n::name(*l)) }
                }
            }
        }
    }
}

/// Where a person starts: the operator at the queue, the Director at her
/// alerts, anyone else at the Journal.
async fn home(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
) -> Response {
    match access::current(&app, &sessions, &headers) {
        None => Redirect::to("/console/login").into_response(),
        Some(s) if s.may(Action::OperatorQueue) => Redirect::to("/console/queue").into_response(),
        Some(s) if s.may(Action::DirectorAlerts) => Redirect::to("/console/alerts").into_response(),
        Some(_) => Redirect::to("/console/journal").into_response(),
    }
}

/// A query's or a form's field, parsed, if given.
fn parsed<T: std::str::FromStr>(value: &Option<String>) -> Option<T> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
}
