//! Polling: ask "anything since seq N?" every interval, whether or not anything changed.
//!
//! Each client keeps one keep-alive HTTP/1.1 connection and sends `GET /api/poll?since=N`
//! on a fixed schedule from a random phase: open-loop, never "sleep after the answer",
//! so a slow server cannot quietly lower the request rate. A tick waits on average half
//! an interval for the next poll, so latency ≈ interval / 2; every poll costs a full
//! request and response even when the answer is empty, so requests grow with clients
//! ÷ interval while the useful data stays the same.
//!
//! A failed poll backs off as the reconnect policy says before the next slot (with
//! `--reconnect fixed` the next slot is the retry): polls are spread over the interval
//! by their random phases already, so a poller's crowd has no herd to spread.

use std::time::Instant;

use tokio::time::MissedTickBehavior;

use super::Client;

/// The open-loop poll schedule of one client.
pub async fn run(mut c: Client) {
    let interval = c.settings.spec.knobs.poll_interval;
    let cancel = c.cancel.clone();
    let mut sender = None;
    let mut cursor = None;
    // The first poll is the client's connect: it gets the latest ticks and the head.
    if let Err(e) = c.ask(&mut sender, "/api/poll", &[], &mut cursor).await
        && !c.failed(&e).await
    {
        return;
    }
    let phase = interval.mul_f64(rand::random::<f64>());
    let mut slots = tokio::time::interval_at((Instant::now() + phase).into(), interval);
    // A poll that overruns its slot is counted late; the slots it overran are skipped
    // (one connection cannot send two requests at once), never sent in a burst.
    slots.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        let slot = tokio::select! {
            _ = c.cancel.cancelled() => return,
            slot = slots.tick() => slot,
        };
        // After an overrun, `tick` hands back the slot that passed meanwhile: skip it
        // (the late poll was counted) rather than poll the moment the answer came,
        // which would turn the schedule into "poll after the answer".
        if tokio::time::Instant::now() >= slot + interval {
            continue;
        }
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = c.ask(&mut sender, "/api/poll", &[], &mut cursor) => r,
        };
        if tokio::time::Instant::now() > slot + interval {
            c.probe.late();
        }
        if let Err(e) = result
            && !c.failed(&e).await
        {
            return;
        }
    }
}
