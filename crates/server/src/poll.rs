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
    let since = |e| ApiError::bad(format!("since: {e}"));
    let (batch, reset) = match params.cursor("since")? {
        Some(position) => {
            let resume = state.feed.resume(&position).map_err(since)?;
            // Never ahead: the resolved cursor is at most the head, which only grows.
            (state.feed.read(resume.cursor, filter, limit).map_err(since)?, resume.reset)
        }
        // No cursor: a fresh client gets the current price of each symbol and the head.
        None => (state.feed.latest(filter), false),
    };
    let body = batch_json(&batch, state.feed.epoch(), reset);
    active.counters().sent(batch.ticks.len(), body.len());
    Ok(json_response(body))
}
