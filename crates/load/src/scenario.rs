//! What a comparison runs: the transports, the knobs, and the presets that set them.
//!
//! A [`Scenario`] is written into the results as it was run, every knob included, so a
//! figure can always be traced to the settings that produced it. It is the sweep (which
//! transports, client counts and rates) plus the [`Knobs`] every run of it shares; one
//! run is those knobs with one transport and one client count ([`RunSpec`]).

use std::time::Duration;

use pushlab_contract::Transport;
use pushlab_contract::limits::{HISTORY_DEFAULT, LONG_POLL_TIMEOUT_MS_DEFAULT};
use serde::{Deserialize, Serialize};

use crate::clients::Reconnect;
use crate::faults::{self, FaultStep};
pub use crate::proxy::ProxyKnobs;
use crate::proxy::Via;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// All four transports, 100 clients, 20 ticks/s, 1 s poll interval, 15 s window.
    Quick,
    /// A quiet feed (0.5 ticks/s) and a busy one (50 ticks/s), 1,000 clients each.
    Workshop,
    /// 100, 1k, 5k, 10k and 19k clients per transport.
    Scale,
    /// What each connection costs, in one run of about 5 minutes: 5,000 idle clients per
    /// push transport, 2,000 × 100 ticks/s with and without write coalescing, 1,000
    /// long-polls × 20 ticks/s, 2,000 polls every 250 ms, and the quick preset's four.
    Efficiency,
    /// What each transport's clients go through when the server does not stay up, in
    /// about 3 minutes: a graceful restart, a crash, stream recycling (SSE, WebSocket)
    /// with 100 clients each, and a reconnect storm of 5,000 clients dropped at once,
    /// with and without jitter.
    Faults,
    /// The four transports over emulated links (`lan`, `4g`, `3g`, `satellite`,
    /// `lossy`), 100 clients at 20 ticks/s, in about 4 minutes: where they really differ.
    Conditions,
    /// What the transports would cost a phone (the radio model) on a 4g link, 50 clients
    /// following one symbol, in about 11 minutes: a quiet feed (a tick a minute) with
    /// polling every 15 s, long-polls, and SSE and WebSocket with a 15 s and a 60 s
    /// keepalive; then a busy one (2.5 ticks/s).
    Battery,
    /// What a proxy does to each transport, in about 4 minutes: the four transports
    /// direct and through nginx-default, nginx-tuned and buffering-proxy (20 clients,
    /// 20 ticks/s), then a quiet feed's SSE and long-poll behind the proxies' read
    /// timeout (3 s, scaled down from nginx's 60 s), SSE with its keepalive off and on.
    Proxies,
    /// SSE over HTTP/1.1 against HTTP/2, in about 2 minutes: 2,000 clients at 20 ticks/s
    /// on plain HTTP/1.1, HTTP/1.1 over TLS (a connection each), and HTTP/2 with 1, 10
    /// and 100 streams per connection.
    Http2,
    /// 100,000 WebSocket, then 100,000 SSE clients at 1 and 10 ticks/s, each run on a
    /// fresh broker-fed cluster (nats-server, a publisher, 7 replicas) through 7 worker
    /// processes, replica-1 killed halfway through the window (about 8 minutes).
    /// Smaller with --clients, --replicas, --workers, --duration.
    Cluster,
    /// A single `pushlab-load run` against a server already running (recorded in its
    /// results; not offered to `compare`).
    #[value(skip)]
    Run,
    /// A single server and a broker-fed replica side by side, assembled from
    /// `pushlab-load run`s by `scripts/broker-hop.sh` (not offered to `compare`).
    #[value(skip)]
    BrokerHop,
    /// One `pushlab-load run` per replica of a cluster, assembled by
    /// `scripts/cluster-scale.sh` (not offered to `compare`).
    #[value(skip)]
    ClusterScale,
}

/// Every knob of a comparison, as recorded in the results' `scenario`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub preset: Preset,
    pub transports: Vec<Transport>,
    pub clients: Vec<usize>,
    /// Server tick rates, ticks/s over all symbols.
    pub rates: Vec<f64>,
    /// The server's `--coalesce` values, each a separate run, in whole milliseconds
    /// (0 = off; files written before coalescing have none, which means off).
    #[serde(
        rename = "coalesce_ms",
        with = "millis_list",
        default = "no_coalescing",
        skip_serializing_if = "is_no_coalescing"
    )]
    pub coalesce: Vec<Duration>,
    /// Runs listed one by one, replacing the sweep (the efficiency preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
    /// Links each run of the sweep goes over, each a separate run (`--link` specs, e.g.
    /// `3g`); empty: loopback, no link (files from before links have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// What the clients go through, each a separate run (`--via`, the proxies preset);
    /// empty: direct, outside the proxy lab (files from before it have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vias: Vec<Via>,
    /// Fault runs listed one by one, replacing the sweep (the faults preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<Vec<FaultStep>>,
    /// Flattened: in the results its keys sit beside `rates`, as they always have.
    #[serde(flatten)]
    pub knobs: Knobs,
    /// How the servers of a file assembled by the cluster scripts were fed (a single
    /// server's own ticker, replicas through NATS); absent for everything `compare` writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feeds: Option<String>,
}

