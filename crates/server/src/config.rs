//! The server's settings: every flag also reads a `PUSHLAB_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::ops::RangeInclusive;

use clap::Parser;

use pushlab_contract::limits::{
    COALESCE_MAX_MS, HISTORY_DEFAULT, HISTORY_RANGE, MAX_SYMBOLS, PAYLOAD_BYTES_RANGE, RATE_RANGE,
};

/// What `--header-timeout` and `--idle-timeout` accept.
pub const CONNECTION_TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(10)..=Duration::from_secs(24 * 3600);
/// What `--stream-max-age` accepts.
pub const STREAM_MAX_AGE_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(7 * 24 * 3600);

/// The symbols of the simulated market when `--symbols` is not given.
pub const DEFAULT_SYMBOLS: &str = "ACME,BOLT,CRUX,DYNA,ECHO,FLUX,GRIT,HALO";

/// pushlab-server: one simulated price ticker served over polling, long-polling,
/// Server-Sent Events and WebSocket, side by side.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, env = "PUSHLAB_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Ticks per second over all symbols (0.1 to 100000); changeable at run time
    /// with `POST /api/admin/rate`.
    #[arg(long, env = "PUSHLAB_RATE", default_value_t = 20.0, value_parser = parse_rate)]
    pub rate: f64,

    /// Comma-separated symbols of the simulated market (at most 64).
    #[arg(long, env = "PUSHLAB_SYMBOLS", value_delimiter = ',', default_value = DEFAULT_SYMBOLS, value_parser = parse_symbol)]
    pub symbols: Vec<String>,

    /// Seed of the random walk: the same seed gives the same symbols and prices.
    #[arg(long, env = "PUSHLAB_SEED", default_value_t = 42)]
    pub seed: u64,

    /// How many of the latest ticks the server keeps, so clients can resume from a cursor.
    #[arg(long, env = "PUSHLAB_HISTORY", default_value_t = HISTORY_DEFAULT, value_parser = clap::value_parser!(u64).range(HISTORY_RANGE))]
    pub history: u64,

    /// The epoch of this run of the log (SPEC §7): 4 to 12 of `[a-z0-9]`. By default a
    /// new random one at each start, so clients' cursors of an earlier run get a reset
    /// notice instead of being read as this run's. Give the same one to replicas fed by
    /// one broker; never reuse one for a fresh log.
    #[arg(long, env = "PUSHLAB_EPOCH", value_parser = parse_epoch)]
    pub epoch: Option<String>,

    /// Idle SSE streams get a `:` comment, and WebSockets a ping, this often (e.g. 15s, 500ms).
    #[arg(long, env = "PUSHLAB_KEEPALIVE", default_value = "15s", value_parser = parse_keepalive)]
    pub keepalive: Duration,

    /// Send SSE streams no keepalive comment at all (WebSocket pings stay): what an idle
    /// stream meets behind a proxy's read timeout (the proxy lab, `docs/proxies.md`).
    #[arg(long, env = "PUSHLAB_SSE_KEEPALIVE_OFF")]
    pub sse_keepalive_off: bool,

    /// Write coalescing: a stream (SSE, WebSocket) woken by a tick waits this long more
    /// and writes everything that arrived meanwhile in one write: fewer `send()`s per
    /// tick, for up to this much more latency. `0` (the default) writes at once.
    #[arg(long, env = "PUSHLAB_COALESCE", default_value = "0", value_parser = parse_coalesce)]
    pub coalesce: Duration,

    /// Open SSE streams, WebSockets and pending long-polls allowed at once; past it, 503.
    /// TCP connections of any kind are capped at this + 64 (and below the fd limit):
    /// past that, new connections are closed as soon as they are accepted.
    #[arg(long, env = "PUSHLAB_MAX_CONNECTIONS", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// A request's head must arrive within this (from its first byte; for a
    /// connection's first request, from the accept), or the connection is closed: a
    /// client sending headers a byte at a time (slowloris) cannot hold a socket open.
    #[arg(long, env = "PUSHLAB_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_connection_timeout)]
    pub header_timeout: Duration,

    /// A connection with no request in flight is closed after this (open streams,
    /// WebSockets and held long-polls are in flight, never idle).
    #[arg(long, env = "PUSHLAB_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_connection_timeout)]
    pub idle_timeout: Duration,

    /// End each SSE stream and WebSocket after about this long (±10 %, so they do not
    /// all come back at once): SSE by ending the response (the browser reconnects with
    /// Last-Event-ID), WebSocket with close 1012. Clients resume from their cursor and
    /// lose nothing. Off by default (e.g. 5m, 30s).
    #[arg(long, env = "PUSHLAB_STREAM_MAX_AGE", value_parser = parse_stream_max_age)]
    pub stream_max_age: Option<Duration>,

    /// Pad every tick with a `pad` string to about this many bytes (64 to 65536).
    #[arg(long, env = "PUSHLAB_PAYLOAD_BYTES", value_parser = clap::value_parser!(u64).range(PAYLOAD_BYTES_RANGE))]
    pub payload_bytes: Option<u64>,

    /// Extra WebSocket `Origin`s to accept, comma-separated (`*` accepts any). The
    /// server's own origin and clients that send none are always accepted.
    #[arg(long, env = "PUSHLAB_ALLOW_ORIGIN", value_delimiter = ',')]
    pub allow_origin: Vec<String>,

    /// Links the live demo can put its panels on, comma-separated profiles (lan, wifi,
    /// 4g, 3g, satellite, lossy): each gets a port of its own where an emulator relays
    /// to this server through the link; the page lists them (GET /api/links). Off by
    /// default; `just serve` turns on 4g,3g,satellite,lossy.
    #[arg(long, env = "PUSHLAB_DEMO_LINKS", value_delimiter = ',', value_parser = parse_demo_link)]
    pub demo_links: Vec<String>,

    /// A NATS server (e.g. `nats://127.0.0.1:4222`) joining this server to a cluster
    /// (docs/cluster.md). Alone, a replica: the ticks, their epoch and the symbols come
    /// from the broker's JetStream stream, not from a ticker of its own. With
    /// `--publish`, the one publisher. Off by default: one process, its own ticker.
    #[arg(long, env = "PUSHLAB_BROKER", value_parser = crate::broker::parse_url)]
    pub broker: Option<String>,

    /// With `--broker`: run the ticker here and publish every tick to the broker
    /// (this server serves its clients too); one publisher per cluster.
    #[arg(long, env = "PUSHLAB_PUBLISH", requires = "broker")]
    pub publish: bool,

    /// With `--broker`: the subjects' prefix (ticks on `<prefix>.ticks.<symbol>`) and,
    /// upper-cased, the JetStream stream's name. One prefix, one feed.
    #[arg(long, env = "PUSHLAB_BROKER_PREFIX", default_value = "pushlab", value_parser = crate::broker::parse_prefix)]
    pub broker_prefix: String,

    /// With `--broker`: this server's name in the cluster, in `/api/stats` and the
    /// `X-Pushlab-Replica` header (default: `replica-<port>`, `publisher-<port>`).
    #[arg(long, env = "PUSHLAB_REPLICA_ID", requires = "broker", value_parser = parse_symbol)]
    pub replica_id: Option<String>,

    /// Ports of the other servers of a cluster on this host, comma-separated: a page of
    /// any of them may use this one (CORS, the WebSocket origin check), as the demo's
    /// `?replicas=` does. `pushlab-load cluster` passes every member's.
    #[arg(long, env = "PUSHLAB_PEER_PORTS", value_delimiter = ',')]
    pub peer_ports: Vec<u16>,

    /// Worker threads of the async runtime; 0 (the default) means one per core.
    #[arg(long, env = "PUSHLAB_THREADS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=256))]
    pub threads: u64,

    /// Log filter, e.g. `info`, `debug`, `pushlab_server=trace`.
    #[arg(long, env = "PUSHLAB_LOG", default_value = "info")]
    pub log: String,

    /// Serve the pages from this folder instead of the copy compiled in (for editing them).
    #[arg(long, env = "PUSHLAB_WEB_DIR")]
    pub web_dir: Option<PathBuf>,

    /// HTTPS and HTTP/2 (`--tls`, `--tls-cert`, `--tls-key`).
    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,

    /// Where `GET /results/<name>.json` reads the load generator's results from.
    #[arg(long, env = "PUSHLAB_RESULTS_DIR", default_value = "results")]
    pub results_dir: PathBuf,
}

