//! WebSocket: one upgraded connection, messages both ways.
//!
//! Each client opens `GET /api/ws` (`?since=<epoch>-<seq>` when it resumes), completes
//! the upgrade handshake and then reads one text message per tick; control messages
//! carry a `"type"` (`hello` first, naming the server's epoch; `reset` when the cursor
//! was of another run; `gap`, `error`, `subscribed`). Framing is 2–4 bytes per message from the
//! server, so per tick it is the cheapest on the wire; per client it holds a connection
//! and one read buffer.
//!
//! The handshake and the frames are done here on the socket rather than by tungstenite
//! (see [`super::stream`] for why): every frame a read completes is parsed before the
//! next read, a tick's text is read in place, and pings are answered with a masked pong
//! at once. The `Sec-WebSocket-Accept` of the answer is checked as RFC 6455 asks.

use std::time::Instant;

use pushlab_contract::{ControlMessage, ServerMessage};
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};

use super::stream::{Conn, tick_fields};
use super::{Client, ClientError};

/// Largest message accepted from the server (ticks with `--payload-bytes` included).
pub const WS_MAX_MESSAGE_BYTES: usize = 1 << 20;
/// The mask of the frames we send (clients must mask; RFC 6455 wants it unpredictable
/// to defend proxies, which loopback has none of).
const MASK: [u8; 4] = [0x5a, 0x17, 0xc3, 0x8e];

const OP_CONTINUATION: u8 = 0;
const OP_TEXT: u8 = 1;
const OP_CLOSE: u8 = 8;
const OP_PING: u8 = 9;
const OP_PONG: u8 = 10;

pub async fn run(c: Client) {
    c.reconnecting(async |c: &mut Client| c.stream_ws().await).await;
}

/// One frame header: FIN, opcode, payload length and where the payload starts.
#[derive(Debug, PartialEq, Eq)]
struct FrameHead {
    fin: bool,
    opcode: u8,
    len: usize,
    header: usize,
}

