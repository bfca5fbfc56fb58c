//! One TLS connection, from the accepted socket to its close: the handshake (due within
//! `--header-timeout`), the protocol ALPN chose, hyper serving it, and SPEC §8's
//! timeouts and drain around hyper.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::TlsServer;
use super::counters::Gauge;
use super::service::{Activity, RouterService};
use crate::http1::{Connections, Limits, Slot};

/// While a request is in flight the idle check comes back this often (a fraction of the
/// idle timeout): a connection that goes idle is closed within 1.25 idle timeouts.
const IDLE_RECHECKS_PER_TIMEOUT: u32 = 4;

/// Serves one accepted TCP connection over TLS until it ends, the server drains or it
/// times out. Run it with [`Connections::spawn`], holding the `slot` it was admitted with.
pub async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    server: Arc<TlsServer>,
    router: Router,
    connections: Connections,
    slot: Slot,
) {
    let accepted = Instant::now();
    let counters = connections.counters().tls.clone();
    let limits = connections.limits();
    // A client that never finishes its handshake (or sends garbage) holds its place
    // under the cap only this long, like a slowloris request head.
    let handshake = tokio::time::timeout(limits.header_timeout, server.acceptor.accept(tcp));
    let tls = tokio::select! {
        biased;
        () = connections.stopped() => return,
        handshake = handshake => match handshake {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                counters.handshake_failure();
                return tracing::debug!(%peer, "TLS handshake failed: {e}");
            }
            Err(_) => {
                counters.handshake_timeout();
                return tracing::debug!(%peer, "TLS handshake not done within {:?}", limits.header_timeout);
            }
        },
    };
    counters.handshake();
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let _open = counters.open(if h2 { Gauge::H2Connection } else { Gauge::H1Connection });
    let activity = Arc::new(Activity::new());
    let service = RouterService {
        router,
        peer,
        activity: activity.clone(),
        h2_streams: h2.then(|| counters.clone()),
        connections: connections.clone(),
        slot: Arc::new(slot),
    };
    let builder = if h2 { &server.h2 } else { &server.h1 };
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    let mut connection = std::pin::pin!(connection);
    let mut draining = false;
    loop {
        let check = next_check(&activity, accepted, limits);
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, "TLS connection ended: {e}");
                }
                return;
            }
            // Graceful: HTTP/2 sends GOAWAY and lets open streams finish (SSE streams end
            // as the server cancels them); HTTP/1.1 closes after the answer in flight.
            () = connections.stopped(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(check.at), if !draining => {
                if let Some(expired) = check.expired(&activity, limits) {
                    expired.count(&connections);
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When to look at the connection's activity again.
struct Check {
    at: Instant,
    accepted: Instant,
}

/// Which limit a connection ran past.
enum Expired {
    /// No request within the header timeout of the handshake's start.
    FirstRequest,
    /// No request in flight for the idle timeout.
    Idle,
}

impl Expired {
    fn count(&self, connections: &Connections) {
        match self {
            Expired::FirstRequest => connections.counters().header_timeout(),
            Expired::Idle => connections.counters().idle_timeout(),
        }
    }
}

fn next_check(activity: &Activity, accepted: Instant, limits: Limits) -> Check {
    let at = if !activity.any_request() {
        accepted + limits.header_timeout
    } else {
        match activity.idle_since() {
            Some(since) => since + limits.idle_timeout,
            None => Instant::now() + recheck_interval(limits.idle_timeout),
        }
    };
    Check { at, accepted }
}

fn recheck_interval(idle_timeout: Duration) -> Duration {
    idle_timeout / IDLE_RECHECKS_PER_TIMEOUT
}

impl Check {
    /// The limit the connection has run past now, if any.
    fn expired(&self, activity: &Activity, limits: Limits) -> Option<Expired> {
        let now = Instant::now();
        if !activity.any_request() {
            return (now >= self.accepted + limits.header_timeout).then_some(Expired::FirstRequest);
        }
        activity.idle_since().filter(|since| now >= *since + limits.idle_timeout).map(|_| Expired::Idle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_open: 10,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_with_no_request_is_due_its_first_within_the_header_timeout() {
        let (activity, accepted) = (Activity::new(), Instant::now());
        let check = next_check(&activity, accepted, limits());
        assert_eq!(check.at, accepted + Duration::from_secs(10));
        assert!(check.expired(&activity, limits()).is_none());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(matches!(check.expired(&activity, limits()), Some(Expired::FirstRequest)));
    }

    #[test]
    fn a_request_in_flight_is_rechecked_at_a_quarter_of_the_idle_timeout() {
        assert_eq!(recheck_interval(Duration::from_secs(60)), Duration::from_secs(15));
    }
}
