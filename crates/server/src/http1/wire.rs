//! The bytes of HTTP/1.1 this layer reads and writes: when a head is complete, parsing
//! it, what a request's headers say about its body and its connection, the response
//! head, chunk-size lines, and the one `writev` a batch of body frames goes out in.

use std::io::{self, IoSlice};
use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, Version, header};
use tokio::net::TcpStream;

use super::{MAX_BODY_BYTES, MAX_FRAMES_PER_WRITE, MAX_HEADERS};

/// A request the connection will not serve: the status and message it answers with
/// before closing.
pub(super) struct Refusal(pub StatusCode, pub String);

/// How a response's body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body at all (`HEAD`, 1xx, 204, 304).
    None,
    Length,
    Chunked,
    /// An HTTP/1.0 client and a body of unknown length: it ends when the connection does.
    UntilClose,
}

/// The slices of one `writev`, on the stack.
pub(super) struct Gather<'a> {
    slices: [IoSlice<'a>; 3 * MAX_FRAMES_PER_WRITE + 2],
    len: usize,
}

impl<'a> Gather<'a> {
    pub(super) fn new() -> Self {
        Gather { slices: [IoSlice::new(&[]); 3 * MAX_FRAMES_PER_WRITE + 2], len: 0 }
    }

    pub(super) fn push(&mut self, bytes: &'a [u8]) {
        self.slices[self.len] = IoSlice::new(bytes);
        self.len += 1;
    }

    /// Writes as much as the socket takes without waiting; returns the rest, copied
    /// (empty, and unallocated, when the socket took everything: the usual case).
    pub(super) fn try_write(mut self, io: &TcpStream) -> io::Result<Vec<u8>> {
        let mut slices = &mut self.slices[..self.len];
        while !slices.is_empty() {
            match io.try_write_vectored(slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => IoSlice::advance_slices(&mut slices, written),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(slices.iter().flat_map(|s| s.iter().copied()).collect())
    }
}

/// Whether `buf` holds a whole head: a blank line after the request line. Only the
/// bytes after `scanned` (less three, for a terminator split across reads) are new.
pub(super) fn head_complete(buf: &[u8], scanned: usize) -> bool {
    let tail = &buf[scanned.saturating_sub(3).min(buf.len())..];
    tail.windows(4).any(|w| w == b"\r\n\r\n") || tail.windows(2).any(|w| w == b"\n\n")
}

/// Parses a complete head into request parts, whether to keep the connection alive
/// after the response, and the head's length.
pub(super) fn parse_head(buf: &[u8]) -> Result<(http::request::Parts, bool, usize), Refusal> {
    let bad = |message: String| Refusal(StatusCode::BAD_REQUEST, message);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Err(bad("incomplete request head".into())),
        Err(httparse::Error::TooManyHeaders) => {
            let message = format!("more than {MAX_HEADERS} request headers");
            return Err(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message));
        }
        Err(e) => return Err(bad(format!("malformed request head: {e}"))),
    };
    let method = parsed.method.unwrap_or_default();
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| bad(format!("bad method {method:?}")))?;
    let target = parsed.path.unwrap_or_default();
    let uri: Uri = target.parse().map_err(|_| bad(format!("bad request target {target:?}")))?;
    let version = if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let mut map = HeaderMap::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| bad(format!("bad header name {:?}", h.name)))?;
        let value =
            HeaderValue::from_bytes(h.value).map_err(|_| bad(format!("bad value of header {}", h.name)))?;
        map.append(name, value);
    }
    let keep_alive = wants_keep_alive(version, &map);
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = map;
    Ok((request.into_parts().0, keep_alive, len))
}

/// HTTP/1.1 keeps a connection unless told `close`; HTTP/1.0 closes unless told `keep-alive`.
fn wants_keep_alive(version: Version, headers: &HeaderMap) -> bool {
    let has = |token| has_token(headers, header::CONNECTION, token);
    if version == Version::HTTP_10 { has("keep-alive") } else { !has("close") }
}

/// Whether a comma-separated header (`Connection: keep-alive, Upgrade`) lists `token`,
/// in any case.
pub fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))))
}

