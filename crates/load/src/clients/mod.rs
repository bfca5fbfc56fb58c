//! One client module per transport, and what they share.
//!
//! Each module is a loop that speaks its transport and reports to its [`Probe`]; none of
//! them measures anything itself. On an error a client counts it by kind, waits as its
//! [`Reconnect`] policy says ([`reconnect`]: SSE its server's `retry:`, the others
//! exponential back-off with full jitter) and resumes from its cursor — `<epoch>-<seq>`
//! once it knows the server's epoch — so a broken connection costs ticks only if the
//! server's history ran out, and a restarted server answers with a reset, not with the
//! new run's ticks passed off as the old one's.

pub mod h2;
pub mod long_poll;
pub mod poll;
pub mod reconnect;
pub mod sse;
mod sse_h2;
pub mod stream;
pub mod ws;

pub use reconnect::Reconnect;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use pushlab_contract::{PollResponse, Position};
use tokio_util::sync::CancellationToken;

use crate::measure::Probe;
use crate::net::{self, HttpSender, Target};
use crate::scenario::RunSpec;
use crate::tls::{Alpn, ClientStream};
use pushlab_contract::Transport;

/// What every client of a run shares: the run, and where the server is.
#[derive(Debug)]
pub struct Settings {
    pub spec: RunSpec,
    pub target: Target,
    /// The symbol filter as the `symbols=A,B` value every request adds, joined once for
    /// all of the run's requests; `None` for every symbol.
    symbols: Option<String>,
    /// Over HTTP/2 (`--http2`): the connections the clients' streams share.
    pub h2: Option<h2::H2Pool>,
    /// Where a client goes when its server refuses it (a replica gone), in order; empty
    /// for a single server, whose clients wait for it to come back.
    pub fallbacks: Vec<Target>,
    /// Clients that moved to a fallback, and how many moves they made.
    pub failover: Failover,
}

/// How many clients left their server for another, and how often (`--workers` over
/// replicas, `compare --preset cluster`).
#[derive(Debug, Default)]
pub struct Failover {
    pub moved_clients: std::sync::atomic::AtomicU64,
    pub moves: std::sync::atomic::AtomicU64,
}

impl Settings {
    pub fn new(spec: RunSpec, target: Target) -> Self {
        let symbols = spec.knobs.symbols.as_ref().map(|s| s.join(","));
        let h2 = spec.knobs.http2_streams.map(|per| h2::H2Pool::new(spec.clients, per));
        Self { spec, target, symbols, h2, fallbacks: Vec::new(), failover: Failover::default() }
    }

    /// The same, with replicas to move to when `target` refuses connections.
    pub fn with_fallbacks(mut self, fallbacks: Vec<Target>) -> Self {
        self.fallbacks = fallbacks;
        self
    }

    /// `path` with the query parameters given plus the symbol filter.
    pub fn url(&self, path: &str, params: &[(&str, String)]) -> String {
        let mut url = path.to_string();
        let symbols = self.symbols.iter().map(|s| ("symbols", s.clone()));
        for (i, (k, v)) in params.iter().cloned().chain(symbols).enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{k}={v}"));
        }
        url
    }
}

/// One simulated client.
#[derive(Debug)]
pub struct Client {
    pub index: usize,
    pub settings: Arc<Settings>,
    pub probe: Probe,
    pub cancel: CancellationToken,
    /// Failed attempts since the last connection that worked.
    failures: u32,
    /// The SSE stream's `retry:`, as its server last sent it.
    sse_retry: Duration,
    /// Which server the client talks to: 0 its own, `n` the settings' `n`th fallback.
    serving: usize,
    /// Whether it has moved at least once (counted once in [`Failover::moved_clients`]).
    moved: bool,
}

