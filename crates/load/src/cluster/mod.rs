//! A broker-fed cluster on this machine (docs/cluster.md): a `nats-server` with
//! JetStream, one publisher (`pushlab-server --broker URL --publish`, the ticker) and
//! N replicas (`pushlab-server --broker URL`), each a process of its own on loopback.
//!
//! [`Cluster`] is what `pushlab-load cluster` (`just cluster`, the live demo) and the
//! tests start; a replica can be killed and started again on its address, as a crash
//! and a restart are.

pub mod compare;
pub mod nats;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::server::ServerProcess;
use nats::NatsProcess;

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// The `pushlab-server` binary.
    pub bin: PathBuf,
    /// Replicas beside the publisher.
    pub replicas: usize,
    /// Flags for every server (`--rate`, `--history`, …); the publisher's ticker uses
    /// them, replicas take the feed's from the broker.
    pub server_args: Vec<String>,
    /// The publisher on this port, replica i on port + i (1-based); `None`: free ports.
    pub base_port: Option<u16>,
}

/// The broker, the publisher and the replicas, running.
#[derive(Debug)]
pub struct Cluster {
    pub nats: NatsProcess,
    pub publisher: ServerProcess,
    /// `None` while a replica is down ([`Cluster::kill_replica`]).
    pub replicas: Vec<Option<ServerProcess>>,
    /// Where each replica listens (kept while it is down, to start it there again).
    addrs: Vec<SocketAddr>,
    spec: ClusterSpec,
}

impl Cluster {
    /// Starts the broker, then the publisher, then the replicas (each waits for the
    /// publisher's first tick before it listens).
    pub async fn start(spec: ClusterSpec) -> anyhow::Result<Self> {
        let nats = NatsProcess::start().await?;
        let publisher = start_server(&spec, &nats.url, None).await?;
        let mut replicas = Vec::with_capacity(spec.replicas);
        let mut addrs = Vec::with_capacity(spec.replicas);
        for i in 1..=spec.replicas {
            let replica = start_server(&spec, &nats.url, Some(i)).await?;
            addrs.push(replica.server.target.addr);
            replicas.push(Some(replica));
        }
        Ok(Cluster { nats, publisher, replicas, addrs, spec })
    }

    /// The publisher's base URL, e.g. `http://127.0.0.1:3000`.
    pub fn publisher_url(&self) -> String {
        format!("http://{}", self.publisher.server.target.addr)
    }

    /// Each replica's base URL, in order (also while one is down).
    pub fn replica_urls(&self) -> Vec<String> {
        self.addrs.iter().map(|addr| format!("http://{addr}")).collect()
    }

    /// Replica `i` (0-based) dies at once (SIGKILL): its clients must go elsewhere.
    pub async fn kill_replica(&mut self, i: usize) -> anyhow::Result<()> {
        match self.replicas[i].take() {
            Some(replica) => replica.kill().await,
            None => Ok(()),
        }
    }

    /// Replica `i` starts again on its address; it refills its ring from the stream.
    pub async fn restart_replica(&mut self, i: usize) -> anyhow::Result<()> {
        self.kill_replica(i).await?;
        let args = server_args(&self.spec, &self.nats.url, Some(i + 1));
        self.replicas[i] = Some(ServerProcess::start_on(&self.spec.bin, self.addrs[i], &args).await?);
        Ok(())
    }

    /// Stops every server (SIGTERM), then the broker.
    pub async fn stop(self) -> anyhow::Result<()> {
        for replica in self.replicas.into_iter().flatten() {
            replica.stop().await?;
        }
        self.publisher.stop().await?;
        self.nats.stop().await;
        Ok(())
    }
}

