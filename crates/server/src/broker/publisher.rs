//! The publisher (`--broker URL --publish`): the cluster's one ticker.
//!
//! It is a whole server — its own ring, its own clients — plus a relay: one more
//! reader of its feed, which passes every tick to the broker in seq order and waits
//! for the stream's acknowledgement before moving on, so a tick is never skipped
//! (a publish that fails is retried from the first tick not acknowledged; the
//! `Nats-Msg-Id` header makes a repeat harmless). The relay is a cursor like any
//! client's, so a broker that is down does not slow the ticker: the relay falls
//! behind in the log, and only past the history are ticks lost to the cluster,
//! counted in `gaps`.
//!
//! At start it continues the log it finds in the stream (same epoch, the next seq,
//! each symbol's last price), so replicas and their clients see one log across a
//! publisher restart. A stream of another feed (other symbols), or an `--epoch` other
//! than the stream's, starts a new log: the stream is purged first.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream::Stream};
use futures::StreamExt as _;
use pushlab_contract::RateBody;
use serde::{Deserialize, Serialize};

use super::{EPOCH_HEADER, FeedInfo, Link, RATE_HEADER, Role, TickHead, stream_config};
use crate::admin::{apply_rate, rate_from_json};
use crate::config::Config;
use crate::feed::{PUSH_BATCH_TICKS, SymbolFilter, TickFrame};
use crate::state::AppState;
use crate::ticker::{self, PriceWalk};

/// How long the relay waits after a failed publish before it tries again.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// The publisher's answer to a rate change asked through the broker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RateReply {
    Done(RateBody),
    Refused { error: String },
}

/// Where the log found in the stream ended.
#[derive(Debug)]
struct Continued {
    /// The seq of the stream's newest tick: the ticker goes on after it.
    head: u64,
    /// Each symbol's last price in the stream, by symbol index.
    prices: Vec<Option<f64>>,
}

/// A publisher connected to the broker, its stream ready, not yet started.
#[derive(Debug)]
pub struct Publisher {
    link: Link,
    continued: Option<Continued>,
}

impl Publisher {
    /// Connects, declares the stream, and sets `config.epoch` to the log it continues.
    pub async fn prepare(config: &mut Config, port: u16) -> Result<Self, String> {
        let link = Link::connect(config, Role::Publisher, port).await?;
        let js = link.jetstream();
        let wanted =
            stream_config(&link.subjects, config.history, &FeedInfo { symbols: config.symbols.clone() });
        let name = wanted.name.clone();
        let mut stream =
            js.get_or_create_stream(wanted.clone()).await.map_err(|e| format!("stream {name}: {e}"))?;
        let found = stream.info().await.map_err(|e| format!("stream {name}: {e}"))?.config.clone();
        let same_feed = found.description == wanted.description;
        if found.max_messages != wanted.max_messages || !same_feed || found.subjects != wanted.subjects {
            js.update_stream(wanted).await.map_err(|e| format!("stream {name}: updating: {e}"))?;
        }
        let mut continued = None;
        let found_tick = if same_feed { last_tick(&stream).await? } else { None };
        if let Some((epoch, head)) = found_tick
            && config.epoch.as_ref().is_none_or(|asked| *asked == epoch)
        {
            let prices = last_prices(&stream, &link, &config.symbols).await;
            tracing::info!(%epoch, head, "continuing the log found in the stream");
            config.epoch = Some(epoch);
            continued = Some(Continued { head, prices });
        }
        if continued.is_none() {
            stream.purge().await.map_err(|e| format!("stream {name}: purging: {e}"))?;
        }
        Ok(Publisher { link, continued })
    }

    /// Starts the ticker (after the log continued, if any), the relay to the broker,
    /// and the answers to rate changes asked by replicas.
    pub fn start(self, state: &AppState) {
        let config = &state.config;
        let payload = config.payload_bytes.map(|b| b as usize);
        let mut walk = PriceWalk::new(config.symbols.clone(), config.seed, payload);
        if let Some(continued) = self.continued {
            state.feed.restart_at(continued.head + 1);
            // Another seed per head: a continued walk does not replay the first one.
            walk = PriceWalk::new(config.symbols.clone(), config.seed ^ continued.head, payload)
                .with_prices(&continued.prices);
        }
        let link = Arc::new(self.link);
        let _ = state.broker.set(link.clone());
        let stop = state.shutdown.child_token();
        tokio::spawn(ticker::run(state.feed.clone(), walk, state.rate.subscribe(), stop));
        tokio::spawn(relay(state.clone(), link.clone()));
        tokio::spawn(answer_rate_changes(state.clone(), link));
    }
}

