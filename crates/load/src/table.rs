//! The side-by-side terminal table: one column per run, one row per figure.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::results::RunRecord;

/// `1.23 ms` / `850 µs` / `2.1 s`.
pub fn duration_us(us: f64) -> String {
    match us {
        u if u >= 1e6 => format!("{:.2} s", u / 1e6),
        u if u >= 1e3 => format!("{:.1} ms", u / 1e3),
        u => format!("{u:.0} µs"),
    }
}

/// `12.3 KB`, binary-free on purpose: per-connection memory is read against byte counts.
pub fn bytes(b: f64) -> String {
    match b.abs() {
        a if a >= 1e9 => format!("{:.2} GB", b / 1e9),
        a if a >= 1e6 => format!("{:.1} MB", b / 1e6),
        a if a >= 1e3 => format!("{:.1} KB", b / 1e3),
        _ => format!("{b:.0} B"),
    }
}

type Row = (&'static str, fn(&RunRecord) -> String);

const ROWS: &[Row] = &[
    ("latency p50", |r| duration_us(r.latency_us.p50 as f64)),
    ("latency p90", |r| duration_us(r.latency_us.p90 as f64)),
    ("latency p99", |r| duration_us(r.latency_us.p99 as f64)),
    ("latency p99.9", |r| duration_us(r.latency_us.p999 as f64)),
    ("latency max", |r| duration_us(r.latency_us.max as f64)),
    ("delivered / expected", |r| format!("{} / {}", r.ticks.delivered, r.ticks.expected)),
    ("lost (gap notices)", |r| format!("{} ({})", r.ticks.lost, r.ticks.gap_missed)),
    ("duplicates / out of order", |r| format!("{} / {}", r.ticks.duplicates, r.ticks.out_of_order)),
    ("requests in window", |r| r.requests.total.to_string()),
    ("requests / client / min", |r| format!("{:.1}", r.requests.per_client_per_min)),
    ("empty / late answers", |r| format!("{} / {}", r.requests.empty, r.requests.late)),
    ("wire bytes / tick", |r| format!("{:.0}", r.wire.bytes_per_tick)),
    ("wire read / written", |r| {
        format!("{} / {}", bytes(r.wire.bytes_read as f64), bytes(r.wire.bytes_written as f64))
    }),
    ("server CPU / tick", |r| format!("{:.2} µs", r.server.cpu_us_per_tick)),
    ("server CPU in window", |r| format!("{:.2} s", r.server.cpu_s)),
    ("server RSS / conn", |r| bytes(r.server.rss_per_conn_bytes)),
    ("server heap / conn", |r| bytes(r.server.heap_per_conn_bytes)),
    ("kernel TCP mem / conn", |r| bytes(r.server.tcp_mem_per_conn_bytes)),
    ("connect p50 / p99", |r| {
        format!("{} / {}", duration_us(r.connect.p50_us as f64), duration_us(r.connect.p99_us as f64))
    }),
    ("errors", |r| {
        if r.errors.is_empty() {
            "0".into()
        } else {
            r.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
        }
    }),
    ("loadgen CPU / RSS", |r| format!("{:.0} % / {}", r.loadgen.cpu_pct, bytes(r.loadgen.rss_bytes as f64))),
    ("loadgen heap / client", |r| bytes(r.loadgen.heap_per_client_bytes)),
    // Above the core count, other programs competed for the CPU during the run.
    ("host load (1 min)", |r| format!("{:.1}", r.loadgen.host_load_1m)),
];

/// Columns one table holds before a comparison is split, one table per transport.
const MAX_COLUMNS: usize = 5;

/// All runs side by side; a sweep too wide for one screen gets a table per transport.
pub fn render(runs: &[RunRecord]) -> String {
    if runs.len() <= MAX_COLUMNS {
        return render_one(runs);
    }
    let mut out = Vec::new();
    let mut rest = runs;
    while let Some(first) = rest.first() {
        let same = rest.iter().take_while(|r| r.transport == first.transport).count();
        out.push(render_one(&rest[..same]));
        rest = &rest[same..];
    }
    out.join("\n")
}

/// Load-generator CPU, in % of one core, above which its own latency may be in the
/// figures: it shares the machine with the server it measures.
const LOADGEN_BUSY_PCT: f64 = 80.0;

/// One line per run whose figures the machine may have distorted, to print under the table.
pub fn warnings(runs: &[RunRecord], cores: usize) -> Vec<String> {
    let mut out = Vec::new();
    for r in runs {
        let run = format!("{} × {} at {}/s", r.transport, r.clients, r.rate);
        if r.loadgen.cpu_pct >= LOADGEN_BUSY_PCT {
            out.push(format!(
                "{run}: the load generator used {:.0} % of a core; its own delays are in the latency",
                r.loadgen.cpu_pct
            ));
        }
        if r.loadgen.host_load_1m > cores as f64 {
            out.push(format!(
                "{run}: load average {:.1} on {cores} cores: other work competed for the CPU",
                r.loadgen.host_load_1m
            ));
        }
    }
    out
}

fn render_one(runs: &[RunRecord]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec![String::new()];
    header.extend(runs.iter().map(|r| format!("{}\n{} clients · {}/s", r.transport, r.clients, r.rate)));
    table.set_header(header);
    for (name, cell) in ROWS {
        let mut row = vec![name.to_string()];
        row.extend(runs.iter().map(cell));
        table.add_row(row);
    }
    for column in table.column_iter_mut().skip(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab_contract::Transport;

    fn record(transport: Transport, clients: usize) -> RunRecord {
        RunRecord {
            transport,
            clients,
            rate: 20.0,
            poll_interval_ms: 1000,
            window_s: 15.0,
            drain_s: 0.1,
            latency_us: Default::default(),
            ticks: Default::default(),
            requests: Default::default(),
            wire: Default::default(),
            server: Default::default(),
            connect: Default::default(),
            errors: Default::default(),
            loadgen: Default::default(),
        }
    }

    #[test]
    fn a_sweep_gets_one_table_per_transport() {
        let header_rules = |text: &str| text.lines().filter(|l| l.starts_with('╞')).count();
        let four: Vec<_> = Transport::ALL.iter().map(|&t| record(t, 100)).collect();
        assert_eq!(header_rules(&render(&four)), 1);
        let sweep: Vec<_> = [Transport::Sse, Transport::Ws]
            .iter()
            .flat_map(|&t| [100, 1000, 5000, 19000].map(|n| record(t, n)))
            .collect();
        let text = render(&sweep);
        assert_eq!(header_rules(&text), 2, "{text}");
        assert!(text.contains("19000 clients"));
    }

    #[test]
    fn a_busy_machine_is_called_out() {
        let mut busy = record(Transport::Ws, 19000);
        busy.loadgen.cpu_pct = 95.0;
        busy.loadgen.host_load_1m = 3.5;
        let quiet = record(Transport::Sse, 100);
        let notes = warnings(&[busy, quiet], 2);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().all(|n| n.starts_with("ws × 19000")), "{notes:?}");
    }
}