/// What every run of a scenario is set to. Durations are `Duration`s here; the results
/// keep the numbers they have always had (`poll_interval_ms`, `duration_s`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    /// Each polling client's interval, in whole milliseconds (as recorded).
    #[serde(rename = "poll_interval_ms", with = "millis")]
    pub poll_interval: Duration,
    /// The measurement window.
    #[serde(rename = "duration_s", with = "seconds")]
    pub duration: Duration,
    /// Time over which the clients connect, evenly spread.
    #[serde(rename = "ramp_s", with = "seconds")]
    pub ramp: Duration,
    /// Time between the last connect and the window.
    #[serde(rename = "settle_s", with = "seconds")]
    pub settle: Duration,
    /// The clients' symbol filter; `None` = every symbol.
    pub symbols: Option<Vec<String>>,
    /// The server's `--payload-bytes`; `None` = plain ticks.
    pub payload_bytes: Option<usize>,
    /// The server's `--history` (ticks kept for resuming), which the expected-ticks
    /// reader must keep up with.
    pub history: usize,
    /// The server's `--seed`.
    pub seed: u64,
    /// How long the server may hold a long-poll, in whole milliseconds (`timeout_ms`).
    #[serde(rename = "long_poll_timeout_ms", with = "millis")]
    pub long_poll_timeout: Duration,
    /// The server's `--coalesce` for one run (a scenario records its sweep instead).
    #[serde(skip)]
    pub coalesce: Duration,
    /// How clients come back after a broken connection (`--reconnect`). Written unless
    /// it is `fixed`: files from before the flag have none, and their clients waited a
    /// fixed delay, so they keep their layout and absent means fixed.
    #[serde(default = "Reconnect::before_the_flag", skip_serializing_if = "Reconnect::is_before_the_flag")]
    pub reconnect: Reconnect,
    /// The emulated link between each client and the server (`--link`, a spec
    /// `pushlab-link` reads) for one run; `None` is plain loopback. A scenario records
    /// its sweep in `links`.
    #[serde(skip)]
    pub link: Option<String>,
    /// The server's `--keepalive` (SSE comment, WebSocket ping), in whole ms; `None`
    /// leaves the server's default (15 s).
    #[serde(rename = "keepalive_ms", default, skip_serializing_if = "Option::is_none", with = "millis_opt")]
    pub keepalive: Option<Duration>,
    /// The proxy lab's settings (`--via`, `--sse-keepalive-off`, `--proxy-read-timeout`).
    #[serde(flatten)]
    pub proxy: ProxyKnobs,
    /// Over TLS (`--tls`; `compare` starts the server with `--tls`): written only when on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
    /// Over HTTP/2 (`--http2`, which implies TLS): this many clients' streams share each
    /// connection; `None` is HTTP/1.1, a connection per client.
    #[serde(rename = "http2_streams_per_connection", default, skip_serializing_if = "Option::is_none")]
    pub http2_streams: Option<usize>,
}

/// One run of a preset that lists its runs: what it sets beyond the scenario's knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub transport: Transport,
    pub clients: usize,
    pub rate: f64,
    /// The polling interval, if not the scenario's.
    #[serde(
        rename = "poll_interval_ms",
        default,
        skip_serializing_if = "Option::is_none",
        with = "millis_opt"
    )]
    pub poll_interval: Option<Duration>,
    #[serde(rename = "coalesce_ms", default, with = "millis")]
    pub coalesce: Duration,
    /// The server's `--keepalive`, if not the scenario's.
    #[serde(rename = "keepalive_ms", default, skip_serializing_if = "Option::is_none", with = "millis_opt")]
    pub keepalive: Option<Duration>,
    /// The link, if not the scenario's first (the battery preset's steps all go over one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// What stands between clients and server, if not direct (the proxies preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// The server's `--sse-keepalive-off` for this run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sse_keepalive_off: bool,
    /// Over TLS, if the scenario is not (the http2 preset's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
    /// Over HTTP/2 with this many streams per connection, if the scenario is not.
    #[serde(rename = "http2_streams_per_connection", default, skip_serializing_if = "Option::is_none")]
    pub http2_streams: Option<usize>,
}

