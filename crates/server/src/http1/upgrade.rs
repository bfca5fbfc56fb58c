//! `101 Switching Protocols`: how a handler takes the connection over once its
//! response head is written (the WebSocket endpoint does).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::net::TcpStream;

/// Put into the extensions of a `101 Switching Protocols` response: once its head is
/// written, the connection (and any bytes the client sent after its request) is
/// handed to this function, and HTTP on it is over.
#[derive(Clone)]
pub struct OnUpgrade(Arc<Mutex<Option<UpgradeFn>>>);

pub(super) type UpgradeFn = Box<dyn FnOnce(Upgraded) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

impl OnUpgrade {
    pub fn new<F, Fut>(run: F) -> Self
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        OnUpgrade(Arc::new(Mutex::new(Some(Box::new(move |io| Box::pin(run(io)))))))
    }

    pub(super) fn take(&self) -> Option<UpgradeFn> {
        self.0.lock().expect("upgrade slot poisoned").take()
    }
}

/// The connection after `101`: the socket, and what the client sent past its request.
#[derive(Debug)]
pub struct Upgraded {
    pub io: TcpStream,
    pub read_ahead: Vec<u8>,
}
