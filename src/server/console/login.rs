//! Logging in and out: the login form with its own CSRF cookie, the password
//! and the optional key passphrase, the lockout, log out and log out everywhere;
//! the session's language (the person's own, else the login page's, else
//! `console.language`) and the header's switch, which keeps it for the person.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::access::SignedIn;
use super::i18n::{self, Lang, Msg, local, t};
use super::session::Sessions;
use super::*;
use crate::app::App;
use crate::persons::PersonError;
use crate::sealing::SealError;
use crate::tokens::tokens_equal;
use secrecy::{ExposeSecret, SecretString};
use zeroize::{Zeroize, Zeroizing};

/// The cookie that carries the login form's CSRF token before there is a session.
const LOGIN_COOKIE: &str = "senim_login";

#[derive(Deserialize)]
pub(super) struct LangQuery {
    lang: Option<String>,
}

fn lang_of(app: &App, asked: Option<&str>) -> Lang {
    asked
        .and_then(|l| l.parse().ok())
        .unwrap_or(app.config.console.language)
}

pub(super) async fn login_page(
    State(app): State<Arc<App>>,
    Query(q): Query<LangQuery>,
) -> Response {
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
                @for (i, l) in Lang::ALL.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href={ "/console/login?lang=" (l.as_str()) } lang=(l.as_str()) { (i18n::name(*l)) }
                }
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

/// The login form's fields. The password and the passphrase are decoded
/// straight into buffers of their exact size, kept as `SecretString` (wiped
/// when dropped), and the request's body is wiped too when nothing else holds
/// it: no copy of either stays in the daemon's memory after the login.
struct LoginForm {
    login: String,
    password: SecretString,
    passphrase: SecretString,
    csrf: Option<String>,
    lang: Option<String>,
}

impl LoginForm {
    /// Reads an `application/x-www-form-urlencoded` body; `None` if a field is
    /// not UTF-8 or not well encoded.
    fn read(body: &[u8]) -> Option<LoginForm> {
        let mut form = LoginForm {
            login: String::new(),
            password: SecretString::from(String::new()),
            passphrase: SecretString::from(String::new()),
            csrf: None,
            lang: None,
        };
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[..0]),
            };
            let value = form_decoded(value)?;
            match name {
                b"login" => form.login = value.as_str().to_owned(),
                b"password" => form.password = SecretString::from(value),
                b"passphrase" => form.passphrase = SecretString::from(value),
                b"csrf" => form.csrf = Some(value.as_str().to_owned()),
                b"lang" => form.lang = Some(value.as_str().to_owned()),
                _ => {}
            }
        }
        Some(form)
    }
}

/// A form value decoded (`+` is a space, `%XX` a byte) into a string of its
/// exact size (a `SecretString` made of it is not copied again).
fn form_decoded(value: &[u8]) -> Option<String> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut decoded = Zeroizing::new(Vec::with_capacity(
        value.len()
            - 2 * value
                .iter()
                .filter(|b| **b == b'%')
                .count()
                .min(value.len() / 3),
    ));
    let mut i = 0;
    while i < value.len() {
        let byte = match value[i] {
            b'+' => b' ',
            b'%' => {
                let high = hex(*value.get(i + 1)?)?;
                let low = hex(*value.get(i + 2)?)?;
                i += 2;
                high << 4 | low
            }
            b => b,
        };
        if decoded.len() == decoded.capacity() {
            return None;
        }
        decoded.push(byte);
        i += 1;
    }
    std::str::from_utf8(&decoded).ok()?;
    String::from_utf8(std::mem::take(&mut *decoded)).ok()
}

