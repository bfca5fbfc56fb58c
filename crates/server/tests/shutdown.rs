//! SIGTERM: stop accepting, end SSE streams, close WebSockets with 1001, answer
//! pending long-polls, exit 0, all within 5 s.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn sigterm_drains_every_transport_and_exits_zero_within_5s() {
    // At 0.1 ticks/s nothing happens for 10 s: every connection below is idle.
    let mut server = ServerProcess::start(&["--rate", "0.1"]).await;
    let sse = http().get(server.url("/api/sse")).send().await.unwrap();
    assert_eq!(sse.status(), 200);
    let mut sse_body = sse.bytes_stream();
    let ws_url = server.url("/api/ws").replace("http://", "ws://");
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let long_poll = server.url("/api/long-poll?timeout_ms=60000");
    let pending = tokio::spawn(async move { http().get(long_poll).send().await });
    let held = || async { server.stats().await.transports.long_poll.active };
    wait_for_async("the long-poll to be held", held, |&n| n == 1).await;

    let started = Instant::now();
    server.terminate();

    // The SSE body ends (the chunked stream is closed properly, no error).
    let sse_done = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = sse_body.next().await {
            chunk.expect("the stream ends cleanly");
        }
    });
    sse_done.await.expect("SSE stream ended within 5 s");

    // The WebSocket gets a close frame with 1001 (going away).
    let code = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return Some(frame.code),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("close within 5 s");
    assert_eq!(code, Some(CloseCode::Away));

    // The process exits 0 within 5 s of the signal.
    let status =
        tokio::time::timeout(Duration::from_secs(5), server.child.wait()).await.expect("exit within 5 s");
    assert!(status.unwrap().success(), "exit code 0");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The long-poll was answered (200), not cut off.
    let answered = pending.await.unwrap().expect("long-poll answered");
    assert_eq!(answered.status(), 200);
    let body: serde_json::Value = answered.json().await.unwrap();
    assert_eq!(body["ticks"], serde_json::json!([]));
}

#[tokio::test]
async fn a_client_that_never_reads_cannot_hold_shutdown_past_5s() {
    use tokio::io::AsyncWriteExt;
    // 8 KiB ticks at 500/s fill a non-reading client's socket buffers in a second or
    // two; its stream then can neither finish nor end cleanly.
    let mut server = ServerProcess::start(&["--rate", "500", "--payload-bytes", "8192"]).await;
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(addr).await.unwrap();
    stalled.write_all(format!("GET /api/sse HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    // Stalled once the server's writes stop: SSE bytes sent stay put for 300 ms.
    let deadline = Instant::now() + PATIENCE;
    let mut last = server.stats().await.transports.sse.bytes_sent;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = server.stats().await.transports.sse.bytes_sent;
        if now == last && now > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for the stream to stall: {now} bytes sent, still growing"
        );
        last = now;
    }

    let started = Instant::now();
    server.terminate();
    // New connections are refused at once: the listener is closed first.
    let deadline = Instant::now() + Duration::from_secs(1);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after the signal");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status =
        tokio::time::timeout(Duration::from_secs(5), server.child.wait()).await.expect("exit within 5 s");
    assert!(status.unwrap().success(), "exit code 0");
    let took = started.elapsed();
    assert!(took >= pushlab_server::SHUTDOWN_GRACE, "it waited for the stalled client ({took:?})");
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(stalled);
}

