//! TLS and HTTP/2 against the real server in-process on port 0: ALPN picks h2 and falls
//! back to HTTP/1.1, a wrong pin is refused, wss:// works, bad TLS input is closed
//! without hurting anyone else, and SSE and polling over HTTP/2 through the load
//! generator lose nothing, with N streams to a connection.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};
use indicatif::ProgressBar;
use pushlab_contract::{Stats, Transport};
use pushlab_load::net::{self, HttpSender, Target};
use pushlab_load::protocol::ProtocolRecord;
use pushlab_load::results::RunRecord;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::{Knobs, RunSpec};
use pushlab_load::tls::{Alpn, TlsClient, Trust};
use pushlab_server::tls::Identity;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod in_process;
use in_process::Server;

const PATIENCE: Duration = Duration::from_secs(5);

/// A --tls server with a certificate the test knows, and a target pinning it.
async fn tls_server(args: &[&str]) -> (Server, Target) {
    let identity = Identity::self_signed().unwrap();
    let mut config = pushlab_server::Config::with_args(args.iter().copied());
    let print = identity.fingerprint();
    config.tls.identity = Some(identity);
    let server = in_process::with_config(config).await;
    let url = format!("https://{}", server.target.addr);
    let target = Target::resolve(&url, false).await.unwrap().secure(Some(Trust::Pinned(print))).unwrap();
    (server, target)
}

fn tls(target: &Target) -> &TlsClient {
    target.tls.as_deref().expect("an https target")
}

async fn stats(target: &Target) -> Stats {
    net::fetch_json(target, "/api/stats").await.unwrap()
}

/// GET `path` on `sender`: the status, the HTTP version and the body.
async fn get(sender: &mut HttpSender, target: &Target, path: &str) -> (u16, http::Version, Bytes) {
    let request = match sender {
        HttpSender::Http1(_) => net::get(target, path),
        HttpSender::Http2(_) => net::get_h2(target, path),
    };
    let response = sender.send_request(request.body(Empty::new()).unwrap()).await.unwrap();
    let (status, version) = (response.status().as_u16(), response.version());
    (status, version, response.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn alpn_picks_h2_and_falls_back_to_http1() {
    let (_server, target) = tls_server(&[]).await;
    let tcp = TcpStream::connect(target.addr).await.unwrap();
    let h2 = tls(&target).handshake(tcp, Alpn::Http2).await.unwrap();
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()));
    let mut sender = HttpSender::Http2(net::http2(h2).await.unwrap());
    let (status, version, body) = get(&mut sender, &target, "/api/poll").await;
    assert_eq!((status, version), (200, http::Version::HTTP_2), "{body:?}");
    // WebSocket is refused over HTTP/2 with a 400 that says why.
    let (status, _, body) = get(&mut sender, &target, "/api/ws").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("HTTP/1.1 only"), "{body:?}");

    let tcp = TcpStream::connect(target.addr).await.unwrap();
    let h1 = tls(&target).handshake(tcp, Alpn::Http1).await.unwrap();
    assert_eq!(h1.get_ref().1.alpn_protocol(), Some(b"http/1.1".as_slice()));
    let mut sender = net::http1(h1).await.unwrap();
    let (status, version, body) = get(&mut sender, &target, "/healthz").await;
    assert_eq!((status, version, &body[..]), (200, http::Version::HTTP_11, b"ok".as_slice()));
    let counted = stats(&target).await.connections.tls;
    assert_eq!((counted.h2_connections_open, counted.h2_streams), (1, 2), "{counted:?}");
}

#[tokio::test]
async fn a_certificate_other_than_the_pinned_one_is_refused() {
    let (server, _) = tls_server(&[]).await;
    let url = format!("https://{}", server.target.addr);
    let wrong = Trust::Pinned(Identity::self_signed().unwrap().fingerprint());
    let target = Target::resolve(&url, false).await.unwrap().secure(Some(wrong)).unwrap();
    let tcp = TcpStream::connect(target.addr).await.unwrap();
    let error = tls(&target).handshake(tcp, Alpn::Http2).await.unwrap_err();
    assert!(error.to_string().contains("not the pinned"), "{error}");
    assert!(Target::resolve(&url, false).await.unwrap().secure(None).is_err(), "https needs a trust");
}

