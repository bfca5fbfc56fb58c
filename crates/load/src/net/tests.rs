//! Targets, connecting and the byte counts on client sockets.

use super::*;
use crate::measure::{Measurement, Window};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The counters must equal the bytes the peer saw on its socket, to the byte.
#[tokio::test]
async fn counts_exactly_the_bytes_on_the_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Target::from_addr(listener.local_addr().unwrap());
    let response: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"rate\":1.0}";
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(response).await.unwrap();
        got.len() as u64
    });
    let m = Measurement::new(Window { start_us: 0, end_us: 1 });
    let probe = m.probe(0);
    let stream = target.connect(0, probe.group().clone(), probe.activity().clone()).await.unwrap();
    let mut sender = http1(stream).await.unwrap();
    let req = get(&target, "/api/stats").body(Empty::new()).unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"{\"rate\":1.0}");
    let server_read = server.await.unwrap();
    let t = m.traffic();
    assert_eq!(t.bytes_written, server_read);
    assert_eq!(t.bytes_read, response.len() as u64);
}

#[tokio::test]
async fn remote_targets_are_refused_without_allow_remote() {
    let err = Target::resolve("http://192.0.2.1:3000", false).await.unwrap_err();
    assert!(matches!(err, TargetError::NotLoopback(_)), "{err}");
    assert!(Target::resolve("http://192.0.2.1:3000", true).await.is_ok());
    assert!(Target::resolve("http://127.0.0.5:3000", false).await.is_ok());
    let local = Target::resolve("http://localhost:3000", false).await.unwrap();
    assert_eq!(local.addr, "127.0.0.1:3000".parse().unwrap());
    assert!(matches!(Target::resolve("ftp://x", false).await, Err(TargetError::BadUrl(_))));
}
