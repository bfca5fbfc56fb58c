//! A client's place in the feed: where it is, what it wants, and a wake-up when the
//! head moves past it.
//!
//! Long-poll, SSE and WebSocket are all the same loop at heart — read what is after the
//! cursor; if nothing, wait for the head to move; repeat — and differ only in what they
//! do around it: a long-poll answers after one non-empty read, SSE writes each batch as
//! events, a WebSocket also listens to its client. That shared part lives here, once.
//! (A short poll needs no cursor of its own: it reads once, with [`Feed::read`], and
//! the client keeps the cursor.)

use std::sync::Arc;
use std::time::Duration;

use pushlab_contract::Position;
use tokio::sync::watch;

use crate::feed::{Batch, CursorAhead, Feed, SymbolFilter};

/// One client's cursor into the feed, with its symbol filter.
///
/// It holds no ticks: a client that stops reading costs this struct, whatever the
/// feed does meanwhile, and later reads exactly how many ticks it missed.
#[derive(Debug)]
pub struct Cursor {
    feed: Arc<Feed>,
    head: watch::Receiver<u64>,
    /// The seq of the last tick this client has seen (or skipped as not matching).
    position: u64,
    filter: SymbolFilter,
    /// The client came with a position of another epoch: its transport owes it a reset
    /// notice before anything else ([`Cursor::take_reset`]).
    reset: bool,
}

impl Cursor {
    /// A cursor after tick `position`; a position ahead of the head is refused (the
    /// client claims ticks that do not exist), so a cursor never passes the head.
    pub fn new(feed: &Arc<Feed>, position: u64, filter: SymbolFilter) -> Result<Self, CursorAhead> {
        // `ready` compares the head with the position whenever it is called, so a tick
        // published between these two lines is not missed, whichever comes first.
        let head = feed.subscribe();
        let position = feed.check_cursor(position)?;
        Ok(Cursor { feed: feed.clone(), head, position, filter, reset: false })
    }

    /// A cursor where a client's `position` lands in this run ([`Feed::resume`]): after
    /// its seq, or, for a position of another epoch, at the oldest tick still held with
    /// a reset owed. `None` (no position given): at the head, live ticks only.
    pub fn resume(
        feed: &Arc<Feed>,
        position: Option<&Position>,
        filter: SymbolFilter,
    ) -> Result<Self, CursorAhead> {
        let Some(position) = position else { return Ok(Cursor::at_head(feed, filter)) };
        let head = feed.subscribe();
        let resume = feed.resume(position)?;
        Ok(Cursor { feed: feed.clone(), head, position: resume.cursor, filter, reset: resume.reset })
    }

    /// A cursor at the head: only ticks published from now on.
    pub fn at_head(feed: &Arc<Feed>, filter: SymbolFilter) -> Self {
        let head = feed.subscribe();
        Cursor { feed: feed.clone(), head, position: feed.head(), filter, reset: false }
    }

    /// Whether the client is owed a reset notice; true once at most.
    pub fn take_reset(&mut self) -> bool {
        std::mem::take(&mut self.reset)
    }

    /// The seq of the last tick read or skipped.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// From the next read on, only these symbols (a WebSocket's `subscribe`).
    pub fn set_filter(&mut self, filter: SymbolFilter) {
        self.filter = filter;
    }

    /// The matching ticks after the cursor, at most `limit`, and moves past them (and
    /// past non-matching ticks, which need not be read again).
    pub fn read(&mut self, limit: usize) -> Batch {
        let batch = self
            .feed
            .read(self.position, self.filter, limit)
            .expect("a cursor never passes the head: checked at creation, and the head only grows");
        self.position = batch.next;
        batch
    }

    /// Resolves once the head has moved past the cursor: there may be something to
    /// read (ticks of other symbols wake it too; the next read skips them). Cancel-safe,
    /// so it can sit in a `select!` beside a deadline, a shutdown or a socket; it never
    /// ends a wait by itself, so every caller has its own way out.
    pub async fn ready(&mut self) {
        let position = self.position;
        // The sender lives in the feed, and this cursor keeps the feed alive, so the
        // channel cannot close under us.
        let _ = self.head.wait_for(|&head| head > position).await.expect("the feed outlives its cursors");
    }

