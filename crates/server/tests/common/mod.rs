//! What the integration tests share: a server on port 0 whose feed the test fills
//! tick by tick (no ticker, so every seq is known), and small clients for each
//! transport that keep everything they received for the assertions.
#![allow(dead_code)] // each test file uses a different part

pub mod client;
#[allow(unused_imports)] // each test file uses a different part
pub use client::{Client, Proto, Response};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pushlab_server::ticker::PriceWalk;
use pushlab_server::{AppState, Config};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous bound for anything a test waits for; a hang fails instead of blocking CI.
pub const PATIENCE: Duration = Duration::from_secs(5);

pub struct TestServer {
    pub state: AppState,
    pub addr: SocketAddr,
    /// What [`client`](Self::client) speaks: plain HTTP/1.1, or HTTP/2 over TLS.
    pub proto: Proto,
    /// The certificate of a TLS server, which its clients trust (and nothing else).
    identity: Option<pushlab_server::tls::Identity>,
    walk: Mutex<PriceWalk>,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// A server with these flags and no ticker: the feed moves only when the test publishes.
    pub async fn start(args: &[&str]) -> Self {
        Self::start_over(Proto::H1, args).await
    }

    /// Like [`start`](Self::start), speaking `proto`: HTTP/2 needs the server on TLS
    /// (`--tls` with a certificate made here, so the test's clients can trust it).
    pub async fn start_over(proto: Proto, args: &[&str]) -> Self {
        let mut config = Config::with_args(args.iter().copied());
        let identity = (proto == Proto::H2).then(|| pushlab_server::tls::Identity::self_signed().unwrap());
        config.tls.identity = identity.clone();
        let walk = Mutex::new(PriceWalk::new(config.symbols.clone(), config.seed, None));
        let state = AppState::new(config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(pushlab_server::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        TestServer { state, addr, proto, identity, walk, stop: Some(stop), served }
    }

    /// A new client in the server's protocol (over HTTP/2, a new TLS connection).
    pub async fn client(&self) -> Client {
        match &self.identity {
            None => Client::h1(self.addr),
            Some(identity) => Client::h2(self.addr, identity).await,
        }
    }

    /// Like [`start`](Self::start), with the real ticker publishing at `--rate`.
    pub async fn start_ticking(args: &[&str]) -> Self {
        let server = Self::start(args).await;
        pushlab_server::start_ticker(&server.state);
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub fn head(&self) -> u64 {
        self.state.feed.head()
    }

    /// Requests of `transport` being served now (open streams, held long-polls).
    pub fn active(&self, transport: pushlab_contract::Transport) -> u64 {
        self.state.counters(transport).snapshot().active
    }

    /// Waits until exactly `n` requests of `transport` are being served.
    pub async fn wait_active(&self, transport: pushlab_contract::Transport, n: u64) {
        let what = format!("{n} active {transport} request(s)");
        wait_for(&what, || self.active(transport), |&active| active == n).await;
    }

    /// Publishes `n` ticks of the random walk, stamped now.
    pub fn publish(&self, n: u64) {
        let mut walk = self.walk.lock().unwrap();
        let ts_us =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as u64;
        let head = self.head();
        let frames: Vec<_> = (head + 1..=head + n)
            .map(|seq| {
                let (symbol, json) = walk.next(seq, ts_us);
                self.state.feed.frame(seq, symbol, json)
            })
            .collect();
        self.state.feed.publish(frames);
    }

    /// Seqs of the published ticks of `symbol`, in the window `after`..=`upto`.
    pub fn seqs_of(&self, symbol: &str, after: u64, upto: u64) -> Vec<u64> {
        let index = self.state.feed.symbol_index(symbol).unwrap();
        let filter = pushlab_server::feed::SymbolFilter::from_indices([index]);
        let batch = self.state.feed.read(after, filter, usize::MAX).unwrap();
        batch.ticks.iter().map(|t| t.seq).filter(|&s| s <= upto).collect()
    }

    /// Asks the server to shut down and waits for `serve` to return.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(PATIENCE, &mut self.served)
            .await
            .expect("server stops in time")
            .unwrap()
            .unwrap();
    }
}

/// Polls `read()` until `done` holds for its value, and returns that value. After
/// [`PATIENCE`] the test fails saying what it waited for and the last value it saw
/// ("waited 5s for 1 active long-poll request(s): last saw 0").
pub async fn wait_for<T: std::fmt::Debug>(
    what: &str,
    mut read: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    wait_for_async(what, || std::future::ready(read()), done).await
}

/// [`wait_for`] with a `read` that awaits (a server's `/api/stats`, say).
pub async fn wait_for_async<T: std::fmt::Debug, F: Future<Output = T>>(
    what: &str,
    mut read: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let value = read().await;
        if done(&value) {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "waited {PATIENCE:?} for {what}: last saw {value:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A reqwest client per test: nothing shared between tests.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(70)).build().unwrap()
}

/// GETs `url`, returning the status and the body parsed as JSON.
pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The raw JSON text of each tick in a poll body, exactly as the server wrote it.
pub fn raw_ticks(body: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        ticks: Vec<&'a serde_json::value::RawValue>,
    }
    let raw: Raw = serde_json::from_str(body).unwrap();
    raw.ticks.iter().map(|t| t.get().to_owned()).collect()
}

pub fn seq_of(tick_json: &str) -> u64 {
    serde_json::from_str::<pushlab_contract::Tick>(tick_json).unwrap().seq
}

/// The seqs of ticks received as JSON, in the order received.
pub fn seqs(ticks: &[String]) -> Vec<u64> {
    ticks.iter().map(|t| seq_of(t)).collect()
}

/// One parsed SSE block: its fields as sent (a comment block has only `comment`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SseBlock {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<String>,
    pub comment: Option<String>,
}

/// An SSE stream read block by block (the server writes `\n` line endings).
pub struct SseClient {
    pub response_headers: http::HeaderMap,
    body: client::BodyStream,
    buffer: String,
}

impl SseClient {
    /// A stream in the server's protocol, on a connection of its own.
    pub async fn connect(
        server: &TestServer,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<Self, (u16, String)> {
        Self::connect_on(&server.client().await, path, last_event_id).await
    }

    /// A stream on `client`'s connection (over HTTP/2, one more stream of it).
    pub async fn connect_on(
        client: &Client,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<Self, (u16, String)> {
        let headers: Vec<_> = last_event_id.map(|id| ("Last-Event-ID", id)).into_iter().collect();
        let response = client.get_with(path, &headers).await;
        if !(200..300).contains(&response.status) {
            return Err((response.status, response.text().await));
        }
        Ok(SseClient { response_headers: response.headers, body: response.body, buffer: String::new() })
    }

    /// The next block, or `None` when the server ended the stream.
    pub async fn next_block(&mut self) -> Option<SseBlock> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_block(&block));
            }
            let chunk = tokio::time::timeout(PATIENCE, self.body.next()).await.expect("SSE block in time")?;
            self.buffer.push_str(std::str::from_utf8(&chunk.ok()?).unwrap());
        }
    }

    /// The next `n` tick events (skipping comments and the `retry:` block), as tick JSON.
    pub async fn ticks(&mut self, n: usize) -> Vec<String> {
        let mut ticks = Vec::new();
        while ticks.len() < n {
            let block = self.next_block().await.expect("stream still open");
            if let (Some(data), None) = (block.data, block.event) {
                ticks.push(data);
            }
        }
        ticks
    }
}

