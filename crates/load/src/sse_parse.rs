//! An incremental `text/event-stream` parser, as the HTML standard defines it.
//!
//! Written here rather than taken from a crate because 19,000 streams each keep one:
//! this one holds only the current line and the event being built, and hands events to
//! a callback instead of allocating a stream per connection. Lines end in LF, CRLF or a
//! lone CR; a CRLF split across two reads must not count as two line ends.

/// One dispatched event. `event` is empty for the default type (`message`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous byte was a CR, so an LF right after it ends nothing.
    after_cr: bool,
    event: Event,
    has_data: bool,
    /// The last `retry:` (ms), which sets how long `EventSource` waits to reconnect.
    retry_ms: Option<u64>,
}

impl SseParser {
    /// The reconnect delay the stream asked for with `retry:`, in ms, if it did.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Feed the next bytes of the stream; `on_event` gets every event they complete.
    /// The event is lent, not given: its strings are reused for the next one, so a
    /// stream that keeps up allocates nothing per event.
    pub fn feed(&mut self, mut bytes: &[u8], mut on_event: impl FnMut(&Event)) {
        while let Some(&first) = bytes.first() {
            if first == b'\n' && self.after_cr {
                self.after_cr = false;
                bytes = &bytes[1..];
                continue;
            }
            self.after_cr = false;
            match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.line.extend_from_slice(&bytes[..end]);
                    self.after_cr = bytes[end] == b'\r';
                    bytes = &bytes[end + 1..];
                    self.end_line(&mut on_event);
                }
                None => {
                    self.line.extend_from_slice(bytes);
                    return;
                }
            }
        }
    }

    fn end_line(&mut self, on_event: &mut impl FnMut(&Event)) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            // A blank line dispatches the event; one without data is dropped (the standard).
            if self.has_data {
                on_event(&self.event);
                // The id is the stream's "last event id": it outlives the event.
                self.event.data.clear();
            }
            self.event.event.clear();
            self.has_data = false;
        } else if line[0] == b':' {
            // A comment: the server's keep-alive, nothing to record.
        } else {
            let (field, value) = match line.iter().position(|&c| c == b':') {
                Some(i) => {
                    let v = &line[i + 1..];
                    (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
                }
                None => (&line[..], &b""[..]),
            };
            let value = String::from_utf8_lossy(value);
            match field {
                b"data" => {
                    if self.has_data {
                        self.event.data.push('\n');
                    }
                    self.event.data.push_str(&value);
                    self.has_data = true;
                }
                b"event" => {
                    self.event.event.clear();
                    self.event.event.push_str(&value);
                }
                // An id with a NUL is ignored, per the standard.
                b"id" if !value.contains('\0') => {
                    let id = self.event.id.get_or_insert_default();
                    id.clear();
                    id.push_str(&value);
                }
                // Only ASCII digits; anything else is ignored, per the standard.
                b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    self.retry_ms = value.parse().ok();
                }
                _ => {}
            }
        }
        // Keep the allocation for the next line.
        self.line = line;
        self.line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(text: &str, piece: usize) -> Vec<Event> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for chunk in text.as_bytes().chunks(piece) {
            p.feed(chunk, |e| out.push(e.clone()));
        }
        out
    }

    fn ev(id: Option<&str>, event: &str, data: &str) -> Event {
        Event { id: id.map(Into::into), event: event.into(), data: data.into() }
    }

    #[test]
    fn every_line_ending_and_every_split_gives_the_same_events() {
        let lf =
            "retry: 1000\n: keep-alive\nid: 1\ndata: {\"seq\":1}\n\nid: 2\nevent: gap\ndata: a\ndata:b\n\n";
        let expected = vec![ev(Some("1"), "", "{\"seq\":1}"), ev(Some("2"), "gap", "a\nb")];
        for text in [lf.to_string(), lf.replace('\n', "\r\n"), lf.replace('\n', "\r")] {
            for piece in 1..=text.len() {
                let events = parse_in_pieces(&text, piece);
                assert_eq!(events, expected, "{text:?} in pieces of {piece}");
                let mut p = SseParser::default();
                p.feed(text.as_bytes(), |_| {});
                assert_eq!(p.retry_ms(), Some(1000));
            }
        }
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_id_persists() {
        let events = parse_in_pieces("id: 7\nevent: gap\n\ndata: x\n\n", 3);
        // The id is "last event id" state: it stays; the event type resets.
        assert_eq!(events, vec![ev(Some("7"), "", "x")]);
    }

    #[test]
    fn a_retry_that_is_not_digits_is_ignored() {
        let mut p = SseParser::default();
        p.feed(b"retry: 250\n\nretry: 1e3\n\nretry:\n\n", |_| {});
        assert_eq!(p.retry_ms(), Some(250));
    }

    #[test]
    fn a_field_without_colon_and_no_space_after_colon() {
        let events = parse_in_pieces("data\ndata:x\n\n", 64);
        assert_eq!(events, vec![ev(None, "", "\nx")]);
    }
}
