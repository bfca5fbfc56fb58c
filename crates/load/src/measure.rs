//! The measuring code, written once and used by every client module.
//!
//! A client never does arithmetic on figures: it hands each tick, gap notice, request
//! and error to its [`Probe`], which decides what counts. That keeps the four client
//! modules about transports only, and the figures comparable across them.
//!
//! Clients are spread over [`GROUPS`] groups. Each group owns one latency histogram and
//! one set of counters behind a std `Mutex` (nothing awaits while it is held): a
//! 3-significant-digit histogram is ~190 kB, so one per connection would cost ~3.6 GB
//! at 19,000 clients. Groups are merged once, after the run.
//!
//! Ticks are told apart within an epoch of the server's log ([`epochs`]): a probe keeps
//! one log per epoch it was served and hands each in as it leaves it (a reset) or the
//! run (dropped). A fault run's probes also time each client's recovery ([`recovery`]).

pub mod epochs;
mod probe;
pub mod recovery;
mod seq_set;
pub use epochs::{Accounting, EpochLog, account};
pub use probe::Probe;
pub use recovery::{ConnectEvent, FaultClock, RecoveryMode, RecoveryState, Timeline};
pub use seq_set::SeqSet;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::radio::Activity;

/// How many histogram/counter groups the clients are spread over. More groups mean
/// less lock contention and more memory (three ~190 kB histograms each).
pub const GROUPS: usize = 16;
/// Largest latency, connect or recovery time a histogram holds, in µs (an hour: longer
/// than any run may last); larger values are clamped, never dropped.
const HISTOGRAM_MAX_US: u64 = 3_600_000_000;
/// hdrhistogram precision, as SPEC §4 asks.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Wall-clock microseconds since the Unix epoch: the clock `ts_us` is on.
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// The measurement window, on the ticks' own clock: a tick belongs to the window when
/// its *scheduled* time `ts_us` falls in `[start_us, end_us)`, however late it arrives.
/// Delivered and expected are both counted this way, so they cover the same set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_us: u64,
    pub end_us: u64,
}

impl Window {
    pub fn contains(&self, ts_us: u64) -> bool {
        (self.start_us..self.end_us).contains(&ts_us)
    }

    pub fn seconds(&self) -> f64 {
        (self.end_us - self.start_us) as f64 / 1e6
    }
}

pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// What one group of clients measured. Merged over groups into [`Totals`].
#[derive(Debug)]
pub struct Totals {
    pub latency_us: Histogram<u64>,
    pub connect_us: Histogram<u64>,
    /// Per client, from starting its first connect to its first tick.
    pub first_tick_us: Histogram<u64>,
    /// Recovery times ([`recovery`]), one per recovery.
    pub recovery_us: Histogram<u64>,
    pub delivered: u64,
    /// Within an epoch: a tick of another run with the same seq is another tick.
    pub duplicates: u64,
    pub out_of_order: u64,
    /// Every client's log of every epoch it was served, handed in as it leaves one.
    pub logs: Vec<EpochLog>,
    /// Reset notices: the server said a client's cursor was of another run.
    pub resets: u64,
    /// Clients still without their feed when the run ended (a fault run's).
    pub not_recovered: u64,
    /// Clients that gave up (`--reconnect none`).
    pub ended: u64,
    /// Clients whose probe has handed in its last log.
    pub clients_reported: u64,
    pub errors: BTreeMap<&'static str, u64>,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            latency_us: histogram(),
            connect_us: histogram(),
            first_tick_us: histogram(),
            recovery_us: histogram(),
            delivered: 0,
            duplicates: 0,
            out_of_order: 0,
            logs: Vec::new(),
            resets: 0,
            not_recovered: 0,
            ended: 0,
            clients_reported: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl Totals {
    fn merge(&mut self, other: &Totals) {
        // Same bounds on every side, so adding cannot fail.
        let _ = self.latency_us.add(&other.latency_us);
        let _ = self.connect_us.add(&other.connect_us);
        let _ = self.first_tick_us.add(&other.first_tick_us);
        let _ = self.recovery_us.add(&other.recovery_us);
        self.delivered += other.delivered;
        self.duplicates += other.duplicates;
        self.out_of_order += other.out_of_order;
        self.logs.extend_from_slice(&other.logs);
        self.resets += other.resets;
        self.not_recovered += other.not_recovered;
        self.ended += other.ended;
        self.clients_reported += other.clients_reported;
        for (kind, n) in &other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
    }
}

/// Byte and request counters, read at the window's edges while clients run: atomics,
/// so taking a snapshot never waits for a client.
#[derive(Debug, Default)]
pub struct Traffic {
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
    /// Over TLS, the bytes above it (HTTP/1.1 or HTTP/2 frames): the wire less TLS's own.
    pub plaintext_read: AtomicU64,
    pub plaintext_written: AtomicU64,
    /// Over HTTP/2, the bytes above TLS by frame type, both directions ([`crate::h2_frames`]).
    pub h2_headers: AtomicU64,
    pub h2_data: AtomicU64,
    pub h2_control: AtomicU64,
    pub requests: AtomicU64,
    /// Poll and long-poll answers with no tick and no gap.
    pub empty: AtomicU64,
    /// Polls answered after their slot had ended.
    pub late: AtomicU64,
    /// Clients that have received a tick scheduled after the window: they have all
    /// of the window that they will get, so the run need not wait for them.
    pub caught_up: AtomicU64,
    /// Connections opened after a client's first (whole run).
    pub reconnects: AtomicU64,
    /// Clients that gave up: nothing more will come to them either.
    pub ended: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TrafficSnapshot {
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub plaintext_read: u64,
    pub plaintext_written: u64,
    pub h2_frames: crate::h2_frames::FrameBytes,
    pub requests: u64,
    pub empty: u64,
    pub late: u64,
}

impl std::ops::Sub for TrafficSnapshot {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self {
            bytes_read: self.bytes_read - rhs.bytes_read,
            bytes_written: self.bytes_written - rhs.bytes_written,
            plaintext_read: self.plaintext_read - rhs.plaintext_read,
            plaintext_written: self.plaintext_written - rhs.plaintext_written,
            h2_frames: crate::h2_frames::FrameBytes {
                headers: self.h2_frames.headers - rhs.h2_frames.headers,
                data: self.h2_frames.data - rhs.h2_frames.data,
                control: self.h2_frames.control - rhs.h2_frames.control,
            },
            requests: self.requests - rhs.requests,
            empty: self.empty - rhs.empty,
            late: self.late - rhs.late,
        }
    }
}

#[derive(Debug, Default)]
pub struct Group {
    totals: Mutex<Totals>,
    pub traffic: Traffic,
}

impl Group {
    pub(crate) fn totals(&self) -> std::sync::MutexGuard<'_, Totals> {
        // A panic elsewhere must not take the figures with it.
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Everything measured in one run, shared by all its clients.
#[derive(Debug)]
pub struct Measurement {
    pub window: Window,
    groups: Vec<Arc<Group>>,
    clock: Arc<FaultClock>,
    /// Every client's socket activity, for the radio model after the run.
    activities: Mutex<Vec<Arc<Activity>>>,
}

impl Measurement {
    pub fn new(window: Window) -> Arc<Self> {
        Self::with_clock(window, FaultClock::off())
    }

    /// A fault run's measurement: recovery timed on `clock`.
    pub fn with_clock(window: Window, clock: FaultClock) -> Arc<Self> {
        let groups = (0..GROUPS).map(|_| Arc::default()).collect();
        Arc::new(Self { window, groups, clock: Arc::new(clock), activities: Mutex::default() })
    }

    pub fn clock(&self) -> &FaultClock {
        &self.clock
    }

    /// The probe for client number `client`.
    pub fn probe(self: &Arc<Self>, client: usize) -> Probe {
        let activity = Arc::new(Activity::default());
        self.activities.lock().unwrap_or_else(PoisonError::into_inner).push(activity.clone());
        Probe::new(self.groups[client % GROUPS].clone(), self.window, self.clock.clone(), activity)
    }

    /// Every client's bursts of socket activity, for the radio model.
    pub fn activity_timelines(&self) -> Vec<Vec<(u64, u64)>> {
        let activities = self.activities.lock().unwrap_or_else(PoisonError::into_inner);
        activities.iter().map(|a| a.bursts()).collect()
    }

