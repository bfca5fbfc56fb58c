//! Counters per transport, and the two ways to read them: `/api/stats` (JSON, for the
//! load generator and the pages) and `/metrics` (Prometheus text).

use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use pushlab_contract::{Stats, TickerStats, Transport, TransportStats};

use crate::process::{kernel_stats, process_stats};
use crate::state::AppState;

/// Everything `/api/stats` reports, read now.
pub fn snapshot(state: &AppState) -> Stats {
    Stats {
        ticker: TickerStats {
            head: state.feed.head(),
            epoch: state.feed.epoch().to_owned(),
            rate: *state.rate.borrow(),
            symbols: state.feed.symbols().to_vec(),
        },
        transports: state.counters.snapshot(),
        connections: state.connection_counters.snapshot(),
        process: process_stats(),
        kernel: kernel_stats(),
        cluster: state.broker.get().map(|link| link.stats()),
    }
}

/// `GET /api/stats`
pub async fn stats_json(State(state): State<AppState>) -> Json<Stats> {
    Json(snapshot(&state))
}

/// `GET /metrics`: the same figures in Prometheus text exposition format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let content_type = [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")];
    (content_type, prometheus_text(&snapshot(&state)))
}

/// A metric family per transport: name, type, help, and which counter it shows.
type Family = (&'static str, &'static str, &'static str, fn(&TransportStats) -> u64);

fn prometheus_text(s: &Stats) -> String {
    let mut out = String::new();
    let t = &s.transports;
    let transports = Transport::ALL.map(|transport| {
        let stats = match transport {
            Transport::Poll => &t.poll,
            Transport::LongPoll => &t.long_poll,
            Transport::Sse => &t.sse,
            Transport::Ws => &t.ws,
        };
        (transport.key(), stats)
    });
    let families: [Family; 4] = [
        (
            "pushlab_active_connections",
            "gauge",
            "Requests being served now: SSE streams, WebSockets, long-polls, polls.",
            |x| x.active,
        ),
        (
            "pushlab_requests_total",
            "counter",
            "HTTP requests received (WebSocket: handshake requests), refused ones included.",
            |x| x.requests,
        ),
        ("pushlab_ticks_sent_total", "counter", "Ticks written to clients.", |x| x.ticks_sent),
        (
            "pushlab_bytes_sent_total",
            "counter",
            "Body or message payload bytes written (no HTTP headers or framing).",
            |x| x.bytes_sent,
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (transport, stats) in transports {
            let _ = writeln!(out, "{name}{{transport=\"{transport}\"}} {}", value(stats));
        }
    }
    let p = &s.process;
    let c = &s.connections;
    let t = &c.tls;
    let singles: [(&str, &str, &str, f64); 17] = [
        ("pushlab_connections_open", "gauge", "TCP connections open now.", c.open as f64),
        ("pushlab_connections_accepted_total", "counter", "TCP connections accepted.", c.accepted as f64),
        (
            "pushlab_connections_refused_at_cap_total",
            "counter",
            "TCP connections closed at accept: the connection cap was reached.",
            c.refused_at_cap as f64,
        ),
        (
            "pushlab_connections_header_timeouts_total",
            "counter",
            "Connections closed: a request head did not arrive within --header-timeout.",
            c.header_timeouts as f64,
        ),
        (
            "pushlab_connections_idle_timeouts_total",
            "counter",
            "Connections closed after --idle-timeout with no request in flight.",
            c.idle_timeouts as f64,
        ),
        (
            "pushlab_streams_recycled_total",
            "counter",
            "SSE streams and WebSockets ended by --stream-max-age.",
            c.streams_recycled as f64,
        ),
        (
            "pushlab_tls_h2_connections_open",
            "gauge",
            "TLS connections open on HTTP/2.",
            t.h2_connections_open as f64,
        ),
        ("pushlab_tls_h2_streams_open", "gauge", "HTTP/2 streams open now.", t.h2_streams_open as f64),
        (
            "pushlab_tls_handshake_failures_total",
            "counter",
            "TLS handshakes that failed or timed out.",
            (t.handshake_failures + t.handshake_timeouts) as f64,
        ),
        ("pushlab_ticker_head", "gauge", "Seq of the newest tick.", s.ticker.head as f64),
        ("pushlab_ticker_rate", "gauge", "Ticks per second, all symbols.", s.ticker.rate),
        ("process_resident_memory_bytes", "gauge", "Resident set size.", p.rss_bytes as f64),
        ("pushlab_heap_bytes", "gauge", "Bytes allocated and not freed.", p.heap_bytes as f64),
        ("process_cpu_user_seconds_total", "counter", "User CPU time.", p.cpu_user_s),
        ("process_cpu_system_seconds_total", "counter", "System CPU time.", p.cpu_sys_s),
        ("process_open_fds", "gauge", "Open file descriptors.", p.open_fds.unwrap_or(0) as f64),
        (
            "pushlab_kernel_tcp_memory_bytes",
            "gauge",
            "Kernel memory of all TCP sockets on the machine.",
            s.kernel.tcp_mem_bytes as f64,
        ),
    ];
    for (name, kind, help, value) in singles {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_one_series_per_transport() {
        let mut stats = Stats::default();
        stats.transports.sse.ticks_sent = 12;
        stats.ticker.rate = 20.0;
        let text = prometheus_text(&stats);
        assert!(text.contains("pushlab_ticks_sent_total{transport=\"sse\"} 12\n"));
        assert!(text.contains("# TYPE pushlab_active_connections gauge\n"));
        assert!(text.contains("pushlab_ticker_rate 20\n"));
        assert_eq!(text.matches("pushlab_requests_total{").count(), 4);
        stats.connections.refused_at_cap = 3;
        assert!(prometheus_text(&stats).contains("pushlab_connections_refused_at_cap_total 3\n"));
    }
}
