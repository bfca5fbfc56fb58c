//! A fresh `pushlab-server` process per run, so one transport's memory never leaks
//! into the next one's figures.
//!
//! The server prints `listening on http://127.0.0.1:PORT` on stdout once bound to
//! `--addr 127.0.0.1:0`; that line is how we learn the port. Its pid is ours, so its CPU
//! is read from `/proc/<pid>/stat`.
//!
//! A fault run restarts the server on the address its first process bound
//! ([`ServerProcess::start_on`]): the server binds with `SO_REUSEADDR` (as tokio and
//! std do), so the old run's sockets in `TIME_WAIT` do not hold the port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::net::Target;
use crate::procfs;
use crate::run::ServerUnderTest;
use crate::tls::Trust;

pub const SERVER_BIN: &str = "pushlab-server";
/// How long a fresh server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long it gets to exit after SIGTERM (SPEC §3 promises 5 s) before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(6);
/// Tries to bind a given address: a port the kernel still holds for a moment after a
/// process died is tried again, this long apart.
const BIND_TRIES: u32 = 20;
const BIND_RETRY: Duration = Duration::from_millis(50);

/// `pushlab-server` next to this executable (both are built into the same target dir).
pub fn find_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the current executable")?;
    let mut dirs = exe.ancestors().skip(1).take(2);
    // Test binaries live one level deeper, in target/<profile>/deps.
    let candidates: Vec<PathBuf> = dirs.by_ref().map(|d| d.join(SERVER_BIN)).collect();
    candidates.iter().find(|p| p.is_file()).cloned().with_context(|| {
        format!(
            "{SERVER_BIN} not found next to {} — build it first: \
             cargo build --release -p pushlab-server -p pushlab-load (or pass --server-bin)",
            exe.display()
        )
    })
}

#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub server: ServerUnderTest,
}

impl ServerProcess {
    /// Start `bin` with `args` (plus `--addr 127.0.0.1:0`) and wait for its address.
    pub async fn start(bin: &Path, args: &[String]) -> anyhow::Result<Self> {
        Self::spawn(bin, "127.0.0.1:0", args).await
    }

    /// [`Self::start`] on `listen` (`ip:0`), e.g. the netem path's veth address.
    pub async fn start_listening(bin: &Path, listen: &str, args: &[String]) -> anyhow::Result<Self> {
        Self::spawn(bin, listen, args).await
    }

    /// Start `bin` on `addr`, the address a server before it had: a restart.
    pub async fn start_on(bin: &Path, addr: SocketAddr, args: &[String]) -> anyhow::Result<Self> {
        let mut tries = 0;
        loop {
            match Self::spawn(bin, &addr.to_string(), args).await {
                Ok(server) => return Ok(server),
                Err(e) if tries + 1 < BIND_TRIES => {
                    tracing::debug!("restarting on {addr}: {e:#}; trying again");
                    tries += 1;
                    tokio::time::sleep(BIND_RETRY).await;
                }
                Err(e) => return Err(e.context(format!("restarting the server on {addr}"))),
            }
        }
    }

    async fn spawn(bin: &Path, addr: &str, args: &[String]) -> anyhow::Result<Self> {
        let mut child = Command::new(bin)
            .arg("--addr")
            .arg(addr)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        // A --tls server prints its certificate's fingerprint first, which we pin.
        let mut fingerprint = None;
        let url = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(print) = line.strip_prefix("tls certificate sha256 ") {
                    fingerprint = Some(print.trim().to_string());
                }
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return Ok(Some(rest.trim().to_string()));
                }
            }
            Ok::<_, std::io::Error>(None)
        })
        .await;
        let url = match url {
            Ok(Ok(Some(url))) => url,
            Ok(Ok(None)) => bail!("{} exited before printing 'listening on …'", bin.display()),
            Ok(Err(e)) => return Err(e).context("reading the server's stdout"),
            Err(_) => bail!("{} printed no 'listening on …' within {START_TIMEOUT:?}", bin.display()),
        };
        // Keep draining stdout so a chatty server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        // Loopback, or an address this suite chose for it (the netem path's veth).
        let chosen_elsewhere = addr.parse::<SocketAddr>().is_ok_and(|a| !a.ip().is_loopback());
        let target = Target::resolve(&url, chosen_elsewhere).await?.secure(fingerprint.map(Trust::Pinned))?;
        Ok(Self { child, server: ServerUnderTest { target, pid: Some(pid) } })
    }

    /// SIGKILL, and wait for the process to be gone: a crash.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM, then SIGKILL if it has not exited in time.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            procfs::terminate(pid);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                tracing::warn!("the server did not exit within {STOP_TIMEOUT:?} of SIGTERM; killing it");
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}
