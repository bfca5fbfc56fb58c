//! The command line: `pushlab-load run` and `pushlab-load compare`. The doc comments
//! are the `--help` text; every flag can also come from a `PUSHLAB_LOAD_*` variable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::ensure;
use clap::{Args, Parser, Subcommand};

use crate::clients::Reconnect;
use crate::proxy::{ProxyFlags, Via};
use crate::run::MAX_PHASE;
use pushlab_contract::Transport;
use pushlab_contract::limits::{COALESCE_MAX_MS, LONG_POLL_TIMEOUT_MS_RANGE, RATE_RANGE};

use crate::link::path::EmulatorFlag;
use crate::scenario::{Knobs, Preset, Scenario};

#[derive(Debug, Parser)]
#[command(
    name = "pushlab-load",
    version,
    about = "Drive pushlab's four transports with many clients and measure what each costs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive one transport against a server that is already running.
    Run(RunArgs),
    /// Start a fresh pushlab-server per transport, run the same scenario against each,
    /// print them side by side and write results/*.json and results/report.html.
    Compare(CompareArgs),
    /// Print the exact bytes of one exchange of a transport, captured on a plain
    /// socket: HTTP headers, chunk-size lines, WebSocket frame headers decoded.
    Wire(WireArgs),
    /// Measure what a small send(), a recv() and a round trip cost on this machine's
    /// loopback TCP (about 0.3 s): the unit "server CPU per tick, in sends" divides by.
    /// `compare` and `run` measure the same before their runs and record it.
    Calibrate(CalibrateArgs),
    /// Write the self-contained report page (the one `compare` writes) for a results
    /// file, e.g. one of docs/results/ or an older run's (a file from before the figure
    /// catalogue is labelled with this build's).
    Report(ReportArgs),
    /// Hold sockets open against a server, idle or sending a head a byte at a time
    /// (slowloris), and measure what it held, what it closed and when, and how long a
    /// real client beside them waited.
    Hold(crate::hold::HoldArgs),
    /// Start a broker-fed cluster on this machine: nats-server (JetStream), a
    /// publisher running the ticker and N replicas fed through the broker; prints the
    /// URLs, Ctrl-C stops them all (docs/cluster.md).
    Cluster(crate::cluster::ClusterArgs),
    /// One worker of a `--workers` run: reads its order (JSON) on stdin, prints its
    /// report (JSON, histograms in base64) on stdout. Started by the parent, not by hand.
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Also write the calibration here, as a results file carries it (`"calibration"`,
    /// beside `"machine"` and `"generated_at"`).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results JSON to show.
    pub results: PathBuf,
    /// Where to write the page, e.g. results/old-run.html.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct WireArgs {
    /// Which transport's exchange to capture.
    #[arg(long, value_enum)]
    pub transport: Transport,
    /// A running server to capture from; by default a fresh one is started for it
    /// (2 ticks/s, seed 42), so a long-poll is visibly held.
    #[arg(long)]
    pub url: Option<String>,
    /// The pushlab-server binary when starting one (default: next to this executable).
    #[arg(long, env = "PUSHLAB_LOAD_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
}

