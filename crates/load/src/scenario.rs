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
    pub poll_interval_ms: u64,
    pub duration_s: f64,
    pub ramp_s: f64,
    pub settle_s: f64,
    /// The clients' symbol filter; `None` = every symbol.
    pub symbols: Option<Vec<String>>,
    /// The server's `--payload-bytes`; `None` = plain ticks.
    pub payload_bytes: Option<usize>,
    /// The server's `--history` (ticks kept for resuming).
    pub history: usize,
    pub seed: u64,
    pub long_poll_timeout_ms: u64,
}

impl Scenario {
    pub fn preset(preset: Preset) -> Self {
        let quick = Self {
            preset,
            transports: Transport::ALL.to_vec(),
            clients: vec![100],
            rates: vec![20.0],
            poll_interval_ms: 1000,
            duration_s: 15.0,
            ramp_s: 2.0,
            settle_s: 2.0,
            symbols: None,
            payload_bytes: None,
            history: HISTORY_DEFAULT as usize,
            seed: 42,
            long_poll_timeout_ms: LONG_POLL_TIMEOUT_MS_DEFAULT,
        };
        match preset {
            Preset::Quick | Preset::Run => quick,
            // At 0.5 ticks/s a 15 s window holds ~7 ticks: too few to read percentiles.
            Preset::Workshop => {
                Self { clients: vec![1000], rates: vec![0.5, 50.0], duration_s: 30.0, ramp_s: 3.0, ..quick }
            }
            // 19,000 connections take a while to open without a connect storm.
            Preset::Scale => {
                Self { clients: vec![100, 1000, 5000, 10_000, 19_000], ramp_s: 10.0, settle_s: 3.0, ..quick }
            }
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

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_issue() {
        let q = Scenario::preset(Preset::Quick);
        assert_eq!(q.runs().len(), 4);
        assert_eq!((q.clients[0], q.rates[0], q.poll_interval_ms, q.duration_s), (100, 20.0, 1000, 15.0));
        let w = Scenario::preset(Preset::Workshop);
        assert_eq!((w.rates.clone(), w.clients.clone()), (vec![0.5, 50.0], vec![1000]));
        assert_eq!(Scenario::preset(Preset::Scale).runs().len(), 20);
    }
}