impl Step {
    fn new(transport: Transport, clients: usize, rate: f64) -> Self {
        Step {
            transport,
            clients,
            rate,
            poll_interval: None,
            coalesce: Duration::ZERO,
            keepalive: None,
            link: None,
            via: None,
            sse_keepalive_off: false,
            tls: false,
            http2_streams: None,
        }
    }
}

/// One run of a plan: what it drives, at which server rate.
#[derive(Debug, Clone)]
pub struct Planned {
    pub spec: RunSpec,
    pub rate: f64,
}

fn no_coalescing() -> Vec<Duration> {
    vec![Duration::ZERO]
}

/// Written only when it says more than "off", so files keep the layout they had.
fn is_no_coalescing(list: &[Duration]) -> bool {
    list == [Duration::ZERO]
}

impl Default for Knobs {
    /// The quick preset's.
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            duration: Duration::from_secs(15),
            ramp: Duration::from_secs(2),
            settle: Duration::from_secs(2),
            symbols: None,
            payload_bytes: None,
            history: HISTORY_DEFAULT as usize,
            seed: 42,
            long_poll_timeout: Duration::from_millis(LONG_POLL_TIMEOUT_MS_DEFAULT),
            coalesce: Duration::ZERO,
            reconnect: Reconnect::Jitter,
            link: None,
            keepalive: None,
            proxy: ProxyKnobs::default(),
            tls: false,
            http2_streams: None,
        }
    }
}

/// What one run does: the scenario's knobs, with one transport and one client count.
/// (Its timeline — ramp, settle, window, drain — is `run.rs`'s.)
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub transport: Transport,
    pub clients: usize,
    pub knobs: Knobs,
}

impl Scenario {
    pub fn preset(preset: Preset) -> Self {
        let quick = Knobs::default();
        let mut steps = None;
        let mut fault_steps = None;
        let mut links = Vec::new();
        let mut vias = Vec::new();
        let (clients, rates, knobs) = match preset {
            Preset::Quick | Preset::Run | Preset::BrokerHop | Preset::ClusterScale => {
                (vec![100], vec![20.0], quick)
            }
            // 100,000 connects take a minute on two cores; the kill is in the window's middle.
            Preset::Cluster => {
                let knobs = Knobs {
                    duration: Duration::from_secs(30),
                    ramp: Duration::from_secs(60),
                    settle: Duration::from_secs(10),
                    ..quick
                };
                (vec![100_000], vec![1.0, 10.0], knobs)
            }
            Preset::Efficiency => {
                steps = Some(efficiency_steps());
                let knobs = Knobs {
                    duration: Duration::from_secs(8),
                    ramp: Duration::from_secs(4),
                    settle: Duration::from_secs(2),
                    ..quick
                };
                (vec![100, 1000, 2000, 5000], vec![1.0, 20.0, 100.0], knobs)
            }
            Preset::Http2 => {
                steps = Some(http2_steps());
                let knobs = Knobs {
                    duration: Duration::from_secs(8),
                    ramp: Duration::from_secs(4),
                    settle: Duration::from_secs(2),
                    ..quick
                };
                (vec![HTTP2_CLIENTS], vec![HTTP2_RATE], knobs)
            }
            // Satellite connects take two round trips (handshake, first answer): 1.2 s.
            Preset::Conditions => {
                links = CONDITIONS_LINKS.map(String::from).to_vec();
                let knobs = Knobs {
                    duration: Duration::from_secs(6),
                    ramp: Duration::from_secs(1),
                    settle: Duration::from_secs(2),
                    ..quick
                };
                (vec![100], vec![20.0], knobs)
            }
            // A minute's window: a quiet feed's tick, and a 60 s keepalive, come once in it.
            Preset::Battery => {
                steps = Some(battery_steps());
                links = vec!["4g".into()];
                let knobs = Knobs {
                    duration: Duration::from_secs(60),
                    ramp: Duration::from_secs(2),
                    settle: Duration::from_secs(1),
                    symbols: Some(vec![BATTERY_SYMBOL.into()]),
                    ..quick
                };
                (vec![BATTERY_CLIENTS], vec![BATTERY_QUIET_RATE, BATTERY_BUSY_RATE], knobs)
            }
            Preset::Proxies => {
                steps = Some(proxies_steps());
                vias = PROXIES_VIAS.to_vec();
                (vec![PROXIES_CLIENTS], vec![PROXIES_BUSY_RATE, PROXIES_QUIET_RATE], proxies_knobs(quick))
            }
            // Each fault run sets its own clients, rate, ramp and window.
            Preset::Faults => {
                fault_steps = Some(faults::preset_steps(&Transport::ALL, quick.reconnect));
                let knobs = Knobs { settle: Duration::from_secs(1), ..quick };
                (
                    vec![faults::FAULT_CLIENTS, faults::STORM_CLIENTS],
                    vec![faults::FAULT_RATE, faults::STORM_RATE],
                    knobs,
                )
            }
            // At 0.5 ticks/s a 15 s window holds ~7 ticks: too few to read percentiles.
            Preset::Workshop => {
                let knobs =
                    Knobs { duration: Duration::from_secs(30), ramp: Duration::from_secs(3), ..quick };
                (vec![1000], vec![0.5, 50.0], knobs)
            }
            // 19,000 connections take a while to open without a connect storm.
            Preset::Scale => {
                let knobs = Knobs { ramp: Duration::from_secs(10), settle: Duration::from_secs(3), ..quick };
                (vec![100, 1000, 5000, 10_000, 19_000], vec![20.0], knobs)
            }
        };
        let transports = match preset {
            Preset::Cluster => vec![Transport::Ws, Transport::Sse],
            _ => Transport::ALL.to_vec(),
        };
        Self {
            preset,
            transports,
            clients,
            rates,
            coalesce: no_coalescing(),
            steps,
            links,
            vias,
            faults: fault_steps,
            knobs,
            feeds: None,
        }
    }

