//! What every handler shares: the feed, the counters, the connection cap, the
//! shutdown signal, and when a stream is due to be recycled (`--stream-max-age`).

use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use pushlab_contract::Transport;
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::counters::{ConnectionCounters, Counters, TransportCounters};
use crate::demo_links::DemoLink;
use crate::error::ApiError;
use crate::feed::Feed;

/// Cheap to clone: one `Arc`. It derefs to [`Shared`], so `state.feed` is the feed
/// every handler shares.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    /// The log, with its epoch (SPEC §7): `--epoch`, or new at each start, so a cursor
    /// of an earlier run is recognised as one.
    pub feed: Arc<Feed>,
    pub counters: Counters,
    /// TCP connections (SPEC §8): kept by the connection layer, and by the streams
    /// `--stream-max-age` ends.
    pub connection_counters: Arc<ConnectionCounters>,
    /// The tick rate; the ticker re-anchors its schedule when it changes.
    pub rate: watch::Sender<f64>,
    /// One permit per open SSE stream, WebSocket or pending long-poll.
    connections: Arc<Semaphore>,
    /// Cancelled when the server starts shutting down: streams end, long-polls answer.
    pub shutdown: CancellationToken,
    /// This server's ports: its own, then each demo link's (`demo_links.rs`). A page of
    /// any of them may use the others (CORS, the WebSocket origin check).
    pub ports: OnceLock<Vec<u16>>,
    /// The demo's links, as `GET /api/links` lists them.
    pub demo_links: OnceLock<Vec<DemoLink>>,
    /// The connection to the broker, when this server is one of a cluster (`--broker`).
    pub broker: OnceLock<Arc<crate::broker::Link>>,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// How far a stream's lifetime may stray from `--stream-max-age`, either way: streams
/// opened together (after a restart, say) then come back spread over a fifth of it.
pub const STREAM_MAX_AGE_JITTER: f64 = 0.1;

/// A fresh epoch: 8 random characters of `[a-z0-9]` (36⁸ ≈ 2.8 × 10¹², so two runs
/// of a server share one by chance about never).
pub fn new_epoch() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Resolves when a [`AppState::recycle_timer`] fires; never without one. Cancel-safe, so
/// it sits in a stream's `select!` beside its other waits.
pub async fn recycle_due(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(timer) => timer.as_mut().await,
        None => std::future::pending().await,
    }
}

impl AppState {
    pub fn new(config: Config) -> Self {
        let history = usize::try_from(config.history).expect("history fits in memory");
        let epoch = config.epoch.clone().unwrap_or_else(new_epoch);
        let feed = Arc::new(Feed::new(config.symbols.clone(), history, epoch));
        let connections = Arc::new(Semaphore::new(config.max_connections as usize));
        let rate = watch::channel(config.rate).0;
        AppState(Arc::new(Shared {
            config,
            feed,
            counters: Counters::default(),
            connection_counters: Arc::default(),
            rate,
            connections,
            shutdown: CancellationToken::new(),
            ports: OnceLock::new(),
            demo_links: OnceLock::new(),
            broker: OnceLock::new(),
        }))
    }

    /// When a stream opened now is to end, under `--stream-max-age` (jittered): a timer
    /// made once per stream, or `None` when streams live as long as their clients.
    pub fn recycle_timer(&self) -> Option<Pin<Box<Sleep>>> {
        let max_age = self.config.stream_max_age?;
        let jitter = rand::rng().random_range(1.0 - STREAM_MAX_AGE_JITTER..=1.0 + STREAM_MAX_AGE_JITTER);
        Some(Box::pin(tokio::time::sleep_until(Instant::now() + max_age.mul_f64(jitter))))
    }

    /// This server's ports (its own and its demo links'); empty before it serves.
    pub fn own_ports(&self) -> &[u16] {
        self.ports.get().map_or(&[], Vec::as_slice)
    }

    pub fn counters(&self, transport: Transport) -> &TransportCounters {
        self.counters.of(transport)
    }

    /// Counts a request being served in `active` until the returned guard is dropped.
    /// Not capped: a short poll holds nothing open.
    pub fn active(&self, transport: Transport) -> Active {
        self.counters(transport).enter();
        Active { state: self.clone(), transport, permit: None }
    }
}

/// A request being served: counted in `active` (and, once it holds the connection
/// open, owning a cap permit) until dropped, however it ends — answered, client gone,
/// or shutdown.
#[derive(Debug)]
pub struct Active {
    state: AppState,
    transport: Transport,
    permit: Option<OwnedSemaphorePermit>,
}

impl Active {
    pub fn counters(&self) -> &TransportCounters {
        self.state.counters(self.transport)
    }

    /// Takes a place under `--max-connections` for as long as this request stays open
    /// (an SSE stream, a WebSocket, a long-poll that waits). Past the cap, or while the
    /// server is stopping, a 503 that tells the client to retry.
    pub fn hold_open(&mut self) -> Result<(), ApiError> {
        if self.state.shutdown.is_cancelled() {
            return Err(ApiError::ShuttingDown);
        }
        let permit = self
            .state
            .connections
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::TooManyConnections { limit: self.state.config.max_connections })?;
        self.permit = Some(permit);
        Ok(())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.counters().leave();
    }
}
