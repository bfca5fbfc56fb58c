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
//! - `/api/figures`: the figure catalogue of `pushlab-contract`, for pages showing a
//!   results file written before results carried it.
//!
//! [`app`] builds the router (tests call it directly); [`run`] serves it until a
//! shutdown future resolves, then drains: at most [`SHUTDOWN_GRACE`] for streams and
//! requests plus [`CLOSE_GRACE`] for WebSocket close frames, 4 s in all (SPEC: 5 s).

pub mod admin;
pub mod assets;
pub mod config;
pub mod counters;
pub mod cursor;
pub mod error;
pub mod feed;
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
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use pushlab_contract::figures::{CATALOGUE, Catalogue};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use state::AppState;

/// How long shutdown waits for open HTTP connections (streams, long-polls, clients
/// that never read) before giving up on them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Then how long WebSocket sessions get to send their close frames. With
/// [`SHUTDOWN_GRACE`], the process exits within 4 s of the signal (SPEC: 5 s).
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Every route of the server.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/poll", get(poll::poll))
        .route("/api/long-poll", get(long_poll::long_poll))
        .route("/api/sse", get(sse::sse))
        .route("/api/ws", get(ws::ws))
        .route("/api/stats", get(stats::stats_json))
        .route("/api/figures", get(figures))
        .route("/metrics", get(stats::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/admin/rate", post(admin::set_rate))
        .route("/", get(assets::index))
        .route("/report", get(assets::report))
        .route("/results/{*name}", get(assets::results))
        .fallback(assets::fallback)
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
    let state = AppState::new(config);
    let ticker = start_ticker(&state);
    serve(listener, state, shutdown).await?;
    ticker.abort();
    Ok(())
}

/// Starts the price ticker publishing into `state`'s feed; it stops at shutdown.
pub fn start_ticker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let config = &state.config;
    let walk =
        ticker::PriceWalk::new(config.symbols.clone(), config.seed, config.payload_bytes.map(|b| b as usize));
    tokio::spawn(ticker::run(state.feed.clone(), walk, state.rate.subscribe(), state.shutdown.child_token()))
}

/// Serves the routes over `state` (whoever publishes into its feed: the ticker, or a
/// test) until `shutdown` resolves, then drains within [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Without TCP_NODELAY, a small event can wait up to 40 ms for the delayed ACK of
    // the previous one (Nagle's algorithm): latency we would then measure as the
    // transport's.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY: {e}");
        }
    });
    let token = state.shutdown.clone();
    let server =
        axum::serve(listener, app(state.clone()).into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: ending streams, closing WebSockets");
                token.cancel();
            });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        served = &mut server => served?,
        // Graceful shutdown waits for every connection; a client that never reads
        // must not hold the process past the grace period.
        _ = async { state.shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; exiting anyway");
        }
    }
    state.tasks.close();
    let _ = tokio::time::timeout(CLOSE_GRACE, state.tasks.wait()).await;
    Ok(())
}
