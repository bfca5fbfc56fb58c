//! What a proxy did to a transport, from a run's figures and the same run direct
//! (`docs/methodology.md`, "Proxy outcomes"). In this order, the first that holds:
//!
//! 1. **broken** — the clients got fewer than [`BROKEN_DELIVERED_SHARE`] of the ticks
//!    they were due: the error is the proxy's non-2xx answers (or the clients' commonest
//!    error kind);
//! 2. **cut** — the proxy cut requests because the upstream said nothing for its read
//!    timeout: `cut at N s`, the median cut request's length, from the proxy's own logs;
//! 3. **slowed** — the median latency is more than [`SLOWED_BY_US`] above the direct
//!    run's: ticks were held back (delivered in lumps by a buffering proxy);
//! 4. **works** — none of these. A proxied run without a direct run to hold it against
//!    is `not-compared` once it is neither broken nor cut.

use crate::results::RunRecord;

use super::Via;

/// Below this share of the expected ticks delivered, a transport is broken.
pub const BROKEN_DELIVERED_SHARE: f64 = 0.5;
/// A median latency this much above the direct run's is a slowed transport: far above
/// what a proxy's own hop costs on loopback (well under a millisecond) and than the
/// run-to-run spread of a poll's half-interval.
pub const SLOWED_BY_US: u64 = 100_000;

/// Fills in the outcome of every run that has a proxy record, each held against the
/// direct run of the same transport and settings, if the records have one.
pub fn classify_all(records: &mut [RunRecord]) {
    let direct: Vec<RunRecord> =
        records.iter().filter(|r| r.proxy.as_ref().is_some_and(|p| p.via == Via::Direct)).cloned().collect();
    for record in records.iter_mut().filter(|r| r.proxy.is_some()) {
        let baseline = direct.iter().find(|d| same_settings(d, record));
        let (outcome, detail) = classify(record, baseline);
        let proxy = record.proxy.as_mut().expect("filtered");
        proxy.outcome = outcome.into();
        proxy.outcome_detail = detail;
    }
}

/// Runs of the same transport, clients and feed: the direct one's latency is what the
/// proxied one's would be without the proxy (a keepalive comment carries no tick).
fn same_settings(a: &RunRecord, b: &RunRecord) -> bool {
    (a.transport, a.clients, a.poll_interval_ms) == (b.transport, b.clients, b.poll_interval_ms)
        && a.rate == b.rate
}

/// The outcome of `run` (`works`, `broken`, `cut`, `slowed`, `not-compared`) and its
/// detail, beside `direct` (the same run without a proxy) if there is one.
pub fn classify(run: &RunRecord, direct: Option<&RunRecord>) -> (&'static str, String) {
    let proxy = run.proxy.as_ref();
    let (delivered, expected) = (run.ticks.delivered, run.ticks.expected);
    if expected > 0 && (delivered as f64) < BROKEN_DELIVERED_SHARE * expected as f64 {
        return ("broken", format!("{}; {delivered} of {expected} ticks delivered", why_broken(run)));
    }
    if let Some(cut) = proxy.and_then(|p| p.cut_after_s.zip(p.upstream_timeouts)).filter(|(_, n)| *n > 0) {
        let (after_s, count) = cut;
        return ("cut", format!("cut at {after_s:.1} s ({count} requests cut by proxy_read_timeout)"));
    }
    let is_direct = proxy.is_none_or(|p| p.via == Via::Direct);
    let (p50, p99) = (run.latency_us.p50, run.latency_us.p99);
    let latency = |p50: u64, p99: u64| format!("p50 {} ms, p99 {} ms", ms(p50), ms(p99));
    match direct {
        _ if is_direct => ("works", latency(p50, p99)),
        None => ("not-compared", format!("{}; no direct run to compare with", latency(p50, p99))),
        Some(d) if p50 > d.latency_us.p50 + SLOWED_BY_US => (
            "slowed",
            format!("{} (direct: {})", latency(p50, p99), latency(d.latency_us.p50, d.latency_us.p99)),
        ),
        Some(_) => ("works", latency(p50, p99)),
    }
}

