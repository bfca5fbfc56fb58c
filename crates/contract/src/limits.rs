//! The protocol's bounds: what the server accepts, and so what a client may ask for.
//! Each is checked on the server (a 400 naming the parameter) and by the load generator
//! before it starts a run it would only see refused.

use std::ops::RangeInclusive;

/// `--rate` and `POST /api/admin/rate`: ticks per second over all symbols.
pub const RATE_RANGE: RangeInclusive<f64> = 0.1..=100_000.0;

/// `limit` of poll and long-poll: ticks per answer.
pub const LIMIT_DEFAULT: u64 = 1000;
pub const LIMIT_RANGE: RangeInclusive<u64> = 1..=10_000;

/// `timeout_ms` of long-poll: how long the server holds a request with nothing to say.
/// Under typical proxy idle timeouts (60 s).
pub const LONG_POLL_TIMEOUT_MS_DEFAULT: u64 = 25_000;
pub const LONG_POLL_TIMEOUT_MS_RANGE: RangeInclusive<u64> = 0..=60_000;

/// `--history`: ticks the server keeps for resuming.
pub const HISTORY_DEFAULT: u64 = 4096;
pub const HISTORY_RANGE: RangeInclusive<u64> = 1..=10_000_000;

/// `--payload-bytes`: the size ticks are padded to.
pub const PAYLOAD_BYTES_RANGE: RangeInclusive<u64> = 64..=65_536;

/// The most symbols a feed carries (a client's filter is a 64-bit set).
pub const MAX_SYMBOLS: usize = 64;

/// The largest WebSocket message a client may send; past it the server closes with 1009.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 4096;

/// The reconnect delay an SSE stream asks `EventSource` to use (`retry:`), in ms.
pub const SSE_RETRY_MS: u64 = 1000;

/// The longest write coalescing a server takes (`--coalesce`, in ms): a stream waits
/// at most this long after a tick before writing.
pub const COALESCE_MAX_MS: u64 = 1000;
