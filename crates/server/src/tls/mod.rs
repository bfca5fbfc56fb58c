//! HTTPS (`--tls`, or `--tls-cert`/`--tls-key`): rustls, then HTTP/2 or HTTP/1.1 as
//! the client's ALPN asks, served by hyper with the same router as the plain port.
//!
//! Why hyper here and the hand-written layer ([`crate::http1`]) on plain TCP? The plain
//! layer exists to hold no buffer while a connection waits; under TLS that saving is
//! gone anyway (rustls keeps its own record buffers per connection), and HTTP/2 is a
//! protocol of its own (HPACK, flow control, stream state) that nobody should write by
//! hand for a demo. hyper's `auto` server speaks both, picked here by ALPN:
//!
//! - `h2`: one TCP connection carries many streams. Each SSE stream, poll or long-poll
//!   is a stream; the six-connection limit browsers keep per host for HTTP/1.1 does not
//!   apply. Up to [`MAX_CONCURRENT_STREAMS`] per connection (every stream also counts
//!   under `--max-connections`, so the cap still holds); keepalive PINGs every
//!   `--keepalive` close a connection whose peer stopped answering.
//! - `http/1.1` (or no ALPN): hyper's HTTP/1.1, with upgrades, so wss:// works: the
//!   WebSocket session runs on hyper's upgraded connection (`tls/service.rs`).
//!
//! WebSocket is not offered over HTTP/2 (RFC 8441's extended CONNECT, which hyper
//! could enable but tungstenite and axum's extractor do not speak; browsers then open an
//! HTTP/1.1 connection for wss:// of their own): see `docs/transports.md`.
//!
//! SPEC §8 over TLS (`tls/connection.rs`): the same TCP cap, checked before the handshake;
//! the handshake is due within `--header-timeout` of the accept, and garbage ends it
//! at once (both counted in `connections.tls`); the first request is due within the
//! header timeout too, each HTTP/1.1 request head within it (hyper's
//! `header_read_timeout`), and a connection with nothing in flight for
//! `--idle-timeout` is closed. On shutdown each connection shuts down gracefully:
//! GOAWAY on HTTP/2, so clients know to reconnect, and SSE streams end with the server's
//! cancellation as on the plain port.
//!
//! The crypto provider is *ring*: it builds with a C compiler alone, where aws-lc-rs
//! needs cmake and compiles a large C library (minutes on a 2-core machine).

mod connection;
mod counters;
pub mod identity;
mod service;

use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio_rustls::TlsAcceptor;

pub use connection::serve_connection;
pub use counters::TlsCounters;
pub use identity::{Identity, TlsArgs};

use crate::Config;

/// The protocols offered in ALPN, the preferred first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];
/// Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
pub const MAX_CONCURRENT_STREAMS: u32 = 1024;
/// An HTTP/2 keepalive PING unanswered for this many keepalive intervals closes the
/// connection (as an unanswered WebSocket ping does).
const PING_TIMEOUT_INTERVALS: u32 = 2;

/// What every TLS connection is served with: the certificate and the two protocols.
pub struct TlsServer {
    acceptor: TlsAcceptor,
    h1: Builder<TokioExecutor>,
    h2: Builder<TokioExecutor>,
}

impl TlsServer {
    pub fn new(identity: &Identity, config: &Config) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
        tls.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
        let mut h1 = Builder::new(TokioExecutor::new()).http1_only();
        h1.http1().timer(TokioTimer::new()).header_read_timeout(config.header_timeout).keep_alive(true);
        let mut h2 = Builder::new(TokioExecutor::new()).http2_only();
        h2.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
            .keep_alive_interval(config.keepalive)
            .keep_alive_timeout(config.keepalive * PING_TIMEOUT_INTERVALS);
        Ok(TlsServer { acceptor: TlsAcceptor::from(Arc::new(tls)), h1, h2 })
    }

    /// The TLS server `config` asks for, or `None` for plain HTTP. A generated
    /// certificate's fingerprint is logged (main prints it on stdout).
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(identity) = config.tls.resolve()? else { return Ok(None) };
        tracing::info!("TLS certificate SHA-256 {}", identity.fingerprint());
        Ok(Some(Arc::new(TlsServer::new(&identity, config)?)))
    }
}
