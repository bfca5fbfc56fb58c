//! HTTP/1.1 on each accepted connection: read a request head, hand the request to the
//! router, write its response, and again while the client keeps the connection alive.
//!
//! Why not hyper's server connection? It keeps an 8 KiB read buffer and an 8 KiB write
//! buffer for the whole life of every connection (hyper 1.x allocates them up front
//! and its smallest `max_buf_size` is 8 KiB). For a page that polls that hardly
//! matters; for 5,000 idle SSE streams it was 18.8 kB of RSS each against a
//! WebSocket's 7.5 kB, and the suite's figures showed a hyper default as if it were a
//! property of SSE. So this layer holds **no buffer while a connection waits**:
//!
//! - a request head is read into a buffer allocated when its first bytes arrive and
//!   freed once it is parsed (bytes already read past it, a pipelined request, are
//!   kept for the next one);
//! - a response head is built, written and dropped;
//! - body chunks are written straight from the bytes the handler hands over (for SSE,
//!   the feed's shared events), several in one `writev` when several are ready: a small
//!   `send()` on loopback costs ~10 µs of CPU here, so writes are counted, not bytes;
//! - between writes a stream waits on the socket being readable (to notice the client
//!   leaving) without a buffer, reading only when the kernel has something;
//! - what outlives a request's turn in the loop (a held answer, a stream, an upgraded
//!   socket) goes on in a task of its own, so it does not carry the request loop's
//!   state (1.3–1.9 kB: an async function is sized for its largest state).
//!
//! Measured (efficiency preset, 5,000 idle clients): 2.5 kB of heap per SSE stream,
//! 3.5 kB per held long-poll, 3.0 kB per WebSocket, against 28.4, 28.3 and 7.0 kB on
//! hyper.
//!
//! What it speaks: HTTP/1.1 and 1.0 requests, keep-alive, pipelining (answered in
//! order), `Content-Length` request bodies up to [`MAX_BODY_BYTES`] with
//! `Expect: 100-continue`, responses with `Content-Length` when the length is known and
//! chunked otherwise (a streamed response is the last on its connection, which then
//! closes), `HEAD`, and `101 Switching Protocols` handing the connection to the handler
//! that asked for it ([`OnUpgrade`], used by the WebSocket endpoint). What
//! it refuses, with a JSON error and a closed connection: a malformed head (400), a
//! chunked request body (411), a body over [`MAX_BODY_BYTES`] (413), a head over
//! [`MAX_HEAD_BYTES`] or with more than [`MAX_HEADERS`] headers (431).
//!
//! What it closes without a word (SPEC §8, [`Limits`]): a connection past the cap (at
//! accept), one whose request head does not arrive within the header timeout (from the
//! request's first byte, or from the accept for the first request: a socket that sends
//! nothing, or a byte at a time, is closed on time), one that sits with no request in
//! flight for the idle timeout (a stream or a held answer is in flight, never idle), and,
//! while the server drains, one that sends a new request: a closed connection is what a
//! browser's `EventSource` retries after, where a 503 would end it for good. The timers
//! cost nothing per request when the head is already there: a timeout is armed only
//! when a read has to wait.

mod connections;
mod read;
mod respond;
mod upgrade;
mod wire;

pub use connections::{Connections, Limits, Slot};
use read::HeadRead;
pub(crate) use upgrade::UpgradeFn;
pub use upgrade::{OnUpgrade, Upgraded, UpgradedIo};
pub use wire::has_token;
use wire::{Framing, Refusal};

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, Version};
use axum::response::IntoResponse;
use bytes::BytesMut;
use futures::FutureExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tower::ServiceExt;
use tower::util::Oneshot;

use crate::error::ApiError;

/// The longest request head accepted (request line and headers); past it, 431.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The most headers a request may carry; past it, 431.
pub const MAX_HEADERS: usize = 64;
/// The largest request body accepted (only `POST /api/admin/rate` takes one); past it, 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Bytes read at a time while a head or body arrives.
const READ_CHUNK: usize = 1024;
/// Body frames gathered into one write at most (a streaming transport's batch).
const MAX_FRAMES_PER_WRITE: usize = 64;
/// How long a refused client gets to read its error before the socket closes.
const REFUSAL_LINGER: Duration = Duration::from_millis(500);

