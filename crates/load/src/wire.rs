//! `pushlab-load wire`: the exact bytes of each transport, captured from a real
//! exchange on a plain TCP socket and printed with what each part means.
//!
//! No HTTP or WebSocket library sits between us and the socket here: what is printed
//! is what was written and read, byte for byte, so the docs can show the chunk-size
//! lines of an SSE stream and the header bits of a WebSocket frame instead of
//! describing them.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use pushlab_contract::{ClientMessage, Transport};

/// How long any read may wait: the capture ends instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// SSE chunks shown after the headers: `retry:`, two replayed ticks, one live tick.
const SSE_CHUNKS: usize = 4;
/// A fixed key makes the handshake reproducible (RFC 6455's own example key).
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The mask of the client frame we send (clients must mask; any key will do).
const WS_MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// Captures one exchange of `transport` with the server at `addr`, whose head is `head`.
pub async fn capture(transport: Transport, addr: SocketAddr, head: u64) -> anyhow::Result<String> {
    let since = head.saturating_sub(2);
    let mut out = String::new();
    let mut conn = Conn::open(addr).await?;
    match transport {
        Transport::Poll => {
            writeln!(out, "# Polling: one request, one complete answer, connection reusable.")?;
            conn.request(&mut out, &format!("/api/poll?since={since}"), &[]).await?;
            conn.response_with_length(&mut out).await?;
        }
        Transport::LongPoll => {
            writeln!(out, "# Long-polling: nothing after the head yet, so the server holds the request.")?;
            conn.request(&mut out, &format!("/api/long-poll?since={head}&timeout_ms=10000"), &[]).await?;
            let asked = Instant::now();
            let head_len = conn.read_head().await?;
            writeln!(out, "# … held {} ms, until the next tick:", asked.elapsed().as_millis())?;
            conn.print_head(&mut out, head_len)?;
            conn.body_with_length(&mut out, head_len).await?;
        }
        Transport::Sse => {
            writeln!(out, "# SSE: one request, then one endless chunked response.")?;
            conn.request(&mut out, "/api/sse", &[("Last-Event-ID", &since.to_string())]).await?;
            let head_len = conn.read_head().await?;
            conn.print_head(&mut out, head_len)?;
            conn.chunks(&mut out, head_len, SSE_CHUNKS).await?;
        }
        Transport::Ws => {
            writeln!(out, "# WebSocket: an HTTP handshake, then frames both ways on the same socket.")?;
            let upgrade = [
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", WS_KEY),
            ];
            conn.request(&mut out, &format!("/api/ws?since={since}"), &upgrade).await?;
            let head_len = conn.read_head().await?;
            conn.print_head(&mut out, head_len)?;
            conn.buf.drain(..head_len);
            writeln!(out, "\n# ← the first frame from the server (servers never mask): the hello, naming")?;
            writeln!(out, "#   the run of the log (its epoch) and its newest seq")?;
            let frame = conn.frame().await?;
            write_frame(&mut out, &frame)?;
            writeln!(out, "\n# ← then the first tick after the cursor")?;
            let frame = conn.frame().await?;
            write_frame(&mut out, &frame)?;
            // The contract's own type, so the docs show the message the server is built for.
            let subscribe = ClientMessage::Subscribe { symbols: vec!["ACME".into()] };
            let sent = masked_text_frame(&serde_json::to_vec(&subscribe)?);
            conn.stream.write_all(&sent).await?;
            writeln!(
                out,
                "\n# → a frame from the client (clients must mask: browsers pick a random key per frame)"
            )?;
            write_frame(&mut out, &sent)?;
        }
    }
    Ok(out)
}

