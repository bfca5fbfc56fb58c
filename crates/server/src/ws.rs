//! WebSocket: `GET /api/ws` upgrades the HTTP connection to a two-way message channel.
//!
//! After a one-time handshake, each tick is one text frame with a 2-byte header (4
//! bytes past 125 bytes of payload, 10 past 64 KiB), the least overhead of all four
//! transports, and the client can talk back (`{"type":"subscribe",…}` changes its
//! filter live). The price: no automatic
//! reconnect or resume in the browser (the page must do it, with `?since=`), pings to
//! notice dead peers, and proxies that must understand the upgrade.
//!
//! The first message is `{"type":"hello","epoch":"…","head":N}`: the run of the log
//! (SPEC §7) the client's seqs belong to, so it can resume with `?since=<epoch>-<seq>`.
//! A `since` of another epoch gets `{"type":"reset","epoch":"…"}` next, then the ticks
//! from the oldest still held.
//!
//! Closes: 1001 (going away) when the server shuts down, 1012 (service restart) when
//! `--stream-max-age` ends the connection, always after a whole batch, so the client
//! has every tick up to its last seq and reconnects with `?since=<epoch>-<seq>`; 1003
//! for a binary frame, 1009 for a message over 4096 bytes.
//!
//! The handshake is answered here (`101` with `Sec-WebSocket-Accept`) and the
//! connection layer hands the socket over; from there tungstenite speaks the protocol.
//! Its default buffers are 128 KiB each way (tungstenite 0.29's `WebSocketConfig`);
//! here they are sized for thousands of mostly idle connections.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use pushlab_contract::ControlMessage;
use pushlab_contract::Transport;
// tungstenite refuses a larger client message, and we close with 1009.
use pushlab_contract::limits::MAX_CLIENT_MESSAGE_BYTES;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::cursor::Cursor;
use crate::error::ApiError;
use crate::feed::PUSH_BATCH_TICKS;
use crate::http1::{OnUpgrade, Upgraded, UpgradedIo, has_token};
use crate::origin::check_origin;
use crate::params::{Params, symbol_filter};
use crate::state::{Active, AppState, recycle_due};

/// tungstenite's read buffer: client messages are small (a subscribe, a pong); a larger
/// one (up to the 4 KiB limit) grows it for that frame.
pub const READ_BUFFER_BYTES: usize = 512;
/// Frames are gathered up to this before tungstenite writes them; every batch ends
/// with a flush, so this bounds the copy, not the latency.
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;
/// The write buffer may grow to this while the socket is slow; then sends wait.
pub const MAX_WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// A peer is gone after this many keepalive intervals without a frame from it, or
/// with a write to it stuck.
const PEER_TIMEOUT_INTERVALS: u32 = 2;
/// A peer that cannot take our close frame within this is left without one.
const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

const CLOSE_GOING_AWAY: u16 = 1001;
/// "Service restart": come back. What `--stream-max-age` ends a WebSocket with.
const CLOSE_SERVICE_RESTART: u16 = 1012;
const CLOSE_UNSUPPORTED: u16 = 1003;
const CLOSE_TOO_BIG: u16 = 1009;

