//! The live demo on an emulated link: for each `--demo-links` profile, a port of its
//! own where a `pushlab-link` emulator relays every connection to this server through
//! the link (a thread each, idle when nobody uses it). The page lists them from
//! `GET /api/links` and moves its four panels there, side by side, on the same link.
//!
//! A page served from one port that fetches from another is cross-origin to the
//! browser: [`cors`] lets this server's own ports use each other (and only them), and
//! the WebSocket origin check accepts them the same way (`origin.rs`).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use pushlab_link::{Emulator, LinkFigures, LinkSpec};
use serde::Serialize;

use crate::origin::{host, is_own_port_origin};
use crate::state::AppState;

/// Seed of the demo links' jitter and losses: the same link behaves the same each run.
const DEMO_LINK_SEED: u64 = 42;

/// One link the demo offers, as `GET /api/links` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLink {
    pub port: u16,
    #[serde(flatten)]
    pub figures: LinkFigures,
    /// Which emulator carries it, and what this kernel said about `tc netem`.
    pub emulator: &'static str,
    pub netem: &'static str,
}

/// The running emulators: dropping them closes their ports and connections.
#[derive(Debug, Default)]
pub struct DemoLinks {
    emulators: Vec<Emulator>,
}

impl DemoLinks {
    /// An emulator per profile, listening on `server`'s address (any port), relaying
    /// to `server` (its loopback address when it listens on every interface).
    pub fn start(profiles: &[String], server: SocketAddr) -> io::Result<Self> {
        let upstream = match server {
            addr if addr.ip().is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
            addr => addr,
        };
        let mut emulators = Vec::new();
        for name in profiles {
            let link = LinkSpec::profile(name)
                .ok_or_else(|| io::Error::other(format!("{name:?} is not a link profile")))?;
            let emulator = Emulator::start(link, upstream, SocketAddr::new(server.ip(), 0), DEMO_LINK_SEED)?;
            tracing::info!("demo link {name} on {}", emulator.addr());
            emulators.push(emulator);
        }
        Ok(Self { emulators })
    }

    pub fn ports(&self) -> Vec<u16> {
        self.emulators.iter().map(|e| e.addr().port()).collect()
    }

    pub fn list(&self) -> Vec<DemoLink> {
        self.emulators
            .iter()
            .map(|e| DemoLink {
                port: e.addr().port(),
                figures: e.link().figures(),
                emulator: "builtin",
                netem: pushlab_link::netem_status(),
            })
            .collect()
    }
}

/// `GET /api/links`: the demo's links, empty without `--demo-links`.
pub async fn links(State(state): State<AppState>) -> Json<Vec<DemoLink>> {
    Json(state.demo_links.get().cloned().unwrap_or_default())
}

/// A page of one of this server's ports may read the API from another: the answer says
/// so (`Access-Control-Allow-Origin`, echoing that origin) for those origins only.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.as_ref().and_then(|o| o.to_str().ok()).is_some_and(|o| {
        o != format!("http://{}", host(request.headers()))
            && is_own_port_origin(o, host(request.headers()), state.own_ports())
    });
    let mut response = next.run(request).await;
    if let (true, Some(origin)) = (allowed, origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}
