//! A pushlab-server inside the test process, for the tests that drive the load
//! generator's library against it (no binaries to build, a port of its own).
#![allow(dead_code)] // each test file uses a different part

use pushlab_load::net::Target;
use tokio_util::sync::CancellationToken;

/// A pushlab-server on 127.0.0.1:0 with `args`, stopped when the guard drops.
pub struct Server {
    pub target: Target,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn server(args: &[&str]) -> Server {
    with_config(pushlab_server::Config::with_args(args.iter().copied())).await
}

/// A pushlab-server on 127.0.0.1:0 with `config` (for settings flags cannot carry,
/// such as a TLS certificate the test knows).
pub async fn with_config(config: pushlab_server::Config) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Target::from_addr(listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let shutdown = stop.clone().cancelled_owned();
    tokio::spawn(async move { pushlab_server::run(listener, config, shutdown).await.unwrap() });
    Server { target, stop }
}