/// Marks a response the connection must not write: it closes instead. What a request
/// gets while the server drains (`ApiError::ShuttingDown`): a client that sees its
/// connection close retries and finds the next run, as a browser's `EventSource` does
/// after a network error but never after a 503.
#[derive(Debug, Clone, Copy)]
pub struct CloseUnanswered;

/// Serves HTTP/1.1 on `io` until the client leaves, asks to close, or the server stops
/// ([`Connections::stop`]: a connection then takes no new request, so a reconnecting
/// client finds the next run of the server). An upgraded connection (a WebSocket) goes
/// on as a task of its own in `connections`, and this one ends, freeing its state. Run
/// it with [`Connections::spawn`], holding the `slot` [`Connections::admit`] gave it.
pub async fn serve_connection(
    io: TcpStream,
    peer: SocketAddr,
    router: Router,
    connections: Connections,
    slot: Slot,
) {
    let accepted = Instant::now();
    Connection { io, peer, buf: BytesMut::new(), connections, slot }.serve(router, Some(accepted)).await;
}

struct Connection {
    io: TcpStream,
    peer: SocketAddr,
    /// Bytes read and not yet used; unallocated whenever it is empty.
    buf: BytesMut,
    connections: Connections,
    /// Its place under the cap, given back when the connection ends.
    slot: Slot,
}

/// What the connection does after a response.
enum Next {
    KeepAlive,
    Close,
    Upgrade(UpgradeFn),
    /// A body of unknown length (an event stream), to write from a task of its own.
    Stream(Stream),
}

/// What a connection hands on when its request loop ends.
enum Handoff {
    /// A request whose answer is not ready (a held long-poll) waits in a task of its own.
    Wait(Connection, Waiting),
    /// `101`: the handler's function takes the socket (and its place under the cap).
    Upgrade(UpgradeFn, Upgraded, Slot),
    /// A response streams until its body ends; the connection then closes.
    Stream(Connection, Stream),
}

impl Handoff {
    /// Runs what the connection handed on as a task of its own in `connections`.
    fn spawn(self, router: Router, connections: &Connections) {
        match self {
            Handoff::Wait(connection, waiting) => connections.spawn(connection.answer(waiting, router)),
            Handoff::Upgrade(run, upgraded, slot) => connections.spawn(async move {
                let _slot = slot;
                run(upgraded).await;
            }),
            Handoff::Stream(connection, stream) => connections.spawn(connection.stream(stream)),
        }
    }
}

/// A request being answered, and what writing its answer needs to know.
struct Waiting {
    response: Pin<Box<Oneshot<Router, Request<Body>>>>,
    line: Option<String>,
    is_head: bool,
    version: Version,
    keep_alive: bool,
}

/// A streaming response whose head is built and not yet written.
struct Stream {
    head: Vec<u8>,
    body: Body,
    framing: Framing,
}

