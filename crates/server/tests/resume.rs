//! Resuming from a cursor replays exactly what was missed; past the history, the
//! loss is counted exactly, never silent. Poll, long-poll and SSE over HTTP/1.1 and
//! HTTP/2 alike (`name::h1`, `name::h2`).

mod common;

use common::*;

crate::over_both!(
    sse_resumes_after_a_reconnect_with_last_event_id,
    polls_resume_from_their_cursor,
    polls_count_evicted_ticks_exactly,
    sse_sends_a_gap_with_the_exact_count_then_continues,
);

async fn sse_resumes_after_a_reconnect_with_last_event_id(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    server.publish(15);
    let mut sse = SseClient::connect(&server, "/api/sse", Some("0")).await.unwrap();
    let first = seqs(&sse.ticks(15).await);
    drop(sse); // the client goes away …
    server.publish(10); // … ticks 16..=25 happen while it is gone …
    // … and it comes back the way EventSource does: the header, not the query, counts.
    let mut sse = SseClient::connect(&server, "/api/sse?last_event_id=3", Some("15")).await.unwrap();
    let resumed = seqs(&sse.ticks(10).await);
    assert_eq!(first, (1..=15).collect::<Vec<_>>());
    assert_eq!(resumed, (16..=25).collect::<Vec<_>>());
}

#[tokio::test]
async fn ws_resumes_from_its_cursor() {
    let server = TestServer::start(&[]).await;
    server.publish(12);
    let mut ws = ws_connect(&server, "/api/ws?since=0").await;
    ws_ticks(&mut ws, 12).await;
    drop(ws);
    server.publish(8);
    let mut ws = ws_connect(&server, "/api/ws?since=12").await;
    let resumed = seqs(&ws_ticks(&mut ws, 8).await);
    assert_eq!(resumed, (13..=20).collect::<Vec<_>>());
}

async fn polls_resume_from_their_cursor(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    let client = server.client().await;
    server.publish(12);
    client.get_json("/api/poll?since=0").await;
    server.publish(8);
    for path in ["/api/poll?since=12", "/api/long-poll?since=12"] {
        let (_, body) = client.get_json(path).await;
        let seqs: Vec<u64> =
            body["ticks"].as_array().unwrap().iter().map(|t| t["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (13..=20).collect::<Vec<_>>(), "{path}");
    }
}

async fn polls_count_evicted_ticks_exactly(proto: Proto) {
    // History 16 of 100 ticks: 85..=100 remain. A client at 10 missed 11..=84: 74 ticks.
    let server = TestServer::start_over(proto, &["--history", "16"]).await;
    let client = server.client().await;
    server.publish(100);
    for path in ["/api/poll?since=10", "/api/long-poll?since=10"] {
        let (_, body) = client.get_json(path).await;
        let seqs: Vec<u64> =
            body["ticks"].as_array().unwrap().iter().map(|t| t["seq"].as_u64().unwrap()).collect();
        assert_eq!((body["missed"].as_u64(), seqs), (Some(74), (85..=100).collect()), "{path}");
    }
    // The count covers every evicted tick whatever the filter: the server no longer
    // knows which of them were ACME.
    let (_, body) = client.get_json("/api/poll?since=10&symbols=ACME").await;
    assert_eq!(body["missed"], 74);
    let (_, body) = client.get_json("/api/poll?since=84").await;
    assert_eq!(body["missed"], 0, "84 is the last evicted tick: nothing after it is lost");
}

async fn sse_sends_a_gap_with_the_exact_count_then_continues(proto: Proto) {
    let server = TestServer::start_over(proto, &["--history", "16"]).await;
    server.publish(100);
    let mut sse = SseClient::connect(&server, "/api/sse", Some("10")).await.unwrap();
    sse.next_block().await.unwrap(); // retry:
    let gap = sse.next_block().await.unwrap();
    assert_eq!((gap.event.as_deref(), gap.data.as_deref()), (Some("gap"), Some(r#"{"missed":74}"#)));
    let after = seqs(&sse.ticks(16).await);
    assert_eq!(after, (85..=100).collect::<Vec<_>>());
}

#[tokio::test]
async fn ws_sends_a_gap_with_the_exact_count_then_continues() {
    let server = TestServer::start(&["--history", "16"]).await;
    server.publish(100);
    let mut ws = ws_connect(&server, "/api/ws?since=10").await;
    assert_eq!(ws_text(&mut ws).await, r#"{"type":"gap","missed":74}"#);
    let after = seqs(&ws_ticks(&mut ws, 16).await);
    assert_eq!(after, (85..=100).collect::<Vec<_>>());
}

#[tokio::test]
async fn gaps_plus_deliveries_account_for_every_tick_of_a_live_stream() {
    // 5,000 ticks pass through a history of 64 faster than the session task gets to
    // run (the runtime has one thread and the test yields rarely), so the stream
    // falls behind the log again and again; every seq is delivered or counted missed.
    let server = TestServer::start(&["--history", "64"]).await;
    let mut ws = ws_connect(&server, "/api/ws").await;
    for _ in 0..50 {
        server.publish(100);
        tokio::task::yield_now().await;
    }
    let (mut delivered, mut missed, mut last) = (0u64, 0u64, 0u64);
    while last < 5000 {
        let text = ws_text(&mut ws).await;
        if let Ok(pushlab_contract::ServerMessage::Control(pushlab_contract::ControlMessage::Gap {
            missed: m,
        })) = pushlab_contract::ServerMessage::parse(&text)
        {
            missed += m;
            continue;
        }
        let seq = seq_of(&text);
        assert!(seq > last, "in order");
        last = seq;
        delivered += 1;
        assert_eq!(delivered + missed, last, "every seq up to {last} is delivered or counted missed");
    }
    assert!(missed > 0, "the feed outran the reader");
}
