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
use crate::measure::{Measurement, TrafficSnapshot, Window, now_us};
use crate::net::{Target, fetch_json};
use crate::procfs;
use crate::proxy::{self, RunProxy};
use crate::radio;
use crate::reference::{self};
use crate::results::RunRecord;
use crate::scenario::RunSpec;
use crate::sockdiag::{self, SocketMemory};
use pushlab_contract::Transport;

mod record;
pub(crate) use record::account_ticks;
use record::record;

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
    /// when the kernel would not say (logged). A server on the netem path's veth is
    /// this machine's.
    async fn socket_memory(&self) -> Option<SocketMemory> {
        let addr = self.target.addr;
        if !addr.ip().is_loopback() && self.target.via.is_none() {
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
    Ok(run_measured(spec, server, &Options::default(), progress).await?.record)
}

/// What a worker process hands its parent (`--workers`): the record, and what the
/// record cannot carry exactly — the histograms themselves, and the failover counts.
#[derive(Debug)]
pub struct Measured {
    pub record: RunRecord,
    pub totals: crate::measure::Totals,
    pub moved_clients: u64,
    pub moves: u64,
}

/// What a worker of a `--workers` run does differently from a lone run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where clients go, in turn, when their server refuses them (a replica gone).
    pub fallbacks: Vec<Target>,
    /// The timeline starts then (µs since the Unix epoch): the workers of one run share
    /// their window to the microsecond.
    pub start_at_us: Option<u64>,
    /// Whose log says which ticks were expected, if not the server's: a cluster's
    /// publisher, which outlives any replica killed under its clients.
    pub reference: Option<Target>,
}

/// [`run`] with `options`, the histograms kept. A server that is gone by the window's
/// end (killed on purpose) leaves its CPU not measured (`cpu_source` `gone`).
pub async fn run_measured(
    spec: &RunSpec,
    server: &ServerUnderTest,
    options: &Options,
    progress: &ProgressBar,
) -> anyhow::Result<Measured> {
    let Options { fallbacks, start_at_us, reference } = options.clone();
    procfs::ensure_fd_limit(spec.clients)?;
    let (before, sockets_before) = server.memory_sample().await?;
    let rate = before.ticker.rate;

    let (start, start_us) = start_at(start_at_us).await;
    let k = &spec.knobs;
    let (window_start, window_end) = (k.ramp + k.settle, k.ramp + k.settle + k.duration);
    let at_us = |d: Duration| start_us + d.as_micros() as u64;
    let window = Window { start_us: at_us(window_start), end_us: at_us(window_end) };
    let measurement = Measurement::new(window);
    // After the histograms exist: their fixed ~6 MB is not a per-client cost.
    let self_heap_before = pushlab_alloc::heap_bytes();
    // Through a proxy (`--via`), the clients connect to it; over a link, to its emulator,
    // which relays to the proxy if there is one. Control traffic stays direct.
    let proxy = match k.proxy.via {
        Some(via) if via != proxy::Via::Direct && server.target.via.is_some() => anyhow::bail!(
            "--via with the netem emulator: nginx listens on the host's loopback, which the \
             namespace's clients cannot reach; use --emulator builtin"
        ),
        Some(via) if via != proxy::Via::Direct && server.target.tls.is_some() => anyhow::bail!(
            "--via over TLS: the proxy lab's nginx speaks plain HTTP to the clients and to the server"
        ),
        Some(via) => Some(RunProxy::start(via, server.target.addr, &k.proxy.flags()).await?),
        None => None,
    };
    let upstream = proxy.as_ref().map_or_else(|| server.target.clone(), |p| p.client_target(&server.target));
    let mut link = k.link.as_deref().map(|l| RunLink::start(l, &upstream, k.seed)).transpose()?;
    let client_target = link.as_ref().map_or_else(|| upstream.clone(), |l| l.client_target(&upstream));
    let settings = Arc::new(Settings::new(spec.clone(), client_target).with_fallbacks(fallbacks));
    let stop = CancellationToken::new();
    let ticker = spawn_progress(progress, start, spec.total(), stop.clone());
    let expected = {
        // The reference reads the server's log directly, never through the link or the proxy.
        let source = reference.unwrap_or_else(|| server.target.clone());
        let settings = Arc::new(Settings::new(spec.clone(), source));
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
    let traffic1 = measurement.traffic();
    let server_cpu1 = match server.cpu().await {
        Ok(cpu) => Some(cpu),
        Err(e) if !options.fallbacks.is_empty() => {
            tracing::warn!("the server's CPU at the window's end not measured: {e:#}");
            None
        }
        Err(e) => return Err(e),
    };
    progress.set_message(label("drain"));
    let drain = drain(spec.clients, MAX_DRAIN, &measurement).await;

    stop.cancel();
    if tokio::time::timeout(STOP_GRACE, clients.wait()).await.is_err() {
        tracing::warn!("some clients did not stop within {STOP_GRACE:?}");
    }
    let _ = ticker.await;
    // After the clients: every request they made is in the proxy's logs.
    let keepalive = proxy::keepalive_label(spec.transport, k.keepalive, k.proxy.sse_keepalive_off);
    let proxy = match proxy {
        Some(p) => Some(p.stop(keepalive).await?),
        None => None,
    };
    let expected = expected.await?.context("following the server's log for the expected ticks")?;
    let (with, sockets_with) = with.await??;
    let samples = Samples {
        before,
        with,
        sockets_before,
        sockets_with,
        traffic: traffic1 - traffic0,
        server_cpu: server_cpu1.map_or(Duration::ZERO, |cpu| cpu.saturating_sub(server_cpu0)),
        self_cpu,
        self_rss,
        self_heap,
        self_heap_before,
        drain,
    };
    let mut record = record(spec, server, &measurement, &expected, samples);
    if server_cpu1.is_none() {
        record.server.cpu_source = "gone".into();
    }
    record.link = link.map(|l| l.record(record.window_s)).transpose()?;
    record.proxy = proxy;
    record.radio = Some(radio::figures(&measurement.activity_timelines(), window.start_us, window.end_us));
    use std::sync::atomic::Ordering::Relaxed;
    let (moved_clients, moves) =
        (settings.failover.moved_clients.load(Relaxed), settings.failover.moves.load(Relaxed));
    Ok(Measured { record, totals: measurement.totals(), moved_clients, moves })
}

/// The run's start, now or at `at_us` (µs since the Unix epoch) if that is still to
/// come: as an instant for the timeline, and in µs for the window's edges.
async fn start_at(at_us: Option<u64>) -> (Instant, u64) {
    let now = now_us();
    match at_us {
        Some(at) if at > now => {
            let start = Instant::now() + Duration::from_micros(at - now);
            sleep_until(start).await;
            (start, at)
        }
        Some(_) => {
            tracing::warn!("this worker started after the run's common start: its window is its own");
            (Instant::now(), now)
        }
        None => (Instant::now(), now),
    }
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
