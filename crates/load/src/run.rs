//! One run: N clients of one transport against one server, on a fixed timeline.
//!
//! ```text
//! |-- ramp --|-- settle --|========= window =========|-- drain --|
//!  clients    all          figures are taken here      ticks of the window still
//!  connect    connected                                 in flight are received
//!                                                       (until each client is past it)
//! ```
//!
//! Server memory — its process's, and the kernel's for its sockets — is sampled before
//! any client connects and again at the end of the settle; CPU (server and load
//! generator), wire bytes and requests are sampled at the window's two edges; ticks
//! count by their `ts_us`. Every phase is a fixed length, so a run is bounded in time
//! whatever the server does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::ProgressBar;

use pushlab_contract::Stats;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::{Client, Settings};
use crate::link::RunLink;
use crate::measure::{self, Measurement, Totals, TrafficSnapshot, Window, now_us};
use crate::net::{Target, fetch_json};
use crate::procfs;
use crate::radio;
use crate::reference::{self, Expected};
use crate::results::{
    Connect, Latency, Loadgen, ReconnectFigures, Requests, RunRecord, ServerFigures, Ticks, Wire, per,
};
use crate::scenario::RunSpec;
use crate::sockdiag::{self, SocketMemory};
use pushlab_contract::Transport;

/// How long before the window the "with clients" server sample is taken.
const STATS_LEAD: Duration = Duration::from_millis(300);
/// Nominal drain, for the progress bar: a tick interval or a poll interval is typical.
const DRAIN: Duration = Duration::from_secs(1);
/// How often the drain checks whether every client has caught up.
const DRAIN_CHECK: Duration = Duration::from_millis(100);
/// Longest drain: a tick of the window not received this long after it is lost.
const MAX_DRAIN: Duration = Duration::from_secs(15);
/// How long clients get to stop once the run is over before they are abandoned.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Longest window, ramp or settle accepted: every run is bounded.
pub const MAX_PHASE: Duration = Duration::from_secs(3600);

// The run's timeline, which this module keeps.
impl RunSpec {
    fn drain(&self) -> Duration {
        match self.transport {
            Transport::Poll => DRAIN + self.knobs.poll_interval,
            _ => DRAIN,
        }
    }

    /// Wall time the run takes, for progress bars.
    pub fn total(&self) -> Duration {
        let k = &self.knobs;
        k.ramp + k.settle + k.duration + self.drain()
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
        fetch_json(&self.target, "/api/stats").await.context("reading the server's /api/stats")
    }

    /// The kernel's memory for the server's sockets now, asked on a blocking thread;
    /// `None` for a server on another machine (its sockets are not this kernel's) or
    /// when the kernel would not say (logged).
    async fn socket_memory(&self) -> Option<SocketMemory> {
        let addr = self.target.addr;
        if !addr.ip().is_loopback() {
            return None;
        }
        match tokio::task::spawn_blocking(move || sockdiag::server_sockets(addr)).await {
            Ok(Ok(found)) => Some(found),
            Ok(Err(e)) => {
                tracing::warn!("kernel socket memory not measured: sock_diag said {e}");
                None
            }
            Err(e) => {
                tracing::warn!("kernel socket memory not measured: {e}");
                None
            }
        }
    }

