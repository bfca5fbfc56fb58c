//! Reading a request: its head, within the header timeout (and, between requests, the
//! idle timeout), its body, and the wait that notices a client leaving. A buffer exists
//! only while bytes are in hand: an idle connection holds none.

use std::io;
use std::pin::Pin;
use std::task::Poll;

use axum::http::{StatusCode, header};
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::time::Instant;

use super::wire::{Refusal, body_length, head_complete, parse_head};
use super::{Connection, Limits, MAX_HEAD_BYTES, READ_CHUNK};

/// What reading a request head came to.
// Returned and taken apart at once, never stored: boxing the head would cost an
// allocation per request to save stack for a moment.
#[allow(clippy::large_enum_variant)]
pub(super) enum HeadRead {
    /// The client closed between requests.
    Closed,
    /// Closed for taking too long (counted).
    Expired,
    Refused(Refusal),
    /// A head, and when the rest of the request (its body) is due.
    Head {
        parts: http::request::Parts,
        keep_alive: bool,
        due: Instant,
    },
}

impl Connection {
    /// Reads until a whole request head is buffered and parses it.
    ///
    /// The head is due a header timeout after `accepted` for a connection's first
    /// request, else after its first byte; until a later request's first byte, the
    /// connection is idle, and may stay so for the idle timeout. Either running out
    /// closes the connection (counted).
    pub(super) async fn read_head(&mut self, accepted: Option<Instant>) -> io::Result<HeadRead> {
        let Limits { header_timeout, idle_timeout, .. } = self.connections.limits();
        let mut head_due = accepted.map(|at| at + header_timeout);
        let mut idle_due = None;
        let mut scanned = 0;
        loop {
            if head_complete(&self.buf, scanned) {
                let due = head_due.unwrap_or_else(|| Instant::now() + header_timeout);
                return Ok(match parse_head(&self.buf) {
                    Ok((parts, keep_alive, len)) => {
                        self.buf.advance(len);
                        self.release_if_empty();
                        HeadRead::Head { parts, keep_alive, due }
                    }
                    Err(refusal) => HeadRead::Refused(refusal),
                });
            }
            if self.buf.len() >= MAX_HEAD_BYTES {
                let message = format!("the request head is over {} KiB", MAX_HEAD_BYTES / 1024);
                return Ok(HeadRead::Refused(Refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message)));
            }
            scanned = self.buf.len();
            if !self.buf.is_empty() && head_due.is_none() {
                head_due = Some(Instant::now() + header_timeout);
            }
            // Only a read that has to wait arms a timer: `timeout_at` polls the read first.
            let read = match head_due {
                Some(due) => tokio::time::timeout_at(due, self.fill()).await,
                None => {
                    let due = *idle_due.get_or_insert_with(|| Instant::now() + idle_timeout);
                    tokio::time::timeout_at(due, self.fill()).await
                }
            };
            let Ok(read) = read else {
                let counters = self.connections.counters();
                if head_due.is_some() {
                    counters.header_timeout();
                    tracing::debug!(peer = %self.peer, "no request head within {header_timeout:?}: closed");
                } else {
                    counters.idle_timeout();
                    tracing::debug!(peer = %self.peer, "idle for {idle_timeout:?}: closed");
                }
                return Ok(HeadRead::Expired);
            };
            if read? == 0 {
                return if self.buf.is_empty() {
                    Ok(HeadRead::Closed)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    /// The request body, read whole (`Content-Length` only), by `due` (the header
    /// timeout covers the body too: a body trickled a byte at a time is a slowloris).
    pub(super) async fn read_body(
        &mut self,
        parts: &http::request::Parts,
        due: Instant,
    ) -> io::Result<Result<Bytes, Refusal>> {
        let length = match body_length(&parts.headers) {
            Ok(0) => return Ok(Ok(Bytes::new())),
            Ok(length) => length,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let expects_continue = parts
            .headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if expects_continue && self.buf.len() < length {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        while self.buf.len() < length {
            let Ok(read) = tokio::time::timeout_at(due, self.fill()).await else {
                self.connections.counters().header_timeout();
                return Err(io::Error::new(io::ErrorKind::TimedOut, "request body not in time"));
            };
            if read? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let body = self.buf.split_to(length).freeze();
        self.release_if_empty();
        Ok(Ok(body))
    }

    /// Waits until the socket is readable, then reads what is there, allocating the
    /// buffer only now. Returns 0 at the end of the stream.
    ///
    /// The read goes through `poll_read`, not `try_read`: a read that does not fill the
    /// space offered shows the socket drained, and `poll_read` then clears the readiness,
    /// so the next wait goes straight to the kernel's event instead of first paying a
    /// `recv` that returns `WouldBlock` (one syscall per request saved).
    pub(super) async fn fill(&mut self) -> io::Result<usize> {
        loop {
            self.io.readable().await?;
            let filled = self.buf.len();
            self.buf.resize(filled + READ_CHUNK, 0);
            let polled = std::future::poll_fn(|cx| {
                let mut read = tokio::io::ReadBuf::new(&mut self.buf[filled..]);
                let polled = Pin::new(&mut self.io).poll_read(cx, &mut read);
                Poll::Ready(polled.map_ok(|()| read.filled().len()))
            })
            .await;
            let n = match &polled {
                Poll::Ready(Ok(n)) => *n,
                _ => 0,
            };
            self.buf.truncate(filled + n);
            match polled {
                Poll::Ready(Ok(n)) => return Ok(n),
                Poll::Ready(Err(e)) => return Err(e),
                // Nothing there after all (readiness was stale): wait again, without a buffer.
                Poll::Pending => self.release_if_empty(),
            }
        }
    }

    pub(super) fn release_if_empty(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    /// Resolves when the client closes its end while a response is pending or
    /// streaming. Bytes it sends meanwhile (a pipelined request) are kept, up to a head's
    /// worth; past that it stops reading and only the response can end the wait.
    pub(super) async fn client_gone(&mut self) -> io::Result<()> {
        while self.buf.len() < MAX_HEAD_BYTES {
            if self.fill().await? == 0 {
                return Ok(());
            }
        }
        std::future::pending().await
    }
}
