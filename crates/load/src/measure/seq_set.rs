//! Which seqs a client has received, for counting duplicates: a bitmap, not a hash set.

/// A set of seqs as a bitmap from the first seq seen: a client's ticks are nearly
/// contiguous, so this is ~1 bit per tick of the window instead of a hash entry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeqSet {
    base: u64,
    words: Vec<u64>,
}

impl SeqSet {
    /// Insert `seq`; `false` if it was already there.
    pub fn insert(&mut self, seq: u64) -> bool {
        if self.words.is_empty() {
            self.base = seq - seq % 64;
        } else if seq < self.base {
            // Rare (a tick older than every earlier one): grow the bitmap downwards.
            let new_base = seq - seq % 64;
            let extra = ((self.base - new_base) / 64) as usize;
            self.words.splice(0..0, std::iter::repeat_n(0, extra));
            self.base = new_base;
        }
        let offset = seq - self.base;
        let (word, bit) = ((offset / 64) as usize, offset % 64);
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let had = self.words[word] & (1 << bit) != 0;
        self.words[word] |= 1 << bit;
        !had
    }

    pub fn contains(&self, seq: u64) -> bool {
        let Some(offset) = seq.checked_sub(self.base) else { return false };
        let (word, bit) = ((offset / 64) as usize, offset % 64);
        self.words.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// The seqs in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.words.iter().enumerate().flat_map(move |(i, &w)| {
            (0..64).filter(move |bit| w & (1 << bit) != 0).map(move |bit| self.base + i as u64 * 64 + bit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_set_grows_both_ways() {
        let mut s = SeqSet::default();
        assert!(s.insert(1000));
        assert!(s.insert(5));
        assert!(s.insert(70_000));
        assert!(!s.insert(5));
        assert!(!s.insert(1000));
        assert!(!s.insert(70_000));
        assert!(s.insert(999));
        assert!(s.contains(999) && s.contains(5) && !s.contains(6) && !s.contains(4) && !s.contains(80_000));
        assert_eq!(s.iter().collect::<Vec<_>>(), [5, 999, 1000, 70_000]);
    }
}
