//! Who may call the manager's API: bearer tokens from `[[api.managers]]`, each
//! with a name that goes into the audit log. Tokens are compared in constant time.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::problem::Problem;
use crate::app::App;
use crate::tokens::tokens_equal;

/// A manager authenticated by bearer token; `actor` is what the audit log records.
#[derive(Clone, Debug)]
pub struct Manager {
    pub name: String,
}

impl Manager {
    pub fn actor(&self) -> String {
        format!("manager:{}", self.name)
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

impl FromRequestParts<Arc<App>> for Manager {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)?;
        app.managers
            .iter()
            .find(|m| tokens_equal(&m.token, token))
            .map(|m| Manager {
                name: m.name.clone(),
            })
            .ok_or_else(|| Problem::unauthorized("unknown manager token"))
    }
}
