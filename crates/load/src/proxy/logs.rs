//! What the proxy itself saw, read from its logs after it stopped: the statuses it
//! answered the clients with, and every request it cut because the upstream said
//! nothing for `proxy_read_timeout`, with how long that request had lasted.
//!
//! The access log is written in [`LOG_FORMAT`](super::config::LOG_FORMAT); the error log
//! names each timeout's connection as `*N` and its request line, which is how a timeout
//! is matched to the access-log line of the same request (and so to its duration).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The error-log message of a request cut by `proxy_read_timeout` (before or after the
/// response head: "while reading response header from upstream" or "while reading upstream").
const TIMEOUT_MESSAGE: &str = "upstream timed out";

/// The proxy's own account of a run, from its logs (`proxy.log` in the results).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyLog {
    /// Requests the proxy logged, over the whole run (ramp to drain).
    pub requests: u64,
    /// The statuses it answered them with (`"200"`, `"400"`, `"504"`, …).
    pub status: BTreeMap<String, u64>,
    /// Requests cut because the upstream sent nothing for the read timeout.
    pub upstream_timeouts: u64,
    /// How long the cut requests had lasted, s: the shortest, the median, the longest.
    pub cut_after_s: Option<Spread>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub p50: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Self> {
        values.sort_by(f64::total_cmp);
        let (min, max) = (*values.first()?, *values.last()?);
        Some(Spread { min, p50: values[values.len() / 2], max })
    }
}

/// One access-log line.
#[derive(Debug, PartialEq)]
struct Access<'a> {
    connection: &'a str,
    status: &'a str,
    seconds: f64,
    request: &'a str,
}

fn access_line(line: &str) -> Option<Access<'_>> {
    let (fields, request) = line.split_once(" \"")?;
    let mut fields = fields.split(' ');
    let (connection, status, seconds) = (fields.next()?, fields.next()?, fields.next()?.parse().ok()?);
    Some(Access { connection, status, seconds, request: request.strip_suffix('"')? })
}

/// A timeout's connection number and request line, from an error-log line such as
/// `… [error] 7#7: *3 upstream timed out (110: …) while reading upstream, client: …,
/// request: "GET /api/sse HTTP/1.1", upstream: …`.
fn timeout_line(line: &str) -> Option<(&str, &str)> {
    if !line.contains(TIMEOUT_MESSAGE) {
        return None;
    }
    let connection = line.split_once(": *")?.1.split(' ').next()?;
    let request = line.split_once("request: \"")?.1.split_once('"')?.0;
    Some((connection, request))
}

/// The account of a run from the text of its access and error logs.
pub fn read(access: &str, errors: &str) -> ProxyLog {
    let lines: Vec<Access> = access.lines().filter_map(access_line).collect();
    let mut status = BTreeMap::new();
    for line in &lines {
        *status.entry(line.status.to_string()).or_insert(0) += 1;
    }
    let timeouts: Vec<(&str, &str)> = errors.lines().filter_map(timeout_line).collect();
    // Each timeout takes the first access line of its connection and request not yet taken.
    let mut taken = vec![false; lines.len()];
    let mut cut = Vec::new();
    for (connection, request) in &timeouts {
        let found = lines
            .iter()
            .enumerate()
            .position(|(i, l)| !taken[i] && l.connection == *connection && l.request == *request);
        if let Some(i) = found {
            taken[i] = true;
            cut.push(lines[i].seconds);
        }
    }
    ProxyLog {
        requests: lines.len() as u64,
        status,
        upstream_timeouts: timeouts.len() as u64,
        cut_after_s: Spread::of(cut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS: &str = r#"1 200 10.011 200 "GET /api/sse?symbols=ACME HTTP/1.1"
2 400 0.001 400 "GET /api/ws HTTP/1.1"
3 504 10.009 504 "GET /api/long-poll?since=1 HTTP/1.1"
4 200 3.500 200 "GET /api/sse?symbols=ACME HTTP/1.1"
1 200 10.020 200 "GET /api/sse?symbols=ACME HTTP/1.1"
"#;
    const ERRORS: &str = r#"2026/12/03 19:11:10 [error] 21334#21334: *1 upstream timed out (110: Connection timed out) while reading upstream, client: 127.0.0.1, server: , request: "GET /api/sse?symbols=ACME HTTP/1.1", upstream: "http://127.0.0.1:13000/api/sse?symbols=ACME", host: "127.0.0.1:18080"
2026/12/03 19:11:20 [error] 21334#21334: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/long-poll?since=1 HTTP/1.1", upstream: "http://127.0.0.1:13000/api/long-poll?since=1", host: "127.0.0.1:18080"
2026/12/03 19:11:21 [error] 21334#21334: *9 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, request: "GET /api/poll HTTP/1.1"
"#;

    #[test]
    fn statuses_are_counted_and_timeouts_matched_to_their_requests() {
        let log = read(ACCESS, ERRORS);
        assert_eq!(log.requests, 5);
        assert_eq!(log.status, BTreeMap::from([("200".into(), 3), ("400".into(), 1), ("504".into(), 1)]));
        assert_eq!(log.upstream_timeouts, 2, "the refused connect is no timeout");
        // Connection 1's first SSE request and connection 3's long-poll; not connection 4's.
        assert_eq!(log.cut_after_s, Some(Spread { min: 10.009, p50: 10.011, max: 10.011 }));
    }

    #[test]
    fn a_run_without_timeouts_has_no_cut_figure() {
        let log = read(ACCESS, "");
        assert_eq!((log.upstream_timeouts, log.cut_after_s), (0, None));
        assert_eq!(read("", ""), ProxyLog::default());
    }

    #[test]
    fn lines_it_cannot_read_are_left_out() {
        assert_eq!(access_line("garbage"), None);
        assert_eq!(access_line(r#"1 200 x 200 "GET / HTTP/1.1""#), None);
        assert_eq!(timeout_line("upstream timed out, no connection"), None);
    }
}
