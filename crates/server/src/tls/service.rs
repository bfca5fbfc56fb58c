//! The router as hyper's service on one TLS connection: what the plain layer
//! ([`crate::http1`]) does around the router, done here for hyper.
//!
//! - Each request gets the peer's address (`ConnectInfo`, for the loopback-only admin
//!   endpoint and the origin check).
//! - A request is in flight until its response body is dropped (an SSE stream is in
//!   flight for as long as it lives): [`Activity`] tells the connection when it has been
//!   idle, and on HTTP/2 each stream is counted (`connections.tls.h2_streams_open`).
//! - A `101` answer carrying the WebSocket session ([`OnUpgrade`]) gets hyper's upgraded
//!   connection once hyper has written the `101`: wss:// runs the same session code.
//! - A response marked [`CloseUnanswered`] (a request while the server drains) is not
//!   sent: the service fails, and hyper closes the HTTP/1.1 connection or resets the
//!   HTTP/2 stream, which an `EventSource` retries after, as after a network error.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;
use tower::ServiceExt;

use super::counters::{Gauge, Open, TlsCounters};
use crate::http1::{CloseUnanswered, Connections, OnUpgrade, Slot, Upgraded, UpgradedIo};

/// Requests in flight on one connection, and since when it has had none.
#[derive(Debug)]
pub(crate) struct Activity {
    in_flight: AtomicU64,
    requests: AtomicU64,
    idle_since: Mutex<Instant>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            in_flight: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// `None` while a request is in flight, else since when none has been.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::SeqCst) == 0)
            .then(|| *self.idle_since.lock().expect("idle_since poisoned"))
    }

    /// Whether any request has arrived (the first one is due within the header timeout).
    pub(crate) fn any_request(&self) -> bool {
        self.requests.load(Ordering::Relaxed) > 0
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }
}

/// One request in flight, until its response body is dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().expect("idle_since poisoned") = Instant::now();
        }
    }
}

/// The service of one TLS connection.
#[derive(Clone)]
pub(crate) struct RouterService {
    pub(crate) router: Router,
    pub(crate) peer: SocketAddr,
    pub(crate) activity: Arc<Activity>,
    /// Counts each request as an HTTP/2 stream when the connection speaks HTTP/2.
    pub(crate) h2_streams: Option<Arc<TlsCounters>>,
    pub(crate) connections: Connections,
    /// The connection's place under the cap, which a WebSocket keeps after the upgrade.
    pub(crate) slot: Arc<Slot>,
}

/// The request is not answered: the connection closes (HTTP/1.1) or the stream is reset
/// (HTTP/2).
#[derive(Debug, thiserror::Error)]
#[error("the server is draining: request not answered")]
pub(crate) struct Unanswered;

impl hyper::service::Service<Request<Incoming>> for RouterService {
    type Response = Response<Body>;
    type Error = Unanswered;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Unanswered>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let held = (this.activity.begin(), this.h2_streams.as_ref().map(|c| c.open(Gauge::H2Stream)));
            let upgrade = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
            request.extensions_mut().insert(ConnectInfo(this.peer));
            let request = request.map(Body::new);
            let mut response =
                this.router.clone().oneshot(request).await.unwrap_or_else(|e: Infallible| match e {});
            if response.extensions().get::<CloseUnanswered>().is_some() {
                return Err(Unanswered);
            }
            if let Some(session) = response.extensions_mut().remove::<OnUpgrade>() {
                this.hand_over(session, upgrade);
            }
            Ok(response.map(|body| Body::new(Held { body, _held: held })))
        })
    }
}

impl RouterService {
    /// Runs the WebSocket session on hyper's upgraded connection, once hyper has
    /// written the `101` (in a task of [`Connections`], so shutdown waits for it).
    fn hand_over(&self, session: OnUpgrade, upgrade: Option<hyper::upgrade::OnUpgrade>) {
        let (Some(run), Some(upgrade)) = (session.take(), upgrade) else { return };
        let (slot, peer) = (self.slot.clone(), self.peer);
        self.connections.spawn(async move {
            let _slot = slot;
            match upgrade.await {
                Ok(upgraded) => {
                    run(Upgraded { io: UpgradedIo::Tls(TokioIo::new(upgraded)), read_ahead: Vec::new() })
                        .await
                }
                Err(e) => tracing::debug!(%peer, "upgrade failed: {e}"),
            }
        });
    }
}

/// A response body with what must live as long as it: the in-flight mark and the
/// stream's count.
struct Held {
    body: Body,
    _held: (InFlight, Option<Open>),
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