/// The knobs `run` and `compare` share; each one given replaces the preset's.
#[derive(Debug, Clone, Args)]
pub struct KnobFlags {
    /// Length of the measurement window (e.g. 15s, 2m) [default: the preset's; quick: 15s].
    #[arg(long, env = "PUSHLAB_LOAD_DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Time over which clients connect, evenly spread [default: the preset's; quick: 2s].
    #[arg(long, env = "PUSHLAB_LOAD_RAMP", value_parser = humantime::parse_duration)]
    pub ramp: Option<Duration>,
    /// Time between the last connect and the window [default: the preset's; quick: 2s].
    #[arg(long, env = "PUSHLAB_LOAD_SETTLE", value_parser = humantime::parse_duration)]
    pub settle: Option<Duration>,
    /// Polling interval of each polling client, to the millisecond [default: 1s].
    #[arg(long, env = "PUSHLAB_LOAD_POLL_INTERVAL", value_parser = whole_millis)]
    pub poll_interval: Option<Duration>,
    /// How long the server may hold a long-poll before answering empty, to the
    /// millisecond [default: 25s].
    #[arg(long, env = "PUSHLAB_LOAD_LONG_POLL_TIMEOUT", value_parser = whole_millis)]
    pub long_poll_timeout: Option<Duration>,
    /// Only these symbols (comma-separated); all of them when absent.
    #[arg(long, env = "PUSHLAB_LOAD_SYMBOLS", value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,
    /// The server's --history (ticks kept), so the expected-ticks reader keeps up [default: the server's, 4096].
    #[arg(long, env = "PUSHLAB_LOAD_HISTORY")]
    pub history: Option<usize>,
    /// How clients come back after a broken connection: jitter (SSE after the server's
    /// retry:, the others exponential back-off with full jitter), fixed (a constant 1 s,
    /// no jitter: a thundering herd) or none (the client ends) [default: the preset's; jitter].
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_RECONNECT")]
    pub reconnect: Option<Reconnect>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which transport the clients use.
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_TRANSPORT")]
    pub transport: Transport,
    /// The server, e.g. http://127.0.0.1:3000 (loopback only unless --allow-remote);
    /// with --workers, several (comma-separated or repeated): replicas of one cluster,
    /// the clients spread over them, moving on to the next when theirs refuses them.
    #[arg(long, env = "PUSHLAB_LOAD_URL", default_value = "http://127.0.0.1:3000", value_delimiter = ',')]
    pub url: Vec<String>,
    /// Number of concurrent clients.
    #[arg(long, env = "PUSHLAB_LOAD_CLIENTS", default_value_t = 100)]
    pub clients: usize,
    /// Spread the clients over this many child processes of pushlab-load (each holds
    /// at most 19,000: a process may open 20,000 files), each from its own loopback
    /// source addresses; their histograms are merged exactly into one record.
    #[arg(long, env = "PUSHLAB_LOAD_WORKERS")]
    pub workers: Option<usize>,
    /// TLS and HTTP/2.
    #[command(flatten)]
    pub protocol: crate::protocol::ProtocolFlags,
    #[command(flatten)]
    pub knobs: KnobFlags,
    /// The server's pid, to read its CPU from /proc instead of /api/stats.
    #[arg(long, env = "PUSHLAB_LOAD_SERVER_PID")]
    pub server_pid: Option<u32>,
    /// Also write the results JSON here.
    #[arg(long, env = "PUSHLAB_LOAD_JSON")]
    pub json: Option<PathBuf>,
    /// Allow a target that is not a loopback address. Only load machines you own.
    #[arg(long, env = "PUSHLAB_LOAD_ALLOW_REMOTE")]
    pub allow_remote: bool,
    /// An emulated link between each client and the server: a profile (lan, wifi, 4g,
    /// 3g, satellite, lossy) or a spec such as rtt=100ms,jitter=10ms,bw=1mbit,loss=1%
    /// (also down=, up=, delay= one way; a profile may take overrides: 3g,loss=1%).
    #[arg(long, env = "PUSHLAB_LOAD_LINK", value_parser = link_spec)]
    pub link: Option<String>,
    #[command(flatten)]
    pub emulator: EmulatorFlag,
    /// Put Debian's nginx between the clients and the server, started for the run:
    /// nginx-default, nginx-tuned or buffering-proxy (docs/proxies.md).
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_VIA")]
    pub via: Option<Via>,
    #[command(flatten)]
    pub proxy: ProxyFlags,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Starting point for every knob; any flag below overrides it.
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_PRESET", default_value = "quick")]
    pub preset: Preset,
    /// TLS and HTTP/2 (the http2 preset sets them per run).
    #[command(flatten)]
    pub protocol: crate::protocol::ProtocolFlags,
    /// Transports to compare (comma-separated).
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_TRANSPORTS", value_delimiter = ',')]
    pub transports: Option<Vec<Transport>>,
    /// Client counts to run (comma-separated), each a separate run.
    #[arg(long, env = "PUSHLAB_LOAD_CLIENTS", value_delimiter = ',')]
    pub clients: Option<Vec<usize>>,
    /// Server tick rates in ticks/s (comma-separated), each a separate run.
    #[arg(long, env = "PUSHLAB_LOAD_RATES", value_delimiter = ',')]
    pub rates: Option<Vec<f64>>,
    #[command(flatten)]
    pub knobs: KnobFlags,
    /// The server's --coalesce values to run (comma-separated, e.g. 0,5ms,20ms), each a
    /// separate run: streams then write what arrived within that time in one write.
    #[arg(long, env = "PUSHLAB_LOAD_COALESCE", value_delimiter = ',', value_parser = coalesce)]
    pub coalesce: Option<Vec<Duration>>,
    /// The server's --payload-bytes: ticks padded to about this size.
    #[arg(long, env = "PUSHLAB_LOAD_PAYLOAD_BYTES")]
    pub payload_bytes: Option<usize>,
    /// The server's --seed.
    #[arg(long, env = "PUSHLAB_LOAD_SEED")]
    pub seed: Option<u64>,
    /// Where results/*.json and report.html are written.
    #[arg(long, env = "PUSHLAB_LOAD_OUT", default_value = "results")]
    pub out: PathBuf,
    /// The pushlab-server binary (default: next to this executable).
    #[arg(long, env = "PUSHLAB_LOAD_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// Emulated links to run over, each a separate run; repeat the flag for several
    /// (--link 3g --link satellite): a profile (lan, wifi, 4g, 3g, satellite, lossy)
    /// or a spec such as rtt=100ms,jitter=10ms,bw=1mbit,loss=1% [default: the preset's;
    /// conditions: lan, 4g, 3g, satellite, lossy; others: none, plain loopback].
    #[arg(long, value_parser = link_spec)]
    pub link: Option<Vec<String>>,
    #[command(flatten)]
    pub emulator: EmulatorFlag,
    /// The server's --keepalive: an SSE comment or WebSocket ping this often on an idle
    /// stream, to the millisecond (e.g. 15s, 60s) [default: the server's, 15s].
    #[arg(long, env = "PUSHLAB_LOAD_KEEPALIVE", value_parser = whole_millis)]
    pub keepalive: Option<Duration>,
    /// What the clients go through, each a separate run (comma-separated): direct,
    /// nginx-default, nginx-tuned, buffering-proxy [default: the preset's; proxies: all four].
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_VIA", value_delimiter = ',')]
    pub via: Option<Vec<Via>>,
    /// The server's --sse-keepalive-off: idle SSE streams get no comment, so a proxy's
    /// read timeout cuts them.
    #[arg(long, env = "PUSHLAB_LOAD_SSE_KEEPALIVE_OFF")]
    pub sse_keepalive_off: bool,
    #[command(flatten)]
    pub proxy: ProxyFlags,
    /// The cluster preset's replicas [default: 7].
    #[arg(long, env = "PUSHLAB_LOAD_REPLICAS")]
    pub replicas: Option<usize>,
    /// The cluster preset's worker processes, worker i on replica i mod replicas
    /// [default: one per replica].
    #[arg(long, env = "PUSHLAB_LOAD_WORKERS")]
    pub workers: Option<usize>,
    /// The cluster preset without its replica kill.
    #[arg(long, env = "PUSHLAB_LOAD_NO_KILL")]
    pub no_kill: bool,
}

