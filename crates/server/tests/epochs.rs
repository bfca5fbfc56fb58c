//! Epochs (SPEC §7): a cursor of this run continues, a cursor of another run gets a
//! reset notice and the oldest tick still held, on every transport; a cursor ahead of
//! the head, or malformed, is a 400 naming where it came from.

mod common;

use common::*;
use pushlab_contract::{PollResponse, Stats};

/// The seqs of a poll body's ticks.
fn tick_seqs(body: &PollResponse) -> Vec<u64> {
    body.ticks.iter().map(|t| t.seq).collect()
}

async fn poll(server: &TestServer, path: &str) -> PollResponse {
    let response = http().get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// The SSE blocks after `retry:` until `n` ticks have come, as (event, id, data).
async fn sse_events(sse: &mut SseClient, n: usize) -> Vec<(Option<String>, Option<String>, String)> {
    let retry = sse.next_block().await.unwrap();
    assert_eq!(retry.retry.as_deref(), Some("1000"));
    let mut events = Vec::new();
    let mut ticks = 0;
    while ticks < n {
        let block = sse.next_block().await.expect("stream open");
        if block.event.is_none() {
            ticks += 1;
        }
        events.push((block.event, block.id, block.data.unwrap()));
    }
    events
}

fn tick_events(epoch: &str, seqs: impl IntoIterator<Item = u64>) -> Vec<(Option<String>, Option<String>)> {
    seqs.into_iter().map(|seq| (None, Some(format!("{epoch}-{seq}")))).collect()
}

#[tokio::test]
async fn a_cursor_of_this_epoch_continues_on_every_transport() {
    let server = TestServer::start(&["--epoch", "runa"]).await;
    server.publish(10);
    for path in ["/api/poll?since=runa-5", "/api/long-poll?since=runa-5", "/api/poll?since=5"] {
        let body = poll(&server, path).await;
        assert_eq!(
            (tick_seqs(&body), body.next, body.epoch.as_str(), body.reset),
            ((6..=10).collect(), 10, "runa", false),
            "{path}"
        );
    }
    let raw = http().get(server.url("/api/poll?since=runa-10")).send().await.unwrap().text().await.unwrap();
    assert_eq!(raw, r#"{"ticks":[],"next":10,"missed":0,"epoch":"runa"}"#, "no reset key without a reset");

    let mut sse = SseClient::connect(&server, "/api/sse", Some("runa-5")).await.unwrap();
    let events: Vec<_> = sse_events(&mut sse, 5).await.into_iter().map(|(e, id, _)| (e, id)).collect();
    assert_eq!(events, tick_events("runa", 6..=10));

    let mut ws = ws_connect_raw(&server, "/api/ws?since=runa-5").await;
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"hello","epoch":"runa","head":10}"#);
    assert_eq!(seqs(&ws_ticks(&mut ws, 5).await), (6..=10).collect::<Vec<_>>());
    // Live ticks follow with the same ids.
    server.publish(1);
    assert_eq!(seqs(&ws_ticks(&mut ws, 1).await), vec![11]);
    let live = sse.next_block().await.unwrap();
    assert_eq!(live.id.as_deref(), Some("runa-11"));
    let (_, stats) = get_json(&server.url("/api/stats")).await;
    assert_eq!(serde_json::from_value::<Stats>(stats).unwrap().ticker.epoch, "runa");
}

#[tokio::test]
async fn a_cursor_of_another_epoch_gets_a_reset_then_the_oldest_tick_held() {
    // History 16 of 40 ticks: 25..=40 are held. The cursor's seq (here 3, below the
    // history, and 999, past the head) says nothing in this run: neither is refused.
    let server = TestServer::start(&["--epoch", "runb", "--history", "16"]).await;
    server.publish(40);
    for path in
        ["/api/poll?since=runa-3", "/api/long-poll?since=runa-999", "/api/poll?since=runa-999&limit=4"]
    {
        let body = poll(&server, path).await;
        let want = if path.contains("limit") { (25..=28).collect() } else { (25..=40).collect::<Vec<_>>() };
        assert_eq!((body.reset, body.missed, body.epoch.as_str()), (true, 0, "runb"), "{path}");
        assert_eq!(tick_seqs(&body), want, "{path}");
    }
    let mut sse =
        SseClient::connect(&server, "/api/sse?last_event_id=runb-1", Some("runa-999")).await.unwrap();
    let events = sse_events(&mut sse, 16).await;
    assert_eq!((events[0].0.as_deref(), events[0].2.as_str()), (Some("reset"), r#"{"epoch":"runb"}"#));
    let ticks: Vec<_> = events[1..].iter().map(|(e, id, _)| (e.clone(), id.clone())).collect();
    assert_eq!(ticks, tick_events("runb", 25..=40), "then the oldest tick held, and on");

    let mut ws = ws_connect_raw(&server, "/api/ws?since=runa-3").await;
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"hello","epoch":"runb","head":40}"#);
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"reset","epoch":"runb"}"#);
    assert_eq!(seqs(&ws_ticks(&mut ws, 16).await), (25..=40).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_long_poll_with_a_reset_answers_at_once_even_with_nothing_to_send() {
    let server = TestServer::start(&["--epoch", "runb"]).await;
    let started = std::time::Instant::now();
    let body = poll(&server, "/api/long-poll?since=runa-7&timeout_ms=10000").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!((body.reset, tick_seqs(&body), body.next, body.epoch.as_str()), (true, vec![], 0, "runb"));
}

#[tokio::test]
async fn cursors_ahead_of_the_head_or_malformed_are_400s_naming_where_they_came_from() {
    let server = TestServer::start(&["--epoch", "runa"]).await;
    server.publish(10);
    let cases = [
        ("/api/poll?since=runa-11", "since: 11 is ahead of the newest tick (10)"),
        ("/api/poll?since=11", "since: 11 is ahead of the newest tick (10)"),
        ("/api/long-poll?since=runa-11", "since: 11 is ahead of the newest tick (10)"),
        ("/api/sse?last_event_id=runa-11", "last_event_id: 11 is ahead of the newest tick (10)"),
        (
            "/api/poll?since=RUNA-1",
            "since: expected <epoch>-<seq> with an epoch of 4 to 12 of [a-z0-9], or a bare seq, got \"RUNA-1\"",
        ),
        ("/api/poll?since=run-1", "since: expected <epoch>-<seq>"),
        (
            "/api/long-poll?since=runa-",
            "since: expected a tick seq (a non-negative integer), optionally after <epoch>-, got \"runa-\"",
        ),
        ("/api/sse?last_event_id=runa-x", "last_event_id: expected a tick seq"),
        ("/api/sse?last_event_id=a_b_c-1", "last_event_id: expected <epoch>-<seq>"),
    ];
    for (path, error) in cases {
        let response = http().get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: pushlab_contract::ErrorBody = response.json().await.unwrap();
        assert!(body.error.starts_with(error), "{path}: {:?} should start with {error:?}", body.error);
    }
    for (header, error) in
        [("runa-11", "Last-Event-ID: 11 is ahead"), ("runa-1-2", "Last-Event-ID: expected <epoch>-<seq>")]
    {
        let (status, body) = SseClient::connect(&server, "/api/sse", Some(header)).await.err().unwrap();
        assert_eq!(status, 400);
        assert!(body.contains(error), "{header}: {body}");
    }
    for path in ["/api/ws?since=runa-11", "/api/ws?since=11", "/api/ws?since=Runa-1"] {
        let refused = tokio_tungstenite::connect_async(server.ws_url(path)).await.unwrap_err();
        assert!(
            matches!(refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 400),
            "{path}"
        );
    }
    // Nothing changed: the same cursors, in range, are served.
    assert_eq!(tick_seqs(&poll(&server, "/api/poll?since=runa-9").await), vec![10]);
}

#[tokio::test]
async fn across_a_restart_clients_get_a_reset_and_the_new_run_from_its_first_tick() {
    // The first run: a client on each transport reads up to seq 30.
    let first = TestServer::start(&["--epoch", "runa"]).await;
    first.publish(30);
    let mut sse = SseClient::connect(&first, "/api/sse", Some("runa-0")).await.unwrap();
    let last_id = sse_events(&mut sse, 30).await.last().unwrap().1.clone().unwrap();
    assert_eq!(last_id, "runa-30");
    let polled = poll(&first, "/api/poll?since=0").await;
    let poll_cursor = format!("{}-{}", polled.epoch, polled.next);
    drop(sse);
    first.stop().await;

    // The next run: same flags, a new epoch, its own seqs from 1. Its head (12) is
    // below the old cursors (30), where a bare seq would be a 400 …
    let second = TestServer::start(&["--epoch", "runb"]).await;
    second.publish(12);
    let bare = SseClient::connect(&second, "/api/sse", Some("30")).await.err().unwrap();
    assert_eq!((bare.0, bare.1.contains("30 is ahead")), (400, true));
    // … and the epoch's cursor gets the reset and the whole new run instead.
    let mut sse = SseClient::connect(&second, "/api/sse", Some(&last_id)).await.unwrap();
    let events = sse_events(&mut sse, 12).await;
    assert_eq!(events[0].0.as_deref(), Some("reset"));
    let ids: Vec<_> = events[1..].iter().map(|(_, id, _)| id.clone().unwrap()).collect();
    assert_eq!(ids, (1..=12).map(|s| format!("runb-{s}")).collect::<Vec<_>>());
    let body = poll(&second, &format!("/api/poll?since={poll_cursor}")).await;
    assert_eq!((body.reset, tick_seqs(&body), body.next), (true, (1..=12).collect(), 12));

    // Once the new head passes the old cursor, the old cursor still is not read as
    // this run's: 1..=50, not 31..=50.
    second.publish(38);
    let body = poll(&second, &format!("/api/long-poll?since={poll_cursor}")).await;
    assert_eq!((body.reset, tick_seqs(&body)), (true, (1..=50).collect()));
    let mut ws = ws_connect_raw(&second, &format!("/api/ws?since={poll_cursor}")).await;
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"hello","epoch":"runb","head":50}"#);
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"reset","epoch":"runb"}"#);
    assert_eq!(seqs(&ws_ticks(&mut ws, 50).await), (1..=50).collect::<Vec<_>>());
    // Continuing in the new epoch is a plain continuation.
    let body = poll(&second, "/api/poll?since=runb-48").await;
    assert_eq!((body.reset, tick_seqs(&body)), (false, vec![49, 50]));
    let events =
        sse_events(&mut SseClient::connect(&second, "/api/sse", Some("runb-49")).await.unwrap(), 1).await;
    assert_eq!(events, vec![(None, Some("runb-50".into()), events[0].2.clone())]);
}
