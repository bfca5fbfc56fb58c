//! One run record out of the workers' reports: counts summed, histograms merged
//! exactly (the percentiles of all the samples, never an average of percentiles), and
//! each worker's own cost and each server's memory per connection kept beside them.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

use crate::results::{Connect, Latency, Loadgen, RunRecord, per};

/// What one worker process prints on its stdout when its run is over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerReport {
    pub index: usize,
    /// The server its clients started on.
    pub url: String,
    pub record: RunRecord,
    /// The latency, connect and first-tick histograms, V2-serialized, in base64.
    pub latency_us: String,
    pub connect_us: String,
    pub first_tick_us: String,
    /// Its clients that moved to another server, and their moves.
    pub moved_clients: u64,
    pub moves: u64,
}

/// The processes a run was spread over: `workers` in a run record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkersRecord {
    /// Load-generator processes the clients were spread over.
    pub count: usize,
    /// The busiest worker's CPU over the window, % of one core: near 100 %, that
    /// worker, not the server, set the pace of its clients.
    pub busiest_cpu_pct: f64,
    /// Clients that left their server for another (it refused them: gone).
    pub moved_clients: u64,
    /// Their moves to another server, all clients.
    pub moves: u64,
    /// Each worker: its share of the clients, what they received, its own cost.
    pub each: Vec<WorkerEntry>,
    /// Each server the clients started on: its clients and its memory per connection.
    pub servers: Vec<ServerEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerEntry {
    pub index: usize,
    pub url: String,
    pub clients: usize,
    pub delivered: u64,
    pub expected: u64,
    pub lost: u64,
    pub moved_clients: u64,
    pub loadgen: Loadgen,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerEntry {
    pub url: String,
    pub clients: usize,
    pub cpu_s: f64,
    pub rss_per_conn_bytes: f64,
    pub heap_per_conn_bytes: f64,
}

/// `h` as V2 bytes in base64: exact, and a few kB for a latency histogram.
pub fn encode(h: &Histogram<u64>) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| anyhow::anyhow!("serializing a histogram: {e:?}"))?;
    Ok(STANDARD.encode(bytes))
}

/// What [`encode`] wrote.
pub fn decode(text: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = STANDARD.decode(text).context("a worker's histogram is not base64")?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("reading a worker's histogram: {e:?}"))
}

/// Every histogram of `texts`, added into one with the load generator's bounds.
pub fn merged(texts: impl IntoIterator<Item = impl AsRef<str>>) -> anyhow::Result<Histogram<u64>> {
    let mut all = crate::measure::histogram();
    for text in texts {
        all.add(decode(text.as_ref())?).context("merging histograms")?;
    }
    Ok(all)
}

