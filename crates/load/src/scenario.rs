//! What a comparison runs: the transports, the knobs, and the presets that set them.
//!
//! A [`Scenario`] is written into the results as it was run, every knob included, so a
//! figure can always be traced to the settings that produced it.

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
    /// What every run of the comparison does the same; its fields sit at the top level
    /// of `scenario` in the JSON (`poll_interval_ms`, `duration_s`, …).
    #[serde(flatten)]
    pub knobs: Knobs,
    /// The server's `--payload-bytes`; `None` = plain ticks.
    pub payload_bytes: Option<usize>,
    /// The server's `--seed`.
    pub seed: u64,
}

/// What one run does besides its transport and client count, the same for every run
/// of a comparison. Durations are `Duration`s here and numbers with their unit in the
/// key in the JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    /// Each polling client's interval.
    #[serde(rename = "poll_interval_ms", with = "as_ms")]
    pub poll_interval: Duration,
    /// The measurement window.
    #[serde(rename = "duration_s", with = "as_s")]
    pub duration: Duration,
    /// Time over which clients connect, evenly spread.
    #[serde(rename = "ramp_s", with = "as_s")]
    pub ramp: Duration,
    /// Time between the last connect and the window.
    #[serde(rename = "settle_s", with = "as_s")]
    pub settle: Duration,
    /// The clients' symbol filter; `None` = every symbol.
    pub symbols: Option<Vec<String>>,
    /// The server's `--history` (ticks kept for resuming), so the reference reads the
    /// server's log often enough.
    pub history: usize,
    /// How long the server may hold a long-poll.
    #[serde(rename = "long_poll_timeout_ms", with = "as_ms")]
    pub long_poll_timeout: Duration,
}

impl Knobs {
    /// The quick preset's knobs.
    pub fn quick() -> Self {
        Knobs {
            poll_interval: Duration::from_secs(1),
            duration: Duration::from_secs(15),
            ramp: Duration::from_secs(2),
            settle: Duration::from_secs(2),
            symbols: None,
            history: HISTORY_DEFAULT as usize,
            long_poll_timeout: Duration::from_millis(LONG_POLL_TIMEOUT_MS_DEFAULT),
        }
    }
}

impl Scenario {
    pub fn preset(preset: Preset) -> Self {
        let quick = Self {
            preset,
            transports: Transport::ALL.to_vec(),
            clients: vec![100],
            rates: vec![20.0],
            knobs: Knobs::quick(),
            payload_bytes: None,
            seed: 42,
        };
        let secs = Duration::from_secs;
        match preset {
            Preset::Quick | Preset::Run => quick,
            // At 0.5 ticks/s a 15 s window holds ~7 ticks: too few to read percentiles.
            Preset::Workshop => Self {
                clients: vec![1000],
                rates: vec![0.5, 50.0],
                knobs: Knobs { duration: secs(30), ramp: secs(3), ..Knobs::quick() },
                ..quick
            },
            // 19,000 connections take a while to open without a connect storm.
            Preset::Scale => Self {
                clients: vec![100, 1000, 5000, 10_000, 19_000],
                knobs: Knobs { ramp: secs(10), settle: secs(3), ..Knobs::quick() },
                ..quick
            },
        }
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

/// A `Duration` as whole milliseconds in the JSON.
mod as_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A `Duration` as (fractional) seconds in the JSON.
mod as_s {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_scenario_reads_and_writes_back_unchanged() {
        // The JSON layout is a contract with the report and with every results file
        // already written: the same keys and values, whatever the Rust types are.
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/results/workshop.json")).unwrap();
        let scenario: Scenario = serde_json::from_value(file["scenario"].clone()).unwrap();
        assert_eq!(scenario.knobs.duration, Duration::from_secs(30));
        assert_eq!(serde_json::to_value(&scenario).unwrap(), file["scenario"]);
    }

    #[test]
    fn presets_match_the_issue() {
        let q = Scenario::preset(Preset::Quick);
        assert_eq!(q.runs().len(), 4);
        assert_eq!((q.clients[0], q.rates[0]), (100, 20.0));
        assert_eq!(
            (q.knobs.poll_interval, q.knobs.duration),
            (Duration::from_secs(1), Duration::from_secs(15))
        );
        let w = Scenario::preset(Preset::Workshop);
        assert_eq!((w.rates.clone(), w.clients.clone()), (vec![0.5, 50.0], vec![1000]));
        assert_eq!(Scenario::preset(Preset::Scale).runs().len(), 20);
    }
}
