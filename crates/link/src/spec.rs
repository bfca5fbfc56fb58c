//! What a link is: a one-way delay, jitter, bandwidth and loss for each direction, and
//! the named profiles (`3g`, `satellite`, …) with the figures `docs/methodology.md`
//! gives a source for.
//!
//! A spec is written `rtt=100ms,jitter=10ms,bw=1mbit,loss=1%`, or a profile's name
//! optionally followed by overrides (`3g,loss=1%`). Keys:
//!
//! - `rtt` (split evenly between the two directions) or `delay` (one way, each
//!   direction): `us`, `ms` or `s`;
//! - `jitter`: each direction's delay varies uniformly by up to this much either way
//!   (never reordering a stream: see [`crate::pacer`]);
//! - `bw` (both directions), `down` (server to client), `up` (client to server):
//!   `bit`, `kbit`, `mbit` or `gbit` per second — bits, as `tc` writes them; `kbps` is
//!   refused because `tc` reads it as kilo*bytes*;
//! - `loss`: the share of TCP segments lost in each direction, with `%`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Longest one-way delay accepted: every link must keep a run bounded.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// Most loss accepted, in percent: past it TCP does little but back off.
pub const MAX_LOSS_PCT: f64 = 50.0;
/// Slowest bandwidth accepted, bits per second.
pub const MIN_BANDWIDTH_BPS: u64 = 1_000;

/// One direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Direction {
    pub delay: Duration,
    pub jitter: Duration,
    /// Bits per second; `None` is as fast as the relay can copy.
    pub bandwidth_bps: Option<u64>,
    /// Share of segments lost, 0..=0.5.
    pub loss: f64,
}

/// A link between one client and the server.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// The profile's name, or `custom`.
    pub name: String,
    /// Server to client.
    pub down: Direction,
    /// Client to server.
    pub up: Direction,
}

/// A named profile, with the spec it stands for. Sources: `docs/methodology.md`.
pub const PROFILES: &[(&str, &str)] = &[
    ("lan", "rtt=1ms,bw=1gbit"),
    ("wifi", "rtt=2ms,down=30mbit,up=15mbit"),
    ("4g", "rtt=60ms,down=8100kbit,up=1350kbit"),
    ("3g", "rtt=400ms,bw=400kbit"),
    ("satellite", "rtt=600ms,jitter=10ms,down=10mbit,up=2mbit"),
    ("lossy", "rtt=100ms,jitter=10ms,bw=1mbit,loss=2%"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("--link {0:?}: {1}; write e.g. rtt=100ms,jitter=10ms,bw=1mbit,loss=1% or one of {profiles}", profiles = profile_names())]
    Bad(String, String),
}

fn profile_names() -> String {
    PROFILES.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

impl LinkSpec {
    /// The Linux-like retransmission timeout a lost segment stalls its stream for:
    /// RFC 6298's SRTT + 4·RTTVAR, with the link's RTT and its jitter standing for the
    /// variation, never below Linux's `TCP_RTO_MIN` of 200 ms.
    pub fn rto(&self) -> Duration {
        let rtt = self.down.delay + self.up.delay;
        (rtt + 4 * self.down.jitter.max(self.up.jitter)).max(RTO_MIN)
    }

    pub fn rtt(&self) -> Duration {
        self.down.delay + self.up.delay
    }

    /// A profile by name.
    pub fn profile(name: &str) -> Option<LinkSpec> {
        let (name, spec) = PROFILES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        let mut link = parse_keys(LinkSpec::none(name), spec).expect("the profiles parse");
        link.name = (*name).to_string();
        Some(link)
    }

    /// No delay, no limit, no loss: a relay that only copies.
    pub fn none(name: &str) -> LinkSpec {
        LinkSpec { name: name.to_string(), down: Direction::default(), up: Direction::default() }
    }

    /// What the results record: every figure in plain units.
    pub fn figures(&self) -> LinkFigures {
        let kbit = |d: &Direction| d.bandwidth_bps.map(|b| b as f64 / 1e3);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        LinkFigures {
            name: self.name.clone(),
            spec: self.to_string(),
            rtt_ms: ms(self.rtt()),
            jitter_ms: ms(self.down.jitter.max(self.up.jitter)),
            down_kbit_s: kbit(&self.down),
            up_kbit_s: kbit(&self.up),
            loss_pct: self.down.loss.max(self.up.loss) * 100.0,
            rto_ms: ms(self.rto()),
        }
    }
}

/// Linux's minimum retransmission timeout (`TCP_RTO_MIN`).
pub const RTO_MIN: Duration = Duration::from_millis(200);

/// A link as the results file records it (`"link"` in a run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkFigures {
    pub name: String,
    /// The spec in full, as `--link` would take it.
    pub spec: String,
    pub rtt_ms: f64,
    pub jitter_ms: f64,
    pub down_kbit_s: Option<f64>,
    pub up_kbit_s: Option<f64>,
    pub loss_pct: f64,
    /// The retransmission timeout a lost segment stalls for ([`LinkSpec::rto`]).
    pub rto_ms: f64,
}