    /// The kernel's socket memory, then the server's stats: in that order, so the
    /// stats request's own connection is not among the sockets counted.
    async fn memory_sample(&self) -> anyhow::Result<(Stats, Option<SocketMemory>)> {
        let sockets = self.socket_memory().await;
        Ok((self.stats().await?, sockets))
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

/// What the run sampled at the window's edges and around it.
struct Samples {
    before: Stats,
    with: Stats,
    sockets_before: Option<SocketMemory>,
    sockets_with: Option<SocketMemory>,
    traffic: TrafficSnapshot,
    server_cpu: Duration,
    self_cpu: Duration,
    self_rss: u64,
    self_heap: u64,
    self_heap_before: u64,
    drain: Duration,
}

/// Run `spec` against `server` and measure it.
pub async fn run(
    spec: &RunSpec,
    server: &ServerUnderTest,
    progress: &ProgressBar,
) -> anyhow::Result<RunRecord> {
    procfs::ensure_fd_limit(spec.clients)?;
    let (before, sockets_before) = server.memory_sample().await?;
    let rate = before.ticker.rate;

    let start = Instant::now();
    let start_us = now_us();
    let k = &spec.knobs;
    let (window_start, window_end) = (k.ramp + k.settle, k.ramp + k.settle + k.duration);
    let at_us = |d: Duration| start_us + d.as_micros() as u64;
    let window = Window { start_us: at_us(window_start), end_us: at_us(window_end) };
    let measurement = Measurement::new(window);
    // After the histograms exist: their fixed ~6 MB is not a per-client cost.
    let self_heap_before = pushlab_alloc::heap_bytes();
    // Over a link, the clients connect to its emulator; control traffic stays direct.
    let mut link = k.link.as_deref().map(|l| RunLink::start(l, server.target.addr, k.seed)).transpose()?;
    let client_target =
        link.as_ref().map_or_else(|| server.target.clone(), |l| l.client_target(&server.target));
    let settings = Arc::new(Settings::new(spec.clone(), client_target));
    let stop = CancellationToken::new();
    let ticker = spawn_progress(progress, start, spec.total(), stop.clone());
    let expected = {
        let settings = settings.clone();
        let head = (before.ticker.epoch.clone(), before.ticker.head);
        let read_every = reference::read_interval(k.history, rate);
        let stop = stop.clone();
        tokio::spawn(async move { reference::follow(&settings, window, head, read_every, stop).await })
    };
    let label = |phase: &str| format!("{} × {}: {phase}", spec.clients, spec.transport);
    progress.set_message(label("ramp"));
    let clients = start_clients(spec.clients, spec.knobs.ramp, &measurement, &settings, start, &stop);

    // STATS_LEAD before the window, but never before the last client has started:
    // with a settle shorter than the lead, at the end of the ramp.
    let with_at = (start + window_start).checked_sub(STATS_LEAD).unwrap_or(start).max(start + k.ramp);
    sleep_until(with_at).await;
    // Not awaited here: a busy server may answer late, and the window's edge must not move.
    let with = tokio::spawn({
        let server = server.clone();
        async move { server.memory_sample().await }
    });
    sleep_until(start + window_start).await;
    progress.set_message(label("window"));
    // Our own figures first: asking a loaded server for its CPU (without --server-pid)
    // may take a while, and must not shift our window.
    let me = std::process::id();
    let self_cpu0 = procfs::cpu_time(me).unwrap_or_default();
    link.iter_mut().for_each(RunLink::window_starts);
    let (traffic0, server_cpu0) = (measurement.traffic(), server.cpu().await?);

    sleep_until(start + window_end).await;
    let self_cpu = procfs::cpu_time(me).unwrap_or_default().saturating_sub(self_cpu0);
    link.iter_mut().for_each(RunLink::window_ends);
    let (self_rss, self_heap) = (procfs::rss_bytes(me).unwrap_or(0), pushlab_alloc::heap_bytes());
    let (traffic1, server_cpu1) = (measurement.traffic(), server.cpu().await?);
    progress.set_message(label("drain"));
    let drain = drain(spec.clients, MAX_DRAIN, &measurement).await;

    stop.cancel();
    if tokio::time::timeout(STOP_GRACE, clients.wait()).await.is_err() {
        tracing::warn!("some clients did not stop within {STOP_GRACE:?}");
    }
    let _ = ticker.await;
    let expected = expected.await?.context("following the server's log for the expected ticks")?;
    let (with, sockets_with) = with.await??;
    let samples = Samples {
        before,
        with,
        sockets_before,
        sockets_with,
        traffic: traffic1 - traffic0,
        server_cpu: server_cpu1.saturating_sub(server_cpu0),
        self_cpu,
        self_rss,
        self_heap,
        self_heap_before,
        drain,
    };
    let mut record = record(spec, server, &measurement, &expected, samples);
    record.link = link.map(|l| l.record(record.window_s));
    record.radio = Some(radio::figures(&measurement.activity_timelines(), window.start_us, window.end_us));
    Ok(record)
}

/// Spawn `count` clients, their connects spread evenly over `ramp`: no connect storm.
pub(crate) fn start_clients(
    count: usize,
    ramp: Duration,
    measurement: &Arc<Measurement>,
    settings: &Arc<Settings>,
    start: Instant,
    stop: &CancellationToken,
) -> TaskTracker {
    let clients = TaskTracker::new();
    for index in 0..count {
        let client = Client::new(index, settings.clone(), measurement.probe(index), stop.clone());
        let at = start + ramp.mul_f64(index as f64 / count as f64);
        let stop = stop.clone();
        clients.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = sleep_until(at) => client.run().await,
            }
        });
    }
    clients.close();
    clients
}

/// Wait for the window's last ticks: until every client has received a tick scheduled
/// after the window (streams arrive in order, so it has everything before it) or has
/// given up, at most `longest` ([`MAX_DRAIN`]). A client lagging seconds behind thus
/// shows up as latency, not loss; a tick still missing after the bound is lost. (A
/// quiet feed with a narrow symbol filter, or a client that cannot reconnect, waits
/// the whole bound.)
pub(crate) async fn drain(clients: usize, longest: Duration, measurement: &Measurement) -> Duration {
    let began = Instant::now();
    while measurement.settled() < clients as u64 && began.elapsed() < longest {
        tokio::time::sleep(DRAIN_CHECK).await;
    }
    began.elapsed()
}

