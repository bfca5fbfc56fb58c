//! `pushlab-load hold`: what sockets that take a place and give nothing back do to a
//! server, and to the real clients beside them (SPEC §8).
//!
//! It opens `--sockets` connections that either send nothing (`--mode idle`) or send a
//! request head that never ends, a byte every `--trickle-interval` (`--mode
//! slowloris`), and holds them for `--duration`. Meanwhile it watches three things:
//!
//! - the server, from `/api/stats` every `--sample-interval` over one keep-alive
//!   connection opened before the attack (a fresh one would be refused at the cap, just
//!   when the figures matter): connections open, fds open, refused at the cap, header
//!   and idle timeouts ([`sample`]);
//! - its own sockets: which the server closed, and how long after they opened
//!   ([`attack`]): at once (the cap), after about `--header-timeout`, or not at all;
//! - a real client ([`probe`]): a poll on a fresh connection and an SSE connect to its
//!   first event, each every `--probe-interval`, started on schedule whether or not the
//!   last one was answered, so a server that locks clients out for 10 s shows 10 s of
//!   failed probes, not one slow one (coordinated omission, `docs/methodology.md`).
//!
//! The figures ([`record`]) go to a terminal table ([`table`]) and, with `--json`, a
//! file. With no `--url` it starts its own `pushlab-server` (flags via `--server-arg`),
//! so the cap can be made small enough to see with a few hundred sockets.
//!
//! Loopback only, with no `--allow-remote`: this is an attack, for a server you run here.

pub mod attack;
pub mod probe;
pub mod record;
pub mod sample;
pub mod table;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::net::{Target, TargetError};
use crate::procfs;
use crate::run::MAX_PHASE;
use crate::server::{self, ServerProcess};
use record::HoldResults;

/// Sockets one `hold` may open: the machine's hard limit is 20,000 open files per
/// process, and the probes, the stats connection and the runtime need some of the rest.
pub const MAX_SOCKETS: usize = 19_000;
/// Probing and sampling before the first attacker connects: the "before" figures.
pub const BASELINE: Duration = Duration::from_secs(1);
/// What `--open-rate` accepts, connects per second.
pub const OPEN_RATE_RANGE: std::ops::RangeInclusive<u32> = 1..=50_000;
/// What `--sample-interval` and `--probe-interval` accept, ms: below it the samples
/// cost the server more than the attack; above it a 1 s lock-out can fall between two.
pub const INTERVAL_MS_RANGE: std::ops::RangeInclusive<u64> = 50..=1000;
/// The server's `--header-timeout` when none is given (the server's own default).
pub const SERVER_HEADER_TIMEOUT_DEFAULT: &str = "10s";

/// What each attacking socket does once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Sends nothing: the server's header timeout runs from the accept.
    Idle,
    /// Sends a request head that never ends, a byte every `--trickle-interval`.
    Slowloris,
}

impl Mode {
    /// As `--mode` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Idle => "idle",
            Mode::Slowloris => "slowloris",
        }
    }
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    /// What each socket does: idle (connects and sends nothing) or slowloris (sends a
    /// request head a byte at a time, never its end).
    #[arg(long, value_enum, default_value = "idle")]
    pub mode: Mode,
    /// Sockets to open and hold (at most 19,000).
    #[arg(long, default_value_t = 1000)]
    pub sockets: usize,
    /// How long to hold them, from the first connect (e.g. 20s).
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Connects started per second, evenly spread (at 5,000, 19,000 sockets open in
    /// under 4 s); a faster burst overflows the server's accept queue (128), and those
    /// connects wait 1 s for their SYN to be sent again.
    #[arg(long, default_value_t = 5000)]
    pub open_rate: u32,
    /// Slowloris: the time between two bytes of the head.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub trickle_interval: Duration,
    /// The server's --header-timeout, which the close times are read against; passed
    /// to the server `hold` starts (give the same value with --url).
    #[arg(long, default_value = SERVER_HEADER_TIMEOUT_DEFAULT, value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// Time between two samples of the server's /api/stats (50ms to 1s).
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    pub sample_interval: Duration,
    /// Time between two probes of each kind, a poll and an SSE connect (50ms to 1s).
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    pub probe_interval: Duration,
    /// A running server, e.g. http://127.0.0.1:3000 (loopback only); by default `hold`
    /// starts its own.
    #[arg(long)]
    pub url: Option<String>,
    /// A flag for the server `hold` starts, e.g. `--server-arg=--max-connections=1000`;
    /// repeat it for more.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// The pushlab-server binary when starting one (default: next to this executable).
    #[arg(long, env = "PUSHLAB_LOAD_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// Also write the figures here, as JSON (e.g. docs/results/hold-idle.json).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One hold, as it runs and as its results record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldSpec {
    pub mode: Mode,
    pub sockets: usize,
    pub duration_ms: u64,
    /// Connects started per second.
    pub open_rate_per_s: u32,
    /// Slowloris only.
    pub trickle_interval_ms: Option<u64>,
    pub header_timeout_ms: u64,
    pub sample_interval_ms: u64,
    pub probe_interval_ms: u64,
    /// The flags of the server `hold` started (beside `--addr` and `--log`); `None` for
    /// one at `--url`.
    pub server_args: Option<Vec<String>>,
}

