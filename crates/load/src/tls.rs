//! https:// targets: TLS under the clients, with the server's certificate trusted by
//! its fingerprint, and the bytes counted on both sides of TLS.
//!
//! The server's `--tls` certificate is self-signed (no CA to check it against), so a
//! client either pins it, `--tls-fingerprint AB:CD:…` as the server printed it (what
//! `compare` does, reading the server's stdout), or accepts any with `--insecure`. The
//! handshake's signature is still checked with the pinned key either way: pinning
//! replaces the chain of trust, not the proof that the server holds the key.
//!
//! Bytes: [`crate::net::CountingStream`] sits under TLS and counts the wire (records,
//! handshake, alerts); [`ClientStream`] counts again above it, the HTTP bytes the TLS
//! layer carried. The difference is TLS's own overhead. Over HTTP/2 those bytes are
//! also split by frame type as they pass ([`crate::h2_frames`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, ready};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::h2_frames::{FrameBytes, FrameTally};
use crate::net::CountingStream;

/// Which server certificate a client accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Only the one with this SHA-256 fingerprint (`AB:CD:…`, case and colons optional).
    Pinned(String),
    /// Any (`--insecure`): the connection is encrypted, but to whom is unchecked.
    Insecure,
}

/// Which protocol a connection asks for in ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    Http1,
    Http2,
}

/// The TLS side of a target: one connector per protocol, and the name sent as SNI.
#[derive(Clone)]
pub struct TlsClient {
    http1: TlsConnector,
    http2: TlsConnector,
    server_name: ServerName<'static>,
    pub trust: Trust,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .field("trust", &self.trust)
            .finish()
    }
}

impl TlsClient {
    /// A client of the server named `host` (a DNS name or an IP address).
    pub fn new(host: &str, trust: Trust) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(Verifier {
            trust: trust.clone(),
            algorithms: provider.signature_verification_algorithms,
        });
        let connector = |alpn: &[u8]| -> anyhow::Result<TlsConnector> {
            let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            config.alpn_protocols = vec![alpn.to_vec()];
            Ok(TlsConnector::from(Arc::new(config)))
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(host.to_string())?;
        Ok(Self { http1: connector(b"http/1.1")?, http2: connector(b"h2")?, server_name, trust })
    }

    /// A client's TLS handshake over its counted socket, asking for `alpn`.
    pub async fn connect(&self, stream: CountingStream, alpn: Alpn) -> io::Result<ClientStream> {
        let tls = self.handshake(stream, alpn).await?;
        let frames = (tls.get_ref().1.alpn_protocol() == Some(b"h2")).then(|| {
            Box::new(H2Tallies {
                read: FrameTally::server_to_client(),
                written: FrameTally::client_to_server(),
            })
        });
        Ok(ClientStream::Tls(Box::new(tls), frames))
    }

    /// The TLS handshake over any socket (the load generator's own, uncounted ones too).
    pub async fn handshake<S>(&self, stream: S, alpn: Alpn) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let connector = match alpn {
            Alpn::Http1 => &self.http1,
            Alpn::Http2 => &self.http2,
        };
        connector.connect(self.server_name.clone(), stream).await
    }
}

/// `AB:CD:…` of a DER certificate's SHA-256, as the server prints it.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// A fingerprint in a form to compare: upper-case hex digits only.
fn normalized(print: &str) -> String {
    print.chars().filter(char::is_ascii_hexdigit).map(|c| c.to_ascii_uppercase()).collect()
}

/// Checks the certificate against [`Trust`] and the handshake's signatures against it.
#[derive(Debug)]
struct Verifier {
    trust: Trust,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.trust {
            Trust::Insecure => Ok(ServerCertVerified::assertion()),
            Trust::Pinned(print) if normalized(print) == normalized(&fingerprint(end_entity)) => {
                Ok(ServerCertVerified::assertion())
            }
            Trust::Pinned(print) => Err(rustls::Error::General(format!(
                "the server's certificate is {}, not the pinned {print}",
                fingerprint(end_entity)
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client's socket: plain, or TLS over it. Above TLS the HTTP bytes are counted into
/// the group's `plaintext_*` counters (the wire is counted below, by the socket); over
/// HTTP/2 also by frame type, with the framing of each direction followed as it passes.
#[derive(Debug)]
pub enum ClientStream {
    Plain(CountingStream),
    Tls(Box<TlsStream<CountingStream>>, Option<Box<H2Tallies>>),
}

/// Where each direction of an HTTP/2 connection is in its frames.
#[derive(Debug)]
pub struct H2Tallies {
    read: FrameTally,
    written: FrameTally,
}

impl ClientStream {
    /// Counts `read` and `written`, bytes above TLS, into the group's counters.
    fn count_plaintext(&mut self, read: &[u8], written: &[u8]) {
        if let ClientStream::Tls(tls, frames) = self {
            let traffic = &tls.get_ref().0.group().traffic;
            traffic.plaintext_read.fetch_add(read.len() as u64, Relaxed);
            traffic.plaintext_written.fetch_add(written.len() as u64, Relaxed);
            if let Some(frames) = frames {
                let (r, w) = (frames.read.feed(read), frames.written.feed(written));
                let add = |counter: &std::sync::atomic::AtomicU64, n: u64| {
                    if n > 0 {
                        counter.fetch_add(n, Relaxed);
                    }
                };
                let FrameBytes { headers, data, control } = r;
                add(&traffic.h2_headers, headers + w.headers);
                add(&traffic.h2_data, data + w.data);
                add(&traffic.h2_control, control + w.control);
            }
        }
    }

    /// The protocol the server chose in ALPN (`None` on a plain socket).
    pub fn alpn(&self) -> Option<&[u8]> {
        match self {
            ClientStream::Plain(_) => None,
            ClientStream::Tls(tls, _) => tls.get_ref().1.alpn_protocol(),
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match this {
            ClientStream::Plain(s) => ready!(Pin::new(s).poll_read(cx, buf))?,
            ClientStream::Tls(s, _) => ready!(Pin::new(s.as_mut()).poll_read(cx, buf))?,
        }
        this.count_plaintext(&buf.filled()[before..], &[]);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = match this {
            ClientStream::Plain(s) => ready!(Pin::new(s).poll_write(cx, data))?,
            ClientStream::Tls(s, _) => ready!(Pin::new(s.as_mut()).poll_write(cx, data))?,
        };
        this.count_plaintext(&[], &data[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ClientStream::Tls(s, _) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ClientStream::Tls(s, _) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_compare_whatever_their_case_and_colons() {
        let print = fingerprint(b"abc");
        assert!(print.starts_with("BA:78:16:BF"), "{print}");
        assert_eq!(normalized(&print), normalized(&print.to_lowercase().replace(':', "")));
        assert_ne!(normalized(&print), normalized(&fingerprint(b"abd")));
    }
}
