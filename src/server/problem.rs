//! Error answers as `application/problem+json` (RFC 9457), naming what was wrong.
//! Every handler's error is a `Problem`; none panics, and the text never carries
//! a reporter's identity or an appeal's content. The one place where a domain
//! error gets its HTTP status (one `From` per error: the Journal's, the
//! alerts', the PBX's, a classification's, a case act's, the deadlines', the
//! outbox's, the investigation file's, the documents', the rulebook's refusal):
//! 400, 401, 403, 404, 409, 413, 415, 422, 500, and 503 with `Retry-After`. The
//! API answers with the `Problem`; the console shows its `status` and `detail`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::alerts::AlertError;
use crate::cases::{ActError, ClassifyError};
use crate::deadlines::DeadlineError;
use crate::documents::DocumentError;
use crate::investigation::InvestigationError;
use crate::journal::JournalError;
use crate::outbox::OutboxError;
use crate::pbx::error::{PbxError, Syntax};
use crate::rulebook::Denied;

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

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// The body (or one part of it, `field`) is larger than the limit.
    pub fn too_large(field: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            field: field.map(str::to_owned),
            ..Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload too large", detail)
        }
    }

    /// The request's media type (named by `field`, a header) is not one the route takes.
    pub fn unsupported_media_type(field: &str, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
                detail,
            )
        }
    }

    /// A multipart body that cannot be read.
    pub fn malformed_multipart(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed multipart", detail)
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

    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What exactly was wrong, for a page that says it (the console).
    pub fn detail(&self) -> &str {
        &self.detail
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
            JournalError::Sealing(e @ crate::sealing::SealError::Unverified(_)) => sealing_held(e),
            JournalError::NotAllowed(why) => {
                Problem::new(StatusCode::CONFLICT, "not allowed in this state", why)
            }
            e => {
                tracing::error!(error = %e, "journal error");
                Problem::internal()
            }
        }
    }
}

/// Nothing is sealed to an office key whose row does not verify (logged where it
/// was found), and nothing is stored plain instead: the sender retries, and
/// intake resumes once the key verifies.
fn sealing_held(e: crate::sealing::SealError) -> Problem {
    tracing::error!(error = %e, "refused: sealing is held");
    Problem::unavailable("sealing is held: the office key is not authenticated; retry later")
}

impl From<AlertError> for Problem {
    fn from(e: AlertError) -> Self {
        match e {
            AlertError::Journal(e) => e.into(),
            e => {
                // Nothing was committed: the sender may retry.
                tracing::warn!(error = %e, "cannot queue an alert");
                Problem::unavailable("cannot queue the alert; retry later")
            }
        }
    }
}

impl From<PbxError> for Problem {
    fn from(e: PbxError) -> Self {
        match e {
            PbxError::Malformed {
                syntax,
                field,
                detail,
            } => {
                let title = match syntax {
                    Syntax::Json => "malformed JSON",
                    Syntax::Form => "malformed form data",
                };
                Problem {
                    field,
                    ..Problem::new(StatusCode::BAD_REQUEST, title, detail)
                }
            }
            PbxError::InvalidField { field, detail } => {
                Problem::field(StatusCode::BAD_REQUEST, &field, detail)
            }
            PbxError::Refused { field, detail } => {
                Problem::field(StatusCode::UNPROCESSABLE_ENTITY, &field, detail)
            }
            PbxError::Unauthenticated(detail) => Problem::unauthorized(detail),
            PbxError::Forbidden(detail) => Problem::forbidden(detail),
            PbxError::RetryLater(detail) => Problem::unavailable(detail),
            PbxError::Database(e) if crate::db::is_unavailable(&e) => {
                tracing::warn!(error = %e, "pbx: database unavailable");
                Problem::unavailable("the database is unavailable; retry later")
            }
            PbxError::Database(e) => {
                tracing::error!(error = %e, "pbx: database error");
                Problem::internal()
            }
            PbxError::Journal(e) => e.into(),
            PbxError::Alert(e) => e.into(),
            PbxError::Seal(e @ crate::sealing::SealError::Unverified(_)) => sealing_held(e),
            PbxError::Seal(e) => {
                tracing::error!(error = %e, "pbx: sealing failed");
                Problem::internal()
            }
            PbxError::Internal(what) => {
                tracing::error!(error = what, "pbx: internal error");
                Problem::internal()
            }
        }
    }
}

/// The rulebook's refusal: 403, naming the roles the action needs ("this needs
/// the role of manager or director").
impl From<Denied> for Problem {
    fn from(denied: Denied) -> Self {
        Problem::forbidden(denied.to_string())
    }
}

impl From<ClassifyError> for Problem {
    fn from(e: ClassifyError) -> Self {
        match e {
            ClassifyError::Journal(j) => j.into(),
            ClassifyError::Unclassified => {
                Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "category", e.to_string())
            }
            ClassifyError::NoReason => {
                Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "reason", e.to_string())
            }
            ClassifyError::Closed => Problem::new(StatusCode::CONFLICT, "closed", e.to_string()),
            ClassifyError::Deadlines(text) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", text)
            }
            ClassifyError::Alerts(AlertError::Journal(j)) => j.into(),
            ClassifyError::Alerts(AlertError::Outbox(OutboxError::Unavailable(_))) => {
                Problem::unavailable("the database is unavailable; retry later")
            }
            ClassifyError::Alerts(e) => {
                tracing::error!(error = %e, "classification failed");
                Problem::internal()
            }
        }
    }
}

/// An act or a deadline event that does not fit the appeal: 422, saying why.
fn invalid_event(why: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid deadline event",
        why,
    )
}

