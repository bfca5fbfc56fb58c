//! Debian's nginx, started for one run: a folder of its own under the temp dir, a
//! generated `nginx.conf`, a free loopback port, one foreground process without a
//! master (`daemon off; master_process off;`). Run as root (CI, this machine) it is
//! started as `nobody`, so the proxy never has more rights than a proxy needs; the
//! ports it binds are above 1024 either way.
//!
//! It is stopped with SIGTERM once the run's clients have gone (so every request is in
//! its logs), killed if it lingers, and killed on drop: an interrupted run leaves no
//! nginx behind. Its folder is removed when it is dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use super::Via;
use super::config::nginx_conf;

/// Where Debian puts nginx, if it is not on `PATH`.
const DEBIAN_NGINX: &str = "/usr/sbin/nginx";
/// How long nginx may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it gets to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// Free ports are picked by binding port 0 and letting go; another program may take
/// the port in between, so a start is tried this many times.
const START_TRIES: u32 = 3;
/// The unprivileged account nginx runs as when we are root.
const UNPRIVILEGED: &str = "nobody";

/// nginx on `PATH`, else Debian's.
pub fn find_binary() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file());
    on_path.or_else(|| Some(PathBuf::from(DEBIAN_NGINX)).filter(|p| p.is_file())).context(
        "nginx not found (on PATH or at /usr/sbin/nginx): the proxy lab drives Debian's nginx; \
         install it with `apt-get install -y nginx` or pass --nginx-bin",
    )
}

/// `nginx -v`'s answer, e.g. `nginx/1.22.1`.
pub async fn version(bin: &Path) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .arg("-v")
        .output()
        .await
        .with_context(|| format!("running {} -v", bin.display()))?;
    // nginx prints its version on stderr: "nginx version: nginx/1.22.1".
    let text = String::from_utf8_lossy(&out.stderr);
    let version = text.trim().rsplit(' ').next().unwrap_or_default();
    anyhow::ensure!(version.starts_with("nginx/"), "{} -v said {text:?}", bin.display());
    Ok(version.to_string())
}

/// A running nginx and its folder.
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Nginx {
    /// nginx as `via` in front of `upstream`, on a free loopback port.
    pub async fn start(
        bin: &Path,
        via: Via,
        upstream: SocketAddr,
        read_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut last = None;
        for _ in 0..START_TRIES {
            let dir = make_dir()?;
            let listen = free_port()?;
            let conf = dir.join("nginx.conf");
            std::fs::write(&conf, nginx_conf(via, listen, upstream, read_timeout, &dir))?;
            match Self::spawn(bin, &dir, &conf, listen).await {
                Ok(child) => return Ok(Self { child, addr: listen, dir }),
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    last = Some(e);
                }
            }
        }
        Err(last.expect("tried at least once"))
    }

    async fn spawn(bin: &Path, dir: &Path, conf: &Path, listen: SocketAddr) -> anyhow::Result<Child> {
        let mut command = Command::new(bin);
        // -e: the error log from the very start, before the config is read (the
        // compiled-in /var/log/nginx/error.log is not ours to write).
        command.arg("-p").arg(dir).arg("-e").arg(dir.join("error.log")).arg("-c").arg(conf);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true);
        if let Some((uid, gid)) = unprivileged()? {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).context("handing nginx its folder")?;
            // std drops the supplementary groups too when it changes the uid from root.
            command.uid(uid).gid(gid);
        }
        let mut child = command.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                let said = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                bail!("nginx exited at start ({status}): {}", said.trim());
            }
            if tokio::net::TcpStream::connect(listen).await.is_ok() {
                return Ok(child);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("nginx did not listen on {listen} within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops nginx (SIGTERM, then SIGKILL after 3 s) and returns its access
    /// and error logs.
    pub async fn stop(mut self) -> anyhow::Result<(String, String)> {
        if let Some(pid) = self.child.id() {
            crate::procfs::terminate(pid);
        }
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            self.child.kill().await.context("killing nginx")?;
        }
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        Ok((read("access.log"), read("error.log")))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The child itself is killed by kill_on_drop.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `<temp>/pushlab-nginx-<pid>-<n>`, new and empty.
fn make_dir() -> anyhow::Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pushlab-nginx-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port for nginx")?;
    Ok(listener.local_addr()?)
}

/// `nobody`'s uid and gid when this process is root; `None` when it is not (nginx then
/// runs as us, unprivileged already).
fn unprivileged() -> anyhow::Result<Option<(u32, u32)>> {
    if effective_uid()? != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let ids = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&UNPRIVILEGED))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
    });
    ids.flatten()
        .map(Some)
        .with_context(|| format!("no user {UNPRIVILEGED:?} in /etc/passwd to run nginx as"))
}

/// This process's effective uid, from `/proc/self/status` (`Uid: real effective …`).
fn effective_uid() -> anyhow::Result<u32> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let uids = status.lines().find_map(|l| l.strip_prefix("Uid:")).context("no Uid: in /proc/self/status")?;
    uids.split_whitespace().nth(1).and_then(|u| u.parse().ok()).context("an unreadable Uid: line")
}
