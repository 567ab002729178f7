//! One error type for every handler, mapped to a JSON body `{"error", "code"}` (plus `"field"`
//! when one input is at fault) and a status. Domain errors become HTTP errors here, in one
//! `From`, and nowhere else.
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::DbError;
use crate::domains::error::{DomainError, chain};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Validation(String),
    /// A 400 or 422 that names the input at fault.
    #[error("{message}")]
    Field {
        status: StatusCode,
        field: &'static str,
        message: String,
    },
    #[error("{}", unauthorized_message(.0))]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `retry-after`: at capacity (the render budget).
    #[error("the server is busy; try again in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(String),
}

fn unauthorized_message(code: &str) -> &'static str {
    match code {
        "wrong_password" => "that password is not correct",
        "session_invalid" => "your session is invalid or has expired; log in again",
        "token_invalid" => "the sign-in token is invalid or has expired",
        _ => "authentication required",
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub code: String,
    /// The input at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Field { status, .. } => *status,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Validation(_) => "validation_failed",
            ApiError::Field { status, .. } if *status == StatusCode::BAD_REQUEST => "bad_request",
            ApiError::Field { .. } => "validation_failed",
            ApiError::Unauthorized(code) => code,
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: self.to_string(),
            code: self.code().to_owned(),
            field: match &self {
                ApiError::Field { field, .. } => Some((*field).to_owned()),
                _ => None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after_secs }
        | ApiError::Overloaded { retry_after_secs } = self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound(what) => ApiError::NotFound(what),
            DomainError::Invalid {
                field: Some(field),
                message,
            } => ApiError::Field {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                field,
                message,
            },
            DomainError::Invalid {
                field: None,
                message,
            } => ApiError::Validation(message),
            DomainError::Malformed {
                field: Some(field),
                message,
            } => ApiError::Field {
                status: StatusCode::BAD_REQUEST,
                field,
                message,
            },
            DomainError::Malformed {
                field: None,
                message,
            } => ApiError::BadRequest(message),
            DomainError::Conflict { message, .. } => ApiError::Conflict(message),
            DomainError::Forbidden(message) => ApiError::Forbidden(message),
            DomainError::TooLarge => ApiError::PayloadTooLarge,
            DomainError::UnsupportedMedia(message) => ApiError::UnsupportedMediaType(message),
            DomainError::RateLimited { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            DomainError::Unavailable { message, .. } => ApiError::Unavailable(message),
            DomainError::Overloaded { retry_after_secs } => {
                ApiError::Overloaded { retry_after_secs }
            }
            internal @ DomainError::Internal { .. } => ApiError::Internal(chain(&internal)),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            JsonRejection::JsonDataError(e) => ApiError::Validation(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<MultipartRejection> for ApiError {
    fn from(rejection: MultipartRejection) -> Self {
        // No multipart Content-Type (or no boundary): the body is not of the kind this takes.
        ApiError::UnsupportedMediaType(format!(
            "expected a multipart/form-data body: {}",
            rejection.body_text()
        ))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
