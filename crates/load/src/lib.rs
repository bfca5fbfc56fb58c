//! pushlab-load: drives one of pushlab's four transports with many clients and
//! measures what it costs, figure by figure as SPEC §4 and `docs/methodology.md` define.
//!
//! The map:
//! - [`cli`], [`commands`]: `pushlab-load run` (one transport, a running server) and
//!   `pushlab-load compare` (a fresh [`server`] process per run).
//! - [`scenario`]: what a comparison runs — the sweep, the [`Knobs`](scenario::Knobs)
//!   every run shares, the presets — recorded as it ran in the results.
//! - [`faults`]: the fault lab — restarts, crashes, stream recycling and reconnect
//!   storms, one run each, and how long the clients take to recover.
//! - [`run`]: one run ([`scenario::RunSpec`]: the knobs, a transport, a client count) on its
//!   timeline: ramp, settle, window, drain.
//! - [`clients`]: one module per transport — [`clients::poll`], [`clients::long_poll`],
//!   [`clients::sse`] (with [`sse_parse`]), [`clients::ws`]. They speak; they don't measure.
//! - [`measure`]: the measuring, once: latency histograms per group of clients, tick
//!   accounting (delivered, duplicates, out of order, gaps), requests, errors by kind.
//! - [`link`]: a run over an emulated link (`--link`, `pushlab-link`): through the
//!   built-in emulator, recorded with its own CPU, or `tc netem` on a veth into a
//!   network namespace holding the clients' sockets (`--emulator`, [`link::path`]).
//! - [`proxy`]: the proxy lab (`--via`): Debian's nginx in front of the server, in
//!   three configurations, and what it did to each transport (works, broken, slowed, cut).
//! - [`net`]: connecting, and counting every byte on the client sockets;
//!   [`h2_frames`]: over HTTP/2, those bytes by frame type (HEADERS, DATA, control).
//! - [`reference`](mod@reference): which ticks were expected, read from the server's own log.
//! - [`radio`]: what the clients' socket timings would cost a phone's battery under an
//!   LTE and a 3G radio-state model: a model applied to measured timings.
//! - [`procfs`]: CPU and memory of the server and of this process; the fd limit.
//! - [`sockdiag`]: the kernel's memory for the server's sockets, socket by socket.
//! - [`calibrate`]: `pushlab-load calibrate`, what a loopback `send()` costs here: the
//!   unit server CPU per tick is also given in, so machines compare.
//! - [`results`], [`table`], [`html`]: the JSON, the terminal table, the report page.
//! - [`wire`]: `pushlab-load wire`, the exact bytes of one exchange per transport.
//! - [`cluster`]: `pushlab-load cluster`, a broker-fed cluster (nats-server, a
//!   publisher, replicas) started on this machine, for the demo and the tests.
//! - [`workers`]: `--workers N`, one run spread over N processes of this program (one
//!   holds ~19,000 sockets), their histograms merged exactly.
//! - [`hold`]: `pushlab-load hold`, idle and slowloris sockets against the server's
//!   connection hygiene (SPEC §8), and how long a real client beside them waited.

pub mod calibrate;
pub mod cli;
pub mod clients;
pub mod cluster;
pub mod commands;
pub mod faults;
pub mod h2_frames;
pub mod hold;
pub mod html;
pub mod link;
pub mod measure;
pub mod net;
pub mod procfs;
pub mod protocol;
pub mod proxy;
pub mod radio;
pub mod reference;
pub mod results;
pub mod run;
pub mod scenario;
pub mod server;
pub mod sockdiag;
pub mod sse_parse;
pub mod table;
pub mod tls;
pub mod wire;
pub mod workers;
