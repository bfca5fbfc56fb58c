//! A small broker-fed cluster, for real: `nats-server` with JetStream, a publisher and
//! two replicas, each its own process. Both replicas serve byte-identical ticks under
//! the same epoch; a client resumes on the other replica when its own dies; a replica
//! started again refills its ring from the stream, so its clients lose nothing.

mod common;

use std::time::Duration;

use futures_util::StreamExt as _;
use pushlab_load::cluster::{Cluster, ClusterSpec, nats_available};
use serde_json::Value;

/// Generous bound for anything a test waits for; a hang fails instead of blocking CI.
const PATIENCE: Duration = Duration::from_secs(15);

async fn cluster() -> Cluster {
    assert!(
        nats_available(),
        "nats-server is needed (Debian: apt-get install nats-server; .ci/run installs it)"
    );
    let server_args = ["--log", "warn", "--rate", "50", "--history", "300"].map(String::from).to_vec();
    let spec = ClusterSpec { bin: common::server_binary(), replicas: 2, server_args, base_port: None };
    Cluster::start(spec).await.unwrap()
}

async fn get(url: &str) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.text().await.unwrap()
}

async fn stats(base: &str) -> Value {
    serde_json::from_str(&get(&format!("{base}/api/stats")).await).unwrap()
}

/// Waits until `base`'s head reaches `seq`.
async fn head_at_least(base: &str, seq: u64) -> Value {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let stats = stats(base).await;
            if stats["ticker"]["head"].as_u64().unwrap() >= seq {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{base} never reached seq {seq}"))
}

/// The first `n` events of an SSE stream from `last_event_id`, each as sent
/// (`id: …\ndata: …`), the `retry:` line and keepalive comments left out.
async fn sse_events(base: &str, last_event_id: &str, n: usize) -> Vec<String> {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/sse"))
        .header("Last-Event-ID", last_event_id)
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        while events.len() < n {
            text.push_str(std::str::from_utf8(&body.next().await.unwrap().unwrap()).unwrap());
            while let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                let event = event.trim_end().to_owned();
                if !event.starts_with("retry:") && !event.starts_with(':') {
                    events.push(event);
                }
            }
        }
    })
    .await
    .expect("the stream kept sending");
    events.truncate(n);
    events
}

/// The seq of an SSE tick event (`id: <epoch>-<seq>`); panics on a gap or reset.
fn seq_of(event: &str) -> u64 {
    let id = event.strip_prefix("id: ").unwrap_or_else(|| panic!("not a tick: {event:?}"));
    id.split(['-', '\n']).nth(1).unwrap().parse().unwrap()
}

fn assert_contiguous_from(events: &[String], first: u64) {
    let seqs: Vec<u64> = events.iter().map(|e| seq_of(e)).collect();
    let wanted: Vec<u64> = (first..first + seqs.len() as u64).collect();
    assert_eq!(seqs, wanted, "every tick, in order, none twice");
}

#[tokio::test]
async fn both_replicas_serve_the_same_bytes_under_the_same_epoch() {
    let cluster = cluster().await;
    let [one, two] = <[String; 2]>::try_from(cluster.replica_urls()).unwrap();
    let (a, b) = (head_at_least(&one, 30).await, head_at_least(&two, 30).await);
    assert_eq!(a["ticker"]["epoch"], b["ticker"]["epoch"]);
    assert_eq!(a["ticker"]["epoch"], stats(&cluster.publisher_url()).await["ticker"]["epoch"]);
    assert_eq!(
        (a["cluster"]["replica"].as_str(), b["cluster"]["role"].as_str()),
        (Some("replica-1"), Some("replica"))
    );

    let poll = "/api/poll?since=5&limit=20";
    let (from_one, from_two) = (get(&format!("{one}{poll}")).await, get(&format!("{two}{poll}")).await);
    assert_eq!(from_one, from_two, "the same poll answer, byte for byte");
    assert_eq!(serde_json::from_str::<Value>(&from_one).unwrap()["ticks"].as_array().unwrap().len(), 20);

    let epoch = a["ticker"]["epoch"].as_str().unwrap().to_owned();
    let position = format!("{epoch}-10");
    let (events_one, events_two) =
        tokio::join!(sse_events(&one, &position, 25), sse_events(&two, &position, 25));
    assert_eq!(events_one, events_two, "the same SSE events, byte for byte");
    assert_contiguous_from(&events_one, 11);
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_of_a_dead_replica_resumes_on_the_other_without_loss() {
    let mut cluster = cluster().await;
    let [one, two] = <[String; 2]>::try_from(cluster.replica_urls()).unwrap();
    let epoch = head_at_least(&one, 5).await["ticker"]["epoch"].as_str().unwrap().to_owned();
    let before = sse_events(&one, &format!("{epoch}-0"), 10).await;
    let last = seq_of(before.last().unwrap());
    cluster.kill_replica(0).await.unwrap();
    assert!(reqwest::get(format!("{one}/healthz")).await.is_err(), "replica-1 is gone");
    // Ticks go on meanwhile; the client comes back on replica-2 with its last id.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = sse_events(&two, &format!("{epoch}-{last}"), 40).await;
    assert_contiguous_from(&after, last + 1);
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn a_restarted_replica_refills_its_ring_from_the_stream() {
    let mut cluster = cluster().await;
    let [one, two] = <[String; 2]>::try_from(cluster.replica_urls()).unwrap();
    let stats_before = head_at_least(&one, 20).await;
    let epoch = stats_before["ticker"]["epoch"].as_str().unwrap().to_owned();
    let position = stats_before["ticker"]["head"].as_u64().unwrap();
    cluster.kill_replica(0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await; // ~25 ticks it never saw
    cluster.restart_replica(0).await.unwrap();

    // The whole history, from seq 1, is there at once, the same as on the other replica.
    let restarted = stats(&one).await;
    assert_eq!(restarted["ticker"]["epoch"].as_str(), Some(epoch.as_str()), "the same log");
    assert!(restarted["ticker"]["head"].as_u64().unwrap() > position + 10, "{restarted}");
    let poll = format!("/api/poll?since=0&limit={position}");
    assert_eq!(get(&format!("{one}{poll}")).await, get(&format!("{two}{poll}")).await);
    // A client of the old process resumes on the new one where it was.
    let resumed = sse_events(&one, &format!("{epoch}-{position}"), 40).await;
    assert_contiguous_from(&resumed, position + 1);
    cluster.stop().await.unwrap();
}