pub(super) async fn login(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = LoginForm::read(&body);
    // Wipe the body's bytes if this is the only hold on them.
    if let Ok(mut bytes) = body.try_into_mut() {
        bytes.zeroize();
    }
    let Some(form) = form else {
        let lang = app.config.console.language;
        return login_form(
            &app,
            lang,
            Some(t(lang, Msg::BadForm).into()),
            StatusCode::BAD_REQUEST,
        );
    };
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
    let refused = |msg: Msg, status| login_form(&app, lang, Some(t(lang, msg).into()), status);
    let now = app.clock.now();
    let login = form.login.trim();
    // No person has a longer login: refused before anything is kept or checked.
    if login.is_empty() || login.len() > crate::persons::LOGIN_MAX_BYTES {
        return refused(Msg::WrongLogin, StatusCode::UNAUTHORIZED);
    }
    // Counted before the check, so a burst of attempts checks at most the
    // lockout's number of passwords.
    let attempt = match sessions.reserve(login, now) {
        Ok(attempt) => attempt,
        Err(locked) => {
            let until = local(locked.until, *app.config.calendar.timezone);
            let message = format!("{} {until}.", t(lang, Msg::LockedOut));
            return login_form(&app, lang, Some(message), StatusCode::TOO_MANY_REQUESTS);
        }
    };
    metrics::counter!("senim_console_password_checks_total").increment(1);
    let person = match app.persons.check_password(login, form.password).await {
        Ok(Some(person)) => person,
        Ok(None) => {
            tracing::warn!("console: a failed login");
            return refused(Msg::WrongLogin, StatusCode::UNAUTHORIZED);
        }
        Err(PersonError::Busy(_)) => {
            sessions.give_back(attempt);
            return refused(Msg::Busy, StatusCode::SERVICE_UNAVAILABLE);
        }
        Err(e) => {
            sessions.give_back(attempt);
            tracing::error!(error = %e, "console: cannot check a password");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let unlocked = if form.passphrase.expose_secret().is_empty() {
        None
    } else {
        let keys = app.keys();
        match keys.unlock_own(&person.login, form.passphrase).await {
            Ok(unlocked) => Some(unlocked),
            Err(SealError::Busy(_)) => {
                sessions.give_back(attempt);
                return refused(Msg::Busy, StatusCode::SERVICE_UNAVAILABLE);
            }
            Err(e @ SealError::Keys(_)) => {
                tracing::warn!(error = %e, "console: a person's key cannot be opened");
                return refused(Msg::KeyTooCostly, StatusCode::UNAUTHORIZED);
            }
            Err(_) => return refused(Msg::WrongPassphrase, StatusCode::UNAUTHORIZED),
        }
    };
    // The person's own language, else the one chosen on the login page.
    let lang = person.language.unwrap_or(lang);
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

pub(super) async fn logout(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    _: Posted<SignedIn>,
) -> Response {
    if let Some(id) = cookie(&headers, COOKIE) {
        sessions.end(id, app.clock.now());
    }
    logged_out(&app)
}

pub(super) async fn logout_everywhere(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    Posted { session, .. }: Posted<SignedIn>,
) -> Response {
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

#[derive(Deserialize)]
pub(super) struct LanguageForm {
    lang: Option<String>,
}

/// The header's language switch: keeps the language for the person (the same
/// `Persons::set_language` as `senim persons language`), so every later login
/// opens in it, and changes the current session's.
pub(super) async fn set_language(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Posted { session, form }: Posted<rule::ChooseLanguage, LanguageForm>,
) -> Response {
    let Some(lang) = form.lang.as_deref().and_then(|l| l.parse::<Lang>().ok()) else {
        let lang = session.lang;
        let view = page(
            lang,
            t(lang, Msg::Language),
            Some(&session),
            html! {
                p.error role="alert" { (t(lang, Msg::UnknownLanguage)) }
            },
        );
        return (StatusCode::BAD_REQUEST, view).into_response();
    };
    if let Err(e) = app.persons.set_language(&session.login, Some(lang)).await {
        tracing::error!(error = %e, "console: cannot keep a person's language");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if let Some(id) = cookie(&headers, COOKIE) {
        sessions.set_lang(id, lang);
    }
    Redirect::to("/console").into_response()
}