/// `GET /api/ws[?since=N][&symbols=A,B]`
pub async fn ws(
    State(state): State<AppState>,
    version: Version,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let mut active = state.active(Transport::Ws);
    active.counters().request();
    // No RFC 8441 extended CONNECT here (see docs/transports.md): a browser that sees
    // no SETTINGS_ENABLE_CONNECT_PROTOCOL opens an HTTP/1.1 connection for wss:// itself.
    if version == Version::HTTP_2 {
        return Err(ApiError::bad(
            "WebSocket is served over HTTP/1.1 only (no RFC 8441 over HTTP/2): connect with ALPN http/1.1",
        ));
    }
    check_origin(&headers, &state.config.allow_origin, state.own_ports())?;
    let accept =
        handshake(&headers).map_err(|e| ApiError::bad(format!("this endpoint speaks WebSocket: {e}")))?;
    let filter = params.symbols(&state.feed)?;
    let cursor = Cursor::resume(&state.feed, params.cursor("since")?.as_ref(), filter)
        .map_err(|e| ApiError::bad(format!("since: {e}")))?;
    active.hold_open()?;
    let session = OnUpgrade::new(move |Upgraded { io, read_ahead }| async move {
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(WRITE_BUFFER_BYTES)
            .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
            .max_message_size(Some(MAX_CLIENT_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_CLIENT_MESSAGE_BYTES));
        let socket = WebSocketStream::from_partially_read(io, read_ahead, Role::Server, Some(config)).await;
        let peer_timeout = state.config.keepalive * PEER_TIMEOUT_INTERVALS;
        Session { state, active, socket, cursor, peer_timeout }.run().await;
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::try_from(accept).expect("base64 is a header value"));
    response.extensions_mut().insert(session);
    Ok(response)
}

/// Checks the request is a WebSocket handshake (RFC 6455 §4.2.1) and returns the
/// `Sec-WebSocket-Accept` that proves we read its key.
fn handshake(headers: &HeaderMap) -> Result<String, &'static str> {
    let has_token = |name, token| has_token(headers, name, token);
    if !has_token(header::CONNECTION, "upgrade") {
        return Err("the Connection header must include `upgrade`");
    }
    if !has_token(header::UPGRADE, "websocket") {
        return Err("the Upgrade header must be `websocket`");
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
        return Err("Sec-WebSocket-Version must be 13");
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY).ok_or("Sec-WebSocket-Key is missing")?;
    Ok(derive_accept_key(key.as_bytes()))
}

struct Session {
    state: AppState,
    active: Active,
    socket: WebSocketStream<UpgradedIo>,
    cursor: Cursor,
    /// How long a write may wait on the peer, and how long it may stay silent.
    peer_timeout: Duration,
}

/// What woke the session up.
enum Event {
    Ticks,
    Message(Option<Result<Message, WsError>>),
    PingDue,
    Shutdown,
    /// `--stream-max-age` has passed.
    Recycle,
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
        if self.greet().await.is_err() {
            return;
        }
        let keepalive = self.state.config.keepalive;
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        let mut last_heard = Instant::now();
        // Made once and polled again, not made per wake-up: each costs a lock.
        let stopping = self.state.shutdown.clone();
        let mut shutdown = std::pin::pin!(stopping.cancelled());
        let mut recycle = self.state.recycle_timer();
        let end = loop {
            if self.push_ready().await.is_err() {
                break End::Drop;
            }
            let event = tokio::select! {
                biased;
                () = &mut shutdown => Event::Shutdown,
                () = recycle_due(&mut recycle) => Event::Recycle,
                message = self.socket.next() => Event::Message(message),
                _ = ping.tick() => Event::PingDue,
                () = self.cursor.ready_within(self.state.config.coalesce) => Event::Ticks,
            };
            match event {
                Event::Ticks => {}
                Event::Shutdown => break End::Close(CLOSE_GOING_AWAY, "server shutting down"),
                Event::Recycle => {
                    self.state.connection_counters.stream_recycled();
                    break End::Close(
                        CLOSE_SERVICE_RESTART,
                        "stream max age: reconnect with since=<epoch>-<seq>",
                    );
                }
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
                let frame =
                    CloseFrame { code: CloseCode::from(code), reason: Utf8Bytes::from_static(reason) };
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

    /// The hello, and the reset notice if the client's cursor was of another epoch.
    async fn greet(&mut self) -> Result<(), PeerGone> {
        let epoch = self.state.feed.epoch().to_owned();
        let hello = control(&ControlMessage::Hello { epoch: epoch.clone(), head: self.state.feed.head() });
        let reset = self.cursor.take_reset().then(|| control(&ControlMessage::Reset { epoch }));
        let bytes = hello.len() + reset.as_ref().map_or(0, String::len);
        let socket = &mut self.socket;
        let write = async {
            socket.feed(Message::Text(hello.into())).await?;
            if let Some(reset) = reset {
                socket.feed(Message::Text(reset.into())).await?;
            }
            socket.flush().await
        };
        match tokio::time::timeout(self.peer_timeout, write).await {
            Ok(Ok(())) => {
                self.active.counters().sent(0, bytes);
                Ok(())
            }
            _ => Err(PeerGone),
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
    async fn on_message(&mut self, message: Option<Result<Message, WsError>>) -> Option<End> {
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
            // tungstenite answers pings itself; a raw frame is never read.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => return None,
            Err(WsError::Capacity(_)) => return Some(End::Close(CLOSE_TOO_BIG, "message over 4096 bytes")),
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
