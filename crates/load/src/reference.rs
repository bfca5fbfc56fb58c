//! The reference cursor: which ticks every client should have received.
//!
//! "Expected" is not computed from the rate (a late ticker would then pass for lost
//! ticks): the load generator reads the server's own log. Before the run starts it
//! takes the head `h0` from `/api/stats` (every tick up to it was emitted before that
//! answer, so was scheduled before the window — which is why it is not taken at the
//! window's start: a busy server may answer that late), then follows the log from `h0`
//! with `GET /api/poll?since=…`, with the clients' symbol filter, and keeps the seqs
//! whose `ts_us` falls in the window — the same rule a client's delivered ticks are
//! counted by.
//!
//! It reads once a quarter of the history's span (history ÷ rate), so it never falls
//! out of the history; with the default 4,096 ticks at 20 ticks/s that is every 51 s,
//! i.e. one read after the window and no load during it. It uses its own uncounted
//! connection. If it does miss ticks anyway, [`Expected::missed`] says how many and
//! the run records an `expected_incomplete` error rather than a wrong `lost`.

use std::time::Duration;

use pushlab_contract::PollResponse;
use pushlab_contract::limits::LIMIT_RANGE;
use tokio_util::sync::CancellationToken;

use crate::clients::Settings;
use crate::measure::{Gap, Window};
use crate::net::{ControlError, fetch_json};

/// Ticks per reference read (the server's `limit` maximum).
const PAGE_TICKS: usize = *LIMIT_RANGE.end() as usize;
/// Never read more often than this, however short the history.
const MIN_READ_INTERVAL: Duration = Duration::from_millis(20);

/// The ticks generated in the window that match the clients' filter.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Expected {
    /// Their seqs, ascending.
    pub seqs: Vec<u64>,
    /// Ticks evicted before the reference could read them (0 unless the history is
    /// shorter than a quarter of the read interval assumed).
    pub missed: u64,
}

impl Expected {
    /// Expected ticks per client.
    pub fn per_client(&self) -> u64 {
        self.seqs.len() as u64
    }

    /// How many of the ticks a gap notice named were expected ones.
    pub fn in_gap(&self, gap: Gap) -> u64 {
        let from = self.seqs.partition_point(|&s| s <= gap.after);
        let to = self.seqs.partition_point(|&s| s <= gap.after + gap.count);
        (to - from) as u64
    }
}

/// How often the reference must read so the history never runs out under it.
pub fn read_interval(history_ticks: usize, rate: f64) -> Duration {
    let span = Duration::from_secs_f64(history_ticks as f64 / rate.max(f64::MIN_POSITIVE));
    (span / 4).max(MIN_READ_INTERVAL)
}

/// Follow the log from `head` until `stop`, then read what is left. `head` must have
/// been read before the window began (so every tick after the window's start is after it).
pub async fn follow(
    settings: &Settings,
    window: Window,
    head: u64,
    read_every: Duration,
    stop: CancellationToken,
) -> Result<Expected, ControlError> {
    let mut expected = Expected::default();
    let mut cursor = head;
    loop {
        let last = stop.is_cancelled();
        loop {
            let params = [("since", cursor.to_string()), ("limit", PAGE_TICKS.to_string())];
            let path = settings.url("/api/poll", &params);
            let answer: PollResponse = fetch_json(&settings.target, &path).await?;
            expected.missed += answer.missed;
            let in_window = answer.ticks.iter().filter(|t| window.contains(t.ts_us));
            expected.seqs.extend(in_window.map(|t| t.seq));
            cursor = answer.next;
            if answer.ticks.len() < PAGE_TICKS {
                break;
            }
        }
        if last {
            return Ok(expected);
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(read_every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_count_only_expected_seqs() {
        let e = Expected { seqs: vec![10, 11, 12, 20, 21], missed: 0 };
        assert_eq!(e.in_gap(Gap { after: 9, count: 3 }), 3);
        assert_eq!(e.in_gap(Gap { after: 11, count: 100 }), 3);
        assert_eq!(e.in_gap(Gap { after: 0, count: 9 }), 0);
        assert_eq!(e.per_client(), 5);
    }

    #[test]
    fn reads_a_quarter_of_the_history_span() {
        assert_eq!(read_interval(4096, 20.0), Duration::from_secs_f64(51.2));
        assert_eq!(read_interval(4, 1000.0), MIN_READ_INTERVAL);
    }
}
