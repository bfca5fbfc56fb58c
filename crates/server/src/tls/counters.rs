//! What TLS connections did, for `/api/stats` (`connections.tls`) and `/metrics`:
//! handshakes, their failures and timeouts, connections by protocol, HTTP/2 streams.

use std::sync::atomic::{AtomicU64, Ordering};

use pushlab_contract::TlsStats;

/// Relaxed atomics, like every counter of the server: tallies read for reporting.
#[derive(Debug, Default)]
pub struct TlsCounters {
    handshakes: AtomicU64,
    handshake_failures: AtomicU64,
    handshake_timeouts: AtomicU64,
    h2_connections_open: AtomicU64,
    h1_connections_open: AtomicU64,
    h2_streams_open: AtomicU64,
    h2_streams: AtomicU64,
}

/// Which gauge a guard holds one of.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gauge {
    H2Connection,
    H1Connection,
    H2Stream,
}

impl TlsCounters {
    pub(crate) fn handshake(&self) {
        self.handshakes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn handshake_failure(&self) {
        self.handshake_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn handshake_timeout(&self) {
        self.handshake_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    fn gauge(&self, gauge: Gauge) -> &AtomicU64 {
        match gauge {
            Gauge::H2Connection => &self.h2_connections_open,
            Gauge::H1Connection => &self.h1_connections_open,
            Gauge::H2Stream => &self.h2_streams_open,
        }
    }

    /// One more of `gauge` open; the count goes down when the guard is dropped.
    pub(crate) fn open(self: &std::sync::Arc<Self>, gauge: Gauge) -> Open {
        self.gauge(gauge).fetch_add(1, Ordering::Relaxed);
        if let Gauge::H2Stream = gauge {
            self.h2_streams.fetch_add(1, Ordering::Relaxed);
        }
        Open { counters: self.clone(), gauge }
    }

    pub fn snapshot(&self) -> TlsStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TlsStats {
            handshakes: read(&self.handshakes),
            handshake_failures: read(&self.handshake_failures),
            handshake_timeouts: read(&self.handshake_timeouts),
            h2_connections_open: read(&self.h2_connections_open),
            h1_connections_open: read(&self.h1_connections_open),
            h2_streams_open: read(&self.h2_streams_open),
            h2_streams: read(&self.h2_streams),
        }
    }
}

/// One open connection or stream, counted until dropped.
#[derive(Debug)]
pub(crate) struct Open {
    counters: std::sync::Arc<TlsCounters>,
    gauge: Gauge,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.counters.gauge(self.gauge).fetch_sub(1, Ordering::Relaxed);
    }
}
