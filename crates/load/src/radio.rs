//! What a transport would cost a phone's battery: **a model applied to measured
//! timings**, not a measurement of any radio.
//!
//! Each client records when bytes went in and out of its sockets ([`Activity`]); after
//! the run a radio-state model is replayed over that timeline ([`RadioModel::replay`]):
//! a mobile radio idles at almost no power, needs a *promotion* (hundreds of ms to
//! seconds of signalling) before it can move data, and then stays in its high-power
//! state for a *tail* after the last byte, because the network's inactivity timer, not
//! the data, decides when it may sleep. So what costs battery is not the bytes but how
//! often they come: a byte every 15 s keeps an LTE radio awake most of the time.
//!
//! Recording is cheap: each socket read or write takes the clock and, under an
//! uncontended lock of its client's, extends the last burst of activity or starts a
//! new one. Events closer than [`MERGE_GAP`] — shorter than every model's first
//! inactivity timer, so the replay is the same as over every event — are one burst,
//! so a busy client keeps one burst, not one entry per tick.
//!
//! The two models (figures and sources in `docs/methodology.md`, *The radio model*):
//! [`LTE`] (Huang et al., MobiSys 2012) and [`UMTS`], a 3G radio with its DCH and FACH
//! states (Qian et al., IMC 2010, as AT&T's Application Resource Optimizer models it). Energy is counted above
//! the idle state's: what the transport adds to a phone that is on anyway.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Events closer than this are one burst (below every model's first timer: 4 s).
pub const MERGE_GAP: Duration = Duration::from_secs(1);
/// Bursts one client keeps (16 bytes each); past it, later activity extends the last,
/// which can only overstate the radio's active time, never hide it.
pub const MAX_BURSTS: usize = 100_000;

/// One client's socket activity: bursts of `[start, end]` in µs since the epoch.
#[derive(Debug, Default)]
pub struct Activity {
    bursts: Mutex<Vec<(u64, u64)>>,
}

impl Activity {
    /// Bytes moved at `now_us` (reads and writes alike: a radio is up for both).
    pub fn record(&self, now_us: u64) {
        let mut bursts = self.bursts.lock().unwrap_or_else(PoisonError::into_inner);
        let full = bursts.len() >= MAX_BURSTS;
        match bursts.last_mut() {
            Some((_, end)) if now_us <= *end + MERGE_GAP.as_micros() as u64 || full => {
                *end = (*end).max(now_us);
            }
            _ => bursts.push((now_us, now_us)),
        }
    }

    pub fn bursts(&self) -> Vec<(u64, u64)> {
        self.bursts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A radio's states after a wake-up: a promotion, then, once data stops, each tail
/// state in turn until idle. Data during a tail state that is not the first costs a
/// promotion back to the first (3G: FACH to DCH).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadioModel {
    pub name: &'static str,
    /// Idle to connected: how long, and at what power (mW).
    pub promotion: Duration,
    pub promotion_mw: f64,
    /// The connected state (moving data and its first tail), then any lower ones:
    /// (inactivity timer, power in mW).
    pub tails: &'static [(Duration, f64)],
    /// From a lower tail state back to the first: how long, at what power.
    pub repromotion: Duration,
    pub repromotion_mw: f64,
}

/// LTE, from Huang et al., "A Close Examination of Performance and Power
/// Characteristics of 4G LTE Networks", MobiSys 2012 (its power model of a commercial
/// network): promotion 260 ms at 1,210.7 mW; RRC_CONNECTED with its 11.576 s tail at
/// 1,060 mW (the tail's average, DRX included). AT&T's Application Resource Optimizer
/// (`attdevsupport/VideoOptimizer`, `ARO.Core/src/main/resources/lte.conf`), built by
/// the same group, ships the same promotion (0.26 s at 1.21 W) and tail power (1.06 W).
pub const LTE: RadioModel = RadioModel {
    name: "lte",
    promotion: Duration::from_millis(260),
    promotion_mw: 1210.7,
    tails: &[(Duration::from_millis(11_576), 1060.0)],
    repromotion: Duration::ZERO,
    repromotion_mw: 0.0,
};

/// 3G (UMTS/HSPA) as AT&T's Application Resource Optimizer models it by default
/// (`attdevsupport/VideoOptimizer`, `ARO.Core/src/main/resources/imap.conf`: the
/// state machine Qian et al. inferred, "Characterizing Radio Resource Allocation for
/// 3G Networks", IMC 2010, with a measured phone's powers): idle to DCH 2 s at 510 mW;
/// DCH at 1,020 mW for 4 s after the last byte, then FACH at 400 mW for 10 s; FACH to
/// DCH 1.5 s at 710 mW.
pub const UMTS: RadioModel = RadioModel {
    name: "umts",
    promotion: Duration::from_secs(2),
    promotion_mw: 510.0,
    tails: &[(Duration::from_secs(4), 1020.0), (Duration::from_secs(10), 400.0)],
    repromotion: Duration::from_millis(1500),
    repromotion_mw: 710.0,
};

/// What a model makes of one timeline within a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Replay {
    /// Time in any state but idle (promotions and tails included), seconds.
    pub active_s: f64,
    /// Promotions from idle that began in the window.
    pub wakeups: u64,
    /// Energy above idle, joules.
    pub energy_j: f64,
}

