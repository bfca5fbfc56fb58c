//! The JSON every transport carries: the tick, the poll body, WebSocket control
//! messages, errors, `/api/stats` and the admin body.
//!
//! The server never serializes a [`Tick`] per client: it writes each tick's JSON once
//! (see `pushlab-server`'s feed) and shares the bytes. These types are for building that
//! JSON once and for parsing it on the client side.

use serde::{Deserialize, Serialize};

/// One price update. Every transport carries this JSON object byte-for-byte the same:
/// `{"seq":1042,"symbol":"ACME","price":101.25,"ts_us":1764046800123456}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    /// Global order across all symbols, starting at 1.
    pub seq: u64,
    pub symbol: String,
    /// At most two fractional digits.
    pub price: f64,
    /// The wall-clock time the tick was *scheduled* for, µs since the Unix epoch.
    pub ts_us: u64,
    /// Filler, present only when the server runs with `--payload-bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<String>,
}

/// The body of `/api/poll` and `/api/long-poll`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollResponse {
    pub ticks: Vec<Tick>,
    /// The cursor to send as `since` on the next call.
    pub next: u64,
    /// Ticks after the cursor that were evicted from the history before this answer.
    pub missed: u64,
    /// The run of the log `next` belongs to (SPEC §7): send `since=<epoch>-<next>`.
    pub epoch: String,
    /// The cursor was of another epoch (the server restarted): these ticks start at the
    /// oldest the new run still holds, and what was missed across the restart is unknown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// The body of every 4xx/5xx answer: `{"error":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// What a WebSocket client may send. The load generator writes it with this type; the
/// server checks incoming text by hand instead, so each kind of mistake gets its own
/// error message (see `pushlab-server`'s `ws.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Replace the symbol filter of this connection.
    Subscribe { symbols: Vec<String> },
}

/// A WebSocket control message from the server: every one carries `"type"`, which is
/// how a client tells it apart from a tick (ticks have no `type` key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlMessage {
    /// `missed` ticks after the client's cursor were evicted before it could read them.
    Gap { missed: u64 },
    /// A client message was not a valid request; the connection and filter are unchanged.
    Error { message: String },
    /// The answer to a valid `subscribe`.
    Subscribed { symbols: Vec<String> },
    /// The first message on every WebSocket: the run of the log, and its newest seq.
    Hello { epoch: String, head: u64 },
    /// The client's cursor was of another epoch (the server restarted): what follows
    /// starts at the oldest tick this run still holds.
    Reset { epoch: String },
}

/// Any text message the server sends on a WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    Tick(Tick),
    Control(ControlMessage),
}

impl ServerMessage {
    /// Parse one WebSocket text message: a control message if it has a `type`, else a tick.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        // Every control message has a "type" key and a tick never has one.
        if text.contains("\"type\"") {
            serde_json::from_str(text).map(ServerMessage::Control)
        } else {
            serde_json::from_str(text).map(ServerMessage::Tick)
        }
    }
}

/// The body of `GET /api/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub ticker: TickerStats,
    pub transports: TransportsStats,
    /// TCP connections and what the server's hygiene (SPEC §8) did to them.
    #[serde(default)]
    pub connections: ConnectionStats,
    pub process: ProcessStats,
    pub kernel: KernelStats,
    /// Where this server's ticks come from when it is one of a cluster (`--broker`);
    /// absent for a single server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterStats>,
}

/// A server's place in a broker-fed cluster (docs/cluster.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// `publisher` (runs the ticker, publishes every tick to the broker) or `replica`
    /// (follows the broker's stream into a ring of its own).
    pub role: String,
    /// This server's name in the cluster (`--replica-id`), shown by the demo's panels.
    pub replica: String,
    /// The broker's URL.
    pub broker: String,
    /// Ticks passed to (publisher) or taken from (replica) the broker so far.
    pub ticks: u64,
    /// Times a replica found a hole in the broker's seqs and restarted its ring after it
    /// (its clients were told what they missed); a publisher's ticks evicted before the
    /// broker took them. 0 in a healthy cluster.
    pub gaps: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TickerStats {
    /// The seq of the newest tick (0 before the first).
    pub head: u64,
    /// This run of the log (SPEC §7): new at each start, shared by broker-fed replicas.
    pub epoch: String,
    /// Ticks per second, all symbols together.
    pub rate: f64,
    pub symbols: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransportsStats {
    pub poll: TransportStats,
    pub long_poll: TransportStats,
    pub sse: TransportStats,
    pub ws: TransportStats,
}

/// Counters of one transport since the server started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransportStats {
    /// Requests being served now: open SSE streams and WebSockets, long-polls (waiting
    /// or answering), polls being answered.
    pub active: u64,
    /// HTTP requests received (WebSocket: handshake requests), refused ones included.
    pub requests: u64,
    /// Ticks written to clients.
    pub ticks_sent: u64,
    /// Response body / message payload bytes written, gap notices and SSE comments
    /// included; HTTP headers, chunk-size lines and WebSocket frame headers are not.
    pub bytes_sent: u64,
}

