//! One client's probe: what it hands each tick, notice, connection and error to.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use pushlab_contract::{Position, Tick};

use crate::radio::Activity;

use super::{ConnectEvent, EpochLog, FaultClock, Group, RecoveryState, Window, now_us};

/// One client's view of the measurement: its group, plus what it has seen of its own
/// stream (to tell new, duplicate and out-of-order ticks apart, and to resume), per
/// epoch of the server's log.
#[derive(Debug)]
pub struct Probe {
    group: Arc<Group>,
    window: Window,
    clock: Arc<FaultClock>,
    /// The epoch the client is in now.
    log: EpochLog,
    caught_up: bool,
    recovery: RecoveryState,
    /// Connections opened so far.
    opened: u64,
    /// When the client began its first connection, until its first tick arrived (then
    /// `None`: time to first tick is recorded once per client).
    first_open_us: Option<u64>,
    got_first_tick: bool,
    /// When bytes moved on this client's sockets (every connection of it: one phone).
    activity: Arc<Activity>,
    ended: bool,
}

impl Probe {
    pub(super) fn new(
        group: Arc<Group>,
        window: Window,
        clock: Arc<FaultClock>,
        activity: Arc<Activity>,
    ) -> Self {
        Probe {
            group,
            window,
            clock,
            log: EpochLog::new(None),
            caught_up: false,
            recovery: RecoveryState::default(),
            opened: 0,
            first_open_us: None,
            got_first_tick: false,
            activity,
            ended: false,
        }
    }

    /// Where this client's sockets note when bytes moved (the radio model's input).
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// The traffic counters this client's counting sockets add to.
    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }

    /// Where to resume from: `<epoch>-<seq>` once the epoch is known (seq 0 right after
    /// a reset: the whole new run), else the bare highest seq; `None` before anything.
    pub fn cursor(&self) -> Option<Position> {
        match &self.log.epoch {
            Some(epoch) => Some(Position::new(epoch, self.log.max_seq)),
            None => (self.log.max_seq > 0).then_some(Position { epoch: None, seq: self.log.max_seq }),
        }
    }

    /// The epoch the client is in, if known.
    pub fn epoch(&self) -> Option<&str> {
        self.log.epoch.as_deref()
    }

    /// The server named its epoch (a WebSocket hello, a poll body, an SSE id). A
    /// different one than the client's, with no reset notice, is a reset all the same:
    /// its seqs are another run's.
    pub fn learn_epoch(&mut self, epoch: &str) {
        match &self.log.epoch {
            None => self.log.epoch = Some(epoch.to_owned()),
            Some(known) if known == epoch => {}
            Some(_) => self.reset(epoch),
        }
    }

    /// A reset notice: the client's cursor was of another run; what follows is `epoch`'s.
    /// The old epoch's log is handed in; counting starts again (seq 5 of the new run is
    /// not a duplicate of the old run's seq 5).
    pub fn reset(&mut self, epoch: &str) {
        if self.log.epoch.as_deref() == Some(epoch) && self.log.is_fresh() {
            // Already switched (a hello named it first).
            return;
        }
        let mut old = std::mem::replace(&mut self.log, EpochLog::new(Some(epoch.to_owned())));
        old.open = false;
        let mut totals = self.group.totals();
        totals.resets += 1;
        totals.logs.push(old);
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
        let mut any = false;
        for (seq, ts_us) in ticks {
            any = true;
            let log = &mut self.log;
            let after_higher = seq < log.max_seq;
            log.max_seq = log.max_seq.max(seq);
            if !self.window.contains(ts_us) {
                if ts_us >= self.window.end_us && !self.caught_up {
                    self.caught_up = true;
                    self.group.traffic.caught_up.fetch_add(1, Relaxed);
                }
                continue;
            }
            if !log.seen.insert(seq) {
                totals.duplicates += 1;
                continue;
            }
            if after_higher {
                totals.out_of_order += 1;
            }
            totals.delivered += 1;
            totals.latency_us.saturating_record(now.saturating_sub(ts_us));
        }
        if any && !self.got_first_tick {
            // From starting the first connect to the first tick in hand, any window.
            self.got_first_tick = true;
            if let Some(opened) = self.first_open_us {
                totals.first_tick_us.saturating_record(now.saturating_sub(opened));
            }
        }
        if any && let Some(took) = self.recovery.ticks(self.clock.mode, self.clock.fault_us(), now) {
            totals.recovery_us.saturating_record(took);
        }
    }

    pub fn tick(&mut self, tick: &Tick) {
        self.ticks(std::iter::once(tick));
    }

    /// A gap notice: `count` ticks after `after` were evicted before this client read them.
    pub fn gap(&mut self, after: u64, count: u64) {
        self.log.gaps.push((after, count));
        // The server's cursor moved past the evicted ticks; so does ours.
        self.log.max_seq = self.log.max_seq.max(after + count);
    }

    /// A gap notice on a stream: the evicted ticks follow the client's highest seq.
    pub fn gap_after_cursor(&mut self, count: u64) {
        self.gap(self.log.max_seq, count);
    }

    /// The client starts opening a connection (every one after its first is a reconnect).
    pub fn opening(&mut self) {
        let now = now_us();
        if self.opened > 0 {
            self.group.traffic.reconnects.fetch_add(1, Relaxed);
        }
        self.opened += 1;
        self.first_open_us.get_or_insert(now);
        self.recovery.opening(now);
        self.clock.connect_event(ConnectEvent::Attempt, now);
    }

    /// The TCP connect completed.
    pub fn tcp_connected(&self) {
        self.clock.connect_event(ConnectEvent::Connected, now_us());
    }

    /// The client's connection ended: an error, or the server ended the stream.
    pub fn connection_ended(&mut self) {
        self.recovery.ended(self.clock.mode, self.window, now_us());
    }

    /// The client gives up (`--reconnect none`): it is counted as ended, and the epoch
    /// it was in ends at its last tick.
    pub fn ended(&mut self) {
        if !self.ended {
            self.ended = true;
            self.log.open = false;
            self.group.traffic.ended.fetch_add(1, Relaxed);
        }
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
        if kind == "connect_refused" {
            self.clock.connect_event(ConnectEvent::Refused, now_us());
        }
        *self.group.totals().errors.entry(kind).or_default() += 1;
    }
}

/// A client leaving hands in the log of the epoch it is in, and whether it recovered.
impl Drop for Probe {
    fn drop(&mut self) {
        let unrecovered = self.recovery.unrecovered(self.clock.mode, self.clock.fault_us());
        let mut totals = self.group.totals();
        totals.logs.push(std::mem::take(&mut self.log));
        totals.clients_reported += 1;
        if self.ended {
            totals.ended += 1;
        } else if unrecovered {
            totals.not_recovered += 1;
        }
    }
}
