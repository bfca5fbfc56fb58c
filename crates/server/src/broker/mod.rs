//! Beyond one process: replicas fed through a NATS broker (`--broker`, docs/cluster.md).
//!
//! One process holds at most about 19,000 connections here (20,000 file descriptors),
//! so a larger audience needs several processes serving the *same* log. One of them,
//! the **publisher** (`--broker URL --publish`), runs the ticker as a single server
//! does and passes every tick, once, to the broker; every other, a **replica**
//! (`--broker URL`), follows the broker into a ring of its own and serves all four
//! transports from it. The fan-out to clients stays local to each process: the broker
//! carries each tick once per replica, whatever the number of clients.
//!
//! The broker is a JetStream stream, `<PREFIX>` on subjects `<prefix>.ticks.<symbol>`,
//! keeping the last `--history` ticks (`max_msgs`). Each message is the tick JSON,
//! byte for byte what clients get, with three headers: the log's epoch, the rate it
//! was published at, and `Nats-Msg-Id` (`<epoch>-<seq>`, so a publish retried after a
//! lost acknowledgement is stored once). Because seqs and the epoch come from the one
//! publisher, every replica serves the same ticks under the same positions: a client
//! moved from one replica to another resumes where it was.
//!
//! The stream is also the cluster's memory. A replica (re)starting reads it from the
//! oldest tick kept, so its ring is full again before it takes a client, and the
//! clients of a replica that died resume on it, or on any other, without loss. A
//! publisher restarting continues the log it finds there (same epoch, next seq, each
//! symbol's last price) instead of starting a new one under the replicas.
//!
//! - [`publisher`]: the ticker's side: resume the log, relay ticks, answer rate changes.
//! - [`replica`]: a replica's side: learn the feed from the stream, then follow it.

pub mod publisher;
pub mod replica;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use pushlab_contract::{ClusterStats, RateBody};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying the log's epoch on every tick message.
pub const EPOCH_HEADER: &str = "Pushlab-Epoch";
/// The header carrying the tick rate the publisher ran at when it published the tick.
pub const RATE_HEADER: &str = "Pushlab-Rate";
/// The header every response of a cluster member carries: which member answered.
pub const REPLICA_HEADER: &str = "x-pushlab-replica";
/// How long a request to the broker (stream info, a rate change) may take.
pub const BROKER_TIMEOUT: Duration = Duration::from_secs(5);

/// `--broker`: a `nats://host:port` URL (or several, comma-separated, for a NATS cluster).
pub fn parse_url(s: &str) -> Result<String, String> {
    let ok = s.split(',').all(|url| url.strip_prefix("nats://").is_some_and(|rest| !rest.is_empty()));
    if ok { Ok(s.to_owned()) } else { Err(format!("expected nats://host:port, got {s:?}")) }
}

/// `--broker-prefix`: one subject token, 1 to 32 of `[a-z0-9_-]`.
pub fn parse_prefix(s: &str) -> Result<String, String> {
    let ok = (1..=32).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok { Ok(s.to_owned()) } else { Err(format!("expected 1 to 32 of [a-z0-9_-], got {s:?}")) }
}

/// The names one feed uses on the broker, all derived from `--broker-prefix`.
#[derive(Debug, Clone)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    pub fn new(prefix: &str) -> Self {
        Subjects { prefix: prefix.to_owned() }
    }

    /// The JetStream stream: the prefix upper-cased (`-` becomes `_`).
    pub fn stream(&self) -> String {
        self.prefix.to_ascii_uppercase().replace('-', "_")
    }

    /// Where ticks of `symbol` are published.
    pub fn tick(&self, symbol: &str) -> String {
        format!("{}.ticks.{symbol}", self.prefix)
    }

    /// Every tick subject, as the stream captures them.
    pub fn all_ticks(&self) -> String {
        format!("{}.ticks.>", self.prefix)
    }

    /// Where a replica asks the publisher to change the rate (request and reply).
    pub fn rate_control(&self) -> String {
        format!("{}.control.rate", self.prefix)
    }
}

/// What the stream's description records about the feed: its symbols, in index order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedInfo {
    pub symbols: Vec<String>,
}

/// The stream as the publisher declares it: the last `history` ticks, on disk.
pub fn stream_config(subjects: &Subjects, history: u64, info: &FeedInfo) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: subjects.stream(),
        subjects: vec![subjects.all_ticks()],
        max_messages: i64::try_from(history).expect("history fits in i64"),
        discard: jetstream::stream::DiscardPolicy::Old,
        storage: jetstream::stream::StorageType::File,
        description: Some(serde_json::to_string(info).expect("feed info serializes")),
        ..Default::default()
    }
}

/// The fields of a tick a replica needs to place it: its seq, its symbol and price.
#[derive(Debug, Deserialize)]
pub struct TickHead<'a> {
    pub seq: u64,
    #[serde(borrow)]
    pub symbol: &'a str,
    pub price: f64,
}

/// Which side of the broker a server is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Publisher,
    Replica,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Publisher => "publisher",
            Role::Replica => "replica",
        }
    }
}

/// A server's connection to the broker, shared through [`AppState`] (`state.broker`).
#[derive(Debug)]
pub struct Link {
    pub role: Role,
    /// `--replica-id`, or the role and the port.
    pub id: String,
    pub url: String,
    pub subjects: Subjects,
    pub client: async_nats::Client,
    /// Ticks passed to (publisher) or taken from (replica) the broker.
    pub ticks: AtomicU64,
    /// Holes: see [`ClusterStats::gaps`].
    pub gaps: AtomicU64,
    /// Cancelled when the link cannot go on (the stream now holds another log); the
    /// server then stops, and exits with [`Link::failure`].
    pub fatal: CancellationToken,
    failure: OnceLock<String>,
}

