//! How the clients count what a slow or refusing server does to them, against a
//! throwaway server whose answers are delayed or refused on purpose.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_contract::{PollResponse, Stats};
use pushlab_load::net::Target;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::Knobs;
use pushlab_load::scenario::RunSpec;

const INTERVAL: Duration = Duration::from_millis(100);
const WINDOW: Duration = Duration::from_secs(2);

async fn stats() -> Json<Stats> {
    let mut s = Stats::default();
    s.ticker.rate = 10.0;
    Json(s)
}

/// Answers every client poll after `delay`, empty; the reference cursor's reads
/// (`limit=…`) at once.
async fn poll(State(delay): State<Duration>, Query(q): Query<HashMap<String, String>>) -> Json<PollResponse> {
    if !q.contains_key("limit") {
        tokio::time::sleep(delay).await;
    }
    Json(PollResponse { ticks: vec![], next: 0, missed: 0, epoch: "test".into(), reset: false })
}

async fn serve(poll_delay: Duration) -> Target {
    let app = Router::new()
        .route("/api/stats", get(stats))
        .route("/api/poll", get(poll))
        .route("/api/ws", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], "full") }))
        .with_state(poll_delay);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Target::from_addr(listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    target
}

fn spec(transport: Transport) -> RunSpec {
    let knobs = Knobs {
        poll_interval: INTERVAL,
        long_poll_timeout: Duration::from_secs(1),
        ramp: Duration::ZERO,
        settle: Duration::from_millis(300),
        duration: WINDOW,
        ..Knobs::default()
    };
    RunSpec { transport, clients: 1, knobs }
}

async fn poll_run(delay: Duration) -> pushlab_load::results::RunRecord {
    let server = ServerUnderTest { target: serve(delay).await, pid: None };
    run(&spec(Transport::Poll), &server, &ProgressBar::hidden()).await.unwrap()
}

#[tokio::test]
async fn polls_answered_within_their_slot_are_on_schedule_and_not_late() {
    // 0.6 of an interval per answer: every poll fits in its slot.
    let r = poll_run(INTERVAL.mul_f64(0.6)).await;
    let slots = (WINDOW.as_millis() / INTERVAL.as_millis()) as u64; // 20
    assert!((slots - 1..=slots + 1).contains(&r.requests.total), "{:?}", r.requests);
    assert_eq!(r.requests.late, 0, "{:?}", r.requests);
    assert_eq!(r.requests.empty, r.requests.total, "every answer was empty: {:?}", r.requests);
}

#[tokio::test]
async fn a_poll_that_overruns_its_slot_is_late_once_and_the_passed_slot_is_skipped() {
    // 1.5 intervals per answer: each poll overruns its slot. The slot that passed
    // meanwhile is skipped, so a poll goes out every 2 intervals (10 in the window),
    // not the moment the previous answer arrives (every 1.5: 13), and each is late once.
    let r = poll_run(INTERVAL.mul_f64(1.5)).await;
    let every_other = (WINDOW.as_millis() / (2 * INTERVAL.as_millis())) as u64; // 10
    assert!((every_other - 1..=every_other + 1).contains(&r.requests.total), "{:?}", r.requests);
    assert!(r.requests.late.abs_diff(r.requests.total) <= 1, "each poll late once: {:?}", r.requests);
}

#[tokio::test]
async fn a_refused_websocket_handshake_counts_as_its_http_status() {
    let server = ServerUnderTest { target: serve(Duration::ZERO).await, pid: None };
    let r = run(&spec(Transport::Ws), &server, &ProgressBar::hidden()).await.unwrap();
    assert!(r.errors.get("status_503").is_some_and(|&n| n >= 1), "{:?}", r.errors);
    assert!(!r.errors.contains_key("ws"), "{:?}", r.errors);
}
