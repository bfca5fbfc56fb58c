//! Server-Sent Events: one long HTTP response the server keeps writing to.
//!
//! Each client sends one `GET /api/sse` (with `Last-Event-ID` when it resumes, as
//! `EventSource` does) and then only reads: `id: <epoch>-<seq>\ndata: <tick>\n\n` per
//! tick, `event: gap` when history ran out, `event: reset` when its cursor was of another
//! run of the server, `retry:` for how long to wait before reconnecting, `:` comments as
//! keep-alives. Latency is one write after the tick; the cost per tick
//! is the tick plus ~20 bytes of framing, and per client one open connection (a socket
//! and a task on the server) for as long as it listens. It is plain HTTP, so proxies and
//! `EventSource` reconnection come for free; it is one-way.
//!
//! On our side each stream is a plain socket speaking just enough HTTP/1.1 for one GET
//! (see [`super::stream`] for why not hyper): the request is written by hand, the
//! response head parsed, the chunked body decoded here, every event a read completes
//! parsed before the next read, and each tick's `seq` and `ts_us` recorded in one batch
//! per read. Nothing is allocated per tick.

use std::time::Instant;

use serde::Deserialize;

use super::stream::{Conn, tick_fields};
use super::{Client, ClientError};
use crate::sse_parse::{Event, SseParser};

/// The data of an `event: gap`.
#[derive(Deserialize)]
struct GapData {
    missed: u64,
}

/// The data of an `event: reset`.
#[derive(Deserialize)]
struct ResetData {
    epoch: String,
}

pub async fn run(c: Client) {
    c.reconnecting(async |c: &mut Client| c.stream_sse().await).await;
}

/// Where a chunked body decoder is, between reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunked {
    /// In the chunk-size line: the size so far, and whether an extension (`;…`) began.
    Size {
        size: u64,
        digits: usize,
        extension: bool,
    },
    /// After the size line's CR.
    SizeLf {
        size: u64,
    },
    /// Inside a chunk: bytes left.
    Data(u64),
    /// After a chunk's data: its CRLF.
    DataCr,
    DataLf,
    /// The last chunk (size 0) was read: the stream is over.
    Done,
}

impl Chunked {
    const START: Chunked = Chunked::Size { size: 0, digits: 0, extension: false };

    /// Decode `bytes`, handing each piece of body data to `data`.
    fn decode(&mut self, mut bytes: &[u8], mut data: impl FnMut(&[u8])) -> Result<(), ClientError> {
        let bad = || ClientError::Protocol("malformed chunked body");
        while let Some((&b, rest)) = bytes.split_first() {
            match *self {
                Chunked::Size { size, digits, extension } => {
                    bytes = rest;
                    *self = match b {
                        b'\r' if digits > 0 => Chunked::SizeLf { size },
                        _ if extension => *self,
                        b';' if digits > 0 => Chunked::Size { size, digits, extension: true },
                        _ => {
                            let d = (b as char).to_digit(16).ok_or_else(bad)?;
                            let size = size
                                .checked_mul(16)
                                .and_then(|s| s.checked_add(u64::from(d)))
                                .ok_or_else(bad)?;
                            Chunked::Size { size, digits: digits + 1, extension }
                        }
                    };
                }
                Chunked::SizeLf { size } => {
                    bytes = rest;
                    if b != b'\n' {
                        return Err(bad());
                    }
                    *self = if size == 0 { Chunked::Done } else { Chunked::Data(size) };
                }
                Chunked::Data(left) => {
                    let n = left.min(bytes.len() as u64) as usize;
                    data(&bytes[..n]);
                    bytes = &bytes[n..];
                    *self = if n as u64 == left { Chunked::DataCr } else { Chunked::Data(left - n as u64) };
                }
                Chunked::DataCr | Chunked::DataLf => {
                    bytes = rest;
                    *self = match (*self, b) {
                        (Chunked::DataCr, b'\r') => Chunked::DataLf,
                        (Chunked::DataLf, b'\n') => Chunked::START,
                        _ => return Err(bad()),
                    };
                }
                // Trailers after the last chunk are not read: the stream is over.
                Chunked::Done => return Ok(()),
            }
        }
        Ok(())
    }
}

/// An event stream's parser, and the ticks of one read, recorded together (one lock,
/// one clock read).
pub(super) struct SseEvents {
    parser: SseParser,
    ticks: Vec<(u64, u64)>,
}

impl Default for SseEvents {
    fn default() -> Self {
        Self { parser: SseParser::default(), ticks: Vec::with_capacity(64) }
    }
}

