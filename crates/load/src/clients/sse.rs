//! Server-Sent Events: one long HTTP response the server keeps writing to.
//!
//! Each client sends one `GET /api/sse` (with `Last-Event-ID` when it resumes) and then
//! only reads: `id: <seq>\ndata: <tick>\n\n` per tick, `event: gap` when history ran out,
//! `:` comments as keep-alives. Latency is one write after the tick; the cost per tick
//! is the tick plus ~20 bytes of framing, and per client one open connection (a socket
//! and a task on the server) for as long as it listens. It is plain HTTP, so proxies and
//! `EventSource` reconnection come for free; it is one-way.
//!
//! On our side each stream is a hyper HTTP/1.1 connection of its own: ~24 kB of heap
//! per client as measured (hyper's 8 KiB header buffer and request channel included),
//! three times a WebSocket client's — a cost of this client, not of the transport.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use pushlab_contract::Tick;
use serde::Deserialize;

use super::{Client, ClientError};
use crate::net;
use crate::sse_parse::{Event, SseParser};

/// The data of an `event: gap`.
#[derive(Deserialize)]
struct GapData {
    missed: u64,
}

pub async fn run(c: Client) {
    c.reconnecting(async |c: &mut Client| c.stream_sse().await).await;
}

impl Client {
    /// One SSE connection, read until the run is cancelled (`Ok`) or it breaks.
    async fn stream_sse(&mut self) -> Result<(), ClientError> {
        let started = Instant::now();
        let stream = tokio::select! {
            _ = self.cancel.cancelled() => return Ok(()),
            s = self.connect_tcp() => s?,
        };
        // The connection is polled here, beside the body, not in a task of its own: one
        // wake-up per socket read instead of two, at 19,000 streams × 20 ticks/s.
        let (mut sender, connection) = net::http1_inline(stream).await?;
        let mut connection = std::pin::pin!(connection);
        let mut request = net::get(self.target(), &self.settings.url("/api/sse", &[]))
            .header(http::header::ACCEPT, "text/event-stream");
        if let Some(seq) = self.probe.cursor() {
            request = request.header("last-event-id", seq);
        }
        self.probe.request();
        let response = tokio::select! {
            _ = self.cancel.cancelled() => return Ok(()),
            r = sender.send_request(request.body(Empty::<Bytes>::new()).expect("valid")) => r?,
            c = &mut connection => return Err(c.err().map_or(ClientError::Closed, ClientError::Http)),
        };
        if !response.status().is_success() {
            return Err(ClientError::Status(response.status().as_u16()));
        }
        self.probe.connected(started.elapsed());
        let mut body = response.into_body();
        let mut parser = SseParser::default();
        let mut connection_done = false;
        loop {
            let frame = tokio::select! {
                _ = self.cancel.cancelled() => return Ok(()),
                // Once the connection ends, the body still yields what it buffered, then None.
                c = &mut connection, if !connection_done => {
                    connection_done = true;
                    c?;
                    continue;
                }
                f = body.frame() => f,
            };
            let Some(frame) = frame else { return Err(ClientError::Closed) };
            let Ok(data) = frame?.into_data() else { continue };
            let mut failure = None;
            parser.feed(&data, |event| {
                if let Err(e) = self.sse_event(event) {
                    failure.get_or_insert(e);
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
        }
    }

    fn sse_event(&mut self, event: Event) -> Result<(), ClientError> {
        match event.event.as_str() {
            "" | "message" => self.probe.tick(&serde_json::from_str::<Tick>(&event.data)?),
            "gap" => {
                let gap: GapData = serde_json::from_str(&event.data)?;
                self.probe.gap(self.probe.cursor().unwrap_or(0), gap.missed);
            }
            other => tracing::debug!(event = other, "ignored SSE event type"),
        }
        Ok(())
    }
}
