//! `pushlab-load run --workers 2` as a user runs it: the real binary starts two worker
//! processes of itself against a server on a free port, and its one record must add up
//! to what the workers received, tick for tick.

mod in_process;

use std::process::Command;

use pushlab_load::results::Results;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_deliver_every_tick_and_report_each_one() {
    let server = in_process::server(&["--rate", "10", "--log", "warn"]).await;
    let url = format!("http://{}", server.target.addr);
    let json = std::env::temp_dir().join(format!("pushlab-workers-{}.json", std::process::id()));
    let output = tokio::task::spawn_blocking({
        let json = json.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
                .args(["run", "--transport", "sse", "--clients", "41", "--workers", "2", "--url", &url])
                .args(["--duration", "2s", "--ramp", "300ms", "--settle", "500ms", "--json"])
                .arg(&json)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr:\n{stderr}");

    let results: Results = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let run = &results.runs[0];
    let workers = run.workers.as_ref().expect("a workers block");
    assert_eq!(run.clients, 41);
    assert_eq!(workers.count, 2);
    assert_eq!(workers.each.iter().map(|w| w.clients).collect::<Vec<_>>(), [21, 20]);
    // One window for both: every client was owed the same ticks, and got them all.
    assert!(run.ticks.expected_per_client >= 15, "{:?}", run.ticks);
    assert_eq!(run.ticks.lost, 0, "{:?}", run.ticks);
    assert_eq!(run.ticks.delivered, 41 * run.ticks.expected_per_client, "{:?}", run.ticks);
    assert_eq!(run.ticks.delivered, workers.each.iter().map(|w| w.delivered).sum::<u64>());
    for w in &workers.each {
        assert_eq!(w.delivered, w.expected, "worker {}", w.index);
        assert!(w.loadgen.rss_bytes > 0, "worker {}: its own memory", w.index);
    }
    // The merged histogram holds every worker's samples: one per delivered tick.
    assert_eq!(run.latency_us.count, run.ticks.delivered);
    assert_eq!(run.connect.count, 41);
    assert_eq!(workers.servers.len(), 1);
    assert_eq!(workers.servers[0].clients, 41);
    assert_eq!(workers.moved_clients, 0);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let _ = std::fs::remove_file(&json);
}

#[test]
fn more_clients_than_the_workers_can_hold_is_refused_before_anything_starts() {
    let output = Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
        .args(["run", "--transport", "ws", "--clients", "40000", "--workers", "2"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("use --workers 3"), "{stderr}");
}
