//! The measuring over emulated links, against the real server in-process: the lessons
//! of the conditions preset on known answers (loose bounds: the machine is noisy), and
//! the radio model fed the timings a run really made.

use std::time::Duration;

use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_load::results::RunRecord;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::{Knobs, RunSpec};

mod in_process;
use in_process::{Server, server};

async fn over(server: &Server, transport: Transport, link: &str, poll_interval: Duration) -> RunRecord {
    let knobs = Knobs {
        poll_interval,
        ramp: Duration::from_millis(200),
        // Two round trips to connect (the handshake, then the first answer).
        settle: Duration::from_millis(800),
        duration: Duration::from_secs(4),
        link: Some(link.into()),
        ..Knobs::default()
    };
    let spec = RunSpec { transport, clients: 10, knobs };
    let under_test = ServerUnderTest { target: server.target.clone(), pid: None };
    let record = run(&spec, &under_test, &ProgressBar::hidden()).await.unwrap();
    eprintln!("{transport} over {link}: p50 {} µs, p99 {} µs", record.latency_us.p50, record.latency_us.p99);
    record
}

fn ms(us: u64) -> f64 {
    us as f64 / 1e3
}

/// A tick waits for the next poll to reach the server (0..1 s, 500 ms on average),
/// then the answer's one-way trip (100 ms): about 600 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_every_second_over_a_200ms_link_takes_half_the_interval_plus_one_way() {
    let server = server(&["--rate", "20"]).await;
    let r = over(&server, Transport::Poll, "rtt=200ms", Duration::from_secs(1)).await;
    let p50 = ms(r.latency_us.p50);
    assert!((540.0..=680.0).contains(&p50), "p50 {p50} ms, expected about 600");
    assert_eq!((r.ticks.lost, r.ticks.out_of_order), (0, 0));
    let link = r.link.expect("a link record");
    assert_eq!((link.figures.rtt_ms, link.figures.name.as_str()), (200.0, "custom"));
    assert!(link.segments > 0 && link.segments_lost == 0, "{link:?}");
}

/// Ticks every 50 ms, faster than a 200 ms round trip: SSE pays one way (100 ms); a
/// long-poll answer carries what waited at the server for the next request, which comes
/// a round trip after the previous answer left: ~100 ms of waiting plus 100 ms of trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_pays_a_round_trip_per_answer_where_sse_pays_one_way() {
    let server = server(&["--rate", "20"]).await;
    let sse = over(&server, Transport::Sse, "rtt=200ms", Duration::from_secs(1)).await;
    let long_poll = over(&server, Transport::LongPoll, "rtt=200ms", Duration::from_secs(1)).await;
    // The first tick: a round trip of handshake, the request's way up, the answer's way
    // down (400 ms), and up to one tick interval (50 ms) for the next tick.
    let first = ms(sse.connect.first_tick_p50_us);
    assert!((390.0..=500.0).contains(&first), "SSE first tick p50 {first} ms, expected 400–450");
    let (sse, lp) = (ms(sse.latency_us.p50), ms(long_poll.latency_us.p50));
    assert!((95.0..=125.0).contains(&sse), "SSE p50 {sse} ms, expected about 100");
    assert!((170.0..=260.0).contains(&lp), "long-poll p50 {lp} ms, expected about 200");
    // About 1 request per round trip per client over the 4 s window: 10 × 4 s / 0.2 s.
    assert!((150..=220).contains(&long_poll.requests.total), "{}", long_poll.requests.total);
}

/// The radio model on a run's own timings: a busy stream (20 ticks/s) never lets an LTE
/// radio sleep, so it is active the whole window with no wake-up inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_stream_keeps_the_radio_up_the_whole_window() {
    let server = server(&["--rate", "20"]).await;
    let r = over(&server, Transport::Ws, "4g", Duration::from_secs(1)).await;
    let radio = r.radio.expect("radio figures");
    assert!((radio.lte_active_s_per_min - 60.0).abs() < 0.01, "{radio:?}");
    assert_eq!(radio.lte_wakeups_per_min, 0.0, "woken before the window, never idle in it");
    // 1,060 mW for the whole hour: 3,816 J.
    assert!((radio.lte_j_per_hour - 3816.0).abs() < 1.0, "{radio:?}");
}
