//! A `nats-server` of our own: unprivileged, on a free loopback port, with JetStream
//! storing into a fresh directory that goes when it does.
//!
//! `-p -1` lets the server pick the port; it prints the one it took
//! (`Listening for client connections on 127.0.0.1:PORT`) on stderr, which is how we
//! learn it. Its pid is ours, so its CPU and memory are read from `/proc` like the
//! pushlab processes'.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Debian's package installs it here, on the PATH.
pub const NATS_BIN: &str = "nats-server";
/// How long the broker may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The line that names the client port.
const LISTENING: &str = "Listening for client connections on ";

#[derive(Debug)]
pub struct NatsProcess {
    child: Child,
    /// `nats://127.0.0.1:PORT`
    pub url: String,
    pub pid: u32,
    store: PathBuf,
}

impl NatsProcess {
    /// Starts `nats-server` with JetStream on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let store = std::env::temp_dir().join(format!("pushlab-nats-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&store).with_context(|| format!("creating {}", store.display()))?;
        let mut child = Command::new(NATS_BIN)
            .args(["-a", "127.0.0.1", "-p", "-1", "-js", "-sd"])
            .arg(&store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {NATS_BIN} (Debian: apt-get install nats-server)"))?;
        let pid = child.id().context("nats-server exited at once")?;
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.split(LISTENING).nth(1) {
                    return Ok(Some(addr.trim().to_owned()));
                }
                if line.contains("[FTL]") || line.contains("[ERR]") {
                    tracing::error!("nats-server: {line}");
                }
            }
            Ok::<_, std::io::Error>(None)
        })
        .await;
        let addr = match addr {
            Ok(Ok(Some(addr))) => addr,
            Ok(Ok(None)) => bail!("{NATS_BIN} exited before listening"),
            Ok(Err(e)) => return Err(e).context("reading nats-server's log"),
            Err(_) => bail!("{NATS_BIN} did not listen within {START_TIMEOUT:?}"),
        };
        // Keep draining its log, so a chatty broker never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(NatsProcess { child, url: format!("nats://{addr}"), pid, store })
    }

    /// Stops the broker and removes its store.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

impl Drop for NatsProcess {
    fn drop(&mut self) {
        // After `stop` this finds nothing; after a panic it still cleans up.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// A number no other broker of this process has had: its store directory's name.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
