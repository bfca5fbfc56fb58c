//! The measuring itself, against the real server in-process on port 0: cases where
//! the right answer is known, asserted exactly where it is exact.

use std::time::Duration;

use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_load::results::RunRecord;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::Knobs;
use pushlab_load::scenario::RunSpec;

mod in_process;
use in_process::{Server, server};

fn spec(transport: Transport, clients: usize, window: Duration) -> RunSpec {
    let knobs = Knobs {
        poll_interval: Duration::from_millis(200),
        ramp: Duration::from_millis(200),
        settle: Duration::from_millis(500),
        duration: window,
        ..Knobs::default()
    };
    RunSpec { transport, clients, knobs }
}

async fn measure(server: &Server, spec: &RunSpec) -> RunRecord {
    let under_test = ServerUnderTest { target: server.target.clone(), pid: None };
    let record = run(spec, &under_test, &ProgressBar::hidden()).await.unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&record).unwrap());
    record
}

/// A polling client's tick waits for the next poll: uniformly 0..I, so I/2 on average.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_latency_tracks_half_the_interval_and_requests_the_rate() {
    let server = server(&["--rate", "50"]).await;
    let (clients, window) = (20, Duration::from_secs(3));
    let r = measure(&server, &spec(Transport::Poll, clients, window)).await;
    let interval_us = 200_000.0;
    let mean = r.latency_us.mean;
    assert!(r.latency_us.count > 2000, "enough ticks: {}", r.latency_us.count);
    assert!((mean - interval_us / 2.0).abs() <= 0.2 * interval_us / 2.0, "mean {mean} µs vs 100 ms ± 20 %");
    // 3 s / 200 ms = 15 polls per client in the window, ± one at either edge.
    let per_client = r.requests.total as f64 / clients as f64;
    assert!((per_client - 15.0).abs() <= 1.0, "{per_client} polls per client");
    assert!((r.requests.per_client_per_min - 300.0).abs() <= 20.0, "{}", r.requests.per_client_per_min);
    assert_eq!((r.ticks.lost, r.ticks.duplicates, r.ticks.out_of_order), (0, 0, 0));
    assert_eq!(r.ticks.delivered, r.ticks.expected);
    // 50 ticks/s × 3 s, give or take the one tick straddling each edge.
    assert!((149..=151).contains(&r.ticks.expected_per_client), "{}", r.ticks.expected_per_client);
}

/// With a history shorter than a poll interval, each poll finds ticks already evicted.
/// The loss the load generator computes (expected − delivered) must be exactly the loss
/// the server announced (`missed`), tick for tick, with or without a symbol filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_pauses_past_the_history_loses_exactly_what_the_server_says() {
    // 100 ticks/s and 40 kept: 0.4 s of history, polls 1 s apart.
    let server = server(&["--rate", "100", "--history", "40"]).await;
    for symbols in [None, Some(vec!["ACME".to_string(), "BOLT".to_string()])] {
        let mut s = spec(Transport::Poll, 5, Duration::from_secs(3));
        s.knobs.poll_interval = Duration::from_secs(1);
        s.knobs.history = 40;
        s.knobs.symbols = symbols.clone();
        let r = measure(&server, &s).await;
        assert!(r.ticks.lost > 0, "the pause must cost ticks ({symbols:?})");
        assert_eq!(r.ticks.lost, r.ticks.gap_missed, "lost = the server's missed ({symbols:?})");
        assert_eq!(r.ticks.delivered + r.ticks.lost, r.ticks.expected);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
}

/// Every transport, a healthy server, no pause: nothing lost, nothing twice, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_delivers_every_expected_tick_once() {
    let server = server(&["--rate", "50"]).await;
    for transport in Transport::ALL {
        let r = measure(&server, &spec(transport, 20, Duration::from_secs(2))).await;
        assert!(r.ticks.expected_per_client >= 99, "{transport}: {}", r.ticks.expected_per_client);
        assert_eq!(r.ticks.delivered, r.ticks.expected, "{transport}");
        assert_eq!((r.ticks.lost, r.ticks.duplicates, r.ticks.out_of_order), (0, 0, 0), "{transport}");
        assert_eq!(r.connect.count, 20, "{transport}: one connect per client");
        assert!(r.errors.is_empty(), "{transport}: {:?}", r.errors);
        assert!(r.wire.bytes_per_tick > 0.0, "{transport}");
        if transport.is_streaming() {
            assert_eq!(r.requests.total, 0, "{transport}: one request each, before the window");
        }
    }
}
