//! When each byte crosses one direction of a link: the arithmetic of the emulator,
//! kept apart from sockets so it can be tested on exact numbers.
//!
//! Bytes that reach the link are cut into TCP segments of [`MSS_BYTES`]. Each segment:
//!
//! 1. waits for the link to be free and takes `bytes × 8 ÷ bandwidth` to serialize
//!    (a FIFO: a burst queues behind itself, as at a bottleneck);
//! 2. then travels the one-way delay, plus jitter drawn uniformly from ±jitter;
//! 3. is lost with the link's probability; a lost segment arrives one retransmission
//!    timeout later (doubling for each further loss of the same segment, as TCP backs
//!    off), because on a sparse stream of pushes there are rarely three segments behind
//!    it to trigger a fast retransmit;
//! 4. is delivered no earlier than the segment before it. TCP hands bytes to the
//!    application in order, so a late segment holds back every byte behind it: jitter
//!    never reorders, and a loss is head-of-line blocking for the whole stream.
//!
//! Cost: a few float operations and one random draw per segment; nothing per byte.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use crate::spec::Direction;

/// TCP's payload per segment on an Ethernet-sized path (1500-byte MTU less 40 bytes
/// of IP and TCP headers and 12 of timestamps).
pub const MSS_BYTES: usize = 1448;
/// Retransmissions of one segment modelled before it is taken as delivered anyway:
/// 6 doublings of the timeout (≥ 12.6 s at the 200 ms floor) already end any run.
const MAX_RETRANSMISSIONS: u32 = 6;

/// One direction's clock: where the link is busy until, the last delivery, the loss dice.
#[derive(Debug)]
pub struct Pacer {
    direction: Direction,
    rto: Duration,
    rng: ChaCha8Rng,
    /// When the link finishes serializing what it holds.
    free_at: Option<Instant>,
    /// The latest delivery time handed out: none may come before it.
    last_delivery: Option<Instant>,
    pub counts: PacerCounts,
}

/// What a pacer has done, for tests and for the results.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PacerCounts {
    pub segments: u64,
    /// Segments lost at least once.
    pub lost: u64,
    /// Segments delivered later than their own time because one before them was late.
    pub held_back: u64,
}

impl Pacer {
    pub fn new(direction: Direction, rto: Duration, seed: u64) -> Self {
        Self {
            direction,
            rto,
            rng: ChaCha8Rng::seed_from_u64(seed),
            free_at: None,
            last_delivery: None,
            counts: PacerCounts::default(),
        }
    }

    /// `len` bytes reached the link at `arrived`: calls `deliver(at, offset, len)` for
    /// each segment of them, in order, with non-decreasing times.
    pub fn schedule(&mut self, arrived: Instant, len: usize, mut deliver: impl FnMut(Instant, usize, usize)) {
        let mut offset = 0;
        while offset < len {
            let segment = MSS_BYTES.min(len - offset);
            deliver(self.segment(arrived, segment), offset, segment);
            offset += segment;
        }
    }

    /// When the end of the stream (a FIN) that reached the link at `arrived` is delivered:
    /// after everything before it, one delay later, never lost.
    pub fn end(&mut self, arrived: Instant) -> Instant {
        let at = arrived.max(self.free_at.unwrap_or(arrived)) + self.direction.delay;
        let at = at.max(self.last_delivery.unwrap_or(at));
        self.last_delivery = Some(at);
        at
    }

    fn segment(&mut self, arrived: Instant, len: usize) -> Instant {
        let d = self.direction;
        let start = arrived.max(self.free_at.unwrap_or(arrived));
        let sent = match d.bandwidth_bps {
            Some(bps) => start + Duration::from_secs_f64(len as f64 * 8.0 / bps as f64),
            None => start,
        };
        self.free_at = Some(sent);
        let mut at = sent + self.jittered_delay();
        if d.loss > 0.0 && self.rng.random_bool(d.loss) {
            self.counts.lost += 1;
            let mut timeout = self.rto;
            at += timeout;
            for _ in 1..MAX_RETRANSMISSIONS {
                if !self.rng.random_bool(d.loss) {
                    break;
                }
                timeout *= 2;
                at += timeout;
            }
        }
        self.counts.segments += 1;
        if let Some(last) = self.last_delivery
            && last > at
        {
            self.counts.held_back += 1;
            at = last;
        }
        self.last_delivery = Some(at);
        at
    }

