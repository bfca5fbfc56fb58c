//! The feed: one log of ticks, read through cursors by every transport.
//!
//! The ticker appends; clients never get a queue of their own. A client is a cursor
//! (the `seq` of the last tick it has) plus a `watch` receiver that wakes it when the
//! head moves. Polling reads at its cursor and leaves; long-polling reads or waits; SSE
//! and WebSocket loop read-or-wait-then-write. A client that reads slower than the feed
//! simply falls behind in the log: memory stays bounded by the history, and once its
//! cursor is older than the history it is told exactly how many ticks it missed.
//!
//! Each tick is serialized once, when it is published: the JSON and the SSE frame are
//! `Bytes`, so sending a tick to 10,000 clients clones a reference count, not a buffer.
//!
//! The log has an **epoch** (SPEC §7): a token naming this run of it, new at each start.
//! A seq means something only within its epoch, so a client's position is resolved
//! against it ([`Feed::resume`]): one of this epoch (or a bare seq) continues where it
//! was; one of another epoch (the server restarted under it) is never refused and never
//! read as a continuation: it starts again at the oldest tick still held, with a reset
//! notice. The SSE frame carries the epoch in its id (`id: <epoch>-<seq>`), rendered
//! once per tick like the rest, so a browser's `EventSource` sends it back by itself.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use pushlab_contract::Position;
use smallvec::SmallVec;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// The most symbols a feed can carry: a filter is a 64-bit set of symbol indices.
pub use pushlab_contract::limits::MAX_SYMBOLS;

/// Ticks a streaming transport (SSE, WebSocket) reads per step. A client far behind
/// catches up in steps this size, so one read never copies the whole history, and a
/// stalled stream holds at most this many (shared) frames.
pub const PUSH_BATCH_TICKS: usize = 64;

/// One published tick, in every encoding a transport needs, each built once.
#[derive(Debug)]
pub struct TickFrame {
    pub seq: u64,
    /// Index into the feed's symbol list.
    pub symbol: usize,
    /// The tick JSON, byte-for-byte what every transport carries.
    pub json: Bytes,
    /// The same bytes as WebSocket text (shares `json`'s allocation).
    pub ws_text: Utf8Bytes,
    /// `id: <epoch>-<seq>\ndata: <json>\n\n`, the complete SSE event.
    pub sse: Bytes,
}

impl TickFrame {
    /// The tick `json` (seq `seq`, symbol index `symbol`) of the log run `epoch`; the
    /// feed's [`Feed::frame`] fills in its own epoch.
    pub fn new(epoch: &str, seq: u64, symbol: usize, json: Vec<u8>) -> Self {
        let json = Bytes::from(json);
        let ws_text = Utf8Bytes::try_from(json.clone()).expect("serde_json writes UTF-8");
        let mut sse = Vec::with_capacity(json.len() + epoch.len() + 32);
        sse.extend_from_slice(format!("id: {epoch}-{seq}\ndata: ").as_bytes());
        sse.extend_from_slice(&json);
        sse.extend_from_slice(b"\n\n");
        TickFrame { seq, symbol, json, ws_text, sse: Bytes::from(sse) }
    }
}

/// Which symbols a client wants: a set of indices into the feed's symbol list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolFilter(u64);

impl SymbolFilter {
    pub const ALL: SymbolFilter = SymbolFilter(u64::MAX);

    pub fn from_indices(indices: impl IntoIterator<Item = usize>) -> Self {
        SymbolFilter(indices.into_iter().fold(0, |set, i| set | 1 << i))
    }

    pub fn matches(self, symbol: usize) -> bool {
        self.0 & (1 << symbol) != 0
    }
}

/// Ticks a [`Batch`] holds without allocating: a streaming client that keeps up reads
/// one or two ticks per wake-up, and a read must not allocate per client per tick.
/// (A longer read, a poll's `limit` or a catch-up, spills to the heap once.)
pub const INLINE_TICKS: usize = 8;

/// The ticks of one read, shared with the log (each entry is a reference count).
pub type Ticks = SmallVec<[Arc<TickFrame>; INLINE_TICKS]>;

