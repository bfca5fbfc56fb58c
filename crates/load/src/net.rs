//! Sockets: where the server is, how clients connect, and how their bytes are counted.
//!
//! Every client socket is a [`CountingStream`]: a `TcpStream` that adds each read and
//! write to its group's counters, and notes when bytes moved for the radio model. Counting at the socket, below hyper and tungstenite,
//! is what makes "wire bytes" include headers, chunk framing and WebSocket frames: the
//! bytes the kernel really moved, not what a library says it sent.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};

use crate::measure::{Group, Traffic, now_us};
use crate::radio::Activity;
use crate::tls::{Alpn, ClientStream, TlsClient, Trust};

/// How long a TCP connect may take before it counts as a `connect_timeout` error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Loopback source addresses clients are spread over (127.0.0.1 …): each has its own
/// ~28,000 ephemeral ports, so back-to-back 19,000-client runs don't run out while the
/// previous run's sockets sit in TIME_WAIT.
pub const SOURCE_ADDRS: u8 = 8;

/// Which block of [`SOURCE_ADDRS`] addresses this process's clients use: 0 is
/// 127.0.0.1 to .8; worker `i` of a `--workers` run uses block `i`, so workers never
/// compete for one address's ephemeral ports.
static SOURCE_BLOCK: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Make this process's clients connect from block `index` (of 31) of source addresses.
pub fn use_source_block(index: usize) {
    let block = (index % (254 / usize::from(SOURCE_ADDRS))) as u8;
    SOURCE_BLOCK.store(block, std::sync::atomic::Ordering::Relaxed);
}

/// Read buffer of each client's HTTP connection. hyper's adaptive default starts at
/// 8 KiB and grows towards ~400 KiB after full reads (a lagging stream), which at
/// 19,000 streams is gigabytes; a tick event is ~100 bytes, so 4 KiB holds ~40.
pub const HTTP_READ_BUFFER_BYTES: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("--url {0:?} is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:3000)")]
    BadUrl(String),
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, io::Error),
    #[error(
        "{0} is not a loopback address: pushlab-load only loads loopback targets unless --allow-remote is given"
    )]
    NotLoopback(SocketAddr),
}

/// The server under load.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header value, `host:port`.
    pub authority: String,
    /// Whether the URL was https:// (then [`Target::secure`] must give it its TLS).
    pub https: bool,
    /// TLS under every connection, for an https:// target.
    pub tls: Option<Arc<TlsClient>>,
    /// On the netem path, where the clients' sockets come from; `None`: from here.
    pub via: Option<Via>,
}

/// How clients reach the server on the netem path (`crate::link`): sockets made inside
/// the namespace behind `veth`, connecting to `addr` on its root side (the server
/// itself, or a forwarder to it). Control traffic still goes to [`Target::addr`].
#[derive(Debug, Clone)]
pub struct Via {
    pub veth: pushlab_link::Veth,
    pub addr: SocketAddr,
}