impl From<DeadlineError> for Problem {
    fn from(e: DeadlineError) -> Self {
        match e {
            DeadlineError::Journal(j) => j.into(),
            DeadlineError::Invalid(m) => invalid_event(m),
            DeadlineError::Corrupt(m) | DeadlineError::Tampered(m) => {
                tracing::error!(error = m, "deadlines table");
                Problem::internal()
            }
        }
    }
}

impl From<ActError> for Problem {
    fn from(e: ActError) -> Self {
        match e {
            ActError::Journal(j) => j.into(),
            ActError::Invalid(m) => invalid_event(m),
            ActError::Denied(d) => d.into(),
            ActError::Alerts(e) => {
                tracing::error!(error = %e, "alerts");
                Problem::internal()
            }
        }
    }
}

impl From<OutboxError> for Problem {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::Unavailable(_) => {
                Problem::unavailable("the database is unavailable; retry later")
            }
            OutboxError::NotFound(id) => Problem::not_found(format!("no mail {id} in the outbox")),
            e => {
                tracing::error!(error = %e, "outbox");
                Problem::internal()
            }
        }
    }
}

/// The investigation file's errors: who may not (403), what does not fit the
/// file (422), no file (404), a sealed file not opened (403).
impl From<InvestigationError> for Problem {
    fn from(e: InvestigationError) -> Self {
        match e {
            InvestigationError::Journal(j) => j.into(),
            InvestigationError::Act(e) => e.into(),
            InvestigationError::Forbidden(why) | InvestigationError::Locked(why) => {
                Problem::forbidden(why)
            }
            InvestigationError::NotFound(why) => Problem::not_found(why),
            InvestigationError::Invalid(why) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why)
            }
            InvestigationError::Sealing(e @ crate::sealing::SealError::Unverified(_)) => {
                sealing_held(e)
            }
            e @ InvestigationError::Sealing(_) => {
                tracing::error!(error = %e, "the investigation file failed");
                Problem::unavailable("the investigation file cannot be opened now; retry later")
            }
        }
    }
}

/// The documents' errors: refused (422, saying why), not in the register (404).
impl From<DocumentError> for Problem {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Journal(j) => j.into(),
            DocumentError::Refused(why) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", why)
            }
            DocumentError::NotFound(_) => Problem::not_found(e.to_string()),
            e => {
                tracing::error!(error = %e, "cannot make a document");
                Problem::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every refusal of the PBX gets its status here, and keeps its field.
    #[test]
    fn pbx_errors_map_to_their_status_and_field() {
        let cases = [
            (
                PbxError::Malformed {
                    syntax: Syntax::Form,
                    field: Some("uniqueid".into()),
                    detail: "uniqueid has a bad % escape".into(),
                },
                StatusCode::BAD_REQUEST,
                "malformed form data",
                Some("uniqueid"),
            ),
            (
                PbxError::missing("call_id"),
                StatusCode::BAD_REQUEST,
                "invalid field",
                Some("call_id"),
            ),
            (
                PbxError::refused("end", "end is before start"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid field",
                Some("end"),
            ),
            (
                PbxError::Unauthenticated("unknown PBX token".into()),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                None,
            ),
            (
                PbxError::Forbidden("not in allowed_networks".into()),
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
            ),
            (
                PbxError::RetryLater("a concurrent delivery".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable",
                None,
            ),
        ];
        for (error, status, title, field) in cases {
            let detail = error.to_string();
            let p = Problem::from(error);
            assert_eq!(p.status, status, "{detail}");
            assert_eq!(p.title, title, "{detail}");
            assert_eq!(p.detail, detail);
            assert_eq!(p.field.as_deref(), field, "{detail}");
            assert_eq!(
                p.retry_after.is_some(),
                status == StatusCode::SERVICE_UNAVAILABLE
            );
        }
    }

    /// The mappings the API's routes had each of their own, unchanged.
    #[test]
    fn case_errors_keep_their_status_title_and_field() {
        let cases = [
            (
                Problem::from(ClassifyError::NoReason),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid field",
                Some("reason"),
            ),
            (
                Problem::from(ClassifyError::Unclassified),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid field",
                Some("category"),
            ),
            (
                Problem::from(ClassifyError::Closed),
                StatusCode::CONFLICT,
                "closed",
                None,
            ),
            (
                Problem::from(ActError::Invalid("on: in the future".into())),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid deadline event",
                None,
            ),
            (
                Problem::from(DeadlineError::Invalid("until: too late".into())),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid deadline event",
                None,
            ),
            (
                Problem::from(OutboxError::NotFound(7)),
                StatusCode::NOT_FOUND,
                "not found",
                None,
            ),
        ];
        for (p, status, title, field) in cases {
            assert_eq!(p.status(), status, "{}", p.detail());
            assert_eq!(p.title, title, "{}", p.detail());
            assert_eq!(p.field.as_deref(), field, "{}", p.detail());
        }
        assert_eq!(
            Problem::from(OutboxError::NotFound(7)).detail(),
            "no mail 7 in the outbox"
        );
    }

    #[test]
    fn a_refusal_of_the_rulebook_is_403_naming_the_roles() {
        let refused = crate::rulebook::check(&[], crate::rulebook::Action::CorrectDetails)
            .map_err(Problem::from)
            .err();
        let Some(p) = refused else {
            panic!("nobody holding no role is let through");
        };
        assert_eq!(p.status(), StatusCode::FORBIDDEN);
        assert_eq!(p.title, "forbidden");
        assert_eq!(p.detail(), "this needs the role of manager or director");
    }
}
