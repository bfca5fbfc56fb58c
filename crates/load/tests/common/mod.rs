//! What the integration tests that drive the real binaries share.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// `pushlab-server` beside the `pushlab-load` under test, built (or brought up to date:
/// a stale one from before a server change would test the old server) once per test
/// binary.
pub fn server_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let load = PathBuf::from(env!("CARGO_BIN_EXE_pushlab-load"));
            let server = load.with_file_name("pushlab-server");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo).args(["build", "-q", "-p", "pushlab-server"]).status().unwrap();
            assert!(status.success(), "building pushlab-server");
            assert!(server.is_file(), "{} missing", server.display());
            server
        })
        .clone()
}
