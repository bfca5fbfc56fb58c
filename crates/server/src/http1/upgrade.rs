//! `101 Switching Protocols`: how a handler takes the connection over once its
//! response head is written (the WebSocket endpoint does), over this layer's plain
//! TCP or over TLS, where hyper serves HTTP/1.1 and hands its upgraded connection over
//! ([`crate::tls`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Put into the extensions of a `101 Switching Protocols` response: once its head is
/// written, the connection (and any bytes the client sent after its request) is
/// handed to this function, and HTTP on it is over.
#[derive(Clone)]
pub struct OnUpgrade(Arc<Mutex<Option<UpgradeFn>>>);

pub(crate) type UpgradeFn = Box<dyn FnOnce(Upgraded) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

impl OnUpgrade {
    pub fn new<F, Fut>(run: F) -> Self
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        OnUpgrade(Arc::new(Mutex::new(Some(Box::new(move |io| Box::pin(run(io)))))))
    }

    pub(crate) fn take(&self) -> Option<UpgradeFn> {
        self.0.lock().expect("upgrade slot poisoned").take()
    }
}

/// The connection after `101`: the socket, and what the client sent past its request.
#[derive(Debug)]
pub struct Upgraded {
    pub io: UpgradedIo,
    pub read_ahead: Vec<u8>,
}

/// The socket under an upgraded connection. An enum rather than a type parameter or a
/// box: the plain path (thousands of WebSockets) keeps its socket inline, with no
/// allocation and no virtual call per read.
#[derive(Debug)]
pub enum UpgradedIo {
    /// This layer's own HTTP/1.1 over TCP.
    Plain(TcpStream),
    /// hyper's HTTP/1.1 over TLS (wss://): hyper keeps the TLS stream behind it.
    Tls(TokioIo<hyper::upgrade::Upgraded>),
}

impl AsyncRead for UpgradedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            UpgradedIo::Plain(io) => Pin::new(io).poll_read(cx, buf),
            UpgradedIo::Tls(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpgradedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            UpgradedIo::Plain(io) => Pin::new(io).poll_write(cx, buf),
            UpgradedIo::Tls(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            UpgradedIo::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            UpgradedIo::Tls(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            UpgradedIo::Plain(io) => io.is_write_vectored(),
            UpgradedIo::Tls(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            UpgradedIo::Plain(io) => Pin::new(io).poll_flush(cx),
            UpgradedIo::Tls(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            UpgradedIo::Plain(io) => Pin::new(io).poll_shutdown(cx),
            UpgradedIo::Tls(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}
