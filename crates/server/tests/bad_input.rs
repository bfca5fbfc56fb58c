//! Bad input gets a 400 naming the parameter, changes nothing, and the server keeps
//! serving; the connection cap answers 503; admin is for loopback peers only. What a
//! client of poll, long-poll or SSE sees is the same over HTTP/1.1 and HTTP/2
//! (`name::h1`, `name::h2`).

mod common;

crate::over_both!(
    every_bad_request_is_a_400_naming_the_parameter,
    past_max_connections_streams_get_503_with_retry_after,
    a_long_poll_whose_client_leaves_frees_its_place,
);

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use common::*;
use pushlab_contract::Transport;
use tower::ServiceExt;

/// Every malformed request of SPEC §3, with the parameter its error must name.
const BAD_REQUESTS: &[(&str, &str)] = &[
    ("/api/poll?since=-1", "since: expected a tick seq"),
    ("/api/poll?since=abc", "since: expected a tick seq"),
    ("/api/poll?since=", "since: expected a tick seq"),
    ("/api/poll?since=18446744073709551616", "since: expected a tick seq"),
    ("/api/poll?since=1.5", "since: expected a tick seq"),
    ("/api/poll?since=999", "since: 999 is ahead of the newest tick (10)"),
    ("/api/poll?since=1&since=2", "since: given more than once"),
    ("/api/poll?limit=0", "limit: expected an integer from 1 to 10000"),
    ("/api/poll?limit=10001", "limit: expected an integer from 1 to 10000"),
    ("/api/poll?symbols=NOPE", "symbols: unknown symbol \"NOPE\""),
    ("/api/poll?symbols=", "symbols: expected a comma-separated list"),
    ("/api/poll?symbols=ACME,", "symbols: expected a comma-separated list"),
    ("/api/poll?since=%ZZ", "since: expected a tick seq"),
    ("/api/long-poll?since=x", "since: expected a tick seq"),
    ("/api/long-poll?since=11", "since: 11 is ahead of the newest tick (10)"),
    ("/api/long-poll?timeout_ms=60001", "timeout_ms: expected an integer from 0 to 60000"),
    ("/api/long-poll?timeout_ms=-1", "timeout_ms: expected an integer from 0 to 60000"),
    ("/api/long-poll?limit=0", "limit: expected an integer from 1 to 10000"),
    ("/api/long-poll?symbols=acme", "symbols: unknown symbol \"acme\""),
    ("/api/sse?last_event_id=x", "last_event_id: expected a tick seq"),
    ("/api/sse?last_event_id=11", "last_event_id: 11 is ahead of the newest tick (10)"),
    ("/api/poll?since=18446744073709551615", "since: 18446744073709551615 is ahead"),
    ("/api/long-poll?since=18446744073709551615", "since: 18446744073709551615 is ahead"),
    ("/api/sse?last_event_id=18446744073709551615", "last_event_id: 18446744073709551615 is ahead"),
    ("/api/sse?symbols=NOPE", "symbols: unknown symbol"),
];