#[tokio::test]
async fn wss_works_over_tls_on_http1() {
    let (_server, target) = tls_server(&[]).await;
    let tcp = TcpStream::connect(target.addr).await.unwrap();
    let stream = tls(&target).handshake(tcp, Alpn::Http1).await.unwrap();
    let url = format!("wss://{}/api/ws", target.authority);
    let (mut ws, response) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    assert_eq!(response.status().as_u16(), 101);
    let hello = tokio::time::timeout(PATIENCE, ws.next()).await.unwrap().unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("\"type\":\"hello\""), "{hello:?}");
    // The ticker publishes: a tick arrives over the TLS WebSocket.
    let tick = tokio::time::timeout(PATIENCE, ws.next()).await.unwrap().unwrap().unwrap();
    assert!(tick.to_text().unwrap().contains("\"seq\":"), "{tick:?}");
}

#[tokio::test]
async fn garbage_and_unfinished_handshakes_are_closed_and_hurt_nobody() {
    let (_server, target) = tls_server(&["--header-timeout", "300ms", "--rate", "50"]).await;
    let mut silent = TcpStream::connect(target.addr).await.unwrap();
    let mut garbage = TcpStream::connect(target.addr).await.unwrap();
    garbage.write_all(b"GET /api/poll HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    // Meanwhile a real client is served, over HTTP/2.
    let tcp = TcpStream::connect(target.addr).await.unwrap();
    let h2 = tls(&target).handshake(tcp, Alpn::Http2).await.unwrap();
    let mut sender = HttpSender::Http2(net::http2(h2).await.unwrap());
    assert_eq!(get(&mut sender, &target, "/api/poll").await.0, 200);
    // The garbage gets at most a TLS alert, then the close; the silent one the close.
    let garbage_got = tokio::time::timeout(PATIENCE, read_to_end(&mut garbage)).await.unwrap();
    assert!(garbage_got < 64, "a TLS alert at most, got {garbage_got} bytes");
    let started = std::time::Instant::now();
    assert_eq!(tokio::time::timeout(PATIENCE, read_to_end(&mut silent)).await.unwrap(), 0);
    assert!(started.elapsed() < Duration::from_secs(2), "closed after the header timeout");
    let counted = stats(&target).await.connections.tls;
    assert_eq!((counted.handshake_failures, counted.handshake_timeouts), (1, 1), "{counted:?}");
    assert_eq!(get(&mut sender, &target, "/healthz").await.0, 200, "the real client is still served");
}

/// Reads until the peer closes (or resets): how many bytes came first.
async fn read_to_end(stream: &mut TcpStream) -> usize {
    let (mut sink, mut total) = ([0u8; 1024], 0);
    loop {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n,
        }
    }
}

fn h2_spec(transport: Transport, clients: usize, streams: usize) -> RunSpec {
    let knobs = Knobs {
        poll_interval: Duration::from_millis(200),
        ramp: Duration::from_millis(200),
        settle: Duration::from_millis(500),
        duration: Duration::from_secs(2),
        tls: true,
        http2_streams: Some(streams),
        ..Knobs::default()
    };
    RunSpec { transport, clients, knobs }
}

/// An HTTP/2 run's record: no errors, every expected tick once and in order, over
/// `clients / streams` TLS connections. Returns its protocol record and the record as
/// text for the caller's own assertions.
fn every_tick_over_h2(record: &RunRecord, clients: usize, streams: usize) -> (&ProtocolRecord, String) {
    let what = format!("{}: {}", record.transport, serde_json::to_string_pretty(record).unwrap());
    assert!(record.errors.is_empty(), "{what}");
    assert!(record.ticks.expected > 0 && record.ticks.lost == 0, "{what}");
    assert_eq!((record.ticks.duplicates, record.ticks.out_of_order), (0, 0), "{what}");
    let protocol = record.protocol.as_ref().expect("a protocol record");
    assert_eq!(protocol.name, "HTTP/2 over TLS");
    assert_eq!(protocol.connections, (clients / streams) as u64, "{what}");
    (protocol, what)
}