/// The body length a request declares: `Content-Length` (every copy the same), at most
/// [`MAX_BODY_BYTES`]; a `Transfer-Encoding` is refused.
pub(super) fn body_length(headers: &HeaderMap) -> Result<usize, Refusal> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        let message = "send the request body with Content-Length (Transfer-Encoding is not accepted)";
        return Err(Refusal(StatusCode::LENGTH_REQUIRED, message.into()));
    }
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        let n: usize =
            value.to_str().ok().and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
                Refusal(StatusCode::BAD_REQUEST, "Content-Length: expected a number".into())
            })?;
        if length.is_some_and(|l| l != n) {
            return Err(Refusal(StatusCode::BAD_REQUEST, "Content-Length: conflicting values".into()));
        }
        length = Some(n);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY_BYTES {
        let message = format!("request body of {length} bytes; at most {MAX_BODY_BYTES} are accepted");
        return Err(Refusal(StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    Ok(length)
}

/// The status line and headers, with the framing headers this layer decides.
pub(super) fn response_head(
    parts: &http::response::Parts,
    framing: Framing,
    length: Option<u64>,
    version: Version,
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = Vec::with_capacity(160 + parts.headers.len() * 40);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(parts.status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue; // this layer frames the body
        }
        if name == header::CONNECTION && parts.status != StatusCode::SWITCHING_PROTOCOLS {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    match framing {
        Framing::Length => {
            head.extend_from_slice(b"content-length: ");
            head.extend_from_slice(itoa::Buffer::new().format(length.unwrap_or(0)).as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        Framing::Chunked => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::None | Framing::UntilClose => {}
    }
    if !keep_alive {
        head.extend_from_slice(b"connection: close\r\n");
    } else if version == Version::HTTP_10 {
        head.extend_from_slice(b"connection: keep-alive\r\n");
    }
    head.extend_from_slice(b"date: ");
    DATE.with_borrow_mut(|date| head.extend_from_slice(date.now()));
    head.extend_from_slice(b"\r\n\r\n");
    head
}

thread_local! {
    /// The `Date` header, formatted once a second per thread rather than per response.
    static DATE: std::cell::RefCell<CachedDate> = const { std::cell::RefCell::new(CachedDate { second: 0, text: String::new() }) };
}

struct CachedDate {
    second: u64,
    text: String,
}

impl CachedDate {
    fn now(&mut self) -> &[u8] {
        let now = SystemTime::now();
        let second = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second != self.second || self.text.is_empty() {
            self.second = second;
            self.text = httpdate::fmt_http_date(now);
        }
        self.text.as_bytes()
    }
}

/// Writes `len` as a chunk-size line (`1A\r\n`, upper case as hyper writes it) into `line`; returns its length.
/// By hand, not `format!`: it runs for every event of every stream.
pub(super) fn chunk_size_line(len: usize, line: &mut [u8; 18]) -> usize {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        line[digits - 1 - i] = HEX[(len >> (4 * i)) & 0xf];
    }
    line[digits..digits + 2].copy_from_slice(b"\r\n");
    digits + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_lines_are_hex() {
        let mut line = [0u8; 18];
        for (len, text) in [(0, "0\r\n"), (13, "D\r\n"), (0x1a2, "1A2\r\n"), (65536, "10000\r\n")] {
            let n = chunk_size_line(len, &mut line);
            assert_eq!(std::str::from_utf8(&line[..n]).unwrap(), text);
        }
    }

    #[test]
    fn a_head_is_complete_at_its_blank_line_even_split_across_reads() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(head_complete(head, 0));
        assert!(!head_complete(&head[..head.len() - 1], 0));
        assert!(head_complete(head, head.len() - 2), "terminator split across two reads");
        assert!(head_complete(b"GET / HTTP/1.0\n\n", 0));
    }

    #[test]
    fn heads_parse_into_parts_with_keep_alive() {
        let (parts, keep_alive, len) =
            parse_head(b"GET /api/poll?since=3 HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\nrest")
                .ok()
                .unwrap();
        assert_eq!(
            (parts.method, parts.uri.to_string(), keep_alive, len),
            (Method::GET, "/api/poll?since=3".into(), false, 62)
        );
        let (parts, keep_alive, _) = parse_head(b"GET / HTTP/1.0\r\n\r\n").ok().unwrap();
        assert_eq!((parts.version, keep_alive), (Version::HTTP_10, false));
        let (_, keep_alive, _) =
            parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok().unwrap();
        assert!(keep_alive);
        let Err(Refusal(status, _)) = parse_head(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n") else {
            panic!()
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn body_lengths_are_checked() {
        let headers = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| {
                    (HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap())
                })
                .collect::<HeaderMap>()
        };
        assert_eq!(body_length(&headers(&[])).ok(), Some(0));
        assert_eq!(body_length(&headers(&[("content-length", "12")])).ok(), Some(12));
        let status = |h: HeaderMap| body_length(&h).err().map(|Refusal(s, _)| s);
        assert_eq!(status(headers(&[("transfer-encoding", "chunked")])), Some(StatusCode::LENGTH_REQUIRED));
        assert_eq!(status(headers(&[("content-length", "99999999")])), Some(StatusCode::PAYLOAD_TOO_LARGE));
        assert_eq!(status(headers(&[("content-length", "x")])), Some(StatusCode::BAD_REQUEST));
    }
}
