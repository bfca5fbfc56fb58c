//! The built-in emulator: a loopback listener that relays each connection it accepts
//! to the server through a [`LinkSpec`], on a thread of its own.
//!
//! Why a thread of its own (a single-threaded runtime): its CPU can then be read apart
//! from the load generator's (`/proc/self/task/<tid>/schedstat`), so a result says
//! when the emulator, not the transport, was the bottleneck; and its timers are not
//! delayed by the clients' work. One thread relays every connection: at the
//! conditions preset's load (100 clients × 20 ticks/s) it uses a few % of a core.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;

use crate::relay::{self, Counters};
use crate::spec::LinkSpec;

/// Loopback source addresses the upstream connections are spread over, as the load
/// generator spreads its clients: each has its own ephemeral ports.
const SOURCE_ADDRS: u8 = 8;

/// A running emulator; dropping it stops it and closes every relayed connection.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    link: LinkSpec,
    counters: Arc<Counters>,
    tid: Option<u32>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What an emulator has relayed so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EmulatorCounts {
    pub connections: u64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    /// Segments paced, lost at least once, and held back behind a late one.
    pub segments: u64,
    pub lost: u64,
    pub held_back: u64,
    pub upstream_errors: u64,
}

impl Emulator {
    /// Listens on `listen` (port 0 for any) and relays to `upstream` through `link`;
    /// `seed` makes its jitter and losses reproducible.
    pub fn start(link: LinkSpec, upstream: SocketAddr, listen: SocketAddr, seed: u64) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = oneshot::channel();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::Builder::new().name(format!("link-{}", link.name)).spawn({
            let (link, counters) = (link.clone(), counters.clone());
            move || {
                let _ = tid_tx.send(this_thread_id());
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, upstream, link, seed, counters, stopped).await,
                        Err(e) => tracing::warn!("link emulator: {e}"),
                    }
                });
                // Dropping the runtime here drops every relay task and its sockets.
            }
        })?;
        let tid = tid_rx.recv().ok().flatten();
        Ok(Self { addr, link, counters, tid, stop: Some(stop), thread: Some(thread) })
    }

    /// Where clients connect to reach the server through the link.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn link(&self) -> &LinkSpec {
        &self.link
    }

    /// CPU the emulator's thread has used so far (`None` where Linux would not say).
    pub fn cpu_time(&self) -> Option<Duration> {
        thread_cpu(self.tid?)
    }

    pub fn counts(&self) -> EmulatorCounts {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Relaxed);
        EmulatorCounts {
            connections: get(&c.connections),
            bytes_down: get(&c.bytes_down),
            bytes_up: get(&c.bytes_up),
            segments: get(&c.segments),
            lost: get(&c.lost),
            held_back: get(&c.held_back),
            upstream_errors: get(&c.upstream_errors),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: TcpListener,
    upstream: SocketAddr,
    link: LinkSpec,
    seed: u64,
    counters: Arc<Counters>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut accepted: u64 = 0;
    loop {
        let client = tokio::select! {
            _ = &mut stopped => return,
            client = listener.accept() => client,
        };
        let Ok((client, _)) = client else {
            // Out of descriptors, say: the client waits in the backlog; try again soon.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        accepted += 1;
        counters.connections.fetch_add(1, Relaxed);
        let (link, counters) = (link.clone(), counters.clone());
        let source = 1 + (accepted % u64::from(SOURCE_ADDRS)) as u8;
        tokio::spawn(async move {
            match connect(upstream, source).await {
                Ok(server) => {
                    let _ = client.set_nodelay(true);
                    relay::spawn(client, server, &link, seed.wrapping_add(accepted), counters);
                }
                // The client sees its connection close, as it would a refused one.
                Err(e) => {
                    counters.upstream_errors.fetch_add(1, Relaxed);
                    tracing::debug!("link emulator: connecting to {upstream}: {e}");
                }
            }
        });
    }
}

/// A connection to the server from loopback address 127.0.0.`source` (for a loopback
/// server), with `TCP_NODELAY`: the relay must not add Nagle's delays to the link's.
async fn connect(upstream: SocketAddr, source: u8) -> io::Result<TcpStream> {
    let stream = if upstream.ip().is_loopback() && upstream.is_ipv4() {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(Ipv4Addr::new(127, 0, 0, source).into(), 0))?;
        socket.connect(upstream).await?
    } else {
        TcpStream::connect(upstream).await?
    };
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// This thread's id, from `/proc/thread-self` (`<pid>/task/<tid>`).
fn this_thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time of thread `tid` of this process: the first field of its `schedstat`,
/// nanoseconds on a CPU.
fn thread_cpu(tid: u32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