async fn every_bad_request_is_a_400_naming_the_parameter(proto: Proto) {
    let server = TestServer::start_over(proto, &[]).await;
    let client = server.client().await;
    server.publish(10);
    // A GET of the WebSocket endpoint that is no upgrade; over HTTP/2 none can be.
    let not_ws = match proto {
        Proto::H1 => "this endpoint speaks WebSocket",
        Proto::H2 => "WebSocket is served over HTTP/1.1 only",
    };
    for (path, error) in BAD_REQUESTS.iter().copied().chain([("/api/ws", not_ws)]) {
        let response = client.get(path).await;
        assert_eq!(response.status, 400, "{path}");
        assert_eq!(response.headers["content-type"], "application/json", "{path}");
        let body: pushlab_contract::ErrorBody = response.json().await;
        assert!(body.error.starts_with(error), "{path}: {:?} should start with {error:?}", body.error);
    }
    // Headers too: a bad Last-Event-ID is named as such, even beside a good query …
    let err = SseClient::connect(&server, "/api/sse?last_event_id=1", Some("-5")).await.err().unwrap();
    assert_eq!(err.0, 400);
    assert!(err.1.contains("Last-Event-ID: expected a tick seq"), "{}", err.1);
    let err = SseClient::connect(&server, "/api/sse", Some("11")).await.err().unwrap();
    assert!(err.1.contains("Last-Event-ID: 11 is ahead"), "{}", err.1);
    // … and a bad query is refused even when a good header would win.
    let err = SseClient::connect(&server, "/api/sse?last_event_id=x", Some("5")).await.err().unwrap();
    assert!(err.1.contains("last_event_id: expected a tick seq"), "{}", err.1);
    // Other methods and escapes get JSON errors too.
    let response = client.request(http::Method::POST, "/api/poll", &[]).await;
    assert_eq!(response.status, 405);
    assert_eq!(response.json::<pushlab_contract::ErrorBody>().await.error, "method not allowed");
    // WebSocket parameters are checked before the upgrade (HTTP/1.1 only).
    let ws_paths = ["/api/ws?since=abc", "/api/ws?since=18446744073709551615", "/api/ws?symbols=NOPE"];
    for path in ws_paths.into_iter().filter(|_| proto == Proto::H1) {
        let refused = tokio_tungstenite::connect_async(server.ws_url(path)).await.unwrap_err();
        assert!(
            matches!(refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 400),
            "{path}"
        );
    }

    // Nothing changed, and good requests still work.
    let (status, body) = client.get_json("/api/poll?since=8").await;
    assert_eq!((status, body["next"].as_u64(), body["ticks"].as_array().unwrap().len()), (200, Some(10), 2));
    assert_eq!(server.head(), 10);
    let mut sse = SseClient::connect(&server, "/api/sse?last_event_id=9", None).await.unwrap();
    assert_eq!(seq_of(&sse.ticks(1).await[0]), 10);
}