impl Config {
    /// The defaults, as if started with no flags (environment variables still apply).
    pub fn from_defaults() -> Self {
        Config::parse_from(["pushlab-server"])
    }

    /// The defaults with the listed flags, e.g. `["--rate", "100"]`; panics on a bad flag.
    pub fn with_args<'a>(args: impl IntoIterator<Item = &'a str>) -> Self {
        Config::parse_from(std::iter::once("pushlab-server").chain(args))
    }
}

fn parse_demo_link(s: &str) -> Result<String, String> {
    match pushlab_link::LinkSpec::profile(s) {
        Some(link) => Ok(link.name),
        None => {
            let names: Vec<&str> = pushlab_link::spec::PROFILES.iter().map(|(name, _)| *name).collect();
            Err(format!("{s:?} is not a link profile; one of {}", names.join(", ")))
        }
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let range = format!("a number from {} to {}", RATE_RANGE.start(), RATE_RANGE.end());
    let rate: f64 = s.parse().map_err(|_| format!("expected {range}, got {s:?}"))?;
    if RATE_RANGE.contains(&rate) { Ok(rate) } else { Err(format!("expected {range}, got {rate}")) }
}

fn parse_symbol(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 16
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!("a symbol is 1 to 16 letters, digits, '-' or '.', got {s:?}"))
    }
}