#[tokio::test]
async fn sse_and_poll_over_h2_lose_nothing_with_streams_sharing_connections() {
    let (_server, target) = tls_server(&["--rate", "50"]).await;
    let under_test = ServerUnderTest { target, pid: None };
    for (transport, clients, streams) in [(Transport::Sse, 20, 10), (Transport::Poll, 6, 3)] {
        let record =
            run(&h2_spec(transport, clients, streams), &under_test, &ProgressBar::hidden()).await.unwrap();
        let (protocol, what) = every_tick_over_h2(&record, clients, streams);
        assert!(protocol.tls_overhead_bytes_per_tick > 0.0, "{what}");
        if transport == Transport::Sse {
            // Every stream open on its connection when the server was sampled.
            assert_eq!(protocol.server_h2_streams_open, clients as u64, "{what}");
        }
    }
}

/// Long-polls over HTTP/2: each held request is a stream, 4 to a connection, and every
/// tick reaches every client, in order, once (the server answers a held stream as it
/// answers a held HTTP/1.1 request).
#[tokio::test]
async fn long_poll_over_h2_loses_nothing_with_held_streams_sharing_connections() {
    let (_server, target) = tls_server(&["--rate", "20"]).await;
    let under_test = ServerUnderTest { target, pid: None };
    let (clients, streams) = (8, 4);
    let record = run(&h2_spec(Transport::LongPoll, clients, streams), &under_test, &ProgressBar::hidden())
        .await
        .unwrap();
    let (protocol, what) = every_tick_over_h2(&record, clients, streams);
    assert!(protocol.plaintext_bytes_per_tick > 0.0, "{what}");
}

/// HTTP/2 bytes by frame type on a case whose answer is known: one SSE stream on its
/// connection. Its HEADERS went by before the window (none per tick); each tick is one
/// DATA frame, the SSE event and a 9-byte frame header; the kinds add up to the whole.
#[tokio::test]
async fn h2_bytes_split_by_frame_type_one_sse_stream() {
    let (_server, target) = tls_server(&["--rate", "20"]).await;
    let under_test = ServerUnderTest { target: target.clone(), pid: None };
    let record = run(&h2_spec(Transport::Sse, 1, 1), &under_test, &ProgressBar::hidden()).await.unwrap();
    let what = serde_json::to_string_pretty(&record).unwrap();
    let p = record.protocol.as_ref().expect("a protocol record");
    let (headers, data, control) = (
        p.h2_headers_bytes_per_tick.expect("HEADERS counted"),
        p.h2_data_bytes_per_tick.expect("DATA counted"),
        p.h2_control_bytes_per_tick.expect("control counted"),
    );
    assert_eq!(headers, 0.0, "no HEADERS frame in the window: {what}");
    let sum = headers + data + control;
    assert!((sum - p.plaintext_bytes_per_tick).abs() < 1e-6, "{sum} vs {what}");
    // The events the server sent: `id: <epoch>-<seq>\ndata: <tick>\n\n`, from its own log.
    let sizes = sse_event_sizes(&target).await;
    let (min, max) = (*sizes.iter().min().unwrap() as f64, *sizes.iter().max().unwrap() as f64);
    assert!((min + 9.0..=max + 9.0).contains(&data), "DATA {data} per tick, events {min}..={max} B: {what}");
    assert!(control < 9.0, "at most a WINDOW_UPDATE now and then: {control} per tick, {what}");
}

/// The size of every SSE event the server's log holds, from the exact bytes of a poll
/// (ticks are flat JSON objects, so `},{` separates them).
async fn sse_event_sizes(target: &Target) -> Vec<usize> {
    let tcp = TcpStream::connect(target.addr).await.unwrap();
    let h1 = tls(target).handshake(tcp, Alpn::Http1).await.unwrap();
    let mut sender = net::http1(h1).await.unwrap();
    let (_, _, body) = get(&mut sender, target, "/api/poll?since=0&limit=10000").await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    let epoch: serde_json::Value = serde_json::from_str(&body).unwrap();
    let epoch = epoch["epoch"].as_str().unwrap().to_owned();
    let ticks = body.split_once("\"ticks\":[{").unwrap().1.split_once("}],\"next\"").unwrap().0;
    ticks
        .split("},{")
        .map(|tick| {
            let seq = tick.trim_start_matches("\"seq\":").split(',').next().unwrap();
            format!("id: {epoch}-{seq}\ndata: {{{tick}}}\n\n").len()
        })
        .collect()
}