/// A `--link` value, checked now (the run would refuse it later): kept as written.
fn link_spec(text: &str) -> Result<String, String> {
    text.parse::<pushlab_link::LinkSpec>().map(|_| text.to_string()).map_err(|e| e.to_string())
}

/// A duration cut to whole milliseconds: the results record these knobs in ms, so a
/// run uses exactly what its results say (`1500us` is 1 ms; `250us` is 0 and refused).
fn whole_millis(text: &str) -> Result<Duration, humantime::DurationError> {
    let d = humantime::parse_duration(text)?;
    Ok(Duration::from_millis(d.as_millis() as u64))
}

impl KnobFlags {
    /// `preset` with each flag that was given in place of its value. `Self` is taken
    /// apart field by field, so a flag added here but not applied is an unused variable,
    /// which the lint run (`-D warnings`) refuses.
    pub fn over(&self, preset: Knobs) -> Knobs {
        let Self { duration, ramp, settle, poll_interval, long_poll_timeout, symbols, history, reconnect } =
            self.clone();
        Knobs {
            poll_interval: poll_interval.unwrap_or(preset.poll_interval),
            duration: duration.unwrap_or(preset.duration),
            ramp: ramp.unwrap_or(preset.ramp),
            settle: settle.unwrap_or(preset.settle),
            symbols: symbols.or(preset.symbols),
            history: history.unwrap_or(preset.history),
            long_poll_timeout: long_poll_timeout.unwrap_or(preset.long_poll_timeout),
            reconnect: reconnect.unwrap_or(preset.reconnect),
            // The server's own knobs: flags of `compare` only, applied there.
            ..preset
        }
    }
}

impl RunArgs {
    /// What `run` measures: the run preset with the flags over it.
    pub fn scenario(&self) -> anyhow::Result<Scenario> {
        let preset = Scenario::preset(Preset::Run);
        let mut knobs = self.knobs.over(preset.knobs);
        knobs.link = self.link.clone();
        knobs.proxy.via = self.via;
        knobs.proxy.read_timeout = self.proxy.proxy_read_timeout;
        knobs.proxy.nginx_bin = self.proxy.nginx_bin.clone();
        let https = self.url.iter().any(|u| u.starts_with("https://"));
        self.protocol.apply(&mut knobs, &[self.transport], Some(https))?;
        let s = Scenario {
            transports: vec![self.transport],
            clients: vec![self.clients],
            links: self.link.iter().cloned().collect(),
            vias: self.via.into_iter().collect(),
            knobs,
            ..preset
        };
        validate(&s)?;
        Ok(s)
    }
}

