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

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, HttpBody as _};
use axum::extract::ConnectInfo;
use axum::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version, header,
};
use axum::response::IntoResponse;
use bytes::{Buf, Bytes, BytesMut};
use futures::FutureExt;
use http_body::Frame;
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::task::TaskTracker;
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

/// Put into the extensions of a `101 Switching Protocols` response: once its head is
/// written, the connection (and any bytes the client sent after its request) is
/// handed to this function, and HTTP on it is over.
#[derive(Clone)]
pub struct OnUpgrade(Arc<Mutex<Option<UpgradeFn>>>);

type UpgradeFn = Box<dyn FnOnce(Upgraded) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

impl OnUpgrade {
    pub fn new<F, Fut>(run: F) -> Self
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        OnUpgrade(Arc::new(Mutex::new(Some(Box::new(move |io| Box::pin(run(io)))))))
    }

    fn take(&self) -> Option<UpgradeFn> {
        self.0.lock().expect("upgrade slot poisoned").take()
    }
}

/// The connection after `101`: the socket, and what the client sent past its request.
#[derive(Debug)]
pub struct Upgraded {
    pub io: TcpStream,
    pub read_ahead: Vec<u8>,
}

/// The tasks serving connections, so that shutdown can stop them taking new requests,
/// wait for them and, past its grace period, drop the ones still running (a client that
/// never reads).
///
/// Why not a `CancellationToken` per task? Polling its `cancelled()` takes two mutexes
/// shared by every connection (the token's and its `Notify`'s) each time a task wakes:
/// twice per request, on both cores. Here each task registers its waker once, and a
/// poll costs two atomic loads; raising a signal sets its flag and wakes every task.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    tracker: TaskTracker,
    signals: Arc<Signals>,
}

#[derive(Debug, Default)]
struct Signals {
    /// No new requests: idle connections close (the server is shutting down).
    stopping: AtomicBool,
    /// Past the grace period: every task ends where it is.
    dropped: AtomicBool,
    /// The waker of each running task, by slot; `free` lists the empty slots.
    wakers: Mutex<Wakers>,
}

#[derive(Debug, Default)]
struct Wakers {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Signals {
    fn raise(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::SeqCst);
        let wakers: Vec<Waker> =
            self.wakers.lock().expect("wakers poisoned").slots.iter().flatten().cloned().collect();
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// A task's place in [`Signals::wakers`], freed when the task ends.
struct Registration {
    signals: Arc<Signals>,
    slot: Option<(usize, Waker)>,
}

impl Registration {
    /// Keeps the slot holding `waker` (locking only when the task's waker changes,
    /// which for a spawned task is never after its first poll).
    fn register(&mut self, waker: &Waker) {
        if self.slot.as_ref().is_some_and(|(_, w)| w.will_wake(waker)) {
            return;
        }
        let mut wakers = self.signals.wakers.lock().expect("wakers poisoned");
        let index = match &self.slot {
            Some((index, _)) => *index,
            None => match wakers.free.pop() {
                Some(index) => index,
                None => {
                    wakers.slots.push(None);
                    wakers.slots.len() - 1
                }
            },
        };
        wakers.slots[index] = Some(waker.clone());
        self.slot = Some((index, waker.clone()));
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some((index, _)) = self.slot.take() {
            let mut wakers = self.signals.wakers.lock().expect("wakers poisoned");
            wakers.slots[index] = None;
            wakers.free.push(index);
        }
    }
}

impl Connections {
    /// Runs `task` until it ends or [`Connections::wait`] drops it.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let signals = self.signals.clone();
        self.tracker.spawn(async move {
            let mut task = std::pin::pin!(task);
            let mut registration = Registration { signals, slot: None };
            std::future::poll_fn(move |cx| {
                // Registered before the flag is read: a signal raised meanwhile wakes us.
                registration.register(cx.waker());
                if registration.signals.dropped.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                task.as_mut().poll(cx)
            })
            .await;
        });
    }