/// What one read at a cursor returns.
#[derive(Debug, Default)]
pub struct Batch {
    /// Matching ticks after the cursor, oldest first.
    pub ticks: Ticks,
    /// The cursor for the next read: the last returned seq if `limit` cut the list,
    /// else the head at read time (non-matching ticks need not be read again).
    pub next: u64,
    /// Ticks after the cursor already evicted from the history, whatever their symbol:
    /// once evicted, the feed no longer knows which of them matched.
    pub missed: u64,
    /// `limit` cut the list: more matching ticks are waiting, read again at once.
    pub truncated: bool,
}

impl Batch {
    /// Nothing to tell the client: no tick and no gap.
    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty() && self.missed == 0
    }
}

/// A cursor ahead of the newest tick: the client claims ticks that do not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{cursor} is ahead of the newest tick ({head})")]
pub struct CursorAhead {
    pub cursor: u64,
    pub head: u64,
}

/// Where a client's position lands in this run of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The seq to read after.
    pub cursor: u64,
    /// The position was of another epoch: `cursor` is just before the oldest tick still
    /// held, and the client must be told (what it missed across the restart is unknown).
    pub reset: bool,
}

/// The ring buffer and the head, behind one lock.
#[derive(Debug)]
struct Log {
    ticks: VecDeque<Arc<TickFrame>>,
    capacity: usize,
    head: u64,
    /// The newest tick of each symbol, kept even after it leaves the ring, so a poll
    /// without a cursor can show every price.
    latest: Vec<Option<Arc<TickFrame>>>,
}

impl Log {
    /// The oldest seq still servable: max(1, head − capacity + 1).
    fn oldest(&self) -> u64 {
        self.ticks.front().map_or(self.head + 1, |t| t.seq)
    }
}

/// The shared log. A std `RwLock`, not a Tokio one: nothing awaits while it is held,
/// and every critical section is a few pointer copies.
#[derive(Debug)]
pub struct Feed {
    log: RwLock<Log>,
    head_tx: watch::Sender<u64>,
    symbols: Vec<String>,
    /// This run of the log: `[a-z0-9]{4,12}`, fixed for the feed's life.
    epoch: String,
}

impl Feed {
    /// A feed over `symbols` (at most [`MAX_SYMBOLS`]) keeping the last `history` ticks,
    /// its run named `epoch` (see `pushlab_contract::is_epoch`).
    pub fn new(symbols: Vec<String>, history: usize, epoch: String) -> Self {
        assert!(history > 0, "history must hold at least one tick");
        assert!(symbols.len() <= MAX_SYMBOLS, "at most {MAX_SYMBOLS} symbols");
        assert!(pushlab_contract::epoch::is_epoch(&epoch), "an epoch is [a-z0-9]{{4,12}}, got {epoch:?}");
        let log = Log {
            ticks: VecDeque::with_capacity(history),
            capacity: history,
            head: 0,
            latest: vec![None; symbols.len()],
        };
        Feed { log: RwLock::new(log), head_tx: watch::channel(0).0, symbols, epoch }
    }

