//! The results of the faults preset: one [`FaultRecord`] per fault and transport, in
//! the document's `faults` list (absent from files without fault runs). Every figure's
//! label and unit is in the catalogue (`FAULTS`, and the run figures they share).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use pushlab_contract::Transport;
use serde::{Deserialize, Serialize};

use super::{ReconnectFigures, Ticks};
use crate::clients::Reconnect;
use crate::faults::Fault;

/// What one fault did to one transport's clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub fault: Fault,
    pub transport: Transport,
    pub clients: usize,
    /// The server's tick rate, ticks/s.
    pub rate: f64,
    /// The clients' `--reconnect`.
    pub reconnect_policy: Reconnect,
    /// The server's `--stream-max-age` in ms (stream recycling only).
    #[serde(default)]
    pub stream_max_age_ms: Option<u64>,
    /// The measurement window, s; ticks count by their `ts_us` in it.
    pub window_s: f64,
    /// When the fault struck, s after the window began (none for recycling).
    #[serde(default)]
    pub strike_at_s: Option<f64>,
    pub recovery: RecoveryFigures,
    pub ticks: Ticks,
    pub reconnect: ReconnectFigures,
    pub peak: PeakFigures,
    /// Streams the server says it recycled (`/api/stats`; recycling only).
    #[serde(default)]
    pub server_streams_recycled: Option<u64>,
    /// The load generator's CPU over the window, % of one core: near 100 %, its own
    /// delays are in the recovery times.
    pub loadgen_cpu_pct: f64,
    pub errors: BTreeMap<String, u64>,
    /// The run, 100 ms at a time, from the window's start.
    pub timeline: FaultTimeline,
}

/// Recovery times (`measure::recovery`): from the fault's instant to each client's
/// first tick over a connection opened after it (recycling: from each stream's end).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryFigures {
    /// Recoveries timed: clients that recovered (recycling: stream ends recovered from).
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Clients still without their feed when the run ended: counted, never dropped.
    pub not_recovered: u64,
}

impl RecoveryFigures {
    pub fn new(h: &Histogram<u64>, not_recovered: u64) -> Self {
        if h.is_empty() {
            return Self { not_recovered, ..Self::default() };
        }
        Self {
            count: h.len(),
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
            not_recovered,
        }
    }
}

/// The worst moment after the fault (recycling: of the whole window).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeakFigures {
    /// The server's CPU over its busiest 100 ms, % of one core (`/proc/<pid>/stat` of
    /// the process serving then; `None` if none could be read).
    pub server_cpu_pct: Option<f64>,
    /// TCP connects the clients completed in the busiest 100 ms, per second.
    pub connects_per_s: Option<f64>,
    /// Connects refused in the worst 100 ms, per second.
    pub refused_per_s: Option<f64>,
}

/// Time series of a fault run, one value per `step_ms` from the window's start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultTimeline {
    pub step_ms: u64,
    /// The fault's instant, ms after the first step's start (none for recycling).
    pub strike_ms: Option<u64>,
    /// The serving process's CPU, % of one core (`null` where it could not be read:
    /// between the old process's end and the new one's first sample).
    pub server_cpu_pct: Vec<Option<f64>>,
    /// TCP connects the clients started, completed and had refused.
    pub attempts: Vec<u64>,
    pub connects: Vec<u64>,
    pub refused: Vec<u64>,
}

impl FaultTimeline {
    /// Peaks from `from_step` on: the busiest step's value, per second.
    pub fn peaks(&self, from_step: usize) -> PeakFigures {
        let per_s = 1000.0 / self.step_ms.max(1) as f64;
        let peak = |series: &[u64]| series.iter().skip(from_step).max().map(|&n| n as f64 * per_s);
        let cpu = self.server_cpu_pct.iter().skip(from_step).flatten().copied().reduce(f64::max);
        PeakFigures {
            server_cpu_pct: cpu,
            connects_per_s: peak(&self.connects),
            refused_per_s: peak(&self.refused),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab_contract::figures::figure;
    use serde_json::Value;

    /// A figure added to a fault record without a label and a unit would reach the
    /// table and the report as a bare key.
    #[test]
    fn every_field_of_a_fault_record_is_in_the_catalogue() {
        let record = FaultRecord {
            fault: Fault::Crash,
            transport: Transport::Ws,
            clients: 1,
            rate: 20.0,
            reconnect_policy: Reconnect::Jitter,
            stream_max_age_ms: None,
            window_s: 5.0,
            strike_at_s: None,
            recovery: RecoveryFigures::default(),
            ticks: Ticks::default(),
            reconnect: ReconnectFigures::default(),
            peak: PeakFigures::default(),
            server_streams_recycled: None,
            loadgen_cpu_pct: 0.0,
            errors: BTreeMap::new(),
            timeline: FaultTimeline::default(),
        };
        let Value::Object(fields) = serde_json::to_value(record).unwrap() else { unreachable!() };
        let mut keys = Vec::new();
        for (name, value) in fields {
            match value {
                // The column it stands in, and series the charts draw, not figures.
                _ if name == "transport" || name == "timeline" => {}
                _ if name == "errors" => keys.push("errors.*".to_string()),
                Value::Object(inner) => keys.extend(inner.keys().map(|k| format!("{name}.{k}"))),
                _ => keys.push(name),
            }
        }
        let missing: Vec<_> = keys.iter().filter(|k| figure(k).is_none()).collect();
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    /// A constructed case with a known answer: 100 clients recovering in 1, 2, …, 100 ms.
    #[test]
    fn recovery_percentiles_of_a_known_spread() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for ms in 1..=100u64 {
            h.record(ms * 1000).unwrap();
        }
        let r = RecoveryFigures::new(&h, 3);
        assert_eq!(r.count, 100);
        assert!(h.equivalent(r.p50_us, 50_000), "{r:?}");
        assert!(h.equivalent(r.p99_us, 99_000), "{r:?}");
        assert!(h.equivalent(r.max_us, 100_000), "{r:?}");
        assert_eq!(r.not_recovered, 3);
        // Nobody recovered: no percentile is 0 µs, the count says so.
        let none = RecoveryFigures::new(&Histogram::new(3).unwrap(), 100);
        assert_eq!(none, RecoveryFigures { not_recovered: 100, ..RecoveryFigures::default() });
    }

    #[test]
    fn peaks_are_read_after_the_strike_per_second() {
        let t = FaultTimeline {
            step_ms: 100,
            strike_ms: Some(200),
            server_cpu_pct: vec![Some(90.0), Some(5.0), None, Some(40.0), Some(12.0)],
            attempts: vec![0; 5],
            connects: vec![50, 0, 0, 30, 7],
            refused: vec![0, 0, 4, 1, 0],
        };
        let p = t.peaks(2);
        assert_eq!(p.server_cpu_pct, Some(40.0));
        assert_eq!((p.connects_per_s, p.refused_per_s), (Some(300.0), Some(40.0)));
    }
}
