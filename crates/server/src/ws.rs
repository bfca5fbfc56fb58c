//! WebSocket: `GET /api/ws` upgrades the HTTP connection to a two-way message channel.
//!
//! After a one-time handshake, each tick is one text frame with a 2-byte header (4
//! bytes past 125 bytes of payload, 10 past 64 KiB), the least overhead of all four
//! transports, and the client can talk back (`{"type":"subscribe",…}` changes its
//! filter live). The price: no automatic
//! reconnect or resume in the browser (the page must do it, with `?since=`), pings to
//! notice dead peers, and proxies that must understand the upgrade.
//!
//! Buffers are sized for thousands of connections: tungstenite's defaults cost about
//! 128 KiB per connection; 4 KiB each cost a few kB.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::SinkExt;
use pushlab_contract::ControlMessage;
use pushlab_contract::Transport;
// tungstenite refuses a larger client message, and we close with 1009.
use pushlab_contract::limits::MAX_CLIENT_MESSAGE_BYTES;
use tokio::time::Instant;

use crate::cursor::Cursor;
use crate::error::ApiError;
use crate::feed::PUSH_BATCH_TICKS;
use crate::origin::check_origin;
use crate::params::{Params, symbol_filter};
use crate::state::{Active, AppState};

/// Read and write buffer of each connection.
pub const BUFFER_BYTES: usize = 4 * 1024;
/// The write buffer may grow to this while the socket is slow; then sends wait.
pub const MAX_WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// A peer is gone after this many keepalive intervals without a frame from it, or
/// with a write to it stuck.
const PEER_TIMEOUT_INTERVALS: u32 = 2;
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
    let mut active = state.active(Transport::Ws);
    active.counters().request();
    check_origin(&headers, &state.config.allow_origin)?;
    let upgrade = upgrade.map_err(|e| ApiError::bad(format!("this endpoint speaks WebSocket: {e}")))?;
    let filter = params.symbols(&state.feed)?;
    let cursor = match params.cursor("since")? {
        Some(since) => {
            Cursor::new(&state.feed, since, filter).map_err(|e| ApiError::bad(format!("since: {e}")))?
        }
        None => Cursor::at_head(&state.feed, filter),
    };
    active.hold_open()?;
    // Shutdown waits for this session's close frame: the tracker counts it until it ends.
    let in_flight = state.tasks.token();
    Ok(upgrade
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let peer_timeout = state.config.keepalive * PEER_TIMEOUT_INTERVALS;
            Session { state, active, socket, cursor, peer_timeout }.run().await;
            drop(in_flight);
        }))
}

struct Session {
    state: AppState,
    active: Active,
    socket: WebSocket,
    cursor: Cursor,
    /// How long a write may wait on the peer, and how long it may stay silent.
    peer_timeout: Duration,
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
    /// The peer closed: answer its close frame, as the protocol asks.
    PeerClosed,
    /// The peer is gone, silent or not reading: nothing more to say.
    Drop,
}

/// The peer did not take a write within the peer timeout, or the socket failed.
struct PeerGone;

impl Session {
    async fn run(mut self) {
        let keepalive = self.state.config.keepalive;
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        let mut last_heard = Instant::now();
        let end = loop {
            if self.push_ready().await.is_err() {
                break End::Drop;
            }
            let event = tokio::select! {
                biased;
                _ = self.state.shutdown.cancelled() => Event::Shutdown,
                message = self.socket.recv() => Event::Message(message),
                _ = ping.tick() => Event::PingDue,
                () = self.cursor.ready() => Event::Ticks,
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
                    let silent = last_heard.elapsed() > self.peer_timeout;
                    if silent || self.send(Message::Ping(Default::default())).await.is_err() {
                        break End::Drop;
                    }
                }
            }
        };
        match end {
            End::Close(code, reason) => {
                let frame = CloseFrame { code, reason: reason.into() };
                let _ =
                    tokio::time::timeout(CLOSE_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
            }
            // tungstenite has queued the reply to the peer's close; a flush sends it.
            End::PeerClosed => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.socket.flush()).await;
            }
            End::Drop => {}
        }
    }

    /// Sends one message, giving up on a peer that takes nothing for the peer timeout
    /// (a client that writes but never reads would otherwise hold this task forever).
    async fn send(&mut self, message: Message) -> Result<(), PeerGone> {
        match tokio::time::timeout(self.peer_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(PeerGone),
        }
    }

    /// Writes every matching tick past the cursor, a batch at a time, then flushes.
    async fn push_ready(&mut self) -> Result<(), PeerGone> {
        loop {
            if self.state.shutdown.is_cancelled() {
                return Ok(()); // the main loop sends 1001 next
            }
            let batch = self.cursor.read(PUSH_BATCH_TICKS);
            if batch.is_empty() {
                return Ok(());
            }
            let mut bytes = 0;
            let socket = &mut self.socket;
            let write = async {
                if batch.missed > 0 {
                    let gap = control(&ControlMessage::Gap { missed: batch.missed });
                    bytes += gap.len();
                    socket.feed(Message::Text(gap.into())).await?;
                }
                for tick in &batch.ticks {
                    bytes += tick.ws_text.len();
                    socket.feed(Message::Text(tick.ws_text.clone())).await?;
                }
                socket.flush().await
            };
            match tokio::time::timeout(self.peer_timeout, write).await {
                Ok(Ok(())) => self.active.counters().sent(batch.ticks.len(), bytes),
                _ => return Err(PeerGone),
            }
            if !batch.truncated {
                return Ok(());
            }
        }
    }

    /// Handles one message from the client; `Some` ends the session.
    async fn on_message(&mut self, message: Option<Result<Message, axum::Error>>) -> Option<End> {
        let Some(message) = message else { return Some(End::Drop) };
        let reply = match message {
            Ok(Message::Text(text)) => match self.subscribe(&text) {
                Ok(symbols) => ControlMessage::Subscribed { symbols },
                Err(message) => ControlMessage::Error { message },
            },
            Ok(Message::Binary(_)) => {
                return Some(End::Close(CLOSE_UNSUPPORTED, "binary frames are not accepted"));
            }
            Ok(Message::Close(_)) => return Some(End::PeerClosed),
            Ok(Message::Ping(_) | Message::Pong(_)) => return None, // tungstenite answers pings itself
            Err(e) if is_too_big(&e) => return Some(End::Close(CLOSE_TOO_BIG, "message over 4096 bytes")),
            Err(_) => return Some(End::Drop),
        };
        self.send(Message::Text(control(&reply).into())).await.err().map(|PeerGone| End::Drop)
    }

    /// Applies `{"type":"subscribe","symbols":[…]}`; any other message is an error and
    /// leaves the filter as it was. Checked by hand rather than by deserializing
    /// `pushlab_contract::ClientMessage`, so each mistake gets its own plain message.
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
            Some(list) if !list.is_empty() => list.iter().map(|s| s.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
        .ok_or_else(|| format!("\"symbols\" must be a non-empty list of strings; {EXPECTED}"))?;
        let filter =
            symbol_filter(&self.state.feed, names.iter().map(String::as_str)).map_err(|e| e.to_string())?;
        self.cursor.set_filter(filter);
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
