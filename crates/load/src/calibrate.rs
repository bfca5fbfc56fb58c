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

/// What one calibration measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub message_bytes: usize,
    /// `send()` calls measured, each of exactly `message_bytes`.
    pub sends: u64,
    /// CPU per `send()` to a peer waiting in `recv()`, µs.
    pub send_cpu_us: f64,
    /// CPU per `send()` with nobody waiting (bytes only queued), µs.
    pub send_queued_cpu_us: f64,
    /// `recv()` calls measured, each returning exactly one message.
    pub recvs: u64,
    /// CPU per `recv()`, µs.
    pub recv_cpu_us: f64,
    pub round_trips: u64,
    pub rtt_p50_us: u64,
    pub rtt_p99_us: u64,
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

/// Measures `messages` sends of each kind and receives, and `rounds` round trips.
/// Blocking, about `messages` × 0.1 ms: run it on a thread of its own
/// (`spawn_blocking`), never on the runtime's workers.
pub fn measure(messages: usize, rounds: usize) -> std::io::Result<Calibration> {
    assert!(messages > 0 && rounds > 0, "calibrate at least one message and one round trip");
    let (mut tx, mut rx) = loopback_pair()?;
    // A first batch warms the socket and the caches; it is not counted.
    send_recv_cost(&mut tx, &mut rx, BATCH_MESSAGES)?;
    let (queued_cpu, recv_cpu) = send_recv_cost(&mut tx, &mut rx, messages)?;
    let send_cpu = send_to_waiting_reader_cost(messages)?;
    let rtt = round_trips(rounds)?;
    let per_call = |cpu: Duration| cpu.as_secs_f64() * 1e6 / messages as f64;
    Ok(Calibration {
        message_bytes: MESSAGE_BYTES,
        sends: messages as u64,
        send_cpu_us: per_call(send_cpu),
        send_queued_cpu_us: per_call(queued_cpu),
        recvs: messages as u64,
        recv_cpu_us: per_call(recv_cpu),
        round_trips: rounds as u64,
        rtt_p50_us: rtt.value_at_quantile(0.5),
        rtt_p99_us: rtt.value_at_quantile(0.99),
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
        let c = measure(500, 200).unwrap();
        assert_eq!((c.sends, c.recvs, c.round_trips, c.message_bytes), (500, 500, 200, MESSAGE_BYTES));
        // Waking a reader costs more than only queueing the bytes.
        assert!(c.send_cpu_us > c.send_queued_cpu_us, "{c:?}");
        assert!(c.rtt_p99_us >= c.rtt_p50_us && c.rtt_p50_us > 0, "{c:?}");
    }
}
