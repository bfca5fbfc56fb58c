//! Epochs: which run of the server's log a cursor belongs to (SPEC §7).
//!
//! A seq means something only within one run of the log: a restarted server starts
//! again at 1, so "seq 200" of the old run and of the new one are different ticks. Every
//! run therefore has an epoch, a short token new at each start, and a cursor may carry
//! it as `<epoch>-<seq>` wherever a cursor goes (`since`, `Last-Event-ID`,
//! `last_event_id`). A cursor of another epoch is never served as a continuation: the
//! answer carries a reset notice and starts again at the oldest tick the new run still
//! holds. A bare `<seq>` keeps its old meaning: this run.

use std::fmt;
use std::ops::RangeInclusive;

/// An epoch is this many lowercase ASCII letters or digits.
pub const EPOCH_LEN: RangeInclusive<usize> = 4..=12;

/// True if `text` is a well-formed epoch: `[a-z0-9]{4,12}`.
pub fn is_epoch(text: &str) -> bool {
    EPOCH_LEN.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A client's cursor as it travels: a seq, and the epoch it was read in when the client
/// knows it. `"k3x9q2-200"` or `"200"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub epoch: Option<String>,
    pub seq: u64,
}

impl Position {
    /// A position in a known epoch.
    pub fn new(epoch: &str, seq: u64) -> Self {
        Position { epoch: Some(epoch.to_owned()), seq }
    }

    /// Parses `<epoch>-<seq>` or `<seq>`. The error says what was expected, for a 400.
    pub fn parse(text: &str) -> Result<Self, PositionError> {
        let (epoch, seq) = match text.rsplit_once('-') {
            // "-1" is a negative seq, not an empty epoch.
            Some(("", _)) => return Err(PositionError::BadSeq),
            Some((epoch, seq)) if is_epoch(epoch) => (Some(epoch.to_owned()), seq),
            Some(_) => return Err(PositionError::BadEpoch),
            None => (None, text),
        };
        // Digits only: u64's parser would also take a leading '+'.
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PositionError::BadSeq);
        }
        let seq = seq.parse().map_err(|_| PositionError::BadSeq)?;
        Ok(Position { epoch, seq })
    }

    /// Whether this position belongs to the run whose epoch is `current`. A bare seq
    /// does, by definition (it means "this run").
    pub fn is_of(&self, current: &str) -> bool {
        self.epoch.as_deref().is_none_or(|epoch| epoch == current)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.epoch {
            Some(epoch) => write!(f, "{epoch}-{}", self.seq),
            None => write!(f, "{}", self.seq),
        }
    }
}

/// Why a cursor did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionError {
    /// The part before the last `-` is not `[a-z0-9]{4,12}`.
    BadEpoch,
    /// The seq is not a decimal number that fits in 64 bits.
    BadSeq,
}

impl fmt::Display for PositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PositionError::BadEpoch => {
                "expected <epoch>-<seq> with an epoch of 4 to 12 of [a-z0-9], or a bare seq"
            }
            PositionError::BadSeq => {
                "expected a tick seq (a non-negative integer), optionally after <epoch>-"
            }
        })
    }
}

impl std::error::Error for PositionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_with_and_without_an_epoch_and_print_back() {
        for text in ["200", "0", "k3x9-200", "abcdefghij12-18446744073709551615"] {
            assert_eq!(Position::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Position::parse("k3x9-7").unwrap(), Position::new("k3x9", 7));
        assert_eq!(Position::parse("7").unwrap(), Position { epoch: None, seq: 7 });
    }

    #[test]
    fn malformed_positions_say_which_part_is_wrong() {
        for bad in ["", "-1", "+1", "1.5", "abc", "k3x9-", "k3x9-+1", "18446744073709551616", "k3x9-x"] {
            assert_eq!(Position::parse(bad), Err(PositionError::BadSeq), "{bad:?}");
        }
        for bad in ["K3X9-1", "abc-1", "abcdefghijklm-1", "k3_9-1", "a-b-1", "-k3x9-1"] {
            assert_eq!(Position::parse(bad), Err(PositionError::BadEpoch), "{bad:?}");
        }
    }

    #[test]
    fn a_bare_seq_belongs_to_every_run_and_an_epoch_to_its_own() {
        assert!(Position::parse("5").unwrap().is_of("k3x9"));
        assert!(Position::parse("k3x9-5").unwrap().is_of("k3x9"));
        assert!(!Position::parse("zzzz-5").unwrap().is_of("k3x9"));
        assert!(is_epoch("k3x9") && !is_epoch("k3x") && !is_epoch("k3x9k3x9k3x9k"));
    }
}
