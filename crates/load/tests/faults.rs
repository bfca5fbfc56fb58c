//! Each fault end to end against the real `pushlab-server`: a crash and a graceful
//! restart (one reset per client, nothing lost within an epoch, every client back),
//! stream recycling (no reset, nothing lost, nothing twice), `--reconnect none`
//! (clients end), and jitter spreading a crowd's reconnects where a fixed delay
//! bunches them. Counts are exact; timings only ordered or loosely bounded, since the
//! machine is shared.

mod common;

use std::time::Duration;

use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_load::clients::Reconnect;
use pushlab_load::faults::strike::{self, Bench};
use pushlab_load::faults::{Fault, FaultStep};
use pushlab_load::results::FaultRecord;
use pushlab_load::scenario::Knobs;

const CLIENTS: usize = 10;

fn step(fault: Fault, transport: Transport, clients: usize, reconnect: Reconnect) -> FaultStep {
    FaultStep {
        fault,
        transport,
        clients,
        rate: 20.0,
        reconnect,
        ramp: Duration::from_millis(200),
        window: Duration::from_secs(3),
        stream_max_age: (fault == Fault::Recycle).then_some(Duration::from_millis(800)),
    }
}

async fn fault_run(step: FaultStep) -> FaultRecord {
    let knobs = Knobs {
        settle: Duration::from_millis(300),
        poll_interval: Duration::from_millis(200),
        ..Knobs::default()
    };
    let server_args = ["--log", "warn", "--rate", &step.rate.to_string()].map(String::from).to_vec();
    let bin = common::server_binary();
    let bench = Bench { knobs: &knobs, bin: &bin, server_args };
    strike::run(&step, &bench, &ProgressBar::hidden()).await.unwrap()
}

/// Across a restart every client is told once that its cursor was of another run, gets
/// the new run from its start, and loses nothing of either run it could still ask for.
async fn one_reset_each_and_nothing_lost(fault: Fault, transport: Transport) {
    let r = fault_run(step(fault, transport, CLIENTS, Reconnect::Jitter)).await;
    let n = CLIENTS as u64;
    assert_eq!(r.reconnect.resets, n, "{r:#?}");
    assert_eq!((r.ticks.lost, r.ticks.duplicates, r.ticks.out_of_order), (0, 0, 0), "{r:#?}");
    assert_eq!((r.recovery.count, r.recovery.not_recovered, r.reconnect.ended), (n, 0, 0), "{r:#?}");
    assert!(r.reconnect.attempts >= n, "each client reconnected at least once: {r:#?}");
    // The old run's last ticks before a SIGKILL may be past the reference's last read
    // (at most 100 ms of them): delivered, and neither expected nor lost.
    assert!(r.ticks.expected > 0 && r.ticks.delivered >= r.ticks.expected, "{r:#?}");
    // Recovered within the window's 2 s after the fault: a back-off of at most 1 s
    // (SSE: its retry: of 1 s) and a server start.
    assert!(r.recovery.max_us < 2_000_000 + 1_000_000, "{r:#?}");
    assert!(!r.errors.contains_key("delivered_exceeds_expected"), "{r:#?}");
}

#[tokio::test]
async fn sse_across_a_crash() {
    one_reset_each_and_nothing_lost(Fault::Crash, Transport::Sse).await;
}

#[tokio::test]
async fn ws_across_a_crash() {
    one_reset_each_and_nothing_lost(Fault::Crash, Transport::Ws).await;
}

#[tokio::test]
async fn long_poll_across_a_crash() {
    one_reset_each_and_nothing_lost(Fault::Crash, Transport::LongPoll).await;
}

#[tokio::test]
async fn poll_across_a_crash() {
    one_reset_each_and_nothing_lost(Fault::Crash, Transport::Poll).await;
}

#[tokio::test]
async fn sse_across_a_graceful_restart() {
    one_reset_each_and_nothing_lost(Fault::Restart, Transport::Sse).await;
}

#[tokio::test]
async fn ws_across_a_graceful_restart() {
    one_reset_each_and_nothing_lost(Fault::Restart, Transport::Ws).await;
}

#[tokio::test]
async fn long_poll_across_a_graceful_restart() {
    one_reset_each_and_nothing_lost(Fault::Restart, Transport::LongPoll).await;
}