impl HoldSpec {
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }
}

impl HoldArgs {
    /// The spec these flags ask for, or why they cannot run.
    pub fn spec(&self) -> anyhow::Result<HoldSpec> {
        let ms = |d: Duration| d.as_millis() as u64;
        ensure!(
            (1..=MAX_SOCKETS).contains(&self.sockets),
            "--sockets must be between 1 and {MAX_SOCKETS} (the machine allows 20,000 open files a process)"
        );
        let max = MAX_PHASE.as_secs();
        ensure!(
            !self.duration.is_zero() && self.duration <= MAX_PHASE,
            "--duration must be > 0 and ≤ {max} s"
        );
        ensure!(self.trickle_interval >= Duration::from_millis(1), "--trickle-interval must be ≥ 1ms");
        let (lo, hi) = (OPEN_RATE_RANGE.start(), OPEN_RATE_RANGE.end());
        ensure!(
            OPEN_RATE_RANGE.contains(&self.open_rate),
            "--open-rate must be between {lo} and {hi} connects/s"
        );
        ensure!(!self.header_timeout.is_zero(), "--header-timeout must be > 0");
        for (name, d) in
            [("--sample-interval", self.sample_interval), ("--probe-interval", self.probe_interval)]
        {
            let (lo, hi) = (INTERVAL_MS_RANGE.start(), INTERVAL_MS_RANGE.end());
            ensure!(INTERVAL_MS_RANGE.contains(&ms(d)), "{name} must be between {lo}ms and {hi}ms");
        }
        let server_args = match &self.url {
            Some(_) => {
                ensure!(
                    self.server_args.is_empty(),
                    "--server-arg is for the server hold starts: drop --url"
                );
                None
            }
            None => {
                ensure!(
                    !self
                        .server_args
                        .iter()
                        .any(|a| a.starts_with("--header-timeout") || a.starts_with("--addr")),
                    "--server-arg: give --header-timeout to hold itself (the close times are read \
                     against it), and leave --addr to hold"
                );
                let mut args = vec!["--header-timeout".to_string()];
                args.push(humantime::format_duration(self.header_timeout).to_string());
                args.extend(self.server_args.iter().cloned());
                Some(args)
            }
        };
        Ok(HoldSpec {
            mode: self.mode,
            sockets: self.sockets,
            duration_ms: ms(self.duration),
            open_rate_per_s: self.open_rate,
            trickle_interval_ms: (self.mode == Mode::Slowloris).then(|| ms(self.trickle_interval)),
            header_timeout_ms: ms(self.header_timeout),
            sample_interval_ms: ms(self.sample_interval),
            probe_interval_ms: ms(self.probe_interval),
            server_args,
        })
    }
}

/// `pushlab-load hold`: start a server unless given one, hold, print, write.
pub async fn command(args: HoldArgs) -> anyhow::Result<()> {
    let spec = args.spec()?;
    // The probes and the stats connection fit in the load generator's fd reserve.
    procfs::ensure_fd_limit(spec.sockets)?;
    let mut started = None;
    let target = match &args.url {
        Some(url) => Target::resolve(url, false).await.map_err(|e| match e {
            // `run`'s --allow-remote does not apply: this is an attack, not a load.
            TargetError::NotLoopback(addr) => {
                anyhow::anyhow!("{addr} is not a loopback address: hold only holds sockets on this machine")
            }
            e => e.into(),
        })?,
        None => {
            let bin = match &args.server_bin {
                Some(bin) => bin.clone(),
                None => server::find_binary()?,
            };
            // Our table is on the terminal; the server only speaks up for problems.
            let mut flags: Vec<String> = ["--log", "warn"].map(String::from).into();
            flags.extend(spec.server_args.iter().flatten().cloned());
            let process = ServerProcess::start(&bin, &flags).await?;
            let target = process.server.target.clone();
            started = Some(process);
            target
        }
    };
    eprintln!(
        "holding {} {} sockets on {} for {}",
        spec.sockets,
        spec.mode.name(),
        target.addr,
        humantime::format_duration(spec.duration())
    );
    let results = run(&spec, &target).await;
    if let Some(process) = started {
        process.stop().await?;
    }
    let results = results?;
    println!("{}", table::render(&results));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&results)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
        println!("results: {}", path.display());
    }
    Ok(())
}

