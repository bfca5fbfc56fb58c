//! Recovery time: how long a client was without its feed after something broke it.
//!
//! **Definition.** A client *recovers* at the first tick it receives over a connection
//! it opened at or after the fault's instant; its recovery time is that tick's receive
//! time minus the instant, both on the wall clock (µs since the Unix epoch). The instant
//! is the orchestrator's: the timestamp taken just before it sends the signal (SIGTERM,
//! SIGKILL), so the time the old server takes to die, the new one to start, the client to
//! notice, wait out its back-off, reconnect, be told of the reset and be sent a tick are
//! all in it. A tick that still arrives over a connection from before the fault (a
//! draining server answering a held long-poll) is not a recovery: that connection is
//! going away.
//!
//! Stream recycling (`--stream-max-age`) has no single instant: each stream ends at its
//! own age. There each end the client sees *inside the measurement window* is an instant
//! of its own, and the time from it to the first tick over a newer connection is one
//! recovery sample; a client can recover many times.
//!
//! A client that never recovers is counted (`not_recovered`), never dropped from the
//! figures, and one that gave up (`--reconnect none`) is counted as `ended`.
//! [`RecoveryState`] is the per-client arithmetic, pure so a test can give it times
//! with a known answer; [`FaultClock`] is what a run's probes share.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::Window;

/// Which instant a run's recovery times count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Not a fault run: nothing is timed.
    Off,
    /// From one instant for every client, set by the orchestrator when it strikes.
    FromFault,
    /// From each end of a client's connection inside the window (stream recycling).
    FromEachEnd,
}

/// Per 100 ms of a fault run, what the clients did: connections they started,
/// completed and had refused. Atomics: clients add to them while they run.
#[derive(Debug)]
pub struct Timeline {
    /// Wall clock of the first bucket's start, µs since the Unix epoch.
    pub start_us: u64,
    pub step_us: u64,
    buckets: Vec<[AtomicU64; 3]>,
}

/// Which counter of a [`Timeline`] bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectEvent {
    /// A TCP connect was started.
    Attempt = 0,
    /// It completed.
    Connected = 1,
    /// The kernel refused it (ECONNREFUSED: nothing listening).
    Refused = 2,
}

impl Timeline {
    pub fn new(start_us: u64, step_us: u64, buckets: usize) -> Self {
        let buckets = (0..buckets).map(|_| Default::default()).collect();
        Self { start_us, step_us, buckets }
    }

    /// Count `event` at `at_us`; outside the timeline it is not kept.
    pub fn add(&self, event: ConnectEvent, at_us: u64) {
        let Some(since) = at_us.checked_sub(self.start_us) else { return };
        if let Some(bucket) = self.buckets.get((since / self.step_us) as usize) {
            bucket[event as usize].fetch_add(1, Relaxed);
        }
    }

    /// One counter over every bucket, in order.
    pub fn series(&self, event: ConnectEvent) -> Vec<u64> {
        self.buckets.iter().map(|b| b[event as usize].load(Relaxed)).collect()
    }
}

/// What a fault run's probes share: the mode, the fault's instant once it happened,
/// and the connect timeline.
#[derive(Debug)]
pub struct FaultClock {
    pub mode: RecoveryMode,
    /// The fault's instant, µs since the Unix epoch; 0 until it happens.
    fault_us: AtomicU64,
    pub timeline: Option<Timeline>,
}

impl FaultClock {
    pub fn off() -> Self {
        Self { mode: RecoveryMode::Off, fault_us: AtomicU64::new(0), timeline: None }
    }

    pub fn new(mode: RecoveryMode, timeline: Timeline) -> Self {
        Self { mode, fault_us: AtomicU64::new(0), timeline: Some(timeline) }
    }

    /// The orchestrator strikes now: `at_us` is the instant recovery counts from.
    pub fn strike(&self, at_us: u64) {
        self.fault_us.store(at_us, Relaxed);
    }

    pub fn fault_us(&self) -> Option<u64> {
        Some(self.fault_us.load(Relaxed)).filter(|&us| us > 0)
    }

    pub fn connect_event(&self, event: ConnectEvent, at_us: u64) {
        if let Some(t) = &self.timeline {
            t.add(event, at_us);
        }
    }
}

/// One client's recovery bookkeeping. Times are µs since the Unix epoch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryState {
    /// When the client began opening its current connection.
    opened_us: u64,
    /// The instant it is recovering from, if it has not yet.
    down_since_us: Option<u64>,
    /// It recovered from the run's fault ([`RecoveryMode::FromFault`]).
    recovered: bool,
}

