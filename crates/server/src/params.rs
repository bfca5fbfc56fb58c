//! Query parameters shared by the transports, checked one by one so that every bad
//! value gets a 400 naming the parameter and what it accepts.

use std::ops::{Range, RangeInclusive};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pushlab_contract::Position;
use pushlab_contract::limits::{LIMIT_DEFAULT, LIMIT_RANGE};
use smallvec::SmallVec;

use crate::error::ApiError;
use crate::feed::{Feed, SymbolFilter};

/// The raw query string as name/value pairs, in order, decoded as a form
/// (`application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte, bytes that are
/// not UTF-8 become U+FFFD).
///
/// Every name and value sits in one string, the pairs as ranges of it: one allocation
/// per request (none without a query) rather than a `Vec` and two `String`s per pair,
/// as deserializing into `Vec<(String, String)>` made on every poll.
#[derive(Debug, Default)]
pub struct Params {
    text: String,
    pairs: SmallVec<[(Range<usize>, Range<usize>); 4]>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let mut params = Params::default();
        for (name, value) in pairs {
            let name = params.push(name.as_bytes());
            let value = params.push(value.as_bytes());
            params.pairs.push((name, value));
        }
        params
    }

    /// Parses a query string as `form_urlencoded::parse` does: pairs split at `&`
    /// (empty ones skipped), name and value at the first `=`.
    pub fn parse(query: &str) -> Self {
        let mut bytes = Vec::with_capacity(query.len());
        let mut pairs = SmallVec::new();
        for pair in query.as_bytes().split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            let name = decode_into(&mut bytes, name);
            let value = decode_into(&mut bytes, value);
            pairs.push((name, value));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Params { text, pairs },
            // Not UTF-8 somewhere: each name and value is made valid on its own.
            Err(e) => {
                let bytes = e.into_bytes();
                let mut params = Params::default();
                for (name, value) in pairs {
                    let name = params.push(&bytes[name]);
                    let value = params.push(&bytes[value]);
                    params.pairs.push((name, value));
                }
                params
            }
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(&String::from_utf8_lossy(bytes));
        start..self.text.len()
    }

    /// The value of `name`, if given once; given twice is ambiguous and refused.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, _)| &self.text[k.clone()] == name)
            .map(|(_, v)| &self.text[v.clone()]);
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(ApiError::bad(format!("{name}: given more than once"))),
            (value, _) => Ok(value),
        }
    }

    /// A tick cursor: `<epoch>-<seq>` or a bare `<seq>`. Resolving it against this run
    /// of the log (and refusing one ahead of the head) is the feed's job.
    pub fn cursor(&self, name: &str) -> Result<Option<Position>, ApiError> {
        self.get(name)?.map(|v| parse_cursor(name, v)).transpose()
    }

    /// An integer in `range`, or `default` when absent.
    pub fn int_in(&self, name: &str, range: RangeInclusive<u64>, default: u64) -> Result<u64, ApiError> {
        let Some(value) = self.get(name)? else {
            return Ok(default);
        };
        let bad = || {
            ApiError::bad(format!(
                "{name}: expected an integer from {} to {}, got {value:?}",
                range.start(),
                range.end()
            ))
        };
        let n: u64 = value.parse().map_err(|_| bad())?;
        if range.contains(&n) { Ok(n) } else { Err(bad()) }
    }

    /// `limit` for poll and long-poll.
    pub fn limit(&self) -> Result<usize, ApiError> {
        Ok(self.int_in("limit", LIMIT_RANGE, LIMIT_DEFAULT)? as usize)
    }

    /// `symbols=A,B`: every name must be one of the feed's; absent means all.
    pub fn symbols(&self, feed: &Feed) -> Result<SymbolFilter, ApiError> {
        match self.get("symbols")? {
            None => Ok(SymbolFilter::ALL),
            Some(list) => symbol_filter(feed, list.split(',')),
        }
    }
}

