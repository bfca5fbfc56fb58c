//! TLS and HTTP/2 for a run: the flags (`--tls`, `--http2`,
//! `--streams-per-connection`, `--tls-fingerprint`, `--insecure`), what they may be
//! combined with, and the figures a run over them adds to its record (`protocol`).

use anyhow::{bail, ensure};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::h2_frames::FrameBytes;
use crate::results::per;
use crate::scenario::Knobs;
use crate::tls::Trust;
use pushlab_contract::{Stats, Transport};

/// The most streams per connection a run may ask for: the server's
/// SETTINGS_MAX_CONCURRENT_STREAMS (`pushlab_server::tls::MAX_CONCURRENT_STREAMS`).
pub const MAX_STREAMS_PER_CONNECTION: usize = 1024;

#[derive(Debug, Clone, Default, Args)]
pub struct ProtocolFlags {
    /// Over HTTP/2 (TLS with ALPN h2): poll, long-poll and SSE only; `compare` starts
    /// the server with --tls.
    #[arg(long, env = "PUSHLAB_LOAD_HTTP2")]
    pub http2: bool,
    /// With --http2: how many clients' streams share each connection (as a browser's
    /// tabs share one connection to a host) [default: 1].
    #[arg(long, env = "PUSHLAB_LOAD_STREAMS_PER_CONNECTION", requires = "http2")]
    pub streams_per_connection: Option<usize>,
    /// `compare`: start each server with --tls and pin the fingerprint it prints
    /// (`run`: give an https:// URL instead).
    #[arg(long, env = "PUSHLAB_LOAD_TLS")]
    pub tls: bool,
    /// `run` against an https:// server: accept only the certificate with this SHA-256
    /// fingerprint (the server prints `tls certificate sha256 AB:CD:…`).
    #[arg(long, env = "PUSHLAB_LOAD_TLS_FINGERPRINT", conflicts_with = "insecure")]
    pub tls_fingerprint: Option<String>,
    /// `run` against an https:// server: accept any certificate (encrypted, unchecked).
    #[arg(long, env = "PUSHLAB_LOAD_INSECURE")]
    pub insecure: bool,
}

impl ProtocolFlags {
    /// Sets `knobs` for a run of `transports`; `https` is whether `run`'s URL is
    /// https:// (`None` for `compare`, which starts its own servers).
    pub fn apply(
        &self,
        knobs: &mut Knobs,
        transports: &[Transport],
        https: Option<bool>,
    ) -> anyhow::Result<()> {
        if self.http2 && transports.contains(&Transport::Ws) {
            bail!(
                "--http2 is for poll, long-poll and sse: WebSocket stays on HTTP/1.1 (the server offers no RFC 8441 \
                 extended CONNECT, and browsers open an HTTP/1.1 connection for wss://); drop --http2 or ws"
            );
        }
        let per = self.streams_per_connection.unwrap_or(1);
        ensure!(
            (1..=MAX_STREAMS_PER_CONNECTION).contains(&per),
            "--streams-per-connection: expected 1 to {MAX_STREAMS_PER_CONNECTION} (the server's max concurrent streams), got {per}"
        );
        match https {
            Some(https) => {
                ensure!(!self.tls, "--tls is for compare; give run an https:// URL");
                ensure!(
                    https || !self.http2,
                    "--http2 is offered over TLS only (ALPN h2): give an https:// URL"
                );
                knobs.tls = https;
            }
            None => {
                ensure!(
                    self.tls_fingerprint.is_none() && !self.insecure,
                    "compare pins the fingerprint each server prints: --tls-fingerprint and --insecure are for run"
                );
                knobs.tls = self.tls || self.http2;
            }
        }
        knobs.http2_streams = self.http2.then_some(per);
        Ok(())
    }

    /// How `run` trusts an https:// server's certificate (`None` if no flag says).
    pub fn trust(&self) -> Option<Trust> {
        match (&self.tls_fingerprint, self.insecure) {
            (Some(print), _) => Some(Trust::Pinned(print.clone())),
            (None, true) => Some(Trust::Insecure),
            (None, false) => None,
        }
    }
}

