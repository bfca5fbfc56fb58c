//! The one error type handlers return: clients get a status and `{"error": "…"}`
//! naming what was wrong, never a server internal.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pushlab_contract::ErrorBody;

/// Seconds a client turned away at the connection cap is told to wait.
pub const RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is missing, malformed or out of range; the message names it.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// `--max-connections` streams, WebSockets and pending long-polls are open.
    #[error("the server is at its limit of {limit} open connections; retry in {RETRY_AFTER_SECS} s")]
    TooManyConnections { limit: u64 },
    /// The connection layer will not serve this request (a malformed or oversized head,
    /// an unsupported body): the status to answer with, then the connection closes.
    #[error("{1}")]
    Protocol(StatusCode, String),
    /// The server is shutting down: the connection layer closes the connection instead
    /// of answering (see `http1::CloseUnanswered`).
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl ApiError {
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::ShuttingDown = self {
            // Not a 503: the connection closes unanswered, which a browser's `EventSource`
            // retries after (a 503 ends it for good), and the retry finds the next run.
            let mut response = Response::default();
            response.extensions_mut().insert(crate::http1::CloseUnanswered);
            return response;
        }
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Protocol(status, _) => *status,
            ApiError::TooManyConnections { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ShuttingDown => unreachable!("answered above"),
        };
        let body = Json(ErrorBody { error: self.to_string() });
        if status == StatusCode::SERVICE_UNAVAILABLE {
            (status, [(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())], body).into_response()
        } else {
            (status, body).into_response()
        }
    }
}