/// A socket and what has been read from it but not yet shown.
struct Conn {
    stream: TcpStream,
    addr: SocketAddr,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        Ok(Conn { stream, addr, buf: Vec::new() })
    }

    async fn request(
        &mut self,
        out: &mut String,
        path: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.stream.write_all(request.as_bytes()).await?;
        writeln!(out, "\n# → the client sends ({} bytes):", request.len())?;
        write_escaped(out, request.as_bytes())?;
        Ok(())
    }

    /// Reads at least once more; fails at end of stream or after [`READ_TIMEOUT`].
    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .context("the server sent nothing for 10 s")??;
        if n == 0 {
            bail!("the server closed the connection");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Reads until the end of the response head; returns its length.
    async fn read_head(&mut self) -> anyhow::Result<usize> {
        loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                return Ok(at + 4);
            }
            self.fill().await?;
        }
    }

    fn print_head(&self, out: &mut String, head_len: usize) -> anyhow::Result<()> {
        writeln!(out, "\n# ← the server answers, headers ({head_len} bytes):")?;
        write_escaped(out, &self.buf[..head_len])
    }

    async fn response_with_length(&mut self, out: &mut String) -> anyhow::Result<()> {
        let head_len = self.read_head().await?;
        self.print_head(out, head_len)?;
        self.body_with_length(out, head_len).await
    }

    async fn body_with_length(&mut self, out: &mut String, head_len: usize) -> anyhow::Result<()> {
        let head = String::from_utf8_lossy(&self.buf[..head_len]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .context("expected a content-length")?;
        while self.buf.len() < head_len + length {
            self.fill().await?;
        }
        writeln!(out, "\n# ← then the body ({length} bytes, as content-length said):")?;
        write_escaped(out, &self.buf[head_len..head_len + length])
    }

    /// Shows `count` chunks of a chunked body: each size line (hex), then the data.
    async fn chunks(&mut self, out: &mut String, head_len: usize, count: usize) -> anyhow::Result<()> {
        self.buf.drain(..head_len);
        writeln!(out, "\n# ← then the body, one chunk per event: a size line in hex, the bytes, CRLF")?;
        for _ in 0..count {
            let line_end = loop {
                if let Some(at) = find(&self.buf, b"\r\n") {
                    break at;
                }
                self.fill().await?;
            };
            let size_hex = String::from_utf8_lossy(&self.buf[..line_end]).to_string();
            let size = usize::from_str_radix(size_hex.trim(), 16).context("a chunk-size line")?;
            while self.buf.len() < line_end + 2 + size + 2 {
                self.fill().await?;
            }
            let size_line = format!("{size_hex}\\r\\n");
            writeln!(out, "{size_line:<24}# chunk size: 0x{size_hex} = {size} bytes")?;
            write_escaped(out, &self.buf[line_end + 2..line_end + 2 + size])?;
            writeln!(out, "{:<24}# end of the chunk", "\\r\\n")?;
            self.buf.drain(..line_end + 2 + size + 2);
        }
        writeln!(out, "# … and so on, one chunk per event, for as long as the client stays.")?;
        Ok(())
    }

    /// Reads one complete WebSocket frame (header and payload) and returns its bytes.
    async fn frame(&mut self) -> anyhow::Result<Vec<u8>> {
        loop {
            if let Some(len) = frame_len(&self.buf)
                && self.buf.len() >= len
            {
                return Ok(self.buf.drain(..len).collect());
            }
            self.fill().await?;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Prints bytes as text with `\r` and `\n` made visible, one line per `\n`.
fn write_escaped(out: &mut String, bytes: &[u8]) -> anyhow::Result<()> {
    let text = String::from_utf8_lossy(bytes);
    let mut line = String::new();
    for c in text.chars() {
        match c {
            '\r' => line.push_str("\\r"),
            '\n' => {
                line.push_str("\\n");
                writeln!(out, "{line}")?;
                line.clear();
            }
            c => line.push(c),
        }
    }
    if !line.is_empty() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The total length of the frame at the start of `buf`, once its header is complete.
fn frame_len(buf: &[u8]) -> Option<usize> {
    let (&b1, rest) = buf.get(1).zip(buf.get(2..))?;
    let masked = b1 & 0x80 != 0;
    let (len, ext) = match b1 & 0x7f {
        126 => (u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize, 2),
        127 => (u64::from_be_bytes(rest.get(..8)?.try_into().ok()?) as usize, 8),
        n => (n as usize, 0),
    };
    Some(2 + ext + if masked { 4 } else { 0 } + len)
}

/// A text frame as a client must send it: FIN, opcode 1, MASK bit, payload XOR key.
fn masked_text_frame(payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126, "short frames only");
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&WS_MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ WS_MASK[i % 4]));
    frame
}

/// A frame in hex, its header decoded bit by bit, and its payload as text.
fn write_frame(out: &mut String, frame: &[u8]) -> anyhow::Result<()> {
    let (b0, b1) = (frame[0], frame[1]);
    let masked = b1 & 0x80 != 0;
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let header_len = 2 + ext + if masked { 4 } else { 0 };
    let payload_len = frame.len() - header_len;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
    writeln!(out, "{:<24}# header, {header_len} bytes:", hex(&frame[..header_len]))?;
    let opcode = match b0 & 0x0f {
        0x1 => "text",
        0x2 => "binary",
        0x8 => "close",
        0x9 => "ping",
        0xa => "pong",
        _ => "other",
    };
    writeln!(out, "{:<24}#   FIN={} (last fragment), opcode=0x{:x} ({opcode})", "", b0 >> 7, b0 & 0x0f)?;
    writeln!(
        out,
        "{:<24}#   MASK={}, payload length={payload_len}{}",
        "",
        u8::from(masked),
        match ext {
            2 => " (in the 2 extra length bytes)",
            8 => " (in the 8 extra length bytes)",
            _ => " (in the 7 low bits)",
        }
    )?;
    let mut payload = frame[header_len..].to_vec();
    if masked {
        let key = &frame[header_len - 4..header_len];
        writeln!(out, "{:<24}#   masking key={}", "", hex(key))?;
        payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= key[i % 4]);
    }
    let shown = &frame[header_len..(header_len + 16).min(frame.len())];
    writeln!(out, "{} …", hex(shown))?;
    let note = if masked { ", masked; unmasked it reads:" } else { ", which reads:" };
    writeln!(out, "{:<24}# payload, {payload_len} bytes (the first 16 above){note}", "")?;
    writeln!(out, "{}", String::from_utf8_lossy(&payload))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_follow_rfc_6455() {
        assert_eq!(frame_len(&[0x81, 0x05, b'h']), Some(7));
        assert_eq!(frame_len(&[0x81, 0x7e, 0x01, 0x00]), Some(4 + 256));
        assert_eq!(frame_len(&[0x81, 0x85, 0, 0, 0, 0]), Some(2 + 4 + 5));
        assert_eq!(frame_len(&[0x81]), None);
    }

    #[test]
    fn a_masked_frame_unmasks_to_its_payload() {
        let frame = masked_text_frame(b"hello");
        assert_eq!(&frame[..2], &[0x81, 0x85]);
        let mut out = String::new();
        write_frame(&mut out, &frame).unwrap();
        assert!(
            out.contains("opcode=0x1 (text)") && out.contains("MASK=1") && out.ends_with("hello\n"),
            "{out}"
        );
    }

    #[test]
    fn escaped_text_shows_line_endings() {
        let mut out = String::new();
        write_escaped(&mut out, b"HTTP/1.1 200 OK\r\nx: y\r\n\r\n").unwrap();
        assert_eq!(out, "HTTP/1.1 200 OK\\r\\n\nx: y\\r\\n\n\\r\\n\n");
    }
}
