//! Each transport delivers every tick, once, in seq order, with the same bytes. Poll,
//! long-poll and SSE are held to it over HTTP/1.1 and over HTTP/2 alike ([`over_both!`]:
//! `name::h1`, `name::h2`); WebSocket is HTTP/1.1 only (docs/transports.md).

mod common;

use common::*;
use pushlab_contract::Transport;

crate::over_both!(
    poll_follows_next_through_every_tick_in_order,
    poll_without_a_cursor_gives_the_latest_price_of_each_symbol,
    long_poll_holds_until_a_tick_then_answers_with_it,
    long_poll_times_out_empty_and_skips_other_symbols,
    long_poll_without_a_cursor_waits_for_the_next_tick,
    sse_replays_after_the_cursor_then_streams_live,
    every_transport_carries_byte_identical_ticks,
    every_transport_filters_by_symbol,
);

/// The JSON answers of poll and long-poll carry these headers, whatever the protocol.
fn assert_json_headers(response: &Response, path: &str) {
    assert_eq!(response.headers["content-type"], "application/json", "{path}");
    assert_eq!(response.headers["cache-control"], "no-store", "{path}");
}

async fn poll_follows_next_through_every_tick_in_order(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    let client = server.client().await;
    server.publish(50);
    let mut since = 0;
    let mut seqs = Vec::new();
    for _ in 0..3 {
        let path = format!("/api/poll?since={since}&limit=20");
        let response = client.get(&path).await;
        assert_eq!(response.status, 200);
        assert_json_headers(&response, &path);
        let body: serde_json::Value = response.json().await;
        seqs.extend(body["ticks"].as_array().unwrap().iter().map(|t| t["seq"].as_u64().unwrap()));
        since = body["next"].as_u64().unwrap();
    }
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    assert_eq!(since, 50);
    let (_, empty) = client.get_json("/api/poll?since=50").await;
    let epoch = server.state.feed.epoch();
    assert_eq!(empty, serde_json::json!({"ticks": [], "next": 50, "missed": 0, "epoch": epoch}));
}

async fn poll_without_a_cursor_gives_the_latest_price_of_each_symbol(proto: Proto) {
    let server = TestServer::start_over(proto, &["--symbols", "ACME,BOLT"]).await;
    server.publish(40);
    let (_, body) = server.client().await.get_json("/api/poll").await;
    let ticks = body["ticks"].as_array().unwrap();
    let latest = |s: &str| *server.seqs_of(s, 0, 40).last().unwrap();
    let mut expected = vec![latest("ACME"), latest("BOLT")];
    expected.sort();
    assert_eq!(ticks.iter().map(|t| t["seq"].as_u64().unwrap()).collect::<Vec<_>>(), expected);
    assert_eq!(body["next"], 40);
}

async fn long_poll_holds_until_a_tick_then_answers_with_it(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    let client = server.client().await;
    server.publish(5);
    let held = client.clone();
    let pending = tokio::spawn(async move {
        let response = held.get("/api/long-poll?since=5").await;
        assert_json_headers(&response, "/api/long-poll?since=5");
        (response.status, response.json::<serde_json::Value>().await)
    });
    server.wait_active(Transport::LongPoll, 1).await;
    // Counted as active, and still unanswered a while later: the request is held.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "nothing new yet: the request is held");
    server.publish(2);
    let (status, body) = pending.await.unwrap();
    assert_eq!(status, 200);
    let seqs: Vec<u64> =
        body["ticks"].as_array().unwrap().iter().map(|t| t["seq"].as_u64().unwrap()).collect();
    assert_eq!((seqs, body["next"].as_u64()), (vec![6, 7], Some(7)));
}

async fn long_poll_times_out_empty_and_skips_other_symbols(proto: Proto) {
    let server = TestServer::start_over(proto, &["--symbols", "ACME,BOLT"]).await;
    let client = server.client().await;
    server.publish(3);
    let started = std::time::Instant::now();
    let (status, body) = client.get_json("/api/long-poll?since=3&timeout_ms=300").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let epoch = server.state.feed.epoch();
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"ticks": [], "next": 3, "missed": 0, "epoch": epoch}))
    );

    // A long-poll for BOLT wakes on ACME ticks but keeps waiting until an BOLT one.
    let held = client.clone();
    let pending =
        tokio::spawn(
            async move { held.get_json("/api/long-poll?since=3&symbols=BOLT&timeout_ms=3000").await },
        );
    server.wait_active(Transport::LongPoll, 1).await;
    let mut published = 3;
    while server.seqs_of("BOLT", 3, published).is_empty() {
        server.publish(1);
        published += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(published > 4, "seed 42's tick 4 is ACME: the wait saw other symbols first");
    let (_, body) = pending.await.unwrap();
    assert_eq!(body["ticks"][0]["seq"], published);
    assert_eq!(body["ticks"].as_array().unwrap().len(), 1);
}

async fn long_poll_without_a_cursor_waits_for_the_next_tick(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    server.publish(5);
    let client = server.client().await;
    let pending = tokio::spawn(async move { client.get_json("/api/long-poll?timeout_ms=3000").await });
    server.wait_active(Transport::LongPoll, 1).await;
    server.publish(1);
    let (_, body) = pending.await.unwrap();
    assert_eq!((body["ticks"][0]["seq"].as_u64(), body["next"].as_u64()), (Some(6), Some(6)));
}

