//! Polling: `GET /api/poll?since=N` answers at once with whatever is new.
//!
//! The client asks on a timer, so a tick waits on average half the poll interval before
//! anyone asks for it; every request pays full HTTP headers, and most answers at a quiet
//! feed are empty. It is also the simplest transport to cache, retry and load-balance.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pushlab_contract::Transport;

use crate::error::ApiError;
use crate::feed::Batch;
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

/// `{"ticks":[…],"next":M,"missed":K}`, written around the ticks' shared JSON bytes:
/// the tick JSON is the very bytes SSE and WebSocket send.
pub fn batch_json(batch: &Batch) -> Vec<u8> {
    let ticks_len: usize = batch.ticks.iter().map(|t| t.json.len() + 1).sum();
    let mut body = Vec::with_capacity(ticks_len + 64);
    body.extend_from_slice(b"{\"ticks\":[");
    for (i, tick) in batch.ticks.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&tick.json);
    }
    body.extend_from_slice(format!("],\"next\":{},\"missed\":{}}}", batch.next, batch.missed).as_bytes());
    body
}

/// A JSON answer that no cache may keep: the same URL answers differently a moment later.
pub fn json_response(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::TickFrame;
    use std::sync::Arc;

    #[test]
    fn body_wraps_the_shared_tick_bytes() {
        let ticks = vec![
            Arc::new(TickFrame::new(3, 0, br#"{"seq":3}"#.to_vec())),
            Arc::new(TickFrame::new(4, 0, br#"{"seq":4}"#.to_vec())),
        ];
        let batch = Batch { ticks, next: 4, missed: 2, truncated: false };
        assert_eq!(
            String::from_utf8(batch_json(&batch)).unwrap(),
            r#"{"ticks":[{"seq":3},{"seq":4}],"next":4,"missed":2}"#
        );
        assert_eq!(batch_json(&Batch::default()), br#"{"ticks":[],"next":0,"missed":0}"#);
    }
}
