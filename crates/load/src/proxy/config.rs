//! The nginx configurations of the proxy lab, one per [`Via`], written whole into the
//! proxy's own folder: everything nginx writes (pid, logs, temp files) goes there, so it
//! runs as an unprivileged user on a free port and leaves nothing behind.
//!
//! Each mode's `server` block is also what the results record (`proxy.config`) and what
//! `docs/proxies.md` quotes: the lines that make a transport work or break.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::Via;

/// The read timeout the tuned proxy gets: above every keepalive the server accepts
/// (`--keepalive` ≤ 1 h) and every long-poll hold (≤ 60 s), so only a dead upstream
/// trips it.
pub const TUNED_READ_TIMEOUT: Duration = Duration::from_secs(3600);

/// nginx's own `proxy_read_timeout` when none is set: 60 s.
pub const NGINX_DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The access log's fields, space-separated, the request last (it may hold spaces):
/// nginx's connection serial number (the `*N` its error log names), the status sent
/// to the client, how long the request took, the upstream's status, the request line.
pub const LOG_FORMAT: &str = r#"$connection $status $request_time $upstream_status "$request""#;

/// The lines of `via`'s `server` block below `listen`, proxying to `upstream`, with
/// `read_timeout` for the modes that keep nginx's own (the tuned one sets its own).
pub fn server_block(via: Via, upstream: SocketAddr, read_timeout: Duration) -> Vec<String> {
    let timeout = format!("proxy_read_timeout {}s;", read_timeout.as_secs());
    let pass = format!("proxy_pass http://{upstream};");
    let lines: Vec<String> = match via {
        Via::Direct => Vec::new(),
        // Nothing but the pass: HTTP/1.0 to the upstream, no Upgrade headers passed on,
        // buffering on (X-Accel-Buffering: no still honoured), nginx's read timeout.
        Via::NginxDefault => {
            vec!["location / {".into(), format!("    {pass}"), format!("    {timeout}"), "}".into()]
        }
        Via::NginxTuned => {
            let read = format!("proxy_read_timeout {}s;", TUNED_READ_TIMEOUT.as_secs());
            let send = format!("proxy_send_timeout {}s;", TUNED_READ_TIMEOUT.as_secs());
            [
                "location / {",
                "    proxy_pass http://pushlab;",
                "    proxy_http_version 1.1;",
                "    proxy_set_header Upgrade $http_upgrade;",
                "    proxy_set_header Connection $connection_upgrade;",
                "    proxy_buffering off;",
                "    proxy_cache off;",
                &format!("    {read}"),
                &format!("    {send}"),
                "}",
            ]
            .map(String::from)
            .to_vec()
        }
        // A middlebox that buffers whole responses whatever the upstream asks: HTTP/1.0
        // upstream (a body that ends with the connection, handed on a full buffer at a
        // time) and X-Accel-Buffering ignored. It knows WebSocket's Upgrade, as most do.
        Via::BufferingProxy => [
            "location / {",
            &format!("    {pass}"),
            "    proxy_buffering on;",
            "    proxy_ignore_headers X-Accel-Buffering;",
            &format!("    {timeout}"),
            "}",
            "location /api/ws {",
            &format!("    {pass}"),
            "    proxy_http_version 1.1;",
            "    proxy_set_header Upgrade $http_upgrade;",
            "    proxy_set_header Connection $connection_upgrade;",
            &format!("    {timeout}"),
            "}",
        ]
        .map(String::from)
        .to_vec(),
    };
    lines
}

/// The `http`-level lines `via`'s server block needs: the `Connection` value a
/// WebSocket handshake is passed on with, and the tuned proxy's pool of kept upstream
/// connections.
pub fn http_lines(via: Via, upstream: SocketAddr) -> Vec<String> {
    let map = "map $http_upgrade $connection_upgrade { default upgrade; '' ''; }".to_string();
    match via {
        Via::Direct | Via::NginxDefault => Vec::new(),
        Via::NginxTuned => vec![map, format!("upstream pushlab {{ server {upstream}; keepalive 64; }}")],
        Via::BufferingProxy => vec![map],
    }
}

/// What the results record of `via`'s configuration: its `http`-level lines, then its
/// `server` block's.
pub fn recorded(via: Via, upstream: SocketAddr, read_timeout: Duration) -> Vec<String> {
    let mut lines = http_lines(via, upstream);
    lines.extend(server_block(via, upstream, read_timeout));
    lines
}

/// The whole `nginx.conf` for `via` listening on `listen`, everything written under `dir`.
pub fn nginx_conf(
    via: Via,
    listen: SocketAddr,
    upstream: SocketAddr,
    read_timeout: Duration,
    dir: &Path,
) -> String {
    let d = dir.display();
    let indent =
        |lines: Vec<String>, by: &str| -> String { lines.iter().map(|l| format!("{by}{l}\n")).collect() };
    let http = indent(http_lines(via, upstream), "    ");
    let block = indent(server_block(via, upstream, read_timeout), "        ");
    format!(
        "# Written by pushlab-load for --via {via}; nginx runs it in the foreground as one
# unprivileged process, everything it writes under {d}.
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log error;
events {{ worker_connections 4096; }}
http {{
    log_format lab '{LOG_FORMAT}';
    access_log {d}/access.log lab;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{http}    server {{
        listen {listen};
{block}    }}
}}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn the_default_proxy_is_a_bare_pass_with_the_labs_read_timeout() {
        let block = server_block(Via::NginxDefault, addr(3000), Duration::from_secs(10));
        assert_eq!(
            block,
            ["location / {", "    proxy_pass http://127.0.0.1:3000;", "    proxy_read_timeout 10s;", "}"]
        );
    }

    #[test]
    fn the_tuned_proxy_speaks_http_1_1_passes_upgrades_and_does_not_buffer() {
        let block = server_block(Via::NginxTuned, addr(3000), Duration::from_secs(10)).join("\n");
        for line in [
            "proxy_http_version 1.1;",
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_buffering off;",
            "proxy_read_timeout 3600s;",
        ] {
            assert!(block.contains(line), "{line} in\n{block}");
        }
        assert!(!block.contains("10s"), "the lab's read timeout is the untuned proxies'");
    }

    #[test]
    fn the_buffering_proxy_ignores_x_accel_buffering_but_passes_websocket() {
        let block = server_block(Via::BufferingProxy, addr(3000), Duration::from_secs(10)).join("\n");
        assert!(block.contains("proxy_ignore_headers X-Accel-Buffering;"));
        assert!(block.contains("location /api/ws {"));
    }

    #[test]
    fn everything_nginx_writes_is_under_its_folder() {
        let dir = Path::new("/tmp/pushlab-nginx-test");
        let conf = nginx_conf(Via::NginxTuned, addr(8080), addr(3000), Duration::from_secs(60), dir);
        for key in
            ["pid", "error_log", "access_log", "client_body_temp_path", "proxy_temp_path", "scgi_temp_path"]
        {
            let line =
                conf.lines().find(|l| l.trim_start().starts_with(key)).unwrap_or_else(|| panic!("{key}"));
            assert!(line.contains("/tmp/pushlab-nginx-test/"), "{line}");
        }
        assert!(conf.contains("listen 127.0.0.1:8080;") && conf.contains("server 127.0.0.1:3000;"));
        assert!(conf.contains("daemon off;") && !conf.contains("\nuser "));
    }
}
