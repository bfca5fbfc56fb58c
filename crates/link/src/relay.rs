//! One emulated connection: two sockets and a task per direction between them.
//!
//! Each direction reads what its sender wrote, asks its [`Pacer`] when every segment
//! of it arrives at the other end, and writes it then. A direction holds at most
//! [`queue_limit`] bytes not yet written: past that it stops reading, so a sender
//! faster than the link fills its own socket buffers and TCP's flow control slows it,
//! as at a real bottleneck, instead of the relay buffering without bound.
//!
//! Cost: every byte is read and written once more than without the emulator (two
//! syscalls per chunk), and one timer per delivery instant (each within about ±1 ms); segments of one chunk due
//! at the same instant go out in one write.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::{Instant, sleep_until};

use crate::pacer::{Pacer, PacerCounts};
use crate::spec::{Direction, LinkSpec};

/// Bytes read from a socket at a time (and the buffer grown by this much).
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Least that a direction holds before it stops reading: room for a burst.
const MIN_QUEUE_BYTES: usize = 64 * 1024;
/// What a direction without a bandwidth limit holds: a TCP window's worth, so the
/// relay never caps throughput at `queue ÷ delay` below what TCP would reach.
const UNLIMITED_QUEUE_BYTES: usize = 4 * 1024 * 1024;
/// The runtime's timer resolution: a sleep ends on the first millisecond tick after
/// its deadline, and the wake-up takes a little more, so a sleep until the deadline
/// itself delivers 1–2 ms late per direction (measured: a 100 ms link's ping-pong took
/// 103 ms). So the pump sleeps until a resolution before the deadline and delivers what
/// is due within one resolution of the wake-up: each delivery is within about ±1 ms.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);
/// Seed offset of the downstream direction, so the two directions draw apart.
const DOWN_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Bytes a direction may hold: twice what is in flight on it (bandwidth × delay),
/// at least `MIN_QUEUE_BYTES` (64 KiB).
pub fn queue_limit(d: &Direction) -> usize {
    match d.bandwidth_bps {
        Some(bps) => {
            let in_flight = bps as f64 / 8.0 * (d.delay + d.jitter).as_secs_f64();
            MIN_QUEUE_BYTES.max(2 * in_flight as usize)
        }
        None => UNLIMITED_QUEUE_BYTES,
    }
}

/// What every connection of an emulator adds to.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub bytes_down: AtomicU64,
    pub bytes_up: AtomicU64,
    pub segments: AtomicU64,
    pub lost: AtomicU64,
    pub held_back: AtomicU64,
    pub upstream_errors: AtomicU64,
}

impl Counters {
    fn add(&self, counts: PacerCounts) {
        self.segments.fetch_add(counts.segments, Relaxed);
        self.lost.fetch_add(counts.lost, Relaxed);
        self.held_back.fetch_add(counts.held_back, Relaxed);
    }
}

/// Relay `client` (accepted by the emulator) and `upstream` (its connection to the
/// server) through `link` until both directions have ended.
pub fn spawn(client: TcpStream, upstream: TcpStream, link: &LinkSpec, seed: u64, counters: Arc<Counters>) {
    let accepted = Instant::now();
    let rto = link.rto();
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    // The client's connect returned at once (a loopback accept), but over the link it
    // would have waited a round trip for the SYN-ACK before sending its request.
    let handshake_done = accepted + link.rtt();
    let up = Pump {
        pacer: Pacer::new(link.up, rto, seed),
        reported: PacerCounts::default(),
        not_before: handshake_done,
        limit: queue_limit(&link.up),
        counters: counters.clone(),
        upstream: true,
    };
    let down = Pump {
        pacer: Pacer::new(link.down, rto, seed ^ DOWN_SEED),
        reported: PacerCounts::default(),
        not_before: accepted,
        limit: queue_limit(&link.down),
        counters,
        upstream: false,
    };
    tokio::spawn(up.run(client_read, upstream_write));
    tokio::spawn(down.run(upstream_read, client_write));
}

/// One direction.
struct Pump {
    pacer: Pacer,
    /// The pacer's counts already added to the emulator's.
    reported: PacerCounts,
    /// No byte reaches the link before this (the handshake).
    not_before: Instant,
    limit: usize,
    counters: Arc<Counters>,
    upstream: bool,
}

/// A run of bytes of one chunk, delivered at one instant; `end` of `None` is the FIN.
struct Due {
    at: Instant,
    chunk: Bytes,
    start: usize,
    end: Option<usize>,
}

impl Pump {
    async fn run(mut self, mut from: OwnedReadHalf, mut to: OwnedWriteHalf) {
        let mut queue: VecDeque<Due> = VecDeque::new();
        let mut queued = 0usize;
        let mut buf = BytesMut::new();
        let mut reading = true;
        loop {
            let next = queue.front().map(|d| d.at.checked_sub(TIMER_RESOLUTION).unwrap_or(d.at));
            tokio::select! {
                biased;
                () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                    let now = Instant::now() + TIMER_RESOLUTION;
                    while queue.front().is_some_and(|d| d.at <= now) {
                        let due = queue.pop_front().expect("checked");
                        let Some(end) = due.end else {
                            let _ = to.shutdown().await;
                            return;
                        };
                        queued -= end - due.start;
                        if to.write_all(&due.chunk[due.start..end]).await.is_err() {
                            return;
                        }
                    }
                }
                read = read_some(&mut from, &mut buf), if reading && queued < self.limit => {
                    let arrived = Instant::now().max(self.not_before);
                    match read {
                        Ok(n) if n > 0 => {
                            let chunk = buf.split().freeze();
                            queued += n;
                            self.count(n);
                            self.pacer.schedule(arrived, n, |at, offset, len| push(&mut queue, at, &chunk, offset, len));
                            self.report();
                        }
                        // The sender closed (or reset): the FIN follows the last byte.
                        _ => {
                            reading = false;
                            let at = self.pacer.end(arrived);
                            queue.push_back(Due { at, chunk: Bytes::new(), start: 0, end: None });
                        }
                    }
                }
            }
        }
    }

    fn count(&self, n: usize) {
        let bytes = if self.upstream { &self.counters.bytes_up } else { &self.counters.bytes_down };
        bytes.fetch_add(n as u64, Relaxed);
    }

    /// Adds what the pacer counted since the last report to the emulator's counters.
    fn report(&mut self) {
        let (now, before) = (self.pacer.counts, self.reported);
        self.counters.add(PacerCounts {
            segments: now.segments - before.segments,
            lost: now.lost - before.lost,
            held_back: now.held_back - before.held_back,
        });
        self.reported = now;
    }
}

/// Queue `chunk[offset..offset + len]` for `at`, merged into the entry before it when
/// that is the same chunk's bytes just before, due at the same instant: one write.
fn push(queue: &mut VecDeque<Due>, at: Instant, chunk: &Bytes, offset: usize, len: usize) {
    if let Some(last) = queue.back_mut()
        && last.at == at
        && last.end == Some(offset)
        && last.chunk.as_ptr() == chunk.as_ptr()
    {
        last.end = Some(offset + len);
        return;
    }
    queue.push_back(Due { at, chunk: chunk.clone(), start: offset, end: Some(offset + len) });
}

async fn read_some(from: &mut OwnedReadHalf, buf: &mut BytesMut) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() < READ_CHUNK_BYTES / 4 {
        buf.reserve(READ_CHUNK_BYTES);
    }
    from.read_buf(buf).await
}
