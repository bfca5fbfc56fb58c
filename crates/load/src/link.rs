//! A run over an emulated link (`--link`), carried by one of two emulators
//! (`--emulator`, chosen once per invocation in [`path`]):
//!
//! - **builtin**: the clients connect to a `pushlab-link` emulator, which relays each
//!   connection to the server through its own link. The emulator runs on a thread of
//!   its own, whose CPU is read at the window's edges beside the load generator's: a
//!   result says when the emulator, not the transport, got in the way (from
//!   [`EMULATOR_BUSY_CPU_PCT`] of its core).
//! - **netem**: the clients' sockets live in a network namespace behind a veth whose
//!   two ends carry netem qdiscs, one per direction, set for each run; the kernel does
//!   the work, in softirq, so there is no emulator CPU to read ("not measured").
//!
//! Either way the load generator's own control traffic (stats, the expected-ticks
//! reader) goes to the server directly, so it neither pays the link nor is counted.

use std::time::Duration;

use anyhow::Context as _;
use pushlab_link::netns::{QdiscCounts, Side};
use pushlab_link::{Emulator, EmulatorKind, LinkFigures, LinkSpec, Veth, netem, netem_status};
use serde::{Deserialize, Serialize};

use crate::net::Target;

pub mod path;

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
    /// The built-in emulator's thread CPU over the window, and that in % of its one
    /// core; `None` for netem (the kernel's softirq work is no thread's) or where Linux
    /// would not say.
    pub emulator_cpu_s: Option<f64>,
    pub emulator_cpu_pct: Option<f64>,
    /// Over the whole run: the built-in emulator's TCP segments paced and those lost;
    /// netem's packets offered to its two qdiscs (ACKs included) and those dropped.
    pub segments: u64,
    pub segments_lost: u64,
}

/// The link of a running run.
#[derive(Debug)]
pub struct RunLink {
    link: LinkSpec,
    carrier: Carrier,
}

#[derive(Debug)]
enum Carrier {
    Builtin {
        emulator: Emulator,
        cpu_at_start: Option<Duration>,
        cpu_in_window: Option<Duration>,
    },
    /// The veth's qdisc counters when the run's qdiscs were set, root side then inside.
    Netem {
        veth: Veth,
        at_start: [QdiscCounts; 2],
    },
}

impl RunLink {
    /// `spec` between the clients and `server`: netem on its veth when the server is
    /// reached through a namespace ([`Target::via`]), else a built-in emulator relaying
    /// to it; `seed` fixes the built-in emulator's losses and jitter (netem's are the
    /// kernel's, not seeded).
    pub fn start(spec: &str, server: &Target, seed: u64) -> anyhow::Result<Self> {
        let link: LinkSpec = spec.parse()?;
        let carrier = match &server.via {
            Some(via) => {
                netem::shape(&via.veth, &link).context("putting the link on the veth with tc netem")?;
                Carrier::Netem { veth: via.veth.clone(), at_start: counts(&via.veth)? }
            }
            None => {
                let listen = "127.0.0.1:0".parse().expect("an address");
                let emulator = Emulator::start(link.clone(), server.addr, listen, seed)
                    .context("starting the link emulator")?;
                Carrier::Builtin { emulator, cpu_at_start: None, cpu_in_window: None }
            }
        };
        Ok(Self { link, carrier })
    }

    /// Where the clients connect: the built-in emulator, with the server's `Host`; on
    /// netem, the server as it is reached through the namespace.
    pub fn client_target(&self, server: &Target) -> Target {
        match &self.carrier {
            Carrier::Builtin { emulator, .. } => {
                Target { addr: emulator.addr(), via: None, ..server.clone() }
            }
            Carrier::Netem { .. } => server.clone(),
        }
    }

    pub fn window_starts(&mut self) {
        if let Carrier::Builtin { emulator, cpu_at_start, .. } = &mut self.carrier {
            *cpu_at_start = emulator.cpu_time();
        }
    }

    pub fn window_ends(&mut self) {
        if let Carrier::Builtin { emulator, cpu_at_start, cpu_in_window } = &mut self.carrier {
            *cpu_in_window = emulator.cpu_time().zip(*cpu_at_start).map(|(end, start)| end - start);
        }
    }

    pub fn record(&self, window_s: f64) -> anyhow::Result<LinkRecord> {
        let (emulator, cpu_s, segments, segments_lost) = match &self.carrier {
            Carrier::Builtin { emulator, cpu_in_window, .. } => {
                let counts = emulator.counts();
                let cpu_s = cpu_in_window.map(|d| d.as_secs_f64());
                (EmulatorKind::Builtin, cpu_s, counts.segments, counts.lost)
            }
            Carrier::Netem { veth, at_start } => {
                let now = counts(veth)?;
                let delta = |i: usize, f: fn(&QdiscCounts) -> u64| f(&now[i]).saturating_sub(f(&at_start[i]));
                let dropped = delta(0, |c| c.drops) + delta(1, |c| c.drops);
                let sent = delta(0, |c| c.packets) + delta(1, |c| c.packets);
                (EmulatorKind::Netem, None, sent + dropped, dropped)
            }
        };
        Ok(LinkRecord {
            figures: self.link.figures(),
            emulator,
            netem: netem_status().to_string(),
            emulator_cpu_s: cpu_s,
            emulator_cpu_pct: cpu_s.map(|s| s / window_s.max(f64::MIN_POSITIVE) * 100.0),
            segments,
            segments_lost,
        })
    }
}

/// Both ends' qdisc counters, root side first.
fn counts(veth: &Veth) -> anyhow::Result<[QdiscCounts; 2]> {
    let read = |side| veth.qdisc_counts(side).context("reading the netem qdiscs' counters");
    Ok([read(Side::Root)?, read(Side::Inside)?])
}
