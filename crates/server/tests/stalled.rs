//! A client that stops reading costs the server a bounded amount of memory and costs
//! the other clients nothing: it falls behind in the log and is later told its gap.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const READERS: usize = 100;
/// Ticks per second, 8 KiB each: 1.6 MB/s to a client of every symbol, more than the
/// kernel's socket buffers (4 MiB at most here) can absorb for a stalled one.
const RATE: f64 = 200.0;
/// The readers take one symbol of the eight: 200 KB/s each keeps 100 of them cheap.
const READER_PATH: &str = "/api/sse?symbols=ACME";
const SYMBOLS: f64 = 8.0;
const WINDOW: Duration = Duration::from_secs(5);
/// Far more than the server may keep for two stalled clients (hyper's body buffer and
/// a 64 KiB WebSocket write buffer each), and far less than the ~10 MB the feed pushes
/// at each of them over the test, which an unbounded per-client queue would hold.
const HEAP_GROWTH_BOUND: u64 = 8 << 20;

/// A connection with a tiny receive buffer that sends `request` and then reads nothing.
async fn stalled(server: &ServerProcess, request: String) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

fn number_after(text: &str, key: &str) -> u64 {
    let start = text.find(key).expect("key present") + key.len();
    text[start..].bytes().take_while(u8::is_ascii_digit).fold(0, |n, d| n * 10 + u64::from(d - b'0'))
}

/// One well-behaved SSE reader: its seqs must rise, with no gap notice.
async fn reader(url: String, until: Instant) -> (u64, Vec<u64>) {
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    let mut body = response.bytes_stream();
    let (mut buffer, mut last, mut count, mut latencies_us) = (String::new(), 0u64, 0u64, Vec::new());
    while Instant::now() < until {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), body.next()).await else { break };
        buffer.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            assert!(!block.contains("event: gap"), "a reader that keeps up must lose nothing");
            let Some(id) = block.lines().find_map(|l| l.strip_prefix("id: ")) else { continue };
            // Only seq and ts_us matter here; skipping a full parse keeps 100 readers cheap.
            let seq: u64 = id.parse().unwrap();
            let ts_us = number_after(&block, "\"ts_us\":");
            assert_eq!(seq, number_after(&block, "\"seq\":"), "id: and data agree");
            assert!(seq > last, "in order: {seq} after {last}");
            let now_us = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64;
            latencies_us.push(now_us.saturating_sub(ts_us));
            last = seq;
            count += 1;
        }
    }
    (count, latencies_us)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_neither_grows_memory_nor_slows_the_others() {
    let rate = RATE.to_string();
    let server =
        ServerProcess::start(&["--rate", &rate, "--payload-bytes", "8192", "--history", "256"]).await;
    // Let the history fill, so its memory is in the baseline.
    while server.stats().await.ticker.head < 300 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = server.stats().await.process.heap_bytes;
    let host = server.base.trim_start_matches("http://").to_owned();
    let mut sse = stalled(&server, format!("GET /api/sse HTTP/1.1\r\nHost: {host}\r\n\r\n")).await;
    let ws_request = format!(
        "GET /api/ws HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let _ws = stalled(&server, ws_request).await;

    let until = Instant::now() + WINDOW;
    let readers: Vec<_> =
        (0..READERS).map(|_| tokio::spawn(reader(server.url(READER_PATH), until))).collect();
    let mut latencies = Vec::new();
    for r in readers {
        let (count, mut l) = r.await.unwrap();
        // At least 80 % of what the feed published in the window (ramp-up takes a bit).
        let published = RATE / SYMBOLS * WINDOW.as_secs_f64();
        assert!(count as f64 > published * 0.7, "each reader kept up: {count} of about {published}");
        latencies.append(&mut l);
    }
    latencies.sort_unstable();
    let p99_ms = latencies[latencies.len() * 99 / 100] as f64 / 1000.0;
    let stats = server.stats().await;
    let growth = stats.process.heap_bytes.saturating_sub(before);
    eprintln!(
        "readers p50 {:.1} ms p99 {p99_ms:.1} ms, heap growth {growth} B",
        latencies[latencies.len() / 2] as f64 / 1000.0
    );
    assert!(p99_ms < 1000.0, "readers stay fast: p99 {p99_ms} ms");
    assert!(growth < HEAP_GROWTH_BOUND, "heap grew by {growth} B with two stalled clients");
    assert_eq!(
        stats.transports.sse.active, 1,
        "the readers are done; the stalled SSE client is still connected"
    );

    // The stalled client reads again: it was not queued for, it fell behind in the
    // log and is told exactly that with a gap event.
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    let mut buf = vec![0; 64 * 1024];
    while !String::from_utf8_lossy(&seen).contains("event: gap\ndata: {\"missed\":") {
        assert!(Instant::now() < deadline, "the stalled client got no gap notice");
        let n = tokio::time::timeout(PATIENCE, sse.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "connection still open");
        seen.extend_from_slice(&buf[..n]);
    }
}