/// The epoch and seq of the stream's newest tick, if it holds one of ours.
async fn last_tick(stream: &Stream) -> Result<Option<(String, u64)>, String> {
    let last = stream.get_info().await.map_err(|e| format!("stream info: {e}"))?.state.last_sequence;
    if last == 0 {
        return Ok(None);
    }
    let Ok(message) = stream.get_raw_message(last).await else { return Ok(None) };
    let epoch = message.headers.get(EPOCH_HEADER).map(|v| v.as_str().to_owned());
    let tick = serde_json::from_slice::<TickHead>(&message.payload).ok();
    Ok(epoch.filter(|e| pushlab_contract::epoch::is_epoch(e)).zip(tick.map(|t| t.seq)))
}

/// Each symbol's last price in the stream (`None` where it holds none).
async fn last_prices(stream: &Stream, link: &Link, symbols: &[String]) -> Vec<Option<f64>> {
    let mut prices = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        let message = stream.get_last_raw_message_by_subject(&link.subjects.tick(symbol)).await.ok();
        prices
            .push(message.and_then(|m| serde_json::from_slice::<TickHead>(&m.payload).ok().map(|t| t.price)));
    }
    prices
}

/// Passes every tick of the feed to the broker, in order, each once acknowledged.
async fn relay(state: AppState, link: Arc<Link>) {
    let js = link.jetstream();
    let feed = state.feed.clone();
    let mut head = feed.subscribe();
    let mut sent = feed.head();
    loop {
        let batch =
            feed.read(sent, SymbolFilter::ALL, PUSH_BATCH_TICKS).expect("the relay never passes the head");
        if batch.missed > 0 {
            link.gaps.fetch_add(batch.missed, Ordering::Relaxed);
            tracing::error!(
                missed = batch.missed,
                "ticks evicted before the broker took them: lost to the cluster"
            );
        }
        if batch.ticks.is_empty() {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                moved = head.wait_for(|&h| h > sent) => if moved.is_err() { return },
            }
            continue;
        }
        match publish(&js, &link, &state, &batch.ticks).await {
            Ok(last) => sent = last,
            Err((acknowledged, e)) => {
                sent = acknowledged.max(sent);
                tracing::warn!("publishing to the broker: {e}; retrying in {RETRY_AFTER:?}");
                tokio::select! {
                    () = state.shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY_AFTER) => {}
                }
            }
        }
    }
}

/// Publishes `ticks` (pipelined), then waits for each acknowledgement in order: the
/// last seq acknowledged, or, on a failure, the last before it and the error.
async fn publish(
    js: &jetstream::Context,
    link: &Link,
    state: &AppState,
    ticks: &[Arc<TickFrame>],
) -> Result<u64, (u64, String)> {
    let before = ticks[0].seq - 1;
    let rate = state.rate.borrow().to_string();
    let epoch = state.feed.epoch();
    let mut acks = Vec::with_capacity(ticks.len());
    for tick in ticks {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("{epoch}-{}", tick.seq).as_str());
        headers.insert(EPOCH_HEADER, epoch);
        headers.insert(RATE_HEADER, rate.as_str());
        let subject = link.subjects.tick(&state.feed.symbols()[tick.symbol]);
        match js.publish_with_headers(subject, headers, tick.json.clone()).await {
            Ok(ack) => acks.push((tick.seq, ack)),
            Err(e) => {
                // Those already sent may still be acknowledged: the retry starts after them.
                let done = finish(acks, before, link).await.unwrap_or_else(|(done, _)| done);
                return Err((done, e.to_string()));
            }
        }
    }
    finish(acks, before, link).await
}

/// Awaits the acknowledgements in order: the last seq acknowledged, or the one
/// before the first failure and its error.
async fn finish(
    acks: Vec<(u64, jetstream::context::PublishAckFuture)>,
    before: u64,
    link: &Link,
) -> Result<u64, (u64, String)> {
    let mut done = before;
    for (seq, ack) in acks {
        ack.await.map_err(|e| (done, e.to_string()))?;
        done = seq;
        link.ticks.fetch_add(1, Ordering::Relaxed);
    }
    Ok(done)
}

/// Answers the replicas' rate changes (`<prefix>.control.rate`), as `POST
/// /api/admin/rate` would here: the same checks, the same effect.
async fn answer_rate_changes(state: AppState, link: Arc<Link>) {
    let mut requests = match link.client.subscribe(link.subjects.rate_control()).await {
        Ok(requests) => requests,
        Err(e) => {
            return tracing::error!("subscribing to rate changes: {e}; replicas cannot change the rate");
        }
    };
    loop {
        let request = tokio::select! {
            () = state.shutdown.cancelled() => return,
            request = requests.next() => match request { Some(r) => r, None => return },
        };
        let reply = match rate_from_json(&request.payload) {
            Ok(rate) => {
                if apply_rate(&state, rate) {
                    tracing::info!(rate, "tick rate changed by a replica");
                }
                RateReply::Done(RateBody { rate })
            }
            Err(error) => RateReply::Refused { error },
        };
        if let Some(to) = request.reply {
            let body = serde_json::to_vec(&reply).expect("a reply serializes");
            if let Err(e) = link.client.publish(to, body.into()).await {
                tracing::warn!("answering a rate change: {e}");
            }
        }
    }
}