    /// This run of the log.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// A tick of this feed's epoch, every encoding built once, ready to [`publish`](Self::publish).
    pub fn frame(&self, seq: u64, symbol: usize, json: Vec<u8>) -> TickFrame {
        TickFrame::new(&self.epoch, seq, symbol, json)
    }

    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    pub fn symbol_index(&self, name: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s == name)
    }

    /// The seq of the newest tick (0 before the first).
    pub fn head(&self) -> u64 {
        self.log.read().expect("feed lock poisoned").head
    }

    /// Refuses a cursor ahead of the head: the client claims ticks that do not exist.
    pub fn check_cursor(&self, cursor: u64) -> Result<u64, CursorAhead> {
        let head = self.head();
        if cursor > head { Err(CursorAhead { cursor, head }) } else { Ok(cursor) }
    }

    /// Resolves a client's position against this run: one of this epoch or a bare seq
    /// continues after its seq (ahead of the head, it is refused: those ticks do not
    /// exist in any run); one of another epoch restarts just before the oldest tick held.
    pub fn resume(&self, position: &Position) -> Result<Resume, CursorAhead> {
        let log = self.log.read().expect("feed lock poisoned");
        if !position.is_of(&self.epoch) {
            return Ok(Resume { cursor: log.oldest() - 1, reset: true });
        }
        if position.seq > log.head {
            return Err(CursorAhead { cursor: position.seq, head: log.head });
        }
        Ok(Resume { cursor: position.seq, reset: false })
    }

    /// A receiver that wakes when the head moves (what a cursor waits on).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head_tx.subscribe()
    }

    /// Append ticks (seqs must follow the head without a hole) and wake every waiter once.
    pub fn publish(&self, frames: impl IntoIterator<Item = TickFrame>) {
        let mut log = self.log.write().expect("feed lock poisoned");
        for frame in frames {
            assert_eq!(frame.seq, log.head + 1, "ticks are published in seq order");
            let frame = Arc::new(frame);
            if log.ticks.len() == log.capacity {
                log.ticks.pop_front();
            }
            log.head = frame.seq;
            let symbol = frame.symbol;
            log.latest[symbol] = Some(frame.clone());
            log.ticks.push_back(frame);
        }
        // Still under the lock: nobody can read the new head from the log and then
        // find the watch channel behind it.
        self.head_tx.send_replace(log.head);
    }

    /// Empties the ring so that the next tick published is `seq` (ahead of the head):
    /// what a broker-fed replica does when it joins a stream that starts past 1, or
    /// finds a hole in it. A client still behind is told exactly how many it missed,
    /// as for any evicted tick; the newest tick of each symbol stays for polls.
    pub fn restart_at(&self, seq: u64) {
        let mut log = self.log.write().expect("feed lock poisoned");
        assert!(seq > log.head, "a restart moves the head forward only");
        log.ticks.clear();
        log.head = seq - 1;
        self.head_tx.send_replace(log.head);
    }

    /// The matching ticks after `cursor`, at most `limit` of them.
    pub fn read(&self, cursor: u64, filter: SymbolFilter, limit: usize) -> Result<Batch, CursorAhead> {
        let log = self.log.read().expect("feed lock poisoned");
        if cursor > log.head {
            return Err(CursorAhead { cursor, head: log.head });
        }
        let oldest = log.oldest();
        let missed = oldest.saturating_sub(cursor + 1);
        let start = (cursor + 1).max(oldest);
        let skip = usize::try_from(start - oldest).expect("offset within the ring");
        let mut batch = Batch { next: log.head, missed, ..Batch::default() };
        for frame in log.ticks.iter().skip(skip).filter(|t| filter.matches(t.symbol)) {
            if batch.ticks.len() == limit {
                batch.truncated = true;
                batch.next = batch.ticks.last().map_or(cursor, |t| t.seq);
                break;
            }
            batch.ticks.push(frame.clone());
        }
        Ok(batch)
    }

    /// The newest tick of each matching symbol, oldest first, with `next` = head:
    /// what a poll without a cursor answers, so a fresh page shows every price at once.
    pub fn latest(&self, filter: SymbolFilter) -> Batch {
        let log = self.log.read().expect("feed lock poisoned");
        let mut ticks: Ticks =
            log.latest.iter().flatten().filter(|t| filter.matches(t.symbol)).cloned().collect();
        ticks.sort_by_key(|t| t.seq);
        Batch { ticks, next: log.head, missed: 0, truncated: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feed over two symbols with `n` ticks published, alternating A, B, A, …
    fn feed_with(history: usize, n: u64) -> Feed {
        let feed = Feed::new(vec!["A".into(), "B".into()], history, "k3x9".into());
        feed.publish((1..=n).map(|seq| feed.frame(seq, (seq as usize + 1) % 2, b"{}".to_vec())));
        feed
    }

    fn seqs(batch: &Batch) -> Vec<u64> {
        batch.ticks.iter().map(|t| t.seq).collect()
    }

    #[test]
    fn reads_after_the_cursor_in_order() {
        let feed = feed_with(10, 5);
        let batch = feed.read(2, SymbolFilter::ALL, 100).unwrap();
        assert_eq!((seqs(&batch), batch.next, batch.missed, batch.truncated), (vec![3, 4, 5], 5, 0, false));
        assert!(feed.read(5, SymbolFilter::ALL, 100).unwrap().ticks.is_empty());
    }

    #[test]
    fn limit_cuts_and_next_points_at_the_last_returned_tick() {
        let feed = feed_with(10, 5);
        let batch = feed.read(0, SymbolFilter::ALL, 2).unwrap();
        assert_eq!((seqs(&batch), batch.next, batch.truncated), (vec![1, 2], 2, true));
    }

    #[test]
    fn filter_skips_other_symbols_and_next_moves_past_them() {
        let feed = feed_with(10, 6);
        let only_b = SymbolFilter::from_indices([1]);
        let batch = feed.read(0, only_b, 100).unwrap();
        assert_eq!((seqs(&batch), batch.next), (vec![2, 4, 6], 6));
        let batch = feed.read(0, only_b, 2).unwrap();
        assert_eq!((seqs(&batch), batch.next), (vec![2, 4], 4));
    }

    #[test]
    fn evicted_ticks_are_counted_whatever_the_filter() {
        // History 4 of 10 ticks: 7..=10 remain; a client at 2 missed 3, 4, 5, 6.
        let feed = feed_with(4, 10);
        let batch = feed.read(2, SymbolFilter::from_indices([0]), 100).unwrap();
        assert_eq!((batch.missed, seqs(&batch)), (4, vec![7, 9]));
        assert_eq!(feed.read(6, SymbolFilter::ALL, 100).unwrap().missed, 0);
    }

    #[test]
    fn a_cursor_ahead_of_the_head_is_refused() {
        let feed = feed_with(4, 3);
        assert_eq!(feed.read(4, SymbolFilter::ALL, 1).unwrap_err(), CursorAhead { cursor: 4, head: 3 });
    }

    #[test]
    fn latest_has_one_tick_per_symbol_even_after_eviction() {
        let feed = feed_with(1, 5);
        assert_eq!(seqs(&feed.latest(SymbolFilter::ALL)), vec![4, 5]);
        assert_eq!(seqs(&feed.latest(SymbolFilter::from_indices([0]))), vec![5]);
    }

    #[test]
    fn positions_of_this_epoch_continue_and_others_restart_at_the_oldest_tick() {
        // History 4 of 10 ticks: 7..=10 remain.
        let feed = feed_with(4, 10);
        let resume = |text: &str| feed.resume(&Position::parse(text).unwrap());
        assert_eq!(resume("5"), Ok(Resume { cursor: 5, reset: false }));
        assert_eq!(resume("k3x9-10"), Ok(Resume { cursor: 10, reset: false }));
        assert_eq!(resume("zzzz-3"), Ok(Resume { cursor: 6, reset: true }));
        assert_eq!(resume("zzzz-99"), Ok(Resume { cursor: 6, reset: true }), "never refused");
        assert_eq!(resume("11"), Err(CursorAhead { cursor: 11, head: 10 }));
        assert_eq!(resume("k3x9-11"), Err(CursorAhead { cursor: 11, head: 10 }));
        let empty = Feed::new(vec!["A".into()], 4, "abcd".into());
        assert_eq!(empty.resume(&Position::new("zzzz", 7)), Ok(Resume { cursor: 0, reset: true }));
    }

    #[test]
    fn a_restart_ahead_counts_the_hole_as_missed() {
        let feed = feed_with(10, 3);
        feed.restart_at(8);
        assert_eq!(feed.head(), 7);
        feed.publish([feed.frame(8, 0, b"{}".to_vec())]);
        let batch = feed.read(2, SymbolFilter::ALL, 100).unwrap();
        assert_eq!((batch.missed, seqs(&batch)), (5, vec![8]), "3..=7 are gone");
        assert_eq!(seqs(&feed.latest(SymbolFilter::ALL)), vec![2, 8], "latest prices stay");
    }

    #[test]
    fn sse_frame_carries_the_epoch_and_the_same_json() {
        let frame = TickFrame::new("k3x9", 7, 0, br#"{"seq":7}"#.to_vec());
        assert_eq!(&frame.sse[..], b"id: k3x9-7\ndata: {\"seq\":7}\n\n");
        assert_eq!(frame.ws_text.as_str().as_bytes(), &frame.json[..]);
    }
}