/// TCP connections since the server started (SPEC §8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStats {
    /// Connections open now, whatever they carry.
    pub open: u64,
    /// Connections accepted and served.
    pub accepted: u64,
    /// Connections closed at once because `open` was at the cap.
    pub refused_at_cap: u64,
    /// Closed because a request's headers did not arrive within `--header-timeout`.
    pub header_timeouts: u64,
    /// Closed after `--idle-timeout` with no request in flight.
    pub idle_timeouts: u64,
    /// SSE streams and WebSockets ended by `--stream-max-age`.
    pub streams_recycled: u64,
    /// TLS and HTTP/2 (`--tls`); all zero on a plain server.
    #[serde(default)]
    pub tls: TlsStats,
}

/// What TLS connections did (`--tls`), and how many HTTP/2 streams they carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsStats {
    /// TLS handshakes completed.
    pub handshakes: u64,
    /// Handshakes that failed: garbage bytes, no shared protocol or cipher, a reset.
    pub handshake_failures: u64,
    /// Handshakes not finished within `--header-timeout`: closed.
    pub handshake_timeouts: u64,
    /// TLS connections open now that negotiated HTTP/2 (ALPN `h2`).
    pub h2_connections_open: u64,
    /// TLS connections open now on HTTP/1.1 (ALPN `http/1.1`, or none).
    pub h1_connections_open: u64,
    /// HTTP/2 streams (requests) open now: an SSE stream is one until it ends.
    pub h2_streams_open: u64,
    /// HTTP/2 streams since start.
    pub h2_streams: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessStats {
    pub rss_bytes: u64,
    /// Bytes currently allocated through the global allocator.
    pub heap_bytes: u64,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    /// File descriptors the process has open (`/proc/self/fd`), if readable.
    #[serde(default)]
    pub open_fds: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KernelStats {
    /// Memory the kernel holds for all TCP sockets (`/proc/net/sockstat` "mem", in bytes).
    pub tcp_mem_bytes: u64,
}

/// `POST /api/admin/rate` request and answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateBody {
    pub rate: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_round_trips_in_the_spec_layout() {
        let json = r#"{"seq":1042,"symbol":"ACME","price":101.25,"ts_us":1764046800123456}"#;
        let tick: Tick = serde_json::from_str(json).unwrap();
        assert_eq!(tick.seq, 1042);
        assert_eq!(serde_json::to_string(&tick).unwrap(), json);
    }

    #[test]
    fn a_poll_body_says_reset_only_when_there_was_one() {
        let body = PollResponse { ticks: vec![], next: 3, missed: 0, epoch: "k3x9".into(), reset: false };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"ticks":[],"next":3,"missed":0,"epoch":"k3x9"}"#
        );
        let reset: PollResponse =
            serde_json::from_str(r#"{"ticks":[],"next":3,"missed":0,"epoch":"k3x9","reset":true}"#).unwrap();
        assert!(reset.reset);
    }

    #[test]
    fn server_messages_are_told_apart_by_type() {
        let tick = r#"{"seq":1,"symbol":"ACME","price":1.5,"ts_us":2}"#;
        assert!(matches!(ServerMessage::parse(tick), Ok(ServerMessage::Tick(t)) if t.seq == 1));
        assert_eq!(
            ServerMessage::parse(r#"{"type":"gap","missed":7}"#).unwrap(),
            ServerMessage::Control(ControlMessage::Gap { missed: 7 })
        );
        assert_eq!(
            ServerMessage::parse(r#"{"type":"hello","epoch":"k3x9","head":12}"#).unwrap(),
            ServerMessage::Control(ControlMessage::Hello { epoch: "k3x9".into(), head: 12 })
        );
        assert_eq!(
            ServerMessage::parse(r#"{"type":"reset","epoch":"k3x9"}"#).unwrap(),
            ServerMessage::Control(ControlMessage::Reset { epoch: "k3x9".into() })
        );
        assert_eq!(
            serde_json::to_string(&ClientMessage::Subscribe { symbols: vec!["ACME".into()] }).unwrap(),
            r#"{"type":"subscribe","symbols":["ACME"]}"#
        );
    }
}
