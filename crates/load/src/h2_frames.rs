//! HTTP/2 bytes by frame type, counted where a client reads and writes above TLS: how
//! much of a tick's cost is headers (HPACK), how much DATA, how much the connection's own
//! control frames (SETTINGS, PING, WINDOW_UPDATE …).
//!
//! An HTTP/2 connection is a sequence of frames (RFC 9113 §4.1), each a 9-byte header
//! (payload length in 24 bits, type, flags, stream id) and its payload; the client
//! first writes a 24-byte preface. [`FrameTally`] follows that framing through the
//! bytes as they pass, whatever the chunks, and charges each byte, header included,
//! to its frame's kind. Nothing is decoded: HPACK blocks are counted, not read.

/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, what a client writes before its first frame.
pub const CLIENT_PREFACE_LEN: usize = 24;
/// Every frame's header: length (3 bytes), type, flags, stream id (4 bytes).
pub const FRAME_HEADER_LEN: usize = 9;

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;

/// Bytes of HTTP/2 frames by kind, headers of the frames included.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FrameBytes {
    /// HEADERS and CONTINUATION frames: the HPACK-coded header blocks.
    pub headers: u64,
    /// DATA frames: the bodies (an SSE event, a poll's JSON).
    pub data: u64,
    /// Everything else, and the client preface: SETTINGS, PING, WINDOW_UPDATE,
    /// RST_STREAM, GOAWAY, PRIORITY.
    pub control: u64,
}

impl FrameBytes {
    fn charge(&mut self, kind: u8, bytes: usize) {
        let bytes = bytes as u64;
        match kind {
            DATA => self.data += bytes,
            HEADERS | CONTINUATION => self.headers += bytes,
            _ => self.control += bytes,
        }
    }
}

/// Where one direction of a connection is in its framing.
#[derive(Debug, Clone)]
pub struct FrameTally {
    /// Preface bytes still to pass (the client's writes begin with them).
    preface_left: usize,
    /// The frame header read so far.
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    /// The current frame's type and how much of its payload is still to pass.
    kind: u8,
    payload_left: usize,
}

impl FrameTally {
    /// What a client writes: the preface, then frames.
    pub fn client_to_server() -> Self {
        Self::with_preface(CLIENT_PREFACE_LEN)
    }

    /// What a client reads: frames from the first byte.
    pub fn server_to_client() -> Self {
        Self::with_preface(0)
    }

    fn with_preface(preface_left: usize) -> Self {
        FrameTally { preface_left, header: [0; FRAME_HEADER_LEN], header_len: 0, kind: 0, payload_left: 0 }
    }

    /// Follows `bytes`, the next ones of this direction, and says what kind each was.
    pub fn feed(&mut self, mut bytes: &[u8]) -> FrameBytes {
        let mut counted = FrameBytes::default();
        while !bytes.is_empty() {
            if self.preface_left > 0 {
                let n = self.preface_left.min(bytes.len());
                counted.control += n as u64;
                (self.preface_left, bytes) = (self.preface_left - n, &bytes[n..]);
            } else if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                counted.charge(self.kind, n);
                (self.payload_left, bytes) = (self.payload_left - n, &bytes[n..]);
            } else {
                let n = (FRAME_HEADER_LEN - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + n].copy_from_slice(&bytes[..n]);
                (self.header_len, bytes) = (self.header_len + n, &bytes[n..]);
                if self.header_len == FRAME_HEADER_LEN {
                    let [a, b, c, kind, ..] = self.header;
                    self.kind = kind;
                    self.payload_left = u32::from_be_bytes([0, a, b, c]) as usize;
                    self.header_len = 0;
                    counted.charge(kind, FRAME_HEADER_LEN);
                }
            }
        }
        counted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut frame = vec![len[1], len[2], len[3], kind, 0, 0, 0, 0, 1];
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn each_frame_is_charged_to_its_kind_header_included() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(0x4, &[0; 6])); // SETTINGS
        bytes.extend(frame(HEADERS, &[0x82; 20]));
        bytes.extend(frame(CONTINUATION, &[0x82; 3]));
        let event = b"id: 1\ndata: {}\n\n";
        bytes.extend(frame(DATA, event));
        bytes.extend(frame(DATA, &[]));
        let whole = FrameTally::client_to_server().feed(&bytes);
        let data = 9 + event.len() as u64 + 9;
        assert_eq!(whole, FrameBytes { headers: 9 + 20 + 9 + 3, data, control: 24 + 9 + 6 });
        // However the bytes are cut (one at a time here), the count is the same.
        let mut tally = FrameTally::client_to_server();
        let mut sum = FrameBytes::default();
        for byte in &bytes {
            let one = tally.feed(std::slice::from_ref(byte));
            (sum.headers, sum.data, sum.control) =
                (sum.headers + one.headers, sum.data + one.data, sum.control + one.control);
        }
        assert_eq!(sum, whole);
    }

    #[test]
    fn the_server_side_has_no_preface() {
        let counted = FrameTally::server_to_client().feed(&frame(0x6, &[0; 8])); // PING
        assert_eq!(counted, FrameBytes { control: 17, ..FrameBytes::default() });
    }
}
