//! Server-Sent Events: `GET /api/sse` is one long HTTP response, an endless
//! `text/event-stream` body of `id:`/`data:` events, written as HTTP/1.1 chunks.
//!
//! One request, then every tick costs only its event bytes and a chunk-size line. The
//! browser's `EventSource` reconnects by itself and sends `Last-Event-ID`, so resuming
//! is free. It is one-way (server to client) and text only; behind an HTTP/1.1 proxy
//! that buffers, events stall, hence `X-Accel-Buffering: no`. An open stream is an
//! HTTP connection kept open: a cursor, a keepalive timer and a task (about 2.5 kB),
//! and no buffer, as the connection layer (`http1/`) writes each event straight from
//! the feed's shared bytes.
//!
//! Each event's id is `<epoch>-<seq>` (SPEC §7), so `EventSource` re-sends the run of the
//! log with its cursor on every reconnect. A cursor of another epoch (the server
//! restarted) gets `event: reset\nid: <epoch>-<seq>\ndata: {"epoch":"…"}` after `retry:`
//! (the id: just before the oldest tick still held), then those ticks: never a 400,
//! after which a browser would give up.
//!
//! With `--stream-max-age`, a stream ends after about that long, between two events, so
//! the client has every event up to the last id it got; its `EventSource` reconnects
//! after `retry:` with that id and loses nothing. The response says
//! `connection: close` from the start: a stream is the last answer on its connection.
//!
//! The body is pulled only as fast as the socket takes it: a client that stops reading
//! stops its cursor, not the feed, and later gets `event: gap` with the count.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{self, Stream};
use pushlab_contract::Transport;
use pushlab_contract::limits::SSE_RETRY_MS;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::cursor::Cursor;
use crate::error::ApiError;
use crate::feed::{PUSH_BATCH_TICKS, SymbolFilter};
use crate::params::{Params, parse_cursor};
use crate::state::{Active, AppState, recycle_due};

/// The comment sent on an idle stream so proxies and load balancers keep it open.
const KEEPALIVE_COMMENT: &[u8] = b": keepalive\n\n";

/// `GET /api/sse[?last_event_id=N][&symbols=A,B]`, header `Last-Event-ID: N`.
pub async fn sse(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let mut active = state.active(Transport::Sse);
    active.counters().request();
    let filter = params.symbols(&state.feed)?;
    let cursor = resume_cursor(&state, &headers, &params, filter)?;
    active.hold_open()?;
    let events = EventStream::new(state, active, cursor);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
    ];
    Ok((headers, Body::from_stream(events.into_stream())).into_response())
}

/// Where the stream starts: the `Last-Event-ID` header if present (EventSource re-sends
/// it on every reconnect, while the query keeps the cursor of the page's first
/// connection), else `?last_event_id`, else the head (live only). Both are checked.
fn resume_cursor(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    filter: SymbolFilter,
) -> Result<Cursor, ApiError> {
    let from_query = params.cursor("last_event_id")?.map(|c| ("last_event_id", c));
    let from_header = match headers.get("last-event-id") {
        None => None,
        Some(value) => {
            let text = value.to_str().map_err(|_| ApiError::bad("Last-Event-ID: expected a tick seq"))?;
            Some(("Last-Event-ID", parse_cursor("Last-Event-ID", text)?))
        }
    };
    let (what, position) = from_header.or(from_query).unzip();
    Cursor::resume(&state.feed, position.as_ref(), filter)
        .map_err(|e| ApiError::bad(format!("{}: {e}", what.unwrap_or("cursor"))))
}

/// One piece of the body, and how many ticks it carries (for `ticks_sent`).
struct Chunk {
    bytes: Bytes,
    ticks: usize,
}

/// What ended a wait.
enum Wake {
    /// The head passed the cursor: read the feed.
    Ticks,
    /// Nothing was written for a keepalive period.
    Keepalive,
    /// The server is stopping: end the stream.
    Shutdown,
    /// `--stream-max-age` has passed: end the stream, the client resumes.
    Recycle,
}

/// One client's stream: a cursor into the feed and the events not yet handed to the
/// connection.
///
/// Its waits cost no timer or lock per tick: the shutdown future and the keepalive
/// timer are made once per stream and only polled again, and the timer is re-armed
/// only when it fires (a stream that wrote since then just sleeps on to the new due
/// time), not at every write.
struct EventStream {
    state: AppState,
    active: Active,
    cursor: Cursor,
    /// Chunks read in the last step, handed over one at a time; at most one batch of
    /// shared frames.
    pending: VecDeque<Chunk>,
    /// When the last chunk went out: a keepalive is due a keepalive period after it.
    last_write: Instant,
    keepalive: Pin<Box<Sleep>>,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// When `--stream-max-age` ends this stream (none without the flag).
    recycle: Option<Pin<Box<Sleep>>>,
}

