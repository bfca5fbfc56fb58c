//! The tick accounting end to end, over real sockets, against a throwaway server whose
//! streams are crafted: duplicates, a tick out of order, a gap notice, CRLF line ends.
//! Every figure the crafted stream implies is asserted exactly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_contract::{PollResponse, Stats, Tick};
use pushlab_load::measure::now_us;
use pushlab_load::net::Target;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::Knobs;
use pushlab_load::scenario::RunSpec;

/// What each stream sends, in order: `Some(seq)` a tick, `None` a gap of [`GAP`] ticks.
const CRAFTED: &[Option<u64>] =
    &[Some(1), Some(2), Some(4), Some(2), Some(3), Some(4), Some(5), None, Some(8)];
const GAP: u64 = 2;
/// When the crafted stream starts: inside the window (settle 500 ms, window 1 s).
const SEND_AT: Duration = Duration::from_millis(650);
/// When one more tick follows, scheduled after the window: it tells the run that the
/// clients have caught up, so it need not wait out the longest drain.
const AFTER_AT: Duration = Duration::from_millis(1600);
const AFTER_SEQ: u64 = 9;

/// The log the fake server "generated": every seq 1..=8, each with the time it was first sent.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Tick>>>);

impl Log {
    fn tick(&self, seq: u64) -> Tick {
        let mut log = self.0.lock().unwrap();
        if let Some(t) = log.iter().find(|t| t.seq == seq) {
            return t.clone();
        }
        // Make the evicted ticks of the gap exist in the log too, scheduled just now.
        let t = Tick { seq, symbol: "ACME".into(), price: 1.0, ts_us: now_us(), pad: None };
        log.push(t.clone());
        log.sort_by_key(|t| t.seq);
        t
    }

    /// The stream as (seq, json) events, gaps filled into the log.
    fn crafted(&self) -> Vec<Result<Tick, u64>> {
        let mut last = 0;
        CRAFTED
            .iter()
            .map(|item| match item {
                Some(seq) => {
                    last = last.max(*seq);
                    Ok(self.tick(*seq))
                }
                None => {
                    for seq in last + 1..=last + GAP {
                        self.tick(seq);
                    }
                    last += GAP;
                    Err(GAP)
                }
            })
            .collect()
    }
}

/// Every /api/stats answer takes this long, as on a busy server: past the window's
/// start, so neither "expected" nor the window's edges may depend on when it answers.
const STATS_DELAY: Duration = Duration::from_millis(600);

async fn stats(State(log): State<Log>) -> Json<Stats> {
    tokio::time::sleep(STATS_DELAY).await;
    let mut s = Stats::default();
    s.ticker.rate = 10.0;
    s.ticker.head = log.0.lock().unwrap().last().map_or(0, |t| t.seq);
    Json(s)
}

#[derive(serde::Deserialize)]
struct Since {
    /// `<epoch>-<seq>` or a bare seq, as the load generator's reference sends it.
    since: Option<String>,
}

async fn poll(State(log): State<Log>, Query(q): Query<Since>) -> Json<PollResponse> {
    let since = q.since.map_or(0, |s| pushlab_contract::Position::parse(&s).expect("a cursor").seq);
    let ticks: Vec<Tick> = log.0.lock().unwrap().iter().filter(|t| t.seq > since).cloned().collect();
    let next = ticks.last().map_or(since, |t| t.seq);
    Json(PollResponse { ticks, next, missed: 0, epoch: "test".into(), reset: false })
}

async fn sse(State(log): State<Log>) -> impl IntoResponse {
    let later = log.clone();
    let then = move || format!("id: {AFTER_SEQ}\r\ndata: {}\r\n\r\n", later.after());
    let body = async_stream(
        move || {
            let mut text = String::from("retry: 1000\r\n: hello\r\n\r\n");
            for item in log.crafted() {
                match item {
                    Ok(t) => {
                        let json = serde_json::to_string(&t).unwrap();
                        text.push_str(&format!("id: {}\r\ndata: {json}\r\n\r\n", t.seq));
                    }
                    Err(missed) => {
                        text.push_str(&format!("event: gap\r\ndata: {{\"missed\":{missed}}}\r\n\r\n"))
                    }
                }
            }
            text
        },
        then,
    );
    ([(axum::http::header::CONTENT_TYPE, "text/event-stream")], axum::body::Body::from_stream(body))
}

