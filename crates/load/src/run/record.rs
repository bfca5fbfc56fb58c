//! What a run's measurements become: its record in the results file, and the ticks
//! accounted (delivered, expected, lost within an epoch) that `run` and the fault runs
//! both report.

use std::collections::BTreeMap;

use crate::measure::{self, Measurement, Totals};
use crate::procfs;
use crate::protocol::{ProtocolMeasured, ProtocolRecord};
use crate::reference::Expected;
use crate::results::{
    Connect, Latency, Loadgen, ReconnectFigures, Requests, RunRecord, ServerFigures, Ticks, Wire, per,
};
use crate::scenario::RunSpec;
use crate::sockdiag;

use super::{Samples, ServerUnderTest};

pub(super) fn record(
    spec: &RunSpec,
    server: &ServerUnderTest,
    measurement: &Measurement,
    expected: &Expected,
    s: Samples,
) -> RunRecord {
    let totals = measurement.totals();
    let n = spec.clients as u64;
    let Accounted { ticks, errors, reconnect } = account_ticks(&totals, measurement, expected, n);
    let delivered = ticks.delivered;
    let cpu_s = s.server_cpu.as_secs_f64();
    let (b, w) = (&s.before.process, &s.with.process);
    let delta = |after: u64, before: u64| per(after as f64 - before as f64, n);
    let window_s = measurement.window.seconds();
    let traffic = s.traffic;
    RunRecord {
        transport: spec.transport,
        clients: spec.clients,
        rate: s.before.ticker.rate,
        poll_interval_ms: spec.knobs.poll_interval.as_millis() as u64,
        coalesce_ms: None, // `compare` knows it: it started the server
        keepalive_ms: None,

        window_s,
        drain_s: s.drain.as_secs_f64(),
        latency_us: Latency::from(&totals.latency_us),
        ticks,
        reconnect,
        requests: Requests {
            total: traffic.requests,
            per_client_per_min: per(traffic.requests as f64 * 60.0 / window_s, n),
            empty: traffic.empty,
            late: traffic.late,
        },
        wire: Wire {
            bytes_read: traffic.bytes_read,
            bytes_written: traffic.bytes_written,
            bytes_per_tick: per((traffic.bytes_read + traffic.bytes_written) as f64, delivered),
        },
        server: ServerFigures {
            cpu_s,
            cpu_us_per_tick: per(cpu_s * 1e6, delivered),
            rss_before_bytes: b.rss_bytes,
            rss_with_clients_bytes: w.rss_bytes,
            heap_before_bytes: b.heap_bytes,
            heap_with_clients_bytes: w.heap_bytes,
            rss_per_conn_bytes: delta(w.rss_bytes, b.rss_bytes),
            heap_per_conn_bytes: delta(w.heap_bytes, b.heap_bytes),
            // The sum over the server's sockets with all connected, not a delta: each
            // socket is measured, so nothing of other programs' is in it to subtract.
            tcp_mem_per_conn_bytes: s.sockets_with.filter(|_| n > 0).map(|m| m.bytes as f64 / n as f64),
            tcp_mem_before_bytes: s.sockets_before.map(|m| m.bytes),
            tcp_mem_with_clients_bytes: s.sockets_with.map(|m| m.bytes),
            tcp_sockets_before: s.sockets_before.map(|m| m.sockets),
            tcp_sockets_with_clients: s.sockets_with.map(|m| m.sockets),
            tcp_socket_slab_bytes: sockdiag::tcp_socket_slab_bytes(server.target.addr),
            // Needs the calibration: filled in by `Results::new`.
            cpu_per_tick_sends: None,
            cpu_source: if server.pid.is_some() { "proc" } else { "stats" }.into(),
        },
        connect: Connect::of(&totals.connect_us, &totals.first_tick_us),
        errors,
        loadgen: Loadgen {
            cpu_s: s.self_cpu.as_secs_f64(),
            cpu_pct: s.self_cpu.as_secs_f64() / window_s * 100.0,
            rss_bytes: s.self_rss,
            heap_bytes: s.self_heap,
            heap_per_client_bytes: delta(s.self_heap, s.self_heap_before),
            host_load_1m: procfs::load_average(),
        },
        // Filled in by `run`, which holds the link and the timelines.
        link: None,
        radio: None,
        proxy: None,
        // Filled in by the parent of a `--workers` run, which merges its workers' records.
        workers: None,
        cluster: None,
        protocol: ProtocolRecord::new(ProtocolMeasured {
            knobs: &spec.knobs,
            server_with: &s.with,
            server_before: &s.before,
            wire_bytes: traffic.bytes_read + traffic.bytes_written,
            plaintext_bytes: traffic.plaintext_read + traffic.plaintext_written,
            h2_frames: traffic.h2_frames,
            delivered,
        }),
    }
}

/// A run's tick accounting, its errors and how its clients reconnected.
pub(crate) struct Accounted {
    pub ticks: Ticks,
    pub errors: BTreeMap<String, u64>,
    pub reconnect: ReconnectFigures,
}

/// Hold what `n` clients received against the reference, within each epoch
/// (`measure::epochs`), and gather the error and reconnect counts.
pub(crate) fn account_ticks(
    totals: &Totals,
    measurement: &Measurement,
    expected: &Expected,
    n: u64,
) -> Accounted {
    let missing = n.saturating_sub(totals.clients_reported);
    let a = measure::account(&totals.logs, expected, missing);
    let mut errors: BTreeMap<String, u64> = totals.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    if expected.missed > 0 {
        // The reference itself fell out of the history: `lost` would be a guess.
        errors.insert("expected_incomplete".into(), expected.missed);
    }
    if a.unexpected > 0 {
        // Impossible if both are right: say so rather than hide it.
        errors.insert("delivered_exceeds_expected".into(), a.unexpected);
    }
    if missing > 0 {
        errors.insert("clients_not_stopped".into(), missing);
    }
    let ticks = Ticks {
        delivered: totals.delivered,
        expected: a.expected,
        lost: a.lost,
        duplicates: totals.duplicates,
        out_of_order: totals.out_of_order,
        gap_missed: a.gap_missed,
        expected_per_client: expected.per_client(),
    };
    let count = |kind: &str| totals.errors.get(kind).copied().unwrap_or(0);
    let reconnect = ReconnectFigures {
        attempts: measurement.reconnects(),
        refused: count("connect_refused"),
        status_503: count("status_503"),
        resets: totals.resets,
        ended: totals.ended,
    };
    Accounted { ticks, errors, reconnect }
}
