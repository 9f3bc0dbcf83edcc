//! Who may call the manager's API: bearer tokens from `[[api.managers]]`, each
//! with a name that goes into the audit log. Tokens are compared in constant time.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::problem::Problem;
use crate::app::App;

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

/// One configured manager with the token already read from its file.
#[derive(Clone)]
pub struct ManagerToken {
    pub name: String,
    pub token: String,
}

/// Equal in constant time: both sides are hashed first so length leaks nothing.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(parts: &Parts) -> Result<&str, Problem> {
    let value = parts
        .headers
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
        let token = bearer(parts)?;
        app.managers
            .iter()
            .find(|m| tokens_equal(&m.token, token))
            .map(|m| Manager {
                name: m.name.clone(),
            })
            .ok_or_else(|| Problem::unauthorized("unknown manager token"))
    }
}

#[cfg(test)]
mod tests {
    use super::tokens_equal;

    #[test]
    fn tokens_compare_by_value() {
        assert!(tokens_equal("s3cret", "s3cret"));
        assert!(!tokens_equal("s3cret", "s3cre"));
        assert!(!tokens_equal("s3cret", "S3cret"));
    }
}
