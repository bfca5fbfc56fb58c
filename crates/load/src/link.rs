//! A run over an emulated link (`--link`): the clients connect to a `pushlab-link`
//! emulator, which relays each connection to the server through the link; the
//! load generator's own control traffic (stats, the expected-ticks reader) goes to
//! the server directly, so it neither pays the link nor is counted.
//!
//! The emulator runs on a thread of its own, whose CPU is read at the window's edges
//! beside the load generator's: a result says when the emulator, not the transport,
//! got in the way (from [`EMULATOR_BUSY_CPU_PCT`] of its core).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use pushlab_link::{Emulator, EmulatorKind, LinkFigures, LinkSpec, netem_status};
use serde::{Deserialize, Serialize};

use crate::net::Target;

/// From this share of its one core the emulator's own delays are in the latency.
pub const EMULATOR_BUSY_CPU_PCT: f64 = 80.0;

/// The link of one run, as the results record it (`"link"` in a run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    #[serde(flatten)]
    pub figures: LinkFigures,
    /// Which emulator carried the connections.
    pub emulator: EmulatorKind,
    /// What this kernel said about `tc netem` (`available`, or why not).
    pub netem: String,
    /// The emulator thread's CPU over the window, and that in % of its one core.
    pub emulator_cpu_s: f64,
    pub emulator_cpu_pct: f64,
    /// TCP segments the emulator paced over the whole run, and those it lost.
    pub segments: u64,
    pub segments_lost: u64,
}

/// The emulator of a running run, with its CPU at the window's start.
#[derive(Debug)]
pub struct RunLink {
    emulator: Emulator,
    cpu_at_start: Option<Duration>,
    cpu_in_window: Option<Duration>,
}

impl RunLink {
    /// An emulator relaying to `server` through `spec`; `seed` fixes its losses and jitter.
    pub fn start(spec: &str, server: SocketAddr, seed: u64) -> anyhow::Result<Self> {
        let link: LinkSpec = spec.parse()?;
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let emulator = Emulator::start(link, server, listen, seed).context("starting the link emulator")?;
        Ok(Self { emulator, cpu_at_start: None, cpu_in_window: None })
    }

    /// Where the clients connect: the emulator, with the server's `Host`.
    pub fn client_target(&self, server: &Target) -> Target {
        Target { addr: self.emulator.addr(), ..server.clone() }
    }

    pub fn window_starts(&mut self) {
        self.cpu_at_start = self.emulator.cpu_time();
    }

    pub fn window_ends(&mut self) {
        self.cpu_in_window = self.emulator.cpu_time().zip(self.cpu_at_start).map(|(end, start)| end - start);
    }

    pub fn record(&self, window_s: f64) -> LinkRecord {
        let counts = self.emulator.counts();
        let cpu_s = self.cpu_in_window.map_or(0.0, |d| d.as_secs_f64());
        LinkRecord {
            figures: self.emulator.link().figures(),
            emulator: EmulatorKind::Builtin,
            netem: netem_status().to_string(),
            emulator_cpu_s: cpu_s,
            emulator_cpu_pct: cpu_s / window_s.max(f64::MIN_POSITIVE) * 100.0,
            segments: counts.segments,
            segments_lost: counts.lost,
        }
    }
}
