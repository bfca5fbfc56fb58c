//! The side-by-side terminal table: one column per run, one row per figure.
//!
//! Every row label and every value's unit come from the figure catalogue
//! (`pushlab_contract::figures`), written by its formatter (`pushlab_contract::format`):
//! the table, the report and the demo say "27.8 kB" and "not measured" the same way.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use pushlab_contract::figures::{Figure, LOADGEN_BUSY_CPU_PCT, Unit, figure};
use pushlab_contract::format::{format, lookup, show};
use serde_json::Value;

use crate::calibrate::Calibration;
use crate::link::EMULATOR_BUSY_CPU_PCT;
use crate::results::RunRecord;

mod faults;
mod proxies;
pub use faults::render_faults;
pub use proxies::render_proxies;

/// The rows, by catalogue key: one figure, or two read together as "a / b".
const ROWS: &[&[&str]] = &[
    &["latency_us.p50"],
    &["latency_us.p90"],
    &["latency_us.p99"],
    &["latency_us.p999"],
    &["latency_us.max"],
    &["ticks.delivered", "ticks.expected"],
    &["ticks.lost", "ticks.gap_missed"],
    &["ticks.duplicates", "ticks.out_of_order"],
    &["requests.total"],
    &["requests.per_client_per_min"],
    &["requests.empty", "requests.late"],
    &["wire.bytes_per_tick"],
    &["wire.bytes_read", "wire.bytes_written"],
    &["server.cpu_us_per_tick"],
    &["server.cpu_per_tick_sends"],
    &["server.cpu_s"],
    &["server.rss_per_conn_bytes"],
    &["server.heap_per_conn_bytes"],
    // The totals behind them: what "10,000 users × 1 MB" would have to show.
    &["server.rss_before_bytes", "server.rss_with_clients_bytes"],
    &["server.tcp_mem_per_conn_bytes"],
    &["server.tcp_sockets_with_clients", "server.tcp_socket_slab_bytes"],
    &["connect.p50_us", "connect.p99_us"],
    &["connect.first_tick_p50_us", "connect.first_tick_p99_us"],
    &["errors.*"],
    &["loadgen.cpu_pct", "loadgen.rss_bytes"],
    &["loadgen.heap_per_client_bytes"],
    // Above the core count, more threads wanted the CPU than there were cores: whose,
    // the load average cannot say (this run's server and load generator count too).
    &["loadgen.host_load_1m"],
];

/// A run over an emulated link: which, and what the emulator cost.
const LINK_ROWS: &[&[&str]] = &[
    &["link.rtt_ms", "link.jitter_ms", "link.loss_pct"],
    &["link.down_kbit_s", "link.up_kbit_s"],
    &["link.segments_lost", "link.segments"],
    &["link.emulator", "link.emulator_cpu_pct"],
];

/// A run over TLS or HTTP/2: streams against connections, and TLS's own bytes.
const PROTOCOL_ROWS: &[&[&str]] = &[
    &["protocol.streams_per_connection", "protocol.connections"],
    &["protocol.rss_per_tcp_conn_bytes", "protocol.heap_per_tcp_conn_bytes"],
    &["protocol.plaintext_bytes_per_tick", "protocol.tls_overhead_bytes_per_tick"],
    &[
        "protocol.h2_headers_bytes_per_tick",
        "protocol.h2_data_bytes_per_tick",
        "protocol.h2_control_bytes_per_tick",
    ],
    &["protocol.server_h2_streams_open", "protocol.server_h2_connections_open"],
];

/// What the clients' socket timings would cost a phone: a model, labelled as one.
const RADIO_ROWS: &[&[&str]] = &[
    &["radio.lte_active_s_per_min", "radio.lte_wakeups_per_min", "radio.lte_j_per_hour"],
    &["radio.umts_active_s_per_min", "radio.umts_wakeups_per_min", "radio.umts_j_per_hour"],
];

