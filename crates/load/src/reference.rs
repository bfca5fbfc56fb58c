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
//!
//! A fault run restarts the server under it: the reference then reads every 100 ms
//! (so it has the old run's ticks up to its end, less at most that), rides out the
//! outage, and follows the new run from its reset, each epoch's ticks kept apart.

use std::time::Duration;

use pushlab_contract::PollResponse;
use pushlab_contract::limits::LIMIT_RANGE;
use tokio_util::sync::CancellationToken;

use crate::clients::Settings;
use crate::measure::Window;
use crate::net::{ControlError, fetch_json};

/// Ticks per reference read (the server's `limit` maximum).
const PAGE_TICKS: usize = *LIMIT_RANGE.end() as usize;
/// Never read more often than this, however short the history.
const MIN_READ_INTERVAL: Duration = Duration::from_millis(20);

/// The ticks generated in the window that match the clients' filter, per epoch.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Expected {
    /// Every run of the log the reference read, in the order it met them: one, unless
    /// the server was restarted under it.
    pub epochs: Vec<EpochTicks>,
    /// Ticks evicted before the reference could read them (0 unless the history is
    /// shorter than a quarter of the read interval assumed).
    pub missed: u64,
}

/// The window's ticks of one epoch.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EpochTicks {
    /// The epoch as the server named it (empty from a server without epochs).
    pub epoch: String,
    /// The seqs of the window's ticks, ascending.
    pub seqs: Vec<u64>,
    /// The highest seq the reference read of this epoch, in or out of the window: what
    /// it knows about goes this far.
    pub last_seq: u64,
}

impl Expected {
    /// Expected ticks per client: every epoch's window ticks.
    pub fn per_client(&self) -> u64 {
        self.epochs.iter().map(|e| e.seqs.len() as u64).sum()
    }

    /// Take one answer to the cursor `asked` (of epoch `asked_epoch`): a reset, or an
    /// epoch other than the one asked about, starts a new epoch.
    fn take(&mut self, window: Window, asked_epoch: Option<&str>, answer: &PollResponse) {
        let same = asked_epoch.is_none_or(|e| e == answer.epoch) && !answer.reset;
        if self.epochs.is_empty() || !same {
            self.epochs.push(EpochTicks { epoch: answer.epoch.clone(), ..EpochTicks::default() });
        }
        let current = self.epochs.last_mut().expect("pushed above");
        self.missed += answer.missed;
        current.seqs.extend(answer.ticks.iter().filter(|t| window.contains(t.ts_us)).map(|t| t.seq));
        current.last_seq = current.last_seq.max(answer.next);
    }
}

/// How often the reference must read so the history never runs out under it.
pub fn read_interval(history_ticks: usize, rate: f64) -> Duration {
    let span = Duration::from_secs_f64(history_ticks as f64 / rate.max(f64::MIN_POSITIVE));
    (span / 4).max(MIN_READ_INTERVAL)
}

/// Follow the log from `head` (of `epoch`, empty if the server names none) until
/// `stop`, then read what is left. `head` must have been read before the window began
/// (so every tick after the window's start is after it).
///
/// A read that fails (the server is down: a fault run restarts it under us) is tried
/// again at the next interval; only the last read, after `stop`, must succeed.
pub async fn follow(
    settings: &Settings,
    window: Window,
    (epoch, head): (String, u64),
    read_every: Duration,
    stop: CancellationToken,
) -> Result<Expected, ControlError> {
    let mut expected = Expected::default();
    let mut cursor = (Some(epoch).filter(|e| !e.is_empty()), head);
    loop {
        let last = stop.is_cancelled();
        match read_all(settings, window, &mut cursor, &mut expected).await {
            Ok(()) => {}
            Err(e) if last => return Err(e),
            Err(e) => tracing::debug!("reference read failed, trying again: {e}"),
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

/// Read pages from `cursor` until the log's head.
async fn read_all(
    settings: &Settings,
    window: Window,
    cursor: &mut (Option<String>, u64),
    expected: &mut Expected,
) -> Result<(), ControlError> {
    loop {
        let since = match &cursor.0 {
            Some(epoch) => format!("{epoch}-{}", cursor.1),
            None => cursor.1.to_string(),
        };
        let params = [("since", since), ("limit", PAGE_TICKS.to_string())];
        let answer: PollResponse = fetch_json(&settings.target, &settings.url("/api/poll", &params)).await?;
        expected.take(window, cursor.0.as_deref(), &answer);
        *cursor = (Some(answer.epoch.clone()).filter(|e| !e.is_empty()), answer.next);
        if answer.ticks.len() < PAGE_TICKS {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab_contract::Tick;

    fn answer(epoch: &str, seqs: &[u64], next: u64, reset: bool) -> PollResponse {
        let tick = |&seq: &u64| Tick { seq, symbol: "ACME".into(), price: 1.0, ts_us: seq * 10, pad: None };
        PollResponse { ticks: seqs.iter().map(tick).collect(), next, missed: 0, epoch: epoch.into(), reset }
    }

    #[test]
    fn a_reset_starts_a_new_epoch() {
        let window = Window { start_us: 20, end_us: 1000 };
        let mut e = Expected::default();
        e.take(window, None, &answer("aaaa", &[1, 2, 3], 3, false));
        e.take(window, Some("aaaa"), &answer("aaaa", &[4], 5, false));
        e.take(window, Some("aaaa"), &answer("bbbb", &[1, 2], 2, true));
        assert_eq!(
            e.epochs,
            [
                EpochTicks { epoch: "aaaa".into(), seqs: vec![2, 3, 4], last_seq: 5 },
                EpochTicks { epoch: "bbbb".into(), seqs: vec![2], last_seq: 2 },
            ]
        );
        assert_eq!(e.per_client(), 4);
    }

    #[test]
    fn reads_a_quarter_of_the_history_span() {
        assert_eq!(read_interval(4096, 20.0), Duration::from_secs_f64(51.2));
        assert_eq!(read_interval(4, 1000.0), MIN_READ_INTERVAL);
    }
}
