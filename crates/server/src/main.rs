//! `pushlab-server`: parse the flags, start logging, bind, serve until Ctrl-C or SIGTERM.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Parser as _;
use pushlab_alloc::CountingAlloc;
use pushlab_server::{Config, run};
use tracing_subscriber::EnvFilter;

/// Counts live heap bytes for `/api/stats` (see `alloc.rs`).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if config.threads > 0 {
        runtime.worker_threads(config.threads as usize);
    }
    runtime.enable_all().build()?.block_on(serve(config))
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log)?)
        .with_writer(std::io::stderr)
        .init();
    // Before anything opens a file: the connection cap is derived from this limit.
    pushlab_server::process::raise_fd_limit();
    let listener = bind(config.addr).with_context(|| format!("binding {}", config.addr))?;
    // Resolved here, so the fingerprint a client pins is printed before it connects.
    let scheme = match config.tls.resolve()? {
        Some(identity) => {
            println!("tls certificate sha256 {}", identity.fingerprint());
            config.tls.identity = Some(identity);
            "https"
        }
        None => "http",
    };
    // The last line on stdout at start: scripts and the load generator read the port
    // (and, after `tls certificate sha256`, the fingerprint) from these.
    println!("listening on {scheme}://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Connections the kernel may hold completed but not yet accepted (capped by
/// `net.core.somaxconn`, 4096 on current kernels). Tokio's `TcpListener::bind` asks
/// for 128, as the standard library does: a reconnect storm of thousands of clients
/// overflows that within a millisecond, and each overflowed SYN waits a 1 s
/// retransmission before it tries again, which a result would show as the server's
/// recovery time.
const LISTEN_BACKLOG: u32 = 4096;

fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As `TcpListener::bind` does: a restarted server rebinds its port at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.expect("installing the Ctrl-C handler") };
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler")
            .recv()
            .await;
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