/// Recycled streams resume from their cursor in the same run: no reset, nothing lost
/// or twice, and every recycle the server counted was a reconnect of ours.
async fn recycled_without_loss(transport: Transport) {
    let r = fault_run(step(Fault::Recycle, transport, CLIENTS, Reconnect::Jitter)).await;
    assert_eq!(r.reconnect.resets, 0, "{r:#?}");
    assert_eq!((r.ticks.lost, r.ticks.duplicates, r.ticks.out_of_order), (0, 0, 0), "{r:#?}");
    let recycled = r.server_streams_recycled.expect("the server counts recycled streams");
    // 0.8 s ± 10 % over the run: every stream recycled more than once in 3.5 s.
    assert!(recycled >= 2 * CLIENTS as u64, "{r:#?}");
    // A recycle the run's end cut short is one reconnect fewer, at most one per client.
    let attempts = r.reconnect.attempts;
    assert!(attempts <= recycled && attempts + CLIENTS as u64 >= recycled, "{r:#?}");
    assert!(r.recovery.count >= CLIENTS as u64, "{r:#?}");
    assert_eq!(r.recovery.not_recovered, 0, "{r:#?}");
}

#[tokio::test]
async fn sse_streams_recycled() {
    recycled_without_loss(Transport::Sse).await;
}

#[tokio::test]
async fn ws_streams_recycled() {
    recycled_without_loss(Transport::Ws).await;
}

#[tokio::test]
async fn clients_that_do_not_reconnect_end() {
    let r = fault_run(step(Fault::Crash, Transport::Sse, CLIENTS, Reconnect::None)).await;
    let n = CLIENTS as u64;
    assert_eq!((r.reconnect.ended, r.reconnect.attempts, r.reconnect.resets), (n, 0, 0), "{r:#?}");
    assert_eq!((r.recovery.count, r.recovery.not_recovered), (0, 0), "ended, not unrecovered: {r:#?}");
    // Their epoch ended at their last tick: nothing of it is lost, and the new run's
    // ticks were never theirs to expect.
    assert_eq!(r.ticks.lost, 0, "{r:#?}");
    assert_eq!(
        r.errors.get("closed_by_server").copied().unwrap_or(0) + r.errors.get("http").copied().unwrap_or(0),
        n,
        "{:?}",
        r.errors
    );
}

/// The largest share of the reconnect attempts after the fault that fell into any two
/// adjacent 100 ms steps.
fn bunching(r: &FaultRecord) -> f64 {
    let t = &r.timeline;
    let from = (t.strike_ms.unwrap() / t.step_ms) as usize;
    let after = &t.attempts[from..];
    let total: u64 = after.iter().sum();
    let densest = after.windows(2).map(|w| w[0] + w[1]).max().unwrap_or(0);
    densest as f64 / total.max(1) as f64
}

#[tokio::test]
async fn jitter_spreads_a_crowds_reconnects_where_a_fixed_delay_bunches_them() {
    const CROWD: usize = 200;
    let fixed = fault_run(step(Fault::Crash, Transport::Ws, CROWD, Reconnect::Fixed)).await;
    let jitter = fault_run(step(Fault::Crash, Transport::Ws, CROWD, Reconnect::Jitter)).await;
    for r in [&fixed, &jitter] {
        assert_eq!(
            (r.reconnect.resets, r.ticks.lost, r.recovery.not_recovered),
            (CROWD as u64, 0, 0),
            "{r:#?}"
        );
    }
    let (b_fixed, b_jitter) = (bunching(&fixed), bunching(&jitter));
    // A fixed 1 s: the crowd is back in one burst. Full jitter over [0, 1 s]: about a
    // fifth of it per 200 ms.
    assert!(b_fixed > 0.8, "fixed: {b_fixed:.2} of the attempts in 200 ms: {:?}", fixed.timeline.attempts);
    assert!(
        b_jitter < 0.5,
        "jitter: {b_jitter:.2} of the attempts in 200 ms: {:?}",
        jitter.timeline.attempts
    );
    let (p_fixed, p_jitter) = (fixed.peak.connects_per_s.unwrap(), jitter.peak.connects_per_s.unwrap());
    assert!(p_fixed > 2.0 * p_jitter, "peak connects/s fixed {p_fixed} vs jitter {p_jitter}");
}

#[tokio::test]
async fn poll_across_a_graceful_restart() {
    one_reset_each_and_nothing_lost(Fault::Restart, Transport::Poll).await;
}