/// The frame header at the start of `b`, `None` if it is not all there yet.
fn frame_head(b: &[u8]) -> Result<Option<FrameHead>, ClientError> {
    let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else { return Ok(None) };
    if b0 & 0x70 != 0 {
        return Err(ClientError::WsProtocol("reserved bits set"));
    }
    if b1 & 0x80 != 0 {
        return Err(ClientError::WsProtocol("a server frame is masked"));
    }
    let (len, header) = match b1 & 0x7f {
        126 => match b.get(2..4) {
            Some(n) => (u64::from(u16::from_be_bytes([n[0], n[1]])), 4),
            None => return Ok(None),
        },
        127 => match b.get(2..10) {
            Some(n) => (u64::from_be_bytes(n.try_into().expect("8 bytes")), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len > WS_MAX_MESSAGE_BYTES as u64 {
        return Err(ClientError::WsProtocol("frame larger than the message limit"));
    }
    Ok(Some(FrameHead { fin: b0 & 0x80 != 0, opcode: b0 & 0x0f, len: len as usize, header }))
}

/// A masked client frame of `opcode` carrying `payload` (≤ 125 bytes: a control frame).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len().min(125) as u8];
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().take(125).zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
    frame
}

impl Client {
    async fn stream_ws(&mut self) -> Result<(), ClientError> {
        let started = Instant::now();
        let cancel = self.cancel.clone();
        let mut cancelled = std::pin::pin!(cancel.cancelled());
        let stream = tokio::select! {
            _ = &mut cancelled => return Ok(()),
            s = self.connect_tcp() => s?,
        };
        let mut conn = Conn::new(stream);
        let params: Vec<_> = self.probe.cursor().iter().map(|p| ("since", p.to_string())).collect();
        let key = generate_key();
        // The request tungstenite wrote for us before, byte for byte.
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n",
            self.settings.url("/api/ws", &params),
            self.target().authority
        );
        self.probe.request();
        let head = tokio::select! {
            _ = &mut cancelled => return Ok(()),
            h = async {
                conn.write_all(request.as_bytes()).await.map_err(ClientError::WsIo)?;
                conn.read_head().await
            } => h?,
        };
        if head.status != 101 {
            return Err(ClientError::Status(head.status));
        }
        if head.ws_accept.as_deref() != Some(derive_accept_key(key.as_bytes()).as_str()) {
            return Err(ClientError::WsProtocol("wrong Sec-WebSocket-Accept"));
        }
        self.probe.connected(started.elapsed());
        self.succeeded();
        // The ticks of one read, recorded together (one lock, one clock read).
        let mut ticks: Vec<(u64, u64)> = Vec::with_capacity(64);
        // A text message split over frames (the server sends none today).
        let mut fragments: Option<Vec<u8>> = None;
        let mut pongs: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut used = 0;
            let data = conn.data();
            let mut need = 0;
            let mut failure = None;
            while let Some(frame) = frame_head(&data[used..])? {
                let end = used + frame.header + frame.len;
                if end > data.len() {
                    need = frame.header + frame.len;
                    break;
                }
                let payload = &data[used + frame.header..end];
                used = end;
                let text = match (frame.opcode, frame.fin, &mut fragments) {
                    (OP_TEXT, true, None) => payload,
                    (OP_TEXT, false, f @ None) => {
                        f.insert(Vec::new()).extend_from_slice(payload);
                        continue;
                    }
                    (OP_CONTINUATION, fin, Some(f)) => {
                        if f.len() + payload.len() > WS_MAX_MESSAGE_BYTES {
                            return Err(ClientError::WsProtocol("message larger than the limit"));
                        }
                        f.extend_from_slice(payload);
                        if !fin {
                            continue;
                        }
                        let whole = fragments.take().expect("some");
                        if let Err(e) = self.ws_text(&whole, &mut ticks) {
                            failure = Some(e);
                            break;
                        }
                        continue;
                    }
                    (OP_PING, true, _) => {
                        pongs.push(client_frame(OP_PONG, payload));
                        continue;
                    }
                    (OP_PONG, true, _) => continue,
                    (OP_CLOSE, _, _) => {
                        failure = Some(ClientError::Closed);
                        break;
                    }
                    // Binary messages are not expected; anything else breaks the protocol.
                    (2, true, None) => continue,
                    _ => return Err(ClientError::WsProtocol("unexpected frame")),
                };
                if let Err(e) = self.ws_text(text, &mut ticks) {
                    failure = Some(e);
                    break;
                }
            }
            conn.consume(used);
            conn.want(need);
            self.probe.tick_fields(&ticks);
            ticks.clear();
            if let Some(e) = failure {
                return Err(e);
            }
            for pong in pongs.drain(..) {
                conn.write_all(&pong).await.map_err(ClientError::WsIo)?;
            }
            let read = tokio::select! {
                _ = &mut cancelled => return Ok(()),
                r = conn.fill() => r.map_err(ClientError::WsIo)?,
            };
            if read == 0 {
                return Err(ClientError::Closed);
            }
        }
    }

    /// One text message: a tick is queued in `ticks`; a control message is acted on in
    /// order, after the ticks before it.
    fn ws_text(&mut self, text: &[u8], ticks: &mut Vec<(u64, u64)>) -> Result<(), ClientError> {
        if !text.starts_with(b"{\"type\"")
            && let Ok(fields) = tick_fields(text)
        {
            ticks.push(fields);
            return Ok(());
        }
        let text = std::str::from_utf8(text).map_err(|_| ClientError::WsProtocol("text is not UTF-8"))?;
        match ServerMessage::parse(text)? {
            ServerMessage::Tick(tick) => ticks.push((tick.seq, tick.ts_us)),
            ServerMessage::Control(ControlMessage::Gap { missed }) => {
                self.probe.tick_fields(ticks);
                ticks.clear();
                self.probe.gap_after_cursor(missed);
            }
            // The first message: a hello of another epoch than the client's is a reset
            // even if none follows (one that does then changes nothing).
            ServerMessage::Control(ControlMessage::Hello { epoch, .. }) => {
                self.probe.tick_fields(ticks);
                ticks.clear();
                self.probe.learn_epoch(&epoch);
            }
            ServerMessage::Control(ControlMessage::Reset { epoch }) => {
                self.probe.tick_fields(ticks);
                ticks.clear();
                self.probe.reset(&epoch);
            }
            ServerMessage::Control(ControlMessage::Error { message }) => {
                return Err(ClientError::ServerMessage(message));
            }
            ServerMessage::Control(ControlMessage::Subscribed { .. }) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_heads_of_every_length_form() {
        assert_eq!(frame_head(&[0x81]).unwrap(), None);
        assert_eq!(
            frame_head(&[0x81, 5]).unwrap(),
            Some(FrameHead { fin: true, opcode: 1, len: 5, header: 2 })
        );
        assert_eq!(frame_head(&[0x01, 126, 1]).unwrap(), None);
        assert_eq!(
            frame_head(&[0x01, 126, 1, 0]).unwrap(),
            Some(FrameHead { fin: false, opcode: 1, len: 256, header: 4 })
        );
        let mut long = vec![0x81, 127];
        long.extend_from_slice(&70_000u64.to_be_bytes());
        assert_eq!(
            frame_head(&long).unwrap(),
            Some(FrameHead { fin: true, opcode: 1, len: 70_000, header: 10 })
        );
        long[2] = 1;
        assert!(frame_head(&long).is_err(), "over the message limit");
        assert!(frame_head(&[0x81, 0x85]).is_err(), "masked by the server");
    }

    #[test]
    fn pongs_are_masked() {
        let f = client_frame(OP_PONG, b"hi");
        assert_eq!(&f[..2], &[0x8a, 0x82]);
        let unmasked: Vec<u8> = f[6..].iter().zip(&f[2..6]).map(|(b, m)| b ^ m).collect();
        assert_eq!(unmasked, b"hi");
    }
}
