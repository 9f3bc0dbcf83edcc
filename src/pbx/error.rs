//! What the telephone channel refuses, and why, in its own terms: which field is
//! wrong and what is wrong with it, which caller is not let in, or that nothing
//! was committed and a retry may succeed. Nothing here knows HTTP:
//! the server's `problem` module gives each kind its status.

use crate::alerts::AlertError;
use crate::journal::JournalError;
use crate::sealing::SealError;

/// The syntax a body failed to parse as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Form,
}

#[derive(Debug, thiserror::Error)]
pub enum PbxError {
    /// The body is not the JSON object or the form it claims to be; `field` names
    /// the form field at fault, when one is.
    #[error("{detail}")]
    Malformed {
        syntax: Syntax,
        field: Option<String>,
        detail: String,
    },
    /// A field is missing, or its value cannot be read.
    #[error("{detail}")]
    InvalidField { field: String, detail: String },
    /// A field reads well but its value is refused: a time that cannot be, an
    /// unknown disposition or event, a number that is not the trust line's.
    #[error("{detail}")]
    Refused { field: String, detail: String },
    /// No PBX is known by the token, or its signature does not hold.
    #[error("{0}")]
    Unauthenticated(String),
    /// The PBX is known but posts from an address it is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing was committed and a retry may succeed (a concurrent delivery, a
    /// recording that cannot be stored yet).
    #[error("{0}")]
    RetryLater(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Alert(#[from] AlertError),
    /// A number, URL or recording could not be sealed, or a value the daemon
    /// sealed for itself could not be opened (sealing on, the intake key missing
    /// or changed).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A bug: the answer could not be built.
    #[error("internal: {0}")]
    Internal(&'static str),
}

impl PbxError {
    /// `field` is missing.
    pub fn missing(field: &str) -> Self {
        PbxError::InvalidField {
            field: field.to_owned(),
            detail: format!("{field} is missing"),
        }
    }

    /// `field` cannot be read: `what` says why (`must not be empty`).
    pub fn invalid(field: &str, what: &str) -> Self {
        PbxError::InvalidField {
            field: field.to_owned(),
            detail: format!("{field} {what}"),
        }
    }

    /// `field`'s value is refused; `detail` is the whole message.
    pub fn refused(field: &str, detail: impl Into<String>) -> Self {
        PbxError::Refused {
            field: field.to_owned(),
            detail: detail.into(),
        }
    }

    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            PbxError::Malformed { field, .. } => field.as_deref(),
            PbxError::InvalidField { field, .. } | PbxError::Refused { field, .. } => Some(field),
            _ => None,
        }
    }
}
