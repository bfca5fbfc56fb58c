//! Long-polling: `GET /api/long-poll?since=N` answers at once if something is new,
//! else holds the request open until a matching tick arrives or `timeout_ms` passes.
//!
//! Latency is close to a push transport's (one round trip after each answer), but every
//! delivery costs a new request with full headers, and each waiting client holds a
//! connection and a cap permit. At a busy feed it degrades into polling as fast as
//! the round trip allows.
//!
//! A `since` of another epoch is answered at once, like a gap: `"reset":true` with the
//! ticks from the oldest still held, so the client learns of the restart without
//! waiting for the next tick.

use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use pushlab_contract::Transport;
use pushlab_contract::limits::{LONG_POLL_TIMEOUT_MS_DEFAULT, LONG_POLL_TIMEOUT_MS_RANGE};

use crate::cursor::Cursor;
use crate::error::ApiError;
use crate::json_body::{batch_json, json_response};
use crate::params::Params;
use crate::state::AppState;

/// `GET /api/long-poll?since=N[&timeout_ms=T][&limit=L][&symbols=A,B]`
pub async fn long_poll(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let mut active = state.active(Transport::LongPoll);
    active.counters().request();
    let filter = params.symbols(&state.feed)?;
    let limit = params.limit()?;
    let timeout_ms = params.int_in("timeout_ms", LONG_POLL_TIMEOUT_MS_RANGE, LONG_POLL_TIMEOUT_MS_DEFAULT)?;
    // No cursor: wait for the next tick after now.
    let mut cursor = Cursor::resume(&state.feed, params.cursor("since")?.as_ref(), filter)
        .map_err(|e| ApiError::bad(format!("since: {e}")))?;
    let reset = cursor.take_reset();

    // The first read answers at once if something is new; otherwise the request is held
    // (only then taking a cap permit) until a read finds something or the time is up.
    // The batch lives only between a read and the answer, not across the wait.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
    let mut held = false;
    let batch = loop {
        let batch = cursor.read(limit);
        if reset || !batch.is_empty() || held && tokio::time::Instant::now() >= deadline {
            break batch;
        }
        if !held {
            active.hold_open()?;
            held = true;
        }
        tokio::select! {
            () = cursor.ready() => {}
            // After a timeout: one last read, so `next` is the head at answer time.
            _ = tokio::time::sleep_until(deadline) => {}
            // Shutting down: answer now (empty) so the client comes back to a live server.
            _ = state.shutdown.cancelled() => break cursor.read(limit),
        }
    };
    let body = batch_json(&batch, state.feed.epoch(), reset);
    active.counters().sent(batch.ticks.len(), body.len());
    Ok(json_response(body))
}
