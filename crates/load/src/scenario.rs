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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// All four transports, 100 clients, 20 ticks/s, 1 s poll interval, 15 s window.
    Quick,
    /// A quiet feed (0.5 ticks/s) and a busy one (50 ticks/s), 1,000 clients each.
    Workshop,
    /// 100, 1k, 5k, 10k and 19k clients per transport.
    Scale,
    /// A single `pushlab-load run` against a server already running (recorded in its
    /// results; not offered to `compare`).
    #[value(skip)]
    Run,
}

/// Every knob of a comparison, as recorded in the results' `scenario`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub preset: Preset,
    pub transports: Vec<Transport>,
    pub clients: Vec<usize>,
    /// Server tick rates, ticks/s over all symbols.
    pub rates: Vec<f64>,
    /// Flattened: in the results its keys sit beside `rates`, as they always have.
    #[serde(flatten)]
    pub knobs: Knobs,
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
        let (clients, rates, knobs) = match preset {
            Preset::Quick | Preset::Run => (vec![100], vec![20.0], quick),
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
        Self { preset, transports: Transport::ALL.to_vec(), clients, rates, knobs }
    }

    /// The runs in the order they are made: each transport through every client count
    /// and rate, so one transport's sweep reads as a line.
    pub fn runs(&self) -> Vec<(Transport, usize, f64)> {
        let mut runs = Vec::new();
        for &t in &self.transports {
            for &rate in &self.rates {
                for &clients in &self.clients {
                    runs.push((t, clients, rate));
                }
            }
        }
        runs
    }
}

/// A `Duration` as a JSON number of whole milliseconds.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A `Duration` as a JSON number of seconds (`15.0`, `0.3`).
mod seconds {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    /// A negative or unbounded number is an error, not a panic.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Duration::try_from_secs_f64(f64::deserialize(d)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_issue() {
        let q = Scenario::preset(Preset::Quick);
        assert_eq!(q.runs().len(), 4);
        let k = &q.knobs;
        assert_eq!((q.clients[0], q.rates[0]), (100, 20.0));
        assert_eq!((k.poll_interval, k.duration), (Duration::from_secs(1), Duration::from_secs(15)));
        let w = Scenario::preset(Preset::Workshop);
        assert_eq!((w.rates.clone(), w.clients.clone()), (vec![0.5, 50.0], vec![1000]));
        assert_eq!(Scenario::preset(Preset::Scale).runs().len(), 20);
    }

    #[test]
    fn knobs_keep_their_json_names_and_units() {
        let knobs = Knobs {
            poll_interval: Duration::from_millis(250),
            ramp: Duration::from_millis(300),
            symbols: Some(vec!["ACME".into()]),
            ..Knobs::default()
        };
        let scenario = Scenario { knobs, ..Scenario::preset(Preset::Run) };
        let json = serde_json::to_string(&scenario).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"preset":"run","transports":["poll","long-poll","sse","ws"],"clients":[100],"#,
                r#""rates":[20.0],"poll_interval_ms":250,"duration_s":15.0,"ramp_s":0.3,"settle_s":2.0,"#,
                r#""symbols":["ACME"],"payload_bytes":null,"history":4096,"seed":42,"long_poll_timeout_ms":25000}"#
            )
        );
        assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), scenario);
        let negative = json.replace(r#""ramp_s":0.3"#, r#""ramp_s":-1.0"#);
        assert!(serde_json::from_str::<Scenario>(&negative).is_err());
    }
}
