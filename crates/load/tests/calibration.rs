//! The calibration against socket loops whose cost is measured separately: plain
//! `libc::send`/`recv` on raw descriptors, with their own pacing and their own timing —
//! the loop of sends and receives over its whole length on another clock (`getrusage`'s
//! `RUSAGE_THREAD`), the sends to a waiting reader one by one on the thread CPU clock
//! read through libc. Each must fall within a factor of 3 of the calibration's spread —
//! generous, because the machine is shared and the sends to a waiting reader vary
//! threefold on their own; no other timing is asserted.
#![allow(unsafe_code)] // the independent loop is libc on purpose: nothing shared with calibrate.rs

use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

use pushlab_load::calibrate::{self, MESSAGE_BYTES};

/// How far apart the two measurements may be.
const FACTOR: f64 = 3.0;

/// This thread's user + system CPU time from `getrusage(RUSAGE_THREAD)`, after a 1 ms
/// sleep: the kernel brings a thread's runtime up to date when it is descheduled (or at
/// a scheduler tick), so without it a loop that never blocks reads up to a tick short.
fn rusage_thread() -> Duration {
    std::thread::sleep(Duration::from_millis(1));
    // SAFETY: an all-zero rusage is valid, and getrusage writes only into it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    (client, server)
}

fn send(fd: &TcpStream, message: &[u8]) {
    // SAFETY: `message` is valid for its length for the call's duration.
    let n = unsafe { libc::send(fd.as_raw_fd(), message.as_ptr().cast(), message.len(), 0) };
    assert_eq!(n, message.len() as isize);
}

fn recv(fd: &TcpStream, buf: &mut [u8]) {
    // SAFETY: `buf` is valid and writable for its length for the call's duration.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_WAITALL) };
    assert_eq!(n, buf.len() as isize);
}

/// µs per (send + recv) of one message, the peer not waiting: 50 sends, then 50
/// receives, 100 times, the whole loop on one clock.
fn independent_send_and_recv_us() -> f64 {
    let (tx, rx) = pair();
    let (message, mut buf) = ([b'y'; MESSAGE_BYTES], [0u8; MESSAGE_BYTES]);
    let (batches, batch) = (100, 50);
    let started = rusage_thread();
    for _ in 0..batches {
        (0..batch).for_each(|_| send(&tx, &message));
        (0..batch).for_each(|_| recv(&rx, &mut buf));
    }
    (rusage_thread() - started).as_secs_f64() * 1e6 / (batches * batch) as f64
}

/// This thread's CPU clock, through libc.
fn thread_clock() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) }, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// µs per send to a reader thread blocked in recv: sends paced 80 µs apart (the
/// reader is asleep again by then), each timed on its own.
fn independent_send_to_waiting_reader_us() -> f64 {
    let (tx, rx) = pair();
    let messages = 500;
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; MESSAGE_BYTES];
        (0..messages).for_each(|_| recv(&rx, &mut buf));
    });
    let message = [b'y'; MESSAGE_BYTES];
    let mut cpu = Duration::ZERO;
    for _ in 0..messages {
        std::thread::sleep(Duration::from_micros(80));
        let started = thread_clock();
        send(&tx, &message);
        cpu += thread_clock() - started;
    }
    reader.join().unwrap();
    cpu.as_secs_f64() * 1e6 / messages as f64
}

fn within_factor(what: &str, independent: f64, low: f64, high: f64) {
    eprintln!("{what}: independent {independent:.2} µs, calibration {low:.2}..{high:.2} µs");
    assert!(
        independent >= low / FACTOR && independent <= high * FACTOR,
        "{what}: the independent loop measured {independent:.2} µs, the calibration {low:.2}..{high:.2} µs"
    );
}

/// One test, not two: run side by side on two cores, each would load the other's figures.
#[test]
fn the_calibration_costs_what_a_plain_loop_measures() {
    let c = calibrate::measure(5, 200, 100).unwrap();
    // Both figures vary with the load: the independent one must fall in the
    // calibration's spread (fastest to slowest round), widened by the factor.
    let (queued, recv) = (c.send_queued_cpu_us, c.recv_cpu_us);
    let (low, high) = (queued.min + recv.min, queued.max + recv.max);
    within_factor("send + recv, peer not waiting", independent_send_and_recv_us(), low, high);
    let (low, high) = (c.send_cpu_us.min, c.send_cpu_us.max);
    within_factor("send to a waiting reader", independent_send_to_waiting_reader_us(), low, high);
}
