//! The results document: what `compare` writes to `results/*.json` and what the report
//! page reads. Field names are a contract with `web/report.html`; add fields, never
//! rename them, and bump [`SCHEMA`] on a breaking change. Documented field by field in
//! `docs/results.schema.json`; every figure's method is in `docs/methodology.md`, and
//! its label and unit in the figure catalogue the document carries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::calibrate::Calibration;
use crate::link::LinkRecord;
use crate::procfs::Machine;
use crate::radio::RadioFigures;
use pushlab_contract::Transport;
use pushlab_contract::figures::{CATALOGUE, Catalogue};

use crate::scenario::Scenario;

mod faults;
pub use faults::{FaultRecord, FaultTimeline, PeakFigures, RecoveryFigures};

/// Version of the results layout.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub schema: u32,
    pub generated_at: String,
    pub machine: Machine,
    pub scenario: Scenario,
    /// What a loopback `send()`, `recv()` and round trip cost on this machine, measured
    /// once before the runs; absent from files written before it was (or if it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    pub runs: Vec<RunRecord>,
    /// The faults preset's records, one per fault and transport (absent otherwise:
    /// a file without faults reads as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultRecord>,
    /// What each figure of `runs` is — key, label, unit, which way is better — so the
    /// report shows a file with the labels and units of the code that measured it. Only
    /// written: Rust code reading a results file uses the catalogue it was built with.
    #[serde(skip_deserializing, default = "catalogue")]
    pub catalogue: &'static Catalogue,
}

fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

impl Results {
    /// The results of `runs`, stamped now, on this machine, with the machine's
    /// `calibration`, in whose unit each run's server CPU per tick is then also given
    /// (`server.cpu_per_tick_sends`).
    pub fn new(scenario: Scenario, mut runs: Vec<RunRecord>, calibration: Option<Calibration>) -> Self {
        for run in &mut runs {
            run.server.cpu_per_tick_sends = calibration.as_ref().and_then(|c| cpu_per_tick_sends(run, c));
        }
        let machine = Machine::this();
        Self {
            schema: SCHEMA,
            generated_at: timestamp(),
            machine,
            scenario,
            calibration,
            runs,
            faults: Vec::new(),
            catalogue: &CATALOGUE,
        }
    }
}

/// Server CPU per delivered tick in sends to a waiting reader, if both were measured.
fn cpu_per_tick_sends(run: &RunRecord, calibration: &Calibration) -> Option<f64> {
    (run.ticks.delivered > 0).then(|| calibration.in_sends(run.server.cpu_us_per_tick)).flatten()
}

