//! `POST /api/admin/rate`: change the tick rate while clients are connected, from
//! the demo page's slider or a workshop script. Loopback peers only: it changes what
//! every client sees.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use pushlab_wire::RateBody;

use crate::error::ApiError;
use crate::state::AppState;
use crate::ticker::RATE_RANGE;

pub async fn set_rate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<RateBody>, ApiError> {
    if !peer.ip().is_loopback() {
        return Err(ApiError::Forbidden(format!(
            "admin endpoints answer loopback peers only, not {}",
            peer.ip()
        )));
    }
    let range = format!("a number from {} to {}", RATE_RANGE.start(), RATE_RANGE.end());
    // Parsed as a Value, not straight into RateBody: serde would also accept `[50]`.
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let rate = value.as_object().and_then(|o| o.get("rate")).and_then(|r| r.as_f64()).ok_or_else(|| {
        ApiError::bad(format!(r#"rate: expected a JSON body {{"rate": N}} with N {range}"#))
    })?;
    if !RATE_RANGE.contains(&rate) {
        return Err(ApiError::bad(format!("rate: expected {range}, got {rate}")));
    }
    state.rate.send_replace(rate);
    tracing::info!(rate, %peer, "tick rate changed");
    Ok(Json(RateBody { rate }))
}