/// The calibration's rows (`pushlab-load calibrate`, and under every comparison's table).
const CALIBRATION_ROWS: &[&[&str]] = &[
    &["calibration.send_cpu_us.median", "calibration.send_cpu_us.min", "calibration.send_cpu_us.max"],
    &[
        "calibration.send_queued_cpu_us.median",
        "calibration.send_queued_cpu_us.min",
        "calibration.send_queued_cpu_us.max",
    ],
    &["calibration.recv_cpu_us.median", "calibration.recv_cpu_us.min", "calibration.recv_cpu_us.max"],
    &["calibration.rtt_p50_us", "calibration.rtt_p99_us"],
    &["calibration.message_bytes", "calibration.rounds"],
    &["calibration.host_load_1m"],
];

/// The catalogue entries of a row; a key missing from the catalogue is a bug here.
fn row_figures(keys: &[&str]) -> Vec<&'static Figure> {
    keys.iter().map(|key| figure(key).unwrap_or_else(|| panic!("{key} is not in the catalogue"))).collect()
}

/// "ticks delivered / expected": the first figure's label, then the others' short ones.
fn row_label(figures: &[&Figure]) -> String {
    let mut label = figures[0].label.to_string();
    for other in &figures[1..] {
        label.push_str(" / ");
        label.push_str(other.short);
    }
    label
}