    /// The one-way delay with jitter drawn uniformly from ±jitter, never below zero.
    fn jittered_delay(&mut self) -> Duration {
        let d = self.direction;
        if d.jitter.is_zero() {
            return d.delay;
        }
        let j = d.jitter.as_secs_f64();
        let delay = d.delay.as_secs_f64() + self.rng.random_range(-j..=j);
        Duration::from_secs_f64(delay.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn direction(delay: u64, jitter: u64, bandwidth_bps: Option<u64>, loss: f64) -> Direction {
        Direction { delay: ms(delay), jitter: ms(jitter), bandwidth_bps, loss }
    }

    /// Every segment's delivery time for `len` bytes arriving at `at`.
    fn times(p: &mut Pacer, at: Instant, len: usize) -> Vec<(Instant, usize)> {
        let mut out = Vec::new();
        p.schedule(at, len, |when, _, n| out.push((when, n)));
        out
    }

    #[test]
    fn a_plain_delay_is_exact() {
        let t0 = Instant::now();
        let mut p = Pacer::new(direction(50, 0, None, 0.0), ms(200), 1);
        assert_eq!(times(&mut p, t0, 100), [(t0 + ms(50), 100)]);
        assert_eq!(
            times(&mut p, t0 + ms(7), 3000),
            [(t0 + ms(57), 1448), (t0 + ms(57), 1448), (t0 + ms(57), 104)]
        );
        assert_eq!(p.end(t0 + ms(10)), t0 + ms(60));
    }

    #[test]
    fn bandwidth_serializes_segments_one_after_another() {
        let t0 = Instant::now();
        // 1 Mbit/s: a full segment takes 11.584 ms to put on the wire.
        let mut p = Pacer::new(direction(10, 0, Some(1_000_000), 0.0), ms(200), 1);
        let got = times(&mut p, t0, 2 * MSS_BYTES);
        let per_segment = Duration::from_micros(11_584);
        assert_eq!(got, [(t0 + per_segment + ms(10), 1448), (t0 + 2 * per_segment + ms(10), 1448)]);
        // 125,000 bytes are one second of it, however they arrive.
        let mut p = Pacer::new(direction(0, 0, Some(1_000_000), 0.0), ms(200), 1);
        let last = (0..125).map(|i| times(&mut p, t0 + Duration::from_micros(i), 1000)).last().unwrap();
        assert_eq!(last.last().unwrap().0, t0 + ms(1000));
    }

    #[test]
    fn jitter_stays_in_range_and_never_reorders() {
        let t0 = Instant::now();
        // Segments 50 ms apart (more than the ±20 ms spread): each keeps its own draw.
        let mut p = Pacer::new(direction(50, 20, None, 0.0), ms(200), 7);
        let (mut earliest, mut latest) = (ms(1000), Duration::ZERO);
        for i in 0..2_000u64 {
            let arrived = t0 + ms(i * 50);
            let (at, _) = times(&mut p, arrived, 80)[0];
            earliest = earliest.min(at - arrived);
            latest = latest.max(at - arrived);
        }
        assert!(earliest >= ms(30) && earliest < ms(31), "{earliest:?}");
        assert!(latest > ms(69) && latest <= ms(70), "{latest:?}");
        assert_eq!(p.counts.held_back, 0);
        // 0.5 ms apart, a late segment holds back the ones behind it: never reordered.
        let mut p = Pacer::new(direction(50, 20, None, 0.0), ms(200), 7);
        let mut previous = t0;
        for i in 0..10_000u64 {
            let (at, _) = times(&mut p, t0 + Duration::from_micros(i * 500), 80)[0];
            assert!(at >= previous, "segment {i} delivered before the one ahead of it");
            previous = at;
        }
        assert!(p.counts.held_back > 5_000, "{:?}", p.counts);
    }

    #[test]
    fn a_lost_segment_stalls_it_and_everything_behind_it_for_one_timeout() {
        let t0 = Instant::now();
        // Find a seed whose first draw loses the first segment and keeps the second.
        let link = direction(50, 0, None, 0.5);
        let seed = (0..100)
            .find(|&seed| {
                let mut p = Pacer::new(link, ms(200), seed);
                let first = times(&mut p, t0, 100)[0].0;
                let second = times(&mut p, t0 + ms(1), 100)[0].0;
                first == t0 + ms(250) && p.counts.lost == 1 && second == first
            })
            .expect("a seed losing only the first of two segments");
        let mut p = Pacer::new(link, ms(200), seed);
        assert_eq!(times(&mut p, t0, 100)[0].0, t0 + ms(250), "lost: one RTO late");
        assert_eq!(times(&mut p, t0 + ms(1), 100)[0].0, t0 + ms(250), "head-of-line blocked behind it");
        assert_eq!(p.counts, PacerCounts { segments: 2, lost: 1, held_back: 1 });
    }

    #[test]
    fn loss_happens_at_the_configured_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(direction(10, 0, None, 0.01), ms(200), 42);
        for i in 0..100_000u64 {
            times(&mut p, t0 + Duration::from_millis(i * 10), 100);
        }
        // Binomial(100,000, 1 %): mean 1,000, standard deviation 31.5; ±5 sd.
        assert!((843..=1157).contains(&p.counts.lost), "{:?}", p.counts);
    }
}