/// What a run over TLS or HTTP/2 adds to its record; absent on plain HTTP/1.1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProtocolRecord {
    /// `HTTP/1.1 over TLS` or `HTTP/2 over TLS`.
    pub name: String,
    /// Clients (streams) per TCP connection: 1 on HTTP/1.1.
    pub streams_per_connection: u64,
    /// The server's TLS connections open with all connected (its `/api/stats`, less the
    /// load generator's own request): what the per-connection figures divide by.
    pub connections: u64,
    /// The server's RSS and heap growth ÷ TCP connections (`server.*_per_conn_bytes`
    /// divides by clients, i.e. per stream).
    pub rss_per_tcp_conn_bytes: f64,
    pub heap_per_tcp_conn_bytes: f64,
    /// Bytes above TLS (HTTP/1.1 text, or HTTP/2 frames: HPACK headers, DATA frames,
    /// PINGs, WINDOW_UPDATEs) ÷ delivered ticks.
    pub plaintext_bytes_per_tick: f64,
    /// Wire bytes less those: TLS records' headers and tags, the handshake, ÷ ticks.
    pub tls_overhead_bytes_per_tick: f64,
    /// Over HTTP/2, `plaintext_bytes_per_tick` by frame type (both directions, the
    /// 9-byte frame headers included): HEADERS and CONTINUATION (the HPACK blocks) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2_headers_bytes_per_tick: Option<f64>,
    /// … DATA (the bodies) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2_data_bytes_per_tick: Option<f64>,
    /// … and the rest: the client preface, SETTINGS, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2_control_bytes_per_tick: Option<f64>,
    /// The server's HTTP/2 streams and connections open with all connected
    /// (`connections.tls` of `/api/stats`).
    pub server_h2_streams_open: u64,
    pub server_h2_connections_open: u64,
    pub server_h1_tls_connections_open: u64,
}

/// What [`ProtocolRecord::new`] is made from.
pub struct ProtocolMeasured<'a> {
    pub knobs: &'a Knobs,
    pub server_with: &'a Stats,
    pub server_before: &'a Stats,
    pub wire_bytes: u64,
    pub plaintext_bytes: u64,
    /// Over HTTP/2, those bytes by frame type.
    pub h2_frames: FrameBytes,
    pub delivered: u64,
}

impl ProtocolRecord {
    /// The record of a run over TLS, `None` for plain HTTP/1.1.
    pub fn new(m: ProtocolMeasured<'_>) -> Option<Self> {
        if !m.knobs.tls {
            return None;
        }
        let (w, b) = (&m.server_with.process, &m.server_before.process);
        let tls = &m.server_with.connections.tls;
        // Less the load generator's own `/api/stats` request, an HTTP/1.1 one of them.
        let h1_open = tls.h1_connections_open.saturating_sub(1);
        let connections = tls.h2_connections_open + h1_open;
        let delta = |after: u64, before: u64| per(after as f64 - before as f64, connections);
        let h2 = m.knobs.http2_streams.is_some();
        let per_tick = |bytes: u64| h2.then(|| per(bytes as f64, m.delivered));
        Some(Self {
            name: if h2 { "HTTP/2 over TLS" } else { "HTTP/1.1 over TLS" }.into(),
            streams_per_connection: m.knobs.http2_streams.unwrap_or(1) as u64,
            connections,
            rss_per_tcp_conn_bytes: delta(w.rss_bytes, b.rss_bytes),
            heap_per_tcp_conn_bytes: delta(w.heap_bytes, b.heap_bytes),
            plaintext_bytes_per_tick: per(m.plaintext_bytes as f64, m.delivered),
            tls_overhead_bytes_per_tick: per(
                m.wire_bytes.saturating_sub(m.plaintext_bytes) as f64,
                m.delivered,
            ),
            h2_headers_bytes_per_tick: per_tick(m.h2_frames.headers),
            h2_data_bytes_per_tick: per_tick(m.h2_frames.data),
            h2_control_bytes_per_tick: per_tick(m.h2_frames.control),
            server_h2_streams_open: tls.h2_streams_open,
            server_h2_connections_open: tls.h2_connections_open,
            server_h1_tls_connections_open: h1_open,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http2_refuses_websocket_and_needs_tls() {
        let flags = ProtocolFlags { http2: true, streams_per_connection: Some(10), ..Default::default() };
        let mut knobs = Knobs::default();
        let error = flags.apply(&mut knobs, &[Transport::Sse, Transport::Ws], None).unwrap_err();
        assert!(error.to_string().contains("WebSocket stays on HTTP/1.1"), "{error}");
        assert!(flags.apply(&mut knobs, &[Transport::Sse], Some(false)).is_err(), "http:// with --http2");
        flags.apply(&mut knobs, &[Transport::Sse], None).unwrap();
        assert_eq!((knobs.tls, knobs.http2_streams), (true, Some(10)));
        let too_many = ProtocolFlags { streams_per_connection: Some(5000), ..flags };
        assert!(too_many.apply(&mut knobs, &[Transport::Poll], None).is_err());
    }

    #[test]
    fn run_trusts_as_its_flags_say() {
        assert_eq!(ProtocolFlags::default().trust(), None);
        let pinned = ProtocolFlags { tls_fingerprint: Some("AB:CD".into()), ..Default::default() };
        assert_eq!(pinned.trust(), Some(Trust::Pinned("AB:CD".into())));
        assert_eq!(ProtocolFlags { insecure: true, ..Default::default() }.trust(), Some(Trust::Insecure));
    }
}
