//! What each transport has served, and what happened to TCP connections: relaxed
//! atomic tallies, bumped by the handlers and the connection layer, read by
//! `/api/stats` and `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use pushlab_contract::{ConnectionStats, Transport, TransportStats, TransportsStats};

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

/// What happened to TCP connections (SPEC §8), whatever they carried. Relaxed atomics,
/// as above; `open` is a gauge kept by the connection layer's slots.
#[derive(Debug, Default)]
pub struct ConnectionCounters {
    pub(crate) open: AtomicU64,
    accepted: AtomicU64,
    refused_at_cap: AtomicU64,
    header_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    streams_recycled: AtomicU64,
    /// TLS handshakes and HTTP/2 streams (`--tls`).
    pub(crate) tls: std::sync::Arc<crate::tls::TlsCounters>,
}

impl ConnectionCounters {
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused_at_cap(&self) {
        self.refused_at_cap.fetch_add(1, Ordering::Relaxed);
    }

    pub fn header_timeout(&self) {
        self.header_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn idle_timeout(&self) {
        self.idle_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// An SSE stream or a WebSocket ended by `--stream-max-age`.
    pub fn stream_recycled(&self) {
        self.streams_recycled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ConnectionStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ConnectionStats {
            open: read(&self.open),
            accepted: read(&self.accepted),
            refused_at_cap: read(&self.refused_at_cap),
            header_timeouts: read(&self.header_timeouts),
            idle_timeouts: read(&self.idle_timeouts),
            streams_recycled: read(&self.streams_recycled),
            tls: self.tls.snapshot(),
        }
    }
}
