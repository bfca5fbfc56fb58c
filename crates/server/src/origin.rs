//! Who may talk to us from a browser. A browser sends `Origin` on WebSocket handshakes
//! and on cross-site POSTs; without a check, any page the visitor opens could open a
//! socket to us (cross-site WebSocket hijacking) or post to the admin endpoint.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// Accepts no `Origin` (not a browser), our own (`http(s)://<Host>`), a page of another
/// of this server's `ports` on the same host name (the demo's links), or one the
/// operator allowed with `--allow-origin` (`*` allows any).
pub fn check_origin(headers: &HeaderMap, allowed: &[String], ports: &[u16]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default();
    let host = host(headers);
    let own = origin == format!("http://{host}") || origin == format!("https://{host}");
    if own || is_own_port_origin(origin, host, ports) || allowed.iter().any(|a| a == "*" || a == origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Origin {origin:?} is not allowed; start the server with --allow-origin {origin} to accept it"
        )))
    }
}

/// Whether `origin` is `http://<name>:<port>` with `<name>` the host name of `host`
/// (the `Host` header) and `<port>` one of this server's `ports`: the same server,
/// reached through another of its doors.
pub fn is_own_port_origin(origin: &str, host: &str, ports: &[u16]) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else { return false };
    let Some((name, port)) = rest.rsplit_once(':') else { return false };
    let host_name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    !name.is_empty()
        && name.eq_ignore_ascii_case(host_name)
        && port.parse().is_ok_and(|p: u16| ports.contains(&p))
}

/// The `Host` header, or "" without one.
pub fn host(headers: &HeaderMap) -> &str {
    headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default()
}

/// `Host` names this machine's loopback (`localhost`, `127.x.y.z`, `[::1]`, with any
/// port). A page on another name that resolves to 127.0.0.1 (DNS rebinding) is not.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in ["localhost", "localhost:3000", "127.0.0.1:3000", "127.8.9.1", "[::1]:3000", "[::1]"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in ["", "example.com", "evil.localhost.example:3000", "10.0.0.1:3000", "[2001:db8::1]:80"] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn origins() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        assert!(check_origin(&headers, &[], &[]).is_ok(), "no Origin: not a browser");
        headers.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(check_origin(&headers, &[], &[]).is_ok(), "our own");
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(check_origin(&headers, &[], &[]).is_err());
        assert!(check_origin(&headers, &["http://evil.example".into()], &[]).is_ok());
        assert!(check_origin(&headers, &["*".into()], &[]).is_ok());
    }

    /// The demo's link ports: a page of the main port talking to a link's, and back.
    #[test]
    fn another_port_of_this_server_on_the_same_host_name() {
        let ports = [3000, 41_001];
        assert!(is_own_port_origin("http://127.0.0.1:3000", "127.0.0.1:41001", &ports));
        assert!(is_own_port_origin("http://localhost:41001", "localhost:3000", &ports));
        assert!(!is_own_port_origin("http://127.0.0.1:5000", "127.0.0.1:41001", &ports), "not ours");
        assert!(!is_own_port_origin("http://evil.example:3000", "127.0.0.1:41001", &ports), "another name");
        assert!(
            !is_own_port_origin("https://127.0.0.1:3000", "127.0.0.1:41001", &ports),
            "we serve http only"
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:41001".parse().unwrap());
        headers.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(check_origin(&headers, &[], &ports).is_ok());
        assert!(check_origin(&headers, &[], &[41_001]).is_err(), "3000 is not one of ours here");
    }
}
