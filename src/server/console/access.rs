//! Who may open what in the console: the extractors every handler takes, so a
//! forgotten check does not compile. `Session<A>` is the live session of the
//! request's cookie, holding a role the rulebook allows for action `A`
//! (`rulebook::rule::…`, asked through `rulebook::check`); `Posted<A, T>` is that
//! session, the form's CSRF token checked, and the form `T`. Without a session
//! the answer is the login page, without the role the 403 page, with a bad
//! token the 403 "bad form" page: each a `Refusal`, which handlers pass on with
//! `?`. The log-out asks only for a session (`SignedIn`): anyone logged in may
//! end it.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Form, FromRequest, FromRequestParts, RawForm, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::i18n::{Msg, t};
use super::session::{COOKIE, LoggedIn, Sessions};
use super::{cookie, page};
use crate::app::App;
use crate::rulebook::{Acting, Rule};
use crate::tokens::tokens_equal;

/// A page given instead of the one asked for (the login, a 403, a 409, a
/// problem), boxed: a response is large, and most requests get the page they
/// asked for.
pub(super) struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Refusal(Box::new(response))
    }
}

/// What a console handler answers: its page, or why not.
pub(super) type Answer = Result<Response, Refusal>;

/// What a handler asks of the request's session before it runs: an action of
/// the rulebook (any `Rule`), or only that there is one (`SignedIn`).
pub(super) trait Gate: Send + Sync + 'static {
    /// Whether the session's person may pass.
    fn admits(session: &LoggedIn) -> bool;
}

impl<A: Rule + Send + Sync + 'static> Gate for A {
    fn admits(session: &LoggedIn) -> bool {
        crate::rulebook::check(&session.roles, A::ACTION).is_ok()
    }
}

/// Logged in, nothing more asked: the log-out, which anyone may do.
pub(super) struct SignedIn;

impl Gate for SignedIn {
    fn admits(_: &LoggedIn) -> bool {
        true
    }
}

/// The request's live session, its person allowed `A` by the rulebook.
pub(super) struct Session<A: Gate> {
    live: Arc<LoggedIn>,
    action: PhantomData<A>,
}

impl<A: Gate> Deref for Session<A> {
    type Target = LoggedIn;

    fn deref(&self) -> &LoggedIn {
        &self.live
    }
}

impl<A: Rule + Send + Sync + 'static> Session<A> {
    /// The session's person as the domain's entry point for `A` takes them
    /// (`rulebook::Acting`), asked of the rulebook again.
    pub(super) fn acting(&self) -> Result<Acting<A>, Refusal> {
        crate::rulebook::acting(&self.live.roles, self.live.actor())
            .map_err(|_| forbidden(&self.live))
    }
}

impl<A: Gate> Session<A> {
    /// The request's session, admitted to `A`, or the refusal.
    fn of(parts: &Parts, app: &App) -> Result<Self, Refusal> {
        let Some(live) = parts
            .extensions
            .get::<Arc<Sessions>>()
            .and_then(|sessions| current(app, sessions, &parts.headers))
        else {
            return Err(Redirect::to("/console/login").into_response().into());
        };
        if A::admits(&live) {
            Ok(Session {
                live,
                action: PhantomData,
            })
        } else {
            Err(forbidden(&live))
        }
    }
}

impl<A: Gate> FromRequestParts<Arc<App>> for Session<A> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Refusal> {
        Session::of(parts, app)
    }
}

/// A form's post: the session allowed `A`, the form's CSRF token checked
/// against the session's, and the form. The form is read first (what it
/// refuses answers first), then the session, then the token.
pub(super) struct Posted<A: Gate, T = Button> {
    pub session: Session<A>,
    pub form: T,
}

/// A form that is one button: nothing in it but the CSRF token.
#[derive(Deserialize)]
pub(super) struct Button {}

/// The CSRF token of a posted form, whatever else it holds.
#[derive(Deserialize)]
struct Token {
    csrf: Option<String>,
}

impl<A: Gate, T: DeserializeOwned + Send> FromRequest<Arc<App>> for Posted<A, T> {
    type Rejection = Refusal;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Refusal> {
        let (parts, body) = request.into_parts();
        let session = Session::<A>::of(&parts, app);
        // Read as `Form` reads it (its content type, then its bytes), so that
        // what it refuses is refused with the same answer.
        let RawForm(bytes) = RawForm::from_request(Request::from_parts(parts.clone(), body), app)
            .await
            .map_err(|rejection| Refusal::from(rejection.into_response()))?;
        let request = Request::from_parts(parts, Body::from(bytes.clone()));
        let Form(form) = Form::<T>::from_request(request, app)
            .await
            .map_err(|rejection| Refusal::from(rejection.into_response()))?;
        let session = session?;
        let token = serde_urlencoded::from_bytes::<Token>(&bytes)
            .ok()
            .and_then(|t| t.csrf);
        check_csrf(&session, token.as_deref())?;
        Ok(Posted { session, form })
    }
}

/// The live session of the request, if any (renewed, its keys opened for the
/// request).
pub(super) fn current(
    app: &App,
    sessions: &Sessions,
    headers: &HeaderMap,
) -> Option<Arc<LoggedIn>> {
    sessions.touch(cookie(headers, COOKIE)?, app.clock.now())
}

/// A form's CSRF token checked against the session's (403 otherwise).
fn check_csrf(session: &LoggedIn, token: Option<&str>) -> Result<(), Refusal> {
    match token {
        Some(token) if tokens_equal(&session.csrf, token) => Ok(()),
        _ => Err(refused_page(session, Msg::BadForm)),
    }
}

/// The 403 page: the person may not do this.
pub(super) fn forbidden(session: &LoggedIn) -> Refusal {
    refused_page(session, Msg::Forbidden)
}

/// The 403 page saying `msg`.
fn refused_page(session: &LoggedIn, msg: Msg) -> Refusal {
    let lang = session.lang;
    let view = page(
        lang,
        t(lang, msg),
        Some(session),
        html! {
            p.error { (t(lang, msg)) }
        },
    );
    (StatusCode::FORBIDDEN, view).into_response().into()
}
