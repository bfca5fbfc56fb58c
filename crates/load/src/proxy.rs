//! The proxy lab (`--via`): a run's clients go through Debian's nginx, started for
//! that run in front of the server, and the run records what the proxy did to the
//! transport — whether it still works, is broken (and with which answer), is slowed
//! (delivered in lumps), or is cut after the proxy's read timeout.
//!
//! - [`config`]: the three nginx configurations, the lines `docs/proxies.md` quotes.
//! - [`nginx`]: the process: its own folder, a free port, unprivileged, stopped when done.
//! - [`logs`]: what nginx itself logged — statuses, requests cut by its read timeout.
//! - [`outcome`]: how a run's figures, beside the same run direct, are classified.
//!
//! As with a link, only the clients go through the proxy; the load generator's own
//! control traffic (stats, the expected-ticks reader) goes to the server directly.

pub mod config;
pub mod logs;
pub mod nginx;
pub mod outcome;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::net::Target;
use pushlab_contract::Transport;

/// What stands between the clients and the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// Nothing: the clients connect to the server.
    #[default]
    Direct,
    /// nginx with a bare `proxy_pass` and its defaults: HTTP/1.0 upstream, no Upgrade
    /// headers, buffering on, the lab's read timeout (nginx's own is 60 s).
    NginxDefault,
    /// nginx configured for every transport: HTTP/1.1 upstream, Upgrade passed on,
    /// buffering off, timeouts above every keepalive.
    NginxTuned,
    /// A hostile middlebox: nginx buffering responses whatever the upstream asks
    /// (X-Accel-Buffering ignored), WebSocket passed on.
    BufferingProxy,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Via::Direct => "direct",
            Via::NginxDefault => "nginx-default",
            Via::NginxTuned => "nginx-tuned",
            Via::BufferingProxy => "buffering-proxy",
        };
        f.write_str(name)
    }
}

/// The proxy flags `run` and `compare` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProxyFlags {
    /// How long nginx-default and buffering-proxy wait for the upstream to send
    /// anything before they cut the request (`proxy_read_timeout`, whole seconds)
    /// [default: nginx's, 60s; the proxies preset: 10s].
    #[arg(long, env = "PUSHLAB_LOAD_PROXY_READ_TIMEOUT", value_parser = whole_seconds)]
    pub proxy_read_timeout: Option<Duration>,
    /// The nginx binary for --via [default: nginx on PATH, else /usr/sbin/nginx].
    #[arg(long, env = "PUSHLAB_LOAD_NGINX_BIN")]
    pub nginx_bin: Option<PathBuf>,
}

/// A `--proxy-read-timeout`: whole seconds, 1 s to 1 h (nginx takes seconds).
fn whole_seconds(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    let s = d.as_secs();
    if d.subsec_nanos() == 0 && (1..=3600).contains(&s) {
        Ok(d)
    } else {
        Err("expected whole seconds from 1s to 1h (nginx's proxy_read_timeout)".into())
    }
}

/// What the proxy of one run was and did (`proxy` in a run record). Direct runs of a
/// proxy comparison carry one too (their `via` is `direct`, the proxy's figures absent),
/// so every run has its outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyRecord {
    pub via: Via,
    /// `nginx -v`'s version, e.g. `nginx/1.22.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The read timeout the proxy had (`proxy_read_timeout`), s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout_s: Option<f64>,
    /// Its configuration's lines that differ between the modes, one a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The server's keepalive for idle streams in this run, e.g. `15 s` or `off`.
    pub stream_keepalive: String,
    /// Requests the proxy logged (whole run), and the statuses it answered, `200 × 40, 400 × 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Requests it cut because the upstream sent nothing for its read timeout, and how
    /// long the median one had lasted, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_timeouts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_s: Option<f64>,
    /// `works`, `broken`, `slowed`, `cut` or `not-compared` ([`outcome`]).
    pub outcome: String,
    /// What the outcome rests on, in a few words.
    pub outcome_detail: String,
}

/// The proxy lab's knobs: what stands between the clients and the server for one run
/// (a scenario records its sweep in `vias`), and what makes a read timeout bite.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyKnobs {
    /// `None` outside the proxy lab; `Some(Direct)` for its direct runs (recorded too).
    #[serde(skip)]
    pub via: Option<Via>,
    /// The server's `--sse-keepalive-off`: idle SSE streams get no comment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sse_keepalive_off: bool,
    /// nginx-default's and buffering-proxy's `proxy_read_timeout` (whole seconds, written
    /// in ms like every knob; `None`: nginx's 60 s).
    #[serde(
        rename = "proxy_read_timeout_ms",
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::scenario::millis_opt"
    )]
    pub read_timeout: Option<Duration>,
    /// The nginx binary (`--nginx-bin`), not recorded: the record says its version.
    #[serde(skip)]
    pub nginx_bin: Option<std::path::PathBuf>,
}

