//! One run: N clients of one transport against one server, on a fixed timeline.
//!
//! ```text
//! |-- ramp --|-- settle --|========= window =========|-- drain --|
//!  clients    all          figures are taken here      ticks of the window still
//!  connect    connected                                 in flight are received
//! ```
//!
//! Server memory is sampled before any client connects and again at the end of the
//! settle; CPU (server and load generator), wire bytes and requests are sampled at the
//! window's two edges; ticks count by their `ts_us`. Every phase is a fixed length, so a
//! run is bounded in time whatever the server does.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::ProgressBar;
use pushlab_wire::Stats;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::{Client, Settings};
use crate::measure::{Measurement, Window, now_us};
use crate::net::{Target, fetch_json};
use crate::procfs;
use crate::reference;
use crate::results::{
    Connect, Latency, Loadgen, Requests, RunRecord, ServerFigures, Ticks, Wire, per,
};
use crate::scenario::Transport;

/// How long before the window the "with clients" server sample is taken.
const STATS_LEAD: Duration = Duration::from_millis(300);
/// Time after the window for its last ticks to arrive (plus one poll interval for polling).
const DRAIN: Duration = Duration::from_secs(1);
/// How long clients get to stop once the run is over before they are abandoned.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Longest window, ramp or settle accepted: every run is bounded.
pub const MAX_PHASE: Duration = Duration::from_secs(3600);

/// What one run does.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub transport: Transport,
    pub clients: usize,
    pub poll_interval: Duration,
    pub long_poll_timeout_ms: u64,
    pub ramp: Duration,
    pub settle: Duration,
    pub duration: Duration,
    pub symbols: Option<Vec<String>>,
    /// The server's `--history`, so the reference reads often enough.
    pub history: usize,
}

impl RunSpec {
    fn drain(&self) -> Duration {
        match self.transport {
            Transport::Poll => DRAIN + self.poll_interval,
            _ => DRAIN,
        }
    }

    /// Wall time the run takes, for progress bars.
    pub fn total(&self) -> Duration {
        self.ramp + self.settle + self.duration + self.drain()
    }
}

/// The server under load; `pid` when this process started it (CPU from `/proc`).
#[derive(Debug, Clone)]
pub struct ServerUnderTest {
    pub target: Target,
    pub pid: Option<u32>,
}

impl ServerUnderTest {
    async fn stats(&self) -> anyhow::Result<Stats> {
        fetch_json(&self.target, "/api/stats")
            .await
            .context("reading the server's /api/stats")
    }

    /// Server CPU so far: from `/proc` when we know the pid, else from its stats.
    async fn cpu(&self) -> anyhow::Result<Duration> {
        if let Some(cpu) = self.pid.and_then(procfs::cpu_time) {
            return Ok(cpu);
        }
        let p = self.stats().await?.process;
        Ok(Duration::from_secs_f64(p.cpu_user_s + p.cpu_sys_s))
    }
}

