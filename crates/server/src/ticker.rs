//! The simulated price ticker: a seeded random walk on a fixed schedule.
//!
//! Tick `n` after an anchor is due at `anchor + n / rate`, and its `ts_us` is that
//! *scheduled* time, not the moment the task got round to it. If the task runs late
//! (a busy machine, a long GC-like pause), the delay lands in every client's latency
//! instead of being hidden by a schedule that quietly slides (`sleep(interval)` would).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushlab_contract::Tick;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::feed::Feed;

/// At most this many ticks are published per wake-up; a ticker further behind than
/// this catches up over the next wake-ups instead of holding the feed lock for long.
const MAX_TICKS_PER_WAKE: u64 = 10_000;

/// The largest step of the random walk, in cents.
const MAX_STEP_CENTS: i64 = 25;

/// Prices never fall below one dollar.
const FLOOR_CENTS: i64 = 100;

/// The random walk: which symbol moves next and by how much. Same seed, same ticks.
#[derive(Debug)]
pub struct PriceWalk {
    rng: ChaCha8Rng,
    symbols: Vec<String>,
    prices_cents: Vec<i64>,
    /// Length of `pad` to add so a tick is about `--payload-bytes` long.
    payload_bytes: Option<usize>,
}

impl PriceWalk {
    pub fn new(symbols: Vec<String>, seed: u64, payload_bytes: Option<usize>) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let prices_cents = symbols.iter().map(|_| rng.random_range(5_000..=50_000)).collect();
        PriceWalk { rng, symbols, prices_cents, payload_bytes }
    }

    /// The walk going on from these prices (by symbol index; `None` keeps the seeded
    /// one): a publisher continuing a log from the broker's stream.
    pub fn with_prices(mut self, prices: &[Option<f64>]) -> Self {
        for (cents, price) in self.prices_cents.iter_mut().zip(prices) {
            if let Some(price) = price {
                *cents = ((price * 100.0).round() as i64).max(FLOOR_CENTS);
            }
        }
        self
    }

    /// The next tick as (symbol index, JSON bytes).
    pub fn next(&mut self, seq: u64, ts_us: u64) -> (usize, Vec<u8>) {
        let symbol = self.rng.random_range(0..self.symbols.len());
        let step = self.rng.random_range(-MAX_STEP_CENTS..=MAX_STEP_CENTS);
        let cents = (self.prices_cents[symbol] + step).max(FLOOR_CENTS);
        self.prices_cents[symbol] = cents;
        let mut tick = Tick {
            seq,
            symbol: self.symbols[symbol].clone(),
            // cents / 100 prints with at most two fractional digits: serde_json writes
            // the shortest decimal that round-trips, e.g. 101.25, never 101.2500001.
            price: cents as f64 / 100.0,
            ts_us,
            pad: None,
        };
        if let Some(target) = self.payload_bytes {
            let bare = serde_json::to_vec(&tick).expect("a tick serializes").len();
            let overhead = r#","pad":"""#.len();
            tick.pad = Some("x".repeat(target.saturating_sub(bare + overhead)));
        }
        (symbol, serde_json::to_vec(&tick).expect("a tick serializes"))
    }
}

/// Maps the monotonic clock to wall-clock µs, fixed once, so `ts_us` never jumps when
/// NTP adjusts the wall clock during a run.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    base: Instant,
    base_unix_us: u64,
}

impl WallClock {
    pub fn now() -> Self {
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970");
        WallClock { base: Instant::now(), base_unix_us: unix.as_micros() as u64 }
    }

    pub fn unix_us(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.base).as_micros() as u64;
        self.base_unix_us + since
    }
}

