//! The proxy lab against Debian's nginx (CI installs it) and the real server
//! in-process: each configuration does to each transport what `docs/proxies.md` says,
//! in a few seconds a run. nginx is started by the run itself, unprivileged, and gone
//! after it.

use std::time::Duration;

use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_load::proxy::Via;
use pushlab_load::proxy::outcome::classify;
use pushlab_load::results::RunRecord;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::{Knobs, ProxyKnobs, RunSpec};

mod in_process;
use in_process::{Server, server};

/// 5 clients of `transport` for 3 s through `via` (`proxy_read_timeout` `read_timeout`).
async fn through(server: &Server, transport: Transport, via: Via, read_timeout: Duration) -> RunRecord {
    through_with(
        server,
        transport,
        ProxyKnobs { via: Some(via), read_timeout: Some(read_timeout), ..ProxyKnobs::default() },
    )
    .await
}

async fn through_with(server: &Server, transport: Transport, proxy: ProxyKnobs) -> RunRecord {
    let via = proxy.via.expect("a via");
    let knobs = Knobs {
        ramp: Duration::from_millis(200),
        settle: Duration::from_millis(500),
        duration: Duration::from_secs(3),
        proxy,
        ..Knobs::default()
    };
    let spec = RunSpec { transport, clients: 5, knobs };
    let under_test = ServerUnderTest { target: server.target.clone(), pid: None };
    let record = run(&spec, &under_test, &ProgressBar::hidden()).await.unwrap();
    let p = record.proxy.as_ref().expect("a proxy record");
    eprintln!(
        "{transport} via {via}: p50 {} µs, p99 {} µs, {} of {} ticks, proxy answered {:?}, errors {:?}",
        record.latency_us.p50,
        record.latency_us.p99,
        record.ticks.delivered,
        record.ticks.expected,
        p.status,
        record.errors
    );
    record
}

const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_is_refused_through_the_default_proxy_and_works_through_the_tuned_one() {
    let server = server(&["--rate", "20"]).await;
    let default = through(&server, Transport::Ws, Via::NginxDefault, LONG).await;
    let (outcome, detail) = classify(&default, None);
    assert_eq!(outcome, "broken", "{detail}");
    assert!(detail.contains("400 ×"), "nginx passes no Upgrade, the server answers 400: {detail}");
    assert_eq!(default.ticks.delivered, 0);
    let p = default.proxy.as_ref().unwrap();
    assert_eq!(p.server.as_deref().map(|s| s.starts_with("nginx/")), Some(true));

    let tuned = through(&server, Transport::Ws, Via::NginxTuned, LONG).await;
    assert!(tuned.ticks.expected > 0);
    assert_eq!((tuned.ticks.delivered, tuned.ticks.lost), (tuned.ticks.expected, 0));
    assert!(tuned.proxy.unwrap().config.unwrap().contains("proxy_set_header Upgrade $http_upgrade;"));
}

/// 20 ticks/s of ~95-byte events fill nginx's 4 kB buffer about every 2 s: the
/// buffering proxy hands them on in lumps, SSE's latency goes from milliseconds to a
/// second; WebSocket through the same proxy is tunnelled, not buffered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buffering_proxy_delivers_sse_in_lumps_and_leaves_websocket_alone() {
    let server = server(&["--rate", "20"]).await;
    let direct = through(&server, Transport::Sse, Via::Direct, LONG).await;
    let buffered = through(&server, Transport::Sse, Via::BufferingProxy, LONG).await;
    let (outcome, detail) = classify(&buffered, Some(&direct));
    assert_eq!(outcome, "slowed", "{detail}");
    assert!(buffered.latency_us.p50 > 300_000, "lumps of ~2 s: p50 {} µs", buffered.latency_us.p50);
    assert_eq!(buffered.ticks.lost, 0, "late, not lost");
    let ws = through(&server, Transport::Ws, Via::BufferingProxy, LONG).await;
    assert!(ws.latency_us.p50 < 100_000, "ws p50 {} µs", ws.latency_us.p50);
}

/// A quiet feed (a tick every 5 s) and no keepalive: the default proxy's 1 s read
/// timeout cuts every SSE stream after 1 s; the tuned proxy's does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_sse_stream_is_cut_at_the_read_timeout() {
    let server = server(&["--rate", "0.2", "--sse-keepalive-off"]).await;
    let silent = |via| ProxyKnobs {
        via: Some(via),
        read_timeout: Some(Duration::from_secs(1)),
        sse_keepalive_off: true,
        ..ProxyKnobs::default()
    };
    let cut = through_with(&server, Transport::Sse, silent(Via::NginxDefault)).await;
    let (outcome, detail) = classify(&cut, None);
    assert_eq!(outcome, "cut", "{detail}");
    let after = cut.proxy.as_ref().unwrap().cut_after_s.unwrap();
    assert!((1.0..1.5).contains(&after), "cut after {after} s");
    assert!(cut.errors.values().sum::<u64>() > 0, "the clients saw their streams end: {:?}", cut.errors);

    let kept = through_with(&server, Transport::Sse, silent(Via::NginxTuned)).await;
    assert_eq!(kept.proxy.as_ref().unwrap().stream_keepalive, "off");
    assert_eq!(classify(&kept, None).0, "not-compared", "neither broken nor cut");
    assert_eq!(kept.proxy.unwrap().upstream_timeouts, Some(0));
}