impl Connection {
    /// Serves requests until the connection ends, handing on what outlives the request
    /// loop (a waiting answer, a stream, an upgraded socket) to a task of its own, so that
    /// each carries only its own state for as long as it lives.
    ///
    /// Boxed, as a named type: [`Connection::answer`] goes back to it, and a future
    /// cannot contain itself.
    /// `accepted` is when the connection was accepted, for its first request (whose head
    /// is due a header timeout after it).
    fn serve(self, router: Router, accepted: Option<Instant>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let peer = self.peer;
            let connections = self.connections.clone();
            match self.run(router.clone(), accepted).await {
                Ok(None) => {}
                Ok(Some(handoff)) => handoff.spawn(router, &connections),
                Err(e) => tracing::debug!(%peer, "connection ended: {e}"),
            }
        })
    }

    /// Waits for a held request's answer (or the client leaving), writes it, and goes
    /// back to serving requests: the request loop's state is not held while an answer
    /// waits.
    async fn answer(mut self, waiting: Waiting, router: Router) {
        let connections = self.connections.clone();
        let Waiting { response, line, is_head, version, keep_alive } = waiting;
        let response = tokio::select! {
            response = response => response.unwrap_or_else(|e: Infallible| match e {}),
            // The client left while its request waited: drop the request.
            _ = self.client_gone() => return,
        };
        self.log_answer(line, &response);
        match Box::pin(self.write_response(response, is_head, version, keep_alive)).await {
            // Back to the request loop, boxed: this task's own state is what the next
            // wait would otherwise carry, and it ends when the loop hands on again.
            Ok(Next::KeepAlive) => self.serve(router, None).await,
            Ok(next) => match self.after(next).await {
                Ok(Some(handoff)) => handoff.spawn(router, &connections),
                Ok(None) => {}
                Err(e) => tracing::debug!("connection ended: {e}"),
            },
            Err(e) => tracing::debug!(peer = %self.peer, "connection ended: {e}"),
        }
    }

    /// What follows a response other than the next request: the connection closes, or
    /// is handed on (upgraded, or streaming its response).
    async fn after(mut self, next: Next) -> io::Result<Option<Handoff>> {
        Ok(match next {
            Next::KeepAlive | Next::Close => {
                self.io.shutdown().await?;
                None
            }
            Next::Upgrade(run) => {
                let read_ahead = self.buf.to_vec();
                Some(Handoff::Upgrade(
                    run,
                    Upgraded { io: UpgradedIo::Plain(self.io), read_ahead },
                    self.slot,
                ))
            }
            Next::Stream(stream) => Some(Handoff::Stream(self, stream)),
        })
    }

    /// The debug log's line for an answered request (`--log pushlab_server=debug`).
    fn log_answer(&self, line: Option<String>, response: &Response<Body>) {
        if let Some(line) = line {
            tracing::debug!(peer = %self.peer, "{line} → {}", response.status());
        }
    }

    /// Serves requests until the connection ends (`None`), is upgraded, starts a
    /// stream or waits for an answer: then what is left to run as a task of its own.
    async fn run(mut self, router: Router, mut accepted: Option<Instant>) -> io::Result<Option<Handoff>> {
        let connections = self.connections.clone();
        loop {
            let head = tokio::select! {
                biased;
                () = connections.stopped() => return Ok(None),
                head = self.read_head(accepted.take()) => head?,
            };
            let (parts, keep_alive, due) = match head {
                HeadRead::Closed | HeadRead::Expired => return Ok(None),
                HeadRead::Refused(refusal) => return Box::pin(self.refuse(refusal)).await.map(|()| None),
                HeadRead::Head { parts, keep_alive, due } => (parts, keep_alive, due),
            };
            // Draining: a request on a connection still open is not answered (not even
            // with a 503, which an `EventSource` would take as final); the connection closes.
            if connections.stopping() {
                return Ok(None);
            }
            let body = match self.read_body(&parts, due).await? {
                Ok(body) => body,
                Err(refusal) => return Box::pin(self.refuse(refusal)).await.map(|()| None),
            };
            // The request line for the debug log (`--log pushlab_server=debug`), built only then.
            let line =
                tracing::enabled!(tracing::Level::DEBUG).then(|| format!("{} {}", parts.method, parts.uri));
            let is_head = parts.method == Method::HEAD;
            let version = parts.version;
            let mut request = Request::from_parts(parts, Body::from(body));
            request.extensions_mut().insert(ConnectInfo(self.peer));

            // Boxed: the request's future lives only until its response. Most answers are
            // ready at once; one that is not (a held long-poll) waits in a task of its
            // own, holding its own state rather than this loop's.
            let mut response = Box::pin(router.clone().oneshot(request));
            let response = match response.as_mut().now_or_never() {
                Some(response) => response.unwrap_or_else(|e: Infallible| match e {}),
                None => {
                    let waiting = Waiting { response, line, is_head, version, keep_alive };
                    return Ok(Some(Handoff::Wait(self, waiting)));
                }
            };
            self.log_answer(line, &response);
            // Boxed like the request: its state lives only while a response is written.
            match Box::pin(self.write_response(response, is_head, version, keep_alive)).await? {
                Next::KeepAlive => {}
                next => return self.after(next).await,
            }
        }
    }

    /// Answers a request the connection will not serve, then closes, letting the client
    /// read the answer first (closing with unread bytes would reset the connection).
    async fn refuse(mut self, Refusal(status, message): Refusal) -> io::Result<()> {
        tracing::debug!(peer = %self.peer, "refused: {status} {message}");
        let response = ApiError::Protocol(status, message).into_response();
        self.write_response(response, false, Version::HTTP_11, false).await?;
        self.io.shutdown().await?;
        let mut sink = [0u8; 512];
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            while matches!(tokio::io::AsyncReadExt::read(&mut self.io, &mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
        Ok(())
    }
}
