//! Who calls the API, and what they may do: a person's own token (`persons`,
//! `snm_…`) with their roles, or a token from `[[api.managers]]` (the role of
//! manager). Each acts as themselves: the audit log records `person:<login>` (or
//! `manager:<name>`). A route says which roles may call it (`Actor::require`); any
//! other is 403. Configured tokens are compared in constant time; persons' tokens
//! are looked up by their SHA-256.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::problem::Problem;
use crate::app::App;
use crate::persons::Role;
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

    /// 403 unless the actor holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.iter().any(|r| self.roles.contains(r)) {
            return Ok(());
        }
        let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(Problem::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs the role of {}", wanted.join(" or ")),
        ))
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