fn parse_epoch(s: &str) -> Result<String, String> {
    if pushlab_contract::epoch::is_epoch(s) {
        Ok(s.to_owned())
    } else {
        Err(format!("expected 4 to 12 lowercase letters or digits, got {s:?}"))
    }
}

fn parse_keepalive(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 15s, 500ms)"))?;
    if d >= Duration::from_millis(10) && d <= Duration::from_secs(3600) {
        Ok(d)
    } else {
        Err("expected a duration from 10ms to 1h".into())
    }
}

/// A duration in `range`, e.g. `10s` or `500ms`.
fn parse_duration_in(s: &str, range: &RangeInclusive<Duration>) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 10s, 500ms)"))?;
    if range.contains(&d) {
        Ok(d)
    } else {
        Err(format!("expected a duration from {:?} to {:?}", range.start(), range.end()))
    }
}

fn parse_connection_timeout(s: &str) -> Result<Duration, String> {
    parse_duration_in(s, &CONNECTION_TIMEOUT_RANGE)
}

fn parse_stream_max_age(s: &str) -> Result<Duration, String> {
    parse_duration_in(s, &STREAM_MAX_AGE_RANGE)
}

fn parse_coalesce(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 0, 5ms, 20ms)"))?;
    let most = Duration::from_millis(COALESCE_MAX_MS);
    if d <= most { Ok(d) } else { Err(format!("expected 0 or a duration up to {most:?}")) }
}

/// Checks what clap cannot see per value: the symbol list as a whole.
pub fn validate(config: &Config) -> Result<(), String> {
    let symbols = &config.symbols;
    if symbols.is_empty() || symbols.len() > MAX_SYMBOLS {
        return Err(format!("--symbols: expected 1 to {MAX_SYMBOLS} symbols, got {}", symbols.len()));
    }
    if config.broker.is_some() && !config.publish && config.epoch.is_some() {
        return Err("--epoch: a replica takes its epoch from the broker's stream".into());
    }
    if let Some(dup) = symbols.iter().enumerate().find(|(i, s)| symbols[..*i].contains(s)) {
        return Err(format!("--symbols: {} is listed twice", dup.1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::from_defaults();
        assert_eq!(
            (c.addr.to_string(), c.rate, c.history, c.max_connections),
            ("127.0.0.1:3000".into(), 20.0, 4096, 100_000)
        );
        assert_eq!((c.symbols.len(), c.keepalive, c.coalesce), (8, Duration::from_secs(15), Duration::ZERO));
        assert_eq!(Config::with_args(["--coalesce", "5ms"]).coalesce, Duration::from_millis(5));
        assert_eq!(c.epoch, None);
        assert_eq!(
            (c.header_timeout, c.idle_timeout, c.stream_max_age),
            (Duration::from_secs(10), Duration::from_secs(60), None)
        );
        let c = Config::with_args(["--header-timeout", "300ms", "--stream-max-age", "5m"]);
        assert_eq!(
            (c.header_timeout, c.stream_max_age),
            (Duration::from_millis(300), Some(Duration::from_secs(300)))
        );
        assert_eq!(Config::with_args(["--epoch", "run2"]).epoch.as_deref(), Some("run2"));
        assert_eq!((c.broker, c.publish, c.broker_prefix.as_str()), (None, false, "pushlab"));
    }

    #[test]
    fn out_of_range_flags_are_refused() {
        for args in [
            ["--rate", "0"],
            ["--rate", "100001"],
            ["--keepalive", "1ns"],
            ["--coalesce", "2s"],
            ["--history", "0"],
            ["--symbols", "A,,B"],
            ["--epoch", "abc"],
            ["--epoch", "ABCD"],
            ["--epoch", "abcd-1"],
            ["--header-timeout", "1ms"],
            ["--idle-timeout", "2d"],
            ["--idle-timeout", "x"],
            ["--stream-max-age", "10ms"],
            ["--broker", "http://127.0.0.1:4222"],
            ["--broker-prefix", "a.b"],
            ["--publish", "--rate=1"],
        ] {
            assert!(Config::try_parse_from(std::iter::once("s").chain(args)).is_err(), "{args:?}");
        }
        assert!(validate(&Config::with_args(["--symbols", "A,B,A"])).is_err());
        assert!(validate(&Config::with_args(["--symbols", "A,B"])).is_ok());
        let replica_with_epoch = Config::with_args(["--broker", "nats://127.0.0.1:4222", "--epoch", "abcd"]);
        assert!(validate(&replica_with_epoch).is_err());
    }
}