    /// [`Cursor::ready`], then `gather` longer, so that ticks published meanwhile are
    /// read, and written, together: a stream's write coalescing (`--coalesce`). With
    /// `gather` zero it is `ready` itself.
    pub async fn ready_within(&mut self, gather: Duration) {
        self.ready().await;
        if !gather.is_zero() {
            tokio::time::sleep(gather).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Arc<Feed> {
        Arc::new(Feed::new(vec!["A".into(), "B".into()], 4, "k3x9".into()))
    }

    fn publish(feed: &Feed, seqs: std::ops::RangeInclusive<u64>) {
        feed.publish(seqs.map(|seq| feed.frame(seq, (seq as usize + 1) % 2, b"{}".to_vec())));
    }

    fn seqs(batch: &Batch) -> Vec<u64> {
        batch.ticks.iter().map(|t| t.seq).collect()
    }

    #[test]
    fn reads_move_the_cursor_past_every_tick_seen() {
        let feed = feed();
        publish(&feed, 1..=3);
        let mut cursor = Cursor::new(&feed, 1, SymbolFilter::from_indices([1])).unwrap();
        let batch = cursor.read(100);
        assert_eq!((seqs(&batch), cursor.position()), (vec![2], 3), "seq 3 is A: skipped, not re-read");
        assert!(cursor.read(100).is_empty());
        assert_eq!(Cursor::new(&feed, 4, SymbolFilter::ALL).unwrap_err(), CursorAhead { cursor: 4, head: 3 });
    }

    #[test]
    fn a_position_of_another_epoch_owes_one_reset_and_reads_from_the_oldest_tick() {
        let feed = feed();
        publish(&feed, 1..=10); // history 4: 7..=10 remain
        let old_run = Position::new("zzzz", 200);
        let mut cursor = Cursor::resume(&feed, Some(&old_run), SymbolFilter::ALL).unwrap();
        assert!(cursor.take_reset());
        assert!(!cursor.take_reset(), "owed once");
        let batch = cursor.read(100);
        assert_eq!((batch.missed, seqs(&batch)), (0, vec![7, 8, 9, 10]));
        let mut same = Cursor::resume(&feed, Some(&Position::new("k3x9", 8)), SymbolFilter::ALL).unwrap();
        assert_eq!((same.take_reset(), seqs(&same.read(100))), (false, vec![9, 10]));
        let ahead = Cursor::resume(&feed, Some(&Position::new("k3x9", 11)), SymbolFilter::ALL);
        assert_eq!(ahead.unwrap_err(), CursorAhead { cursor: 11, head: 10 });
        assert_eq!(Cursor::resume(&feed, None, SymbolFilter::ALL).unwrap().position(), 10);
    }

    #[test]
    fn a_cursor_left_behind_is_told_what_it_missed() {
        let feed = feed();
        let mut cursor = Cursor::at_head(&feed, SymbolFilter::ALL);
        publish(&feed, 1..=10); // history 4: 7..=10 remain
        let batch = cursor.read(2);
        assert_eq!((batch.missed, seqs(&batch), cursor.position()), (6, vec![7, 8], 8));
        assert_eq!((cursor.read(100).missed, cursor.position()), (0, 10));
    }

    #[tokio::test(start_paused = true)]
    async fn ready_waits_for_the_head_to_pass_the_cursor() {
        let feed = feed();
        publish(&feed, 1..=1);
        let mut cursor = Cursor::at_head(&feed, SymbolFilter::ALL);
        let idle = tokio::time::timeout(Duration::from_secs(1), cursor.ready()).await;
        assert!(idle.is_err(), "nothing after the head yet");
        let publisher = feed.clone();
        tokio::spawn(async move { publish(&publisher, 2..=2) });
        cursor.ready().await;
        assert_eq!(seqs(&cursor.read(100)), vec![2]);
    }

    #[tokio::test(start_paused = true)]
    async fn ready_within_gathers_what_arrives_meanwhile_into_one_read() {
        let feed = feed();
        let mut cursor = Cursor::at_head(&feed, SymbolFilter::ALL);
        let publisher = feed.clone();
        tokio::spawn(async move {
            publish(&publisher, 1..=1);
            tokio::time::sleep(Duration::from_millis(3)).await;
            publish(&publisher, 2..=2);
            tokio::time::sleep(Duration::from_millis(10)).await;
            publish(&publisher, 3..=3);
        });
        cursor.ready_within(Duration::from_millis(5)).await;
        assert_eq!(seqs(&cursor.read(100)), vec![1, 2], "seq 3 came after the 5 ms");
        cursor.ready_within(Duration::ZERO).await;
        assert_eq!(seqs(&cursor.read(100)), vec![3]);
    }
}