impl RadioModel {
    /// Replays `bursts` (sorted, µs) and counts what falls in `[start_us, end_us)`.
    pub fn replay(&self, bursts: &[(u64, u64)], start_us: u64, end_us: u64) -> Replay {
        let mut out = Replay::default();
        // Charge `mw` from `a` to `b` (µs), clipped to the window.
        let mut charge = |a: u64, b: u64, mw: f64| {
            let (a, b) = (a.max(start_us), b.min(end_us));
            if b > a {
                let s = (b - a) as f64 / 1e6;
                out.active_s += s;
                out.energy_j += s * mw / 1e3;
            }
        };
        let us = |d: Duration| d.as_micros() as u64;
        let first_tail = us(self.tails[0].0);
        // When the radio reaches idle after activity ending at `end`.
        let tail_end = |end: u64| end + self.tails.iter().map(|&(t, _)| us(t)).sum::<u64>();
        let mut wakeups = 0;
        let mut previous_end: Option<u64> = None;
        // The burst that keeps the radio connected, as (active from, active until).
        for &(start, end) in bursts {
            let connected_from = match previous_end {
                Some(prev) if start <= prev + first_tail => None, // still connected
                Some(prev) if start < tail_end(prev) => {
                    // In a lower tail state: tails up to now, then a promotion back.
                    self.charge_tails(prev, start, &mut charge);
                    charge(start, start + us(self.repromotion), self.repromotion_mw);
                    Some(start + us(self.repromotion))
                }
                _ => {
                    if let Some(prev) = previous_end {
                        self.charge_tails(prev, tail_end(prev), &mut charge);
                    }
                    if (start_us..end_us).contains(&start) {
                        wakeups += 1;
                    }
                    charge(start, start + us(self.promotion), self.promotion_mw);
                    Some(start + us(self.promotion))
                }
            };
            match (connected_from, previous_end) {
                // Connected from the promotion's end to the data's end (the data moves
                // once promoted, so a burst shorter than the promotion ends with it).
                (Some(from), _) => {
                    charge(from, end.max(from), self.tails[0].1);
                    previous_end = Some(end.max(from));
                }
                // Still connected since the previous burst: the gap and this burst.
                (None, Some(prev)) => {
                    charge(prev, end.max(prev), self.tails[0].1);
                    previous_end = Some(end.max(prev));
                }
                (None, None) => unreachable!("a first burst always wakes the radio"),
            }
        }
        if let Some(prev) = previous_end {
            self.charge_tails(prev, tail_end(prev), &mut charge);
        }
        out.wakeups = wakeups;
        out
    }

    /// Each tail state in turn from `from` (the last byte) up to `until`.
    fn charge_tails(&self, from: u64, until: u64, charge: &mut impl FnMut(u64, u64, f64)) {
        let mut at = from;
        for &(timer, mw) in self.tails {
            let next = at + timer.as_micros() as u64;
            charge(at, next.min(until), mw);
            if next >= until {
                return;
            }
            at = next;
        }
    }
}

/// A run's radio figures: per client, averaged over clients, under both models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RadioFigures {
    pub lte_active_s_per_min: f64,
    pub lte_wakeups_per_min: f64,
    pub lte_j_per_hour: f64,
    pub umts_active_s_per_min: f64,
    pub umts_wakeups_per_min: f64,
    pub umts_j_per_hour: f64,
}