    pub fn traffic(&self) -> TrafficSnapshot {
        let mut sum = TrafficSnapshot::default();
        for g in &self.groups {
            sum.bytes_read += g.traffic.bytes_read.load(Relaxed);
            sum.bytes_written += g.traffic.bytes_written.load(Relaxed);
            sum.plaintext_read += g.traffic.plaintext_read.load(Relaxed);
            sum.plaintext_written += g.traffic.plaintext_written.load(Relaxed);
            sum.h2_frames.headers += g.traffic.h2_headers.load(Relaxed);
            sum.h2_frames.data += g.traffic.h2_data.load(Relaxed);
            sum.h2_frames.control += g.traffic.h2_control.load(Relaxed);
            sum.requests += g.traffic.requests.load(Relaxed);
            sum.empty += g.traffic.empty.load(Relaxed);
            sum.late += g.traffic.late.load(Relaxed);
        }
        sum
    }

    fn sum(&self, counter: impl Fn(&Traffic) -> &AtomicU64) -> u64 {
        self.groups.iter().map(|g| counter(&g.traffic).load(Relaxed)).sum()
    }

    /// How many clients have received a tick scheduled after the window.
    pub fn caught_up(&self) -> u64 {
        self.sum(|t| &t.caught_up)
    }

    /// Clients that have all they will get: caught up, or given up.
    pub fn settled(&self) -> u64 {
        self.caught_up() + self.sum(|t| &t.ended)
    }

    /// Connections the clients opened after their first, so far.
    pub fn reconnects(&self) -> u64 {
        self.sum(|t| &t.reconnects)
    }

    pub fn totals(&self) -> Totals {
        let mut all = Totals::default();
        for g in &self.groups {
            all.merge(&g.totals());
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab_contract::Tick;

    fn tick(seq: u64, ts_us: u64) -> Tick {
        Tick { seq, symbol: "ACME".into(), price: 1.0, ts_us, pad: None }
    }

    fn run(window: Window, seqs: &[(u64, u64)]) -> Totals {
        let m = Measurement::new(window);
        let mut probe = m.probe(0);
        let ticks: Vec<Tick> = seqs.iter().map(|&(s, ts)| tick(s, ts)).collect();
        probe.ticks(&ticks);
        m.totals()
    }

    #[test]
    fn duplicates_and_out_of_order_are_told_apart() {
        let all = Window { start_us: 0, end_us: u64::MAX };
        // 3 arrives after 4 (out of order, once), 2 and 4 arrive twice (duplicates).
        let t = run(all, &[(1, 1), (2, 2), (4, 4), (2, 2), (3, 3), (4, 4), (5, 5)]);
        assert_eq!((t.delivered, t.duplicates, t.out_of_order), (5, 2, 1));
    }

    #[test]
    fn only_ticks_scheduled_inside_the_window_count() {
        let w = Window { start_us: 10, end_us: 20 };
        let t = run(w, &[(1, 9), (2, 10), (3, 19), (4, 20), (3, 19)]);
        assert_eq!((t.delivered, t.duplicates), (2, 1));
        assert_eq!(t.latency_us.len(), 2);
    }

    #[test]
    fn a_client_is_caught_up_once_it_sees_a_tick_after_the_window() {
        let m = Measurement::new(Window { start_us: 10, end_us: 20 });
        let (mut a, mut b) = (m.probe(0), m.probe(1));
        a.tick(&tick(1, 19));
        assert_eq!(m.caught_up(), 0);
        a.tick(&tick(2, 20));
        a.tick(&tick(3, 21));
        b.tick(&tick(2, 20));
        assert_eq!(m.caught_up(), 2, "each client counts once");
    }

    #[test]
    fn groups_merge_into_one_histogram() {
        let m = Measurement::new(Window { start_us: 0, end_us: u64::MAX });
        for client in 0..GROUPS * 2 {
            let mut p = m.probe(client);
            p.tick(&tick(client as u64 + 1, 1));
            p.error("io");
        }
        let t = m.totals();
        assert_eq!(t.delivered, (GROUPS * 2) as u64);
        assert_eq!(t.latency_us.len(), (GROUPS * 2) as u64);
        assert_eq!(t.errors["io"], (GROUPS * 2) as u64);
    }
}