    /// From now on connections take no new request: idle ones close, and one whose
    /// request is being answered closes after the answer.
    pub fn stop(&self) {
        self.signals.raise(&self.signals.stopping);
    }

    fn stopping(&self) -> bool {
        self.signals.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once [`Connections::stop`] is called. Only inside a task of
    /// [`Connections::spawn`], which is woken then; it registers no waker of its own.
    fn stopped(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|_| if self.stopping() { Poll::Ready(()) } else { Poll::Pending })
    }

    /// Waits up to `grace` for every task to end, then drops the rest. Returns how many
    /// were dropped.
    pub async fn wait(&self, grace: Duration) -> usize {
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait()).await.is_ok() {
            return 0;
        }
        let left = self.tracker.len();
        self.signals.raise(&self.signals.dropped);
        self.tracker.wait().await;
        left
    }
}

/// Serves HTTP/1.1 on `io` until the client leaves, asks to close, or the server stops
/// ([`Connections::stop`]: a connection then takes no new request, so a reconnecting
/// client finds the next run of the server). An upgraded connection (a WebSocket) goes
/// on as a task of its own in `connections`, and this one ends, freeing its state. Run
/// it with [`Connections::spawn`].
pub async fn serve_connection(io: TcpStream, peer: SocketAddr, router: Router, connections: Connections) {
    Connection { io, peer, buf: BytesMut::new() }.serve(router, connections).await;
}

struct Connection {
    io: TcpStream,
    peer: SocketAddr,
    /// Bytes read and not yet used; unallocated whenever it is empty.
    buf: BytesMut,
}

/// A request the connection will not serve: the status and message it answers with
/// before closing.
struct Refusal(StatusCode, String);

