//! A pushlab-server inside the test process, for the tests that drive the load
//! generator's library against it (no binaries to build, a port of its own).
#![allow(dead_code)] // each test file uses a different part

use pushlab_load::net::Target;
use tokio_util::sync::CancellationToken;

/// A pushlab-server in this process, stopped when the guard drops.
pub struct Server {
    pub target: Target,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A pushlab-server on 127.0.0.1 (any port) with `args`.
#[allow(dead_code)] // a test binary that only starts servers elsewhere has no use for it
pub async fn server(args: &[&str]) -> Server {
    server_on(std::net::Ipv4Addr::LOCALHOST.into(), args).await
}

/// [`server`] on `ip` (any port), e.g. the netem path's veth address.
#[allow(dead_code)]
pub async fn server_on(ip: std::net::IpAddr, args: &[&str]) -> Server {
    with_config_on(ip, pushlab_server::Config::with_args(args.iter().copied())).await
}

/// A pushlab-server on 127.0.0.1:0 with `config` (for settings flags cannot carry,
/// such as a TLS certificate the test knows).
#[allow(dead_code)]
pub async fn with_config(config: pushlab_server::Config) -> Server {
    with_config_on(std::net::Ipv4Addr::LOCALHOST.into(), config).await
}

async fn with_config_on(ip: std::net::IpAddr, config: pushlab_server::Config) -> Server {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let target = Target::from_addr(listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let shutdown = stop.clone().cancelled_owned();
    tokio::spawn(async move { pushlab_server::run(listener, config, shutdown).await.unwrap() });
    Server { target, stop }
}
