//! `compare --preset cluster`, small: nats-server, a publisher and two replicas, 200
//! clients per transport through two worker processes, replica-1 killed halfway through
//! the window. Its clients must move to replica-2 and resume there without losing a tick.

mod common;

use std::process::Command;

use pushlab_load::cluster::nats_available;
use pushlab_load::results::Results;

#[test]
fn a_killed_replicas_clients_move_and_lose_nothing() {
    assert!(nats_available(), "nats-server is needed (Debian: apt-get install nats-server)");
    let server = common::server_binary();
    let out = std::env::temp_dir().join(format!("pushlab-cluster-preset-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
        .args(["compare", "--preset", "cluster", "--clients", "200", "--replicas", "2", "--workers", "2"])
        .args(["--rates", "10", "--duration", "4s", "--ramp", "1s", "--settle", "1s", "--out"])
        .arg(&out)
        .arg("--server-bin")
        .arg(&server)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr:\n{stderr}");

    let results: Results = serde_json::from_slice(&std::fs::read(out.join("latest.json")).unwrap()).unwrap();
    assert_eq!(results.runs.len(), 2, "WebSocket and SSE: {stderr}");
    for r in &results.runs {
        let (workers, cluster) = (r.workers.as_ref().unwrap(), r.cluster.as_ref().unwrap());
        assert_eq!((r.clients, workers.count, cluster.replicas), (200, 2, 2), "{}", r.transport);
        assert!(cluster.killed_replica.is_some(), "{}: a replica was killed", r.transport);
        // Worker 0's 100 clients were on replica-1: all of them had to move.
        assert_eq!(workers.moved_clients, 100, "{}: {workers:?}", r.transport);
        assert!(r.reconnect.attempts >= 100, "{}: {:?}", r.transport, r.reconnect);
        assert_eq!(r.ticks.lost, 0, "{}: {:?}", r.transport, r.ticks);
        assert!(r.ticks.expected_per_client >= 35, "{}: {:?}", r.transport, r.ticks);
        assert_eq!(r.ticks.delivered, 200 * r.ticks.expected_per_client, "{}: {:?}", r.transport, r.ticks);
        assert!(cluster.broker_rss_bytes > 0, "{}: the broker's memory", r.transport);
        assert_eq!(workers.servers.len(), 2);
        assert!(workers.servers.iter().all(|s| s.clients == 100));
    }
    let _ = std::fs::remove_dir_all(&out);
}
