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

pub fn render(runs: &[RunRecord]) -> String {
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
