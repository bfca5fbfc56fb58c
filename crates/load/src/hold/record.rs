//! The figures of one hold, as the table shows them and `--json` writes them; what each
//! means is in `docs/methodology.md` ("Holding sockets"). Add fields, never rename them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::HoldSpec;
use super::attack::{Close, Ledger};
use super::probe::{Attempt, ProbeKind};
use super::sample::{Sample, Samples};
use crate::net::Target;
use crate::procfs::Machine;

/// What the file says it is, so it is not taken for a `compare` results file.
pub const KIND: &str = "pushlab-hold";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldResults {
    /// Always [`KIND`].
    pub kind: String,
    pub generated_at: String,
    pub machine: Machine,
    /// The 1-minute load average as the hold began: above the core count, the figures
    /// had company.
    pub host_load_1m: f64,
    pub target: String,
    pub spec: HoldSpec,
    pub server: ServerFigures,
    pub attackers: AttackFigures,
    pub probes: ProbeFigures,
    /// The load generator's CPU over the hold, % of one core.
    pub loadgen_cpu_pct: f64,
    /// Connects the kernel dropped over the hold because a listen queue was full (every
    /// listener on the machine, ours almost surely); each is retried 1 s later.
    pub kernel_listen_overflows: Option<u64>,
    /// Every sample of `/api/stats`, with our sockets open at that moment.
    pub samples: Vec<Sample>,
    /// Every probe attempt, in the order they started.
    pub attempts: Vec<Attempt>,
}

/// The server, from its `/api/stats`: counters are the change since the first sample
/// (taken before the attack), peaks the most any sample saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerFigures {
    pub open_before: u64,
    /// Connections the server held at once (ours, the probes', the stats connection).
    pub open_peak: u64,
    pub open_fds_before: Option<u64>,
    pub open_fds_peak: Option<u64>,
    pub accepted: u64,
    /// Connections closed at accept because the cap was reached (probes' included).
    pub refused_at_cap: u64,
    pub header_timeouts: u64,
    pub idle_timeouts: u64,
    pub samples: u64,
    pub samples_failed: u64,
}

/// Spread of a set of durations, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SpreadMs {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Our sockets, as they saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttackFigures {
    pub opened: u64,
    pub connect_failed: BTreeMap<String, u64>,
    /// Our sockets open at once, at most.
    pub open_peak: u64,
    /// When the last one finished connecting, ms after the first connect began.
    pub all_opened_ms: Option<f64>,
    /// Closed by the server in under half the header timeout: no timeout was due, so
    /// the cap closed them.
    pub closed_at_once: u64,
    /// Closed by the server later: by its header timeout.
    pub closed_after_held: u64,
    /// How long those were held before the server closed them.
    pub held_for: Option<SpreadMs>,
    /// When the server closed the last of ours, ms after the first connect began.
    pub last_closed_ms: Option<f64>,
    /// Still open when the hold ended: the server never closed them.
    pub still_open_at_end: u64,
}

/// The two probes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeFigures {
    pub poll: ProbeSummary,
    pub sse: ProbeSummary,
}

/// One probe over the attack (attempts started after the first connect); `before_*`
/// over the baseline before it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeSummary {
    pub attempts: u64,
    pub answered: u64,
    /// Unanswered attempts, by why.
    pub failed: BTreeMap<String, u64>,
    /// The answered attempts' waits (none answered: absent).
    pub wait_p50_us: Option<u64>,
    pub wait_p99_us: Option<u64>,
    pub wait_max_us: Option<u64>,
    /// The longest a client probing on schedule went unanswered: from the start of the
    /// first failed attempt of a run of them to the start of the next answered one
    /// (or the end of the attack), ms; 0 if none failed.
    pub longest_unanswered_ms: f64,
    pub before_p50_us: Option<u64>,
}

