//! Long-polling: a poll the server holds open until there is something to say.
//!
//! Each client keeps one keep-alive HTTP/1.1 connection and always has exactly one
//! `GET /api/long-poll?since=N&timeout_ms=T` pending. The server answers as soon as a
//! matching tick exists (or after T ms with an empty list), and the client asks again at
//! once. Latency is one round trip after the tick; the cost is a full HTTP request and
//! response per answer, so at a busy feed it approaches one request per tick per client,
//! and at a quiet one it is one request per timeout.
//!
//! The first request has no cursor: the server waits for the next tick, so the
//! connect time includes up to one tick interval.

use pushlab_contract::Position;

use super::Client;
use crate::net::HttpSender;

pub async fn run(mut c: Client) {
    let cancel = c.cancel.clone();
    let mut sender: Option<HttpSender> = None;
    let mut cursor: Option<Position> = None;
    loop {
        let timeout_ms = c.settings.spec.knobs.long_poll_timeout.as_millis();
        let timeout = [("timeout_ms", timeout_ms.to_string())];
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = c.ask(&mut sender, "/api/long-poll", &timeout, &mut cursor) => r,
        };
        if let Err(e) = result
            && !c.failed(&e).await
        {
            return;
        }
    }
}
