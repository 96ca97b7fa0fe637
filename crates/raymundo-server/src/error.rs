//! One error type for every route: the client gets a status and a message naming what was
//! wrong; the log gets the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// A signature or API key is missing.
    #[error("{0}")]
    Unauthorized(String),
    /// A signature, verify token or API key is wrong.
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than allowed.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The channel is not configured on this server.
    #[error("{0} is not configured on this server (see `raymundo serve --help`)")]
    NotConfigured(&'static str),
    /// Too many requests from one sender.
    #[error("too many messages from this sender; try again in a minute")]
    RateLimited,
    /// Too many wrong tokens from this address; refused until the back-off is over.
    #[error("too many wrong tokens from this address; try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until tokens are taken again.
        retry_after_secs: u64,
    },
    /// The request's body did not arrive within the body timeout.
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// Something failed on our side; the cause is logged, not shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotConfigured(_) => StatusCode::NOT_FOUND,
            ApiError::RateLimited | ApiError::TooManyAttempts { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(cause) => tracing::error!("internal error: {cause:#}"),
            other => tracing::info!(status = status.as_u16(), "refused: {other}"),
        }
        let mut resp = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if let ApiError::TooManyAttempts { retry_after_secs } = self {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        resp
    }
}

impl From<raymundo_store::StoreError> for ApiError {
    fn from(e: raymundo_store::StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(anyhow::anyhow!("a worker task failed: {e}"))
    }
}