impl Link {
    /// Connects to `config.broker` as `role`, named after `port` unless `--replica-id`.
    pub async fn connect(config: &Config, role: Role, port: u16) -> Result<Self, String> {
        let url = config.broker.clone().expect("a link needs --broker");
        let id = config.replica_id.clone().unwrap_or_else(|| format!("{}-{port}", role.name()));
        let client = async_nats::ConnectOptions::new()
            .name(format!("pushlab {id}"))
            .connection_timeout(BROKER_TIMEOUT)
            .request_timeout(Some(BROKER_TIMEOUT))
            .connect(url.as_str())
            .await
            .map_err(|e| format!("--broker {url}: {e}"))?;
        tracing::info!(%url, %id, role = role.name(), "connected to the broker");
        Ok(Link {
            role,
            id,
            url,
            subjects: Subjects::new(&config.broker_prefix),
            client,
            ticks: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            fatal: CancellationToken::new(),
            failure: OnceLock::new(),
        })
    }

    pub fn jetstream(&self) -> jetstream::Context {
        jetstream::new(self.client.clone())
    }

    /// Stops the server: the link cannot go on, for `reason`.
    pub fn fail(&self, reason: String) {
        tracing::error!("{reason}");
        let _ = self.failure.set(reason);
        self.fatal.cancel();
    }

    /// Why the link stopped the server, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    pub fn stats(&self) -> ClusterStats {
        ClusterStats {
            role: self.role.name().into(),
            replica: self.id.clone(),
            broker: self.url.clone(),
            ticks: self.ticks.load(Ordering::Relaxed),
            gaps: self.gaps.load(Ordering::Relaxed),
        }
    }
}

/// The feed's source once the server has joined the cluster: what [`crate::run`] starts
/// in place of a single server's ticker.
#[derive(Debug)]
pub enum Joined {
    // Boxed: each carries its connection and stream state, of very different sizes.
    Publisher(Box<publisher::Publisher>),
    Replica(Box<replica::Replica>),
}

/// Joins `config.broker`, if given: a replica's config takes the feed's epoch,
/// symbols and rate from the stream; a publisher's, the epoch of the log it continues.
pub async fn join(mut config: Config, port: u16) -> Result<(Config, Option<Joined>), String> {
    if config.broker.is_none() {
        return Ok((config, None));
    }
    let joined = if config.publish {
        Joined::Publisher(Box::new(publisher::Publisher::prepare(&mut config, port).await?))
    } else {
        Joined::Replica(Box::new(replica::Replica::prepare(&mut config, port).await?))
    };
    Ok((config, Some(joined)))
}

impl Joined {
    /// Starts feeding `state`'s feed (and, for the publisher, the broker); a replica
    /// returns once its ring has caught up with the stream.
    pub async fn start(self, state: &AppState) {
        match self {
            Joined::Publisher(publisher) => publisher.start(state),
            Joined::Replica(replica) => replica.start(state).await,
        }
    }
}

/// Middleware: every response of a cluster member names the member (`X-Pushlab-Replica`).
pub async fn replica_header(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(link) = state.broker.get()
        && let Ok(value) = HeaderValue::from_str(&link.id)
    {
        response.headers_mut().insert(REPLICA_HEADER, value);
    }
    response
}

/// A replica's `POST /api/admin/rate`: the rate belongs to the publisher, so the
/// request goes to it through the broker; its answer comes back as the response.
pub async fn forward_rate(link: &Link, rate: f64) -> Result<RateBody, ApiError> {
    let unavailable = |why: String| ApiError::Protocol(axum::http::StatusCode::BAD_GATEWAY, why);
    let body = serde_json::to_vec(&RateBody { rate }).expect("a rate serializes");
    let reply =
        link.client.request(link.subjects.rate_control(), body.into()).await.map_err(|e| {
            unavailable(format!("rate: the publisher did not answer through the broker ({e})"))
        })?;
    match serde_json::from_slice::<publisher::RateReply>(&reply.payload) {
        Ok(publisher::RateReply::Done(body)) => Ok(body),
        Ok(publisher::RateReply::Refused { error }) => Err(ApiError::bad(error)),
        Err(e) => Err(unavailable(format!("rate: the publisher's answer is not understood ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_the_prefix() {
        let s = Subjects::new("demo-2");
        assert_eq!(
            (s.stream(), s.tick("ACME"), s.all_ticks()),
            ("DEMO_2".into(), "demo-2.ticks.ACME".into(), "demo-2.ticks.>".into())
        );
        assert_eq!(s.rate_control(), "demo-2.control.rate");
    }

    #[test]
    fn urls_and_prefixes_are_checked() {
        assert!(parse_url("nats://127.0.0.1:4222").is_ok());
        assert!(parse_url("nats://a:1,nats://b:2").is_ok());
        for bad in ["", "127.0.0.1:4222", "nats://", "http://x:1"] {
            assert!(parse_url(bad).is_err(), "{bad:?}");
        }
        assert!(parse_prefix("pushlab").is_ok());
        for bad in ["", "a.b", "A", "x*", &"a".repeat(33)] {
            assert!(parse_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_stream_keeps_history_ticks_and_records_the_symbols() {
        let info = FeedInfo { symbols: vec!["A".into(), "B".into()] };
        let config = stream_config(&Subjects::new("pushlab"), 4096, &info);
        assert_eq!((config.name.as_str(), config.max_messages), ("PUSHLAB", 4096));
        let back: FeedInfo = serde_json::from_str(config.description.as_deref().unwrap()).unwrap();
        assert_eq!(back, info);
    }
}
