//! A [`LinkSpec`] as two netem qdiscs, one per direction, each on the veth end its
//! packets leave by: server → client on the root side's end, client → server on the
//! namespace's (see [`crate::netns`]).
//!
//! `netem limit P delay D J loss L% rate R`, where:
//!
//! - `delay D J`: the one-way delay, and jitter drawn uniformly from ±J (netem's
//!   default distribution without a `distribution` table, the same as the built-in
//!   emulator's);
//! - `rate R`: the bandwidth. It also keeps the packets in order: with a rate, netem
//!   schedules each packet after the one before it (`netem_enqueue` in
//!   `net/sched/sch_netem.c` takes the queue's last packet as its reference), while
//!   without one a packet that drew less jitter overtakes the one ahead. A direction
//!   with jitter but no bandwidth therefore gets [`IN_ORDER_RATE_BPS`], far above
//!   anything a veth carries here, so only the ordering changes;
//! - `loss L%`: each packet lost with that probability, in the kernel; TCP's own
//!   retransmission (fast retransmit, tail loss probe or RTO) decides the stall;
//! - `limit P`: packets the qdisc may hold, delayed or queued. netem's default of
//!   1,000 would drop on a fast, long link before TCP's window filled it, so it is
//!   twice the packets in flight (bandwidth × (delay + jitter) in 1,514-byte frames),
//!   at least 1,000 and at most [`MAX_LIMIT_PACKETS`].

use std::time::Duration;

use crate::netns::{NetnsError, Side, Veth};
use crate::spec::{Direction, LinkSpec};

/// The rate given to a direction that has jitter but no bandwidth, bits/s: the
/// serialization it adds (1.2 µs per full frame) is below anything measured here.
pub const IN_ORDER_RATE_BPS: u64 = 10_000_000_000;
/// netem's default limit, packets: the least a direction holds.
const MIN_LIMIT_PACKETS: u64 = 1_000;
/// Most packets a direction holds (about 150 MB of full frames, only if used).
pub const MAX_LIMIT_PACKETS: u64 = 100_000;
/// A full Ethernet frame on the veth (MTU 1,500 plus its 14-byte header).
const FRAME_BYTES: f64 = 1_514.0;

/// The qdisc of one direction, as the words after `tc qdisc replace dev X root`.
pub fn netem_args(d: &Direction) -> Vec<String> {
    let mut args = vec!["netem".to_string(), "limit".into(), limit_packets(d).to_string()];
    if !d.delay.is_zero() || !d.jitter.is_zero() {
        args.extend(["delay".into(), micros(d.delay)]);
        if !d.jitter.is_zero() {
            args.push(micros(d.jitter));
        }
    }
    if d.loss > 0.0 {
        args.extend(["loss".into(), percent(d.loss)]);
    }
    if let Some(bps) = rate(d) {
        args.extend(["rate".into(), format!("{bps}bit")]);
    }
    args
}

/// Puts `link` on `veth`: its down direction on the root side's end, its up direction
/// on the namespace's. Replaces whatever qdisc each end had.
pub fn shape(veth: &Veth, link: &LinkSpec) -> Result<(), NetnsError> {
    veth.set_qdisc(Side::Root, &netem_args(&link.down))?;
    veth.set_qdisc(Side::Inside, &netem_args(&link.up))
}

fn rate(d: &Direction) -> Option<u64> {
    d.bandwidth_bps.or((!d.jitter.is_zero()).then_some(IN_ORDER_RATE_BPS))
}

fn limit_packets(d: &Direction) -> u64 {
    let bps = rate(d).unwrap_or(IN_ORDER_RATE_BPS) as f64;
    let in_flight = bps / 8.0 * (d.delay + d.jitter).as_secs_f64() / FRAME_BYTES;
    ((2.0 * in_flight).ceil() as u64).clamp(MIN_LIMIT_PACKETS, MAX_LIMIT_PACKETS)
}

fn micros(d: Duration) -> String {
    format!("{}us", d.as_micros())
}

/// `0.02` → `2%`, `0.005` → `0.5%`: to a millionth of a percent, no float noise.
fn percent(share: f64) -> String {
    let pct = (share * 100.0 * 1e6).round() / 1e6;
    format!("{pct}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(spec: &str) -> (String, String) {
        let link: LinkSpec = spec.parse().unwrap();
        (netem_args(&link.down).join(" "), netem_args(&link.up).join(" "))
    }

    #[test]
    fn each_profile_becomes_one_qdisc_per_direction() {
        let lossy = "netem limit 1000 delay 50000us 10000us loss 2% rate 1000000bit";
        assert_eq!(args("lossy"), (lossy.into(), lossy.into()));
        let three_g = "netem limit 1000 delay 200000us rate 400000bit";
        assert_eq!(args("3g"), (three_g.into(), three_g.into()));
        assert_eq!(
            args("4g"),
            (
                "netem limit 1000 delay 30000us rate 8100000bit".into(),
                "netem limit 1000 delay 30000us rate 1350000bit".into()
            )
        );
        assert_eq!(args("lan").0, "netem limit 1000 delay 500us rate 1000000000bit");
        // Down: 10 Mbit/s × 310 ms = 256 frames in flight; twice that is under 1,000.
        assert_eq!(args("satellite").0, "netem limit 1000 delay 300000us 10000us rate 10000000bit");
    }

    #[test]
    fn jitter_without_a_bandwidth_still_gets_a_rate_to_stay_in_order() {
        // No bandwidth, no jitter: no rate; 10 Gbit/s × 50 ms is 41,282 frames in flight.
        assert_eq!(args("rtt=100ms").0, "netem limit 82563 delay 50000us");
        let jittery = args("rtt=40ms,jitter=5ms").0;
        assert!(jittery.ends_with(&format!("delay 20000us 5000us rate {IN_ORDER_RATE_BPS}bit")), "{jittery}");
        assert_eq!(args("rtt=0ms,loss=0.5%").0, format!("netem limit {MIN_LIMIT_PACKETS} loss 0.5%"));
    }

    #[test]
    fn the_limit_is_twice_what_is_in_flight_within_bounds() {
        // 1 Gbit/s × 100 ms = 8,256 frames in flight: a limit of 16,513.
        assert_eq!(args("rtt=200ms,bw=1gbit").0, "netem limit 16513 delay 100000us rate 1000000000bit");
        assert_eq!(args("delay=5s,bw=1gbit").0.split(' ').nth(2), Some("100000"));
        assert_eq!(args("loss=7%").0, "netem limit 1000 loss 7%", "no float noise: 7.000000000000001");
    }
}
