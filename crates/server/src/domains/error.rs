//! What went wrong in a domain, named by what happened. Services return it; routes never build
//! it from HTTP and services never see a status: `impl From<DomainError> for ApiError` in
//! http/error.rs is the one place that maps it to status + JSON.
use std::error::Error as StdError;
use std::sync::Arc;

use crate::db::DbError;

/// An error kept as a cause: shared so that an error fanned out to several waiters (the bot's
/// group-commit writer) keeps its chain.
pub type Cause = Arc<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing asked for does not exist (or belongs to another workspace: the same answer).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A value breaks a rule; `field` names the input when there is one.
    #[error("{message}")]
    Invalid {
        field: Option<&'static str>,
        message: String,
    },
    /// The request cannot be read at all (not JSON, a malformed parameter).
    #[error("{message}")]
    Malformed {
        field: Option<&'static str>,
        message: String,
    },
    /// The change collides with what is stored.
    #[error("{message}")]
    Conflict { kind: ConflictKind, message: String },
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// An upload or body over its size limit.
    #[error("request body is too large")]
    TooLarge,
    /// Content of a kind this operation does not take (e.g. not an image).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// Too many attempts; try again after the given time.
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// This process is at capacity for the work (the render budget): retry after the time.
    #[error("the server is busy; try again in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    /// Something this depends on (the database, the coupon CRM, storage) cannot answer now.
    #[error("{message}")]
    Unavailable {
        dependency: &'static str,
        message: String,
    },
    /// A bug or a broken invariant; the cause chain is kept for the log, never shown.
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Cause>,
    },
}

/// How a change collides with what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Something with the same unique name or key exists.
    Duplicate,
    /// The caller edited an older version than the stored one.
    StaleVersion,
    /// The record's current state does not allow the change (e.g. a finished broadcast).
    State,
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn invalid(message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: None,
            message: message.into(),
        }
    }

    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        DomainError::Malformed {
            field: None,
            message: message.into(),
        }
    }

    pub fn malformed_field(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Malformed {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        DomainError::Conflict {
            kind: ConflictKind::State,
            message: message.into(),
        }
    }

    pub fn duplicate(message: impl Into<String>) -> Self {
        DomainError::Conflict {
            kind: ConflictKind::Duplicate,
            message: message.into(),
        }
    }

    pub fn stale_version(message: impl Into<String>) -> Self {
        DomainError::Conflict {
            kind: ConflictKind::StaleVersion,
            message: message.into(),
        }
    }

    pub fn unavailable(dependency: &'static str, message: impl Into<String>) -> Self {
        DomainError::Unavailable {
            dependency,
            message: message.into(),
        }
    }

    /// A broken invariant with no underlying error.
    pub fn internal(context: impl Into<String>) -> Self {
        DomainError::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// A broken invariant caused by `source`, kept in the chain.
    pub fn internal_from(
        context: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        DomainError::Internal {
            context: context.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// Worth retrying later (a dependency is down), as opposed to a refusal that will not change.
    pub fn is_transient(&self) -> bool {
        matches!(self, DomainError::Unavailable { .. })
    }
}

impl From<DbError> for DomainError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                DomainError::unavailable(
                    "database",
                    "the database is unavailable; try again shortly",
                )
            }
            DbError::Conflict(detail) => {
                DomainError::duplicate(format!("already exists ({detail})"))
            }
            DbError::Constraint(detail) => DomainError::invalid(detail),
            DbError::NotFound => DomainError::NotFound("record"),
            other @ DbError::Other { .. } => DomainError::internal_from("database", other),
        }
    }
}

/// `err` and its causes, `: `-separated, for logs and stored failure reasons.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}