impl EventStream {
    fn new(state: AppState, active: Active, mut cursor: Cursor) -> Self {
        let now = Instant::now();
        let keepalive = Box::pin(tokio::time::sleep_until(now + state.config.keepalive));
        let shutdown = Box::pin(state.shutdown.clone().cancelled_owned());
        let recycle = state.recycle_timer();
        let retry = Chunk { bytes: Bytes::from(format!("retry: {SSE_RETRY_MS}\n\n")), ticks: 0 };
        let mut pending = VecDeque::from([retry]);
        if cursor.take_reset() {
            // With an id in this epoch, so an `EventSource` that reconnects before the
            // next tick resumes here instead of being reset again.
            let (epoch, at) = (state.feed.epoch(), cursor.position());
            let reset = format!("event: reset\nid: {epoch}-{at}\ndata: {{\"epoch\":\"{epoch}\"}}\n\n");
            pending.push_back(Chunk { bytes: Bytes::from(reset), ticks: 0 });
        }
        EventStream { state, active, cursor, pending, last_write: now, keepalive, shutdown, recycle }
    }

    fn into_stream(self) -> impl Stream<Item = Result<Bytes, Infallible>> {
        stream::unfold(self, |mut events| async move {
            let chunk = events.next_chunk().await?;
            events.active.counters().sent(chunk.ticks, chunk.bytes.len());
            events.last_write = Instant::now();
            Some((Ok(chunk.bytes), events))
        })
    }

    /// The next chunk to write: an event, a gap notice or a keepalive comment; `None`
    /// ends the stream (shutdown).
    async fn next_chunk(&mut self) -> Option<Chunk> {
        loop {
            if self.state.shutdown.is_cancelled() {
                return None;
            }
            if let Some(chunk) = self.pending.pop_front() {
                return Some(chunk);
            }
            // Every event read is handed over, so ending here cuts none. Checked before
            // each read too, not only while waiting: a stream that never catches up
            // never waits. (A clock read per batch, and only with the flag.)
            if self.recycle.as_ref().is_some_and(|timer| timer.deadline() <= Instant::now()) {
                return self.recycled();
            }
            let batch = self.cursor.read(PUSH_BATCH_TICKS);
            if batch.missed > 0 {
                let gap = format!("event: gap\ndata: {{\"missed\":{}}}\n\n", batch.missed);
                self.pending.push_back(Chunk { bytes: Bytes::from(gap), ticks: 0 });
            }
            self.pending.extend(batch.ticks.iter().map(|t| Chunk { bytes: t.sse.clone(), ticks: 1 }));
            if !self.pending.is_empty() {
                continue;
            }
            match self.wait().await {
                Wake::Ticks => {}
                Wake::Keepalive => {
                    return Some(Chunk { bytes: Bytes::from_static(KEEPALIVE_COMMENT), ticks: 0 });
                }
                Wake::Shutdown => return None,
                Wake::Recycle => return self.recycled(),
            }
        }
    }

    /// Ends the stream for `--stream-max-age`.
    fn recycled(&self) -> Option<Chunk> {
        self.state.connection_counters.stream_recycled();
        None
    }

    /// Waits for the head to pass the cursor, a keepalive period without a write (unless
    /// `--sse-keepalive-off`), or shutdown. Ticks of other symbols wake it too, but do not count as a write.
    async fn wait(&mut self) -> Wake {
        let (period, coalesce) = (self.state.config.keepalive, self.state.config.coalesce);
        // `--sse-keepalive-off`: the stream stays silent between ticks, however long.
        let keepalive_on = !self.state.config.sse_keepalive_off;
        loop {
            tokio::select! {
                biased;
                () = &mut self.shutdown => return Wake::Shutdown,
                () = recycle_due(&mut self.recycle) => return Wake::Recycle,
                () = self.cursor.ready_within(coalesce) => return Wake::Ticks,
                () = &mut self.keepalive, if keepalive_on => {
                    let due = self.last_write + period;
                    let now = Instant::now();
                    self.keepalive.as_mut().reset(if now >= due { now + period } else { due });
                    if now >= due {
                        return Wake::Keepalive;
                    }
                }
            }
        }
    }
}
