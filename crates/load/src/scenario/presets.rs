//! The runs of the presets that list theirs (efficiency, battery, proxies), and the
//! constants the conditions, battery and proxies presets are made of.

use std::time::Duration;

use pushlab_contract::Transport;

use super::{Knobs, ProxyKnobs, Step};
use crate::proxy::Via;

/// The conditions preset's links, from the fastest to the slowest round trip, then the
/// lossy one (`pushlab-link`'s profiles).
pub const CONDITIONS_LINKS: [&str; 5] = ["lan", "4g", "3g", "satellite", "lossy"];

/// The battery preset's clients, and the one symbol (of the server's 8) they follow.
pub const BATTERY_CLIENTS: usize = 50;
pub const BATTERY_SYMBOL: &str = "ACME";
/// Ticks/s over all 8 symbols: one symbol's share of 8/60 is a tick a minute per client
/// (on average: the walk picks the symbol at random); of 20, 2.5 a second.
pub const BATTERY_QUIET_RATE: f64 = 8.0 / 60.0;
pub const BATTERY_BUSY_RATE: f64 = 20.0;

/// The battery preset's runs: the quiet feed's, with the keepalive each stream would
/// send, then the busy feed's four.
pub(super) fn battery_steps() -> Vec<Step> {
    use Transport::*;
    let quiet = |t| Step::new(t, BATTERY_CLIENTS, BATTERY_QUIET_RATE);
    let keepalive = |t, s| Step { keepalive: Some(Duration::from_secs(s)), ..quiet(t) };
    let mut steps =
        vec![Step { poll_interval: Some(Duration::from_secs(15)), ..quiet(Poll) }, quiet(LongPoll)];
    steps.extend([Sse, Ws].into_iter().flat_map(|t| [keepalive(t, 15), keepalive(t, 60)]));
    steps.extend([Poll, LongPoll, Sse, Ws].map(|t| Step::new(t, BATTERY_CLIENTS, BATTERY_BUSY_RATE)));
    steps
}

/// The efficiency preset's runs: each figure of the efficiency issue's table.
pub(super) fn efficiency_steps() -> Vec<Step> {
    use Transport::*;
    let coalesced = |t, ms| Step { coalesce: Duration::from_millis(ms), ..Step::new(t, 2000, 100.0) };
    let mut steps: Vec<Step> = [Poll, LongPoll, Sse, Ws].map(|t| Step::new(t, 100, 20.0)).into();
    steps.extend([Ws, Sse, LongPoll].map(|t| Step::new(t, 5000, 1.0)));
    steps.extend([Ws, Sse].map(|t| Step::new(t, 2000, 100.0)));
    steps.extend([10, 50].into_iter().flat_map(|ms| [coalesced(Ws, ms), coalesced(Sse, ms)]));
    steps.push(Step::new(LongPoll, 1000, 20.0));
    steps.push(Step { poll_interval: Some(Duration::from_millis(250)), ..Step::new(Poll, 2000, 20.0) });
    steps
}

/// The proxies preset's proxies, direct first: each proxied run is held against it.
pub const PROXIES_VIAS: [Via; 4] = [Via::Direct, Via::NginxDefault, Via::NginxTuned, Via::BufferingProxy];
pub const PROXIES_CLIENTS: usize = 20;
/// The busy feed: 20 ticks/s, ~1.9 kB/s of SSE, so a 4 kB proxy buffer fills in ~2 s.
pub const PROXIES_BUSY_RATE: f64 = 20.0;
/// The quiet feed: a tick every 5 s, longer than the read timeout, so a stream that
/// sends nothing in between is idle long enough to be cut.
pub const PROXIES_QUIET_RATE: f64 = 0.2;
/// The untuned proxies' `proxy_read_timeout` in the preset: nginx's 60 s scaled down
/// (as the quiet feed's gap is) so the preset takes minutes, not hours.
pub const PROXIES_READ_TIMEOUT: Duration = Duration::from_secs(3);
/// The keepalive of the quiet SSE run that keeps its stream alive: below the read timeout.
const PROXIES_KEEPALIVE: Duration = Duration::from_secs(1);

/// The proxies preset's knobs: short phases, the scaled-down read timeout.
pub(super) fn proxies_knobs(quick: Knobs) -> Knobs {
    Knobs {
        duration: Duration::from_secs(5),
        ramp: Duration::from_secs(1),
        settle: Duration::from_secs(1),
        proxy: ProxyKnobs { read_timeout: Some(PROXIES_READ_TIMEOUT), ..ProxyKnobs::default() },
        ..quick
    }
}

/// The proxies preset's runs: each transport on the busy feed through each proxy, then
/// on the quiet feed SSE (keepalive off, and on below the read timeout) and long-poll
/// (held past the read timeout), direct, through the default proxy and the tuned one.
pub(super) fn proxies_steps() -> Vec<Step> {
    use Transport::*;
    let through = |via, step: Step| Step { via: Some(via), ..step };
    let mut steps: Vec<Step> = [Poll, LongPoll, Sse, Ws]
        .into_iter()
        .flat_map(|t| PROXIES_VIAS.map(|via| through(via, Step::new(t, PROXIES_CLIENTS, PROXIES_BUSY_RATE))))
        .collect();
    let quiet = |t| Step::new(t, PROXIES_CLIENTS, PROXIES_QUIET_RATE);
    let silent_sse = Step { sse_keepalive_off: true, ..quiet(Sse) };
    let kept_sse = Step { keepalive: Some(PROXIES_KEEPALIVE), ..quiet(Sse) };
    for via in [Via::Direct, Via::NginxDefault, Via::NginxTuned] {
        steps.push(through(via, silent_sse.clone()));
    }
    steps.push(through(Via::NginxDefault, kept_sse));
    for via in [Via::Direct, Via::NginxDefault, Via::NginxTuned] {
        steps.push(through(via, quiet(LongPoll)));
    }
    steps
}

/// The http2 preset's clients and rate: SSE streams over each protocol.
pub(super) const HTTP2_CLIENTS: usize = 2000;
pub(super) const HTTP2_RATE: f64 = 20.0;
/// The streams per HTTP/2 connection it compares.
pub(super) const HTTP2_STREAMS_PER_CONNECTION: [usize; 3] = [1, 10, 100];

/// The http2 preset's runs: SSE on plain HTTP/1.1, over TLS, then HTTP/2 with more and
/// more streams per connection.
pub(super) fn http2_steps() -> Vec<Step> {
    let sse = Step::new(Transport::Sse, HTTP2_CLIENTS, HTTP2_RATE);
    let mut steps = vec![sse.clone(), Step { tls: true, ..sse.clone() }];
    steps.extend(HTTP2_STREAMS_PER_CONNECTION.map(|n| Step {
        tls: true,
        http2_streams: Some(n),
        ..sse.clone()
    }));
    steps
}
