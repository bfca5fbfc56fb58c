//! The fault lab: what each transport's clients go through when the server does not
//! stay up, and how long they take to come back (`compare --preset faults`).
//!
//! Each fault is one run of its own against a fresh server on its own port:
//!
//! ```text
//! |-- ramp --|-- settle --|== window: 1 s ==X== the clients recover ======|-- drain --|
//!                                           ^ the fault strikes
//! ```
//!
//! - [`Fault::Restart`]: SIGTERM (the server drains: streams end with their connection),
//!   wait for it to exit, start a new server on the same address: a new epoch.
//! - [`Fault::Crash`]: SIGKILL, then a new server the same way.
//! - [`Fault::Recycle`]: no signal; the server runs with `--stream-max-age`, so every SSE
//!   stream and WebSocket is ended after about that age and resumed from its cursor.
//!   Polling has no long-lived stream to recycle: not applicable.
//! - [`Fault::Storm`]: a crash with [`STORM_CLIENTS`] connected, once with jitter and
//!   once with a fixed delay: the thundering herd, and what spreading it buys.
//!
//! The figures ([`crate::results::FaultRecord`]): recovery time ([`crate::measure::recovery`]
//! defines it), ticks lost within an epoch, resets, duplicates, reconnect attempts,
//! refused connects and 503s, and the serving process's CPU and the clients' connects,
//! 100 ms at a time, with their peaks after the fault. [`strike`] runs one.

pub mod strike;

use std::time::Duration;

use pushlab_contract::Transport;
use serde::{Deserialize, Serialize};

use crate::clients::Reconnect;

/// Clients of the restart, crash and recycling runs.
pub const FAULT_CLIENTS: usize = 100;
/// Their tick rate, ticks/s: a tick every 50 ms, so waiting for the new run's first
/// tick adds little to the recovery time.
pub const FAULT_RATE: f64 = 20.0;
/// Clients dropped at once in a storm.
pub const STORM_CLIENTS: usize = 5000;
/// A storm's tick rate: low, so 5,000 long-polls (a request per tick each) do not
/// saturate this 2-core machine before the fault does.
pub const STORM_RATE: f64 = 2.0;
/// The server's `--stream-max-age` in the recycling run: three recycles per stream in
/// its window.
pub const STREAM_MAX_AGE: Duration = Duration::from_millis(2500);
/// How far into the window the fault strikes: a second of the feed as it was first.
pub const STRIKE_AFTER: Duration = Duration::from_secs(1);

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    Restart,
    Crash,
    Recycle,
    Storm,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Restart, Fault::Crash, Fault::Recycle, Fault::Storm];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Restart => "restart",
            Fault::Crash => "crash",
            Fault::Recycle => "recycle",
            Fault::Storm => "storm",
        }
    }

    /// What a table or chart calls it.
    pub fn label(self) -> &'static str {
        match self {
            Fault::Restart => "graceful restart (SIGTERM, new server)",
            Fault::Crash => "crash (SIGKILL, new server)",
            Fault::Recycle => "stream recycling (--stream-max-age)",
            Fault::Storm => "reconnect storm (SIGKILL with all connected)",
        }
    }

    /// Only transports with a long-lived stream have one to recycle.
    pub fn applies_to(self, transport: Transport) -> bool {
        self != Fault::Recycle || transport.is_streaming()
    }

    /// Whether a signal strikes at one instant (recycling has none).
    pub fn strikes(self) -> bool {
        self != Fault::Recycle
    }

    /// The measurement window: a second before the fault, and time to recover.
    fn window(self) -> Duration {
        match self {
            Fault::Restart | Fault::Crash => Duration::from_secs(5),
            // Three recycles of every stream.
            Fault::Recycle => Duration::from_millis(7500),
            Fault::Storm => Duration::from_secs(6),
        }
    }
}

/// One fault run of the preset, as recorded in the scenario's `faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultStep {
    pub fault: Fault,
    pub transport: Transport,
    pub clients: usize,
    pub rate: f64,
    pub reconnect: Reconnect,
    /// Time over which the clients connect.
    #[serde(rename = "ramp_s", with = "crate::scenario::seconds")]
    pub ramp: Duration,
    #[serde(rename = "duration_s", with = "crate::scenario::seconds")]
    pub window: Duration,
    /// The server's `--stream-max-age` (recycling).
    #[serde(rename = "stream_max_age_ms", default, with = "crate::scenario::millis_opt")]
    pub stream_max_age: Option<Duration>,
}

impl FaultStep {
    fn new(fault: Fault, transport: Transport, reconnect: Reconnect) -> Self {
        let storm = fault == Fault::Storm;
        let clients = if storm { STORM_CLIENTS } else { FAULT_CLIENTS };
        Self {
            fault,
            transport,
            clients,
            rate: if storm { STORM_RATE } else { FAULT_RATE },
            reconnect,
            // 5,000 connects in 3 s: a ramp, not a storm of its own.
            ramp: Duration::from_secs(if storm { 3 } else { 1 }),
            window: fault.window(),
            stream_max_age: (fault == Fault::Recycle).then_some(STREAM_MAX_AGE),
        }
    }
}

/// The preset's runs: per fault, every transport it applies to; the storm twice, with
/// and without jitter. About 3 minutes on a 2-core machine.
pub fn preset_steps(transports: &[Transport], reconnect: Reconnect) -> Vec<FaultStep> {
    let mut steps = Vec::new();
    for fault in Fault::ALL {
        let policies: &[Reconnect] =
            if fault == Fault::Storm { &[Reconnect::Jitter, Reconnect::Fixed] } else { &[reconnect] };
        for &policy in policies {
            for &t in transports.iter().filter(|&&t| fault.applies_to(t)) {
                steps.push(FaultStep::new(fault, t, policy));
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preset_runs_every_fault_that_applies_and_the_storm_twice() {
        let steps = preset_steps(&Transport::ALL, Reconnect::Jitter);
        let count = |f: Fault| steps.iter().filter(|s| s.fault == f).count();
        assert_eq!([Fault::Restart, Fault::Crash, Fault::Recycle, Fault::Storm].map(count), [4, 4, 2, 8]);
        let recycled: Vec<_> =
            steps.iter().filter(|s| s.fault == Fault::Recycle).map(|s| s.transport).collect();
        assert_eq!(recycled, [Transport::Sse, Transport::Ws]);
        let storms: Vec<_> =
            steps.iter().filter(|s| s.fault == Fault::Storm).map(|s| (s.reconnect, s.clients)).collect();
        assert_eq!(storms[..4], [(Reconnect::Jitter, STORM_CLIENTS); 4]);
        assert_eq!(storms[4..], [(Reconnect::Fixed, STORM_CLIENTS); 4]);
        // Bounded: ramp, settle, window and a drain of at most 10 s per run.
        let total: Duration = steps.iter().map(|s| s.ramp + s.window + Duration::from_secs(3)).sum();
        assert!(total < Duration::from_secs(240), "{total:?}");
    }
}