impl std::str::FromStr for LinkSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, SpecError> {
        let text = text.trim();
        let (first, rest) = text.split_once(',').unwrap_or((text, ""));
        if let Some(profile) = LinkSpec::profile(first) {
            if rest.is_empty() {
                return Ok(profile);
            }
            let mut link = parse_keys(profile, rest).map_err(|e| SpecError::Bad(text.into(), e))?;
            link.name = "custom".into();
            return Ok(link);
        }
        if !first.contains('=') {
            return Err(SpecError::Bad(text.into(), format!("{first:?} is not a profile")));
        }
        parse_keys(LinkSpec::none("custom"), text).map_err(|e| SpecError::Bad(text.into(), e))
    }
}

fn parse_keys(mut link: LinkSpec, text: &str) -> Result<LinkSpec, String> {
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not key=value"))?;
        let both = |link: &mut LinkSpec, set: &dyn Fn(&mut Direction)| {
            set(&mut link.down);
            set(&mut link.up);
        };
        match key.trim() {
            "rtt" => {
                let half = duration(value)? / 2;
                both(&mut link, &|d| d.delay = half);
            }
            "delay" => {
                let one_way = duration(value)?;
                both(&mut link, &|d| d.delay = one_way);
            }
            "jitter" => {
                let jitter = duration(value)?;
                both(&mut link, &|d| d.jitter = jitter);
            }
            "bw" => {
                let bps = bandwidth(value)?;
                both(&mut link, &|d| d.bandwidth_bps = Some(bps));
            }
            "down" => link.down.bandwidth_bps = Some(bandwidth(value)?),
            "up" => link.up.bandwidth_bps = Some(bandwidth(value)?),
            "loss" => {
                let loss = loss(value)?;
                both(&mut link, &|d| d.loss = loss);
            }
            other => return Err(format!("unknown key {other:?} (rtt, delay, jitter, bw, down, up, loss)")),
        }
    }
    for d in [&link.down, &link.up] {
        if d.delay > MAX_DELAY || d.jitter > MAX_DELAY {
            return Err(format!("a one-way delay or jitter above {MAX_DELAY:?}"));
        }
    }
    Ok(link)
}

/// `150ms`, `2s`, `500us`, `1.5ms`.
fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 100ms"))?;
    let seconds = match unit {
        "us" | "µs" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        _ => return Err(format!("{text:?}: give a unit, us, ms or s")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is not a duration"))
}

/// `400kbit`, `1mbit`, `1.35mbit`, `1gbit`, `9600bit`.
fn bandwidth(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("{text:?} is not a bandwidth like 1mbit"))?;
    let scale = match unit {
        "bit" => 1.0,
        "kbit" => 1e3,
        "mbit" => 1e6,
        "gbit" => 1e9,
        "kbps" | "mbps" | "gbps" => {
            return Err(format!("{text:?}: tc reads {unit} as bytes per second; write kbit, mbit or gbit"));
        }
        _ => return Err(format!("{text:?}: give a unit, bit, kbit, mbit or gbit (per second)")),
    };
    let bps = (number * scale).round();
    if bps < MIN_BANDWIDTH_BPS as f64 || !bps.is_finite() {
        return Err(format!("{text:?}: at least {MIN_BANDWIDTH_BPS} bit/s"));
    }
    Ok(bps as u64)
}

/// `1%`, `0.5%`.
fn loss(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let number = text.strip_suffix('%').ok_or_else(|| format!("{text:?}: write loss in percent, e.g. 1%"))?;
    let pct: f64 = number.parse().map_err(|_| format!("{text:?} is not a percentage"))?;
    if !(0.0..=MAX_LOSS_PCT).contains(&pct) {
        return Err(format!("{text:?}: between 0% and {MAX_LOSS_PCT}%"));
    }
    Ok(pct / 100.0)
}

