//! The faults preset's tables: one per fault (the storm once per reconnect policy), a
//! column per transport, a row per figure, labelled and written as the catalogue says.

use pushlab_contract::Transport;
use pushlab_contract::format::NOT_MEASURED;

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
