//! A replica (`--broker URL`): a server whose ticks come from the broker.
//!
//! Before it serves, it learns the feed from the stream: the symbols (in the stream's
//! description, in index order), the epoch and the rate (in the newest tick's
//! headers). Then it follows the stream with an ordered consumer from the oldest tick
//! kept, so its ring holds the same history as every other replica's before the
//! first client comes, and each live tick a moment after the publisher stored it.
//!
//! Every tick goes into the ring as received: the same JSON bytes, the same seq, the
//! same epoch; the SSE and WebSocket frames are built here once, as a single server
//! builds them. A tick already held (the consumer restarted after a broker hiccup) is
//! skipped; a hole in the seqs (the replica fell further behind than the stream keeps)
//! restarts the ring after it, and clients behind are told exactly what they missed.
//! A tick of another epoch means the stream now holds another log (a publisher started
//! a new one): the replica stops, with that reason, rather than mix two logs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::stream::Stream;
use futures::StreamExt as _;

use super::{EPOCH_HEADER, FeedInfo, Link, RATE_HEADER, Role, TickHead};
use crate::config::Config;
use crate::state::AppState;

/// How often a replica looks again for a stream that is missing or empty.
const WAIT_STEP: Duration = Duration::from_millis(250);
/// How long before a waiting replica says again what it is waiting for.
const WAIT_NOTICE: Duration = Duration::from_secs(5);
/// How long a joining replica waits for its ring to catch up before it serves anyway.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause before following again after the consumer failed.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// A replica connected to the broker, the feed learnt, not yet following.
#[derive(Debug)]
pub struct Replica {
    link: Link,
    stream: Stream,
    /// The seq of the stream's newest tick when the replica joined: it serves once its
    /// ring has caught up to it.
    newest: u64,
}

impl Replica {
    /// Connects and waits for the publisher's stream to hold a tick; then sets
    /// `config`'s symbols, epoch and rate to the feed's.
    pub async fn prepare(config: &mut Config, port: u16) -> Result<Self, String> {
        let link = Link::connect(config, Role::Replica, port).await?;
        let (stream, info, newest) = wait_for_feed(&link).await?;
        let Newest { epoch, rate, seq: newest } = newest;
        tracing::info!(%epoch, symbols = info.symbols.len(), "following the broker's stream");
        config.symbols = info.symbols;
        config.epoch = Some(epoch);
        if let Some(rate) = rate {
            config.rate = rate;
        }
        Ok(Replica { link, stream, newest })
    }

    /// Follows the stream into `state`'s feed until shutdown; returns once the ring
    /// holds what the stream held at joining (or after 10 s), so the
    /// first client finds the whole history.
    pub async fn start(self, state: &AppState) {
        let link = Arc::new(self.link);
        let _ = state.broker.set(link.clone());
        let mut head = state.feed.subscribe();
        tokio::spawn(follow(state.clone(), link, self.stream));
        let newest = self.newest;
        if tokio::time::timeout(CATCH_UP_TIMEOUT, head.wait_for(|&h| h >= newest)).await.is_err() {
            tracing::warn!(
                newest,
                head = state.feed.head(),
                "the ring has not caught up with the stream yet; serving"
            );
        }
    }
}

/// The stream's newest tick when a replica joins: the feed's epoch and rate.
#[derive(Debug)]
struct Newest {
    epoch: String,
    rate: Option<f64>,
    seq: u64,
}

