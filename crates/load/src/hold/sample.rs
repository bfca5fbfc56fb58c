//! The server's side of a hold, from its `/api/stats`, every `--sample-interval`.
//!
//! Over one keep-alive connection opened before the attack: at the cap a new connection
//! is closed at accept, so a sampler that connected afresh each time would go blind
//! exactly while the server is full. If that connection breaks anyway, the next sample
//! tries a new one, and a sample that fails is counted, not guessed.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use pushlab_contract::Stats;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use super::attack::Ledger;
use crate::net::{self, CONNECT_TIMEOUT, HttpSender, Target};

/// How long one sample may take before it counts as failed: well past a busy server's
/// answer, well short of the hold.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where a hold is in time: the attack runs from `start` to `deadline`; probing and
/// sampling start a [`super::BASELINE`] before it.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub start: Instant,
    pub deadline: Instant,
}

impl Clock {
    /// `at` in ms from the attack's start (negative before it).
    pub fn ms(&self, at: Instant) -> i64 {
        if at >= self.start {
            (at - self.start).as_millis() as i64
        } else {
            -((self.start - at).as_millis() as i64)
        }
    }
}

/// One look at the server, and at our own sockets at the same moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When the answer came, ms from the attack's start.
    pub t_ms: i64,
    /// `connections.*` of `/api/stats`.
    pub open: u64,
    pub accepted: u64,
    pub refused_at_cap: u64,
    pub header_timeouts: u64,
    pub idle_timeouts: u64,
    /// `process.open_fds` (absent when the server cannot read `/proc/self/fd`).
    pub open_fds: Option<u64>,
    /// Our attacking sockets still open.
    pub ours_open: u64,
}

/// The samples of one hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    pub taken: Vec<Sample>,
    pub failed: u64,
}

/// The server's feed position (epoch, head) at the last sample: where the SSE probe
/// asks to start, so its first event is there at once.
pub type FeedCursor = Option<(String, u64)>;

/// A keep-alive connection to `/api/stats`.
pub struct Sampler {
    target: Target,
    sender: Option<HttpSender>,
}

impl Sampler {
    /// Connects and takes one sample, so a server that is not there fails the hold now.
    pub async fn connect(target: &Target) -> anyhow::Result<Self> {
        let mut sampler = Sampler { target: target.clone(), sender: None };
        sampler.stats().await.map_err(anyhow::Error::msg)?;
        Ok(sampler)
    }

    /// `/api/stats` over the kept connection (a new one if it broke).
    async fn stats(&mut self) -> Result<Stats, String> {
        let answer = tokio::time::timeout(SAMPLE_TIMEOUT, self.stats_once()).await;
        let result = answer.unwrap_or_else(|_| Err("timed out".into()));
        if result.is_err() {
            // Whatever state it is in, it is not one to send the next request on.
            self.sender = None;
        }
        result
    }

    async fn stats_once(&mut self) -> Result<Stats, String> {
        if self.sender.is_none() {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.target.addr))
                .await
                .map_err(|_| "connect timed out".to_string())?
                .map_err(|e| e.to_string())?;
            self.sender = Some(net::http1(stream).await.map_err(|e| e.to_string())?);
        }
        let sender = self.sender.as_mut().expect("just connected");
        sender.ready().await.map_err(|e| e.to_string())?;
        let request =
            net::get(&self.target, "/api/stats").body(Empty::<Bytes>::new()).expect("a valid request");
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    }

    /// Samples every `interval` until the clock's deadline, publishing the feed's
    /// position for the SSE probe.
    pub async fn run(
        mut self,
        interval: Duration,
        clock: Clock,
        ledger: Arc<Ledger>,
        cursor: watch::Sender<FeedCursor>,
    ) -> Samples {
        let mut samples = Samples::default();
        let mut tick = tokio::time::interval(interval);
        // A slow answer delays the next sample; it does not bring a burst of them.
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = tokio::time::sleep_until(clock.deadline) => break,
            }
            match self.stats().await {
                Ok(stats) => {
                    let at = Instant::now();
                    cursor.send_replace(Some((stats.ticker.epoch.clone(), stats.ticker.head)));
                    samples.taken.push(Sample::of(&stats, clock.ms(at), ledger.open_now()));
                }
                Err(e) => {
                    tracing::debug!("sample failed: {e}");
                    samples.failed += 1;
                }
            }
        }
        samples
    }
}

impl Sample {
    fn of(stats: &Stats, t_ms: i64, ours_open: u64) -> Self {
        let c = &stats.connections;
        Sample {
            t_ms,
            open: c.open,
            accepted: c.accepted,
            refused_at_cap: c.refused_at_cap,
            header_timeouts: c.header_timeouts,
            idle_timeouts: c.idle_timeouts,
            open_fds: stats.process.open_fds,
            ours_open,
        }
    }
}

/// The kernel's count of connections dropped because a listen queue was full
/// (`TcpExt: ListenOverflows` in `/proc/net/netstat`), for every listener in this
/// network namespace: a connect dropped so is retried by its SYN 1 s later.
pub fn listen_overflows() -> Option<u64> {
    parse_listen_overflows(&std::fs::read_to_string("/proc/net/netstat").ok()?)
}

/// `ListenOverflows` from the text of `/proc/net/netstat`: a line of names, then a
/// line of values, per group.
fn parse_listen_overflows(netstat: &str) -> Option<u64> {
    let mut lines = netstat.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        if !names.starts_with("TcpExt:") {
            continue;
        }
        let at = names.split_whitespace().position(|n| n == "ListenOverflows")?;
        return values.split_whitespace().nth(at)?.parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listen_overflows_from_netstat() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 3 8230 8231\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        assert_eq!(parse_listen_overflows(text), Some(8230));
        assert_eq!(parse_listen_overflows("IpExt: A\nIpExt: 1\n"), None);
        assert!(listen_overflows().is_some(), "this machine's /proc/net/netstat");
    }

    #[test]
    fn times_are_ms_from_the_attack_s_start() {
        let start = Instant::now();
        let clock = Clock { start, deadline: start + Duration::from_secs(1) };
        assert_eq!(clock.ms(start + Duration::from_millis(1500)), 1500);
        assert_eq!(clock.ms(start - Duration::from_millis(250)), -250);
    }
}
