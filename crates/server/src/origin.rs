//! Who may talk to us from a browser. A browser sends `Origin` on WebSocket handshakes
//! and on cross-site POSTs; without a check, any page the visitor opens could open a
//! socket to us (cross-site WebSocket hijacking) or post to the admin endpoint.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// Accepts no `Origin` (not a browser), our own (`http(s)://<Host>`), or one the
/// operator allowed with `--allow-origin` (`*` allows any).
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default();
    let host = host(headers);
    let own = origin == format!("http://{host}") || origin == format!("https://{host}");
    if own || allowed.iter().any(|a| a == "*" || a == origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Origin {origin:?} is not allowed; start the server with --allow-origin {origin} to accept it"
        )))
    }
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
        assert!(check_origin(&headers, &[]).is_ok(), "no Origin: not a browser");
        headers.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(check_origin(&headers, &[]).is_ok(), "our own");
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(check_origin(&headers, &[]).is_err());
        assert!(check_origin(&headers, &["http://evil.example".into()]).is_ok());
        assert!(check_origin(&headers, &["*".into()]).is_ok());
    }
}