#[tokio::test]
async fn admin_rate_is_range_checked_and_applied() {
    let server = TestServer::start(&[]).await;
    let post = |body: &'static str| {
        http()
            .post(server.url("/api/admin/rate"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for body in ["", "{}", "{\"rate\":\"fast\"}", "{\"rate\":0}", "{\"rate\":100001}", "[50]"] {
        let response = post(body).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        assert!(response.text().await.unwrap().contains("rate: expected"), "{body}");
    }
    // Not JSON: a plain form post, as a cross-site page could send without asking.
    let form = http().post(server.url("/api/admin/rate")).body("{\"rate\":50}").send().await.unwrap();
    assert_eq!(form.status(), 400);
    assert_eq!(*server.state.rate.borrow(), 20.0, "bad requests change nothing");
    let response = post("{\"rate\":50}").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"{"rate":50.0}"#);
    let (_, stats) = get_json(&server.url("/api/stats")).await;
    assert_eq!(stats["ticker"]["rate"], 50.0);
}

/// POSTs a valid rate change through the router as if from `peer`, with extra headers.
async fn admin_status(peer: &str, headers: &[(&str, &str)]) -> u16 {
    let state = pushlab_server::AppState::new(pushlab_server::Config::from_defaults());
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    let app = pushlab_server::app(state.clone()).layer(MockConnectInfo(peer));
    let mut request = axum::http::Request::post("/api/admin/rate").header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.oneshot(request.body(Body::from(r#"{"rate":50}"#)).unwrap()).await.unwrap();
    let expected_rate = if response.status() == 200 { 50.0 } else { 20.0 };
    assert_eq!(*state.rate.borrow(), expected_rate, "only an accepted request changes the rate");
    response.status().as_u16()
}

#[tokio::test]
async fn admin_answers_this_machine_only() {
    let local = [("host", "127.0.0.1:3000")];
    assert_eq!(admin_status("127.0.0.1:5000", &local).await, 200);
    assert_eq!(admin_status("[::ffff:127.0.0.1]:5000", &local).await, 200, "v4 loopback on a v6 socket");
    assert_eq!(admin_status("[::1]:5000", &[("host", "[::1]:3000")]).await, 200);
    assert_eq!(admin_status("192.0.2.7:5000", &local).await, 403, "a peer on the network");
    assert_eq!(
        admin_status("127.0.0.1:5000", &[("host", "rebound.example:3000")]).await,
        403,
        "DNS rebinding"
    );
    let foreign = [("host", "127.0.0.1:3000"), ("origin", "http://evil.example")];
    assert_eq!(admin_status("127.0.0.1:5000", &foreign).await, 403, "a page of another site");
    let own = [("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")];
    assert_eq!(admin_status("127.0.0.1:5000", &own).await, 200, "the demo page itself");
}

/// Over HTTP/2 every stream counts under the cap, so two SSE streams sharing one
/// connection fill a cap of 2 as two connections of HTTP/1.1 do.
async fn past_max_connections_streams_get_503_with_retry_after(proto: Proto) {
    let server = TestServer::start_over(proto, &["--max-connections", "2"]).await;
    let client = server.client().await;
    let sse = SseClient::connect_on(&client, "/api/sse", None).await.unwrap();
    let (ws, second_sse) = match proto {
        Proto::H1 => (Some(ws_connect(&server, "/api/ws").await), None),
        Proto::H2 => (None, Some(SseClient::connect_on(&client, "/api/sse", None).await.unwrap())),
    };
    for path in ["/api/sse", "/api/long-poll?timeout_ms=5000"] {
        let response = client.get(path).await;
        assert_eq!(response.status, 503, "{path}");
        assert_eq!(response.headers["retry-after"], "1");
        let body: pushlab_contract::ErrorBody = response.json().await;
        assert!(body.error.contains("limit of 2 open connections"), "{}", body.error);
    }
    if proto == Proto::H1 {
        let refused = tokio_tungstenite::connect_async(server.ws_url("/api/ws")).await.unwrap_err();
        assert!(matches!(refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 503));
    }
    // Short polls, and long-polls that can answer at once, hold nothing open: not capped.
    server.publish(3);
    assert_eq!(client.get_json("/api/poll").await.0, 200);
    assert_eq!(client.get_json("/api/long-poll?since=0").await.0, 200);
    // A closed stream frees its place.
    drop((sse, second_sse, ws));
    server.wait_active(Transport::Sse, 0).await;
    server.wait_active(Transport::Ws, 0).await;
    let _one = SseClient::connect_on(&client, "/api/sse", None).await.unwrap();
    let _two = SseClient::connect_on(&client, "/api/sse", None).await.unwrap();
}

/// Over HTTP/2 the client leaving is a reset stream (RST_STREAM), the connection stays.
async fn a_long_poll_whose_client_leaves_frees_its_place(proto: Proto) {
    let server = TestServer::start_over(proto, &["--max-connections", "1"]).await;
    let client = server.client().await;
    let leaving = client.clone();
    let waiting = tokio::spawn(async move { leaving.get("/api/long-poll?timeout_ms=60000").await.status });
    server.wait_active(Transport::LongPoll, 1).await;
    assert_eq!(client.get("/api/sse").await.status, 503);
    waiting.abort(); // the client hangs up long before its 60 s timeout
    server.wait_active(Transport::LongPoll, 0).await;
    SseClient::connect_on(&client, "/api/sse", None).await.unwrap();
}

#[tokio::test]
async fn stats_metrics_and_health_answer() {
    let server = TestServer::start(&[]).await;
    server.publish(3);
    get_json(&server.url("/api/poll?since=0")).await;
    let (_, stats) = get_json(&server.url("/api/stats")).await;
    let stats: pushlab_contract::Stats = serde_json::from_value(stats).unwrap();
    assert_eq!(
        (stats.ticker.head, stats.transports.poll.requests, stats.transports.poll.ticks_sent),
        (3, 1, 3)
    );
    assert!(stats.process.rss_bytes > 0 && stats.process.cpu_user_s > 0.0);
    let metrics = http().get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pushlab_requests_total{transport=\"poll\"} 1\n"), "{metrics}");
    assert!(metrics.contains("pushlab_ticker_head 3\n"));
    assert_eq!(http().get(server.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    let page = http().get(server.url("/")).send().await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(http().get(server.url("/report")).send().await.unwrap().status(), 200);
    // reqwest would normalise `/../`, so these go over a raw socket, exactly as typed.
    for path in
        ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/results/../Cargo.toml", "/results/..%2Flatest.json"]
    {
        assert_eq!(raw_status(&server, path).await, 404, "{path}");
    }
}

/// The status of a GET for `path` sent byte for byte over a fresh connection.
async fn raw_status(server: &TestServer, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response[9..12]).parse().unwrap()
}