/// The record of the whole run: the first worker's settings, every count summed, the
/// histograms merged. Server figures are taken once per server (several workers on
/// one server each sampled all of its clients) and summed over the servers.
pub fn merge(reports: &[WorkerReport]) -> anyhow::Result<RunRecord> {
    let first = reports.first().context("no worker reported")?;
    let mut all = first.record.clone();
    let records = || reports.iter().map(|r| &r.record);
    let sum = |f: fn(&RunRecord) -> u64| records().map(f).sum::<u64>();
    let clients: usize = records().map(|r| r.clients).sum();
    let n = clients as u64;
    all.clients = clients;
    all.drain_s = records().map(|r| r.drain_s).fold(0.0, f64::max);
    all.latency_us = Latency::from(&merged(reports.iter().map(|r| &r.latency_us))?);
    all.connect = Connect::of(
        &merged(reports.iter().map(|r| &r.connect_us))?,
        &merged(reports.iter().map(|r| &r.first_tick_us))?,
    );

    let t = &mut all.ticks;
    t.delivered = sum(|r| r.ticks.delivered);
    t.expected = sum(|r| r.ticks.expected);
    t.lost = sum(|r| r.ticks.lost);
    t.duplicates = sum(|r| r.ticks.duplicates);
    t.out_of_order = sum(|r| r.ticks.out_of_order);
    t.gap_missed = sum(|r| r.ticks.gap_missed);
    // Workers' windows start a few ms apart: a worker may have been owed one tick more.
    t.expected_per_client = records().map(|r| r.ticks.expected_per_client).max().unwrap_or(0);

    let q = &mut all.requests;
    q.total = sum(|r| r.requests.total);
    q.empty = sum(|r| r.requests.empty);
    q.late = sum(|r| r.requests.late);
    q.per_client_per_min = per(q.total as f64 * 60.0 / all.window_s, n);

    let w = &mut all.wire;
    w.bytes_read = sum(|r| r.wire.bytes_read);
    w.bytes_written = sum(|r| r.wire.bytes_written);
    w.bytes_per_tick = per((w.bytes_read + w.bytes_written) as f64, all.ticks.delivered);

    let c = &mut all.reconnect;
    c.attempts = sum(|r| r.reconnect.attempts);
    c.refused = sum(|r| r.reconnect.refused);
    c.status_503 = sum(|r| r.reconnect.status_503);
    c.resets = sum(|r| r.reconnect.resets);
    c.ended = sum(|r| r.reconnect.ended);

    all.errors.clear();
    for (kind, count) in records().flat_map(|r| &r.errors) {
        *all.errors.entry(kind.clone()).or_default() += count;
    }

    let l = &mut all.loadgen;
    l.cpu_s = records().map(|r| r.loadgen.cpu_s).sum();
    l.cpu_pct = records().map(|r| r.loadgen.cpu_pct).sum();
    l.rss_bytes = sum(|r| r.loadgen.rss_bytes);
    l.heap_bytes = sum(|r| r.loadgen.heap_bytes);
    l.heap_per_client_bytes =
        per(records().map(|r| r.loadgen.heap_per_client_bytes * r.clients as f64).sum(), n);
    l.host_load_1m = records().map(|r| r.loadgen.host_load_1m).fold(0.0, f64::max);

    let servers = servers(reports);
    merge_server_figures(&mut all, reports, &servers);
    // Per-client timelines stay in each worker; a link or proxy is refused with workers.
    all.radio = None;
    all.workers = Some(WorkersRecord {
        count: reports.len(),
        busiest_cpu_pct: records().map(|r| r.loadgen.cpu_pct).fold(0.0, f64::max),
        moved_clients: reports.iter().map(|r| r.moved_clients).sum(),
        moves: reports.iter().map(|r| r.moves).sum(),
        each: reports
            .iter()
            .map(|r| WorkerEntry {
                index: r.index,
                url: r.url.clone(),
                clients: r.record.clients,
                delivered: r.record.ticks.delivered,
                expected: r.record.ticks.expected,
                lost: r.record.ticks.lost,
                moved_clients: r.moved_clients,
                loadgen: r.record.loadgen.clone(),
            })
            .collect(),
        servers,
    });
    Ok(all)
}

/// One entry per server the clients started on, in order of first appearance: all its
/// workers' clients, and its own figures from the first of them (the others sampled the
/// same process at about the same instants).
fn servers(reports: &[WorkerReport]) -> Vec<ServerEntry> {
    let mut servers: Vec<ServerEntry> = Vec::new();
    for r in reports {
        match servers.iter_mut().find(|s| s.url == r.url) {
            Some(s) => s.clients += r.record.clients,
            None => servers.push(ServerEntry {
                url: r.url.clone(),
                clients: r.record.clients,
                ..Default::default()
            }),
        }
    }
    for s in &mut servers {
        let server =
            &reports.iter().find(|r| r.url == s.url).expect("each server came from a report").record.server;
        let n = s.clients as u64;
        s.cpu_s = server.cpu_s;
        s.rss_per_conn_bytes = per(server.rss_with_clients_bytes as f64 - server.rss_before_bytes as f64, n);
        s.heap_per_conn_bytes =
            per(server.heap_with_clients_bytes as f64 - server.heap_before_bytes as f64, n);
    }
    servers
}

