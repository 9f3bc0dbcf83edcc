//! Error answers as `application/problem+json` (RFC 9457), naming what was wrong.
//! Every handler's error is a `Problem`; none panics, and the text never carries
//! a reporter's identity or an appeal's content.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::journal::JournalError;

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    #[serde(skip)]
    pub status: StatusCode,
    /// A short, stable title for the kind of problem.
    pub title: String,
    /// What exactly was wrong, naming the field or header.
    pub detail: String,
    /// The offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds after which a retry may succeed (503).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title: title.to_owned(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// A 400 (or 422) about one field of the request.
    pub fn field(status: StatusCode, field: &str, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(status, "invalid field", detail)
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found", detail)
    }

    /// The database (or another dependency) is down: the client should retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable",
                detail,
            )
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            "the error was logged",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "field": self.field,
        });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<JournalError> for Problem {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Unavailable(_) => {
                tracing::warn!(error = %e, "journal unavailable");
                Problem::unavailable("the Journal's database is unavailable; retry later")
            }
            JournalError::NotFound(what) => Problem::not_found(format!("no appeal {what}")),
            e => {
                tracing::error!(error = %e, "journal error");
                Problem::internal()
            }
        }
    }
}

impl From<crate::alerts::AlertError> for Problem {
    fn from(e: crate::alerts::AlertError) -> Self {
        match e {
            crate::alerts::AlertError::Journal(e) => e.into(),
            e => {
                // Nothing was committed: the sender may retry.
                tracing::warn!(error = %e, "cannot queue an alert");
                Problem::unavailable("cannot queue the alert; retry later")
            }
        }
    }
}
