//! pushlab-server: one simulated price ticker, served four ways side by side.
//!
//! The map of the crate, in the order a request meets it:
//!
//! - [`config`]: the flags (`--rate`, `--history`, `--keepalive`, …).
//! - [`ticker`]: a seeded random walk publishing ticks on a fixed schedule.
//! - [`feed`]: the log of ticks every transport reads — the heart — and [`cursor`]:
//!   one client's place in it, with the read-or-wait that long-poll, SSE and WebSocket
//!   share.
//! - The four transports, each a thin adapter over the feed, each opening with how it
//!   works and what it costs: [`poll`], [`long_poll`], [`sse`], [`ws`]; poll and
//!   long-poll answer the same [`json_body`]. No transport imports another.
//! - [`params`] and [`error`]: bad input becomes a 400 naming the parameter.
//! - [`state`]: what handlers share, and the connection cap (503 past it).
//! - [`counters`]: what each transport has served; [`stats`] and [`process`] report
//!   them with the process's CPU and memory as `/api/stats` and `/metrics`.
//! - [`assets`]: the pages (compiled into `pushlab-pages`); [`admin`]: changing the rate at run time;
//!   [`origin`]: which browsers pages may use the WebSocket and admin endpoints.
//! - [`demo_links`]: the live demo on an emulated link (`--demo-links`): a port per
//!   link relaying to this server through `pushlab-link`, listed at `/api/links`.
//! - [`broker`]: beyond one process (`--broker`): one publisher passes every tick to
//!   a NATS JetStream stream, replicas follow it into rings of their own.
//! - `/api/figures`: the figure catalogue of `pushlab-contract`, for pages showing a
//!   results file written before results carried it.
//!
//! - [`http1`]: the connection layer under it all: HTTP/1.1 framing that holds no
//!   buffer while a connection waits, so an idle stream costs what its transport needs,
//!   and the hygiene of SPEC §8: a TCP connection cap ([`tcp_connection_cap`]), header
//!   and idle timeouts.
//! - [`tls`]: HTTPS instead (`--tls`): rustls, then HTTP/2 or HTTP/1.1 by ALPN, served
//!   by hyper with the same router and the same hygiene.
//!
//! [`app`] builds the router (tests call it directly); [`run`] serves it until a
//! shutdown future resolves, then drains within [`SHUTDOWN_GRACE`] (SPEC: 5 s).
//!
//! Draining (SPEC §7): the listener closes first, so a reconnecting client is refused
//! and tries the next run; idle keep-alive connections close; a request arriving on a
//! connection still open is not answered but closed (a browser's `EventSource` retries
//! after a network error, never after a 503); SSE streams end with their connections;
//! WebSockets get close 1001 (going away: the server may not come back, where
//! `--stream-max-age` sends 1012, service restart, because it stays); held long-polls
//! answer at once.

pub mod admin;
pub mod assets;
pub mod broker;
pub mod config;
pub mod counters;
pub mod cursor;
pub mod demo_links;
pub mod error;
pub mod feed;
pub mod http1;
pub mod json_body;
pub mod long_poll;
pub mod origin;
pub mod params;
pub mod poll;
pub mod process;
pub mod sse;
pub mod state;
pub mod stats;
pub mod ticker;
pub mod tls;
pub mod ws;

use std::future::Future;
use std::time::Duration;

use axum::routing::{get, post};
use axum::{Json, Router};
use pushlab_contract::figures::{CATALOGUE, Catalogue};
use tokio::net::TcpListener;

pub use config::Config;
pub use state::AppState;

/// How long shutdown waits for open connections (streams ending, long-polls answering,
/// WebSockets sending their close frames, clients that never read) before dropping
/// them: the process exits within about 3 s of the signal (SPEC: 5 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The pause after a failed `accept` (out of file descriptors, say) before the next:
/// the connection stays queued, and retrying at once would fail at once, in a spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// At most one warning about failing accepts this often (they come every backoff).
const ACCEPT_WARNING_INTERVAL: Duration = Duration::from_secs(1);

