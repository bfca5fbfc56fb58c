//! A hold's terminal tables: what the server held and did with our sockets, then what a
//! real client beside them waited. Numbers are written as every other table writes them
//! (`pushlab_contract::format`).

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use pushlab_contract::figures::Unit;
use pushlab_contract::format::{NOT_MEASURED, format};

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
    let mode = match spec.trickle_interval_ms {
        Some(ms) => format!("{}, a byte every {}", spec.mode.name(), format(Unit::Milliseconds, ms as f64)),
        None => spec.mode.name().to_string(),
    };
    let server = match &spec.server_args {
        Some(args) => format!("a server started with {}", args.join(" ")),
        None => format!("the server at {}", r.target),
    };
    let title = format!(
        "hold: {} sockets, {mode}, {}\n{server}",
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
        row("longest unanswered", &|p| {
            if p.failed.is_empty() {
                "none".into()
            } else {
                format(Unit::Milliseconds, p.longest_unanswered_ms)
            }
        }),
        row("failed", &|p| kinds(&p.failed)),
        row("wait p50 before the attack", &|p| micros(p.before_p50_us)),
    ];
    table([title.as_str(), "poll (whole answer)", "SSE (first event)"], rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hold::record::{AttackFigures, ProbeFigures, ServerFigures, SpreadMs};
    use crate::hold::{HoldSpec, Mode};
    use crate::procfs::Machine;

    fn results() -> HoldResults {
        let spec = HoldSpec {
            mode: Mode::Slowloris,
            sockets: 19_000,
            duration_ms: 20_000,
            open_rate_per_s: 5000,
            trickle_interval_ms: Some(1000),
            header_timeout_ms: 10_000,
            sample_interval_ms: 200,
            probe_interval_ms: 200,
            server_args: Some(vec!["--header-timeout".into(), "10s".into(), "--max-connections=1000".into()]),
        };
        let poll = ProbeSummary {
            attempts: 100,
            answered: 97,
            failed: [("closed unanswered".to_string(), 3)].into(),
            wait_p50_us: Some(1_250),
            longest_unanswered_ms: 600.0,
            ..Default::default()
        };
        HoldResults {
            kind: crate::hold::record::KIND.into(),
            generated_at: "2025-01-01T00:00:00Z".into(),
            machine: Machine::this(),
            host_load_1m: 0.5,
            target: "127.0.0.1:9".into(),
            spec,
            server: ServerFigures { open_peak: 1064, refused_at_cap: 17_990, ..Default::default() },
            attackers: AttackFigures {
                held_for: Some(SpreadMs { p50_ms: 10_004.0, p99_ms: 10_050.0, max_ms: 10_120.0 }),
                ..Default::default()
            },
            probes: ProbeFigures { poll, sse: ProbeSummary::default() },
            loadgen_cpu_pct: 12.0,
            kernel_listen_overflows: None,
            samples: Vec::new(),
            attempts: Vec::new(),
        }
    }

    /// The value cells of the row labelled `label`, trimmed.
    fn row(table: &str, label: &str) -> Vec<String> {
        let cells = |line: &str| -> Vec<String> {
            line.split(['│', '┆']).map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
        };
        let row = table.lines().map(cells).find(|c| c.first().is_some_and(|l| l == label));
        row.unwrap_or_else(|| panic!("no row {label:?} in\n{table}"))[1..].to_vec()
    }

    #[test]
    fn the_tables_say_what_was_held_closed_and_waited() {
        let text = render(&results());
        assert!(text.contains("hold: 19,000 sockets, slowloris, a byte every 1 s, 20 s"), "{text}");
        assert!(text.contains("a server started with --header-timeout 10s --max-connections=1000"), "{text}");
        assert_eq!(row(&text, "connections the server held: peak (before)"), ["1,064", "0"]);
        assert_eq!(row(&text, "refused at the cap / accepted"), ["17,990", "0"]);
        assert_eq!(row(&text, "held for p50 / max (header timeout 10 s)"), ["10 s", "10.1 s"]);
        assert_eq!(row(&text, "connects the kernel dropped, listen queue full"), ["not measured"]);
        assert_eq!(row(&text, "answered / attempts"), ["97 / 100", "0 / 0"]);
        assert_eq!(row(&text, "wait p50"), ["1.25 ms", "not measured"]);
        assert_eq!(row(&text, "longest unanswered"), ["600 ms", "none"]);
        assert_eq!(row(&text, "failed"), ["closed unanswered: 3", "0"]);
    }
}
