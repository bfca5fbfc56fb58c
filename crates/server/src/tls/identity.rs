//! The server's certificate: generated at start (`--tls`) or read from PEM files
//! (`--tls-cert FILE --tls-key FILE`), and its SHA-256 fingerprint, which a client
//! that cannot check a self-signed certificate against a CA pins instead.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The names a generated certificate is valid for: the loopback the suite runs on.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The TLS flags (flattened into [`crate::Config`]).
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// Serve HTTPS with a self-signed certificate generated at start for localhost,
    /// 127.0.0.1 and ::1 (its SHA-256 fingerprint is printed): HTTP/2 and HTTP/1.1,
    /// chosen by ALPN.
    #[arg(long, env = "PUSHLAB_TLS", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls: bool,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "PUSHLAB_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "PUSHLAB_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The certificate once resolved (main resolves it to print its fingerprint;
    /// otherwise the server does when it starts).
    #[arg(skip)]
    pub identity: Option<Identity>,
}

impl TlsArgs {
    /// Whether the server speaks TLS.
    pub fn enabled(&self) -> bool {
        self.tls || self.tls_cert.is_some() || self.identity.is_some()
    }

    /// The certificate these flags ask for, or `None` without TLS.
    pub fn resolve(&self) -> anyhow::Result<Option<Identity>> {
        if let Some(identity) = &self.identity {
            return Ok(Some(identity.clone()));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Identity::from_pem_files(cert, key).map(Some),
            _ if self.tls => Identity::self_signed().map(Some),
            _ => Ok(None),
        }
    }
}

/// A certificate chain and its private key, in DER.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// Whether it was generated at start (clients must pin it or be `--insecure`).
    pub self_signed: bool,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity { chain: self.chain.clone(), key: self.key.clone_key(), self_signed: self.self_signed }
    }
}

impl Identity {
    /// A new self-signed certificate for [`SELF_SIGNED_NAMES`] (an ECDSA P-256 key).
    pub fn self_signed() -> anyhow::Result<Self> {
        let names = SELF_SIGNED_NAMES.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let generated = rcgen::generate_simple_self_signed(names)?;
        let key = PrivateKeyDer::try_from(generated.key_pair.serialize_der())
            .map_err(|e| anyhow::anyhow!("generated key: {e}"))?;
        Ok(Identity { chain: vec![generated.cert.der().clone()], key, self_signed: true })
    }

    /// The chain in `cert` and the key in `key`, both PEM.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("--tls-cert {}", cert.display()))?;
        anyhow::ensure!(!chain.is_empty(), "--tls-cert {}: no certificate in it", cert.display());
        let key =
            PrivateKeyDer::from_pem_file(key).with_context(|| format!("--tls-key {}", key.display()))?;
        Ok(Identity { chain, key, self_signed: false })
    }

    /// The SHA-256 of the leaf certificate, as `AB:CD:…` (what browsers show).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.chain[0])
    }
}

/// The SHA-256 of a DER certificate as 32 colon-separated upper-case hex bytes.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut hex = String::with_capacity(32 * 3);
    for (i, byte) in digest.as_ref().iter().enumerate() {
        let sep = if i == 0 { "" } else { ":" };
        let _ = write!(hex, "{sep}{byte:02X}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_has_a_stable_fingerprint_of_32_bytes() {
        let identity = Identity::self_signed().unwrap();
        let print = identity.fingerprint();
        assert_eq!(print.len(), 32 * 3 - 1);
        assert_eq!(print, identity.clone().fingerprint());
        assert_ne!(print, Identity::self_signed().unwrap().fingerprint(), "a new key each start");
        assert_eq!(&fingerprint(b"abc")[..8], "BA:78:16", "SHA-256 of \"abc\" begins ba7816");
    }

    #[test]
    fn pem_files_round_trip_and_bad_ones_say_which_flag() {
        let dir = std::env::temp_dir().join(format!("pushlab-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();
        let identity = Identity::from_pem_files(&cert, &key).unwrap();
        assert_eq!(identity.fingerprint(), fingerprint(generated.cert.der()));
        std::fs::write(&key, "not a key").unwrap();
        let error = Identity::from_pem_files(&cert, &key).unwrap_err();
        assert!(format!("{error:#}").contains("--tls-key"), "{error:#}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