/// What a hold measured, to summarise.
pub struct Measured<'a> {
    pub samples: Samples,
    pub attempts: Vec<Attempt>,
    pub ledger: &'a Ledger,
    pub load_before: f64,
    pub loadgen_cpu_pct: f64,
    pub listen_overflows: Option<u64>,
}

impl HoldResults {
    pub fn new(spec: HoldSpec, target: &Target, m: Measured<'_>) -> Self {
        let at_once_us = spec.header_timeout_ms * 1000 / 2;
        let end_ms = spec.duration_ms as f64;
        let probe = |kind| ProbeSummary::of(m.attempts.iter().filter(|a| a.kind == kind), end_ms);
        HoldResults {
            kind: KIND.into(),
            generated_at: crate::results::timestamp(),
            machine: Machine::this(),
            host_load_1m: m.load_before,
            target: target.addr.to_string(),
            server: ServerFigures::of(&m.samples),
            attackers: AttackFigures::of(m.ledger, at_once_us),
            probes: ProbeFigures { poll: probe(ProbeKind::Poll), sse: probe(ProbeKind::Sse) },
            loadgen_cpu_pct: m.loadgen_cpu_pct,
            kernel_listen_overflows: m.listen_overflows,
            samples: m.samples.taken,
            attempts: m.attempts,
            spec,
        }
    }
}

impl ServerFigures {
    pub fn of(samples: &Samples) -> Self {
        let taken = &samples.taken;
        let (Some(first), Some(last)) = (taken.first(), taken.last()) else {
            return ServerFigures { samples_failed: samples.failed, ..Default::default() };
        };
        ServerFigures {
            open_before: first.open,
            open_peak: taken.iter().map(|s| s.open).max().unwrap_or(0),
            open_fds_before: first.open_fds,
            open_fds_peak: taken.iter().filter_map(|s| s.open_fds).max(),
            accepted: last.accepted - first.accepted,
            refused_at_cap: last.refused_at_cap - first.refused_at_cap,
            header_timeouts: last.header_timeouts - first.header_timeouts,
            idle_timeouts: last.idle_timeouts - first.idle_timeouts,
            samples: taken.len() as u64,
            samples_failed: samples.failed,
        }
    }
}

impl AttackFigures {
    /// `at_once_us`: a socket the server closed sooner than this was closed at the cap.
    pub fn of(ledger: &Ledger, at_once_us: u64) -> Self {
        let closes = ledger.closes();
        let by_server: Vec<&Close> = closes.iter().filter(|c| c.by_server).collect();
        let held: Vec<u64> =
            by_server.iter().filter(|c| c.lifetime_us >= at_once_us).map(|c| c.lifetime_us).collect();
        AttackFigures {
            opened: ledger.opened(),
            connect_failed: ledger.connect_failed(),
            open_peak: ledger.peak_open(),
            all_opened_ms: ledger.last_opened_us().map(ms),
            closed_at_once: (by_server.len() - held.len()) as u64,
            closed_after_held: held.len() as u64,
            held_for: spread(&held).map(|[p50, p99, max]| SpreadMs {
                p50_ms: ms(p50),
                p99_ms: ms(p99),
                max_ms: ms(max),
            }),
            last_closed_ms: by_server.iter().map(|c| c.at_us).max().map(ms),
            still_open_at_end: closes.iter().filter(|c| !c.by_server).count() as u64,
        }
    }
}

impl ProbeSummary {
    /// `attempts` of one kind in the order they started; `end_ms`, the attack's end.
    pub fn of<'a>(attempts: impl Iterator<Item = &'a Attempt>, end_ms: f64) -> Self {
        let (before, during): (Vec<&Attempt>, Vec<&Attempt>) = attempts.partition(|a| a.t_ms < 0);
        let waits = |set: &[&Attempt]| -> Vec<u64> {
            set.iter().filter(|a| a.failure.is_none()).map(|a| a.wait_us).collect()
        };
        let answered = waits(&during);
        let mut failed = BTreeMap::new();
        for a in &during {
            if let Some(why) = &a.failure {
                *failed.entry(why.clone()).or_default() += 1;
            }
        }
        let [p50, p99, max] = spread(&answered).map_or([None; 3], |s| s.map(Some));
        ProbeSummary {
            attempts: during.len() as u64,
            answered: answered.len() as u64,
            failed,
            wait_p50_us: p50,
            wait_p99_us: p99,
            wait_max_us: max,
            longest_unanswered_ms: longest_unanswered(&during, end_ms),
            before_p50_us: spread(&waits(&before)).map(|[p50, ..]| p50),
        }
    }
}

