//! The real client beside the attackers: how long it waited, and whether it got in.
//!
//! Two probes, each every `--probe-interval`, half an interval apart, each on a fresh
//! connection as a page that has just loaded would make:
//!
//! - **poll**: `GET /api/poll`, from the connect to the whole answer;
//! - **SSE**: `GET /api/sse` from a cursor a tick behind the head (the last sample's),
//!   from the connect to the first `data:` line. From that cursor the first event is
//!   sent at once, so the wait is the server's, not the feed's next tick.
//!
//! Each starts on its schedule, whether or not the one before was answered: a server
//! that locks clients out for 10 s then shows 10 s of failed probes, where a probe that
//! waited for the last would show one (coordinated omission). An attempt not answered
//! within [`PROBE_TIMEOUT`] fails as `timed out`; one the server closed before answering
//! (at its cap) as `closed unanswered`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::task::TaskTracker;

use super::sample::{Clock, FeedCursor};
use crate::net::{self, Target};

/// How long one probe may wait for its answer before it fails as `timed out`.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an SSE answer read while looking for its first event: `retry:` and an
/// event are well under it.
const SSE_LOOK_BYTES: usize = 64 * 1024;
/// What a probe closed by the server before any answer fails as.
pub const CLOSED_UNANSWERED: &str = "closed unanswered";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    Poll,
    Sse,
}

/// One probe's attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub kind: ProbeKind,
    /// When it started, ms from the attack's start (negative before it).
    pub t_ms: i64,
    /// From its connect to its answer (or its failure), µs.
    pub wait_us: u64,
    /// Why it got no answer; absent when it got one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// Probes until the clock's deadline, then waits for those still out (each at most
/// [`PROBE_TIMEOUT`]); returns every attempt in the order they started.
pub async fn run(
    target: Target,
    interval: Duration,
    clock: Clock,
    cursor: watch::Receiver<FeedCursor>,
) -> Vec<Attempt> {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let tracker = TaskTracker::new();
    // Every half interval, the two kinds in turn: each every interval, never together.
    let mut tick = tokio::time::interval(interval / 2);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    for kind in [ProbeKind::Poll, ProbeKind::Sse].into_iter().cycle() {
        tokio::select! {
            _ = tick.tick() => {}
            () = tokio::time::sleep_until(clock.deadline) => break,
        }
        let (target, attempts) = (target.clone(), attempts.clone());
        let from = cursor.borrow().clone();
        tracker.spawn(async move {
            let started = Instant::now();
            let outcome = match tokio::time::timeout(PROBE_TIMEOUT, probe(kind, &target, from)).await {
                Ok(outcome) => outcome,
                Err(_) => Err("timed out".to_string()),
            };
            let attempt = Attempt {
                kind,
                t_ms: clock.ms(started),
                wait_us: started.elapsed().as_micros() as u64,
                failure: outcome.err(),
            };
            attempts.lock().expect("attempts poisoned").push(attempt);
        });
    }
    tracker.close();
    tracker.wait().await;
    let mut attempts = std::mem::take(&mut *attempts.lock().expect("attempts poisoned"));
    attempts.sort_by_key(|a| a.t_ms);
    attempts
}

/// One attempt, on a connection of its own.
async fn probe(kind: ProbeKind, target: &Target, from: FeedCursor) -> Result<(), String> {
    let stream = TcpStream::connect(target.addr).await.map_err(|e| format!("connect: {}", e.kind()))?;
    let mut sender = net::http1(stream).await.map_err(http_failure)?;
    let path = match (kind, from) {
        (ProbeKind::Poll, _) => "/api/poll".to_string(),
        (ProbeKind::Sse, Some((epoch, head))) => {
            format!("/api/sse?last_event_id={epoch}-{}", head.saturating_sub(1))
        }
        (ProbeKind::Sse, None) => "/api/sse".to_string(),
    };
    let request = net::get(target, &path).body(Empty::<Bytes>::new()).expect("a valid request");
    let response = sender.send_request(request).await.map_err(http_failure)?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status().as_u16()));
    }
    let mut body = response.into_body();
    if kind == ProbeKind::Poll {
        body.collect().await.map_err(http_failure)?;
        return Ok(());
    }
    let mut seen = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame.map_err(http_failure)?.data_ref() {
            seen.extend_from_slice(data);
            if seen.starts_with(b"data:") || seen.windows(6).any(|w| w == b"\ndata:") {
                return Ok(());
            }
            if seen.len() > SSE_LOOK_BYTES {
                return Err("no event in the first 64 kB".into());
            }
        }
    }
    Err("the stream ended before an event".into())
}

/// What a failed exchange reads as: the server closing on us before answering (at the
/// cap) is one kind, whatever hyper calls it.
fn http_failure(e: hyper::Error) -> String {
    use std::error::Error as _;
    let closed = |kind: std::io::ErrorKind| {
        use std::io::ErrorKind::*;
        matches!(kind, ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
    };
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && closed(io.kind())
        {
            return CLOSED_UNANSWERED.into();
        }
        source = cause.source();
    }
    if e.is_incomplete_message() || e.is_canceled() { CLOSED_UNANSWERED.into() } else { e.to_string() }
}