/// The stream, the feed it records, and its newest tick, once the publisher has
/// published one.
async fn wait_for_feed(link: &Link) -> Result<(Stream, FeedInfo, Newest), String> {
    let js = link.jetstream();
    let name = link.subjects.stream();
    let mut noticed: Option<tokio::time::Instant> = None;
    loop {
        if let Ok(stream) = js.get_stream(&name).await
            && let Ok(info) = stream.get_info().await
            && info.state.messages > 0
        {
            let feed: FeedInfo =
                info.config.description.as_deref().and_then(|d| serde_json::from_str(d).ok()).ok_or_else(
                    || format!("stream {name} is not a pushlab feed (no symbols in its description)"),
                )?;
            let newest = stream
                .get_raw_message(info.state.last_sequence)
                .await
                .map_err(|e| format!("stream {name}: reading its newest tick: {e}"))?;
            let epoch = newest
                .headers
                .get(EPOCH_HEADER)
                .map(|v| v.as_str().to_owned())
                .filter(|e| pushlab_contract::epoch::is_epoch(e))
                .ok_or_else(|| format!("stream {name}: its newest tick has no {EPOCH_HEADER}"))?;
            let rate = newest.headers.get(RATE_HEADER).and_then(|v| v.as_str().parse().ok());
            let seq = serde_json::from_slice::<TickHead>(&newest.payload)
                .map_err(|e| format!("stream {name}: its newest message is not a tick: {e}"))?
                .seq;
            return Ok((stream, feed, Newest { epoch, rate, seq }));
        }
        if noticed.is_none_or(|at| at.elapsed() >= WAIT_NOTICE) {
            tracing::info!("waiting for the publisher's first tick on stream {name}");
            noticed = Some(tokio::time::Instant::now());
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
}

/// Follows the stream from its oldest tick, again after any failure, until shutdown
/// or until the stream holds another log.
async fn follow(state: AppState, link: Arc<Link>, stream: Stream) {
    loop {
        let config = pull::OrderedConfig { deliver_policy: DeliverPolicy::All, ..Default::default() };
        let messages = match stream.create_consumer(config).await {
            Ok(consumer) => consumer.messages().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match messages {
            Ok(mut messages) => loop {
                let message = tokio::select! {
                    () = state.shutdown.cancelled() => return,
                    message = messages.next() => message,
                };
                match message {
                    Some(Ok(message)) => {
                        if let Err(reason) = take(&state, &link, &message.message) {
                            return link.fail(reason);
                        }
                    }
                    Some(Err(e)) => tracing::warn!("following the broker: {e}"),
                    None => break,
                }
            },
            Err(e) => tracing::warn!("following the broker: {e}; again in {RETRY_AFTER:?}"),
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(RETRY_AFTER) => {}
        }
    }
}

/// Puts one message of the stream into the feed. `Err`: the replica cannot go on.
fn take(state: &AppState, link: &Link, message: &async_nats::Message) -> Result<(), String> {
    let feed = &state.feed;
    let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str());
    let epoch = header(EPOCH_HEADER);
    if epoch != Some(feed.epoch()) {
        return Err(format!(
            "the broker's stream now holds another log (epoch {}; this replica serves {}): \
             restart the replica to follow it",
            epoch.unwrap_or("none"),
            feed.epoch()
        ));
    }
    let tick = match serde_json::from_slice::<TickHead>(&message.payload) {
        Ok(tick) => tick,
        Err(e) => {
            tracing::warn!("a message on {} is not a tick ({e}): skipped", message.subject);
            return Ok(());
        }
    };
    let Some(symbol) = feed.symbol_index(tick.symbol) else {
        return Err(format!("tick {} is of {:?}, not a symbol of this feed", tick.seq, tick.symbol));
    };
    let head = feed.head();
    if tick.seq <= head {
        return Ok(()); // already held: the consumer started again from the oldest tick
    }
    if tick.seq > head + 1 {
        if head > 0 {
            link.gaps.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                head,
                next = tick.seq,
                "a hole in the broker's ticks: the ring starts again after it"
            );
        }
        feed.restart_at(tick.seq);
    }
    feed.publish([feed.frame(tick.seq, symbol, message.payload.to_vec())]);
    link.ticks.fetch_add(1, Ordering::Relaxed);
    if let Some(rate) = header(RATE_HEADER).and_then(|r| r.parse::<f64>().ok()) {
        state.rate.send_if_modified(|current| std::mem::replace(current, rate) != rate);
    }
    Ok(())
}