/// Runs the ticker until `stop`: publishes every tick when it falls due, re-anchoring
/// the schedule when `rate` changes.
pub async fn run(
    feed: Arc<Feed>,
    mut walk: PriceWalk,
    mut rate: watch::Receiver<f64>,
    stop: CancellationToken,
) {
    let clock = WallClock::now();
    let mut per_second = *rate.borrow_and_update();
    let mut anchor = Instant::now();
    let mut n: u64 = 1; // the next tick is the n-th after the anchor
    let due =
        |anchor: Instant, n: u64, per_second: f64| anchor + Duration::from_secs_f64(n as f64 / per_second);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = rate.changed() => {
                if changed.is_err() { return }
                // The new rate counts from now: ticks due before the change were
                // published at the old rate, and none is back-dated to catch up.
                anchor = Instant::now();
                per_second = *rate.borrow_and_update();
                n = 1;
                continue;
            }
            _ = tokio::time::sleep_until(due(anchor, n, per_second)) => {}
        }
        let now = Instant::now();
        let mut frames = Vec::new();
        let mut seq = feed.head();
        while due(anchor, n, per_second) <= now && (frames.len() as u64) < MAX_TICKS_PER_WAKE {
            seq += 1;
            let ts_us = clock.unix_us(due(anchor, n, per_second));
            let (symbol, json) = walk.next(seq, ts_us);
            frames.push(feed.frame(seq, symbol, json));
            n += 1;
        }
        feed.publish(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::SymbolFilter;

    fn symbols() -> Vec<String> {
        vec!["ACME".into(), "BOLT".into(), "CRUX".into()]
    }

    #[test]
    fn same_seed_same_ticks_and_prices_have_two_decimals() {
        let walk = |seed| {
            let mut walk = PriceWalk::new(symbols(), seed, None);
            (1..=200).map(|seq| walk.next(seq, 1)).collect::<Vec<_>>()
        };
        assert_eq!(walk(7), walk(7));
        assert_ne!(walk(7), walk(8), "another seed gives another walk");
        for (_, json) in walk(7) {
            let tick: Tick = serde_json::from_slice(&json).unwrap();
            let price = serde_json::to_string(&tick.price).unwrap();
            assert!(price.split('.').nth(1).is_none_or(|f| f.len() <= 2), "{price}");
        }
    }

    #[test]
    fn a_walk_goes_on_from_the_prices_it_is_given() {
        let seeded = PriceWalk::new(symbols(), 1, None).prices_cents;
        let walk = PriceWalk::new(symbols(), 1, None).with_prices(&[Some(123.45), None, Some(0.5)]);
        assert_eq!(walk.prices_cents, vec![12_345, seeded[1], FLOOR_CENTS], "None keeps the seeded price");
    }

    #[test]
    fn payload_bytes_pads_a_tick_to_the_asked_size() {
        let mut walk = PriceWalk::new(symbols(), 1, Some(512));
        let (_, json) = walk.next(1, 1_764_046_800_123_456);
        assert_eq!(json.len(), 512);
        assert!(serde_json::from_slice::<Tick>(&json).unwrap().pad.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn ticks_follow_the_schedule_and_carry_their_scheduled_time() {
        let feed = Arc::new(Feed::new(symbols(), 1000, "test".into()));
        let (rate_tx, rate_rx) = watch::channel(10.0);
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(feed.clone(), PriceWalk::new(symbols(), 1, None), rate_rx, stop.clone()));
        tokio::time::sleep(Duration::from_millis(1050)).await;
        assert_eq!(feed.head(), 10, "10 ticks/s for 1.05 s");
        let ts: Vec<u64> = feed
            .read(0, SymbolFilter::ALL, 100)
            .unwrap()
            .ticks
            .iter()
            .map(|t| serde_json::from_slice::<Tick>(&t.json).unwrap().ts_us)
            .collect();
        assert!(ts.windows(2).all(|w| w[1] - w[0] == 100_000), "scheduled 100 ms apart: {ts:?}");

        rate_tx.send(100.0).unwrap();
        tokio::time::sleep(Duration::from_millis(1005)).await;
        assert_eq!(feed.head(), 110, "then 100 ticks/s for 1 s, counted from the change");
        stop.cancel();
        task.await.unwrap();
    }
}
