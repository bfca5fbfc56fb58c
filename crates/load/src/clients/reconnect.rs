//! How long a client waits before it tries again, as real clients do.
//!
//! - SSE waits the `retry:` its server last sent (as `EventSource` does; [`SSE_RETRY_MS`]
//!   until one arrives). A browser adds no jitter: 5,000 streams dropped together come
//!   back together, one `retry` later, unless the server spreads them.
//! - WebSocket, long-poll and poll back off exponentially with *full jitter*: attempt
//!   *n* after a failure waits a uniform random time in `[0, min(cap, base · 2ⁿ⁻¹)]`
//!   (the AWS Architecture Blog's "Exponential Backoff And Jitter"), so a crowd that
//!   lost its server at one instant returns spread out, and a server that stays down
//!   is asked less and less often.
//!
//! `--reconnect fixed` is the naive client: [`FIXED_DELAY`] every time, no jitter — a
//! thundering herd, for comparison. A poll's fixed delay is its own schedule (its next
//! slot), as before. `--reconnect none` does not come back: the client counts as ended.

use std::time::Duration;

use pushlab_contract::Transport;
use pushlab_contract::limits::SSE_RETRY_MS;
use serde::{Deserialize, Serialize};

/// Full jitter's first bound: the first retry comes within this.
pub const BACKOFF_BASE: Duration = Duration::from_millis(1000);
/// Full jitter's largest bound, however many attempts failed.
pub const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// `--reconnect fixed`'s one delay: the `retry:` the server asks `EventSource` for.
pub const FIXED_DELAY: Duration = Duration::from_millis(SSE_RETRY_MS);
/// An SSE stream's reconnect delay until its server sends `retry:`.
pub const SSE_RETRY_DEFAULT: Duration = Duration::from_millis(SSE_RETRY_MS);

/// `--reconnect`: how the clients come back after a broken connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Reconnect {
    /// SSE after the server's `retry:`; the others exponential back-off, full jitter.
    #[default]
    Jitter,
    /// A constant delay, no jitter (a thundering herd; the only way before this flag).
    Fixed,
    /// No reconnect: a client whose connection breaks ends.
    None,
}

impl Reconnect {
    /// What a results file written before the flag existed did: a fixed delay.
    pub fn before_the_flag() -> Self {
        Reconnect::Fixed
    }

    pub fn is_before_the_flag(&self) -> bool {
        *self == Self::before_the_flag()
    }

    pub fn name(self) -> &'static str {
        match self {
            Reconnect::Jitter => "jitter",
            Reconnect::Fixed => "fixed",
            Reconnect::None => "none",
        }
    }
}

impl std::fmt::Display for Reconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The wait before the next attempt of a `transport` client after `failures` failures
/// in a row (1 for the first), `None` if it does not come back. `sse_retry` is the
/// stream's last `retry:`; `random` is uniform in `[0, 1)`.
pub fn delay(
    policy: Reconnect,
    transport: Transport,
    failures: u32,
    sse_retry: Duration,
    random: f64,
) -> Option<Duration> {
    match (policy, transport) {
        (Reconnect::None, _) => None,
        (Reconnect::Jitter, Transport::Sse) => Some(sse_retry),
        (Reconnect::Jitter, _) => {
            let doublings = failures.saturating_sub(1).min(31);
            let bound = BACKOFF_BASE.saturating_mul(1 << doublings).min(BACKOFF_CAP);
            Some(bound.mul_f64(random.clamp(0.0, 1.0)))
        }
        // The schedule is a poll's retry: its next slot.
        (Reconnect::Fixed, Transport::Poll) => Some(Duration::ZERO),
        (Reconnect::Fixed, _) => Some(FIXED_DELAY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn full_jitter_doubles_its_bound_up_to_the_cap() {
        let bound = |failures| delay(Reconnect::Jitter, Transport::Ws, failures, S, 1.0).unwrap();
        assert_eq!([1, 2, 3, 4, 5, 6, 7, 40].map(bound), [1, 2, 4, 8, 16, 30, 30, 30].map(|s| s * S));
        assert_eq!(delay(Reconnect::Jitter, Transport::LongPoll, 3, S, 0.25), Some(S));
        assert_eq!(delay(Reconnect::Jitter, Transport::Poll, 1, S, 0.0), Some(Duration::ZERO));
    }

    #[test]
    fn sse_waits_its_servers_retry_and_fixed_waits_the_constant() {
        let retry = Duration::from_millis(250);
        assert_eq!(delay(Reconnect::Jitter, Transport::Sse, 9, retry, 0.7), Some(retry));
        for t in [Transport::Sse, Transport::Ws, Transport::LongPoll] {
            assert_eq!(delay(Reconnect::Fixed, t, 3, retry, 0.7), Some(FIXED_DELAY));
        }
        assert_eq!(delay(Reconnect::Fixed, Transport::Poll, 3, retry, 0.7), Some(Duration::ZERO));
        for t in Transport::ALL {
            assert_eq!(delay(Reconnect::None, t, 1, retry, 0.7), None);
        }
    }
}