/// How a response's body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// No body at all (`HEAD`, 1xx, 204, 304).
    None,
    Length,
    Chunked,
    /// An HTTP/1.0 client and a body of unknown length: it ends when the connection does.
    UntilClose,
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
    /// `101`: the handler's function takes the socket.
    Upgrade(UpgradeFn, Upgraded),
    /// A response streams until its body ends; the connection then closes.
    Stream(Connection, Stream),
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
    fn serve(self, router: Router, connections: Connections) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let peer = self.peer;
            match self.run(router.clone(), &connections).await {
                Ok(None) => {}
                Ok(Some(Handoff::Wait(connection, waiting))) => {
                    connections.spawn(connection.answer(waiting, router, connections.clone()))
                }
                Ok(Some(Handoff::Upgrade(run, upgraded))) => connections.spawn(run(upgraded)),
                Ok(Some(Handoff::Stream(connection, stream))) => connections.spawn(connection.stream(stream)),
                Err(e) => tracing::debug!(%peer, "connection ended: {e}"),
            }
        })
    }

    /// Waits for a held request's answer (or the client leaving), writes it, and goes
    /// back to serving requests: the request loop's state is not held while an answer
    /// waits.
    async fn answer(mut self, waiting: Waiting, router: Router, connections: Connections) {
        let Waiting { response, line, is_head, version, keep_alive } = waiting;
        let response = tokio::select! {
            response = response => response.unwrap_or_else(|e: Infallible| match e {}),
            // The client left while its request waited: drop the request.
            _ = self.client_gone() => return,
        };
        if let Some(line) = line {
            tracing::debug!(peer = %self.peer, "{line} → {}", response.status());
        }
        match Box::pin(self.write_response(response, is_head, version, keep_alive)).await {
            // Back to the request loop, boxed: this task's own state is what the next
            // wait would otherwise carry, and it ends when the loop hands on again.
            Ok(Next::KeepAlive) => self.serve(router, connections).await,
            Ok(Next::Close) => {
                let _ = self.io.shutdown().await;
            }
            Ok(Next::Upgrade(run)) => {
                let read_ahead = self.buf.to_vec();
                connections.spawn(run(Upgraded { io: self.io, read_ahead }));
            }
            Ok(Next::Stream(stream)) => connections.spawn(self.stream(stream)),
            Err(e) => tracing::debug!(peer = %self.peer, "connection ended: {e}"),
        }
    }

    /// Serves requests until the connection ends (`None`), is upgraded, starts a
    /// stream or waits for an answer: then what is left to run as a task of its own.
    async fn run(mut self, router: Router, connections: &Connections) -> io::Result<Option<Handoff>> {
        loop {
            let head = tokio::select! {
                biased;
                () = connections.stopped() => return Ok(None),
                head = self.read_head() => head?,
            };
            let (parts, keep_alive) = match head {
                None => return Ok(None), // the client closed between requests
                Some(Err(refusal)) => return Box::pin(self.refuse(refusal)).await.map(|()| None),
                Some(Ok(head)) => head,
            };
            if connections.stopping() {
                return Ok(None);
            }
            let body = match self.read_body(&parts).await? {
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
            if let Some(line) = line {
                tracing::debug!(peer = %self.peer, "{line} → {}", response.status());
            }
            // Boxed like the request: its state lives only while a response is written.
            match Box::pin(self.write_response(response, is_head, version, keep_alive)).await? {
                Next::KeepAlive => {}
                Next::Close => return self.io.shutdown().await.map(|()| None),
                Next::Upgrade(run) => {
                    let read_ahead = self.buf.to_vec();
                    return Ok(Some(Handoff::Upgrade(run, Upgraded { io: self.io, read_ahead })));
                }
                Next::Stream(stream) => return Ok(Some(Handoff::Stream(self, stream))),
            }
        }
    }

    /// Reads until a whole request head is buffered and parses it: `None` if the client
    /// closed before sending anything.
    async fn read_head(&mut self) -> io::Result<Option<Result<(http::request::Parts, bool), Refusal>>> {
        let mut scanned = 0;
        loop {
            if head_complete(&self.buf, scanned) {
                let parsed = parse_head(&self.buf);
                if let Ok((_, _, len)) = &parsed {
                    self.buf.advance(*len);
                    self.release_if_empty();
                }
                return Ok(Some(parsed.map(|(parts, keep_alive, _)| (parts, keep_alive))));
            }
            if self.buf.len() >= MAX_HEAD_BYTES {
                let message = format!("the request head is over {} KiB", MAX_HEAD_BYTES / 1024);
                return Ok(Some(Err(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message))));
            }
            scanned = self.buf.len();
            if self.fill().await? == 0 {
                return if self.buf.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
            }
        }
    }

    /// The request body, read whole (`Content-Length` only).
    async fn read_body(&mut self, parts: &http::request::Parts) -> io::Result<Result<Bytes, Refusal>> {
        let length = match body_length(&parts.headers) {
            Ok(0) => return Ok(Ok(Bytes::new())),
            Ok(length) => length,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let expects_continue = parts
            .headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if expects_continue && self.buf.len() < length {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        while self.buf.len() < length {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let body = self.buf.split_to(length).freeze();
        self.release_if_empty();
        Ok(Ok(body))
    }

    /// Waits until the socket is readable, then reads what is there, allocating the
    /// buffer only now. Returns 0 at the end of the stream.
    ///
    /// The read goes through `poll_read`, not `try_read`: a read that does not fill the
    /// space offered shows the socket drained, and `poll_read` then clears the readiness,
    /// so the next wait goes straight to the kernel's event instead of first paying a
    /// `recv` that returns `WouldBlock` (one syscall per request saved).
    async fn fill(&mut self) -> io::Result<usize> {
        loop {
            self.io.readable().await?;
            let filled = self.buf.len();
            self.buf.resize(filled + READ_CHUNK, 0);
            let polled = std::future::poll_fn(|cx| {
                let mut read = tokio::io::ReadBuf::new(&mut self.buf[filled..]);
                let polled = Pin::new(&mut self.io).poll_read(cx, &mut read);
                Poll::Ready(polled.map_ok(|()| read.filled().len()))
            })
            .await;
            let n = match &polled {
                Poll::Ready(Ok(n)) => *n,
                _ => 0,
            };
            self.buf.truncate(filled + n);
            match polled {
                Poll::Ready(Ok(n)) => return Ok(n),
                Poll::Ready(Err(e)) => return Err(e),
                // Nothing there after all (readiness was stale): wait again, without a buffer.
                Poll::Pending => self.release_if_empty(),
            }
        }
    }

    fn release_if_empty(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    /// Resolves when the client closes its end while a response is pending or
    /// streaming. Bytes it sends meanwhile (a pipelined request) are kept, up to a head's
    /// worth; past that it stops reading and only the response can end the wait.
    async fn client_gone(&mut self) -> io::Result<()> {
        while self.buf.len() < MAX_HEAD_BYTES {
            if self.fill().await? == 0 {
                return Ok(());
            }
        }
        std::future::pending().await
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

    /// Writes the head and then the body as the handler produces it.
    async fn write_response(
        &mut self,
        response: Response<Body>,
        is_head: bool,
        version: Version,
        keep_alive: bool,
    ) -> io::Result<Next> {
        let (mut parts, body) = response.into_parts();
        let status = parts.status;
        if status == StatusCode::SWITCHING_PROTOCOLS {
            if let Some(run) = parts.extensions.remove::<OnUpgrade>().and_then(|u| u.take()) {
                self.io.write_all(&response_head(&parts, Framing::None, None, version, true)).await?;
                return Ok(Next::Upgrade(run));
            }
            tracing::error!("101 response without an upgrade to run");
            return Ok(Next::Close);
        }
        let length = body.size_hint().exact();
        let framing = if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            Framing::None
        } else if length.is_some() {
            Framing::Length
        } else if version == Version::HTTP_11 {
            Framing::Chunked
        } else {
            Framing::UntilClose
        };
        let keep_alive = keep_alive && framing != Framing::UntilClose;
        let head = response_head(&parts, framing, length, version, keep_alive);
        if is_head || framing == Framing::None {
            self.io.write_all(&head).await?;
        } else if length.is_none() {
            return Ok(Next::Stream(Stream { head, body, framing }));
        } else if !self.write_body(head, body, framing).await? {
            return Ok(Next::Close); // the client left mid-body
        }
        Ok(if keep_alive { Next::KeepAlive } else { Next::Close })
    }

    /// Writes a streaming response to its end (the server's shutdown, or the client
    /// leaving), then closes: a stream is the last response on its connection.
    async fn stream(mut self, Stream { head, body, framing }: Stream) {
        match self.write_body(head, body, framing).await {
            Ok(true) => {
                let _ = self.io.shutdown().await;
            }
            Ok(false) => {}
            Err(e) => tracing::debug!(peer = %self.peer, "stream ended: {e}"),
        }
    }

    /// Writes `head` and the body's frames, gathering every frame that is ready into one
    /// write. Returns false if the client left before the body ended.
    ///
    /// Only the wait for a frame is `await`ed, with nothing else in hand: gathering and
    /// writing happen in [`Self::write_ready`], synchronously, so the frames and the
    /// `writev` slices sit on the stack for a moment instead of in every connection's
    /// task for as long as it lives.
    async fn write_body(&mut self, head: Vec<u8>, mut body: Body, framing: Framing) -> io::Result<bool> {
        let mut head = Some(head);
        loop {
            // With the head still unwritten, go at once: if nothing is ready the head goes
            // alone, so the client sees the response begin.
            let first = if head.is_some() {
                body.frame().now_or_never()
            } else {
                tokio::select! {
                    frame = body.frame() => Some(frame),
                    gone = self.client_gone() => return gone.map(|()| false),
                }
            };
            let (unwritten, ended) = self.write_ready(head.take(), first, &mut body, framing)?;
            if !unwritten.is_empty() {
                // The socket is full (a slow reader): only now do the bytes need a buffer.
                self.io.write_all(&unwritten).await?;
            }
            if ended {
                return Ok(true);
            }
        }
    }

    /// Gathers `first` and every further frame ready now, writes them with the head (if
    /// still unwritten) in one `writev`, each frame a chunk when chunked and the last
    /// chunk if the body ended. Returns what the socket did not take, and whether the
    /// body ended.
    fn write_ready(
        &mut self,
        head: Option<Vec<u8>>,
        first: Option<Option<Result<Frame<Bytes>, axum::Error>>>,
        body: &mut Body,
        framing: Framing,
    ) -> io::Result<(Vec<u8>, bool)> {
        let mut frames: [Bytes; MAX_FRAMES_PER_WRITE] = std::array::from_fn(|_| Bytes::new());
        let mut count = 0;
        let mut ended = false;
        let mut next = first;
        while let Some(frame) = next {
            match frame {
                None => {
                    ended = true;
                    break;
                }
                Some(Err(e)) => return Err(io::Error::other(e)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        frames[count] = data;
                        count += 1;
                    }
                }
            }
            if count == MAX_FRAMES_PER_WRITE {
                break;
            }
            next = body.frame().now_or_never();
        }
        let frames = &frames[..count];
        let chunked = framing == Framing::Chunked;
        let mut size_lines = [[0u8; 18]; MAX_FRAMES_PER_WRITE];
        let mut size_line_lens = [0usize; MAX_FRAMES_PER_WRITE];
        if chunked {
            for (i, frame) in frames.iter().enumerate() {
                size_line_lens[i] = chunk_size_line(frame.len(), &mut size_lines[i]);
            }
        }
        let mut out = Gather::new();
        if let Some(head) = &head {
            out.push(head);
        }
        for (i, frame) in frames.iter().enumerate() {
            if chunked {
                out.push(&size_lines[i][..size_line_lens[i]]);
                out.push(frame);
                out.push(b"\r\n");
            } else {
                out.push(frame);
            }
        }
        if chunked && ended {
            out.push(b"0\r\n\r\n");
        }
        Ok((out.try_write(&self.io)?, ended))
    }
}

/// The slices of one `writev`, on the stack.
struct Gather<'a> {
    slices: [IoSlice<'a>; 3 * MAX_FRAMES_PER_WRITE + 2],
    len: usize,
}

impl<'a> Gather<'a> {
    fn new() -> Self {
        Gather { slices: [IoSlice::new(&[]); 3 * MAX_FRAMES_PER_WRITE + 2], len: 0 }
    }

    fn push(&mut self, bytes: &'a [u8]) {
        self.slices[self.len] = IoSlice::new(bytes);
        self.len += 1;
    }

    /// Writes as much as the socket takes without waiting; returns the rest, copied
    /// (empty, and unallocated, when the socket took everything: the usual case).
    fn try_write(mut self, io: &TcpStream) -> io::Result<Vec<u8>> {
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
fn head_complete(buf: &[u8], scanned: usize) -> bool {
    let tail = &buf[scanned.saturating_sub(3).min(buf.len())..];
    tail.windows(4).any(|w| w == b"\r\n\r\n") || tail.windows(2).any(|w| w == b"\n\n")
}

/// Parses a complete head into request parts, whether to keep the connection alive
/// after the response, and the head's length.
fn parse_head(buf: &[u8]) -> Result<(http::request::Parts, bool, usize), Refusal> {
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
    let has = |token: &str| {
        headers
            .get_all(header::CONNECTION)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))))
    };
    if version == Version::HTTP_10 { has("keep-alive") } else { !has("close") }
}

/// The body length a request declares: `Content-Length` (every copy the same), at most
/// [`MAX_BODY_BYTES`]; a `Transfer-Encoding` is refused.
fn body_length(headers: &HeaderMap) -> Result<usize, Refusal> {
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
fn response_head(
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
fn chunk_size_line(len: usize, line: &mut [u8; 18]) -> usize {
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
