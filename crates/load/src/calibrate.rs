//! Calibration: what a loopback socket costs on this machine, so that CPU figures from
//! different machines can be compared.
//!
//! A server pushing one small tick per write spends most of its CPU inside `send()`:
//! on loopback the kernel delivers to the peer within the call (about 10 µs on a small
//! cloud VM). "10 µs per delivered tick" means little on its own; "1.1 sends' worth
//! per delivered tick" travels. So the suite measures the unit itself:
//!
//! - **send**: CPU of one `send()` of a [`MESSAGE_BYTES`]-byte message (about a tick's
//!   SSE event) on a connected loopback TCP socket with `TCP_NODELAY`, to a peer thread
//!   blocked in `recv()`: the kernel queues the bytes *and wakes the reader* inside the
//!   call, as it does for a client waiting for a push. This is the unit the report
//!   divides server CPU per delivered tick by.
//! - **send, peer not reading**: the same call when nobody waits (the bytes are only
//!   queued): the floor under the first figure.
//! - **recv**: CPU of one `recv()` that returns one such message, already queued.
//! - **round trip**: wall time of a ping-pong of one message with an echo thread: what
//!   one request/answer costs in latency before any HTTP is spoken.
//!
//! Every CPU figure is read from the calling thread's own CPU clock (ns resolution)
//! around the calls alone, so nothing else on the machine is counted.
//!
//! The send to a waiting reader is very load-dependent (11–41 µs on the same 2-core
//! machine, an hour apart): its reader must be woken and scheduled, on a core others
//! share. So each CPU figure is measured in [`ROUNDS`] rounds, interleaved, and given as
//! the median of the rounds with their spread (fastest and slowest round): a median far
//! from the spread's floor says the machine was busy while it was measured.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Bytes per calibration message: a plain tick is ~66 bytes of JSON, ~89 as an SSE event.
pub const MESSAGE_BYTES: usize = 89;

/// Messages sent before they are all read back: well under what a loopback receive
/// buffer holds (each small segment costs ~1 KiB of buffer accounting), so a send
/// never blocks.
const BATCH_MESSAGES: usize = 100;

/// The pause between two sends to a waiting reader: a loopback delivery and a wake-up
/// take some µs, so the reader is back in `recv()` well before the next send.
const PAUSE_BETWEEN_SENDS: Duration = Duration::from_micros(50);

/// Rounds of each CPU figure: odd, so the median is one round's figure.
pub const ROUNDS: usize = 7;
/// Calls of each kind per round: ~25 ms a round, the waiting reader's pauses included.
pub const MESSAGES_PER_ROUND: usize = 200;
/// Round trips timed (one histogram): ~30 ms.
pub const ROUND_TRIPS: usize = 2000;

/// What one calibration measured: a results file's `calibration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Bytes per `send()` and `recv()`.
    pub message_bytes: usize,
    /// Rounds of each CPU figure.
    pub rounds: usize,
    /// `send()` (or `recv()`) calls each round timed, per kind, each of exactly
    /// `message_bytes`.
    pub messages_per_round: usize,
    /// CPU per `send()` to a peer waiting in `recv()`, µs: the unit server CPU per
    /// delivered tick is divided by ([`Calibration::in_sends`]).
    pub send_cpu_us: Spread,
    /// CPU per `send()` with nobody waiting (bytes only queued), µs.
    pub send_queued_cpu_us: Spread,
    /// CPU per `recv()` returning one message already queued, µs.
    pub recv_cpu_us: Spread,
    pub round_trips: u64,
    pub rtt_p50_us: u64,
    pub rtt_p99_us: u64,
    /// The machine's 1-minute load average when it was measured.
    pub host_load_1m: f64,
}

/// One figure over the rounds: the median round's, and the cheapest and dearest rounds'.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// Of one figure per round (at least one); an even count takes the mean of the middle two.
    pub fn of(mut rounds: Vec<f64>) -> Self {
        assert!(!rounds.is_empty(), "a spread of no rounds");
        rounds.sort_by(f64::total_cmp);
        let n = rounds.len();
        let median = if n % 2 == 1 { rounds[n / 2] } else { (rounds[n / 2 - 1] + rounds[n / 2]) / 2.0 };
        Self { median, min: rounds[0], max: rounds[n - 1] }
    }
}

impl Calibration {
    /// `cpu_us` (say, server CPU per delivered tick) in sends to a waiting reader: the
    /// figure that compares across machines. `None` if the send cost is not positive.
    pub fn in_sends(&self, cpu_us: f64) -> Option<f64> {
        let unit = self.send_cpu_us.median;
        (unit > 0.0 && unit.is_finite()).then(|| cpu_us / unit)
    }
}

