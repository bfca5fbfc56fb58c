//! pushlab-contract: what the server, the load generator and the pages must agree on.
//!
//! Both Rust sides compile against these definitions, so a name or a bound changed here
//! changes everywhere; the pages read the same facts from the results file and from
//! `GET /api/figures`. The map:
//!
//! - [`transport`]: the four transports and their names on the command line, in URLs of
//!   the stats and in the results.
//! - [`limits`]: every protocol bound a client can run into (rates, `limit`,
//!   `timeout_ms`, message sizes), with its unit in its name.
//! - [`epoch`]: which run of the server's log a cursor belongs to, and the
//!   `<epoch>-<seq>` form cursors travel in (SPEC §7).
//! - [`messages`]: the JSON on the wire — the tick, the poll body, WebSocket control
//!   messages, `/api/stats`.
//! - [`figures`]: the catalogue of every measured figure — key, label, unit, which way is
//!   better — and the thresholds the table and the report both apply.
//! - [`format`](mod@format): the one way each unit is written (decimal SI bytes, µs/ms/s, "not
//!   measured"), twin of the pages' `web/format.js`.

pub mod epoch;
pub mod figures;
pub mod format;
pub mod limits;
pub mod messages;
pub mod transport;

pub use epoch::{Position, PositionError};
pub use messages::*;
pub use transport::Transport;
