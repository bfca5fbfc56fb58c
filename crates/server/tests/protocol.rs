//! The protocol edges: WebSocket control messages, close codes, origin and pings;
//! SSE keepalive comments (over HTTP/1.1 and HTTP/2 alike: `name::h1`, `name::h2`).

mod common;

crate::over_both!(
    an_idle_sse_stream_gets_keepalive_comments,
    an_idle_sse_stream_without_keepalive_stays_silent,
    a_filtered_sse_stream_gets_keepalives_while_other_symbols_tick,
);

use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use pushlab_contract::Transport;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn invalid_client_messages_get_an_error_and_keep_the_connection_and_filter() {
    let server = TestServer::start(&[]).await;
    let mut ws = ws_connect(&server, "/api/ws?symbols=ACME").await;
    let cases = [
        ("not json", "invalid JSON"),
        ("[1,2]", "not a JSON object"),
        (r#"{"symbols":["ACME"]}"#, "missing \"type\""),
        (r#"{"type":"unsubscribe"}"#, "unknown type \"unsubscribe\""),
        (r#"{"type":"subscribe","symbols":[]}"#, "\"symbols\" must be a non-empty list"),
        (r#"{"type":"subscribe","symbols":"ACME"}"#, "\"symbols\" must be a non-empty list"),
        (r#"{"type":"subscribe","symbols":[1]}"#, "\"symbols\" must be a non-empty list"),
        (r#"{"type":"subscribe","symbols":["BOLT","NOPE"]}"#, "symbols: unknown symbol \"NOPE\""),
    ];
    for (sent, expected) in cases {
        ws_send(&mut ws, sent).await;
        let reply: serde_json::Value = serde_json::from_str(&ws_text(&mut ws).await).unwrap();
        assert_eq!(reply["type"], "error", "{sent}");
        let message = reply["message"].as_str().unwrap();
        assert!(message.starts_with(expected), "{sent}: {message}");
    }
    // Still connected, still filtered to ACME only (the bad BOLT,NOPE changed nothing).
    server.publish(40);
    let want = server.seqs_of("ACME", 0, 40);
    let got = seqs(&ws_ticks(&mut ws, want.len()).await);
    assert_eq!(got, want);
}

/// Reads until the server's close frame and returns its code.
async fn close_code(ws: &mut Ws) -> CloseCode {
    loop {
        match tokio::time::timeout(PATIENCE, ws.next()).await.expect("close in time") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_binary_frame_closes_with_1003() {
    let server = TestServer::start(&[]).await;
    let mut ws = ws_connect(&server, "/api/ws").await;
    ws.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, CloseCode::Unsupported);
}

#[tokio::test]
async fn a_message_over_4096_bytes_closes_with_1009() {
    let server = TestServer::start(&[]).await;
    let mut ws = ws_connect(&server, "/api/ws").await;
    let big = format!(r#"{{"type":"subscribe","symbols":["{}"]}}"#, "A".repeat(5000));
    ws.send(Message::Text(big.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, CloseCode::Size);
    // A message of exactly 4096 bytes is fine (an error reply: the symbol is unknown).
    let mut ws = ws_connect(&server, "/api/ws").await;
    let padding = 4096 - r#"{"type":"subscribe","symbols":[""]}"#.len();
    ws_send(&mut ws, &format!(r#"{{"type":"subscribe","symbols":["{}"]}}"#, "A".repeat(padding))).await;
    assert!(ws_text(&mut ws).await.contains("unknown symbol"));
}

async fn handshake_status(server: &TestServer, origin: &str) -> u16 {
    let mut request = server.ws_url("/api/ws").into_client_request().unwrap();
    request.headers_mut().insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_foreign_origin_is_refused_unless_allowed() {
    let server = TestServer::start(&["--allow-origin", "http://workshop.example"]).await;
    assert_eq!(handshake_status(&server, "http://evil.example").await, 403);
    assert_eq!(handshake_status(&server, &format!("http://{}", server.addr)).await, 101, "own origin");
    assert_eq!(handshake_status(&server, "http://workshop.example").await, 101, "allowed");
    assert_eq!(server.state.counters(Transport::Ws).snapshot().requests, 3);
}

#[tokio::test]
async fn a_websocket_that_never_answers_pings_is_dropped() {
    let server = TestServer::start(&["--keepalive", "200ms"]).await;
    // A client that never reads never sees our pings, so never answers them.
    let _silent = ws_connect(&server, "/api/ws").await;
    // One that reads answers them (tungstenite does it), and stays.
    let mut alive = ws_connect(&server, "/api/ws").await;
    let pings = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = tokio::spawn({
        let pings = pings.clone();
        async move {
            while let Some(Ok(message)) = alive.next().await {
                if message.is_ping() {
                    pings.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    });
    // The handshake was counted before the 101 reached us: both are open now.
    assert_eq!(server.active(Transport::Ws), 2);
    // The silent client is dropped after two intervals without a pong.
    server.wait_active(Transport::Ws, 1).await;
    // Four pings later (twice the timeout), the one that answers is still there.
    let read_pings = || pings.load(std::sync::atomic::Ordering::Relaxed);
    let seen = read_pings();
    wait_for("4 more pings to the client that answers them", read_pings, |&n| n >= seen + 4).await;
    assert_eq!(server.active(Transport::Ws), 1, "the client that answers pings stays");
    reader.abort();
}

async fn an_idle_sse_stream_gets_keepalive_comments(proto: Proto) {
    let server = TestServer::start_over(proto, &["--keepalive", "100ms"]).await;
    // Timed from before connecting: the server writes `retry:` after we connect, and
    // the comment is due one keepalive period after that write, so it cannot come
    // sooner than 100 ms from here, however late we read `retry:`.
    let started = std::time::Instant::now();
    let mut sse = SseClient::connect(&server, "/api/sse", None).await.unwrap();
    assert_eq!(sse.next_block().await.unwrap().retry.as_deref(), Some("1000"));
    let comment = sse.next_block().await.unwrap();
    assert_eq!(comment.comment.as_deref(), Some("keepalive"));
    assert!(started.elapsed() >= Duration::from_millis(100), "not before the keepalive period");
    // A tick still flows after comments.
    server.publish(1);
    let next = loop {
        let block = sse.next_block().await.unwrap();
        if block.data.is_some() {
            break block;
        }
    };
    assert_eq!(next.id, Some(format!("{}-1", server.state.feed.epoch())));
}

/// `--sse-keepalive-off` (the proxy lab's): an idle stream stays silent, and a tick still flows.
async fn an_idle_sse_stream_without_keepalive_stays_silent(proto: Proto) {
    let server = TestServer::start_over(proto, &["--keepalive", "100ms", "--sse-keepalive-off"]).await;
    let mut sse = SseClient::connect(&server, "/api/sse", None).await.unwrap();
    assert_eq!(sse.next_block().await.unwrap().retry.as_deref(), Some("1000"));
    // Five keepalive periods without a comment.
    let silent = tokio::time::timeout(Duration::from_millis(500), sse.next_block()).await;
    assert!(silent.is_err(), "nothing is written on an idle stream: {silent:?}");
    server.publish(1);
    let next = sse.next_block().await.unwrap();
    assert_eq!(next.id, Some(format!("{}-1", server.state.feed.epoch())));
}

#[tokio::test]
async fn a_close_from_the_client_is_answered() {
    let server = TestServer::start(&[]).await;
    let mut ws = ws_connect(&server, "/api/ws").await;
    ws.close(None).await.unwrap();
    // The server's reply to our close frame arrives, then the stream ends: a clean close.
    let reply = tokio::time::timeout(PATIENCE, ws.next()).await.unwrap();
    assert!(matches!(reply, Some(Ok(Message::Close(_)))), "{reply:?}");
    server.wait_active(Transport::Ws, 0).await;
}

#[tokio::test]
async fn a_client_that_writes_but_never_reads_is_dropped() {
    // Every message gets an error reply; a client that never reads them fills the
    // socket, and the server gives up on it after two keepalive intervals.
    let server = TestServer::start(&["--keepalive", "200ms"]).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(server.ws_url("/api/ws"), stream).await.unwrap();
    let (mut sink, _never_read) = ws.split();
    let junk = "x".repeat(4000); // invalid JSON: each earns a ~4 KB error reply
    let writer =
        tokio::spawn(async move { while sink.send(Message::Text(junk.clone().into())).await.is_ok() {} });
    server.wait_active(Transport::Ws, 1).await;
    server.wait_active(Transport::Ws, 0).await;
    writer.abort();
}

async fn a_filtered_sse_stream_gets_keepalives_while_other_symbols_tick(proto: Proto) {
    let server = TestServer::start_over(proto, &["--keepalive", "300ms", "--symbols", "ACME,BOLT"]).await;
    let mut sse = SseClient::connect(&server, "/api/sse?symbols=ACME", None).await.unwrap();
    sse.next_block().await.unwrap(); // retry:
    // BOLT ticks every 100 ms wake the stream, but nothing is written for ACME.
    let mut bolt_ticks = tokio::spawn({
        let state = server.state.clone();
        async move {
            let feed = &state.feed;
            let bolt = feed.symbol_index("BOLT").unwrap();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let seq = feed.head() + 1;
                feed.publish([feed.frame(seq, bolt, b"{}".to_vec())]);
            }
        }
    });
    let started = std::time::Instant::now();
    let block = sse.next_block().await.unwrap();
    assert_eq!(block.comment.as_deref(), Some("keepalive"));
    assert!(started.elapsed() < Duration::from_millis(1000), "due 300 ms after the last write");
    bolt_ticks.abort();
    let _ = (&mut bolt_ticks).await;
}