/// Every figure of one transport at one client count and rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub transport: Transport,
    pub clients: usize,
    pub rate: f64,
    pub poll_interval_ms: u64,
    /// The server's `--coalesce` in ms (0 = off): known when `compare` started the
    /// server, absent for `run` against a server already running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coalesce_ms: Option<u64>,
    /// The server's `--keepalive` in ms, when `compare` set it (absent: the default, 15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_ms: Option<u64>,
    pub window_s: f64,
    /// How long after the window its ticks were still waited for.
    pub drain_s: f64,
    pub latency_us: Latency,
    pub ticks: Ticks,
    pub requests: Requests,
    pub wire: Wire,
    pub server: ServerFigures,
    pub connect: Connect,
    /// How the clients came back from broken connections (absent from older files).
    #[serde(default)]
    pub reconnect: ReconnectFigures,
    pub errors: BTreeMap<String, u64>,
    pub loadgen: Loadgen,
    /// The emulated link the clients went over (`--link`); absent on plain loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkRecord>,
    /// What the clients' socket timings would cost a phone's radio: a model applied to
    /// measured timings (`radio.rs`); absent from files written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radio: Option<RadioFigures>,
    /// What stood between the clients and the server (`--via`) and what it did to the
    /// transport; absent outside the proxy lab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<crate::proxy::ProxyRecord>,
    /// TLS and HTTP/2 (`--tls`, `--http2`); absent on plain HTTP/1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<crate::protocol::ProtocolRecord>,
    /// The load generator's processes (`--workers`): each one's share and cost, each
    /// server's memory per connection, the clients that moved; absent for one process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<crate::workers::WorkersRecord>,
    /// The broker-fed cluster the run was served by (`compare --preset cluster`): its
    /// replicas, the one killed, the broker's cost; absent for a single server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::cluster::compare::ClusterFigures>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl From<&Histogram<u64>> for Latency {
    fn from(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticks {
    /// Unique ticks received with `ts_us` in the window, summed over clients (a tick
    /// is unique within its epoch: seq 5 of a restarted server is another tick).
    pub delivered: u64,
    /// Ticks generated in the window matching the filter, summed over clients; an
    /// epoch a client left (a restart) counts only up to its last tick of it.
    pub expected: u64,
    /// Expected ticks a client did not receive, counted within an epoch: what was
    /// missed across a restart is unknown and counted as `reconnect.resets` instead.
    pub lost: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    /// Of the lost, those the server announced as evicted (gap notices / `missed`).
    pub gap_missed: u64,
    /// Expected ticks per client (the reference's count).
    pub expected_per_client: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// HTTP requests or WebSocket handshakes sent during the window.
    pub total: u64,
    pub per_client_per_min: f64,
    /// Poll / long-poll answers with no tick (and no gap), whole run.
    pub empty: u64,
    /// Polls answered after their next slot had begun, whole run.
    pub late: u64,
}

/// Reconnects and what the clients met doing them, over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReconnectFigures {
    /// Connections clients opened after their first.
    pub attempts: u64,
    /// Connects the kernel refused (ECONNREFUSED: nothing listening).
    pub refused: u64,
    /// Answers 503 (the server at its connection cap).
    pub status_503: u64,
    /// Reset notices: a client's cursor was of another run of the server (SPEC §7).
    pub resets: u64,
    /// Clients that gave up (`--reconnect none`).
    pub ended: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Wire {
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// (read + written) ÷ delivered.
    pub bytes_per_tick: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerFigures {
    pub cpu_s: f64,
    pub cpu_us_per_tick: f64,
    /// `cpu_us_per_tick` ÷ the calibration's median send to a waiting reader: `None`
    /// without a calibration or a delivered tick (and in files from before).
    #[serde(default)]
    pub cpu_per_tick_sends: Option<f64>,
    pub rss_before_bytes: u64,
    pub rss_with_clients_bytes: u64,
    pub heap_before_bytes: u64,
    pub heap_with_clients_bytes: u64,
    pub rss_per_conn_bytes: f64,
    pub heap_per_conn_bytes: f64,
    /// The kernel's memory for the server's sockets (`sockdiag.rs`), with all
    /// connected, ÷ clients; these five are `None` where the kernel was not asked (a
    /// server on another machine) or would not say. Files from before per-socket
    /// measurement hold a machine-wide figure here, and no socket counts.
    pub tcp_mem_per_conn_bytes: Option<f64>,
    pub tcp_mem_before_bytes: Option<u64>,
    pub tcp_mem_with_clients_bytes: Option<u64>,
    /// The server's connected sockets the kernel listed at the two samples.
    #[serde(default)]
    pub tcp_sockets_before: Option<u64>,
    #[serde(default)]
    pub tcp_sockets_with_clients: Option<u64>,
    /// One TCP socket object's slab size (`/proc/slabinfo`), where readable.
    #[serde(default)]
    pub tcp_socket_slab_bytes: Option<u64>,
    /// Where `cpu_s` came from: `proc` (`/proc/<pid>/stat`) or `stats` (`/api/stats`).
    pub cpu_source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Connect {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Per client, from starting its first connect to its first tick (whole run; files
    /// written before it have none: not measured).
    #[serde(default)]
    pub first_tick_count: u64,
    #[serde(default)]
    pub first_tick_p50_us: u64,
    #[serde(default)]
    pub first_tick_p99_us: u64,
}

impl Connect {
    /// Connect times, and each client's time to its first tick.
    pub fn of(connect: &Histogram<u64>, first_tick: &Histogram<u64>) -> Self {
        let (c, f) = (Latency::from(connect), Latency::from(first_tick));
        Self {
            count: c.count,
            p50_us: c.p50,
            p99_us: c.p99,
            max_us: c.max,
            first_tick_count: f.count,
            first_tick_p50_us: f.p50,
            first_tick_p99_us: f.p99,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Loadgen {
    /// The load generator's own user+sys CPU over the window.
    pub cpu_s: f64,
    /// cpu_s ÷ window, in % of one core (200 % = both cores of a 2-core machine).
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    /// Live heap of the load generator at the window's end.
    pub heap_bytes: u64,
    /// Heap growth from before the clients started, per client.
    pub heap_per_client_bytes: f64,
    /// The machine's 1-minute load average at the window's end: above the core count,
    /// something else competed for the CPU while this was measured.
    pub host_load_1m: f64,
}

/// Divide, or 0 when there is nothing to divide by (no tick delivered, no client).
pub fn per(numerator: f64, denominator: u64) -> f64 {
    if denominator == 0 { 0.0 } else { numerator / denominator as f64 }
}

/// `2026-11-26T15:00:00Z` for now.
pub fn timestamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Write `<dir>/<timestamp>.json` and `<dir>/latest.json`; returns the first path.
pub fn write(results: &Results, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    // ':' is not allowed in file names everywhere people copy results to.
    let path = dir.join(format!("{}.json", results.generated_at.replace(':', "-")));
    std::fs::write(&path, &json)?;
    std::fs::write(dir.join("latest.json"), &json)?;
    Ok(path)
}

#[cfg(test)]
pub(crate) mod tests;