async fn sse_replays_after_the_cursor_then_streams_live(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    server.publish(20);
    let mut sse = SseClient::connect(&server, "/api/sse?last_event_id=10", None).await.unwrap();
    assert_eq!(sse.response_headers["content-type"], "text/event-stream");
    assert_eq!(sse.response_headers["cache-control"], "no-cache");
    assert_eq!(sse.response_headers["x-accel-buffering"], "no");
    let first = sse.next_block().await.unwrap();
    assert_eq!(first.retry.as_deref(), Some("1000"), "the stream opens with retry:");
    let replay = sse.next_block().await.unwrap();
    assert_eq!((replay.id, replay.event), (Some(format!("{}-11", server.state.feed.epoch())), None));
    let mut got = vec![seq_of(&replay.data.unwrap())];
    got.extend(seqs(&sse.ticks(9).await));
    server.publish(5);
    got.extend(seqs(&sse.ticks(5).await));
    assert_eq!(got, (11..=25).collect::<Vec<_>>());
}

#[tokio::test]
async fn ws_replays_after_since_then_streams_live() {
    let server = TestServer::start(&[]).await;
    server.publish(20);
    let mut ws = ws_connect(&server, "/api/ws?since=10").await;
    let mut got = seqs(&ws_ticks(&mut ws, 10).await);
    server.publish(5);
    got.extend(seqs(&ws_ticks(&mut ws, 5).await));
    assert_eq!(got, (11..=25).collect::<Vec<_>>());
}

/// Poll, long-poll and SSE (and WebSocket, on HTTP/1.1) carry the feed's own bytes for
/// each tick: the same bytes over either protocol, since both equal the feed's.
async fn every_transport_carries_byte_identical_ticks(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    server.publish(30);
    let client = server.client().await;
    let poll = raw_ticks(&client.get_text("/api/poll?since=0").await);
    let long_poll = raw_ticks(&client.get_text("/api/long-poll?since=0").await);
    let sse = SseClient::connect_on(&client, "/api/sse", Some("0")).await.unwrap().ticks(30).await;
    assert_eq!(poll, feed_ticks(&server), "the feed's bytes, as published");
    assert_eq!(poll, long_poll);
    assert_eq!(poll, sse);
    if proto == Proto::H1 {
        let ws = ws_ticks(&mut ws_connect(&server, "/api/ws?since=0").await, 30).await;
        assert_eq!(poll, ws);
    }
    assert!(poll[0].starts_with(r#"{"seq":1,"symbol":""#), "{}", poll[0]);
}

/// Every tick in the server's feed, as the JSON it was published with.
fn feed_ticks(server: &TestServer) -> Vec<String> {
    let batch = server.state.feed.read(0, pushlab_server::feed::SymbolFilter::ALL, usize::MAX).unwrap();
    batch.ticks.iter().map(|t| String::from_utf8(t.json.to_vec()).unwrap()).collect()
}

async fn every_transport_filters_by_symbol(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    server.publish(80);
    let want = server.seqs_of("ACME", 0, 80);
    let client = server.client().await;
    let body = client.get_text("/api/poll?since=0&symbols=ACME").await;
    assert_eq!(seqs(&raw_ticks(&body)), want);
    let body = client.get_text("/api/long-poll?since=0&symbols=ACME").await;
    assert_eq!(seqs(&raw_ticks(&body)), want);
    let mut sse =
        SseClient::connect_on(&client, "/api/sse?symbols=ACME&last_event_id=0", None).await.unwrap();
    assert_eq!(seqs(&sse.ticks(want.len()).await), want);
    let mut ws = match proto {
        Proto::H1 => Some(ws_connect(&server, "/api/ws?symbols=ACME&since=0").await),
        Proto::H2 => None, // WebSocket is HTTP/1.1 only
    };
    if let Some(ws) = &mut ws {
        assert_eq!(seqs(&ws_ticks(ws, want.len()).await), want);
    }
    // Nothing else arrives: the next tick on both streams is the next ACME tick.
    let mut published = 80;
    while server.seqs_of("ACME", 80, published).is_empty() {
        server.publish(1);
        published += 1;
    }
    let next_acme = server.seqs_of("ACME", 80, published);
    assert_eq!(seqs(&sse.ticks(1).await), next_acme);
    if let Some(ws) = &mut ws {
        assert_eq!(seqs(&ws_ticks(ws, 1).await), next_acme);
    }
}

#[tokio::test]
async fn ws_subscribe_changes_the_filter_live() {
    let server = TestServer::start(&[]).await;
    let mut ws = ws_connect(&server, "/api/ws").await;
    ws_send(&mut ws, r#"{"type":"subscribe","symbols":["BOLT","CRUX"]}"#).await;
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"subscribed","symbols":["BOLT","CRUX"]}"#);
    server.publish(60);
    let want: Vec<u64> = {
        let mut both = server.seqs_of("BOLT", 0, 60);
        both.extend(server.seqs_of("CRUX", 0, 60));
        both.sort();
        both
    };
    let got = seqs(&ws_ticks(&mut ws, want.len()).await);
    assert_eq!(got, want);
}

#[tokio::test]
async fn the_real_ticker_feeds_every_transport_without_a_hole() {
    // The rate itself is tested in paused time (ticker.rs); here, only that replay
    // joins live ticks with nothing lost between them.
    let server = TestServer::start_ticking(&["--rate", "200"]).await;
    wait_for("the ticker to publish 50 ticks", || server.head(), |&head| head >= 50).await;
    let head = server.head();
    let mut sse = SseClient::connect(&server, "/api/sse", Some("0")).await.unwrap();
    let got = seqs(&sse.ticks(head as usize + 50).await);
    assert_eq!(got, (1..=head + 50).collect::<Vec<_>>(), "replay then live, no hole");
    server.stop().await;
}