/// The `server` block over all servers: sums of their processes, memory per connection
/// over all the clients.
fn merge_server_figures(all: &mut RunRecord, reports: &[WorkerReport], servers: &[ServerEntry]) {
    let firsts: Vec<_> = servers
        .iter()
        .filter_map(|s| reports.iter().find(|r| r.url == s.url))
        .map(|r| &r.record.server)
        .collect();
    let sum = |f: fn(&crate::results::ServerFigures) -> u64| firsts.iter().map(|s| f(s)).sum::<u64>();
    let sum_opt = |f: fn(&crate::results::ServerFigures) -> Option<u64>| {
        firsts.iter().map(|s| f(s)).sum::<Option<u64>>()
    };
    let n = all.clients as u64;
    let s = &mut all.server;
    s.cpu_s = firsts.iter().map(|s| s.cpu_s).sum();
    s.cpu_us_per_tick = per(s.cpu_s * 1e6, all.ticks.delivered);
    s.cpu_per_tick_sends = None; // `Results::new` fills it from the calibration
    s.rss_before_bytes = sum(|s| s.rss_before_bytes);
    s.rss_with_clients_bytes = sum(|s| s.rss_with_clients_bytes);
    s.heap_before_bytes = sum(|s| s.heap_before_bytes);
    s.heap_with_clients_bytes = sum(|s| s.heap_with_clients_bytes);
    s.rss_per_conn_bytes = per(s.rss_with_clients_bytes as f64 - s.rss_before_bytes as f64, n);
    s.heap_per_conn_bytes = per(s.heap_with_clients_bytes as f64 - s.heap_before_bytes as f64, n);
    s.tcp_mem_before_bytes = sum_opt(|s| s.tcp_mem_before_bytes);
    s.tcp_mem_with_clients_bytes = sum_opt(|s| s.tcp_mem_with_clients_bytes);
    s.tcp_mem_per_conn_bytes = s.tcp_mem_with_clients_bytes.filter(|_| n > 0).map(|b| b as f64 / n as f64);
    s.tcp_sockets_before = sum_opt(|s| s.tcp_sockets_before);
    s.tcp_sockets_with_clients = sum_opt(|s| s.tcp_sockets_with_clients);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` samples spread over `low..high`, as one worker's latencies might be.
    fn samples(n: usize, low: u64, high: u64) -> Vec<u64> {
        (0..n as u64).map(|i| low + (i * 7919) % (high - low)).collect()
    }

    #[test]
    fn merged_serialized_histograms_equal_one_fed_every_sample() {
        let (a, b, c) =
            (samples(5000, 1, 1000), samples(300, 1000, 100_000), samples(12_000, 100_000, 9_000_000));
        let mut one = crate::measure::histogram();
        let mut texts = Vec::new();
        for part in [&a, &b, &c] {
            let mut h = crate::measure::histogram();
            for &v in part.iter() {
                h.record(v).unwrap();
                one.record(v).unwrap();
            }
            texts.push(encode(&h).unwrap());
        }
        let all = merged(&texts).unwrap();
        assert_eq!(all.len(), one.len());
        assert_eq!(all, one, "every bucket the same");
        assert_eq!(Latency::from(&all), Latency::from(&one));
        // And not what averaging the parts' percentiles would give.
        let parts: Vec<_> = texts.iter().map(|t| decode(t).unwrap()).collect();
        let averaged = parts.iter().map(|h| h.value_at_quantile(0.99)).sum::<u64>() / 3;
        assert_ne!(averaged, all.value_at_quantile(0.99));
    }

    #[test]
    fn a_histogram_that_is_not_base64_is_refused() {
        assert!(decode("not base64!").is_err());
        assert!(decode(&STANDARD.encode(b"not a histogram")).is_err());
    }
}