impl fmt::Display for LinkSpec {
    /// The spec in the form `--link` reads, per direction where they differ.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, u) = (&self.down, &self.up);
        let mut parts = Vec::new();
        if d.delay == u.delay {
            parts.push(format!("rtt={}", show_duration(d.delay * 2)));
        } else {
            parts.push(format!("delay={}", show_duration(d.delay)));
        }
        if !d.jitter.is_zero() {
            parts.push(format!("jitter={}", show_duration(d.jitter)));
        }
        match (d.bandwidth_bps, u.bandwidth_bps) {
            (Some(a), Some(b)) if a == b => parts.push(format!("bw={}", show_bandwidth(a))),
            (down, up) => {
                parts.extend(down.map(|b| format!("down={}", show_bandwidth(b))));
                parts.extend(up.map(|b| format!("up={}", show_bandwidth(b))));
            }
        }
        if d.loss > 0.0 {
            parts.push(format!("loss={}%", d.loss * 100.0));
        }
        f.write_str(&parts.join(","))
    }
}

fn show_duration(d: Duration) -> String {
    if !d.subsec_micros().is_multiple_of(1000) {
        format!("{}us", d.as_micros())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn show_bandwidth(bps: u64) -> String {
    match bps {
        b if b.is_multiple_of(1_000_000_000) => format!("{}gbit", b / 1_000_000_000),
        b if b.is_multiple_of(1_000_000) => format!("{}mbit", b / 1_000_000),
        b if b.is_multiple_of(1_000) => format!("{}kbit", b / 1_000),
        b => format!("{b}bit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_custom_spec_sets_both_directions() {
        let link: LinkSpec = "rtt=100ms,jitter=10ms,bw=1mbit,loss=1%".parse().unwrap();
        let each = Direction { delay: ms(50), jitter: ms(10), bandwidth_bps: Some(1_000_000), loss: 0.01 };
        assert_eq!(link, LinkSpec { name: "custom".into(), down: each, up: each });
        assert_eq!(link.rto(), ms(200), "100 ms + 4 × 10 ms is under Linux's floor");
        assert_eq!(link.to_string(), "rtt=100ms,jitter=10ms,bw=1mbit,loss=1%");
    }

    #[test]
    fn profiles_parse_and_take_overrides() {
        for (name, _) in PROFILES {
            let link: LinkSpec = name.parse().unwrap();
            assert_eq!(&link.name, name);
            assert_eq!(link.to_string().parse::<LinkSpec>().unwrap().down, link.down, "{name} round-trips");
        }
        let sat = LinkSpec::profile("satellite").unwrap();
        assert_eq!((sat.rtt(), sat.rto()), (ms(600), ms(640)));
        assert_eq!((sat.down.bandwidth_bps, sat.up.bandwidth_bps), (Some(10_000_000), Some(2_000_000)));
        let lossy_3g: LinkSpec = "3g,loss=1%".parse().unwrap();
        assert_eq!((lossy_3g.name.as_str(), lossy_3g.rtt(), lossy_3g.up.loss), ("custom", ms(400), 0.01));
        assert_eq!(LinkSpec::profile("4g").unwrap().figures().down_kbit_s, Some(8100.0));
    }

    #[test]
    fn per_direction_forms() {
        let link: LinkSpec = "delay=30ms,down=2mbit,up=256kbit".parse().unwrap();
        assert_eq!((link.down.delay, link.up.delay, link.rtt()), (ms(30), ms(30), ms(60)));
        assert_eq!((link.down.bandwidth_bps, link.up.bandwidth_bps), (Some(2_000_000), Some(256_000)));
        assert_eq!(link.to_string(), "rtt=60ms,down=2mbit,up=256kbit");
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let error = |text: &str| text.parse::<LinkSpec>().unwrap_err().to_string();
        assert!(error("5g").contains("\"5g\" is not a profile"), "{}", error("5g"));
        assert!(error("5g").contains("lan, wifi, 4g, 3g, satellite, lossy"));
        assert!(error("rtt=100").contains("give a unit"));
        assert!(error("bw=1mbps").contains("bytes per second"));
        assert!(error("loss=1").contains("in percent"));
        assert!(error("loss=60%").contains("between 0% and 50%"));
        assert!(error("rtt=100ms,colour=red").contains("unknown key \"colour\""));
        assert!(error("rtt=20s").contains("above 5s"));
        assert!(error("bw=10bit").contains("at least 1000 bit/s"));
        assert!(error("rtt=100ms,,jitter").contains("not key=value"));
    }
}
