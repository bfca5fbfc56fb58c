//! A hold's terminal tables: what the server held and did with our sockets, then what a
//! real client beside them waited. Numbers are written as every other table writes them
//! (`pushlab_contract::format`).

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use pushlab_contract::figures::Unit;
use pushlab_contract::format::{NOT_MEASURED, format};

use super::Mode;
use super::record::{HoldResults, ProbeSummary};

fn count(n: u64) -> String {
    format(Unit::Count, n as f64)
}

fn millis(ms: Option<f64>) -> String {
    ms.map_or(NOT_MEASURED.into(), |ms| format(Unit::Milliseconds, ms))
}

fn micros(us: Option<u64>) -> String {
    us.map_or(NOT_MEASURED.into(), |us| format(Unit::Microseconds, us as f64))
}

/// "timed out: 3, closed unanswered: 40", or "0".
fn kinds<'a>(map: impl IntoIterator<Item = (&'a String, &'a u64)>) -> String {
    let text: Vec<String> = map.into_iter().map(|(kind, n)| format!("{kind}: {}", count(*n))).collect();
    if text.is_empty() { "0".into() } else { text.join(", ") }
}

fn table(header: [&str; 3], rows: Vec<[String; 3]>) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(header);
    for row in rows {
        t.add_row(row);
    }
    for column in t.column_iter_mut().skip(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    t.to_string()
}

/// Both tables, the server's first.
pub fn render(r: &HoldResults) -> String {
    format!("{}\n{}", render_server(r), render_probes(r))
}

fn render_server(r: &HoldResults) -> String {
    let (s, a, spec) = (&r.server, &r.attackers, &r.spec);
    let mode = match spec.mode {
        Mode::Idle => "idle".to_string(),
        Mode::Slowloris => {
            format!("slowloris, a byte every {}", millis(spec.trickle_interval_ms.map(|v| v as f64)))
        }
    };
    let title = format!(
        "hold: {} sockets, {mode}, {}",
        count(spec.sockets as u64),
        format(Unit::Milliseconds, spec.duration_ms as f64)
    );
    let fds = |v: Option<u64>| v.map_or(NOT_MEASURED.into(), count);
    let header_timeout = format(Unit::Milliseconds, spec.header_timeout_ms as f64);
    let held = a.held_for;
    let rows = vec![
        ["connections the server held: peak (before)".into(), count(s.open_peak), count(s.open_before)],
        ["fds the server had open: peak (before)".into(), fds(s.open_fds_peak), fds(s.open_fds_before)],
        ["refused at the cap / accepted".into(), count(s.refused_at_cap), count(s.accepted)],
        ["header timeouts / idle timeouts".into(), count(s.header_timeouts), count(s.idle_timeouts)],
        ["our sockets opened / open at once".into(), count(a.opened), count(a.open_peak)],
        ["  connects failed".into(), kinds(&a.connect_failed), String::new()],
        ["  all opened after".into(), millis(a.all_opened_ms), String::new()],
        [
            "  closed at once (the cap) / after being held".into(),
            count(a.closed_at_once),
            count(a.closed_after_held),
        ],
        [
            format!("  held for p50 / max (header timeout {header_timeout})"),
            millis(held.map(|h| h.p50_ms)),
            millis(held.map(|h| h.max_ms)),
        ],
        [
            "  last closed after / still open at the end".into(),
            millis(a.last_closed_ms),
            count(a.still_open_at_end),
        ],
        ["samples of /api/stats / failed".into(), count(s.samples), count(s.samples_failed)],
        [
            "connects the kernel dropped, listen queue full".into(),
            r.kernel_listen_overflows.map_or(NOT_MEASURED.into(), count),
            String::new(),
        ],
        [
            "load generator CPU / host load (1 min)".into(),
            format(Unit::PercentOfCore, r.loadgen_cpu_pct),
            format(Unit::Number, r.host_load_1m),
        ],
    ];
    table([title.as_str(), "", ""], rows)
}

fn render_probes(r: &HoldResults) -> String {
    let (poll, sse) = (&r.probes.poll, &r.probes.sse);
    let row = |label: &str, f: &dyn Fn(&ProbeSummary) -> String| [label.to_string(), f(poll), f(sse)];
    let interval = format(Unit::Milliseconds, r.spec.probe_interval_ms as f64);
    let title = format!("a real client, every {interval}, fresh connection");
    let rows = vec![
        row("answered / attempts", &|p| format!("{} / {}", count(p.answered), count(p.attempts))),
        row("wait p50", &|p| micros(p.wait_p50_us)),
        row("wait p99", &|p| micros(p.wait_p99_us)),
        row("wait max", &|p| micros(p.wait_max_us)),
        row("longest unanswered", &|p| format(Unit::Milliseconds, p.longest_unanswered_ms)),
        row("failed", &|p| kinds(&p.failed)),
        row("wait p50 before the attack", &|p| micros(p.before_p50_us)),
    ];
    table([title.as_str(), "poll (whole answer)", "SSE (first event)"], rows)
}
