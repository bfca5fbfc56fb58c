//! SSE over HTTP/2: the same event stream, as one stream of a shared connection.
//!
//! The request is a HEADERS frame (HPACK-compressed: after the first, a repeated header
//! costs a byte or two), the answer HEADERS then a DATA frame per write of the server,
//! each with a 9-byte frame header and no chunk-size line. The body's bytes are parsed as
//! the HTTP/1.1 client parses its decoded chunks ([`super::sse`]). hyper reads the
//! frames: one connection task per connection, its frames handed to each stream.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};

use super::sse::SseEvents;
use super::{Client, ClientError};
use crate::net;

impl Client {
    /// One SSE stream on the client's HTTP/2 connection, read until the run is
    /// cancelled (`Ok`) or it breaks.
    pub(super) async fn stream_sse_h2(&mut self) -> Result<(), ClientError> {
        let started = Instant::now();
        let cancel = self.cancel.clone();
        let mut cancelled = std::pin::pin!(cancel.cancelled());
        let mut sender = tokio::select! {
            _ = &mut cancelled => return Ok(()),
            s = self.h2_sender() => s?,
        };
        let url = self.settings.url("/api/sse", &[]);
        let mut request = net::get_h2(self.target(), &url).header(http::header::ACCEPT, "text/event-stream");
        // As `EventSource` does on a reconnect: resume after the last id seen.
        if let Some(position) = self.probe.cursor() {
            request = request.header("last-event-id", position.to_string());
        }
        let request = request.body(Empty::<Bytes>::new()).expect("a valid request");
        self.probe.request();
        let response = tokio::select! {
            _ = &mut cancelled => return Ok(()),
            r = sender.send_request(request) => r?,
        };
        if !response.status().is_success() {
            return Err(ClientError::Status(response.status().as_u16()));
        }
        self.probe.connected(started.elapsed());
        self.succeeded();
        let mut body = response.into_body();
        let mut events = SseEvents::default();
        loop {
            let frame = tokio::select! {
                _ = &mut cancelled => return Ok(()),
                f = body.frame() => f,
            };
            match frame {
                None => return Err(ClientError::Closed),
                Some(frame) => {
                    if let Some(data) = frame?.data_ref() {
                        self.sse_read(&mut events, data, None)?;
                    }
                }
            }
        }
    }
}