/// The longest run of failed attempts, from its first's start to the next answered
/// one's start (or `end_ms`), ms.
fn longest_unanswered(attempts: &[&Attempt], end_ms: f64) -> f64 {
    let (mut longest, mut since) = (0.0_f64, None);
    for a in attempts {
        match (&a.failure, since) {
            (Some(_), None) => since = Some(a.t_ms as f64),
            (None, Some(from)) => {
                longest = longest.max(a.t_ms as f64 - from);
                since = None;
            }
            _ => {}
        }
    }
    since.map_or(longest, |from| longest.max(end_ms - from))
}

/// p50, p99 and max of `values`, each a value that was measured (nearest rank), or
/// `None` if there are none. A hold has at most 19,000 sockets: sorting them is cheap.
fn spread(values: &[u64]) -> Option<[u64; 3]> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    (!sorted.is_empty()).then(|| [rank(0.5), rank(0.99), rank(1.0)])
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(t_ms: i64, wait_us: u64, failure: Option<&str>) -> Attempt {
        Attempt { kind: ProbeKind::Poll, t_ms, wait_us, failure: failure.map(String::from) }
    }

    #[test]
    fn a_probe_s_waits_failures_and_lockout() {
        let attempts = [
            attempt(-200, 900, None),
            attempt(0, 1000, Some("closed unanswered")),
            attempt(200, 1000, Some("closed unanswered")),
            attempt(400, 5_000_000, Some("timed out")),
            attempt(600, 2000, None),
            attempt(800, 3000, None),
            attempt(1000, 1000, Some("closed unanswered")),
        ];
        let s = ProbeSummary::of(attempts.iter(), 1100.0);
        assert_eq!((s.attempts, s.answered), (6, 2));
        let failed: BTreeMap<String, u64> = [("closed unanswered".into(), 3), ("timed out".into(), 1)].into();
        assert_eq!(s.failed, failed);
        assert_eq!((s.wait_p50_us, s.wait_max_us, s.before_p50_us), (Some(2000), Some(3000), Some(900)));
        assert_eq!(s.longest_unanswered_ms, 600.0, "from 0 to the answer at 600; the last run is 100");
        let none = ProbeSummary::of(attempts[4..6].iter(), 1100.0);
        assert_eq!((none.longest_unanswered_ms, none.failed.len()), (0.0, 0));
    }

    #[test]
    fn server_counters_are_changes_since_the_first_sample() {
        let sample = |t_ms, open, refused, header_timeouts, fds| Sample {
            t_ms,
            open,
            accepted: 10 + open,
            refused_at_cap: refused,
            header_timeouts,
            idle_timeouts: 0,
            open_fds: Some(fds),
            ours_open: 0,
        };
        let samples = Samples {
            taken: vec![sample(-500, 1, 5, 0, 12), sample(500, 84, 121, 0, 96), sample(2000, 2, 121, 2, 14)],
            failed: 1,
        };
        let s = ServerFigures::of(&samples);
        assert_eq!(
            (s.open_before, s.open_peak, s.open_fds_before, s.open_fds_peak),
            (1, 84, Some(12), Some(96))
        );
        assert_eq!((s.accepted, s.refused_at_cap, s.header_timeouts), (1, 116, 2));
        assert_eq!((s.samples, s.samples_failed), (3, 1));
    }
}