/// CPU time this thread has used (Linux `CLOCK_THREAD_CPUTIME_ID`, ns resolution).
#[allow(unsafe_code)]
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A connected loopback pair with `TCP_NODELAY` on both ends, as the server's sockets are.
fn loopback_pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    for s in [&client, &server] {
        s.set_nodelay(true)?;
    }
    Ok((client, server))
}

/// Sends `messages` messages from `tx` to `rx` and reads each back with its own
/// `recv()`, in batches; returns the CPU spent in the sends and in the receives.
fn send_recv_cost(
    tx: &mut TcpStream,
    rx: &mut TcpStream,
    messages: usize,
) -> std::io::Result<(Duration, Duration)> {
    let message = [b'x'; MESSAGE_BYTES];
    let mut buf = [0u8; MESSAGE_BYTES];
    let (mut send_cpu, mut recv_cpu) = (Duration::ZERO, Duration::ZERO);
    let mut left = messages;
    while left > 0 {
        let batch = left.min(BATCH_MESSAGES);
        let started = thread_cpu();
        for _ in 0..batch {
            // One call, one segment: a short write would mean the buffer was full.
            let sent = tx.write(&message)?;
            if sent != MESSAGE_BYTES {
                return Err(std::io::Error::new(ErrorKind::WriteZero, "a calibration send was cut short"));
            }
        }
        let sent = thread_cpu();
        for _ in 0..batch {
            // Each message is already queued: one recv() returns exactly it.
            rx.read_exact(&mut buf)?;
        }
        recv_cpu += thread_cpu() - sent;
        send_cpu += sent - started;
        left -= batch;
    }
    Ok((send_cpu, recv_cpu))
}

/// Sends `messages` messages one at a time to a reader thread blocked in `recv()`,
/// pausing between sends so the reader is asleep again each time; returns the CPU the
/// sends took (the pauses are not counted).
fn send_to_waiting_reader_cost(messages: usize) -> std::io::Result<Duration> {
    let (mut tx, mut rx) = loopback_pair()?;
    let reader = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = [0u8; MESSAGE_BYTES];
        for _ in 0..messages {
            rx.read_exact(&mut buf)?;
        }
        Ok(())
    });
    let message = [b'x'; MESSAGE_BYTES];
    let mut cpu = Duration::ZERO;
    for _ in 0..messages {
        // Long enough for the reader to take the last message and block again.
        std::thread::sleep(PAUSE_BETWEEN_SENDS);
        let started = thread_cpu();
        tx.write_all(&message)?;
        cpu += thread_cpu() - started;
    }
    reader.join().expect("the reader thread does not panic")?;
    Ok(cpu)
}

/// Ping-pongs one message `rounds` times against an echo thread; the wall time of
/// each round, in µs.
fn round_trips(rounds: usize) -> std::io::Result<Histogram<u64>> {
    let (mut client, mut server) = loopback_pair()?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = [0u8; MESSAGE_BYTES];
        for _ in 0..rounds {
            server.read_exact(&mut buf)?;
            server.write_all(&buf)?;
        }
        Ok(())
    });
    let mut histogram = Histogram::<u64>::new(3).expect("3 significant digits is valid");
    let message = [b'x'; MESSAGE_BYTES];
    let mut buf = [0u8; MESSAGE_BYTES];
    for _ in 0..rounds {
        let started = Instant::now();
        client.write_all(&message)?;
        client.read_exact(&mut buf)?;
        histogram.saturating_record(started.elapsed().as_micros() as u64);
    }
    echo.join().expect("the echo thread does not panic")?;
    Ok(histogram)
}

/// The calibration `calibrate`, `compare` and `run` take: [`ROUNDS`] rounds of
/// [`MESSAGES_PER_ROUND`] calls of each kind, and [`ROUND_TRIPS`] round trips; about 0.3 s
/// (more on a busy machine). Blocking: see [`measure`].
pub fn measure_default() -> std::io::Result<Calibration> {
    measure(ROUNDS, MESSAGES_PER_ROUND, ROUND_TRIPS)
}

