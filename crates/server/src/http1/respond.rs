//! Writing a response: its head, then its body as the handler produces it, every frame
//! that is ready gathered into one `writev` straight from the handler's bytes.

use bytes::Bytes;
use std::io;

use axum::body::{Body, HttpBody as _};
use axum::http::{Response, StatusCode, Version};
use futures::FutureExt;
use http_body::Frame;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use super::wire::{Framing, Gather, chunk_size_line, response_head};
use super::{CloseUnanswered, Connection, MAX_FRAMES_PER_WRITE, Next, OnUpgrade, Stream};

impl Connection {
    /// Writes the head and then the body as the handler produces it.
    pub(super) async fn write_response(
        &mut self,
        response: Response<Body>,
        is_head: bool,
        version: Version,
        keep_alive: bool,
    ) -> io::Result<Next> {
        let (mut parts, body) = response.into_parts();
        if parts.extensions.get::<CloseUnanswered>().is_some() {
            return Ok(Next::Close);
        }
        let status = parts.status;
        if status == StatusCode::SWITCHING_PROTOCOLS {
            if let Some(run) = parts.extensions.remove::<OnUpgrade>().and_then(|u| u.take()) {
                self.io.write_all(&response_head(&parts, Framing::None, None, version, true)).await?;
                return Ok(Next::Upgrade(run));
            }
            tracing::error!("101 response without an upgrade to run");
            return Ok(Next::Close);
        }
        let length = body.size_hint().exact();
        let framing = if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            Framing::None
        } else if length.is_some() {
            Framing::Length
        } else if version == Version::HTTP_11 {
            Framing::Chunked
        } else {
            Framing::UntilClose
        };
        // A stream is the last response on its connection, which closes when the stream
        // ends (shutdown, `--stream-max-age`), and while the server drains no answer
        // invites another request: both say `connection: close`, so the client's next
        // request opens a connection of its own rather than racing our close.
        let streams = !is_head && framing == Framing::Chunked;
        let keep_alive =
            keep_alive && framing != Framing::UntilClose && !streams && !self.connections.stopping();
        let head = response_head(&parts, framing, length, version, keep_alive);
        if is_head || framing == Framing::None {
            self.io.write_all(&head).await?;
        } else if length.is_none() {
            return Ok(Next::Stream(Stream { head, body, framing }));
        } else if !self.write_body(head, body, framing).await? {
            return Ok(Next::Close); // the client left mid-body
        }
        Ok(if keep_alive { Next::KeepAlive } else { Next::Close })
    }

    /// Writes a streaming response to its end (the server's shutdown, or the client
    /// leaving), then closes: a stream is the last response on its connection.
    pub(super) async fn stream(mut self, Stream { head, body, framing }: Stream) {
        match self.write_body(head, body, framing).await {
            Ok(true) => {
                let _ = self.io.shutdown().await;
            }
            Ok(false) => {}
            Err(e) => tracing::debug!(peer = %self.peer, "stream ended: {e}"),
        }
    }

    /// Writes `head` and the body's frames, gathering every frame that is ready into one
    /// write. Returns false if the client left before the body ended.
    ///
    /// Only the wait for a frame is `await`ed, with nothing else in hand: gathering and
    /// writing happen in [`Self::write_ready`], synchronously, so the frames and the
    /// `writev` slices sit on the stack for a moment instead of in every connection's
    /// task for as long as it lives.
    async fn write_body(&mut self, head: Vec<u8>, mut body: Body, framing: Framing) -> io::Result<bool> {
        let mut head = Some(head);
        loop {
            // With the head still unwritten, go at once: if nothing is ready the head goes
            // alone, so the client sees the response begin.
            let first = if head.is_some() {
                body.frame().now_or_never()
            } else {
                tokio::select! {
                    frame = body.frame() => Some(frame),
                    gone = self.client_gone() => return gone.map(|()| false),
                }
            };
            let (unwritten, ended) = self.write_ready(head.take(), first, &mut body, framing)?;
            if !unwritten.is_empty() {
                // The socket is full (a slow reader): only now do the bytes need a buffer.
                self.io.write_all(&unwritten).await?;
            }
            if ended {
                return Ok(true);
            }
        }
    }

    /// Gathers `first` and every further frame ready now, writes them with the head (if
    /// still unwritten) in one `writev`, each frame a chunk when chunked and the last
    /// chunk if the body ended. Returns what the socket did not take, and whether the
    /// body ended.
    fn write_ready(
        &mut self,
        head: Option<Vec<u8>>,
        first: Option<Option<Result<Frame<Bytes>, axum::Error>>>,
        body: &mut Body,
        framing: Framing,
    ) -> io::Result<(Vec<u8>, bool)> {
        let mut frames: [Bytes; MAX_FRAMES_PER_WRITE] = std::array::from_fn(|_| Bytes::new());
        let mut count = 0;
        let mut ended = false;
        let mut next = first;
        while let Some(frame) = next {
            match frame {
                None => {
                    ended = true;
                    break;
                }
                Some(Err(e)) => return Err(io::Error::other(e)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        frames[count] = data;
                        count += 1;
                    }
                }
            }
            if count == MAX_FRAMES_PER_WRITE {
                break;
            }
            next = body.frame().now_or_never();
        }
        let frames = &frames[..count];
        let chunked = framing == Framing::Chunked;
        let mut size_lines = [[0u8; 18]; MAX_FRAMES_PER_WRITE];
        let mut size_line_lens = [0usize; MAX_FRAMES_PER_WRITE];
        if chunked {
            for (i, frame) in frames.iter().enumerate() {
                size_line_lens[i] = chunk_size_line(frame.len(), &mut size_lines[i]);
            }
        }
        let mut out = Gather::new();
        if let Some(head) = &head {
            out.push(head);
        }
        for (i, frame) in frames.iter().enumerate() {
            if chunked {
                out.push(&size_lines[i][..size_line_lens[i]]);
                out.push(frame);
                out.push(b"\r\n");
            } else {
                out.push(frame);
            }
        }
        if chunked && ended {
            out.push(b"0\r\n\r\n");
        }
        Ok((out.try_write(&self.io)?, ended))
    }
}
