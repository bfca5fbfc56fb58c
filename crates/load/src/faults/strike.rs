//! One fault run, start to finish: start a server, connect the clients, strike, start
//! the next server on the same address, watch the clients come back, account.
//!
//! The serving process's CPU is read from `/proc/<pid>/stat` every [`SAMPLE_STEP`]
//! (the pid follows the restart), and the clients' connects are counted in the same
//! steps (`measure::Timeline`), so the storm's connection rate and the server's CPU
//! line up 100 ms by 100 ms. The reference reads the log every [`REFERENCE_READ`],
//! so it knows the old run's ticks up to the fault, less at most that.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::ProgressBar;
use pushlab_contract::Stats;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::{Fault, FaultStep, STRIKE_AFTER};
use crate::clients::Settings;
use crate::measure::{ConnectEvent, FaultClock, Measurement, RecoveryMode, Timeline, Window, now_us};
use crate::net::fetch_json;
use crate::procfs;
use crate::reference;
use crate::results::{FaultRecord, FaultTimeline, RecoveryFigures};
use crate::run::{account_ticks, drain, spawn_progress, start_clients};
use crate::scenario::{Knobs, RunSpec};
use crate::server::ServerProcess;

/// The timeline's step: the CPU sample and connect-count interval.
pub const SAMPLE_STEP: Duration = Duration::from_millis(100);
/// How often the reference reads the log in a fault run.
const REFERENCE_READ: Duration = Duration::from_millis(100);
/// Longest wait, after the window, for clients still recovering.
const FAULT_MAX_DRAIN: Duration = Duration::from_secs(10);
/// How long clients get to stop before they are abandoned (and counted missing).
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What a fault run needs besides its step: the knobs the preset shares, the server
/// binary and the flags of a fresh server for it.
#[derive(Debug)]
pub struct Bench<'a> {
    pub knobs: &'a Knobs,
    pub bin: &'a Path,
    pub server_args: Vec<String>,
}