/// Reads `socket` until the server closes it; returns everything read.
async fn read_to_close(socket: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, socket.read(&mut buf)).await.expect("closed in time") {
            Ok(0) | Err(_) => return String::from_utf8(got).unwrap(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads until `text` has arrived; returns everything read so far.
async fn read_until(socket: &mut tokio::net::TcpStream, text: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(text) {
        let n = tokio::time::timeout(PATIENCE, socket.read(&mut buf)).await.expect("in time").unwrap();
        assert!(n > 0, "closed before {text:?}: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

#[tokio::test]
async fn draining_ends_streams_with_their_connections_and_closes_idle_ones() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start(&[]).await;
    server.publish(2);
    // An SSE stream, replaying 1 and 2; the response says from the start that the
    // connection ends with it.
    let mut sse = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    sse.write_all(b"GET /api/sse?last_event_id=0 HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let head = read_until(&mut sse, "\"seq\":2,").await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nconnection: close\r\n"), "{head}");
    // An idle keep-alive connection, after one answer.
    let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = read_until(&mut idle, "\r\n\r\nok").await;
    assert!(!answer.contains("connection: close"), "kept alive while serving: {answer}");
    // A held long-poll.
    let mut held = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    held.write_all(b"GET /api/long-poll?since=2 HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    server.wait_active(pushlab_contract::Transport::LongPoll, 1).await;

    let started = Instant::now();
    let stopped = tokio::spawn(server.stop());
    // The stream's body ends properly (the last chunk), then the connection closes.
    let rest = read_to_close(&mut sse).await;
    assert!(rest.ends_with("0\r\n\r\n"), "{rest:?}");
    assert_eq!(read_to_close(&mut idle).await, "", "the idle connection closes without a word");
    // The long-poll is answered, empty, and told the connection will not be kept.
    let answer = read_to_close(&mut held).await;
    assert!(
        answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.contains("\r\nconnection: close\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#"{"ticks":[],"next":2,"missed":0,"#), "{answer}");
    stopped.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "nothing waited for the grace period");
}

#[tokio::test]
async fn while_draining_a_new_request_gets_its_connection_closed_never_a_503() {
    use tokio::io::AsyncWriteExt;
    // The moment between the signal and a connection's next read: handlers already see
    // the shutdown while the connection still takes the request.
    let server = TestServer::start(&[]).await;
    server.state.shutdown.cancel();
    for request in [
        "GET /api/sse HTTP/1.1\r\nHost: x\r\nLast-Event-ID: abcd-5\r\n\r\n",
        "GET /api/long-poll HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /api/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    ] {
        let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(read_to_close(&mut socket).await, "", "{request}");
    }
    // Short answers still go out (they hold nothing open).
    assert_eq!(get_json(&server.url("/api/poll")).await.0, 200);
}

/// SPEC §8 over HTTP/2: draining sends GOAWAY (no error) on the connection, the open
/// SSE stream ends with END_STREAM (no reset, so the body reads to a clean end), the
/// held long-poll on the same connection is answered, and no new stream is taken.
#[tokio::test]
async fn draining_over_http2_sends_goaway_and_ends_streams_cleanly() {
    let server = TestServer::start_over(Proto::H2, &[]).await;
    server.publish(2);
    let client = server.client().await;
    let mut sse = SseClient::connect_on(&client, "/api/sse", Some("0")).await.unwrap();
    assert_eq!(seqs(&sse.ticks(2).await), [1, 2]);
    let held = client.clone();
    let long_poll = tokio::spawn(async move { held.get_json("/api/long-poll?since=2").await });
    server.wait_active(pushlab_contract::Transport::LongPoll, 1).await;
    assert!(client.server_frames().iter().all(|f| f.kind != common::client::GOAWAY), "no GOAWAY yet");

    let started = Instant::now();
    server.stop().await;
    // The stream's body ends: no more blocks, and no error on the way (a reset would be one).
    assert_eq!(sse.next_block().await, None, "the SSE stream ended");
    let (status, body) = long_poll.await.unwrap();
    assert_eq!((status, &body["ticks"]), (200, &serde_json::json!([])), "{body}");
    assert!(started.elapsed() < Duration::from_secs(1), "nothing waited for the grace period");

    let frames = client.server_frames();
    let goaway = frames.iter().find(|f| f.kind == common::client::GOAWAY).expect("a GOAWAY frame");
    assert_eq!(goaway.stream, 0, "GOAWAY is about the connection");
    assert_eq!(&goaway.payload[4..8], &[0, 0, 0, 0], "error code NO_ERROR");
    assert!(frames.iter().all(|f| f.kind != common::client::RST_STREAM), "no stream was reset: {frames:?}");
    assert!(!client.takes_new_streams().await, "after GOAWAY the connection takes no new stream");
}
