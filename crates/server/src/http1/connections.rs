//! The tasks serving connections, the two signals shutdown sends them, and the limits
//! every connection lives under (SPEC §8): how many may be open, how long a request head
//! may take to arrive, how long a connection may sit without a request.
//!
//! The cap is checked at accept, before anything is spent on the socket: past it the
//! socket is closed at once and counted, so sockets that open and send nothing (or a
//! byte at a time) cannot take the process's last file descriptors. Those that got in
//! are closed by the header and idle timeouts ([`Limits`]), which free their places.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio_util::task::TaskTracker;

use crate::counters::ConnectionCounters;

/// What every connection lives under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TCP connections open at once; past it, new ones are closed at once.
    pub max_open: u64,
    /// A request head (and body) must arrive within this, counted from the first byte of
    /// the request, or from the accept for a connection's first request.
    pub header_timeout: Duration,
    /// A connection with no request in flight is closed after this (streams and held
    /// answers are in flight).
    pub idle_timeout: Duration,
}

/// The tasks serving connections, so that shutdown can stop them taking new requests,
/// wait for them and, past its grace period, drop the ones still running (a client that
/// never reads).
///
/// Why not a `CancellationToken` per task? Polling its `cancelled()` takes two mutexes
/// shared by every connection (the token's and its `Notify`'s) each time a task wakes:
/// twice per request, on both cores. Here each task registers its waker once, and a
/// poll costs two atomic loads; raising a signal sets its flag and wakes every task.
#[derive(Debug, Clone)]
pub struct Connections {
    tracker: TaskTracker,
    signals: Arc<Signals>,
}

/// What the connection tasks share: the signals, the limits and the counters.
#[derive(Debug)]
struct Signals {
    limits: Limits,
    counters: Arc<ConnectionCounters>,
    /// No new requests: idle connections close (the server is shutting down).
    stopping: AtomicBool,
    /// Past the grace period: every task ends where it is.
    dropped: AtomicBool,
    /// The waker of each running task, by slot; `free` lists the empty slots.
    wakers: Mutex<Wakers>,
}

#[derive(Debug, Default)]
struct Wakers {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Signals {
    fn raise(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::SeqCst);
        let wakers: Vec<Waker> =
            self.wakers.lock().expect("wakers poisoned").slots.iter().flatten().cloned().collect();
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// A task's place in [`Signals::wakers`], freed when the task ends.
struct Registration {
    signals: Arc<Signals>,
    slot: Option<(usize, Waker)>,
}

impl Registration {
    /// Keeps the slot holding `waker` (locking only when the task's waker changes,
    /// which for a spawned task is never after its first poll).
    fn register(&mut self, waker: &Waker) {
        if self.slot.as_ref().is_some_and(|(_, w)| w.will_wake(waker)) {
            return;
        }
        let mut wakers = self.signals.wakers.lock().expect("wakers poisoned");
        let index = match &self.slot {
            Some((index, _)) => *index,
            None => match wakers.free.pop() {
                Some(index) => index,
                None => {
                    wakers.slots.push(None);
                    wakers.slots.len() - 1
                }
            },
        };
        wakers.slots[index] = Some(waker.clone());
        self.slot = Some((index, waker.clone()));
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some((index, _)) = self.slot.take() {
            let mut wakers = self.signals.wakers.lock().expect("wakers poisoned");
            wakers.slots[index] = None;
            wakers.free.push(index);
        }
    }
}

/// One open connection's place under [`Limits::max_open`], given back when dropped:
/// it goes with the socket, through every task the connection passes through.
#[derive(Debug)]
pub struct Slot(Arc<ConnectionCounters>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connections {
    pub fn new(limits: Limits, counters: Arc<ConnectionCounters>) -> Self {
        let signals = Signals {
            limits,
            counters,
            stopping: AtomicBool::new(false),
            dropped: AtomicBool::new(false),
            wakers: Mutex::default(),
        };
        Connections { tracker: TaskTracker::new(), signals: Arc::new(signals) }
    }

    /// A place for a connection just accepted, or `None` (counted) at the cap. Only the
    /// accept loop calls it, so between its check and its count nobody else takes the
    /// last place.
    pub fn admit(&self) -> Option<Slot> {
        let counters = &self.signals.counters;
        if counters.open() >= self.signals.limits.max_open {
            counters.refused_at_cap();
            return None;
        }
        counters.open.fetch_add(1, Ordering::Relaxed);
        counters.accepted();
        Some(Slot(counters.clone()))
    }

    pub(crate) fn limits(&self) -> Limits {
        self.signals.limits
    }

    pub(crate) fn counters(&self) -> &ConnectionCounters {
        &self.signals.counters
    }

    /// Runs `task` until it ends or [`Connections::wait`] drops it.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let signals = self.signals.clone();
        self.tracker.spawn(async move {
            let mut task = std::pin::pin!(task);
            let mut registration = Registration { signals, slot: None };
            std::future::poll_fn(move |cx| {
                // Registered before the flag is read: a signal raised meanwhile wakes us.
                registration.register(cx.waker());
                if registration.signals.dropped.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                task.as_mut().poll(cx)
            })
            .await;
        });
    }

    /// From now on connections take no new request: idle ones close, and one whose
    /// request is being answered closes after the answer.
    pub fn stop(&self) {
        self.signals.raise(&self.signals.stopping);
    }

    pub(crate) fn stopping(&self) -> bool {
        self.signals.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once [`Connections::stop`] is called. Only inside a task of
    /// [`Connections::spawn`], which is woken then; it registers no waker of its own.
    pub(crate) fn stopped(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|_| if self.stopping() { Poll::Ready(()) } else { Poll::Pending })
    }

    /// Waits up to `grace` for every task to end, then drops the rest. Returns how many
    /// were dropped.
    pub async fn wait(&self, grace: Duration) -> usize {
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait()).await.is_ok() {
            return 0;
        }
        let left = self.tracker.len();
        self.signals.raise(&self.signals.dropped);
        self.tracker.wait().await;
        left
    }
}
