//! Connection hygiene (SPEC §8): sockets that send nothing, or a request head a byte at
//! a time, are closed at the header timeout; connections with no request in flight at
//! the idle timeout (streams and held long-polls are not idle); past the TCP cap new
//! connections are closed at once; and a real client gets in once the others are gone.

mod common;

use std::time::{Duration, Instant};

use common::*;
use pushlab_contract::ConnectionStats;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Headroom for a close that is due at a given time (the runtime is shared with other
/// tests on two cores).
const SLACK: Duration = Duration::from_millis(600);

fn connections(server: &TestServer) -> ConnectionStats {
    server.state.connection_counters.snapshot()
}

async fn wait_connections(server: &TestServer, what: &str, done: impl Fn(&ConnectionStats) -> bool) {
    wait_for(what, || connections(server), done).await;
}

/// Reads until the server closes the socket (end of stream or a reset); returns what
/// was read.
async fn read_until_closed(socket: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, socket.read(&mut buf)).await.expect("closed in time") {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `text` a byte every `pause`, ignoring errors (the server may close meanwhile).
fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, text: &'static str, pause: Duration) {
    tokio::spawn(async move {
        for byte in text.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(pause).await;
        }
    });
}

/// Waits until `reader`'s socket is closed by the server; returns when, after `since`.
async fn closed_after(mut reader: tokio::net::tcp::OwnedReadHalf, since: Instant) -> Duration {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(PATIENCE, reader.read(&mut buf)).await.expect("closed in time") {
            Ok(0) | Err(_) => return since.elapsed(),
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn silent_sockets_and_slowloris_heads_are_closed_at_the_header_timeout() {
    let timeout = Duration::from_millis(400);
    let server = TestServer::start(&["--header-timeout", "400ms"]).await;
    // One sends nothing; one sends a head a byte every 50 ms, which would take 2 s.
    let opened = Instant::now();
    let (silent, _silent_writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
    let (slow, slow_writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
    trickle(
        slow_writer,
        "GET /api/poll HTTP/1.1\r\nHost: x\r\nX-Pad: aaaa\r\n\r\n",
        Duration::from_millis(50),
    );
    // A keep-alive client whose second head starts 300 ms after its first answer: its
    // clock starts at that first byte, not at the accept or the answer.
    let mut keep = TcpStream::connect(server.addr).await.unwrap();
    keep.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = [0u8; 512];
    let n = keep.read(&mut answer).await.unwrap();
    assert!(answer[..n].ends_with(b"\r\n\r\nok"), "{:?}", String::from_utf8_lossy(&answer[..n]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (keep, keep_writer) = keep.into_split();
    let first_byte = Instant::now();
    trickle(keep_writer, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", Duration::from_millis(50));

    let (silent, slow, keep) = tokio::join!(
        closed_after(silent, opened),
        closed_after(slow, opened),
        closed_after(keep, first_byte)
    );
    for (what, took) in [("silent", silent), ("slowloris", slow), ("second head", keep)] {
        assert!(took >= timeout && took < timeout + SLACK, "{what} closed after {took:?}");
    }
    wait_connections(&server, "3 header timeouts, nothing open", |c| c.header_timeouts == 3 && c.open == 0)
        .await;
    let c = connections(&server);
    assert_eq!((c.accepted, c.idle_timeouts, c.refused_at_cap), (3, 0, 0));
}

#[tokio::test]
async fn idle_connections_close_at_the_idle_timeout_but_streams_and_held_long_polls_stay() {
    let server = TestServer::start(&["--idle-timeout", "400ms"]).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut sse = TcpStream::connect(server.addr).await.unwrap();
    sse.write_all(b"GET /api/sse HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut held = TcpStream::connect(server.addr).await.unwrap();
    held.write_all(b"GET /api/long-poll?timeout_ms=1200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 512];
    let n = idle.read(&mut answer).await.unwrap();
    let answered = Instant::now();
    assert!(answer[..n].ends_with(b"ok"));
    server.wait_active(pushlab_contract::Transport::LongPoll, 1).await;

    assert_eq!(read_until_closed(&mut idle).await, b"", "closed without a word");
    let took = answered.elapsed();
    assert!(took >= Duration::from_millis(400) && took < Duration::from_millis(400) + SLACK, "{took:?}");
    // 1.2 s on, far past the idle timeout: the long-poll answers (200, empty) and the
    // stream still carries a tick published now.
    let long_poll = String::from_utf8(read_until_closed(&mut held).await).unwrap();
    assert!(long_poll.starts_with("HTTP/1.1 200 OK\r\n"), "{long_poll}");
    let epoch = server.state.feed.epoch();
    let body = format!(r#"{{"ticks":[],"next":0,"missed":0,"epoch":"{epoch}"}}"#);
    assert!(long_poll.ends_with(&body), "{long_poll}");
    server.publish(1);
    let mut stream = Vec::new();
    while !String::from_utf8_lossy(&stream).contains("\"seq\":1,") {
        let n = tokio::time::timeout(PATIENCE, sse.read(&mut answer)).await.unwrap().unwrap();
        assert!(n > 0, "the stream stays open");
        stream.extend_from_slice(&answer[..n]);
    }
    let c = connections(&server);
    assert_eq!((c.idle_timeouts, c.header_timeouts, c.accepted, c.open), (1, 0, 3, 1));
}

#[tokio::test]
async fn past_the_tcp_cap_connections_close_at_once_and_a_real_client_gets_in_after_cleanup() {
    // --max-connections 2: at most 2 + 64 TCP connections.
    let server = TestServer::start(&["--max-connections", "2", "--header-timeout", "800ms"]).await;
    let cap = pushlab_server::tcp_connection_cap(2, pushlab_server::process::fd_limit());
    assert_eq!(cap, 66);
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    wait_connections(&server, "66 open", |c| c.open == 66).await;
    let refused_at = Instant::now();
    for _ in 0..10 {
        let mut extra = TcpStream::connect(server.addr).await.unwrap();
        assert_eq!(read_until_closed(&mut extra).await, b"", "closed at once, unanswered");
    }
    assert!(refused_at.elapsed() < Duration::from_millis(500), "{:?} for 10 refusals", refused_at.elapsed());
    let c = connections(&server);
    assert_eq!((c.open, c.accepted, c.refused_at_cap, c.header_timeouts), (66, 66, 10, 0));

    // The held sockets never send a head: 800 ms after their accept they are closed,
    // and a real client gets in.
    wait_connections(&server, "the silent sockets closed", |c| c.header_timeouts == 66 && c.open == 0).await;
    let (status, body) = get_json(&server.url("/api/poll")).await;
    assert_eq!((status, body["next"].as_u64()), (200, Some(0)));
    let c = connections(&server);
    assert_eq!((c.accepted, c.refused_at_cap, c.idle_timeouts), (67, 10, 0));
    drop(held);
}

#[tokio::test]
async fn under_a_small_fd_limit_the_cap_holds_below_it_and_the_server_keeps_serving() {
    // 100 descriptors: the cap is 100 - 64 = 36, whatever --max-connections says.
    let server = ServerProcess::start_with_fd_limit(100, &["--header-timeout", "1s"]).await;
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let mut sockets = Vec::new();
    for _ in 0..50 {
        sockets.push(TcpStream::connect(addr).await.unwrap());
    }
    // Past the cap the last 14 were closed at once; the server never ran out of
    // descriptors (an EMFILE would leave them queued, not closed).
    let mut closed = 0;
    for socket in &mut sockets[36..] {
        closed += usize::from(read_until_closed(socket).await.is_empty());
    }
    assert_eq!(closed, 14);
    // Once the silent ones are closed by the header timeout, /api/stats answers; each
    // try before that was closed at the cap too.
    let deadline = Instant::now() + PATIENCE;
    let mut refused_tries = 0;
    let stats = loop {
        match server.try_stats().await {
            Some(stats) => break stats,
            None => refused_tries += 1,
        }
        assert!(Instant::now() < deadline, "the server answers again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let c = stats.connections;
    assert_eq!((c.refused_at_cap, c.header_timeouts), (14 + refused_tries, 36));
    assert!(stats.process.open_fds.is_some_and(|n| n < 100), "{:?}", stats.process.open_fds);
}