impl ProxyKnobs {
    /// The flags the proxy itself is started with.
    pub fn flags(&self) -> ProxyFlags {
        ProxyFlags { proxy_read_timeout: self.read_timeout, nginx_bin: self.nginx_bin.clone() }
    }
}

/// The proxy of a running run (none for `direct`).
#[derive(Debug)]
pub struct RunProxy {
    via: Via,
    nginx: Option<nginx::Nginx>,
    server: Option<String>,
    read_timeout: Duration,
    config: Vec<String>,
}

impl RunProxy {
    /// `via` in front of `upstream` (nothing for `direct`).
    pub async fn start(via: Via, upstream: SocketAddr, flags: &ProxyFlags) -> anyhow::Result<Self> {
        let read_timeout = match via {
            Via::NginxTuned => config::TUNED_READ_TIMEOUT,
            _ => flags.proxy_read_timeout.unwrap_or(config::NGINX_DEFAULT_READ_TIMEOUT),
        };
        let mut proxy = Self { via, nginx: None, server: None, read_timeout, config: Vec::new() };
        if via != Via::Direct {
            let bin = match &flags.nginx_bin {
                Some(bin) => bin.clone(),
                None => nginx::find_binary()?,
            };
            proxy.server = Some(nginx::version(&bin).await?);
            proxy.config = config::recorded(via, upstream, read_timeout);
            proxy.nginx = Some(nginx::Nginx::start(&bin, via, upstream, read_timeout).await?);
        }
        Ok(proxy)
    }

    /// Where the clients connect: the proxy, with the server's `Host`; the server itself when direct.
    pub fn client_target(&self, server: &Target) -> Target {
        match &self.nginx {
            Some(nginx) => Target { addr: nginx.addr, via: None, ..server.clone() },
            None => server.clone(),
        }
    }

    /// Stops the proxy once the clients are gone and records it; `stream_keepalive` is
    /// the server's, as the run set it. The outcome is classified later, beside the
    /// direct run ([`outcome::classify`]).
    pub async fn stop(self, stream_keepalive: String) -> anyhow::Result<ProxyRecord> {
        let mut record = ProxyRecord { via: self.via, stream_keepalive, ..ProxyRecord::default() };
        if let Some(nginx) = self.nginx {
            let (access, errors) = nginx.stop().await?;
            let log = logs::read(&access, &errors);
            record.server = self.server;
            record.read_timeout_s = Some(self.read_timeout.as_secs_f64());
            record.config = Some(self.config.join("\n"));
            record.requests = Some(log.requests);
            let status: Vec<String> = log.status.iter().map(|(s, n)| format!("{s} × {n}")).collect();
            record.status = Some(status.join(", "));
            record.upstream_timeouts = Some(log.upstream_timeouts);
            record.cut_after_s = log.cut_after_s.map(|s| s.p50);
        }
        Ok(record)
    }
}

/// The server's stream keepalive as a proxy record says it for `transport`: `off`
/// (SSE with `--sse-keepalive-off`), its period, or `no stream` (poll, long-poll).
pub fn keepalive_label(transport: Transport, keepalive: Option<Duration>, sse_off: bool) -> String {
    match transport {
        Transport::Poll | Transport::LongPoll => return "no stream".into(),
        Transport::Sse if sse_off => return "off".into(),
        Transport::Sse | Transport::Ws => {}
    }
    let ms = keepalive.map_or(15_000, |k| k.as_millis());
    if ms.is_multiple_of(1000) { format!("{} s", ms / 1000) } else { format!("{ms} ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_timeouts_are_whole_seconds_nginx_can_take() {
        assert_eq!(whole_seconds("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(whole_seconds("1m"), Ok(Duration::from_secs(60)));
        for bad in ["500ms", "0s", "2h", "1.5s", "ten"] {
            assert!(whole_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_keepalive_is_said_as_the_server_had_it() {
        assert_eq!(keepalive_label(Transport::Sse, None, false), "15 s");
        assert_eq!(keepalive_label(Transport::Ws, Some(Duration::from_millis(2500)), true), "2500 ms");
        assert_eq!(keepalive_label(Transport::Sse, Some(Duration::from_secs(5)), true), "off");
        assert_eq!(keepalive_label(Transport::LongPoll, None, true), "no stream");
    }
}
