//! HTTP/2 (`--http2 --streams-per-connection N`): clients share connections, N
//! streams to each, as the tabs of one browser share one connection to a host.
//!
//! Client `i` uses connection `i / N`. Whichever of its clients needs it first opens it
//! (TCP, TLS with ALPN `h2`, the HTTP/2 preface and SETTINGS), counted as that client's
//! connect; the others clone its sender and open streams on it. When the connection
//! breaks, every stream on it fails, each client counts its own error, and the first to
//! come back opens the next one: the reconnect policy applies per stream, as it would to
//! `EventSource`s sharing one connection.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tokio::sync::Mutex;

use super::{Client, ClientError};
use crate::net::{self, H2Sender, HttpSender};
use crate::tls::Alpn;

/// The shared HTTP/2 connections of a run.
#[derive(Debug)]
pub struct H2Pool {
    streams_per_connection: usize,
    /// One per connection: its sender once open. A tokio mutex, held across the connect,
    /// so the clients of a connection opening wait for it instead of opening their own.
    slots: Vec<Mutex<Option<H2Sender>>>,
    /// Connections opened, reconnects included.
    opened: AtomicU64,
}

impl H2Pool {
    pub fn new(clients: usize, streams_per_connection: usize) -> Self {
        let per = streams_per_connection.max(1);
        let slots = (0..clients.div_ceil(per)).map(|_| Mutex::new(None)).collect();
        Self { streams_per_connection: per, slots, opened: AtomicU64::new(0) }
    }

    /// Connections opened so far, reconnects included.
    pub fn opened(&self) -> u64 {
        self.opened.load(Relaxed)
    }
}

impl Client {
    /// The sender of this client's shared connection, opened first if nobody has (or the
    /// last one closed).
    pub async fn h2_sender(&mut self) -> Result<HttpSender, ClientError> {
        let settings = self.settings.clone();
        let pool = settings.h2.as_ref().expect("an HTTP/2 run has a pool");
        let mut slot = pool.slots[self.index / pool.streams_per_connection].lock().await;
        if let Some(sender) = slot.as_ref().filter(|s| !s.is_closed()) {
            return Ok(HttpSender::Http2(sender.clone()));
        }
        let stream = self.connect_stream(Alpn::Http2).await?;
        if stream.alpn() != Some(b"h2".as_slice()) {
            return Err(ClientError::Protocol("the server did not choose h2 in ALPN"));
        }
        let sender = net::http2(stream).await?;
        pool.opened.fetch_add(1, Relaxed);
        *slot = Some(sender.clone());
        Ok(HttpSender::Http2(sender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_spread_n_to_a_connection() {
        assert_eq!(H2Pool::new(2000, 100).slots.len(), 20);
        assert_eq!(H2Pool::new(2001, 100).slots.len(), 21);
        assert_eq!(H2Pool::new(5, 1).slots.len(), 5);
        assert_eq!(H2Pool::new(5, 0).slots.len(), 5, "0 streams per connection means 1");
    }
}