/// Why one request or connection failed; [`ClientError::kind`] is the key it is
/// counted under in the results' `errors`.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("status {0}")]
    Status(u16),
    #[error("bad body: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("the server sent an error message: {0}")]
    ServerMessage(String),
    #[error("the server closed the stream")]
    Closed,
    /// A socket error on a stream read or written without hyper.
    #[error("http: {0}")]
    Io(std::io::Error),
    /// A response a stream client cannot read.
    #[error("http: {0}")]
    Protocol(&'static str),
    #[error("websocket: {0}")]
    WsIo(std::io::Error),
    #[error("websocket: {0}")]
    WsProtocol(&'static str),
}

impl ClientError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect(e) if e.kind() == std::io::ErrorKind::TimedOut => "connect_timeout",
            // Nothing listening: the server is down (or not up yet).
            Self::Connect(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => "connect_refused",
            Self::Connect(_) => "connect",
            Self::Http(_) => "http",
            Self::Status(503) => "status_503",
            Self::Status(400..=499) => "status_4xx",
            Self::Status(_) => "status_other",
            Self::Parse(_) => "parse",
            // A refused handshake is an HTTP status like any other (503 past the cap).
            Self::Ws(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Self::Status(response.status().as_u16()).kind()
            }
            Self::Ws(_) | Self::WsIo(_) | Self::WsProtocol(_) => "ws",
            Self::Io(_) | Self::Protocol(_) => "http",
            Self::ServerMessage(_) => "server_error_message",
            Self::Closed => "closed_by_server",
        }
    }
}

impl Client {
    pub fn new(index: usize, settings: Arc<Settings>, probe: Probe, cancel: CancellationToken) -> Self {
        let sse_retry = reconnect::SSE_RETRY_DEFAULT;
        Self { index, settings, probe, cancel, failures: 0, sse_retry, serving: 0, moved: false }
    }

    pub async fn run(self) {
        match self.settings.spec.transport {
            Transport::Poll => poll::run(self).await,
            Transport::LongPoll => long_poll::run(self).await,
            Transport::Sse => sse::run(self).await,
            Transport::Ws => ws::run(self).await,
        }
    }

    pub fn target(&self) -> &Target {
        match self.serving {
            0 => &self.settings.target,
            n => &self.settings.fallbacks[n - 1],
        }
    }

    /// A refused connect means nobody listens there any more (a replica killed): with
    /// fallbacks, the client moves to another server and resumes there from its cursor,
    /// since every replica serves the same log. The first move goes to fallback
    /// `index % fallbacks`, so a dead replica's clients spread over all the others
    /// instead of doubling the next one's; further moves go round the fallbacks.
    fn move_on_refusal(&mut self, error: &ClientError) {
        let refused =
            matches!(error, ClientError::Connect(e) if e.kind() == std::io::ErrorKind::ConnectionRefused);
        let fallbacks = self.settings.fallbacks.len();
        if !refused || fallbacks == 0 {
            return;
        }
        use std::sync::atomic::Ordering::Relaxed;
        if !std::mem::replace(&mut self.moved, true) {
            self.settings.failover.moved_clients.fetch_add(1, Relaxed);
        }
        self.settings.failover.moves.fetch_add(1, Relaxed);
        self.serving = match self.serving {
            0 => 1 + self.index % fallbacks,
            n => 1 + n % fallbacks,
        };
    }

    /// A fresh counted HTTP/1.1 connection, or over HTTP/2 the client's share of one.
    pub async fn connect_http(&mut self) -> Result<HttpSender, ClientError> {
        if self.settings.h2.is_some() {
            return self.h2_sender().await;
        }
        let stream = self.connect_tcp().await?;
        Ok(net::http1(stream).await?)
    }

    /// A fresh counted connection for HTTP/1.1 (TLS over it for an https:// target);
    /// every one after the client's first is a reconnect.
    pub async fn connect_tcp(&mut self) -> Result<ClientStream, ClientError> {
        self.connect_stream(Alpn::Http1).await
    }

    /// A fresh counted connection, asking for `alpn` over TLS.
    async fn connect_stream(&mut self, alpn: Alpn) -> Result<ClientStream, ClientError> {
        self.probe.opening();
        let group = self.probe.group().clone();
        let activity = self.probe.activity().clone();
        let stream =
            self.target().open(self.index, group, activity, alpn).await.map_err(ClientError::Connect)?;
        self.probe.tcp_connected();
        Ok(stream)
    }