impl Target {
    /// Resolve an `http://host:port` URL, refusing non-loopback hosts unless allowed.
    pub async fn resolve(url: &str, allow_remote: bool) -> Result<Self, TargetError> {
        let bad = || TargetError::BadUrl(url.to_string());
        let uri: http::Uri = url.parse().map_err(|_| bad())?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad()),
        };
        let authority = uri.authority().ok_or_else(bad)?;
        let default_port = if https { 443 } else { 80 };
        let host_port = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(default_port));
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&host_port)
            .await
            .map_err(|e| TargetError::Resolve(host_port.clone(), e))?
            .collect();
        // `localhost` often resolves to ::1 first, while the server listens on 127.0.0.1.
        let addr = addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied().ok_or_else(bad)?;
        if !allow_remote && !addr.ip().is_loopback() {
            return Err(TargetError::NotLoopback(addr));
        }
        Ok(Self { addr, authority: authority.to_string(), https, tls: None, via: None })
    }

    pub fn from_addr(addr: SocketAddr) -> Self {
        Self { addr, authority: addr.to_string(), https: false, tls: None, via: None }
    }

    /// An https:// target's TLS, trusting its certificate as `trust` says; a plain one
    /// given a trust is refused (the flag would do nothing).
    pub fn secure(mut self, trust: Option<Trust>) -> anyhow::Result<Self> {
        match (self.https, trust) {
            (false, None) => {}
            (false, Some(_)) => anyhow::bail!("--tls-fingerprint and --insecure are for https:// URLs"),
            (true, None) => anyhow::bail!(
                "an https:// target needs --tls-fingerprint (the `tls certificate sha256` line the server printed) or --insecure"
            ),
            (true, Some(trust)) => {
                let host = self.authority.rsplit_once(':').map_or(self.authority.as_str(), |(host, _)| host);
                self.tls = Some(Arc::new(TlsClient::new(host, trust)?));
            }
        }
        Ok(self)
    }

    /// `https://host:port` or `http://host:port`: the scheme and authority of absolute URIs.
    pub fn origin(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }

    /// [`Target::connect`], then TLS over the socket (asking for `alpn`) if the target
    /// is https://.
    pub async fn open(
        &self,
        client: usize,
        group: Arc<Group>,
        activity: Arc<Activity>,
        alpn: Alpn,
    ) -> io::Result<ClientStream> {
        let stream = self.connect(client, group, activity).await?;
        match &self.tls {
            None => Ok(ClientStream::Plain(stream)),
            Some(tls) => tokio::time::timeout(CONNECT_TIMEOUT, tls.connect(stream, alpn))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?,
        }
    }

    /// Open a client socket for client number `client`, counted in `group`, its
    /// activity (the times bytes moved) recorded in `activity` for the radio model.
    pub async fn connect(
        &self,
        client: usize,
        group: Arc<Group>,
        activity: Arc<Activity>,
    ) -> io::Result<CountingStream> {
        let (socket, addr) = match &self.via {
            Some(via) => (via.veth.socket_v4().await?, via.addr),
            None => (self.local_socket(client)?, self.addr),
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        // Ticks are small and latency is the figure: never let Nagle hold one back.
        stream.set_nodelay(true)?;
        Ok(CountingStream { inner: stream, group, activity })
    }

    /// A socket in this namespace for client number `client`: on loopback, from one of
    /// [`SOURCE_ADDRS`] addresses.
    fn local_socket(&self, client: usize) -> io::Result<TcpSocket> {
        Ok(match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_loopback() => {
                let socket = TcpSocket::new_v4()?;
                let block = SOURCE_BLOCK.load(std::sync::atomic::Ordering::Relaxed) * SOURCE_ADDRS;
                let last = 1 + block + (client % usize::from(SOURCE_ADDRS)) as u8;
                socket.bind(SocketAddr::new(Ipv4Addr::new(127, 0, 0, last).into(), 0))?;
                socket
            }
            IpAddr::V4(_) => TcpSocket::new_v4()?,
            IpAddr::V6(_) => TcpSocket::new_v6()?,
        })
    }
}

/// A `TcpStream` that counts the bytes it moves into its group's [`Traffic`].
#[derive(Debug)]
pub struct CountingStream {
    inner: TcpStream,
    group: Arc<Group>,
    activity: Arc<Activity>,
}

impl CountingStream {
    /// The counters this socket adds to.
    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }

    fn traffic(&self) -> &Traffic {
        &self.group.traffic
    }

    fn wrote(&self, n: usize) {
        self.traffic().bytes_written.fetch_add(n as u64, Relaxed);
        if n > 0 {
            self.activity.record(now_us());
        }
    }
}

impl AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let n = (buf.filled().len() - before) as u64;
        self.traffic().bytes_read.fetch_add(n, Relaxed);
        if n > 0 {
            self.activity.record(now_us());
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, bufs))?;
        self.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The handle on an HTTP/2 connection that every client sharing it clones.
pub type H2Sender = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;

/// One client's way to send requests: its own HTTP/1.1 connection, or a handle on an
/// HTTP/2 connection it may share with other clients (`--streams-per-connection`).
#[derive(Debug)]
pub enum HttpSender {
    Http1(SendRequest<Empty<Bytes>>),
    Http2(H2Sender),
}

impl HttpSender {
    pub async fn send_request(
        &mut self,
        request: http::Request<Empty<Bytes>>,
    ) -> hyper::Result<http::Response<hyper::body::Incoming>> {
        match self {
            HttpSender::Http1(sender) => sender.send_request(request).await,
            HttpSender::Http2(sender) => sender.send_request(request).await,
        }
    }

