//! One client for the conformance tests that speaks either protocol a browser would:
//! HTTP/1.1 on the plain port, or HTTP/2 over TLS (ALPN `h2`) on a `--tls` server. A
//! test written against [`Client`] runs unchanged over both (see [`over_both!`]).

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderMap, Version};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushlab_server::tls::Identity;
use rustls::pki_types::ServerName;

/// The protocol a test talks to its server in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// HTTP/1.1 over plain TCP (the server's own HTTP/1.1 layer).
    H1,
    /// HTTP/2 over TLS, chosen by ALPN (hyper's HTTP/2 behind rustls).
    H2,
}

/// Runs `async fn name(proto: Proto)` as two tests, `name::h1` and `name::h2`: the same
/// body over each protocol, so a difference between them fails one of the two.
#[macro_export]
macro_rules! over_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn h1() {
                super::$name($crate::common::Proto::H1).await
            }
            #[tokio::test]
            async fn h2() {
                super::$name($crate::common::Proto::H2).await
            }
        }
    )+};
}

/// A body read chunk by chunk, as the client receives it.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// A response: status, the HTTP version it came in, headers, and the body unread.
pub struct Response {
    pub status: u16,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: BodyStream,
}

impl Response {
    pub async fn bytes(mut self) -> Bytes {
        let mut all = Vec::new();
        while let Some(chunk) = self.body.next().await {
            all.extend_from_slice(&chunk.expect("the body reads to its end"));
        }
        all.into()
    }

    pub async fn text(self) -> String {
        String::from_utf8(self.bytes().await.to_vec()).unwrap()
    }

    pub async fn json<T: serde::de::DeserializeOwned>(self) -> T {
        serde_json::from_slice(&self.bytes().await).unwrap()
    }
}

/// A connection to one test server in its protocol. Over HTTP/2 every request is a
/// stream of the same TCP connection; clones share it.
#[derive(Clone)]
pub enum Client {
    H1 { http: reqwest::Client, base: String },
    H2 { send: SendRequest<Empty<Bytes>>, base: String, received: Received },
}

/// Every byte an HTTP/2 client has read from its connection, decrypted: the server's
/// frames, for tests that look at them ([`server_frames`](Client::server_frames)).
pub type Received = Arc<std::sync::Mutex<Vec<u8>>>;

/// A frame the server sent: its type (RFC 9113 §6: 0 DATA, 1 HEADERS, 3 RST_STREAM,
/// 4 SETTINGS, 6 PING, 7 GOAWAY …) and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

pub const GOAWAY: u8 = 7;
pub const RST_STREAM: u8 = 3;

/// The frames in `bytes`, which begin at a frame boundary (a server sends no preface):
/// each is a 9-byte header (length 24 bits, type, flags, stream id 31 bits), then its payload.
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 9 {
        let length = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
        let stream = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
        let Some(payload) = rest.get(9..9 + length) else { break };
        frames.push(Frame { kind: rest[3], stream, payload: payload.to_vec() });
        rest = &rest[9 + length..];
    }
    frames
}

/// A TLS stream that keeps a copy of everything read from it.
struct Recording<S> {
    inner: S,
    received: Received,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Recording<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.received.lock().unwrap().extend_from_slice(&buf.filled()[before..]);
        polled
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Client {
    /// A plain HTTP/1.1 client for `http://addr`.
    pub fn h1(addr: std::net::SocketAddr) -> Self {
        Client::H1 { http: super::http(), base: format!("http://{addr}") }
    }

    /// One TLS connection to `addr` trusting only `identity`, with ALPN offering `h2`
    /// alone: a server that cannot speak HTTP/2 fails the handshake here.
    pub async fn h2(addr: std::net::SocketAddr, identity: &Identity) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(identity.chain[0].clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = ServerName::from(addr.ip());
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("TLS handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()), "ALPN chose h2");
        let received = Received::default();
        let io = TokioIo::new(Recording { inner: tls, received: received.clone() });
        let (send, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.unwrap();
        tokio::spawn(connection);
        Client::H2 { send, base: format!("https://{addr}"), received }
    }

    /// The frames the server has sent on this HTTP/2 connection so far.
    pub fn server_frames(&self) -> Vec<Frame> {
        match self {
            Client::H1 { .. } => panic!("an HTTP/1.1 connection has no frames"),
            Client::H2 { received, .. } => frames(&received.lock().unwrap()),
        }
    }

    /// Whether the connection still takes new requests (after a GOAWAY it does not).
    pub async fn takes_new_streams(&self) -> bool {
        match self {
            Client::H1 { .. } => true,
            Client::H2 { send, .. } => send.clone().ready().await.is_ok(),
        }
    }

    pub fn proto(&self) -> Proto {
        match self {
            Client::H1 { .. } => Proto::H1,
            Client::H2 { .. } => Proto::H2,
        }
    }

    /// GETs `path` with extra `headers`; the version is checked against the protocol.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request(http::Method::GET, path, headers).await
    }

    /// Sends `method` for `path` with no body; the version is checked against the protocol.
    pub async fn request(&self, method: http::Method, path: &str, headers: &[(&str, &str)]) -> Response {
        let response = match self {
            Client::H1 { http, base } => {
                let mut request = http.request(method, format!("{base}{path}"));
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let response = request.send().await.unwrap();
                Response {
                    status: response.status().as_u16(),
                    version: response.version(),
                    headers: response.headers().clone(),
                    body: Box::pin(response.bytes_stream().map(|c| c.map_err(|e| e.to_string()))),
                }
            }
            Client::H2 { send, base, .. } => {
                let mut request = http::Request::builder()
                    .method(method)
                    .uri(format!("{base}{path}"))
                    .version(Version::HTTP_2);
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let mut send = send.clone();
                send.ready().await.expect("the connection takes a new stream");
                let response = send.send_request(request.body(Empty::new()).unwrap()).await.unwrap();
                let (parts, body) = response.into_parts();
                let data = body.into_data_stream().map(|c| c.map_err(|e| e.to_string()));
                Response {
                    status: parts.status.as_u16(),
                    version: parts.version,
                    headers: parts.headers,
                    body: Box::pin(data),
                }
            }
        };
        let expected = match self.proto() {
            Proto::H1 => Version::HTTP_11,
            Proto::H2 => Version::HTTP_2,
        };
        assert_eq!(response.version, expected, "{path}");
        response
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(path, &[]).await
    }

    /// GETs `path`: the status and the body parsed as JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        (response.status, response.json().await)
    }

    /// GETs `path`: the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await
    }
}