/// Measures `rounds` rounds of `messages` calls of each kind — sends to a waiting
/// reader, sends with nobody waiting, receives — interleaved, so a burst of other work
/// on the machine lands in one round rather than in one figure; then `round_trips`
/// round trips. Blocking, about `rounds × messages × 0.1 ms`: run it on a thread of
/// its own (`spawn_blocking`), never on the runtime's workers.
pub fn measure(rounds: usize, messages: usize, round_trips: usize) -> std::io::Result<Calibration> {
    assert!(rounds > 0 && messages > 0 && round_trips > 0, "calibrate at least one of each");
    let (mut tx, mut rx) = loopback_pair()?;
    // A first batch warms the socket and the caches; it is not counted.
    send_recv_cost(&mut tx, &mut rx, BATCH_MESSAGES)?;
    let per_call = |cpu: Duration| cpu.as_secs_f64() * 1e6 / messages as f64;
    let (mut waiting, mut queued, mut recv) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        waiting.push(per_call(send_to_waiting_reader_cost(messages)?));
        let (queued_cpu, recv_cpu) = send_recv_cost(&mut tx, &mut rx, messages)?;
        queued.push(per_call(queued_cpu));
        recv.push(per_call(recv_cpu));
    }
    let rtt = self::round_trips(round_trips)?;
    Ok(Calibration {
        message_bytes: MESSAGE_BYTES,
        rounds,
        messages_per_round: messages,
        send_cpu_us: Spread::of(waiting),
        send_queued_cpu_us: Spread::of(queued),
        recv_cpu_us: Spread::of(recv),
        round_trips: round_trips as u64,
        rtt_p50_us: rtt.value_at_quantile(0.5),
        rtt_p99_us: rtt.value_at_quantile(0.99),
        host_load_1m: crate::procfs::load_average(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_clock_counts_this_threads_work_only() {
        // 100 ms of spinning is ~100 ms of this thread's CPU; 100 ms of sleep is none.
        let started = thread_cpu();
        let wall = Instant::now();
        while wall.elapsed() < Duration::from_millis(100) {
            std::hint::black_box(0u64);
        }
        let spun = thread_cpu() - started;
        std::thread::sleep(Duration::from_millis(100));
        let slept = thread_cpu() - started - spun;
        // Spinning: at most the wall time, and most of it unless the machine is starved.
        assert!(spun <= Duration::from_millis(105), "{spun:?}");
        assert!(slept < Duration::from_millis(5), "sleeping costs no CPU: {slept:?}");
    }

    #[test]
    fn every_message_is_one_send_and_one_recv() {
        let (mut tx, mut rx) = loopback_pair().unwrap();
        let (send_cpu, recv_cpu) = send_recv_cost(&mut tx, &mut rx, 250).unwrap();
        assert!(send_cpu > Duration::ZERO && recv_cpu > Duration::ZERO);
        // Nothing left over: exactly 250 messages went through, and were all read.
        rx.set_nonblocking(true).unwrap();
        let mut rest = [0u8; 1];
        assert_eq!(rx.read(&mut rest).unwrap_err().kind(), ErrorKind::WouldBlock);
    }

    #[test]
    fn a_calibration_reports_what_it_counted() {
        let c = measure(3, 100, 200).unwrap();
        assert_eq!((c.rounds, c.messages_per_round, c.round_trips), (3, 100, 200));
        assert_eq!(c.message_bytes, MESSAGE_BYTES);
        for s in [c.send_cpu_us, c.send_queued_cpu_us, c.recv_cpu_us] {
            assert!(s.min > 0.0 && s.min <= s.median && s.median <= s.max, "{c:?}");
        }
        // Waking a reader costs more than only queueing the bytes.
        assert!(c.send_cpu_us.median > c.send_queued_cpu_us.median, "{c:?}");
        assert!(c.rtt_p99_us >= c.rtt_p50_us && c.rtt_p50_us > 0, "{c:?}");
    }

    #[test]
    fn a_spread_is_the_median_round_and_the_extremes() {
        assert_eq!(Spread::of(vec![41.0, 11.0, 12.5]), Spread { median: 12.5, min: 11.0, max: 41.0 });
        assert_eq!(Spread::of(vec![4.0, 1.0, 2.0, 3.0]), Spread { median: 2.5, min: 1.0, max: 4.0 });
    }

    #[test]
    fn cpu_in_sends_divides_by_the_median_send() {
        let mut c = measure(1, 10, 10).unwrap();
        c.send_cpu_us = Spread { median: 10.0, min: 9.0, max: 30.0 };
        assert_eq!(c.in_sends(15.0), Some(1.5));
        c.send_cpu_us.median = 0.0;
        assert_eq!(c.in_sends(15.0), None);
    }
}
