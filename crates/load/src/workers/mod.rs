//! `--workers N`: one run spread over N child processes of this program, because one
//! process may open about 19,000 sockets (a 20,000-file limit) and 100,000 clients need
//! more. Each worker gets a share of the clients, one of the servers to start on (the
//! others as fallbacks, in ring order) and its own block of loopback source addresses;
//! it runs the ordinary timeline and prints a [`WorkerReport`] on its stdout, whose
//! histograms the parent merges exactly ([`mod@merge`]).

pub mod merge;

use std::path::Path;
use std::process::Stdio;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::net::Target;
use crate::run::{self, ServerUnderTest};
use crate::scenario::{Knobs, RunSpec};
pub use merge::{WorkerReport, WorkersRecord, merge};
use pushlab_contract::Transport;

/// Most workers: each has its own block of [`crate::net::SOURCE_ADDRS`] loopback
/// addresses, and 127.0.0.255 is the last.
pub const MAX_WORKERS: usize = 30;
/// Most clients one worker holds: under its 20,000 files, with room for its own.
pub const MAX_CLIENTS_PER_WORKER: usize = 19_000;
/// From starting the workers to their common start (a late one starts on its own).
const START_LEAD: std::time::Duration = std::time::Duration::from_millis(1500);

/// What the parent tells one worker, as JSON on its stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerOrder {
    pub index: usize,
    pub transport: Transport,
    pub clients: usize,
    pub knobs: Knobs,
    /// The server its clients start on.
    pub url: String,
    /// Where they go, in turn, when it refuses them.
    pub fallbacks: Vec<String>,
    /// The server's pid, for its CPU from /proc.
    pub server_pid: Option<u32>,
    pub allow_remote: bool,
    /// When every worker's timeline starts, µs since the Unix epoch: one window for all.
    pub start_at_us: Option<u64>,
    /// Whose log holds the expected ticks, if not `url`'s (a cluster's publisher).
    pub reference_url: Option<String>,
}

/// The orders for `clients` clients over `workers` processes and the servers `urls`:
/// shares differ by at most one, worker `i` starts on `urls[i % urls.len()]` and falls
/// back to the servers after it.
pub fn orders(
    transport: Transport,
    clients: usize,
    workers: usize,
    urls: &[String],
    knobs: &Knobs,
) -> anyhow::Result<Vec<WorkerOrder>> {
    anyhow::ensure!((1..=MAX_WORKERS).contains(&workers), "--workers must be 1 to {MAX_WORKERS}");
    anyhow::ensure!(!urls.is_empty(), "no --url to spread the clients over");
    let share = clients.div_ceil(workers);
    anyhow::ensure!(
        share <= MAX_CLIENTS_PER_WORKER,
        "{clients} clients over {workers} workers is {share} each; one process holds at most \
         {MAX_CLIENTS_PER_WORKER}: use --workers {}",
        clients.div_ceil(MAX_CLIENTS_PER_WORKER)
    );
    Ok((0..workers)
        .map(|index| {
            let home = index % urls.len();
            WorkerOrder {
                index,
                transport,
                clients: clients / workers + usize::from(index < clients % workers),
                knobs: knobs.clone(),
                url: urls[home].clone(),
                fallbacks: (1..urls.len()).map(|k| urls[(home + k) % urls.len()].clone()).collect(),
                server_pid: None,
                allow_remote: false,
                start_at_us: None,
                reference_url: None,
            }
        })
        .collect())
}

/// Start one worker per order (`bin worker`, the order on its stdin), all at once so
/// their windows coincide, and collect their reports. A worker that fails fails the run,
/// with its exit status; its stderr is passed through.
pub async fn spawn(bin: &Path, orders: &[WorkerOrder]) -> anyhow::Result<Vec<WorkerReport>> {
    let mut running = Vec::new();
    // Time enough for every worker to start and read its server's stats first.
    let start_at_us = crate::measure::now_us() + START_LEAD.as_micros() as u64;
    for order in orders {
        let order = &WorkerOrder { start_at_us: order.start_at_us.or(Some(start_at_us)), ..order.clone() };
        let mut child = tokio::process::Command::new(bin)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting worker {} ({})", order.index, bin.display()))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(&serde_json::to_vec(order)?).await?;
        drop(stdin);
        running.push(child);
    }
    let mut reports = Vec::new();
    for (order, mut child) in orders.iter().zip(running) {
        let mut out = String::new();
        child.stdout.take().expect("piped stdout").read_to_string(&mut out).await?;
        let status = child.wait().await?;
        anyhow::ensure!(status.success(), "worker {} failed ({status})", order.index);
        let report: WorkerReport =
            serde_json::from_str(&out).with_context(|| format!("reading worker {}'s report", order.index))?;
        reports.push(report);
    }
    Ok(reports)
}

/// `pushlab-load worker`: read an order on stdin, run it, print the report on stdout.
pub async fn command() -> anyhow::Result<()> {
    let mut input = String::new();
    tokio::io::stdin().read_to_string(&mut input).await?;
    let order: WorkerOrder = serde_json::from_str(&input).context("reading the worker's order on stdin")?;
    crate::net::use_source_block(order.index);
    let target = Target::resolve(&order.url, order.allow_remote).await?;
    let mut fallbacks = Vec::new();
    for url in &order.fallbacks {
        fallbacks.push(Target::resolve(url, order.allow_remote).await?);
    }
    let server = ServerUnderTest { target, pid: order.server_pid };
    let spec = RunSpec { transport: order.transport, clients: order.clients, knobs: order.knobs };
    let reference = match &order.reference_url {
        Some(url) => Some(Target::resolve(url, order.allow_remote).await?),
        None => None,
    };
    let options = run::Options { fallbacks, start_at_us: order.start_at_us, reference };
    let measured = run::run_measured(&spec, &server, &options, &indicatif::ProgressBar::hidden()).await?;
    let t = &measured.totals;
    let report = WorkerReport {
        index: order.index,
        url: order.url,
        record: measured.record,
        latency_us: merge::encode(&t.latency_us)?,
        connect_us: merge::encode(&t.connect_us)?,
        first_tick_us: merge::encode(&t.first_tick_us)?,
        moved_clients: measured.moved_clients,
        moves: measured.moves,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_shared_out_evenly_and_each_worker_falls_back_around_the_ring() {
        let urls: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let o = orders(Transport::Sse, 10, 4, &urls, &Knobs::default()).unwrap();
        assert_eq!(o.iter().map(|o| o.clients).collect::<Vec<_>>(), [3, 3, 2, 2]);
        assert_eq!(o.iter().map(|o| o.url.as_str()).collect::<Vec<_>>(), ["a", "b", "c", "a"]);
        assert_eq!(o[1].fallbacks, ["c", "a"]);
        assert!(orders(Transport::Sse, 100_000, 5, &urls, &Knobs::default()).is_err(), "20,000 each");
        assert!(orders(Transport::Sse, 100_000, 6, &urls, &Knobs::default()).is_ok());
        assert!(orders(Transport::Sse, 10, 0, &urls, &Knobs::default()).is_err());
    }
}