/// One figure of one run; a `group.*` figure lists every entry of its map ("timeout: 3").
fn cell(run: &Value, figure: &Figure) -> String {
    let Some(group) = figure.key.strip_suffix(".*") else {
        return show(run, figure);
    };
    match lookup(run, group).and_then(Value::as_object) {
        Some(entries) if !entries.is_empty() => entries
            .iter()
            .map(|(kind, n)| {
                format!("{kind}: {}", n.as_f64().map_or(n.to_string(), |n| format(figure.unit, n)))
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => format(figure.unit, 0.0),
    }
}

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

/// "ws × 19,000 at 20/s": which run a note is about.
fn run_name(r: &RunRecord) -> String {
    format!(
        "{} × {} at {}",
        r.transport,
        format(Unit::Count, r.clients as f64),
        format(Unit::PerSecond, r.rate)
    )
}

/// One line per run whose figures the machine may have distorted, to print under the
/// table. The report flags the same runs, from the same threshold in the catalogue.
pub fn warnings(runs: &[RunRecord], cores: usize) -> Vec<String> {
    let mut out = Vec::new();
    for r in runs {
        if r.loadgen.cpu_pct >= LOADGEN_BUSY_CPU_PCT {
            out.push(format!(
                "{}: the load generator used {} of a core; its own delays are in the latency",
                run_name(r),
                format(Unit::PercentOfCore, r.loadgen.cpu_pct)
            ));
        }
        if let Some(pct) =
            r.link.as_ref().and_then(|l| l.emulator_cpu_pct).filter(|p| *p >= EMULATOR_BUSY_CPU_PCT)
        {
            out.push(format!(
                "{}: the link emulator used {} of its core; its own delays are in the latency",
                run_name(r),
                format(Unit::PercentOfCore, pct)
            ));
        }
        if r.loadgen.host_load_1m > cores as f64 {
            // The load average counts every runnable thread, this run's own included, so
            // it tells that the CPU was contended, not by whom; the run's own share is
            // the server's and the load generator's CPU over the window.
            let own_cores = (r.server.cpu_s + r.loadgen.cpu_s) / r.window_s.max(f64::MIN_POSITIVE);
            out.push(format!(
                "{}: load average {} on {cores} cores: more threads wanted the CPU than there are cores; \
                 this run's server and load generator used {} cores of it (the load average can't say whose the rest was)",
                run_name(r),
                format(Unit::Number, r.loadgen.host_load_1m),
                format(Unit::Number, own_cores)
            ));
        }
    }
    out
}

fn render_one(runs: &[RunRecord]) -> String {
    let mut header = vec![String::new()];
    header.extend(runs.iter().map(|r| {
        let clients = format(Unit::Count, r.clients as f64);
        let mut link = r.link.as_ref().map_or(String::new(), |l| format!("\nlink {}", l.figures.name));
        if let Some(protocol) = &r.protocol {
            link.push_str(&format!("\n{}", protocol.name));
        }
        if let Some(ms) = r.keepalive_ms {
            link.push_str(&format!("\nkeepalive {}", format(Unit::Milliseconds, ms as f64)));
        }
        if let Some(p) = &r.proxy {
            link.push_str(&format!("\nvia {}", p.via));
        }
        format!("{}\n{clients} clients · {}{link}", r.transport, format(Unit::PerSecond, r.rate))
    }));
    let mut rows: Vec<&[&str]> = ROWS.to_vec();
    if runs.iter().any(|r| r.link.is_some()) {
        rows.extend_from_slice(LINK_ROWS);
    }
    if runs.iter().any(|r| r.protocol.is_some()) {
        rows.extend_from_slice(PROTOCOL_ROWS);
    }
    rows.extend_from_slice(RADIO_ROWS);
    // The catalogue's keys are paths into a run's JSON, so the table reads runs as JSON too.
    let runs: Vec<Column> = runs
        .iter()
        .map(|r| Column::Figures(serde_json::to_value(r).expect("a run record is JSON")))
        .collect();
    figure_table(header, &runs, &rows)
}

/// The machine's calibration, one row per figure (median / min / max over the rounds).
pub fn render_calibration(calibration: &Calibration) -> String {
    // Its keys are paths in a results document, where the calibration sits.
    let document = serde_json::json!({ "calibration": calibration });
    let header = vec!["calibration: loopback TCP, TCP_NODELAY".into(), "this machine".into()];
    figure_table(header, &[Column::Figures(document)], CALIBRATION_ROWS)
}

/// One column of a figure table.
enum Column {
    /// The figures of this JSON document (a run, a fault record).
    Figures(Value),
    /// The same words in every row ("not applicable").
    Words(&'static str),
}

/// A table with a column per entry of `columns` and a row per entry of `rows`.
fn figure_table(header: Vec<String>, columns: &[Column], rows: &[&[&str]]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(header);
    for keys in rows {
        let figures = row_figures(keys);
        let mut row = vec![row_label(&figures)];
        row.extend(columns.iter().map(|column| match column {
            Column::Figures(doc) => figures.iter().map(|f| cell(doc, f)).collect::<Vec<_>>().join(" / "),
            Column::Words(words) => words.to_string(),
        }));
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
    use crate::results::tests::zero_record as record;
    use pushlab_contract::Transport;

    /// The cells of the row labelled `label`, trimmed.
    fn row(text: &str, label: &str) -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.trim_start_matches('│').split('┆').next().map(str::trim) == Some(label))
            .unwrap_or_else(|| panic!("no row {label:?} in\n{text}"));
        line.trim_matches('│').split('┆').skip(1).map(|c| c.trim().to_string()).collect()
    }

    #[test]
    fn rows_are_labelled_and_written_as_the_catalogue_says() {
        let mut measured = record(Transport::Sse, 100);
        measured.latency_us.count = 30_000;
        measured.latency_us.p50 = 1778;
        measured.ticks.delivered = 30_000;
        measured.ticks.expected = 30_000;
        measured.wire.bytes_per_tick = 89.4;
        measured.server.heap_per_conn_bytes = 28_606.2;
        measured.server.tcp_mem_per_conn_bytes = Some(-606.2);
        measured.server.tcp_sockets_with_clients = Some(100);
        measured.server.cpu_us_per_tick = 15.0;
        measured.server.cpu_per_tick_sends = Some(1.5);
        measured.errors.insert("status_503".into(), 3);
        measured.loadgen.cpu_pct = 92.87;
        measured.loadgen.rss_bytes = 180_338_688;
        // A run that timed nothing: its percentiles are not 0 µs.
        let empty = record(Transport::Ws, 100);
        let text = render(&[measured, empty]);
        assert_eq!(row(&text, "latency p50"), ["1.78 ms", "not measured"]);
        assert_eq!(row(&text, "ticks delivered / expected"), ["30,000 / 30,000", "0 / 0"]);
        assert_eq!(row(&text, "wire bytes per tick"), ["89.4 B", "not measured"]);
        assert_eq!(row(&text, "server heap per connection"), ["28.6 kB", "0 B"]);
        assert_eq!(row(&text, "kernel TCP buffers per connection"), ["not measured"; 2]);
        assert_eq!(row(&text, "server CPU per tick, in sends"), ["1.5×", "not measured"]);
        assert_eq!(row(&text, "errors"), ["status_503: 3", "0"]);
        assert_eq!(row(&text, "load generator CPU / RSS"), ["92.9 % / 180 MB", "0 % / not measured"]);
        assert_eq!(row(&text, "connect p50 / p99"), ["not measured / not measured"; 2]);
    }

    #[test]
    fn the_calibration_reads_median_min_max_per_row() {
        let spread = |median, min, max| crate::calibrate::Spread { median, min, max };
        let c = Calibration {
            message_bytes: 89,
            rounds: 7,
            messages_per_round: 200,
            send_cpu_us: spread(12.34, 11.02, 41.3),
            send_queued_cpu_us: spread(2.1, 2.0, 2.6),
            recv_cpu_us: spread(0.65, 0.6, 0.9),
            round_trips: 2000,
            rtt_p50_us: 9,
            rtt_p99_us: 21,
            host_load_1m: 0.0,
        };
        let text = render_calibration(&c);
        assert_eq!(
            row(&text, "send() CPU to a waiting reader, median / min / max"),
            ["12.3 µs / 11 µs / 41.3 µs"]
        );
        assert_eq!(row(&text, "recv() CPU, median / min / max"), ["0.65 µs / 0.6 µs / 0.9 µs"]);
        assert_eq!(row(&text, "loopback round trip p50 / p99"), ["9 µs / 21 µs"]);
        assert_eq!(row(&text, "calibration message size / rounds"), ["89 B / 7"]);
        // A load average of 0 was not read: not measured, as in a run.
        assert_eq!(row(&text, "machine load average (1 min) at calibration"), ["not measured"]);
    }

    #[test]
    fn every_row_is_in_the_catalogue() {
        for keys in CALIBRATION_ROWS {
            assert_eq!(row_figures(keys).len(), keys.len());
        }
        for keys in ROWS.iter().chain(LINK_ROWS).chain(RADIO_ROWS) {
            assert_eq!(row_figures(keys).len(), keys.len());
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
        assert!(text.contains("19,000 clients · 20/s"), "{text}");
    }

    #[test]
    fn a_busy_machine_is_called_out_at_the_catalogue_threshold() {
        let mut busy = record(Transport::Ws, 19000);
        busy.loadgen.cpu_pct = 88.0;
        busy.loadgen.host_load_1m = 3.5;
        // Over a 30 s window: 45 CPU-seconds between them is 1.5 cores.
        (busy.window_s, busy.server.cpu_s, busy.loadgen.cpu_s) = (30.0, 18.6, 26.4);
        let mut under = record(Transport::Sse, 100);
        under.loadgen.cpu_pct = LOADGEN_BUSY_CPU_PCT - 0.1;
        assert_eq!(
            warnings(&[busy, under], 2),
            [
                "ws × 19,000 at 20/s: the load generator used 88 % of a core; its own delays are in the latency",
                "ws × 19,000 at 20/s: load average 3.5 on 2 cores: more threads wanted the CPU than there are cores; \
                 this run's server and load generator used 1.5 cores of it (the load average can't say whose the rest was)",
            ]
        );
    }
}
