//! Long-polling: `GET /api/long-poll?since=N` answers at once if something is new,
//! else holds the request open until a matching tick arrives or `timeout_ms` passes.
//!
//! Latency is close to a push transport's (one round trip after each answer), but every
//! delivery costs a new request with full headers, and each waiting client holds a
//! connection and a cap permit. At a busy feed it degrades into polling as fast as
//! the round trip allows.

use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use pushlab_contract::Transport;
use pushlab_contract::limits::{LONG_POLL_TIMEOUT_MS_DEFAULT, LONG_POLL_TIMEOUT_MS_RANGE};

use crate::error::ApiError;
use crate::params::Params;
use crate::poll::{batch_json, json_response};
use crate::state::AppState;

/// `GET /api/long-poll?since=N[&timeout_ms=T][&limit=L][&symbols=A,B]`
pub async fn long_poll(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let mut active = state.active(Transport::LongPoll);
    active.counters().request();
    let filter = params.symbols(&state.feed)?;
    let limit = params.limit()?;
    let timeout = Duration::from_millis(params.int_in(
        "timeout_ms",
        LONG_POLL_TIMEOUT_MS_RANGE,
        LONG_POLL_TIMEOUT_MS_DEFAULT,
    )?);
    // No cursor: wait for the next tick after now.
    let mut cursor = params.cursor("since")?.unwrap_or_else(|| state.feed.head());
    let read =
        |cursor| state.feed.read(cursor, filter, limit).map_err(|e| ApiError::bad(format!("since: {e}")));

    let mut batch = read(cursor)?;
    if batch.ticks.is_empty() && batch.missed == 0 {
        // Nothing to say yet: hold the request. Only now does it take a cap permit.
        active.hold_open()?;
        let mut head = state.feed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        while batch.ticks.is_empty() && batch.missed == 0 {
            // Ticks for other symbols move the head but not this client: skip past them.
            cursor = batch.next;
            tokio::select! {
                woke = head.wait_for(|&h| h > cursor) => if woke.is_err() { break },
                _ = tokio::time::sleep_until(deadline) => break,
                // Shutting down: answer now (empty) so the client comes back to a live server.
                _ = state.shutdown.cancelled() => break,
            }
            batch = read(cursor)?;
        }
        // Timed out or stopping: one last read, so `next` is the head at answer time.
        if batch.ticks.is_empty() && batch.missed == 0 {
            batch = read(batch.next)?;
        }
    }
    let body = batch_json(&batch);
    active.counters().sent(batch.ticks.len(), body.len());
    Ok(json_response(body))
}
