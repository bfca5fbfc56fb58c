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

mod seq_set;
pub use seq_set::SeqSet;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use pushlab_contract::Tick;

/// How many histogram/counter groups the clients are spread over. More groups mean
/// less lock contention and more memory (two ~190 kB histograms each).
pub const GROUPS: usize = 16;
/// Largest latency or connect time a histogram holds, in µs (an hour: longer than any
/// run may last); larger values are clamped, never dropped.
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

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// Ticks a gap notice said were evicted before the client could read them: the seqs
/// `after + 1 ..= after + count` (the server counts evicted ticks whatever the filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub after: u64,
    pub count: u64,
}

/// What one group of clients measured. Merged over groups into [`Totals`].
#[derive(Debug)]
pub struct Totals {
    pub latency_us: Histogram<u64>,
    pub connect_us: Histogram<u64>,
    pub delivered: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub gaps: Vec<Gap>,
    pub errors: BTreeMap<&'static str, u64>,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            latency_us: histogram(),
            connect_us: histogram(),
            delivered: 0,
            duplicates: 0,
            out_of_order: 0,
            gaps: Vec::new(),
            errors: BTreeMap::new(),
        }
    }
}

impl Totals {
    fn merge(&mut self, other: &Totals) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency_us.add(&other.latency_us);
        let _ = self.connect_us.add(&other.connect_us);
        self.delivered += other.delivered;
        self.duplicates += other.duplicates;
        self.out_of_order += other.out_of_order;
        self.gaps.extend_from_slice(&other.gaps);
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
    pub requests: AtomicU64,
    /// Poll and long-poll answers with no tick and no gap.
    pub empty: AtomicU64,
    /// Polls answered after their slot had ended.
    pub late: AtomicU64,
    /// Clients that have received a tick scheduled after the window: they have all
    /// of the window that they will get, so the run need not wait for them.
    pub caught_up: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TrafficSnapshot {
    pub bytes_read: u64,
    pub bytes_written: u64,
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
    fn totals(&self) -> std::sync::MutexGuard<'_, Totals> {
        // A panic elsewhere must not take the figures with it.
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Everything measured in one run, shared by all its clients.
#[derive(Debug)]
pub struct Measurement {
    pub window: Window,
    groups: Vec<Arc<Group>>,
}

impl Measurement {
    pub fn new(window: Window) -> Arc<Self> {
        let groups = (0..GROUPS).map(|_| Arc::default()).collect();
        Arc::new(Self { window, groups })
    }

    /// The probe for client number `client`.
    pub fn probe(self: &Arc<Self>, client: usize) -> Probe {
        Probe {
            group: self.groups[client % GROUPS].clone(),
            window: self.window,
            max_seq: 0,
            seen: SeqSet::default(),
            caught_up: false,
        }
    }

    pub fn traffic(&self) -> TrafficSnapshot {
        let mut sum = TrafficSnapshot::default();
        for g in &self.groups {
            sum.bytes_read += g.traffic.bytes_read.load(Relaxed);
            sum.bytes_written += g.traffic.bytes_written.load(Relaxed);
            sum.requests += g.traffic.requests.load(Relaxed);
            sum.empty += g.traffic.empty.load(Relaxed);
            sum.late += g.traffic.late.load(Relaxed);
        }
        sum
    }

    /// How many clients have received a tick scheduled after the window.
    pub fn caught_up(&self) -> u64 {
        self.groups.iter().map(|g| g.traffic.caught_up.load(Relaxed)).sum()
    }

    pub fn totals(&self) -> Totals {
        let mut all = Totals::default();
        for g in &self.groups {
            all.merge(&g.totals());
        }
        all
    }
}

/// One client's view of the measurement: its group, plus what it has seen of its own
/// stream (to tell new, duplicate and out-of-order ticks apart, and to resume).
#[derive(Debug)]
pub struct Probe {
    group: Arc<Group>,
    window: Window,
    max_seq: u64,
    seen: SeqSet,
    caught_up: bool,
}

impl Probe {
    /// The traffic counters this client's counting sockets add to.
    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }

    /// The highest seq received so far (0 before any): the cursor to resume from.
    pub fn cursor(&self) -> Option<u64> {
        (self.max_seq > 0).then_some(self.max_seq)
    }

    /// Ticks received together (one poll answer, one read), all at time `now_us`.
    pub fn ticks<'a>(&mut self, ticks: impl IntoIterator<Item = &'a Tick>) {
        self.record(ticks.into_iter().map(|t| (t.seq, t.ts_us)));
    }

    /// [`Probe::ticks`] for ticks given as their `(seq, ts_us)`, all a stream client
    /// reads of a tick: one read's worth, in the order received.
    pub fn tick_fields(&mut self, ticks: &[(u64, u64)]) {
        if !ticks.is_empty() {
            self.record(ticks.iter().copied());
        }
    }

    fn record(&mut self, ticks: impl Iterator<Item = (u64, u64)>) {
        let now = now_us();
        let mut totals = self.group.totals();
        for (seq, ts_us) in ticks {
            let after_higher = seq < self.max_seq;
            self.max_seq = self.max_seq.max(seq);
            if !self.window.contains(ts_us) {
                if ts_us >= self.window.end_us && !self.caught_up {
                    self.caught_up = true;
                    self.group.traffic.caught_up.fetch_add(1, Relaxed);
                }
                continue;
            }
            if !self.seen.insert(seq) {
                totals.duplicates += 1;
                continue;
            }
            if after_higher {
                totals.out_of_order += 1;
            }
            totals.delivered += 1;
            totals.latency_us.saturating_record(now.saturating_sub(ts_us));
        }
    }

    pub fn tick(&mut self, tick: &Tick) {
        self.ticks(std::iter::once(tick));
    }

    /// A gap notice: `count` ticks after `after` were evicted before this client read them.
    pub fn gap(&mut self, after: u64, count: u64) {
        self.group.totals().gaps.push(Gap { after, count });
        // The server's cursor moved past the evicted ticks; so does ours.
        self.max_seq = self.max_seq.max(after + count);
    }

    pub fn request(&self) {
        self.group.traffic.requests.fetch_add(1, Relaxed);
    }

    /// Time from starting the TCP connect to the first response head / completed handshake.
    pub fn connected(&self, took: Duration) {
        self.group.totals().connect_us.saturating_record(took.as_micros() as u64);
    }

    /// A poll or long-poll answer with no ticks (and no gap).
    pub fn empty(&self) {
        self.group.traffic.empty.fetch_add(1, Relaxed);
    }

    /// A poll whose answer came after its slot had ended (counted, like requests,
    /// between the window's edges).
    pub fn late(&self) {
        self.group.traffic.late.fetch_add(1, Relaxed);
    }

    pub fn error(&self, kind: &'static str) {
        *self.group.totals().errors.entry(kind).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
