//! Who calls the API, and what they may do: a person's own token (`persons`,
//! `snm_…`) with their roles, or a token from `[[api.managers]]` (the role of
//! manager). Each acts as themselves: the audit log records `person:<login>` (or
//! `manager:<name>`). A route names the action it takes (`Authorized<R>`, `R` a
//! rule of `crate::rulebook`), and the rulebook says who may; any other is 403. Configured tokens are compared in constant time; persons' tokens
//! are looked up by their SHA-256.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::problem::Problem;
use crate::app::App;
use crate::persons::Role;
use crate::rulebook::{self, Acting, Action, Permit, Rule};
use crate::tokens::tokens_equal;

/// Someone authenticated by bearer token, with their roles.
#[derive(Clone, Debug)]
pub struct Actor {
    /// What the audit log records: `person:<login>` or `manager:<name>`.
    name: String,
    roles: Vec<Role>,
}

impl Actor {
    pub fn actor(&self) -> String {
        self.name.clone()
    }

    /// The rulebook's permit for `action`, or 403 naming the roles it needs.
    pub fn permit(&self, action: Action) -> Result<Permit, Problem> {
        Ok(rulebook::check(&self.roles, action)?)
    }

    /// `permit` where a deputy named in `deputies` (`[authority]`) may act too
    /// (`Action::deputy_may`).
    pub fn permit_as_deputy(&self, action: Action, deputies: &[String]) -> Result<Permit, Problem> {
        let login = self.name.strip_prefix("person:").unwrap_or_default();
        Ok(rulebook::check_deputy(
            &self.roles,
            login,
            deputies,
            action,
        )?)
    }
}

/// An actor the rulebook lets take the action of the rule `R`, with its permit:
/// a route that takes one cannot run for anyone else (403 as `Actor::permit`).
#[derive(Debug)]
pub struct Authorized<R: Rule> {
    pub actor: Actor,
    pub permit: Permit,
    rule: PhantomData<R>,
}

impl<R: Rule> Authorized<R> {
    /// What the audit log records.
    pub fn actor(&self) -> String {
        self.actor.actor()
    }

    /// The caller as the domain's entry point for `R` takes them
    /// (`rulebook::Acting`), from the permit the extractor was given.
    pub fn acting(self) -> Result<Acting<R>, Problem> {
        let name = self.actor.actor();
        Ok(self.permit.acting(name)?)
    }
}

impl<R: Rule + Send + Sync> FromRequestParts<Arc<App>> for Authorized<R> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let actor = Actor::from_request_parts(parts, app).await?;
        let permit = actor.permit(R::ACTION)?;
        Ok(Authorized {
            actor,
            permit,
            rule: PhantomData,
        })
    }
}

/// The token of an `Authorization: Bearer …` header (the managers' and the PBXes').
pub fn bearer(headers: &HeaderMap) -> Result<&str, Problem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Problem::unauthorized("missing Authorization header (Bearer token)"))?;
    let value = value
        .to_str()
        .map_err(|_| Problem::unauthorized("Authorization header is not ASCII"))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Problem::unauthorized("Authorization header must be `Bearer <token>`"))
}

impl FromRequestParts<Arc<App>> for Actor {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)?;
        if token.starts_with(crate::persons::TOKEN_PREFIX) {
            return match app.persons.authenticate(token).await {
                Ok(Some(person)) => Ok(Actor {
                    name: person.actor(),
                    roles: person.roles,
                }),
                Ok(None) => Err(Problem::unauthorized("unknown or disabled token")),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot check a person's token");
                    Err(Problem::unavailable(
                        "cannot check the token now; retry later",
                    ))
                }
            };
        }
        app.managers
            .iter()
            .find(|m| tokens_equal(&m.token, token))
            .map(|m| Actor {
                name: format!("manager:{}", m.name),
                roles: vec![Role::Manager],
            })
            .ok_or_else(|| Problem::unauthorized("unknown or disabled token"))
    }
}