/// One hold against `target`: [`BASELINE`] of samples and probes, then the attack for
/// the spec's duration with them still running, then the figures.
pub async fn run(spec: &HoldSpec, target: &Target) -> anyhow::Result<HoldResults> {
    let load_before = procfs::load_average();
    let cpu_before = procfs::cpu_time(std::process::id());
    let overflows_before = sample::listen_overflows();
    let began = std::time::Instant::now();
    // Opened before the attack, so it holds its place under the cap.
    let sampler = sample::Sampler::connect(target).await.context("the server's /api/stats")?;
    let start = Instant::now() + BASELINE;
    let deadline = start + spec.duration();
    let clock = sample::Clock { start, deadline };
    let ledger = Arc::new(attack::Ledger::default());
    let (cursor_tx, cursor_rx) = tokio::sync::watch::channel(None);
    let sampling = tokio::spawn(sampler.run(
        Duration::from_millis(spec.sample_interval_ms),
        clock,
        ledger.clone(),
        cursor_tx,
    ));
    let probing = tokio::spawn(probe::run(
        target.clone(),
        Duration::from_millis(spec.probe_interval_ms),
        clock,
        cursor_rx,
    ));
    tokio::time::sleep_until(start).await;
    let plan = attack::Plan {
        addr: target.addr,
        authority: target.authority.clone(),
        mode: spec.mode,
        trickle: spec.trickle_interval_ms.map(Duration::from_millis),
        open_rate: spec.open_rate_per_s,
        start,
        deadline,
    };
    attack::hold_all(plan, spec.sockets, ledger.clone()).await;
    let samples = sampling.await.context("the sampler")?;
    let attempts = probing.await.context("the probes")?;
    let wall = began.elapsed();
    let loadgen_cpu_pct = match (cpu_before, procfs::cpu_time(std::process::id())) {
        (Some(a), Some(b)) => 100.0 * (b - a).as_secs_f64() / wall.as_secs_f64(),
        _ => f64::NAN,
    };
    let listen_overflows = overflows_before.zip(sample::listen_overflows()).map(|(a, b)| b.saturating_sub(a));
    let measured = record::Measured {
        samples,
        attempts,
        ledger: &ledger,
        load_before,
        loadgen_cpu_pct,
        listen_overflows,
    };
    Ok(HoldResults::new(spec.clone(), target, measured))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> HoldArgs {
        let cli = Cli::try_parse_from(["pushlab-load", "hold"].iter().chain(args)).unwrap();
        let Command::Hold(args) = cli.command else { panic!("hold") };
        args
    }

    #[test]
    fn server_flags_pass_through_after_hold_s_own() {
        let spec =
            parse(&["--server-arg", "--max-connections=1000", "--header-timeout", "1s"]).spec().unwrap();
        let expected = ["--header-timeout", "1s", "--max-connections=1000"];
        assert_eq!(spec.server_args.unwrap(), expected.map(String::from));
        assert_eq!((spec.header_timeout_ms, spec.trickle_interval_ms), (1000, None));
        let spec = parse(&["--mode", "slowloris", "--trickle-interval", "500ms"]).spec().unwrap();
        assert_eq!(
            (spec.mode, spec.trickle_interval_ms, spec.header_timeout_ms),
            (Mode::Slowloris, Some(500), 10_000)
        );
    }

    #[test]
    fn unbounded_or_contradictory_holds_are_refused() {
        let refused = |args: &[&str]| parse(args).spec().unwrap_err().to_string();
        assert!(refused(&["--sockets", "19001"]).contains("--sockets must be between 1 and 19000"));
        assert!(refused(&["--sockets", "0"]).contains("--sockets"));
        assert!(refused(&["--duration", "0s"]).contains("--duration"));
        assert!(refused(&["--sample-interval", "10ms"]).contains("--sample-interval must be between 50ms"));
        assert!(refused(&["--probe-interval", "2s"]).contains("--probe-interval"));
        assert!(refused(&["--open-rate", "0"]).contains("--open-rate must be between 1 and 50000"));
        let with_url = ["--url", "http://127.0.0.1:3000", "--server-arg=--max-connections=5"];
        assert!(refused(&with_url).contains("drop --url"));
        assert!(refused(&["--server-arg=--header-timeout=1s"]).contains("give --header-timeout to hold"));
    }
}