    /// Waits until the connection can take a request.
    pub async fn ready(&mut self) -> hyper::Result<()> {
        match self {
            HttpSender::Http1(sender) => sender.ready().await,
            HttpSender::Http2(sender) => sender.ready().await,
        }
    }

    /// Whether the connection is gone (then the client opens another).
    pub fn is_closed(&self) -> bool {
        match self {
            HttpSender::Http1(sender) => sender.is_closed(),
            HttpSender::Http2(sender) => sender.is_closed(),
        }
    }
}
/// The half of an HTTP/1.1 client connection that moves bytes: it must be polled for
/// anything to happen on the socket.
pub type HttpConnection<S> = Connection<TokioIo<S>, Empty<Bytes>>;

/// An HTTP/1.1 client connection of its own over `stream`: no pool shared by thousands
/// of clients (one reqwest client for 15k SSE streams took > 10 s to ramp). The caller
/// drives the connection: in its own task ([`http1`]) or inline, as a streaming client
/// does to save a task wake-up per read.
pub async fn http1_inline<S>(stream: S) -> hyper::Result<(SendRequest<Empty<Bytes>>, HttpConnection<S>)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    hyper::client::conn::http1::Builder::new()
        .read_buf_exact_size(Some(HTTP_READ_BUFFER_BYTES))
        .handshake(TokioIo::new(stream))
        .await
}

/// [`http1_inline`] with the connection driven by a task of its own.
pub async fn http1<S>(stream: S) -> hyper::Result<HttpSender>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1_inline(stream).await?;
    // The task ends when the sender is dropped or the server closes; its error, if
    // any, is what the next request on `sender` returns.
    tokio::spawn(connection);
    Ok(HttpSender::Http1(sender))
}

/// An HTTP/2 client connection over `stream` (TLS with ALPN `h2`), driven by a task of
/// its own; the sender is cloned by every client whose streams share it.
pub async fn http2<S>(stream: S) -> hyper::Result<H2Sender>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .handshake(TokioIo::new(stream))
        .await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// A GET of `path_and_query` on an HTTP/2 connection: the URI carries the scheme and
/// authority (HTTP/2's `:scheme` and `:authority`), so there is no `Host` header.
pub fn get_h2(target: &Target, path_and_query: &str) -> http::request::Builder {
    http::Request::get(format!("{}{path_and_query}", target.origin())).version(http::Version::HTTP_2)
}

/// A GET request for `path_and_query` with the headers every client sends.
pub fn get(target: &Target, path_and_query: &str) -> http::request::Builder {
    http::Request::get(path_and_query).header(http::header::HOST, &target.authority)
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{0}: {1}")]
    Io(String, io::Error),
    #[error("{0}: {1}")]
    Http(String, hyper::Error),
    #[error("{0}: status {1}: {2}")]
    Status(String, u16, String),
    #[error("{0}: {1}")]
    Json(String, serde_json::Error),
}

/// GET a JSON document on a fresh, uncounted connection: the load generator's own
/// control traffic (stats, the reference cursor), kept out of the clients' figures.
pub async fn fetch_json<T: DeserializeOwned>(target: &Target, path: &str) -> Result<T, ControlError> {
    let what = || format!("GET {path}");
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr))
        .await
        .map_err(|_| ControlError::Io(what(), io::ErrorKind::TimedOut.into()))?
        .map_err(|e| ControlError::Io(what(), e))?;
    let mut sender = match &target.tls {
        None => http1(stream).await,
        Some(tls) => {
            // Not counted: control traffic.
            let stream = tls.handshake(stream, Alpn::Http1).await.map_err(|e| ControlError::Io(what(), e))?;
            http1(stream).await
        }
    }
    .map_err(|e| ControlError::Http(what(), e))?;
    let request = get(target, path).body(Empty::new()).expect("a valid request");
    let response = sender.send_request(request).await.map_err(|e| ControlError::Http(what(), e))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| ControlError::Http(what(), e))?;
    let body = body.to_bytes();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body).into_owned();
        return Err(ControlError::Status(what(), status.as_u16(), text));
    }
    serde_json::from_slice(&body).map_err(|e| ControlError::Json(what(), e))
}

#[cfg(test)]
mod tests;
