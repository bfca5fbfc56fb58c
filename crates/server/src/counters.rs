//! What each transport has served: relaxed atomic tallies, bumped by the handlers and
//! read by `/api/stats` and `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use pushlab_contract::{Transport, TransportStats, TransportsStats};

/// Counters of one transport. Relaxed atomics: each is an independent tally, read
/// for reporting, never used to synchronise anything.
#[derive(Debug, Default)]
pub struct TransportCounters {
    active: AtomicU64,
    requests: AtomicU64,
    ticks_sent: AtomicU64,
    bytes_sent: AtomicU64,
}

impl TransportCounters {
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// `ticks` ticks in `bytes` bytes of body or message payload were written.
    pub fn sent(&self, ticks: usize, bytes: usize) {
        self.ticks_sent.fetch_add(ticks as u64, Ordering::Relaxed);
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// One more request being served (the state's `Active` guard pairs it
    /// with `leave`).
    pub(crate) fn enter(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn leave(&self) {
        self.active.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> TransportStats {
        TransportStats {
            active: self.active.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            ticks_sent: self.ticks_sent.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
        }
    }
}

/// One set of counters per transport.
#[derive(Debug, Default)]
pub struct Counters {
    poll: TransportCounters,
    long_poll: TransportCounters,
    sse: TransportCounters,
    ws: TransportCounters,
}

impl Counters {
    pub fn of(&self, transport: Transport) -> &TransportCounters {
        match transport {
            Transport::Poll => &self.poll,
            Transport::LongPoll => &self.long_poll,
            Transport::Sse => &self.sse,
            Transport::Ws => &self.ws,
        }
    }

    pub fn snapshot(&self) -> TransportsStats {
        TransportsStats {
            poll: self.poll.snapshot(),
            long_poll: self.long_poll.snapshot(),
            sse: self.sse.snapshot(),
            ws: self.ws.snapshot(),
        }
    }
}