/// The proxy's non-2xx answers if it gave any, else the clients' commonest error.
fn why_broken(run: &RunRecord) -> String {
    let proxy = run.proxy.as_ref();
    let answers = proxy.and_then(|p| p.status.as_deref()).unwrap_or_default();
    let failures: Vec<&str> = answers.split(", ").filter(|s| !s.is_empty() && !s.starts_with('2')).collect();
    if !failures.is_empty() {
        let total = proxy.and_then(|p| p.requests).unwrap_or(0);
        return format!("the proxy answered {} (of {total} requests)", failures.join(", "));
    }
    match run.errors.iter().max_by_key(|(_, n)| **n) {
        Some((kind, n)) => format!("{kind} × {n}"),
        None => "no error seen".into(),
    }
}

fn ms(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms >= 10.0 { format!("{ms:.0}") } else { format!("{ms:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ProxyRecord;
    use crate::results::tests::zero_record;
    use pushlab_contract::Transport;

    fn run(via: Via, delivered: u64, p50_ms: u64) -> RunRecord {
        let mut r = zero_record(Transport::Sse, 10);
        r.ticks.expected = 100;
        r.ticks.delivered = delivered;
        r.latency_us.p50 = p50_ms * 1000;
        r.latency_us.p99 = p50_ms * 2000;
        r.proxy = Some(ProxyRecord { via, stream_keepalive: "15 s".into(), ..ProxyRecord::default() });
        r
    }

    #[test]
    fn a_handshake_the_proxy_refuses_is_broken_with_its_answer() {
        let mut ws = run(Via::NginxDefault, 0, 0);
        let proxy = ws.proxy.as_mut().unwrap();
        (proxy.status, proxy.requests) = (Some("400 × 37".into()), Some(37));
        let (outcome, detail) = classify(&ws, Some(&run(Via::Direct, 100, 1)));
        assert_eq!(outcome, "broken");
        assert_eq!(detail, "the proxy answered 400 × 37 (of 37 requests); 0 of 100 ticks delivered");
    }

    #[test]
    fn a_stream_cut_by_the_read_timeout_says_when() {
        let mut sse = run(Via::NginxDefault, 100, 1);
        let proxy = sse.proxy.as_mut().unwrap();
        (proxy.upstream_timeouts, proxy.cut_after_s) = (Some(20), Some(10.01));
        let (outcome, detail) = classify(&sse, Some(&run(Via::Direct, 100, 1)));
        assert_eq!(
            (outcome, detail.as_str()),
            ("cut", "cut at 10.0 s (20 requests cut by proxy_read_timeout)")
        );
    }

    #[test]
    fn lumps_are_slowed_and_a_proxys_hop_is_not() {
        let direct = run(Via::Direct, 100, 1);
        assert_eq!(classify(&run(Via::BufferingProxy, 100, 1100), Some(&direct)).0, "slowed");
        assert_eq!(classify(&run(Via::NginxTuned, 100, 2), Some(&direct)).0, "works");
        assert_eq!(classify(&run(Via::NginxTuned, 100, 2), None).0, "not-compared");
        assert_eq!(classify(&direct, None).0, "works");
    }

    #[test]
    fn every_proxied_run_is_held_against_its_own_direct_run() {
        let mut ws_direct = run(Via::Direct, 100, 1);
        ws_direct.transport = Transport::Ws;
        let mut records = vec![run(Via::Direct, 100, 900), ws_direct, run(Via::BufferingProxy, 100, 1000)];
        classify_all(&mut records);
        let outcomes: Vec<&str> =
            records.iter().map(|r| r.proxy.as_ref().unwrap().outcome.as_str()).collect();
        // The SSE run through the buffer is held against SSE direct (900 ms), not WebSocket's 1 ms.
        assert_eq!(outcomes, ["works", "works", "works"]);
    }
}
