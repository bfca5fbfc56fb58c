//! What the streaming clients (SSE, WebSocket) share below their framing: a counted
//! socket with one reusable read buffer, an HTTP/1.1 response head parser, and a
//! tick parser that reads only the two fields the measurement needs.
//!
//! Why not hyper and tungstenite for streams: at 2,000 clients × 100 ticks/s they
//! cost the load generator as much CPU per tick as the server spends delivering it,
//! so the latency measured was partly ours. hyper's client hands each chunk through
//! a channel to the body (one more task poll per chunk); tungstenite zeroes its
//! read buffer on every read and allocates each message. Here every wake-up does one
//! `read` into the spare capacity of a buffer that is never zeroed, then parses every
//! complete frame or event in it before going back to the runtime; nothing is
//! allocated per tick. The bytes are still counted at the socket
//! ([`crate::net::CountingStream`], under TLS if any).

use std::io;

use pushlab_contract::Tick;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ClientError;
use crate::tls::ClientStream;

/// Read buffer of each streaming client: a tick event is ~100 bytes, so 4 KiB holds
/// ~40; a frame or head longer than that grows it (up to [`MAX_HEAD_BYTES`] for a
/// head, the WebSocket message limit for a frame).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest response head accepted.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A counted socket and its read buffer: `buf[start..]` is read but not yet consumed.
#[derive(Debug)]
pub struct Conn {
    pub stream: ClientStream,
    buf: Vec<u8>,
    start: usize,
}

impl Conn {
    pub fn new(stream: ClientStream) -> Self {
        Self { stream, buf: Vec::with_capacity(READ_BUFFER_BYTES), start: 0 }
    }