fn record(
    spec: &RunSpec,
    server: &ServerUnderTest,
    measurement: &Measurement,
    expected: &Expected,
    s: Samples,
) -> RunRecord {
    let totals = measurement.totals();
    let n = spec.clients as u64;
    let Accounted { ticks, errors, reconnect } = account_ticks(&totals, measurement, expected, n);
    let delivered = ticks.delivered;
    let cpu_s = s.server_cpu.as_secs_f64();
    let (b, w) = (&s.before.process, &s.with.process);
    let delta = |after: u64, before: u64| per(after as f64 - before as f64, n);
    let window_s = measurement.window.seconds();
    let traffic = s.traffic;
    RunRecord {
        transport: spec.transport,
        clients: spec.clients,
        rate: s.before.ticker.rate,
        poll_interval_ms: spec.knobs.poll_interval.as_millis() as u64,
        coalesce_ms: None, // `compare` knows it: it started the server
        keepalive_ms: None,

        window_s,
        drain_s: s.drain.as_secs_f64(),
        latency_us: Latency::from(&totals.latency_us),
        ticks,
        reconnect,
        requests: Requests {
            total: traffic.requests,
            per_client_per_min: per(traffic.requests as f64 * 60.0 / window_s, n),
            empty: traffic.empty,
            late: traffic.late,
        },
        wire: Wire {
            bytes_read: traffic.bytes_read,
            bytes_written: traffic.bytes_written,
            bytes_per_tick: per((traffic.bytes_read + traffic.bytes_written) as f64, delivered),
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
            // The sum over the server's sockets with all connected, not a delta: each
            // socket is measured, so nothing of other programs' is in it to subtract.
            tcp_mem_per_conn_bytes: s.sockets_with.filter(|_| n > 0).map(|m| m.bytes as f64 / n as f64),
            tcp_mem_before_bytes: s.sockets_before.map(|m| m.bytes),
            tcp_mem_with_clients_bytes: s.sockets_with.map(|m| m.bytes),
            tcp_sockets_before: s.sockets_before.map(|m| m.sockets),
            tcp_sockets_with_clients: s.sockets_with.map(|m| m.sockets),
            tcp_socket_slab_bytes: sockdiag::tcp_socket_slab_bytes(server.target.addr),
            // Needs the calibration: filled in by `Results::new`.
            cpu_per_tick_sends: None,
            cpu_source: if server.pid.is_some() { "proc" } else { "stats" }.into(),
        },
        connect: Connect::of(&totals.connect_us, &totals.first_tick_us),
        errors,
        loadgen: Loadgen {
            cpu_s: s.self_cpu.as_secs_f64(),
            cpu_pct: s.self_cpu.as_secs_f64() / window_s * 100.0,
            rss_bytes: s.self_rss,
            heap_bytes: s.self_heap,
            heap_per_client_bytes: delta(s.self_heap, s.self_heap_before),
            host_load_1m: procfs::load_average(),
        },
        // Filled in by `run`, which holds the link and the timelines.
        link: None,
        radio: None,
    }
}

/// A run's tick accounting, its errors and how its clients reconnected.
pub(crate) struct Accounted {
    pub ticks: Ticks,
    pub errors: BTreeMap<String, u64>,
    pub reconnect: ReconnectFigures,
}

/// Hold what `n` clients received against the reference, within each epoch
/// (`measure::epochs`), and gather the error and reconnect counts.
pub(crate) fn account_ticks(
    totals: &Totals,
    measurement: &Measurement,
    expected: &Expected,
    n: u64,
) -> Accounted {
    let missing = n.saturating_sub(totals.clients_reported);
    let a = measure::account(&totals.logs, expected, missing);
    let mut errors: BTreeMap<String, u64> = totals.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    if expected.missed > 0 {
        // The reference itself fell out of the history: `lost` would be a guess.
        errors.insert("expected_incomplete".into(), expected.missed);
    }
    if a.unexpected > 0 {
        // Impossible if both are right: say so rather than hide it.
        errors.insert("delivered_exceeds_expected".into(), a.unexpected);
    }
    if missing > 0 {
        errors.insert("clients_not_stopped".into(), missing);
    }
    let ticks = Ticks {
        delivered: totals.delivered,
        expected: a.expected,
        lost: a.lost,
        duplicates: totals.duplicates,
        out_of_order: totals.out_of_order,
        gap_missed: a.gap_missed,
        expected_per_client: expected.per_client(),
    };
    let count = |kind: &str| totals.errors.get(kind).copied().unwrap_or(0);
    let reconnect = ReconnectFigures {
        attempts: measurement.reconnects(),
        refused: count("connect_refused"),
        status_503: count("status_503"),
        resets: totals.resets,
        ended: totals.ended,
    };
    Accounted { ticks, errors, reconnect }
}

/// Move the bar with the clock until the run is cancelled.
pub(crate) fn spawn_progress(
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
