//! The figure catalogue: every figure of a run record, defined once — its key (its path
//! in a run of the results JSON), its label, its unit and which way is better.
//!
//! Everything that shows a figure reads it from here: the terminal table
//! (`pushlab-load`'s `table.rs`) directly; the report through the copy `compare` writes
//! into every results file (`"catalogue"`), or, for a file older than that, through the
//! server's `GET /api/figures`. How each unit is written is the `format` module, and its
//! twin for the pages is `web/format.js`. This file holds the types; the tables of
//! groups and figures themselves are in `figures/table.rs`, one figure per line.
//!
//! A figure is *not measured* when its value is missing, negative, or when the figure it
//! depends on (its `measured_if`) is 0 — a latency percentile of a run that timed no
//! tick is not 0 µs, and a per-connection delta that came out negative is noise, not a
//! saving. Those are shown as "not measured", never as a number.

use crate::Transport;
use crate::limits::{LIMIT_RANGE, LONG_POLL_TIMEOUT_MS_RANGE, RATE_RANGE};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

mod table;
pub use table::{CALIBRATION, FAULTS, FIGURES, GROUPS};

/// What a figure's number counts. Each is written one way, everywhere (the `format` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A duration stored in µs; written in µs, ms or s.
    Microseconds,
    /// A duration stored in ms; written like [`Unit::Microseconds`].
    Milliseconds,
    /// A duration stored in s; written like [`Unit::Microseconds`].
    Seconds,
    /// Written in decimal SI: B, kB, MB, GB, each 1,000 of the one before.
    Bytes,
    /// A number of things (ticks, requests, connections).
    Count,
    /// CPU time over wall time, in % of one core: 200 % is two cores busy.
    PercentOfCore,
    /// Requests each client made per minute.
    PerClientPerMinute,
    /// Events per second (the tick rate).
    PerSecond,
    /// A plain number with no unit (a load average).
    Number,
    /// A multiple of a reference cost, written `1.52×` (server CPU per tick in sends:
    /// the reference is the machine's calibrated `send()`).
    Multiple,
    /// Text, shown as written.
    Text,
}

impl Unit {
    pub const ALL: [Unit; 11] = [
        Unit::Microseconds,
        Unit::Milliseconds,
        Unit::Seconds,
        Unit::Bytes,
        Unit::Count,
        Unit::PercentOfCore,
        Unit::PerClientPerMinute,
        Unit::PerSecond,
        Unit::Number,
        Unit::Multiple,
        Unit::Text,
    ];

    /// The symbol after a value in the unit's base, without a prefix ("" for none).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Microseconds => "µs",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
            Unit::Bytes => "B",
            Unit::PercentOfCore => "%",
            Unit::PerClientPerMinute => "/min",
            Unit::PerSecond => "/s",
            Unit::Multiple => "×",
            Unit::Count | Unit::Number | Unit::Text => "",
        }
    }

    /// How values of the unit are written, in one line (for the catalogue in the results).
    pub fn about(self) -> &'static str {
        match self {
            Unit::Microseconds | Unit::Milliseconds | Unit::Seconds => "a duration, written in µs, ms or s",
            Unit::Bytes => "bytes, written in decimal SI: B, kB = 1,000 B, MB = 1,000 kB, GB = 1,000 MB",
            Unit::Count => "a count",
            Unit::PercentOfCore => "CPU time ÷ wall time in % of one core (200 % = two cores)",
            Unit::PerClientPerMinute => "per client per minute",
            Unit::PerSecond => "per second",
            Unit::Number => "a plain number",
            Unit::Multiple => "a multiple of a reference cost, written 1.52×",
            Unit::Text => "text, shown as written",
        }
    }
}

/// Which way a figure should move for a transport to look better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
    /// A setting or a baseline: neither way is better.
    Neither,
}

/// One figure of a run record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    /// Its path in a run record, e.g. `latency_us.p50`; `errors.*` stands for every kind
    /// in the `errors` map.
    pub key: &'static str,
    /// The label that stands on its own (the terminal table): "latency p50".
    pub label: &'static str,
    /// The label under its group's heading (the report's table, chart legends): "p50".
    pub short: &'static str,
    pub unit: Unit,
    pub better: Better,
    /// The figure counts as measured only while the value at this key is above 0.
    pub measured_if: Option<&'static str>,
    /// Any value above 0 is a problem worth seeing at a glance (lost ticks, errors).
    pub nonzero_is_a_problem: bool,
    pub about: &'static str,
}

/// The figures under one heading: a top-level field of a run record (`run`: its own scalars).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Group {
    pub key: &'static str,
    pub label: &'static str,
    pub about: &'static str,
}

/// Load-generator CPU, in % of one core, from which a run's latency may be partly the
/// load generator's own: it shares the machine with the server it measures. 80, not 90:
/// `cpu_pct` is an average over the window, so a load generator averaging 80 % was at
/// 100 % for parts of it, and its scheduling delays were then in the latency. (At 80 both
/// 10,000-client runs of `docs/results/scale-10k.json`, 93 % and 88 %, are flagged.)
pub const LOADGEN_BUSY_CPU_PCT: f64 = 80.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// [`LOADGEN_BUSY_CPU_PCT`].
    pub loadgen_busy_cpu_pct: f64,
}

