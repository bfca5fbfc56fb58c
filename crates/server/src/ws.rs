//! WebSocket: `GET /api/ws` upgrades the HTTP connection to a two-way message channel.
//!
//! After a one-time handshake, each tick is one text frame with a 2-to-4-byte header,
//! the least overhead of all four transports, and the client can talk back
//! (`{"type":"subscribe",…}` changes its filter live). The price: no automatic
//! reconnect or resume in the browser (the page must do it, with `?since=`), pings to
//! notice dead peers, and proxies that must understand the upgrade.
//!
//! Buffers are sized for thousands of connections: tungstenite's defaults cost about
//! 128 KiB per connection; 4 KiB each cost a few KB.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures::SinkExt;
use pushlab_wire::ControlMessage;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::feed::SymbolFilter;
use crate::params::{Params, symbol_filter};
use crate::state::{Active, AppState, Transport};

/// Read and write buffer of each connection.
pub const BUFFER_BYTES: usize = 4 * 1024;
/// The write buffer may grow to this while the socket is slow; then sends wait.
pub const MAX_WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// The largest message a client may send; a larger one closes the connection with 1009.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 4096;
/// Ticks read from the feed per step (see `sse.rs`).
const BATCH_TICKS: usize = 64;

/// A peer that cannot take our close frame within this is left without one.
const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_UNSUPPORTED: u16 = 1003;
const CLOSE_TOO_BIG: u16 = 1009;

/// `GET /api/ws[?since=N][&symbols=A,B]`
pub async fn ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    state.counters(Transport::Ws).request();
    check_origin(&headers, &state.config.allow_origin)?;
    let upgrade = upgrade.map_err(|e| ApiError::bad(format!("this endpoint speaks WebSocket: {e}")))?;
    let filter = params.symbols(&state.feed)?;
    let head = state.feed.head();
    let cursor = params.cursor("since")?.unwrap_or(head);
    if cursor > head {
        return Err(ApiError::bad(format!("since: {cursor} is ahead of the newest tick ({head})")));
    }
    let active = state.admit(Transport::Ws)?;
    // Shutdown waits for this session's close frame: the tracker counts it until it ends.
    let in_flight = state.tasks.token();
    Ok(upgrade
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let session = Session { head: state.feed.subscribe(), state, active, socket, cursor, filter };
            session.run().await;
            drop(in_flight);
        }))
}

/// A browser always sends `Origin`. Accept none (not a browser), our own, or one the
/// operator allowed: otherwise any web page could open a socket to us with the
/// visitor's cookies (cross-site WebSocket hijacking).
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let own = origin == format!("http://{host}") || origin == format!("https://{host}");
    if own || allowed.iter().any(|a| a == "*" || a == origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Origin {origin:?} is not allowed; start the server with --allow-origin {origin} to accept it"
        )))
    }
}

struct Session {
    state: AppState,
    active: Active,
    socket: WebSocket,
    head: watch::Receiver<u64>,
    cursor: u64,
    filter: SymbolFilter,
}

/// What woke the session up.
enum Event {
    Ticks,
    Message(Option<Result<Message, axum::Error>>),
    PingDue,
    Shutdown,
}

/// Why a session ends; each case is what the peer is told.
enum End {
    Close(u16, &'static str),
    /// The peer is gone or silent: nothing more to say.
    Drop,
}

impl Session {
    async fn run(mut self) {
        let keepalive = self.state.config.keepalive;
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        let mut last_heard = Instant::now();
        let end = loop {
            if self.push_ready(keepalive * 2).await.is_err() {
                break End::Drop;
            }
            let cursor = self.cursor;
            let event = tokio::select! {
                biased;
                _ = self.state.shutdown.cancelled() => Event::Shutdown,
                message = self.socket.recv() => Event::Message(message),
                _ = ping.tick() => Event::PingDue,
                woke = self.head.wait_for(|&h| h > cursor) => if woke.is_ok() { Event::Ticks } else { Event::Shutdown },
            };
            match event {
                Event::Ticks => {}
                Event::Shutdown => break End::Close(CLOSE_GOING_AWAY, "server shutting down"),
                Event::Message(message) => {
                    // Any frame proves the peer alive, not only the pong we asked for.
                    last_heard = Instant::now();
                    if let Some(end) = self.on_message(message).await {
                        break end;
                    }
                }
                Event::PingDue => {
                    if last_heard.elapsed() > keepalive * 2 {
                        break End::Drop; // two intervals without a pong
                    }
                    if self.socket.send(Message::Ping(Default::default())).await.is_err() {
                        break End::Drop;
                    }
                }
            }
        };
        if let End::Close(code, reason) = end {
            let frame = CloseFrame { code, reason: reason.into() };
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
        }
    }

