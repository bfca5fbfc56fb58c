//! WebSocket: one upgraded connection, messages both ways.
//!
//! Each client opens `GET /api/ws` (`?since=N` when it resumes), completes the upgrade
//! handshake and then reads one text message per tick; control messages carry a
//! `"type"` (`gap`, `error`, `subscribed`). Framing is 2–4 bytes per message from the
//! server, so per tick it is the cheapest on the wire; per client it holds a connection
//! and, in tungstenite, read and write buffers — sized here to [`WS_BUFFER_BYTES`]
//! because the defaults cost ~128 KiB per connection. Pings from the server are
//! answered by tungstenite on the next read.

use std::time::Instant;

use futures_util::StreamExt;
use pushlab_contract::{ControlMessage, ServerMessage};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Client, ClientError};

/// Read and write buffer of each client WebSocket: a tick message is ~80 bytes, so
/// 4 KiB holds dozens. Measured with these: 7.9 kB of load-generator heap per client
/// in all (`loadgen.heap_per_client_bytes`), where the defaults cost ~128 KiB each.
pub const WS_BUFFER_BYTES: usize = 4 * 1024;
/// Largest message accepted from the server (ticks with `--payload-bytes` included).
pub const WS_MAX_MESSAGE_BYTES: usize = 1 << 20;

pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(0)
        // Must exceed the write buffer by at least a message; ours are tiny pongs.
        .max_write_buffer_size(WS_BUFFER_BYTES)
        .max_message_size(Some(WS_MAX_MESSAGE_BYTES))
        .max_frame_size(Some(WS_MAX_MESSAGE_BYTES))
}

pub async fn run(c: Client) {
    c.reconnecting(async |c: &mut Client| c.stream_ws().await).await;
}

impl Client {
    async fn stream_ws(&mut self) -> Result<(), ClientError> {
        let started = Instant::now();
        let stream = tokio::select! {
            _ = self.cancel.cancelled() => return Ok(()),
            s = self.connect_tcp() => s?,
        };
        let params: Vec<_> = self.probe.cursor().iter().map(|n| ("since", n.to_string())).collect();
        let url = format!("ws://{}{}", self.target().authority, self.settings.url("/api/ws", &params));
        self.probe.request();
        let handshake = tokio_tungstenite::client_async_with_config(url, stream, Some(config()));
        let (mut ws, _response) = tokio::select! {
            _ = self.cancel.cancelled() => return Ok(()),
            r = handshake => r?,
        };
        self.probe.connected(started.elapsed());
        loop {
            let message = tokio::select! {
                _ = self.cancel.cancelled() => return Ok(()),
                m = ws.next() => m,
            };
            match message.ok_or(ClientError::Closed)?? {
                Message::Text(text) => match ServerMessage::parse(&text)? {
                    ServerMessage::Tick(tick) => self.probe.tick(&tick),
                    ServerMessage::Control(ControlMessage::Gap { missed }) => {
                        self.probe.gap(self.probe.cursor().unwrap_or(0), missed);
                    }
                    ServerMessage::Control(ControlMessage::Error { message }) => {
                        return Err(ClientError::ServerMessage(message));
                    }
                    ServerMessage::Control(ControlMessage::Subscribed { .. }) => {}
                },
                Message::Close(_) => return Err(ClientError::Closed),
                // Pings are answered inside tungstenite; nothing else is expected.
                _ => {}
            }
        }
    }
}