impl Client {
    /// The events in `data`, one read of the stream (through `chunked` when the body is
    /// chunked HTTP/1.1; an HTTP/2 DATA frame's payload is the body itself): ticks
    /// recorded, `retry:` kept, a malformed event the stream's error.
    pub(super) fn sse_read(
        &mut self,
        events: &mut SseEvents,
        data: &[u8],
        chunked: Option<&mut Chunked>,
    ) -> Result<(), ClientError> {
        let SseEvents { parser, ticks } = events;
        let mut failure = None;
        let mut on_event = |event: &Event| {
            if let Err(e) = sse_event(&mut self.probe, ticks, event) {
                failure.get_or_insert(e);
            }
        };
        match chunked {
            Some(decoder) => decoder.decode(data, |piece| parser.feed(piece, &mut on_event))?,
            None => parser.feed(data, &mut on_event),
        }
        self.probe.tick_fields(ticks);
        ticks.clear();
        if let Some(ms) = parser.retry_ms() {
            self.sse_retry = std::time::Duration::from_millis(ms);
        }
        failure.map_or(Ok(()), Err)
    }

    /// One SSE connection, read until the run is cancelled (`Ok`) or it breaks.
    async fn stream_sse(&mut self) -> Result<(), ClientError> {
        if self.settings.h2.is_some() {
            return self.stream_sse_h2().await;
        }
        let started = Instant::now();
        let cancel = self.cancel.clone();
        let mut cancelled = std::pin::pin!(cancel.cancelled());
        let stream = tokio::select! {
            _ = &mut cancelled => return Ok(()),
            s = self.connect_tcp() => s?,
        };
        let mut conn = Conn::new(stream);
        // The request hyper wrote for us before, byte for byte.
        let mut request = format!(
            "GET {} HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\n",
            self.settings.url("/api/sse", &[]),
            self.target().authority
        );
        // The last id as the stream wrote it (`<epoch>-<seq>`): the probe's cursor, which
        // is that id while ticks arrive in order, and past an announced gap after one.
        if let Some(position) = self.probe.cursor() {
            request.push_str(&format!("last-event-id: {position}\r\n"));
        }
        request.push_str("\r\n");
        self.probe.request();
        let head = tokio::select! {
            _ = &mut cancelled => return Ok(()),
            h = async {
                conn.write_all(request.as_bytes()).await.map_err(ClientError::Io)?;
                conn.read_head().await
            } => h?,
        };
        if !head.is_success() {
            return Err(ClientError::Status(head.status));
        }
        self.probe.connected(started.elapsed());
        self.succeeded();
        let mut chunked = head.chunked.then_some(Chunked::START);
        let mut events = SseEvents::default();
        loop {
            let data = conn.data();
            self.sse_read(&mut events, data, chunked.as_mut())?;
            let n = data.len();
            conn.consume(n);
            if chunked == Some(Chunked::Done) {
                return Err(ClientError::Closed);
            }
            let read = tokio::select! {
                _ = &mut cancelled => return Ok(()),
                r = conn.fill() => r.map_err(ClientError::Io)?,
            };
            if read == 0 {
                return Err(ClientError::Closed);
            }
        }
    }
}

/// One event: a tick is queued in `ticks`; a gap or a reset is recorded in order, after
/// the ticks before it.
fn sse_event(
    probe: &mut crate::measure::Probe,
    ticks: &mut Vec<(u64, u64)>,
    event: &Event,
) -> Result<(), ClientError> {
    let flush = |probe: &mut crate::measure::Probe, ticks: &mut Vec<(u64, u64)>| {
        probe.tick_fields(ticks);
        ticks.clear();
    };
    match event.event.as_str() {
        "" | "message" => {
            // `<epoch>-<seq>`: a tick of an epoch other than the client's starts a new one
            // (a server that sends bare seqs names none).
            let epoch = event.id.as_deref().and_then(|id| id.rsplit_once('-')).map(|(e, _)| e);
            if let Some(epoch) = epoch
                && probe.epoch() != Some(epoch)
            {
                flush(probe, ticks);
                probe.learn_epoch(epoch);
            }
            ticks.push(tick_fields(event.data.as_bytes())?);
        }
        "gap" => {
            let gap: GapData = serde_json::from_str(&event.data)?;
            flush(probe, ticks);
            probe.gap_after_cursor(gap.missed);
        }
        "reset" => {
            let reset: ResetData = serde_json::from_str(&event.data)?;
            flush(probe, ticks);
            probe.reset(&reset.epoch);
        }
        other => tracing::debug!(event = other, "ignored SSE event type"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(body: &[u8], piece: usize) -> Result<(Vec<u8>, Chunked), ClientError> {
        let mut d = Chunked::START;
        let mut out = Vec::new();
        for chunk in body.chunks(piece) {
            d.decode(chunk, |p| out.extend_from_slice(p))?;
        }
        Ok((out, d))
    }

    #[test]
    fn chunked_bodies_decode_the_same_in_any_pieces() {
        let body = b"D\r\nretry: 1000\n\n\r\n17;ext=1\r\nid: 1\ndata: {\"seq\":1}\n\n\r\n0\r\n\r\n";
        for piece in 1..=body.len() {
            let (out, state) = decode_in_pieces(body, piece).unwrap();
            assert_eq!(out, b"retry: 1000\n\nid: 1\ndata: {\"seq\":1}\n\n", "pieces of {piece}");
            assert_eq!(state, Chunked::Done);
        }
        assert!(decode_in_pieces(b"zz\r\n", 4).is_err());
        assert!(decode_in_pieces(b"1\r\nab\r\n", 8).is_err());
    }
}