    /// The bytes read and not yet consumed.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.buf.len());
    }

    /// Make room for at least `n` unconsumed bytes in all (a frame that long).
    pub fn want(&mut self, n: usize) {
        let have = self.buf.len() - self.start;
        if n > have {
            self.buf.reserve(n - have);
        }
    }

    /// One read of whatever the socket has, into the buffer's spare capacity (never
    /// zeroed); `0` at the end of the stream.
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.buf.len() {
            self.buf.clear();
        } else if self.start > 0 {
            self.buf.drain(..self.start);
        }
        self.start = 0;
        if self.buf.capacity() - self.buf.len() < READ_BUFFER_BYTES / 4 {
            self.buf.reserve(READ_BUFFER_BYTES);
        }
        self.stream.read_buf(&mut self.buf).await
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Read until a complete response head is buffered, consume it and return it.
    pub async fn read_head(&mut self) -> Result<Head, ClientError> {
        loop {
            if let Some(end) = find(self.data(), b"\r\n\r\n") {
                let head = Head::parse(&self.data()[..end + 4])?;
                self.consume(end + 4);
                return Ok(head);
            }
            if self.data().len() > MAX_HEAD_BYTES {
                return Err(ClientError::Protocol("response head too long"));
            }
            if self.fill().await.map_err(ClientError::Io)? == 0 {
                return Err(ClientError::Closed);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of an HTTP/1.1 response head the clients look at.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub chunked: bool,
    pub content_length: Option<u64>,
    pub ws_accept: Option<String>,
}

impl Head {
    /// Parse `HTTP/1.x NNN reason\r\n(name: value\r\n)*\r\n`.
    pub fn parse(head: &[u8]) -> Result<Self, ClientError> {
        let bad = || ClientError::Protocol("malformed response head");
        let text = std::str::from_utf8(head).map_err(|_| bad())?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().ok_or_else(bad)?;
        let rest = status_line.strip_prefix("HTTP/1.").ok_or_else(bad)?;
        let code = rest.get(2..5).filter(|_| rest.as_bytes().get(1) == Some(&b' ')).ok_or_else(bad)?;
        let status = code.parse().map_err(|_| bad())?;
        let mut out = Head { status, ..Head::default() };
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or_else(bad)?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                out.chunked =
                    value.rsplit(',').next().is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
            } else if name.eq_ignore_ascii_case("content-length") {
                out.content_length = Some(value.parse().map_err(|_| bad())?);
            } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
                out.ws_accept = Some(value.to_string());
            }
        }
        Ok(out)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// `seq` and `ts_us` of one tick's JSON, the only fields the measurement uses.
///
/// The server writes every tick with serde as `{"seq":N,"symbol":"S","price":P,
/// "ts_us":N}` (plus `,"pad":"…"` with `--payload-bytes`); that exact shape is read
/// here without building a `Tick`. Anything else, including a shape this does not
/// recognise, goes through serde, so a malformed tick is still a `parse` error.
pub fn tick_fields(json: &[u8]) -> Result<(u64, u64), serde_json::Error> {
    match fast_tick_fields(json) {
        Some(fields) => Ok(fields),
        None => serde_json::from_slice::<Tick>(json).map(|t| (t.seq, t.ts_us)),
    }
}

fn fast_tick_fields(json: &[u8]) -> Option<(u64, u64)> {
    let rest = json.strip_prefix(b"{\"seq\":")?;
    let (seq, rest) = integer(rest)?;
    let rest = rest.strip_prefix(b",\"symbol\":\"")?;
    // A symbol with an escape is left to serde.
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    let rest = rest[end..].strip_prefix(b"\"")?.strip_prefix(b",\"price\":")?;
    let end = rest.iter().position(|&b| b == b',')?;
    let price = &rest[..end];
    if price.is_empty()
        || !price.iter().all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    let rest = rest[end..].strip_prefix(b",\"ts_us\":")?;
    let (ts_us, rest) = integer(rest)?;
    if rest == b"}" {
        return Some((seq, ts_us));
    }
    // The filler: a plain string serde wrote, so no quote or backslash inside.
    let pad = rest.strip_prefix(b",\"pad\":\"")?.strip_suffix(b"\"}")?;
    pad.iter().all(|&b| b != b'"' && b != b'\\' && b >= 0x20).then_some((seq, ts_us))
}

/// A JSON unsigned integer at the start of `s` (no leading zeros but `0` itself).
fn integer(s: &[u8]) -> Option<(u64, &[u8])> {
    let len = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    if len == 0 || (len > 1 && s[0] == b'0') {
        return None;
    }
    let mut n: u64 = 0;
    for &d in &s[..len] {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((n, &s[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_fields_agree_with_serde_on_what_the_server_writes() {
        for pad in [None, Some("xxxxxxxx".to_string())] {
            for (seq, price, ts_us) in
                [(1, 1.0, 0), (42, 123.45, 1_733_000_000_123_456), (u64::MAX, -0.5, u64::MAX)]
            {
                let tick = Tick { seq, symbol: "ACME".into(), price, ts_us, pad: pad.clone() };
                let json = serde_json::to_vec(&tick).unwrap();
                assert!(fast_tick_fields(&json).is_some(), "{}", String::from_utf8_lossy(&json));
                assert_eq!(tick_fields(&json).unwrap(), (seq, ts_us));
            }
        }
    }

    #[test]
    fn other_shapes_go_through_serde() {
        // Reordered keys and whitespace: not the fast shape, still a tick.
        let json = br#"{ "ts_us": 7, "price": 1.5, "symbol": "A\"B", "seq": 3 }"#;
        assert_eq!(fast_tick_fields(json), None);
        assert_eq!(tick_fields(json).unwrap(), (3, 7));
        // Broken ticks are parse errors, as with serde alone.
        for bad in [
            &br#"{"seq":1,"symbol":"A","price":1,"ts_us":}"#[..],
            br#"{"seq":01}"#,
            b"{}",
            b"",
            b"{\"seq\":99999999999999999999}",
        ] {
            assert_eq!(fast_tick_fields(bad), None);
            assert!(tick_fields(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn response_heads() {
        let h = Head::parse(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
        assert_eq!((h.status, h.chunked, h.content_length), (200, true, None));
        let h = Head::parse(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 12\r\n\r\n").unwrap();
        assert_eq!((h.status, h.chunked, h.content_length, h.is_success()), (503, false, Some(12), false));
        let h =
            Head::parse(b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept:  abc= \r\n\r\n").unwrap();
        assert_eq!(h.ws_accept.as_deref(), Some("abc="));
        assert!(Head::parse(b"HTTP/2 200\r\n\r\n").is_err());
        assert!(Head::parse(b"HTTP/1.1 20 OK\r\n\r\n").is_err());
    }
}