/// TCP connections allowed above `--max-connections`, so that a client past the stream
/// cap still gets its connection, and on it the 503 that tells it to retry.
pub const STREAM_CAP_HEADROOM: u64 = 64;
/// File descriptors kept out of the TCP cap: stdio, the listener, the runtime's epoll
/// and wake-up descriptors, `/proc` reads for `/api/stats`, pages read from `--web-dir`,
/// and the socket accepted at the cap only to be closed.
pub const FD_RESERVE: u64 = 64;

/// The most TCP connections open at once: `--max-connections` plus
/// [`STREAM_CAP_HEADROOM`], but never past the fd limit less [`FD_RESERVE`] (at least
/// one). Past it, new connections are closed as soon as they are accepted.
pub fn tcp_connection_cap(max_connections: u64, fd_limit: Option<u64>) -> u64 {
    let by_streams = max_connections.saturating_add(STREAM_CAP_HEADROOM);
    let by_fds = fd_limit.map_or(u64::MAX, |limit| limit.saturating_sub(FD_RESERVE));
    by_streams.min(by_fds).max(1)
}

/// Every route of the server.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .route("/api/poll", get(poll::poll))
        .route("/api/long-poll", get(long_poll::long_poll))
        .route("/api/sse", get(sse::sse))
        .route("/api/ws", get(ws::ws))
        .route("/api/stats", get(stats::stats_json))
        .route("/api/figures", get(figures))
        .route("/api/links", get(demo_links::links))
        .route("/metrics", get(stats::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/admin/rate", post(admin::set_rate))
        .route("/", get(assets::index))
        .route("/report", get(assets::report))
        .route("/results/{*name}", get(assets::results))
        .fallback(assets::fallback)
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(state.clone(), demo_links::cors));
    // A cluster member names itself on every response (the demo shows it per panel).
    let router = match state.config.broker {
        Some(_) => router.layer(axum::middleware::from_fn_with_state(state.clone(), broker::replica_header)),
        None => router,
    };
    router.with_state(state)
}

/// `GET /api/figures`: every figure's key, label, unit and which way is better, as
/// `compare` writes them into the results (`"catalogue"`).
async fn figures() -> Json<&'static Catalogue> {
    Json(&CATALOGUE)
}

/// Serves `config` on `listener` until `shutdown` resolves, then stops accepting,
/// ends SSE streams, closes WebSockets with 1001 and answers pending long-polls.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config::validate(&config).map_err(std::io::Error::other)?;
    let port = listener.local_addr()?.port();
    let (config, joined) = broker::join(config, port).await.map_err(std::io::Error::other)?;
    let state = AppState::new(config);
    // Before serving: the page may ask for the links as soon as it loads.
    let demo = demo_links::DemoLinks::start(&state.config.demo_links, listener.local_addr()?)?;
    let peers = state.config.peer_ports.iter().copied();
    let ports = std::iter::once(listener.local_addr()?.port()).chain(demo.ports()).chain(peers).collect();
    let _ = (state.ports.set(ports), state.demo_links.set(demo.list()));
    let ticker = match joined {
        None => Some(start_ticker(&state)),
        Some(joined) => {
            joined.start(&state).await;
            None
        }
    };
    let link = state.broker.get().cloned();
    let fatal = link.as_ref().map(|link| link.fatal.clone());
    let stop = async move {
        match fatal {
            Some(fatal) => tokio::select! { () = shutdown => {}, () = fatal.cancelled() => {} },
            None => shutdown.await,
        }
    };
    serve(listener, state, stop).await?;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    drop(demo); // the links close after the server has drained
    match link.as_ref().and_then(|link| link.failure()) {
        Some(reason) => Err(std::io::Error::other(reason.to_owned())),
        None => Ok(()),
    }
}

