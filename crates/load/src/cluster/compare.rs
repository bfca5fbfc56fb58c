//! `compare --preset cluster`: per transport and rate, a fresh broker-fed cluster
//! (nats-server, a publisher, the replicas), the clients spread over the replicas by
//! worker processes (`--workers`), and replica-1 killed halfway through the window: its
//! clients must move to the others and resume there without losing a tick.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Cluster, ClusterSpec};
use crate::measure::now_us;
use crate::procfs;
use crate::results::RunRecord;
use crate::scenario::Planned;
use crate::workers;

/// The cluster preset's replicas: 100,000 clients are 14,286 each, and the killed
/// one's spread over the other six make 16,667 each, under a process's 19,000.
pub const CLUSTER_REPLICAS: usize = 7;
/// What the run records of its cluster: `cluster` in a run record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterFigures {
    /// Replicas the clients were spread over (the publisher serves none).
    pub replicas: usize,
    /// The replica killed (SIGKILL) during the window, if one was.
    pub killed_replica: Option<String>,
    /// When, in seconds from the window's start.
    pub killed_at_s: Option<f64>,
    /// nats-server's CPU over the whole run (ramp to drain), and its RSS at the end.
    pub broker_cpu_s: f64,
    pub broker_rss_bytes: u64,
}

/// How one cluster run is set up.
#[derive(Debug, Clone)]
pub struct ClusterRun {
    pub server_bin: std::path::PathBuf,
    pub replicas: usize,
    pub workers: usize,
    /// Kill replica-1 halfway through the window.
    pub kill: bool,
}

/// One planned run on a fresh cluster: its record, with `workers` and `cluster` filled.
pub async fn run_one(plan: &Planned, setup: &ClusterRun, load_bin: &Path) -> anyhow::Result<RunRecord> {
    let spec = &plan.spec;
    let server_args = crate::commands::server_args(&spec.knobs, plan.rate);
    let cluster_spec =
        ClusterSpec { bin: setup.server_bin.clone(), replicas: setup.replicas, server_args, base_port: None };
    let mut cluster = Cluster::start(cluster_spec).await?;
    let urls = cluster.replica_urls();
    let mut orders = workers::orders(spec.transport, spec.clients, setup.workers, &urls, &spec.knobs)?;
    // Time for every worker to start and read its replica's stats.
    let start_at_us = now_us() + 2_000_000;
    for order in &mut orders {
        let home = order.index % urls.len();
        order.server_pid = cluster.replicas[home].as_ref().and_then(|r| r.server.pid);
        order.reference_url = Some(cluster.publisher_url());
        order.start_at_us = Some(start_at_us);
    }
    let broker_cpu0 = procfs::cpu_time(cluster.nats.pid).unwrap_or_default();
    let k = &spec.knobs;
    let kill_after =
        Duration::from_micros(start_at_us.saturating_sub(now_us())) + k.ramp + k.settle + k.duration / 2;
    let killing = async {
        if !setup.kill || setup.replicas < 2 {
            return Ok(None);
        }
        tokio::time::sleep(kill_after).await;
        cluster.kill_replica(0).await?;
        anyhow::Ok(Some(urls[0].clone()))
    };
    let (reports, killed) = tokio::join!(workers::spawn(load_bin, &orders), killing);
    let (reports, killed) = (reports?, killed?);
    let broker_cpu = procfs::cpu_time(cluster.nats.pid).unwrap_or_default().saturating_sub(broker_cpu0);
    let broker_rss = procfs::rss_bytes(cluster.nats.pid).unwrap_or(0);
    cluster.stop().await?;
    let mut record = workers::merge(&reports)?;
    record.cluster = Some(ClusterFigures {
        replicas: setup.replicas,
        killed_at_s: killed.is_some().then(|| (k.duration / 2).as_secs_f64()),
        killed_replica: killed,
        broker_cpu_s: broker_cpu.as_secs_f64(),
        broker_rss_bytes: broker_rss,
    });
    Ok(record)
}

/// `compare --preset cluster`: each run on a fresh cluster, through worker processes.
pub async fn command(
    args: &crate::cli::CompareArgs,
    scenario: crate::scenario::Scenario,
) -> anyhow::Result<()> {
    use crate::commands::{PAUSE_BETWEEN_RUNS, calibration, print_table, write_outputs};
    use crate::results::Results;
    use anyhow::Context as _;
    anyhow::ensure!(
        crate::cluster::nats_available(),
        "the cluster preset needs nats-server (Debian: nats-server)"
    );
    let replicas = args.replicas.unwrap_or(CLUSTER_REPLICAS);
    let setup = ClusterRun {
        server_bin: match &args.server_bin {
            Some(bin) => bin.clone(),
            None => crate::server::find_binary()?,
        },
        replicas,
        workers: args.workers.unwrap_or(replicas),
        kill: !args.no_kill,
    };
    let load_bin = std::env::current_exe().context("finding this executable to start the workers")?;
    let calibration = calibration().await;
    let plan = scenario.plan();
    let mut records = Vec::new();
    for (i, planned) in plan.iter().enumerate() {
        let (transport, clients, rate) = (planned.spec.transport, planned.spec.clients, planned.rate);
        eprintln!(
            "run {}/{}: {transport} × {clients} at {rate}/s over {replicas} replicas, {} workers …",
            i + 1,
            plan.len(),
            setup.workers
        );
        match run_one(planned, &setup, &load_bin).await {
            Ok(record) => {
                let w = record.workers.as_ref();
                eprintln!(
                    "{transport:>9} × {clients}: {} lost, {} clients moved",
                    record.ticks.lost,
                    w.map_or(0, |w| w.moved_clients)
                );
                records.push(record);
            }
            Err(e) => eprintln!("{transport} × {clients} at {rate}/s failed: {e:#}"),
        }
        tokio::time::sleep(PAUSE_BETWEEN_RUNS).await;
    }
    anyhow::ensure!(!records.is_empty(), "no run of the cluster preset finished");
    let results = Results::new(scenario, records, calibration);
    print_table(&results);
    write_outputs(&results, &args.out)
}