    /// Writes every matching tick past the cursor. A peer that takes none of it for
    /// `timeout` is dropped: its cursor would only fall further behind.
    async fn push_ready(&mut self, timeout: Duration) -> Result<(), ()> {
        loop {
            let batch = self.state.feed.read(self.cursor, self.filter, BATCH_TICKS).map_err(drop)?;
            self.cursor = batch.next;
            let mut bytes = 0;
            let write = async {
                if batch.missed > 0 {
                    let gap = control(&ControlMessage::Gap { missed: batch.missed });
                    bytes += gap.len();
                    self.socket.feed(Message::Text(gap.into())).await?;
                }
                for tick in &batch.ticks {
                    bytes += tick.ws_text.len();
                    self.socket.feed(Message::Text(tick.ws_text.clone())).await?;
                }
                self.socket.flush().await
            };
            if batch.missed > 0 || !batch.ticks.is_empty() {
                tokio::time::timeout(timeout, write).await.map_err(drop)?.map_err(drop)?;
                self.active.counters().sent(batch.ticks.len(), bytes);
            }
            if !batch.cut {
                return Ok(());
            }
        }
    }

    /// Handles one message from the client; `Some` ends the session.
    async fn on_message(&mut self, message: Option<Result<Message, axum::Error>>) -> Option<End> {
        let message = match message {
            None => return Some(End::Drop),
            Some(Ok(message)) => message,
            Some(Err(e)) if is_too_big(&e) => {
                return Some(End::Close(CLOSE_TOO_BIG, "message over 4096 bytes"));
            }
            Some(Err(_)) => return Some(End::Drop),
        };
        let reply = match message {
            Message::Text(text) if text.len() > MAX_CLIENT_MESSAGE_BYTES => {
                return Some(End::Close(CLOSE_TOO_BIG, "message over 4096 bytes"));
            }
            Message::Text(text) => match self.subscribe(&text) {
                Ok(symbols) => ControlMessage::Subscribed { symbols },
                Err(message) => ControlMessage::Error { message },
            },
            Message::Binary(_) => {
                return Some(End::Close(CLOSE_UNSUPPORTED, "binary frames are not accepted"));
            }
            Message::Close(_) => return Some(End::Drop),
            Message::Ping(_) | Message::Pong(_) => return None, // tungstenite answers pings itself
        };
        self.socket.send(Message::Text(control(&reply).into())).await.err().map(|_| End::Drop)
    }

    /// Applies `{"type":"subscribe","symbols":[…]}`; any other message is an error and
    /// leaves the filter as it was.
    fn subscribe(&mut self, text: &str) -> Result<Vec<String>, String> {
        const EXPECTED: &str = r#"expected {"type":"subscribe","symbols":["ACME",…]}"#;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e}); {EXPECTED}"))?;
        let object = value.as_object().ok_or_else(|| format!("not a JSON object; {EXPECTED}"))?;
        match object.get("type").and_then(|t| t.as_str()) {
            Some("subscribe") => {}
            Some(other) => return Err(format!("unknown type {other:?}; {EXPECTED}")),
            None => return Err(format!("missing \"type\"; {EXPECTED}")),
        }
        let names: Vec<String> = match object.get("symbols").and_then(|s| s.as_array()) {
            Some(list) if !list.is_empty() => {
                list.iter().map(|s| s.as_str().map(str::to_owned)).collect::<Option<_>>()
            }
            _ => None,
        }
        .ok_or_else(|| format!("\"symbols\" must be a non-empty list of strings; {EXPECTED}"))?;
        self.filter =
            symbol_filter(&self.state.feed, names.iter().map(String::as_str)).map_err(|e| e.to_string())?;
        Ok(names)
    }
}

fn control(message: &ControlMessage) -> String {
    serde_json::to_string(message).expect("control messages serialize")
}

/// tungstenite refuses a frame or message over the configured size with `Capacity`.
fn is_too_big(error: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    let inner = std::error::Error::source(error).and_then(|e| e.downcast_ref::<Error>());
    matches!(inner, Some(Error::Capacity(_)))
}