    /// Run a streaming transport until the run is over: `stream` returns `Ok` when
    /// cancelled; each failure is counted, then the stream reopens from the cursor
    /// after the policy's wait (or the client ends).
    pub async fn reconnecting(mut self, mut stream: impl AsyncFnMut(&mut Client) -> Result<(), ClientError>) {
        while let Err(e) = stream(&mut self).await {
            if !self.failed(&e).await {
                return;
            }
        }
    }

    /// A connection worked: the next failure's back-off starts from the base again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// One request of the polling family at `path`, on the client's keep-alive
    /// connection (opened first if there is none): `since` is added from `cursor`, which
    /// moves to the answer's `next`. On an error the connection is dropped, so the next
    /// request opens a fresh one.
    pub async fn ask(
        &mut self,
        sender: &mut Option<HttpSender>,
        path: &str,
        params: &[(&str, String)],
        cursor: &mut Option<Position>,
    ) -> Result<(), ClientError> {
        let started = sender.is_none().then(Instant::now);
        let conn = match sender {
            Some(conn) => conn,
            None => sender.insert(self.connect_http().await?),
        };
        let mut params = params.to_vec();
        params.extend(cursor.iter().map(|p| ("since", p.to_string())));
        let url = self.settings.url(path, &params);
        match self.exchange(conn, &url, cursor.as_ref().map(|p| p.seq), started).await {
            Ok(answer) => {
                self.succeeded();
                let epoch = Some(answer.epoch).filter(|e| !e.is_empty());
                *cursor = Some(Position { epoch, seq: answer.next });
                Ok(())
            }
            Err(e) => {
                *sender = None;
                Err(e)
            }
        }
    }

    /// Count `error`, then wait as the reconnect policy says. `false` once the run is
    /// over, or if the policy is not to come back (the client is then counted as ended).
    pub async fn failed(&mut self, error: &ClientError) -> bool {
        tracing::debug!(client = self.index, %error, "client error");
        self.probe.error(error.kind());
        self.probe.connection_ended();
        self.move_on_refusal(error);
        self.failures = self.failures.saturating_add(1);
        let (policy, transport) = (self.settings.spec.knobs.reconnect, self.settings.spec.transport);
        let Some(wait) = reconnect::delay(policy, transport, self.failures, self.sse_retry, rand::random())
        else {
            self.probe.ended();
            return false;
        };
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }

    /// Send, read the whole answer, record it. `since` is the cursor sent, so a gap is
    /// attributed to exactly the evicted seqs.
    async fn exchange(
        &mut self,
        sender: &mut HttpSender,
        path: &str,
        since: Option<u64>,
        started: Option<Instant>,
    ) -> Result<PollResponse, ClientError> {
        let request = match sender {
            HttpSender::Http1(_) => net::get(self.target(), path),
            HttpSender::Http2(_) => net::get_h2(self.target(), path),
        };
        let request = request.body(Empty::<Bytes>::new()).expect("valid");
        self.probe.request();
        let response = sender.send_request(request).await?;
        if let Some(started) = started {
            self.probe.connected(started.elapsed());
        }
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(ClientError::Status(status.as_u16()));
        }
        let answer: PollResponse = serde_json::from_slice(&body)?;
        // Before its ticks: they are the new run's. A server without epochs names none.
        if answer.reset {
            self.probe.reset(&answer.epoch);
        } else if !answer.epoch.is_empty() {
            self.probe.learn_epoch(&answer.epoch);
        }
        if answer.missed > 0 && !answer.reset {
            self.probe.gap(since.unwrap_or(0), answer.missed);
        }
        if answer.ticks.is_empty() && answer.missed == 0 {
            self.probe.empty();
        }
        self.probe.ticks(&answer.ticks);
        Ok(answer)
    }
}