impl RecoveryState {
    /// The client starts opening a connection at `at_us`.
    pub fn opening(&mut self, at_us: u64) {
        self.opened_us = at_us;
    }

    /// The client's connection ended at `at_us` (an error, or the server ended it).
    pub fn ended(&mut self, mode: RecoveryMode, window: Window, at_us: u64) {
        if mode == RecoveryMode::FromEachEnd && window.contains(at_us) && self.down_since_us.is_none() {
            self.down_since_us = Some(at_us);
        }
    }

    /// Ticks arrived at `at_us`: the recovery time, if this is the client's recovery.
    pub fn ticks(&mut self, mode: RecoveryMode, fault_us: Option<u64>, at_us: u64) -> Option<u64> {
        let since = match mode {
            RecoveryMode::Off => return None,
            RecoveryMode::FromFault if self.recovered => return None,
            RecoveryMode::FromFault => fault_us?,
            RecoveryMode::FromEachEnd => self.down_since_us?,
        };
        // Over a connection from before the instant: not a recovery.
        if self.opened_us < since {
            return None;
        }
        self.recovered = true;
        self.down_since_us = None;
        Some(at_us.saturating_sub(since))
    }

    /// Whether, at the end of the run, this client is still without its feed.
    pub fn unrecovered(&self, mode: RecoveryMode, fault_us: Option<u64>) -> bool {
        match mode {
            RecoveryMode::Off => false,
            RecoveryMode::FromFault => fault_us.is_some() && !self.recovered,
            RecoveryMode::FromEachEnd => self.down_since_us.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;
    const WINDOW: Window = Window { start_us: 1_000 * MS, end_us: 10_000 * MS };

    #[test]
    fn recovery_counts_from_the_fault_to_the_first_tick_over_a_newer_connection() {
        let fault = Some(3_000 * MS);
        let mut s = RecoveryState::default();
        s.opening(500 * MS);
        assert_eq!(s.ticks(RecoveryMode::FromFault, None, 2_000 * MS), None, "no fault yet");
        // A held long-poll answered by the draining server: an old connection.
        assert_eq!(s.ticks(RecoveryMode::FromFault, fault, 3_010 * MS), None);
        s.ended(RecoveryMode::FromFault, WINDOW, 3_020 * MS);
        s.opening(4_000 * MS);
        assert!(s.unrecovered(RecoveryMode::FromFault, fault));
        assert_eq!(s.ticks(RecoveryMode::FromFault, fault, 4_250 * MS), Some(1_250 * MS));
        assert_eq!(s.ticks(RecoveryMode::FromFault, fault, 4_300 * MS), None, "once per fault");
        assert!(!s.unrecovered(RecoveryMode::FromFault, fault));
    }

    #[test]
    fn recycling_counts_each_end_inside_the_window() {
        let mode = RecoveryMode::FromEachEnd;
        let mut s = RecoveryState::default();
        s.opening(1_100 * MS);
        // An end before the window is not timed.
        s.ended(mode, WINDOW, 900 * MS);
        assert_eq!(s.ticks(mode, None, 1_200 * MS), None);
        s.ended(mode, WINDOW, 3_000 * MS);
        // The error of the reconnect itself does not move the instant.
        s.ended(mode, WINDOW, 3_400 * MS);
        s.opening(3_900 * MS);
        assert_eq!(s.ticks(mode, None, 4_000 * MS), Some(1_000 * MS));
        s.ended(mode, WINDOW, 6_000 * MS);
        s.opening(6_100 * MS);
        assert_eq!(s.ticks(mode, None, 6_350 * MS), Some(350 * MS));
        s.ended(mode, WINDOW, 9_000 * MS);
        assert!(s.unrecovered(mode, None), "down when the run ended");
    }

    #[test]
    fn the_timeline_buckets_by_step_and_drops_what_is_outside() {
        let t = Timeline::new(1_000 * MS, 100 * MS, 3);
        for at in [1_000, 1_099, 1_100, 1_250, 1_299, 1_300, 999] {
            t.add(ConnectEvent::Attempt, at * MS);
        }
        t.add(ConnectEvent::Refused, 1_150 * MS);
        assert_eq!(t.series(ConnectEvent::Attempt), [2, 1, 2]);
        assert_eq!(t.series(ConnectEvent::Refused), [0, 1, 0]);
        assert_eq!(t.series(ConnectEvent::Connected), [0, 0, 0]);
    }
}
