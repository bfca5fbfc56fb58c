//! The JSON body poll and long-poll both answer with:
//! `{"ticks":[…],"next":M,"missed":K,"epoch":"…"}` (and `"reset":true` when the client's
//! cursor was of another epoch), written around the ticks' shared bytes.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::feed::Batch;

/// `{"ticks":[…],"next":M,"missed":K,"epoch":"…"[,"reset":true]}`, the layout of
/// `pushlab_contract::PollResponse`, written around the ticks' shared JSON bytes: the
/// tick JSON is the very bytes SSE and WebSocket send. `epoch` is the run `next` belongs
/// to (`[a-z0-9]`, nothing to escape).
pub fn batch_json(batch: &Batch, epoch: &str, reset: bool) -> Vec<u8> {
    let ticks_len: usize = batch.ticks.iter().map(|t| t.json.len() + 1).sum();
    let mut body = Vec::with_capacity(ticks_len + 96);
    body.extend_from_slice(b"{\"ticks\":[");
    for (i, tick) in batch.ticks.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&tick.json);
    }
    // By hand, not `format!`: it runs for every answer.
    let mut number = itoa::Buffer::new();
    body.extend_from_slice(b"],\"next\":");
    body.extend_from_slice(number.format(batch.next).as_bytes());
    body.extend_from_slice(b",\"missed\":");
    body.extend_from_slice(number.format(batch.missed).as_bytes());
    body.extend_from_slice(b",\"epoch\":\"");
    body.extend_from_slice(epoch.as_bytes());
    body.push(b'"');
    if reset {
        body.extend_from_slice(b",\"reset\":true");
    }
    body.push(b'}');
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
        let ticks = smallvec::smallvec![
            Arc::new(TickFrame::new("k3x9", 3, 0, br#"{"seq":3}"#.to_vec())),
            Arc::new(TickFrame::new("k3x9", 4, 0, br#"{"seq":4}"#.to_vec())),
        ];
        let batch = Batch { ticks, next: 4, missed: 2, truncated: false };
        assert_eq!(
            String::from_utf8(batch_json(&batch, "k3x9", false)).unwrap(),
            r#"{"ticks":[{"seq":3},{"seq":4}],"next":4,"missed":2,"epoch":"k3x9"}"#
        );
        let reset = batch_json(&Batch::default(), "k3x9", true);
        assert_eq!(reset, br#"{"ticks":[],"next":0,"missed":0,"epoch":"k3x9","reset":true}"#);
        let parsed: pushlab_contract::PollResponse = serde_json::from_slice(&reset).unwrap();
        assert!(parsed.reset && parsed.epoch == "k3x9");
    }
}