/// Starts the price ticker publishing into `state`'s feed; it stops at shutdown.
pub fn start_ticker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let config = &state.config;
    let walk =
        ticker::PriceWalk::new(config.symbols.clone(), config.seed, config.payload_bytes.map(|b| b as usize));
    tokio::spawn(ticker::run(state.feed.clone(), walk, state.rate.subscribe(), state.shutdown.child_token()))
}

/// Serves the routes over `state` (whoever publishes into its feed: the ticker, or a
/// test) until `shutdown` resolves, then drains: streams end, long-polls answer,
/// WebSockets close with 1001, idle connections close; whatever is still open after
/// [`SHUTDOWN_GRACE`] (a client that never reads) is dropped.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state.clone());
    let config = &state.config;
    let limits = http1::Limits {
        max_open: tcp_connection_cap(config.max_connections, process::fd_limit()),
        header_timeout: config.header_timeout,
        idle_timeout: config.idle_timeout,
    };
    tracing::info!(
        "at most {} TCP connections (--max-connections {} + {STREAM_CAP_HEADROOM}, fd limit {:?} - {FD_RESERVE})",
        limits.max_open,
        config.max_connections,
        process::fd_limit()
    );
    let tls = tls::TlsServer::from_config(config).map_err(std::io::Error::other)?;
    let connections = http1::Connections::new(limits, state.connection_counters.clone());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_warning: Option<tokio::time::Instant> = None;
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Reset or aborted before we took it: the next one may be fine.
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors or memory: wait a moment rather than spin,
                    // still listening for shutdown.
                    if last_warning.is_none_or(|at| at.elapsed() >= ACCEPT_WARNING_INTERVAL) {
                        tracing::warn!("accept: {e}; retrying every {ACCEPT_BACKOFF:?}");
                        last_warning = Some(tokio::time::Instant::now());
                    }
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    }
                }
            },
        };
        // Past the cap the socket is closed at once (counted), before it costs a task.
        let Some(slot) = connections.admit() else { continue };
        // Without TCP_NODELAY, a small event can wait up to 40 ms for the delayed ACK of
        // the previous one (Nagle's algorithm): latency we would then measure as the
        // transport's.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY: {e}");
        }
        let (router, others) = (router.clone(), connections.clone());
        match &tls {
            Some(tls) => {
                connections.spawn(tls::serve_connection(tcp, peer, tls.clone(), router, others, slot))
            }
            None => connections.spawn(http1::serve_connection(tcp, peer, router, others, slot)),
        }
    }
    tracing::info!("shutting down: ending streams, closing WebSockets");
    drop(listener); // new connections are refused from now on
    connections.stop();
    state.shutdown.cancel();
    let dropped = connections.wait(SHUTDOWN_GRACE).await;
    if dropped > 0 {
        tracing::warn!("{dropped} connections still open after {SHUTDOWN_GRACE:?}: dropped");
    }
    Ok(())
}

/// An `accept` error that concerns only the connection being taken, not the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tcp_cap_is_a_little_above_the_stream_cap_and_below_the_fd_limit() {
        assert_eq!(tcp_connection_cap(100, Some(20_000)), 164);
        assert_eq!(tcp_connection_cap(100_000, Some(20_000)), 19_936);
        assert_eq!(tcp_connection_cap(100_000, None), 100_064);
        assert_eq!(tcp_connection_cap(10, Some(20)), 1, "a tiny fd limit still serves one");
    }

    #[test]
    fn only_errors_of_one_connection_are_retried_at_once() {
        let error = |kind| std::io::Error::from(kind);
        assert!(is_connection_error(&error(std::io::ErrorKind::ConnectionAborted)));
        // EMFILE: the listener cannot take any connection until a descriptor is freed.
        assert!(!is_connection_error(&std::io::Error::from_raw_os_error(libc::EMFILE)));
    }
}