/// The whole catalogue, as `compare` writes it into the results and `/api/figures` serves it.
#[derive(Debug, PartialEq, Serialize)]
pub struct Catalogue {
    /// Written as a map: unit name → its symbol and how it is written.
    #[serde(serialize_with = "units_map")]
    pub units: &'static [Unit],
    pub groups: &'static [Group],
    pub figures: &'static [Figure],
    /// The machine's calibration (a results file's `calibration`), whose keys are paths
    /// in the results document rather than in a run.
    pub calibration: &'static [Figure],
    /// The figures only a fault record has (a results file's `faults`); the rest of a
    /// fault record's figures are the run figures of the same key.
    pub faults: &'static [Figure],
    pub thresholds: Thresholds,
    /// The transports in the order every page and table shows them, with their names.
    #[serde(serialize_with = "transports_list")]
    pub transports: &'static [Transport],
    /// The protocol bounds a page may offer in its controls.
    pub limits: Limits,
}

/// The bounds of [`crate::limits`] a page needs, as `[min, max]` pairs.
#[derive(Debug, PartialEq, Serialize)]
pub struct Limits {
    /// `POST /api/admin/rate` and `--rate`: ticks per second.
    pub rate_per_s: [f64; 2],
    /// `timeout_ms` of long-poll.
    pub long_poll_timeout_ms: [u64; 2],
    /// `limit` of poll and long-poll.
    pub poll_limit_ticks: [u64; 2],
}

pub static CATALOGUE: Catalogue = Catalogue {
    units: &Unit::ALL,
    groups: GROUPS,
    figures: FIGURES,
    calibration: CALIBRATION,
    faults: FAULTS,
    thresholds: Thresholds { loadgen_busy_cpu_pct: LOADGEN_BUSY_CPU_PCT },
    transports: &Transport::ALL,
    limits: Limits {
        rate_per_s: [*RATE_RANGE.start(), *RATE_RANGE.end()],
        long_poll_timeout_ms: [*LONG_POLL_TIMEOUT_MS_RANGE.start(), *LONG_POLL_TIMEOUT_MS_RANGE.end()],
        poll_limit_ticks: [*LIMIT_RANGE.start(), *LIMIT_RANGE.end()],
    },
};

fn transports_list<S: Serializer>(
    transports: &&'static [Transport],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry {
        /// `poll`, `long-poll`, `sse`, `ws`: as in a run's `transport`.
        name: &'static str,
        label: &'static str,
        streaming: bool,
    }
    serializer.collect_seq(transports.iter().map(|&t| Entry {
        name: t.name(),
        label: t.label(),
        streaming: t.is_streaming(),
    }))
}

fn units_map<S: Serializer>(units: &&'static [Unit], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry {
        symbol: &'static str,
        about: &'static str,
    }
    let mut map = serializer.serialize_map(Some(units.len()))?;
    for &unit in units.iter() {
        map.serialize_entry(&unit, &Entry { symbol: unit.symbol(), about: unit.about() })?;
    }
    map.end()
}

/// The figure with this key, if the catalogue has one: a run's, the calibration's or
/// a fault record's.
pub fn figure(key: &str) -> Option<&'static Figure> {
    FIGURES.iter().chain(CALIBRATION).chain(FAULTS).find(|f| f.key == key)
}

impl Figure {
    /// The group a key belongs to: its first part, or `run` for a run's own scalars.
    pub fn group(&self) -> &'static str {
        self.key.split_once('.').map_or("run", |(group, _)| group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_reference_resolves() {
        let all: Vec<&Figure> = FIGURES.iter().chain(CALIBRATION).chain(FAULTS).collect();
        for (i, f) in all.iter().enumerate() {
            assert!(all[..i].iter().all(|g| g.key != f.key), "{} twice", f.key);
            if f.group() != "calibration" {
                assert!(GROUPS.iter().any(|g| g.key == f.group()), "{}: no group {}", f.key, f.group());
            }
            assert!(!f.label.is_empty() && !f.short.is_empty() && !f.about.is_empty(), "{}", f.key);
            assert_eq!(
                f.group() == "calibration",
                CALIBRATION.contains(f),
                "{}: keyed in the wrong table",
                f.key
            );
            if let Some(needed) = f.measured_if {
                assert!(figure(needed).is_some(), "{} is measured if {needed}, not a figure", f.key);
            }
        }
    }

    #[test]
    fn the_catalogue_serializes_as_the_results_carry_it() {
        let json = serde_json::to_value(&CATALOGUE).unwrap();
        assert_eq!(json["units"]["bytes"]["symbol"], "B");
        assert_eq!(json["units"]["per_client_per_minute"]["symbol"], "/min");
        assert_eq!(json["thresholds"]["loadgen_busy_cpu_pct"], 80.0);
        assert_eq!(
            json["transports"][1],
            serde_json::json!({"name": "long-poll", "label": "long-polling", "streaming": false})
        );
        assert_eq!(json["limits"]["rate_per_s"], serde_json::json!([0.1, 100000.0]));
        let p50 = &json["figures"][9];
        assert_eq!(p50["key"], "latency_us.p50");
        assert_eq!(
            (&p50["label"], &p50["unit"], &p50["better"], &p50["measured_if"]),
            (&"latency p50".into(), &"microseconds".into(), &"lower".into(), &"latency_us.count".into())
        );
        assert_eq!(json["figures"][0]["measured_if"], serde_json::Value::Null);
        assert_eq!(figure("ticks.lost").map(|f| f.nonzero_is_a_problem), Some(true));
        assert_eq!(json["units"]["multiple"]["symbol"], "×");
        assert_eq!(json["calibration"][0]["key"], "calibration.send_cpu_us.median");
        assert_eq!(figure("calibration.rtt_p99_us").map(|f| f.unit), Some(Unit::Microseconds));
    }
}