/// Run `spec` against `server` and measure it.
pub async fn run(
    spec: &RunSpec,
    server: &ServerUnderTest,
    progress: &ProgressBar,
) -> anyhow::Result<RunRecord> {
    procfs::ensure_fd_limit(spec.clients)?;
    let before = server.stats().await?;
    let rate = before.ticker.rate;

    let start = Instant::now();
    let start_us = now_us();
    let window_start = spec.ramp + spec.settle;
    let window_end = window_start + spec.duration;
    let drain_end = start + window_end + spec.drain();
    let at_us = |d: Duration| start_us + d.as_micros() as u64;
    let window = Window {
        start_us: at_us(window_start),
        end_us: at_us(window_end),
    };

    let measurement = Measurement::new(window);
    let settings = Arc::new(Settings {
        target: server.target.clone(),
        transport: spec.transport,
        poll_interval: spec.poll_interval,
        long_poll_timeout_ms: spec.long_poll_timeout_ms,
        symbols: spec.symbols.as_ref().map(|s| s.join(",")),
    });
    let cancel = CancellationToken::new();
    let clients = TaskTracker::new();
    let ticker = spawn_progress(progress, start, spec.total(), cancel.clone());
    progress.set_message(format!("{} × {}: ramp", spec.clients, spec.transport));
    for index in 0..spec.clients {
        let client = Client {
            index,
            settings: settings.clone(),
            probe: measurement.probe(index),
            cancel: cancel.clone(),
        };
        // Spread connects evenly over the ramp: no connect storm, no accept backlog.
        let at = start + spec.ramp.mul_f64(index as f64 / spec.clients as f64);
        let cancel = cancel.clone();
        clients.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = sleep_until(at) => client.run().await,
            }
        });
    }
    clients.close();

    sleep_until(
        (start + window_start)
            .checked_sub(STATS_LEAD)
            .unwrap_or(start),
    )
    .await;
    progress.set_message(format!("{} × {}: window", spec.clients, spec.transport));
    let with = server.stats().await?;
    let read_every = reference::read_interval(spec.history, rate);
    let expected = {
        let (settings, head) = (settings.clone(), with.ticker.head);
        tokio::spawn(async move {
            reference::follow(&settings, window, head, read_every, drain_end).await
        })
    };

    sleep_until(start + window_start).await;
    let (traffic0, server_cpu0) = (measurement.traffic(), server.cpu().await?);
    let me = std::process::id();
    let self_cpu0 = procfs::cpu_time(me).unwrap_or_default();

    sleep_until(start + window_end).await;
    let (traffic1, server_cpu1) = (measurement.traffic(), server.cpu().await?);
    let self_cpu = procfs::cpu_time(me)
        .unwrap_or_default()
        .saturating_sub(self_cpu0);
    let self_rss = procfs::rss_bytes(me).unwrap_or(0);
    progress.set_message(format!("{} × {}: drain", spec.clients, spec.transport));

    sleep_until(drain_end).await;
    cancel.cancel();
    if tokio::time::timeout(STOP_GRACE, clients.wait())
        .await
        .is_err()
    {
        tracing::warn!("some clients did not stop within {STOP_GRACE:?}");
    }
    let _ = ticker.await;
    let expected = expected
        .await?
        .context("following the server's log for the expected ticks")?;

    let totals = measurement.totals();
    let traffic = traffic1 - traffic0;
    let n = spec.clients as u64;
    let delivered = totals.delivered;
    let expected_total = expected.per_client() * n;
    let mut errors: std::collections::BTreeMap<String, u64> = totals
        .errors
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    if expected.missed > 0 {
        // The reference itself fell out of the history: `lost` would be a guess.
        errors.insert("expected_incomplete".into(), expected.missed);
    }
    let cpu_s = server_cpu1.saturating_sub(server_cpu0).as_secs_f64();
    let (b, w) = (&before.process, &with.process);
    let delta = |after: u64, before: u64| per(after as f64 - before as f64, n);
    let window_s = window.seconds();
    Ok(RunRecord {
        transport: spec.transport,
        clients: spec.clients,
        rate,
        poll_interval_ms: spec.poll_interval.as_millis() as u64,
        window_s,
        latency_us: Latency::from(&totals.latency_us),
        ticks: Ticks {
            delivered,
            expected: expected_total,
            lost: expected_total.saturating_sub(delivered),
            duplicates: totals.duplicates,
            out_of_order: totals.out_of_order,
            gap_missed: totals.gaps.iter().map(|&g| expected.in_gap(g)).sum(),
            expected_per_client: expected.per_client(),
        },
        requests: Requests {
            total: traffic.requests,
            per_client_per_min: per(traffic.requests as f64 * 60.0 / window_s, n),
            empty: totals.empty,
            late: totals.late,
        },
        wire: Wire {
            bytes_read: traffic.bytes_read,
            bytes_written: traffic.bytes_written,
            bytes_per_tick: per(
                (traffic.bytes_read + traffic.bytes_written) as f64,
                delivered,
            ),
        },
        server: ServerFigures {
            cpu_s,
            cpu_us_per_tick: per(cpu_s * 1e6, delivered),
            rss_before_bytes: b.rss_bytes,
            rss_with_clients_bytes: w.rss_bytes,
            heap_before_bytes: b.heap_bytes,
            heap_with_clients_bytes: w.heap_bytes,
            rss_per_conn_bytes: delta(w.rss_bytes, b.rss_bytes),
            heap_per_conn_bytes: delta(w.heap_bytes, b.heap_bytes),
            tcp_mem_per_conn_bytes: delta(with.kernel.tcp_mem_bytes, before.kernel.tcp_mem_bytes),
            tcp_mem_before_bytes: before.kernel.tcp_mem_bytes,
            tcp_mem_with_clients_bytes: with.kernel.tcp_mem_bytes,
            cpu_source: if server.pid.is_some() {
                "proc"
            } else {
                "stats"
            }
            .into(),
        },
        connect: Connect::from(&totals.connect_us),
        errors,
        loadgen: Loadgen {
            cpu_s: self_cpu.as_secs_f64(),
            cpu_pct: self_cpu.as_secs_f64() / window_s * 100.0,
            rss_bytes: self_rss,
        },
    })
}

/// Move the bar with the clock until the run is cancelled.
fn spawn_progress(
    bar: &ProgressBar,
    start: Instant,
    total: Duration,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    const REDRAW: Duration = Duration::from_millis(250);
    let bar = bar.clone();
    bar.set_length(total.as_millis() as u64);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REDRAW);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => bar.set_position(start.elapsed().as_millis() as u64),
            }
        }
    })
}
