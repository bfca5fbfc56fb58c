//! What every handler shares: the feed, the counters, the connection cap, and the
//! shutdown signal.

use std::ops::Deref;
use std::sync::Arc;

use pushlab_contract::Transport;
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::counters::{Counters, TransportCounters};
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
    /// The tick rate; the ticker re-anchors its schedule when it changes.
    pub rate: watch::Sender<f64>,
    /// One permit per open SSE stream, WebSocket or pending long-poll.
    connections: Arc<Semaphore>,
    /// Cancelled when the server starts shutting down: streams end, long-polls answer.
    pub shutdown: CancellationToken,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// A fresh epoch: 8 random characters of `[a-z0-9]` (36⁸ ≈ 2.8 × 10¹², so two runs
/// of a server share one by chance about never).
pub fn new_epoch() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
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
            rate,
            connections,
            shutdown: CancellationToken::new(),
        }))
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