/// The radio figures of `clients`' timelines over the window `[start_us, end_us)`.
pub fn figures(clients: &[Vec<(u64, u64)>], start_us: u64, end_us: u64) -> RadioFigures {
    let minutes = (end_us - start_us) as f64 / 60e6;
    let n = clients.len().max(1) as f64;
    let mean = |model: &RadioModel| {
        let sum =
            clients.iter().map(|b| model.replay(b, start_us, end_us)).fold(Replay::default(), |a, r| {
                Replay {
                    active_s: a.active_s + r.active_s,
                    wakeups: a.wakeups + r.wakeups,
                    energy_j: a.energy_j + r.energy_j,
                }
            });
        (sum.active_s / n / minutes, sum.wakeups as f64 / n / minutes, sum.energy_j / n / minutes * 60.0)
    };
    let (lte_active_s_per_min, lte_wakeups_per_min, lte_j_per_hour) = mean(&LTE);
    let (umts_active_s_per_min, umts_wakeups_per_min, umts_j_per_hour) = mean(&UMTS);
    RadioFigures {
        lte_active_s_per_min,
        lte_wakeups_per_min,
        lte_j_per_hour,
        umts_active_s_per_min,
        umts_wakeups_per_min,
        umts_j_per_hour,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn bursts_merge_events_closer_than_the_gap() {
        let a = Activity::default();
        for t in [0, 500_000, 1_400_000, 3 * S, 3 * S + 10] {
            a.record(t);
        }
        assert_eq!(a.bursts(), [(0, 1_400_000), (3 * S, 3 * S + 10)]);
    }

    /// One byte every 60 s: each wakes the LTE radio, which stays up for the
    /// promotion and the tail: 0.26 + 11.576 s per wake-up.
    #[test]
    fn lte_a_wakeup_a_minute_costs_a_promotion_and_a_tail_each() {
        let bursts: Vec<_> = (0..10).map(|i| (i * 60 * S, i * 60 * S)).collect();
        let r = LTE.replay(&bursts, 0, 600 * S);
        assert_eq!(r.wakeups, 10);
        assert!(close(r.active_s, 10.0 * (0.26 + 11.576)), "{r:?}");
        assert!(close(r.energy_j, 10.0 * (0.26 * 1.2107 + 11.576 * 1.060)), "{r:?}");
        let f = figures(&[bursts], 0, 600 * S);
        assert!(close(f.lte_active_s_per_min, 0.26 + 11.576));
        assert!(close(f.lte_wakeups_per_min, 1.0));
        assert!(close(f.lte_j_per_hour, 60.0 * (0.26 * 1.2107 + 11.576 * 1.060)), "{f:?}");
    }

    /// Every 10 s on LTE: the tail (11.576 s) never ends, so one wake-up and the radio
    /// up the whole time after it.
    #[test]
    fn lte_traffic_faster_than_the_tail_never_sleeps() {
        let bursts: Vec<_> = (0..7).map(|i| (i * 10 * S, i * 10 * S + 1000)).collect();
        let r = LTE.replay(&bursts, 0, 60 * S);
        assert_eq!(r.wakeups, 1);
        assert!(close(r.active_s, 60.0), "{r:?}");
        // Clipped to a window that starts after the first wake-up: no wake-up in it.
        assert_eq!(LTE.replay(&bursts, 5 * S, 60 * S).wakeups, 0);
    }

    /// 3G: a byte, then one 10 s later (in FACH: promotion back to DCH, 1.5 s), then
    /// silence: DCH 4 s, FACH 10 s.
    #[test]
    fn umts_data_in_fach_costs_a_promotion_back_to_dch() {
        let r = UMTS.replay(&[(0, 0), (10 * S, 10 * S)], 0, 100 * S);
        assert_eq!(r.wakeups, 1);
        // 2 s promotion, DCH 4 s, FACH 4 s until the second byte, 1.5 s back to DCH,
        // DCH 4 s, FACH 10 s.
        assert!(close(r.active_s, 2.0 + 4.0 + 4.0 + 1.5 + 4.0 + 10.0), "{r:?}");
        let j = 2.0 * 0.51 + 4.0 * 1.02 + 4.0 * 0.40 + 1.5 * 0.71 + 4.0 * 1.02 + 10.0 * 0.40;
        assert!(close(r.energy_j, j), "{r:?}");
        // 30 s apart: past DCH and FACH (14 s), so a second wake-up from idle.
        let apart = UMTS.replay(&[(0, 0), (30 * S, 30 * S)], 0, 100 * S);
        assert_eq!(apart.wakeups, 2);
        assert!(close(apart.active_s, 2.0 * (2.0 + 4.0 + 10.0)), "{apart:?}");
    }
}