/// Run `step` and measure it.
pub async fn run(step: &FaultStep, bench: &Bench<'_>, progress: &ProgressBar) -> anyhow::Result<FaultRecord> {
    procfs::ensure_fd_limit(step.clients)?;
    let mut args = bench.server_args.clone();
    if let Some(age) = step.stream_max_age {
        args.extend(["--stream-max-age".into(), format!("{}ms", age.as_millis())]);
    }
    let mut server = ServerProcess::start(bench.bin, &args).await?;
    let target = server.server.target.clone();
    let before: Stats = fetch_json(&target, "/api/stats").await.context("reading /api/stats")?;
    let knobs =
        Knobs { ramp: step.ramp, duration: step.window, reconnect: step.reconnect, ..bench.knobs.clone() };
    let spec = RunSpec { transport: step.transport, clients: step.clients, knobs };

    let start = Instant::now();
    let start_us = now_us();
    let k = &spec.knobs;
    let window_start = k.ramp + k.settle;
    let at_us = |d: Duration| start_us + d.as_micros() as u64;
    let window = Window { start_us: at_us(window_start), end_us: at_us(window_start + k.duration) };
    let steps = ((k.duration + FAULT_MAX_DRAIN).as_millis() / SAMPLE_STEP.as_millis()) as usize + 1;
    let mode = if step.fault.strikes() { RecoveryMode::FromFault } else { RecoveryMode::FromEachEnd };
    let clock = FaultClock::new(mode, Timeline::new(window.start_us, SAMPLE_STEP.as_micros() as u64, steps));
    let measurement = Measurement::with_clock(window, clock);
    let settings = Arc::new(Settings::new(spec.clone(), target.clone()));
    let stop = CancellationToken::new();
    // Whatever goes wrong below, no client outlives the run.
    let _stop_on_return = stop.clone().drop_guard();
    let expected = {
        let (settings, stop) = (settings.clone(), stop.clone());
        let head = (before.ticker.epoch.clone(), before.ticker.head);
        tokio::spawn(async move { reference::follow(&settings, window, head, REFERENCE_READ, stop).await })
    };
    let label = |phase: &str| format!("{} × {} {}: {phase}", spec.clients, spec.transport, step.fault.name());
    let ticker = spawn_progress(progress, start, window_start + k.duration, stop.clone());
    progress.set_message(label("ramp"));
    let clients = start_clients(spec.clients, k.ramp, &measurement, &settings, start, &stop);
    let serving = Arc::new(AtomicU32::new(server.server.pid.unwrap_or(0)));
    let sampler = tokio::spawn(sample_cpu(serving.clone(), start + window_start, steps, stop.clone()));

    sleep_until(start + window_start).await;
    let me = std::process::id();
    let self_cpu0 = procfs::cpu_time(me).unwrap_or_default();
    progress.set_message(label("window"));
    let mut strike_at = None;
    if step.fault.strikes() {
        sleep_until(start + window_start + STRIKE_AFTER).await;
        progress.set_message(label("strike"));
        let addr = target.addr;
        // The instant recovery counts from: taken before the signal is sent.
        let instant = now_us();
        measurement.clock().strike(instant);
        strike_at = Some(instant - window.start_us);
        match step.fault {
            Fault::Restart => server.stop().await?,
            _ => server.kill().await?,
        }
        serving.store(0, Relaxed);
        server = ServerProcess::start_on(bench.bin, addr, &args).await?;
        serving.store(server.server.pid.unwrap_or(0), Relaxed);
        progress.set_message(label("recovering"));
    }
    sleep_until(start + window_start + k.duration).await;
    let self_cpu = procfs::cpu_time(me).unwrap_or_default().saturating_sub(self_cpu0);
    progress.set_message(label("drain"));
    drain(spec.clients, FAULT_MAX_DRAIN, &measurement).await;
    stop.cancel();
    if tokio::time::timeout(STOP_GRACE, clients.wait()).await.is_err() {
        tracing::warn!("some clients did not stop within {STOP_GRACE:?}");
    }
    let _ = ticker.await;
    let expected = expected.await?.context("following the server's log for the expected ticks")?;
    let cpu = sampler.await?;
    let after: Option<Stats> = fetch_json(&target, "/api/stats").await.ok();
    server.stop().await?;

    let totals = measurement.totals();
    let accounted = account_ticks(&totals, &measurement, &expected, spec.clients as u64);
    let clock = measurement.clock();
    let series = |e| clock.timeline.as_ref().map(|t| t.series(e)).unwrap_or_default();
    let step_ms = SAMPLE_STEP.as_millis() as u64;
    let strike_ms = strike_at.map(|us| us / 1000);
    let timeline = FaultTimeline {
        step_ms,
        strike_ms,
        server_cpu_pct: cpu,
        attempts: series(ConnectEvent::Attempt),
        connects: series(ConnectEvent::Connected),
        refused: series(ConnectEvent::Refused),
    };
    let peak = timeline.peaks(strike_ms.map_or(0, |ms| (ms / step_ms) as usize));
    Ok(FaultRecord {
        fault: step.fault,
        transport: step.transport,
        clients: step.clients,
        rate: step.rate,
        reconnect_policy: step.reconnect,
        stream_max_age_ms: step.stream_max_age.map(|d| d.as_millis() as u64),
        window_s: window.seconds(),
        strike_at_s: strike_at.map(|us| us as f64 / 1e6),
        recovery: RecoveryFigures::new(&totals.recovery_us, totals.not_recovered),
        ticks: accounted.ticks,
        reconnect: accounted.reconnect,
        peak,
        server_streams_recycled: step
            .stream_max_age
            .and_then(|_| after.map(|s| s.connections.streams_recycled)),
        loadgen_cpu_pct: self_cpu.as_secs_f64() / window.seconds() * 100.0,
        errors: accounted.errors,
        timeline,
    })
}

/// The CPU of the process `serving` names, % of one core, over each of `steps` steps
/// from `from`: `None` for a step in which the process changed or could not be read.
async fn sample_cpu(
    serving: Arc<AtomicU32>,
    from: Instant,
    steps: usize,
    stop: CancellationToken,
) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(steps);
    let mut every = tokio::time::interval_at(from, SAMPLE_STEP);
    let mut last: Option<(u32, Duration, std::time::Instant)> = None;
    while out.len() < steps {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = every.tick() => {}
        }
        let (pid, now) = (serving.load(Relaxed), std::time::Instant::now());
        let cpu = (pid > 0).then(|| procfs::cpu_time(pid)).flatten();
        if let Some((last_pid, last_cpu, last_at)) = last {
            let value = match cpu {
                Some(cpu) if pid == last_pid => {
                    let wall = now.duration_since(last_at).as_secs_f64();
                    Some(cpu.saturating_sub(last_cpu).as_secs_f64() / wall * 100.0)
                }
                _ => None,
            };
            out.push(value);
        }
        last = cpu.map(|cpu| (pid, cpu, now));
        if last.is_none() {
            // No baseline this step: the next one has nothing to take a difference from.
            last = Some((0, Duration::ZERO, now));
        }
    }
    out
}
