//! Polling: `GET /api/poll?since=N` answers at once with whatever is new.
//!
//! The client asks on a timer, so a tick waits on average half the poll interval before
//! anyone asks for it; every request pays full HTTP headers, and most answers at a quiet
//! feed are empty. It is also the simplest transport to cache, retry and load-balance.

use axum::extract::State;
use axum::response::Response;
use pushlab_contract::Transport;

use crate::error::ApiError;
use crate::json_body::{batch_json, json_response};
use crate::params::Params;
use crate::state::AppState;

/// `GET /api/poll?since=N[&limit=L][&symbols=A,B]`
pub async fn poll(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let active = state.active(Transport::Poll);
    active.counters().request();
    let filter = params.symbols(&state.feed)?;
    let limit = params.limit()?;
    let batch = match params.cursor("since")? {
        Some(cursor) => {
            state.feed.read(cursor, filter, limit).map_err(|e| ApiError::bad(format!("since: {e}")))?
        }
        // No cursor: a fresh client gets the current price of each symbol and the head.
        None => state.feed.latest(filter),
    };
    let body = batch_json(&batch);
    active.counters().sent(batch.ticks.len(), body.len());
    Ok(json_response(body))
}
