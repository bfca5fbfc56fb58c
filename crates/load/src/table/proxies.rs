//! The proxy lab's table: what each proxy did to each transport, a row per transport
//! and feed, a column per proxy, each cell the run's outcome (`proxy::outcome`): works,
//! broken with the error, slowed with its latency, cut at N s.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use pushlab_contract::figures::Unit;
use pushlab_contract::format::{NOT_MEASURED, format};

use crate::proxy::Via;
use crate::results::RunRecord;

/// "sse · 20/s" or "sse · 0.2/s · keepalive off": the row a run stands in.
fn row_name(r: &RunRecord, keepalive: &str) -> String {
    let mut name = format!("{} · {}", r.transport, format(Unit::PerSecond, r.rate));
    if keepalive != "no stream" {
        name.push_str(&format!(" · keepalive {keepalive}"));
    }
    name
}

/// One cell: the outcome, then why.
fn outcome_cell(r: &RunRecord) -> String {
    match &r.proxy {
        Some(p) => format!("{}\n{}", p.outcome, p.outcome_detail),
        None => NOT_MEASURED.into(),
    }
}

/// The outcome table of the runs that went through the proxy lab; `None` if none did.
pub fn render_proxies(runs: &[RunRecord]) -> Option<String> {
    let lab: Vec<&RunRecord> = runs.iter().filter(|r| r.proxy.is_some()).collect();
    if lab.is_empty() {
        return None;
    }
    let mut vias: Vec<Via> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    for r in &lab {
        let p = r.proxy.as_ref().expect("filtered");
        if !vias.contains(&p.via) {
            vias.push(p.via);
        }
        let name = row_name(r, &p.stream_keepalive);
        if !rows.contains(&name) {
            rows.push(name);
        }
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec!["what your proxy does".to_string()];
    header.extend(vias.iter().map(Via::to_string));
    table.set_header(header);
    for name in &rows {
        let mut line = vec![name.clone()];
        for via in &vias {
            let run = lab.iter().find(|r| {
                let p = r.proxy.as_ref().expect("filtered");
                p.via == *via && row_name(r, &p.stream_keepalive) == *name
            });
            line.push(run.map_or_else(|| "not run".to_string(), |r| outcome_cell(r)));
        }
        table.add_row(line);
    }
    let timeouts: Vec<String> = lab
        .iter()
        .filter_map(|r| r.proxy.as_ref().and_then(|p| p.read_timeout_s.map(|t| (p.via, t))))
        .fold(Vec::new(), |mut seen, (via, t)| {
            let said = format!("{via} {}", format(Unit::Seconds, t));
            if !seen.contains(&said) {
                seen.push(said);
            }
            seen
        });
    Some(format!("{table}\nproxy_read_timeout: {}", timeouts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ProxyRecord;
    use crate::results::tests::zero_record;
    use pushlab_contract::Transport;

    fn lab_run(transport: Transport, via: Via, outcome: &str, detail: &str) -> RunRecord {
        let mut r = zero_record(transport, 20);
        r.proxy = Some(ProxyRecord {
            via,
            stream_keepalive: "15 s".into(),
            outcome: outcome.into(),
            outcome_detail: detail.into(),
            read_timeout_s: (via != Via::Direct).then_some(3.0),
            ..ProxyRecord::default()
        });
        r
    }

    #[test]
    fn a_row_per_transport_a_column_per_proxy() {
        let runs = [
            lab_run(Transport::Ws, Via::Direct, "works", "p50 1.0 ms"),
            lab_run(Transport::Ws, Via::NginxDefault, "broken", "the proxy answered 400 × 20"),
            lab_run(Transport::Sse, Via::NginxDefault, "works", "p50 1.1 ms"),
        ];
        let table = render_proxies(&runs).unwrap();
        let header = table.lines().find(|l| l.contains("what your proxy does")).unwrap();
        assert!(header.contains("direct") && header.contains("nginx-default"), "{table}");
        let ws = table.lines().find(|l| l.contains("ws · 20/s")).unwrap();
        assert!(ws.contains("works") && ws.contains("broken"), "{table}");
        let sse = table.lines().find(|l| l.contains("sse · 20/s")).unwrap();
        assert!(sse.contains("not run"), "SSE was not run direct: {table}");
        assert!(table.ends_with("proxy_read_timeout: nginx-default 3 s"), "{table}");
        assert_eq!(
            render_proxies(&[zero_record(Transport::Ws, 1)].map(|mut r| {
                r.proxy = None;
                r
            })),
            None
        );
    }
}