/// The flags of the publisher (`replica` None) or of replica `i`.
fn server_args(spec: &ClusterSpec, broker: &str, replica: Option<usize>) -> Vec<String> {
    let mut args = vec!["--broker".to_owned(), broker.to_owned()];
    match replica {
        None => args.extend(["--publish".into(), "--replica-id".into(), "publisher".into()]),
        Some(i) => args.extend(["--replica-id".into(), format!("replica-{i}")]),
    }
    if let Some(base) = spec.base_port {
        // The demo's page on one member spreads its panels over the others.
        let ports: Vec<String> = (0..=spec.replicas).map(|i| (base + i as u16).to_string()).collect();
        args.extend(["--peer-ports".into(), ports.join(",")]);
    }
    args.extend(spec.server_args.iter().cloned());
    args
}

async fn start_server(
    spec: &ClusterSpec,
    broker: &str,
    replica: Option<usize>,
) -> anyhow::Result<ServerProcess> {
    let args = server_args(spec, broker, replica);
    match spec.base_port {
        Some(port) => {
            let port = port + replica.unwrap_or(0) as u16;
            ServerProcess::start_on(&spec.bin, SocketAddr::from(([127, 0, 0, 1], port)), &args).await
        }
        None => ServerProcess::start(&spec.bin, &args).await,
    }
}

/// `pushlab-load cluster`: a cluster for the live demo and hands-on use.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Replicas beside the publisher.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub replicas: u16,
    /// The publisher listens here, replica i on port + i.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// The pushlab-server binary (default: next to this one).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Flags for every server after `--`, e.g. `-- --rate 5 --history 1000`.
    #[arg(last = true)]
    pub server_args: Vec<String>,
}

/// Starts the cluster, prints where everything is, and stops it all on Ctrl-C.
pub async fn command(args: ClusterArgs) -> anyhow::Result<()> {
    let bin = match args.server_bin {
        Some(bin) => bin,
        None => crate::server::find_binary()?,
    };
    let spec = ClusterSpec {
        bin,
        replicas: usize::from(args.replicas),
        server_args: args.server_args,
        base_port: Some(args.port),
    };
    let cluster = Cluster::start(spec).await?;
    print!("{}", describe(&cluster.nats.url, &cluster.publisher_url(), &cluster.replica_urls()));
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping the cluster");
    cluster.stop().await
}

/// What `pushlab-load cluster` prints: each process and its URL.
pub fn describe(broker: &str, publisher: &str, replicas: &[String]) -> String {
    let mut out =
        format!("broker     {broker} (nats-server, JetStream)\npublisher  {publisher}/  (the ticker)\n");
    for (i, url) in replicas.iter().enumerate() {
        out.push_str(&format!("replica-{}  {url}/\n", i + 1));
    }
    let spread = replicas.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(",");
    out.push_str(&format!("demo over the replicas: {publisher}/?replicas={spread}\n"));
    // The line a script waits for, as it waits for a single server's.
    out.push_str(&format!("listening on {publisher} (the publisher); Ctrl-C stops them all.\n"));
    out
}

/// Whether `nats-server` can be started here (the tests say so when it cannot).
pub fn nats_available() -> bool {
    std::process::Command::new(nats::NATS_BIN).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn replicas_get_the_broker_a_name_and_the_shared_flags() {
        let spec = ClusterSpec {
            bin: Path::new("x").into(),
            replicas: 2,
            server_args: vec!["--rate".into(), "5".into()],
            base_port: None,
        };
        assert_eq!(
            server_args(&spec, "nats://b:1", Some(2)),
            ["--broker", "nats://b:1", "--replica-id", "replica-2", "--rate", "5"]
        );
        assert_eq!(server_args(&spec, "nats://b:1", None)[2..5], ["--publish", "--replica-id", "publisher"]);
    }

    #[test]
    fn the_description_lists_every_url_and_the_demo() {
        let text = describe("nats://127.0.0.1:9", "http://127.0.0.1:3000", &["http://127.0.0.1:3001".into()]);
        assert!(text.contains("replica-1  http://127.0.0.1:3001/"), "{text}");
        assert!(text.contains("/?replicas=http://127.0.0.1:3001"), "{text}");
    }
}
