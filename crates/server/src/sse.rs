//! Server-Sent Events: `GET /api/sse` is one long HTTP response, an endless
//! `text/event-stream` body of `id:`/`data:` events, written as HTTP/1.1 chunks.
//!
//! One request, then every tick costs only its event bytes and a chunk-size line. The
//! browser's `EventSource` reconnects by itself and sends `Last-Event-ID`, so resuming
//! is free. It is one-way (server to client) and text only; behind an HTTP/1.1 proxy
//! that buffers, events stall, hence `X-Accel-Buffering: no`.
//!
//! The body is pulled by hyper only as fast as the socket takes it: a client that stops
//! reading stops its cursor, not the feed, and later gets `event: gap` with the count.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::feed::SymbolFilter;
use crate::params::{Params, parse_cursor};
use crate::state::{Active, AppState, Transport};

/// The reconnect delay the stream asks `EventSource` to use, in ms.
pub const RETRY_MS: u64 = 1000;

/// Ticks read from the feed per step; a client far behind catches up in steps this
/// size, so one read never copies the whole history.
const BATCH_TICKS: usize = 64;

/// The comment sent on an idle stream so proxies and load balancers keep it open.
const KEEPALIVE_COMMENT: &[u8] = b": keepalive\n\n";

/// `GET /api/sse[?last_event_id=N][&symbols=A,B]`, header `Last-Event-ID: N`.
pub async fn sse(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    state.counters(Transport::Sse).request();
    let filter = params.symbols(&state.feed)?;
    // The header wins: EventSource re-sends it on every reconnect, while the query
    // keeps the cursor of the page's first connection.
    let cursor = match headers.get("last-event-id") {
        Some(value) => {
            let text = value.to_str().map_err(|_| ApiError::bad("Last-Event-ID: expected a tick seq"))?;
            Some(parse_cursor("Last-Event-ID", text)?)
        }
        None => params.cursor("last_event_id")?,
    };
    let head = state.feed.head();
    let cursor = cursor.unwrap_or(head);
    if cursor > head {
        return Err(ApiError::bad(format!("Last-Event-ID: {cursor} is ahead of the newest tick ({head})")));
    }
    let active = state.admit(Transport::Sse)?;
    let events =
        EventStream { head: state.feed.subscribe(), state, active, cursor, filter, pending: VecDeque::new() };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
    ];
    Ok((headers, Body::from_stream(events.into_stream())).into_response())
}

/// One client's stream: a cursor into the feed and the events not yet handed to hyper.
struct EventStream {
    state: AppState,
    active: Active,
    head: watch::Receiver<u64>,
    cursor: u64,
    filter: SymbolFilter,
    /// Events read in the last step, newest last, handed out one chunk at a time.
    pending: VecDeque<Bytes>,
}

impl EventStream {
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, Infallible>> {
        let retry = Bytes::from(format!("retry: {RETRY_MS}\n\n"));
        let first = stream::once(async move { Ok::<_, Infallible>(retry) });
        let rest = stream::unfold(self, |mut events| async move {
            let chunk = events.next_chunk().await?;
            let ticks = usize::from(chunk.starts_with(b"id:")); // a tick event, not a gap or comment
            events.active.counters().sent(ticks, chunk.len());
            Some((Ok(chunk), events))
        });
        first.chain(rest)
    }

    /// The next chunk to write: an event, a gap notice or a keepalive comment; `None`
    /// ends the stream (shutdown).
    async fn next_chunk(&mut self) -> Option<Bytes> {
        let keepalive = self.state.config.keepalive;
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some(chunk);
            }
            let batch = self.state.feed.read(self.cursor, self.filter, BATCH_TICKS).ok()?;
            self.cursor = batch.next;
            if batch.missed > 0 {
                self.pending
                    .push_back(Bytes::from(format!("event: gap\ndata: {{\"missed\":{}}}\n\n", batch.missed)));
            }
            self.pending.extend(batch.ticks.iter().map(|t| t.sse.clone()));
            if !self.pending.is_empty() {
                continue;
            }
            if let Some(comment) = self.wait(keepalive).await? {
                return Some(comment);
            }
        }
    }

    /// Waits for the head to pass the cursor (`Some(None)`), for the keepalive period
    /// (`Some(Some(comment))`), or for shutdown (`None`).
    async fn wait(&mut self, keepalive: Duration) -> Option<Option<Bytes>> {
        let cursor = self.cursor;
        tokio::select! {
            biased;
            _ = self.state.shutdown.cancelled() => None,
            woke = self.head.wait_for(|&h| h > cursor) => woke.ok().map(|_| None),
            _ = tokio::time::sleep(keepalive) => Some(Some(Bytes::from_static(KEEPALIVE_COMMENT))),
        }
    }
}