/// Appends `encoded` percent-decoded (`+` as a space; a `%` not followed by two hex
/// digits stays as it is) to `out`; returns where it landed.
fn decode_into(out: &mut Vec<u8>, encoded: &[u8]) -> Range<usize> {
    let start = out.len();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < encoded.len() {
        match encoded[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (encoded.get(i + 1).copied().and_then(hex), encoded.get(i + 2).copied().and_then(hex)) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    start..out.len()
}

/// Parse a cursor value, `<epoch>-<seq>` or `<seq>`; `what` names it in the error (a
/// parameter or a header).
pub fn parse_cursor(what: &str, value: &str) -> Result<Position, ApiError> {
    Position::parse(value).map_err(|e| ApiError::bad(format!("{what}: {e}, got {value:?}")))
}

/// A filter from symbol names; an unknown or empty name is a 400 listing the known ones.
pub fn symbol_filter<'a>(
    feed: &Feed,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<SymbolFilter, ApiError> {
    let known = || feed.symbols().join(",");
    let mut indices = Vec::new();
    for name in names {
        match feed.symbol_index(name) {
            Some(i) => indices.push(i),
            None if name.is_empty() => {
                return Err(ApiError::bad(format!(
                    "symbols: expected a comma-separated list of symbols from {}",
                    known()
                )));
            }
            None => {
                return Err(ApiError::bad(format!("symbols: unknown symbol {name:?}; known: {}", known())));
            }
        }
    }
    Ok(SymbolFilter::from_indices(indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(err: ApiError) -> String {
        err.to_string()
    }

    #[test]
    fn cursors_are_a_seq_with_or_without_an_epoch() {
        let p = Params::from_pairs(&[("since", "42")]);
        assert_eq!(p.cursor("since").unwrap(), Some(Position { epoch: None, seq: 42 }));
        let p = Params::from_pairs(&[("since", "k3x9-42")]);
        assert_eq!(p.cursor("since").unwrap(), Some(Position::new("k3x9", 42)));
        assert_eq!(Params::default().cursor("since").unwrap(), None);
        for bad in ["", "-1", "+1", "1.5", "abc", "18446744073709551616", " 1", "k3x9-", "k3x9-x"] {
            let err = message(Params::from_pairs(&[("since", bad)]).cursor("since").unwrap_err());
            assert!(err.starts_with("since: expected a tick seq"), "{bad:?} → {err}");
            assert!(err.ends_with(&format!("got {bad:?}")), "{bad:?} → {err}");
        }
        for bad in ["K3X9-1", "abc-1", "a_bcd-1"] {
            let err = message(Params::from_pairs(&[("since", bad)]).cursor("since").unwrap_err());
            assert!(
                err.starts_with("since: expected <epoch>-<seq> with an epoch of 4 to 12"),
                "{bad:?} → {err}"
            );
        }
        assert!(
            message(Params::from_pairs(&[("since", "1"), ("since", "2")]).cursor("since").unwrap_err())
                .contains("more than once")
        );
    }

    #[test]
    fn limits_are_range_checked() {
        assert_eq!(Params::default().limit().unwrap(), 1000);
        assert_eq!(Params::from_pairs(&[("limit", "10000")]).limit().unwrap(), 10_000);
        for bad in ["0", "10001", "x", ""] {
            let err = message(Params::from_pairs(&[("limit", bad)]).limit().unwrap_err());
            assert_eq!(err, format!("limit: expected an integer from 1 to 10000, got {bad:?}"));
        }
    }

    #[test]
    fn symbols_must_be_known() {
        let feed = Feed::new(vec!["ACME".into(), "BOLT".into()], 4, "k3x9".into());
        let filter = Params::from_pairs(&[("symbols", "BOLT")]).symbols(&feed).unwrap();
        assert!(filter.matches(1) && !filter.matches(0));
        let err = message(Params::from_pairs(&[("symbols", "ACME,NOPE")]).symbols(&feed).unwrap_err());
        assert_eq!(err, r#"symbols: unknown symbol "NOPE"; known: ACME,BOLT"#);
        assert!(Params::from_pairs(&[("symbols", "")]).symbols(&feed).is_err());
    }

    #[test]
    fn queries_decode_as_forms() {
        let p = Params::parse("since=4&symbols=ACME%2cBOLT&&q=a+b%20c&flag&pct=%zz%4&bad=%FF");
        assert_eq!(p.cursor("since").unwrap().map(|c| c.seq), Some(4));
        assert_eq!(p.get("symbols").unwrap(), Some("ACME,BOLT"));
        assert_eq!(p.get("q").unwrap(), Some("a b c"));
        assert_eq!(p.get("flag").unwrap(), Some(""));
        assert_eq!(p.get("pct").unwrap(), Some("%zz%4"));
        assert_eq!(p.get("bad").unwrap(), Some("\u{FFFD}"));
        assert_eq!(p.get("since").unwrap(), Some("4"), "still right after a lossy value");
        assert_eq!(p.get("nope").unwrap(), None);
        assert!(Params::parse("a=1&a=2").get("a").is_err());
        assert_eq!(Params::parse("").get("a").unwrap(), None);
    }
}