fn parse_block(block: &str) -> SseBlock {
    let mut parsed = SseBlock::default();
    for line in block.lines().filter(|l| !l.is_empty()) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        match field {
            "" => parsed.comment = Some(value),
            "id" => parsed.id = Some(value),
            "event" => parsed.event = Some(value),
            "data" => parsed.data = Some(value),
            "retry" => parsed.retry = Some(value),
            other => panic!("unexpected SSE field {other:?} in {block:?}"),
        }
    }
    parsed
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket whose hello (the first message, with the server's epoch) has been read.
pub async fn ws_connect(server: &TestServer, path: &str) -> Ws {
    let mut ws = ws_connect_raw(server, path).await;
    let hello = ws_text(&mut ws).await;
    match pushlab_contract::ServerMessage::parse(&hello) {
        Ok(pushlab_contract::ServerMessage::Control(pushlab_contract::ControlMessage::Hello {
            epoch,
            ..
        })) => assert_eq!(epoch, server.state.feed.epoch()),
        _ => panic!("expected a hello first, got {hello}"),
    }
    ws
}

/// A WebSocket with nothing read yet.
pub async fn ws_connect_raw(server: &TestServer, path: &str) -> Ws {
    tokio_tungstenite::connect_async(server.ws_url(path)).await.expect("WebSocket handshake").0
}

/// The next text message; panics on anything else (pings are answered by tungstenite).
pub async fn ws_text(ws: &mut Ws) -> String {
    loop {
        let message =
            tokio::time::timeout(PATIENCE, ws.next()).await.expect("message in time").expect("open").unwrap();
        match message {
            Message::Text(text) => return text.to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

pub async fn ws_send(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.into())).await.unwrap();
}

/// The next `n` tick messages as JSON (control messages are returned by `ws_text`).
pub async fn ws_ticks(ws: &mut Ws, n: usize) -> Vec<String> {
    let mut ticks = Vec::new();
    while ticks.len() < n {
        let text = ws_text(ws).await;
        assert!(!text.contains("\"type\""), "unexpected control message {text}");
        ticks.push(text);
    }
    ticks
}

/// The real `pushlab-server` binary, started on port 0 (for signals, exit codes and
/// memory, which an in-process server cannot show).
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub base: String,
}

impl ServerProcess {
    pub async fn start(args: &[&str]) -> Self {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushlab-server"));
        command.args(args);
        Self::spawn(command).await
    }

    /// The server under `ulimit -n fds` (soft and hard, so it cannot raise it).
    pub async fn start_with_fd_limit(fds: u64, args: &[&str]) -> Self {
        let mut command = tokio::process::Command::new("sh");
        command.args([
            "-c",
            &format!("ulimit -n {fds} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_pushlab-server"),
        ]);
        command.args(args);
        Self::spawn(command).await
    }

    async fn spawn(mut command: tokio::process::Command) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = command
            .args(["--addr", "127.0.0.1:0", "--log", "warn"])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting pushlab-server");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(PATIENCE, tokio::io::BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("the server prints its address")
            .unwrap();
        let base = line.trim().strip_prefix("listening on ").expect("listening on http://…").to_owned();
        ServerProcess { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stats(&self) -> pushlab_contract::Stats {
        http().get(self.url("/api/stats")).send().await.unwrap().json().await.unwrap()
    }

    /// `/api/stats`, or `None` if the request failed (a connection closed at the cap).
    pub async fn try_stats(&self) -> Option<pushlab_contract::Stats> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        client.get(self.url("/api/stats")).send().await.ok()?.json().await.ok()
    }

    /// Sends SIGTERM, as `kill` or a process manager would.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("running").to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }
}
