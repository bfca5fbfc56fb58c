//! `pushlab-load wire` against a real server: each capture shows the parts the docs
//! explain, taken from the bytes actually exchanged.

use std::net::SocketAddr;

use pushlab_contract::Transport;
use pushlab_load::wire::capture;
use tokio_util::sync::CancellationToken;

/// A server on port 0 at 20 ticks/s, with at least 5 ticks in its feed.
async fn server() -> (SocketAddr, u64, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = pushlab_server::Config::with_args(["--rate", "20"]);
    let stop = CancellationToken::new();
    let shutdown = stop.clone().cancelled_owned();
    tokio::spawn(async move { pushlab_server::run(listener, config, shutdown).await.unwrap() });
    // The captures resume from cursors: wait for a few ticks to exist.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let head = reqwest_free_stats(addr).await.ticker.head;
        if head >= 5 {
            return (addr, head, stop);
        }
        assert!(std::time::Instant::now() < deadline, "waited 5 s for 5 ticks: the head is at {head}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// `/api/stats` over a plain socket (this crate has no HTTP client dev-dependency).
async fn reqwest_free_stats(addr: SocketAddr) -> pushlab_contract::Stats {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[tokio::test]
async fn each_capture_shows_the_bytes_the_docs_explain() {
    let (addr, head, stop) = server().await;
    assert!(head >= 3);
    let poll = capture(Transport::Poll, addr, head).await.unwrap();
    assert!(poll.contains(&format!("GET /api/poll?since={} HTTP/1.1\\r\\n", head - 2)), "{poll}");
    assert!(poll.contains("content-length: ") && poll.contains("{\"ticks\":[{\"seq\":"), "{poll}");

    let long_poll = capture(Transport::LongPoll, addr, head).await.unwrap();
    assert!(long_poll.contains("# … held ") && long_poll.contains("\"ticks\":[{\"seq\":"), "{long_poll}");

    let sse = capture(Transport::Sse, addr, head).await.unwrap();
    assert!(sse.contains("transfer-encoding: chunked\\r\\n"), "{sse}");
    assert!(sse.contains("retry: 1000\\n"), "{sse}");
    // Ids are `<epoch>-<seq>` (SPEC §7).
    let replayed = format!("-{}\\n", head - 1);
    assert!(
        sse.lines().any(|l| l.starts_with("id: ") && l.ends_with(&replayed)),
        "replays after Last-Event-ID: {sse}"
    );
    assert!(
        sse.contains("D\\r\\n                   # chunk size: 0xD = 13 bytes"),
        "retry: 1000\\n\\n: {sse}"
    );

    let ws = capture(Transport::Ws, addr, head).await.unwrap();
    assert!(ws.contains("HTTP/1.1 101 Switching Protocols\\r\\n"), "{ws}");
    assert!(
        ws.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\\r\\n"),
        "RFC 6455's example: {ws}"
    );
    assert!(ws.contains("FIN=1 (last fragment), opcode=0x1 (text)") && ws.contains("MASK=0"), "{ws}");
    assert!(ws.contains("MASK=1") && ws.contains("masking key=12 34 56 78"), "{ws}");
    let subscribe = r#"{"type":"subscribe","symbols":["ACME"]}"#;
    // FIN + text, then MASK + length 39 (0x27), then the key: the whole frame header.
    assert!(ws.contains(&format!("{:<24}# header, 6 bytes:", "81 a7 12 34 56 78")), "{ws}");
    assert!(ws.ends_with(&format!("unmasked it reads:\n{subscribe}\n")), "the client's frame, exactly: {ws}");
    assert!(ws.contains(r#"{"type":"hello","epoch":""#), "the hello first: {ws}");
    assert!(ws.contains(&format!("{{\"seq\":{},", head - 1)), "{ws}");
    stop.cancel();
}
