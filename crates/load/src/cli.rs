//! The command line: `pushlab-load run` and `pushlab-load compare`. The doc comments
//! are the `--help` text; every flag can also come from a `PUSHLAB_LOAD_*` variable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::ensure;
use clap::{Args, Parser, Subcommand};

use crate::run::{MAX_PHASE, RunSpec};
use pushlab_contract::Transport;
use pushlab_contract::limits::{LONG_POLL_TIMEOUT_MS_RANGE, RATE_RANGE};

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

/// Knobs `run` and `compare` share.
#[derive(Debug, Args)]
pub struct Timing {
    /// Length of the measurement window (e.g. 15s, 2m) [default: the preset's; quick: 15s].
    #[arg(long, env = "PUSHLAB_LOAD_DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Time over which clients connect, evenly spread [default: the preset's; quick: 2s].
    #[arg(long, env = "PUSHLAB_LOAD_RAMP", value_parser = humantime::parse_duration)]
    pub ramp: Option<Duration>,
    /// Time between the last connect and the window [default: the preset's; quick: 2s].
    #[arg(long, env = "PUSHLAB_LOAD_SETTLE", value_parser = humantime::parse_duration)]
    pub settle: Option<Duration>,
    /// Polling interval of each polling client [default: 1s].
    #[arg(long, env = "PUSHLAB_LOAD_POLL_INTERVAL", value_parser = humantime::parse_duration)]
    pub poll_interval: Option<Duration>,
    /// How long the server may hold a long-poll before answering empty [default: 25s].
    #[arg(long, env = "PUSHLAB_LOAD_LONG_POLL_TIMEOUT", value_parser = humantime::parse_duration)]
    pub long_poll_timeout: Option<Duration>,
    /// Only these symbols (comma-separated); all of them when absent.
    #[arg(long, env = "PUSHLAB_LOAD_SYMBOLS", value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,
    /// The server's --history (ticks kept), so the expected-ticks reader keeps up [default: 4096].
    #[arg(long, env = "PUSHLAB_LOAD_HISTORY")]
    pub history: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which transport the clients use.
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_TRANSPORT")]
    pub transport: Transport,
    /// The server, e.g. http://127.0.0.1:3000 (loopback only unless --allow-remote).
    #[arg(long, env = "PUSHLAB_LOAD_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Number of concurrent clients.
    #[arg(long, env = "PUSHLAB_LOAD_CLIENTS", default_value_t = 100)]
    pub clients: usize,
    #[command(flatten)]
    pub timing: Timing,
    /// The server's pid, to read its CPU from /proc instead of /api/stats.
    #[arg(long, env = "PUSHLAB_LOAD_SERVER_PID")]
    pub server_pid: Option<u32>,
    /// Also write the results JSON here.
    #[arg(long, env = "PUSHLAB_LOAD_JSON")]
    pub json: Option<PathBuf>,
    /// Allow a target that is not a loopback address. Only load machines you own.
    #[arg(long, env = "PUSHLAB_LOAD_ALLOW_REMOTE")]
    pub allow_remote: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Starting point for every knob; any flag below overrides it.
    #[arg(long, value_enum, env = "PUSHLAB_LOAD_PRESET", default_value = "quick")]
    pub preset: Preset,
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
    pub timing: Timing,
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
}

impl Timing {
    /// Apply these overrides to `knobs`.
    pub fn apply(&self, knobs: &mut Knobs) {
        let overrides = [
            (self.duration, &mut knobs.duration),
            (self.ramp, &mut knobs.ramp),
            (self.settle, &mut knobs.settle),
            (self.poll_interval, &mut knobs.poll_interval),
            (self.long_poll_timeout, &mut knobs.long_poll_timeout),
        ];
        for (flag, knob) in overrides {
            if let Some(value) = flag {
                *knob = value;
            }
        }
        if self.symbols.is_some() {
            knobs.symbols.clone_from(&self.symbols);
        }
        if let Some(h) = self.history {
            knobs.history = h;
        }
    }
}

impl CompareArgs {
    pub fn scenario(&self) -> anyhow::Result<Scenario> {
        let mut s = Scenario::preset(self.preset);
        if let Some(t) = &self.transports {
            s.transports.clone_from(t);
        }
        if let Some(c) = &self.clients {
            s.clients.clone_from(c);
        }
        if let Some(r) = &self.rates {
            s.rates.clone_from(r);
        }
        self.timing.apply(&mut s.knobs);
        if self.payload_bytes.is_some() {
            s.payload_bytes = self.payload_bytes;
        }
        if let Some(seed) = self.seed {
            s.seed = seed;
        }
        validate(&s)?;
        Ok(s)
    }
}

/// Refuse settings that would make a run unbounded or meaningless, with the range.
pub fn validate(s: &Scenario) -> anyhow::Result<()> {
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
    let max = MAX_PHASE;
    ensure!(k.duration > Duration::ZERO && k.duration <= max, "--duration must be > 0 and ≤ {max:?}");
    for (name, v) in [("--ramp", k.ramp), ("--settle", k.settle)] {
        ensure!(v <= max, "{name} must be between 0 and {max:?}");
    }
    ensure!(k.poll_interval >= Duration::from_millis(1), "--poll-interval must be ≥ 1ms");
    let most = Duration::from_millis(*LONG_POLL_TIMEOUT_MS_RANGE.end());
    ensure!(k.long_poll_timeout <= most, "--long-poll-timeout must be ≤ {most:?} (the server's limit)");
    ensure!(k.history >= 1, "--history must be ≥ 1");
    Ok(())
}

/// The run of transport `t` with `clients` clients under scenario `s`.
pub fn run_spec(s: &Scenario, transport: Transport, clients: usize) -> RunSpec {
    RunSpec { transport, clients, knobs: s.knobs.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_preset() {
        let cli = Cli::try_parse_from([
            "pushlab-load",
            "compare",
            "--preset",
            "scale",
            "--transports",
            "sse,ws",
            "--clients",
            "19000",
            "--duration",
            "5s",
            "--poll-interval",
            "250ms",
        ])
        .unwrap();
        let Command::Compare(args) = cli.command else { panic!("compare") };
        let s = args.scenario().unwrap();
        assert_eq!(s.transports, vec![Transport::Sse, Transport::Ws]);
        assert_eq!(s.clients, vec![19000]);
        assert_eq!(
            (s.knobs.duration, s.knobs.poll_interval),
            (Duration::from_secs(5), Duration::from_millis(250))
        );
        assert_eq!(s.knobs.ramp, Duration::from_secs(10), "the preset's ramp stays");
    }

    #[test]
    fn unbounded_or_empty_runs_are_refused() {
        let mut s = Scenario::preset(Preset::Quick);
        s.knobs.duration = Duration::from_secs(1_000_000_000);
        assert!(validate(&s).unwrap_err().to_string().contains("--duration"));
        let mut s = Scenario::preset(Preset::Quick);
        s.rates = vec![0.0];
        assert!(validate(&s).unwrap_err().to_string().contains("--rates"));
    }
}
