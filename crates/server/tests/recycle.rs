//! `--stream-max-age` (SPEC §8): SSE streams and WebSockets are ended after about the
//! age (±10 %), and clients resuming from their cursor get every tick exactly once.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Ticks published over the test: one every 4 ms, about 1.6 s, five or so recycles.
const TICKS: u64 = 400;
const TICK_INTERVAL: Duration = Duration::from_millis(4);
const MAX_AGE: Duration = Duration::from_millis(300);

/// Publishes [`TICKS`] ticks, one every [`TICK_INTERVAL`], from a task of its own.
fn publish_steadily(server: &TestServer) -> tokio::task::JoinHandle<()> {
    let state = server.state.clone();
    let walk =
        std::sync::Mutex::new(pushlab_server::ticker::PriceWalk::new(state.config.symbols.clone(), 7, None));
    tokio::spawn(async move {
        for seq in 1..=TICKS {
            tokio::time::sleep(TICK_INTERVAL).await;
            let (symbol, json) = walk.lock().unwrap().next(seq, 0);
            state.feed.publish([state.feed.frame(seq, symbol, json)]);
        }
    })
}

/// A stream's lifetime under `--stream-max-age 300ms` lies within ±10 %, plus what the
/// client's side adds (the connect before, the read after).
fn assert_lifetime(lived: Duration) {
    let (least, most) = (MAX_AGE.mul_f64(0.9), MAX_AGE.mul_f64(1.1) + Duration::from_millis(300));
    assert!(lived >= least && lived <= most, "a stream lived {lived:?}");
}

#[tokio::test]
async fn sse_clients_resuming_with_last_event_id_get_every_tick_once_across_recycles() {
    let server = TestServer::start(&["--stream-max-age", "300ms"]).await;
    let publisher = publish_steadily(&server);
    let epoch = server.state.feed.epoch().to_owned();
    let (mut seqs_seen, mut last_id, mut streams) = (Vec::new(), "0".to_owned(), 0);
    while seqs_seen.last() != Some(&TICKS) {
        let opened = Instant::now();
        let mut sse = SseClient::connect(&server, "/api/sse", Some(&last_id)).await.unwrap();
        streams += 1;
        while let Some(block) = sse.next_block().await {
            if let (Some(id), Some(data), None) = (block.id, block.data, &block.event) {
                assert_eq!(id, format!("{epoch}-{}", seq_of(&data)));
                seqs_seen.push(seq_of(&data));
                last_id = id;
            }
            if seqs_seen.last() == Some(&TICKS) {
                break;
            }
        }
        if seqs_seen.last() != Some(&TICKS) {
            assert_lifetime(opened.elapsed());
        }
    }
    publisher.await.unwrap();
    assert_eq!(seqs_seen, (1..=TICKS).collect::<Vec<_>>(), "every seq exactly once, in order");
    assert!(streams >= 4, "{streams} streams over 1.6 s");
    let recycled = server.state.connection_counters.snapshot().streams_recycled;
    assert_eq!(recycled, streams - 1, "every stream but the last was recycled");
}

#[tokio::test]
async fn websockets_closed_with_1012_resume_with_since_and_get_every_tick_once() {
    let server = TestServer::start(&["--stream-max-age", "300ms"]).await;
    let publisher = publish_steadily(&server);
    let epoch = server.state.feed.epoch().to_owned();
    let (mut seqs_seen, mut connections) = (Vec::new(), 0u64);
    'resume: loop {
        let since = format!("{epoch}-{}", seqs_seen.last().copied().unwrap_or(0));
        let opened = Instant::now();
        let mut ws = ws_connect(&server, &format!("/api/ws?since={since}")).await;
        connections += 1;
        loop {
            let message = tokio::time::timeout(PATIENCE, ws.next()).await.expect("in time").unwrap().unwrap();
            match message {
                Message::Text(text) => {
                    seqs_seen.push(seq_of(&text));
                    if seqs_seen.last() == Some(&TICKS) {
                        break 'resume;
                    }
                }
                Message::Close(Some(frame)) => {
                    assert_eq!(frame.code, CloseCode::Restart, "1012, service restart");
                    assert_lifetime(opened.elapsed());
                    continue 'resume;
                }
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    publisher.await.unwrap();
    assert_eq!(seqs_seen, (1..=TICKS).collect::<Vec<_>>(), "every seq exactly once, in order");
    assert!(connections >= 4, "{connections} connections over 1.6 s");
    let recycled = server.state.connection_counters.snapshot().streams_recycled;
    assert_eq!(recycled, connections - 1);
}