    /// The runs in the order they are made: the listed steps if any, else each transport
    /// through every link, rate, coalescing and client count, so one transport's sweep
    /// reads as a line.
    pub fn plan(&self) -> Vec<Planned> {
        let run = |step: &Step| Planned {
            spec: RunSpec {
                transport: step.transport,
                clients: step.clients,
                knobs: Knobs {
                    poll_interval: step.poll_interval.unwrap_or(self.knobs.poll_interval),
                    coalesce: step.coalesce,
                    keepalive: step.keepalive.or(self.knobs.keepalive),
                    link: step.link.clone().or_else(|| self.links.first().cloned()),
                    proxy: ProxyKnobs {
                        via: step.via.or_else(|| self.vias.first().copied()),
                        sse_keepalive_off: step.sse_keepalive_off || self.knobs.proxy.sse_keepalive_off,
                        ..self.knobs.proxy.clone()
                    },
                    tls: step.tls || self.knobs.tls,
                    http2_streams: step.http2_streams.or(self.knobs.http2_streams),
                    ..self.knobs.clone()
                },
            },
            rate: step.rate,
        };
        if let Some(steps) = &self.steps {
            return steps.iter().map(run).collect();
        }
        if self.faults.is_some() {
            // Fault runs are planned by their own list (`faults`), not as runs.
            return Vec::new();
        }
        // No link listed: one run per combination on plain loopback.
        let links: Vec<Option<&String>> =
            if self.links.is_empty() { vec![None] } else { self.links.iter().map(Some).collect() };
        // No --via: direct, outside the proxy lab (nothing recorded of a proxy).
        let vias: Vec<Option<Via>> =
            if self.vias.is_empty() { vec![None] } else { self.vias.iter().copied().map(Some).collect() };
        let mut plan = Vec::new();
        for &t in &self.transports {
            for (link, &via) in links.iter().flat_map(|l| vias.iter().map(move |v| (l, v))) {
                for &rate in &self.rates {
                    for &coalesce in &self.coalesce {
                        for &clients in &self.clients {
                            let mut planned = run(&Step { coalesce, ..Step::new(t, clients, rate) });
                            planned.spec.knobs.link = link.cloned();
                            planned.spec.knobs.proxy.via = via;
                            plan.push(planned);
                        }
                    }
                }
            }
        }
        plan
    }
}

mod presets;
pub use presets::{
    BATTERY_BUSY_RATE, BATTERY_CLIENTS, BATTERY_QUIET_RATE, BATTERY_SYMBOL, CONDITIONS_LINKS,
    PROXIES_BUSY_RATE, PROXIES_CLIENTS, PROXIES_QUIET_RATE, PROXIES_READ_TIMEOUT, PROXIES_VIAS,
};
use presets::{
    HTTP2_CLIENTS, HTTP2_RATE, battery_steps, efficiency_steps, http2_steps, proxies_knobs, proxies_steps,
};

mod units;
pub(crate) use units::{millis, millis_list, millis_opt, seconds};

#[cfg(test)]
mod tests;
