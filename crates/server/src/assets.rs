//! Serving the pages: `web/` as compiled into `pushlab-pages`, so the server runs from
//! anywhere, or from disk with `--web-dir` while editing them. Also the load generator's
//! results files, so `/report` can load `results/latest.json`.

use std::path::{Component, Path};

use axum::extract::{Path as UrlPath, State};
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Response};
use pushlab_pages::{content_type, get};

use crate::error::ApiError;
use crate::state::AppState;

/// A relative path with no `..`, root or prefix: nothing outside the folder.
fn is_inside(path: &str) -> bool {
    !path.is_empty() && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
}

async fn web_file(state: &AppState, path: &str) -> Result<Response, ApiError> {
    if !is_inside(path) {
        return Err(ApiError::NotFound);
    }
    let body = match &state.config.web_dir {
        Some(dir) => tokio::fs::read(dir.join(path)).await.map_err(|_| ApiError::NotFound)?,
        None => get(path).ok_or(ApiError::NotFound)?.to_vec(),
    };
    // nosniff: the browser uses the type we say, never guesses one from the bytes.
    let headers = [
        (header::CONTENT_TYPE, content_type(path)),
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, body).into_response())
}

/// `GET /`: the live demo.
pub async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    web_file(&state, "index.html").await
}

/// `GET /report`: the results report.
pub async fn report(State(state): State<AppState>) -> Result<Response, ApiError> {
    web_file(&state, "report.html").await
}

/// Any other path: a file of `web/` for GET or HEAD, else 404 or 405.
pub async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    web_file(&state, uri.path().trim_start_matches('/')).await
}

/// `GET /results/<name>.json`: a results file from `--results-dir`.
pub async fn results(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Response, ApiError> {
    let plain =
        name.ends_with(".json") && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !plain || !is_inside(&name) {
        return Err(ApiError::NotFound);
    }
    let body = tokio::fs::read(state.config.results_dir.join(&name)).await.map_err(|_| ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert!(is_inside("vendor/x.js"));
        for bad in ["", "../Cargo.toml", "/etc/passwd", "a/../../b"] {
            assert!(!is_inside(bad), "{bad}");
        }
    }
}
