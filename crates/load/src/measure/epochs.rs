//! Ticks lost, counted within an epoch.
//!
//! A seq names a tick only within one run of the server's log (SPEC §7), so each client
//! keeps one [`EpochLog`] per epoch it was served: the window's ticks it received of
//! it, its highest seq, the gap notices. At the end each log is held against the
//! reference's ticks of the same epoch ([`Expected`]):
//!
//! - the epoch the client is still in, if it is the server's current one: every tick
//!   of the window is expected (the server resumes it from its cursor);
//! - an epoch the client left — the server restarted and said so (a reset), or the
//!   client gave up, or it is still trying to reach a server that is gone — ends at the
//!   client's last tick of it: what the old run published after that cannot be asked
//!   for any more. It is not counted lost: the reset is the honest figure, since what
//!   was missed across it is unknown.
//!
//! Below those bounds every expected tick the client lacks is lost.

use super::SeqSet;
use crate::reference::{EpochTicks, Expected};

/// What one client received of one epoch of the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpochLog {
    /// The epoch, once the client knows it (a server that sends none: never).
    pub epoch: Option<String>,
    /// The ticks of the window received, each once.
    pub seen: SeqSet,
    /// The highest seq received, in or out of the window (0 before any).
    pub max_seq: u64,
    /// Gap notices: `(after, count)`, the seqs `after + 1 ..= after + count` evicted.
    pub gaps: Vec<(u64, u64)>,
    /// The client is still in this epoch (no reset left it, it did not give up).
    pub open: bool,
}

impl EpochLog {
    pub fn new(epoch: Option<String>) -> Self {
        Self { epoch, open: true, ..Self::default() }
    }

    /// Nothing received yet: a reset that names this same epoch changes nothing.
    pub fn is_fresh(&self) -> bool {
        self.max_seq == 0 && self.gaps.is_empty()
    }
}

/// The tick accounting of a run, over every client's logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accounting {
    pub expected: u64,
    /// Expected ticks a client lacks, within the bounds above.
    pub lost: u64,
    /// Of the lost, those a gap notice announced.
    pub gap_missed: u64,
    /// Ticks received that the reference, which read that far, never saw: 0 unless
    /// the server served a tick its own log does not hold.
    pub unexpected: u64,
}

/// The reference's ticks of `log`'s epoch: by name; a client that never learnt its
/// epoch (a server without epochs) is in the first one.
fn reference_of<'a>(log: &EpochLog, expected: &'a Expected) -> Option<(&'a EpochTicks, bool)> {
    let i = match &log.epoch {
        Some(name) => expected.epochs.iter().position(|e| &e.epoch == name)?,
        None => 0,
    };
    let ticks = expected.epochs.get(i)?;
    Some((ticks, i + 1 == expected.epochs.len()))
}

/// Hold every client's logs against the reference. `missing_clients` is how many
/// clients handed in no log at all (their task did not stop in time): each is counted
/// as expecting and lacking every tick of the current epoch.
pub fn account(logs: &[EpochLog], expected: &Expected, missing_clients: u64) -> Accounting {
    let mut a = Accounting::default();
    for log in logs {
        let Some((reference, current)) = reference_of(log, expected) else { continue };
        let cap = if log.open && current { u64::MAX } else { log.max_seq.min(reference.last_seq) };
        let due = &reference.seqs[..reference.seqs.partition_point(|&s| s <= cap)];
        a.expected += due.len() as u64;
        for &seq in due.iter().filter(|&&s| !log.seen.contains(s)) {
            a.lost += 1;
            if log.gaps.iter().any(|&(after, count)| seq > after && seq <= after + count) {
                a.gap_missed += 1;
            }
        }
        a.unexpected += log
            .seen
            .iter()
            .take_while(|&s| s <= reference.last_seq)
            .filter(|s| reference.seqs.binary_search(s).is_err())
            .count() as u64;
    }
    if let Some(last) = expected.epochs.last() {
        a.expected += last.seqs.len() as u64 * missing_clients;
        a.lost += last.seqs.len() as u64 * missing_clients;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(name: &str, seqs: std::ops::RangeInclusive<u64>, last_seq: u64) -> EpochTicks {
        EpochTicks { epoch: name.into(), seqs: seqs.collect(), last_seq }
    }

    fn log(name: Option<&str>, seqs: &[u64], open: bool) -> EpochLog {
        let mut l = EpochLog::new(name.map(Into::into));
        for &s in seqs {
            l.seen.insert(s);
            l.max_seq = l.max_seq.max(s);
        }
        l.open = open;
        l
    }

    #[test]
    fn what_a_closed_epoch_published_after_the_clients_last_tick_is_not_lost() {
        // The old run published 1..=10 in the window (the reference read to 11); the
        // client had 1..=7 but 4 when the server was killed, then its reset; the new
        // run published 1..=5, and the client has 1, 2, 3, 5.
        let expected =
            Expected { epochs: vec![epoch("aaaa", 1..=10, 11), epoch("bbbb", 1..=5, 5)], missed: 0 };
        let logs = [log(Some("aaaa"), &[1, 2, 3, 5, 6, 7], false), log(Some("bbbb"), &[1, 2, 3, 5], true)];
        let a = account(&logs, &expected, 0);
        assert_eq!(a, Accounting { expected: 7 + 5, lost: 2, gap_missed: 0, unexpected: 0 });
    }

    #[test]
    fn a_client_still_in_a_dead_epoch_is_bounded_by_its_last_tick() {
        let expected =
            Expected { epochs: vec![epoch("aaaa", 1..=10, 10), epoch("bbbb", 1..=5, 5)], missed: 0 };
        // Never reached the new server: open, but its epoch is not the current one.
        let stuck = log(Some("aaaa"), &[1, 2, 3], true);
        assert_eq!(account(&[stuck], &expected, 0), Accounting { expected: 3, ..Accounting::default() });
        // In the current epoch and open: the whole window is due.
        let current = log(Some("bbbb"), &[2], true);
        assert_eq!(
            account(&[current], &expected, 0),
            Accounting { expected: 5, lost: 4, ..Accounting::default() }
        );
    }

    #[test]
    fn gaps_unexpected_ticks_and_missing_clients() {
        let expected = Expected { epochs: vec![epoch("aaaa", 10..=20, 25)], missed: 0 };
        let mut l = log(None, &[10, 11, 15, 16, 17, 18, 19, 20, 22], true);
        l.gaps.push((11, 2)); // 12 and 13 announced as evicted; 14 silently missing
        let a = account(&[l], &expected, 2);
        assert_eq!(a, Accounting { expected: 11 + 22, lost: 3 + 22, gap_missed: 2, unexpected: 1 });
    }
}
