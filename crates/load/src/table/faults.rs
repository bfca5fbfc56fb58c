//! The faults preset's tables: one per fault (the storm once per reconnect policy), a
//! column per transport, a row per figure, labelled and written as the catalogue says.

use pushlab_contract::Transport;
use pushlab_contract::figures::Unit;
use pushlab_contract::format::{NOT_MEASURED, format};

use super::{Column, figure_table};
use crate::clients::Reconnect;
use crate::faults::Fault;
use crate::results::FaultRecord;

/// The rows, by catalogue key (a fault record's, or the run figure it shares).
const FAULT_ROWS: &[&[&str]] = &[
    &["recovery.p50_us"],
    &["recovery.p99_us"],
    &["recovery.max_us"],
    &["recovery.count", "recovery.not_recovered"],
    &["ticks.lost"],
    &["ticks.delivered", "ticks.expected"],
    &["ticks.duplicates"],
    &["reconnect.resets"],
    &["reconnect.attempts"],
    &["reconnect.refused", "reconnect.status_503"],
    &["reconnect.ended"],
    &["peak.server_cpu_pct"],
    &["peak.connects_per_s", "peak.refused_per_s"],
    &["server_streams_recycled"],
    &["errors.*"],
    &["loadgen_cpu_pct"],
];

/// What a transport's column says when no record is there.
const NOT_APPLICABLE: &str = "not applicable";

/// A table per (fault, reconnect policy) in the order the records ran.
pub fn render_faults(records: &[FaultRecord]) -> String {
    let mut tables: Vec<(Fault, Reconnect)> = Vec::new();
    for r in records {
        if !tables.contains(&(r.fault, r.reconnect_policy)) {
            tables.push((r.fault, r.reconnect_policy));
        }
    }
    let mut out = Vec::new();
    for (fault, policy) in tables {
        let of = |t: Transport| {
            records.iter().find(|r| r.fault == fault && r.reconnect_policy == policy && r.transport == t)
        };
        let clients = records.iter().find(|r| r.fault == fault).map_or(0, |r| r.clients);
        let clients = format(Unit::Count, clients as f64);
        let title = format!("{}\n{clients} clients, --reconnect {policy}", fault.label());
        let mut header = vec![title];
        header.extend(Transport::ALL.iter().map(|t| t.label().to_string()));
        let columns: Vec<Column> = Transport::ALL
            .iter()
            .map(|&t| match of(t) {
                Some(r) => Column::Figures(serde_json::to_value(r).expect("a fault record is JSON")),
                None if !fault.applies_to(t) => Column::Words(NOT_APPLICABLE),
                // Its run failed (said on stderr when it did).
                None => Column::Words(NOT_MEASURED),
            })
            .collect();
        out.push(figure_table(header, &columns, FAULT_ROWS));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{FaultTimeline, PeakFigures, ReconnectFigures, RecoveryFigures, Ticks};
    use std::collections::BTreeMap;

    fn record(fault: Fault, transport: Transport, policy: Reconnect) -> FaultRecord {
        FaultRecord {
            fault,
            transport,
            clients: 5000,
            rate: 2.0,
            reconnect_policy: policy,
            stream_max_age_ms: None,
            window_s: 6.0,
            strike_at_s: Some(1.0),
            recovery: RecoveryFigures {
                count: 5000,
                p50_us: 1_340_000,
                p99_us: 2_550_000,
                max_us: 2_550_000,
                not_recovered: 0,
            },
            ticks: Ticks::default(),
            reconnect: ReconnectFigures { resets: 5000, ..ReconnectFigures::default() },
            peak: PeakFigures {
                server_cpu_pct: Some(80.1),
                connects_per_s: Some(15_520.0),
                refused_per_s: Some(0.0),
            },
            server_streams_recycled: None,
            loadgen_cpu_pct: 13.0,
            errors: BTreeMap::new(),
            timeline: FaultTimeline::default(),
        }
    }

    #[test]
    fn a_table_per_fault_and_policy_with_not_applicable_and_not_measured_columns() {
        let records = [
            record(Fault::Recycle, Transport::Sse, Reconnect::Jitter),
            record(Fault::Storm, Transport::Ws, Reconnect::Fixed),
        ];
        let text = render_faults(&records);
        assert_eq!(text.matches("5,000 clients, --reconnect").count(), 2, "{text}");
        let line = |label: &str| {
            text.lines().find(|l| l.contains(label)).unwrap_or_else(|| panic!("{label}\n{text}"))
        };
        let cells =
            |l: &str| l.trim_matches('│').split('┆').map(|c| c.trim().to_string()).collect::<Vec<_>>();
        let first = cells(line("recovery p50"));
        assert_eq!(first[1..], ["not applicable", "not applicable", "1.34 s", "not measured"]);
        let peak = text.lines().filter(|l| l.contains("server CPU peak")).nth(1).unwrap();
        assert_eq!(cells(peak)[1..], ["not measured", "not measured", "not measured", "80.1 %"]);
    }
}