/// A body that sends `make()` at [`SEND_AT`] after the request, `then()` at
/// [`AFTER_AT`], and then stays open.
fn async_stream(
    make: impl FnOnce() -> String + Send + 'static,
    then: impl FnOnce() -> String + Send + 'static,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> + Send {
    let start = tokio::time::Instant::now();
    let at = |delay: Duration, text: Box<dyn FnOnce() -> String + Send>| {
        futures_util::stream::once(async move {
            tokio::time::sleep_until(start + delay).await;
            Ok(text())
        })
    };
    let both = futures_util::StreamExt::chain(at(SEND_AT, Box::new(make)), at(AFTER_AT, Box::new(then)));
    futures_util::StreamExt::chain(both, futures_util::stream::pending())
}

impl Log {
    /// The tick after the window, as JSON.
    fn after(&self) -> String {
        serde_json::to_string(&self.tick(AFTER_SEQ)).unwrap()
    }
}

async fn ws(State(log): State<Log>, upgrade: WebSocketUpgrade) -> impl IntoResponse {
    upgrade.on_upgrade(move |mut socket| async move {
        tokio::time::sleep(SEND_AT).await;
        for item in log.crafted() {
            let text = match item {
                Ok(t) => serde_json::to_string(&t).unwrap(),
                Err(missed) => format!("{{\"type\":\"gap\",\"missed\":{missed}}}"),
            };
            if socket.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(AFTER_AT - SEND_AT).await;
        let _ = socket.send(Message::Text(log.after().into())).await;
        while socket.recv().await.is_some() {}
    })
}

async fn serve() -> Target {
    let app = Router::new()
        .route("/api/stats", get(stats))
        .route("/api/poll", get(poll))
        .route("/api/sse", get(sse))
        .route("/api/ws", get(ws))
        .with_state(Log::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Target::from_addr(listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    target
}

async fn crafted_run(transport: Transport) {
    const CLIENTS: u64 = 3;
    let target = serve().await;
    let knobs = Knobs {
        poll_interval: Duration::from_secs(1),
        long_poll_timeout: Duration::from_secs(1),
        ramp: Duration::ZERO,
        settle: Duration::from_millis(500),
        duration: Duration::from_secs(1),
        ..Knobs::default()
    };
    let spec = RunSpec { transport, clients: CLIENTS as usize, knobs };
    let server = ServerUnderTest { target, pid: None };
    let r = run(&spec, &server, &ProgressBar::hidden()).await.unwrap();
    let t = &r.ticks;
    // Seqs 1..=8 were generated in the window; each client got 1,2,3,4,5,8.
    assert_eq!(t.expected_per_client, 8, "{r:#?}");
    assert_eq!(t.expected, 8 * CLIENTS, "{r:#?}");
    assert_eq!(t.delivered, 6 * CLIENTS, "{r:#?}");
    assert_eq!(t.lost, 2 * CLIENTS, "{r:#?}");
    assert_eq!(t.gap_missed, 2 * CLIENTS, "lost and the gap notices agree: {r:#?}");
    assert_eq!(t.duplicates, 2 * CLIENTS, "2 and 4 came twice: {r:#?}");
    assert_eq!(t.out_of_order, CLIENTS, "3 came after 4: {r:#?}");
    assert_eq!(r.latency_us.count, 6 * CLIENTS);
    assert_eq!(r.connect.count, CLIENTS);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // One request (or handshake) per client, made before the window: none inside it.
    assert_eq!(r.requests.total, 0);
    assert!(r.wire.bytes_read > 0);
    assert!(r.drain_s < 2.0, "the tick after the window ended the drain: {}", r.drain_s);
}

#[tokio::test]
async fn sse_accounting_on_a_crafted_stream() {
    crafted_run(Transport::Sse).await;
}

#[tokio::test]
async fn ws_accounting_on_a_crafted_stream() {
    crafted_run(Transport::Ws).await;
}
