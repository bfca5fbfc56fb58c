//! The thread that lives inside a namespace and makes sockets there.
//!
//! `setns(2)` moves only the calling thread, and a socket belongs to the namespace of
//! the thread that created it, for its whole life. So one thread of our own enters the
//! namespace once and then only creates sockets: an unconnected, non-blocking
//! [`TcpSocket`] per request, sent back to the asking task, which connects it on
//! tokio's threads like any other. A request costs a channel round trip to this thread
//! (tens of µs), once per connection, never per byte.
//!
//! The `setns` call is rustix's safe wrapper: no `unsafe` here.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;

use tokio::net::TcpSocket;
use tokio::sync::oneshot;

/// Sysctls set inside each namespace (they are per namespace): its clients get the
/// whole ephemeral port range, and may reuse a port whose previous connection is in
/// `TIME_WAIT`, so back-to-back runs of many clients do not run out of ports.
const SYSCTLS: &[(&str, &str)] =
    &[("net/ipv4/ip_local_port_range", "1024 65535"), ("net/ipv4/tcp_tw_reuse", "1")];

type Reply = oneshot::Sender<io::Result<TcpSocket>>;

#[derive(Debug)]
pub(super) struct Inside {
    /// `None` once stopped: the thread has ended and no socket can be made.
    requests: Mutex<Option<mpsc::Sender<Reply>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Inside {
    /// A thread inside the namespace bound at `path` (`/run/netns/<name>`), ready.
    pub(super) fn enter(path: &Path) -> io::Result<Self> {
        let namespace = File::open(path)?;
        let (requests, incoming) = mpsc::channel::<Reply>();
        let (ready, entered) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new().name("netns".into()).spawn(move || {
            if let Err(e) = set_namespace(&namespace) {
                let _ = ready.send(Err(e));
                return;
            }
            tune();
            let _ = ready.send(Ok(()));
            // Until every sender is gone ([`Inside::stop`]).
            while let Ok(reply) = incoming.recv() {
                let _ = reply.send(TcpSocket::new_v4());
            }
        })?;
        let entered = entered.recv().unwrap_or_else(|_| Err(io::Error::other("the namespace thread ended")));
        if let Err(e) = entered {
            let _ = thread.join();
            return Err(e);
        }
        Ok(Self { requests: Mutex::new(Some(requests)), thread: Mutex::new(Some(thread)) })
    }

    pub(super) async fn socket_v4(&self) -> io::Result<TcpSocket> {
        let (reply, socket) = oneshot::channel();
        {
            // A std mutex: nothing awaits while it is held.
            let requests = self.requests.lock().expect("not poisoned");
            let requests = requests.as_ref().ok_or_else(gone)?;
            requests.send(reply).map_err(|_| gone())?;
        }
        socket.await.map_err(|_| gone())?
    }

    /// Ends the thread (after any request it is answering) and waits for it.
    pub(super) fn stop(&self) {
        self.requests.lock().expect("not poisoned").take();
        if let Some(thread) = self.thread.lock().expect("not poisoned").take() {
            let _ = thread.join();
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the network namespace is gone")
}

#[cfg(target_os = "linux")]
fn set_namespace(namespace: &File) -> io::Result<()> {
    use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
    use std::os::fd::AsFd;
    move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::Network)).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn set_namespace(_: &File) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "network namespaces are Linux's"))
}

/// Writes [`SYSCTLS`]; this thread's `/proc/sys/net` is its namespace's. A failure
/// only costs ports, so it is logged, not fatal.
fn tune() {
    for (key, value) in SYSCTLS {
        if let Err(e) = std::fs::write(Path::new("/proc/sys").join(key), value) {
            tracing::warn!("netns: setting {key} = {value}: {e}");
        }
    }
}
