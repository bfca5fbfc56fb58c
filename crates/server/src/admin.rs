//! `POST /api/admin/rate`: change the tick rate while clients are connected, from
//! the demo page's control or a workshop script. It changes what every client sees,
//! so it answers only this machine: a loopback peer, a loopback `Host` (no DNS
//! rebinding), a JSON body (a cross-site page must then ask permission first, a CORS
//! preflight we never grant), and no foreign `Origin`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use pushlab_contract::RateBody;

use crate::error::ApiError;
use crate::origin::{check_origin, host, is_loopback_host};
use crate::state::AppState;
use pushlab_contract::limits::RATE_RANGE;

pub async fn set_rate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<RateBody>, ApiError> {
    // to_canonical: a v4 peer on a dual-stack socket shows as ::ffff:127.0.0.1.
    if !peer.ip().to_canonical().is_loopback() {
        return Err(ApiError::Forbidden(format!(
            "admin endpoints answer loopback peers only, not {}",
            peer.ip()
        )));
    }
    if !is_loopback_host(host(&headers)) {
        return Err(ApiError::Forbidden("admin endpoints answer requests to localhost only".into()));
    }
    check_origin(&headers, &state.config.allow_origin, state.own_ports())?;
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !json.is_some_and(|v| v.starts_with("application/json")) {
        return Err(ApiError::bad("rate: send the body as Content-Type: application/json"));
    }
    let rate = rate_from_json(&body).map_err(ApiError::BadRequest)?;
    // A replica's rate is the publisher's: the change goes there through the broker.
    if let Some(link) = state.broker.get().filter(|link| link.role == crate::broker::Role::Replica) {
        let body = crate::broker::forward_rate(link, rate).await?;
        tracing::info!(rate, %peer, "tick rate change passed to the publisher");
        return Ok(Json(body));
    }
    if apply_rate(&state, rate) {
        tracing::info!(rate, %peer, "tick rate changed");
    }
    Ok(Json(RateBody { rate }))
}

/// The rate of a `{"rate": N}` body, range checked; the error names `rate` and the range.
pub fn rate_from_json(body: &[u8]) -> Result<f64, String> {
    let range = format!("a number from {} to {}", RATE_RANGE.start(), RATE_RANGE.end());
    // Parsed as a Value, not straight into RateBody: serde would also accept `[50]`.
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let rate = value
        .as_object()
        .and_then(|o| o.get("rate"))
        .and_then(|r| r.as_f64())
        .ok_or_else(|| format!(r#"rate: expected a JSON body {{"rate": N}} with N {range}"#))?;
    if RATE_RANGE.contains(&rate) { Ok(rate) } else { Err(format!("rate: expected {range}, got {rate}")) }
}

/// Sets this server's ticker to `rate`; whether it changed.
pub fn apply_rate(state: &AppState, rate: f64) -> bool {
    // The ticker restarts its schedule on a change: an unchanged rate (a slider
    // re-posting its value) must not, or at 0.1 ticks/s no tick would ever come.
    state.rate.send_if_modified(|current| std::mem::replace(current, rate) != rate)
}