impl CompareArgs {
    /// What `compare` runs: the preset with the flags over it.
    pub fn scenario(&self) -> anyhow::Result<Scenario> {
        let preset = Scenario::preset(self.preset);
        let mut knobs = self.knobs.over(preset.knobs);
        knobs.payload_bytes = self.payload_bytes.or(knobs.payload_bytes);
        knobs.seed = self.seed.unwrap_or(knobs.seed);
        knobs.keepalive = self.keepalive.or(knobs.keepalive);
        knobs.proxy.sse_keepalive_off |= self.sse_keepalive_off;
        knobs.proxy.read_timeout = self.proxy.proxy_read_timeout.or(knobs.proxy.read_timeout);
        knobs.proxy.nginx_bin = self.proxy.nginx_bin.clone();
        let s = Scenario {
            preset: self.preset,
            transports: self.transports.clone().unwrap_or(preset.transports),
            clients: self.clients.clone().unwrap_or(preset.clients),
            rates: self.rates.clone().unwrap_or(preset.rates),
            coalesce: self.coalesce.clone().unwrap_or(preset.coalesce),
            links: self.link.clone().unwrap_or(preset.links),
            vias: self.via.clone().unwrap_or(preset.vias),
            // Flags that change the sweep replace a preset's list of runs.
            steps: preset.steps.filter(|_| {
                self.transports.is_none()
                    && self.clients.is_none()
                    && self.rates.is_none()
                    && self.coalesce.is_none()
                    && self.link.is_none()
                    && self.via.is_none()
            }),
            // Fault runs set their own clients and rates; --transports picks among them,
            // --reconnect sets the policy of all but the storm (which runs both).
            faults: preset.faults.map(|_| {
                let transports = self.transports.clone().unwrap_or(Transport::ALL.to_vec());
                crate::faults::preset_steps(&transports, knobs.reconnect)
            }),
            knobs,
            feeds: None,
        };
        let mut s = s;
        self.protocol.apply(&mut s.knobs, &s.transports, None)?;
        validate(&s)?;
        Ok(s)
    }
}

/// A `--coalesce` value: `0`, or a duration to the millisecond up to the server's limit.
fn coalesce(s: &str) -> Result<Duration, String> {
    let d = if s == "0" { Duration::ZERO } else { whole_millis(s).map_err(|e| e.to_string())? };
    let most = Duration::from_millis(COALESCE_MAX_MS);
    if d <= most {
        Ok(d)
    } else {
        Err(format!("expected 0 or a duration up to {most:?} (the server's limit)"))
    }
}

/// Refuse settings that would make a run unbounded or meaningless, with the range.
fn validate(s: &Scenario) -> anyhow::Result<()> {
    ensure!(!s.transports.is_empty(), "--transports: give at least one of poll, long-poll, sse, ws");
    ensure!(!s.clients.is_empty() && !s.clients.contains(&0), "--clients: every count must be ≥ 1");
    ensure!(!s.rates.is_empty(), "--rates: give at least one rate");
    for r in &s.rates {
        ensure!(
            RATE_RANGE.contains(r),
            "--rates: {r} is outside {}..={} ticks/s",
            RATE_RANGE.start(),
            RATE_RANGE.end()
        );
    }
    let k = &s.knobs;
    let max = MAX_PHASE.as_secs_f64();
    ensure!(!k.duration.is_zero() && k.duration <= MAX_PHASE, "--duration must be > 0 and ≤ {max} s");
    for (name, v) in [("--ramp", k.ramp), ("--settle", k.settle)] {
        ensure!(v <= MAX_PHASE, "{name} must be between 0 and {max} s");
    }
    ensure!(k.poll_interval >= Duration::from_millis(1), "--poll-interval must be ≥ 1ms");
    let most = *LONG_POLL_TIMEOUT_MS_RANGE.end();
    ensure!(
        k.long_poll_timeout <= Duration::from_millis(most),
        "--long-poll-timeout must be ≤ {most}ms (the server's limit)"
    );
    ensure!(k.history >= 1, "--history must be ≥ 1");
    Ok(())
}

#[cfg(test)]
mod tests;
