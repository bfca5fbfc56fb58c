//! A network namespace and a veth pair of this process's own: the wiring of the netem
//! path, where the kernel, not this crate's relay, carries the clients' packets.
//!
//! ```text
//!   root namespace                          namespace pl-<pid>-<k>
//!   server on 10.249.X.Y+1 ── pl-<pid>-<k>a ══ pl-<pid>-<k>b ── clients on 10.249.X.Y+2
//!                             qdisc: server → client   qdisc: client → server
//! ```
//!
//! - **Names.** `pl-<pid>-<k>` (the namespace), `…a` (the root side's end of the
//!   veth), `…b` (the namespace's end): unique per process and per namespace it makes,
//!   short enough for Linux's 15-byte interface names, and saying whose they are.
//! - **Addresses.** A /30 of 10.249.0.0/16 that no interface of the root namespace has:
//!   it exists only on this veth, so nothing else on the machine can reach the server
//!   through it or be reached by the clients.
//! - **One packet, one segment.** Both ends get `gso_max_segs 1`: TCP then hands the
//!   qdisc single segments, not 64 KB GSO bundles, so a qdisc's loss or rate acts per
//!   segment, as on a real link.
//! - **Sockets inside.** A thread of its own enters the namespace (`setns`) and creates
//!   sockets there on request ([`Veth::socket_v4`]); a socket keeps the namespace it was
//!   created in, so a tokio task connects it as any other.
//! - **Gone afterwards.** Dropping the [`Namespace`] stops that thread and deletes the
//!   veth and the namespace, also on Ctrl-C (the work is dropped) and on an error. What
//!   a killed process left behind is deleted by the next one ([`clean_stale`]): each
//!   name carries its owner's pid, and only a dead owner's names are touched.
//!
//! Needs root (`CAP_NET_ADMIN`) and iproute2's `ip` and `tc`. Each call here runs one
//! of them (a few ms): the caller does it between runs, never inside a window.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use serde::Deserialize;
use tokio::net::TcpSocket;

mod inside;
use inside::Inside;

/// Every name this module gives starts so, followed by the owner's pid.
pub const NAME_PREFIX: &str = "pl-";
/// What `netem_status`'s probe calls its namespace (`pushlab-netem-probe-<pid>`).
pub const PROBE_PREFIX: &str = "pushlab-netem-probe-";
/// The /16 the veth pairs take their /30s from: private (RFC 1918), and not one a
/// Docker, libvirt or Kubernetes default uses.
const SUBNET: [u8; 2] = [10, 249];
/// /30 blocks in the /16.
const BLOCKS: u32 = 1 << 14;
/// Namespaces one process may have made, for the names' counter (`pl-<pid>-<k>`).
const COUNTER_WRAP: u32 = 1000;

static MADE: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("{command}: {message}")]
    Command { command: String, message: String },
    #[error("no free /30 left in 10.249.0.0/16")]
    NoAddress,
    #[error("entering namespace {0}: {1}")]
    Enter(String, std::io::Error),
    #[error("{0}: unexpected output: {1}")]
    Output(String, String),
}

/// Which end of the veth: the root namespace's (the server's) or the namespace's (the
/// clients'). A qdisc on an end shapes what leaves through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Egress here is server → client.
    Root,
    /// Egress here is client → server.
    Inside,
}

/// What a root qdisc has passed and dropped since it was made (`tc -s qdisc show`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct QdiscCounts {
    pub bytes: u64,
    pub packets: u64,
    pub drops: u64,
}

/// The namespace and its veth; dropping it deletes both.
#[derive(Debug)]
pub struct Namespace {
    veth: Veth,
}

/// A handle on a [`Namespace`]'s veth: its names and addresses, its qdiscs, and
/// sockets made inside. Cheap to clone; once the namespace is dropped its calls fail.
#[derive(Debug, Clone)]
pub struct Veth {
    names: Arc<Names>,
    inside: Arc<Inside>,
}

#[derive(Debug)]
struct Names {
    namespace: String,
    root_dev: String,
    inside_dev: String,
    root_addr: Ipv4Addr,
    inside_addr: Ipv4Addr,
}

impl Namespace {
    /// A fresh namespace and veth, addressed and up, after removing what dead
    /// processes left behind.
    pub fn create() -> Result<Self, NetnsError> {
        clean_stale();
        let k = MADE.fetch_add(1, Relaxed) % COUNTER_WRAP;
        let namespace = format!("{NAME_PREFIX}{}-{k}", std::process::id());
        let block = free_block(std::process::id().wrapping_mul(31).wrapping_add(k))?;
        let names = Names {
            root_dev: format!("{namespace}a"),
            inside_dev: format!("{namespace}b"),
            namespace,
            root_addr: block_addr(block, 1),
            inside_addr: block_addr(block, 2),
        };
        ip(&["netns", "add", &names.namespace])?;
        // From here on, a failure deletes what was made (`Created`'s drop).
        let made = Created(Some(names));
        let n = made.names();
        let (ns, a, b) = (n.namespace.as_str(), n.root_dev.as_str(), n.inside_dev.as_str());
        ip(&["link", "add", a, "type", "veth", "peer", "name", b, "netns", ns])?;
        ip(&["link", "set", a, "gso_max_segs", "1"])?;
        ip(&["addr", "add", &format!("{}/30", n.root_addr), "dev", a])?;
        ip(&["link", "set", a, "up"])?;
        ip(&["-n", ns, "link", "set", b, "gso_max_segs", "1"])?;
        ip(&["-n", ns, "addr", "add", &format!("{}/30", n.inside_addr), "dev", b])?;
        ip(&["-n", ns, "link", "set", b, "up"])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        let path = Path::new("/run/netns").join(ns);
        let inside = Inside::enter(&path).map_err(|e| NetnsError::Enter(ns.to_string(), e))?;
        let names = made.keep();
        tracing::debug!(namespace = %names.namespace, root = %names.root_addr, "netns made");
        Ok(Self { veth: Veth { names: Arc::new(names), inside: Arc::new(inside) } })
    }

    pub fn veth(&self) -> Veth {
        self.veth.clone()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Sockets still open inside keep the kernel's namespace alive until they
        // close; its name, its veth and its thread go now.
        self.veth.inside.stop();
        delete(&self.veth.names);
    }
}

/// Names made by `create` so far: deleted on drop unless kept.
struct Created(Option<Names>);

impl Created {
    fn names(&self) -> &Names {
        self.0.as_ref().expect("names until kept")
    }

    fn keep(mut self) -> Names {
        self.0.take().expect("names until kept")
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if let Some(names) = &self.0 {
            delete(names);
        }
    }
}

/// Deleting the root side's end deletes the pair; the namespace goes with its name.
fn delete(names: &Names) {
    for args in [["link", "del", &names.root_dev], ["netns", "del", &names.namespace]] {
        if let Err(e) = ip(&args) {
            tracing::debug!("cleaning up {}: {e}", names.namespace);
        }
    }
}

impl Veth {
    /// The namespace's name (`ip netns` lists it, `/run/netns/<name>`).
    pub fn namespace(&self) -> &str {
        &self.names.namespace
    }

    pub fn device(&self, side: Side) -> &str {
        match side {
            Side::Root => &self.names.root_dev,
            Side::Inside => &self.names.inside_dev,
        }
    }

    /// The root side's address: where a server reachable from the namespace listens.
    pub fn root_addr(&self) -> Ipv4Addr {
        self.names.root_addr
    }

    /// The namespace side's address: the clients' source address.
    pub fn inside_addr(&self) -> Ipv4Addr {
        self.names.inside_addr
    }

    /// An unconnected TCP socket created inside the namespace.
    pub async fn socket_v4(&self) -> std::io::Result<TcpSocket> {
        self.inside.socket_v4().await
    }

    /// Replaces the root qdisc of `side`'s end with `qdisc` (e.g. `["tbf", "rate",
    /// "1mbit", …]`): `tc qdisc replace dev <end> root <qdisc…>`.
    pub fn set_qdisc(&self, side: Side, qdisc: &[String]) -> Result<(), NetnsError> {
        let mut args = self.tc_prefix(side);
        args.extend(["qdisc", "replace", "dev", self.device(side), "root"].map(String::from));
        args.extend(qdisc.iter().cloned());
        tc(&args).map(drop)
    }

    /// The root qdisc's counters on `side`'s end.
    pub fn qdisc_counts(&self, side: Side) -> Result<QdiscCounts, NetnsError> {
        let mut args = self.tc_prefix(side);
        args.extend(["-s", "-j", "qdisc", "show", "dev", self.device(side), "root"].map(String::from));
        let out = tc(&args)?;
        let parsed: Vec<QdiscCounts> =
            serde_json::from_str(&out).map_err(|e| NetnsError::Output(args.join(" "), e.to_string()))?;
        parsed.into_iter().next().ok_or_else(|| NetnsError::Output(args.join(" "), out))
    }

    fn tc_prefix(&self, side: Side) -> Vec<String> {
        match side {
            Side::Root => Vec::new(),
            Side::Inside => vec!["-n".into(), self.names.namespace.clone()],
        }
    }
}

/// Deletes the namespaces and veth ends whose owner process is gone (a run killed with
/// SIGKILL never reached its drop), and the netem probe's; returns what it deleted.
pub fn clean_stale() -> Vec<String> {
    let mut gone = Vec::new();
    let namespaces = ip(&["netns", "list"]).unwrap_or_default();
    for name in namespaces.lines().filter_map(|l| l.split_whitespace().next()) {
        if is_stale(name) && ip(&["netns", "del", name]).is_ok() {
            gone.push(name.to_string());
        }
    }
    let links = ip(&["-o", "link", "show"]).unwrap_or_default();
    for name in links.lines().filter_map(link_name) {
        if is_stale(name) && ip(&["link", "del", name]).is_ok() {
            gone.push(name.to_string());
        }
    }
    if !gone.is_empty() {
        tracing::info!("removed what dead runs left: {}", gone.join(", "));
    }
    gone
}

fn is_stale(name: &str) -> bool {
    owner_pid(name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

/// The pid in a name this module or the probe gave (`pl-<pid>-<k>[ab]`,
/// `pushlab-netem-probe-<pid>`); `None` for anyone else's.
pub fn owner_pid(name: &str) -> Option<u32> {
    let (rest, end) = if let Some(rest) = name.strip_prefix(PROBE_PREFIX) {
        (rest, rest.len())
    } else {
        let rest = name.strip_prefix(NAME_PREFIX)?;
        let (pid, counter) = rest.split_once('-')?;
        let counter = counter.strip_suffix(['a', 'b']).unwrap_or(counter);
        if counter.is_empty() || !counter.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        (rest, pid.len())
    };
    let pid = &rest[..end];
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// `6: pl-123-0a@if5: <BROADCAST,…` → `pl-123-0a`.
fn link_name(line: &str) -> Option<&str> {
    let name = line.split_whitespace().nth(1)?.trim_end_matches(':');
    Some(name.split('@').next().unwrap_or(name))
}

/// The address `host` (1 or 2) of /30 block `block` of 10.249.0.0/16.
fn block_addr(block: u32, host: u8) -> Ipv4Addr {
    let offset = block * 4 + u32::from(host);
    Ipv4Addr::new(SUBNET[0], SUBNET[1], (offset >> 8) as u8, offset as u8)
}

/// The first /30 from `start` none of whose addresses an interface has here.
fn free_block(start: u32) -> Result<u32, NetnsError> {
    let taken = ip(&["-4", "-o", "addr", "show"])?;
    let used: Vec<Ipv4Addr> = taken
        .lines()
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "inet").nth(1))
        .filter_map(|a| a.split('/').next()?.parse().ok())
        .collect();
    (0..BLOCKS)
        .map(|i| (start + i) % BLOCKS)
        .find(|&b| (0..4).all(|host| !used.contains(&block_addr(b, host))))
        .ok_or(NetnsError::NoAddress)
}

fn ip(args: &[&str]) -> Result<String, NetnsError> {
    run("ip", args.iter().map(|a| a.to_string()).collect())
}

fn tc(args: &[String]) -> Result<String, NetnsError> {
    run("tc", args.to_vec())
}

fn run(program: &str, args: Vec<String>) -> Result<String, NetnsError> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(&args)
        .output()
        .map_err(|e| NetnsError::Command { command: command.clone(), message: e.to_string() })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr.lines().next().unwrap_or("failed").trim().to_string();
        return Err(NetnsError::Command { command, message });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_names_have_an_owner() {
        assert_eq!(owner_pid("pl-4194304-12"), Some(4_194_304));
        assert_eq!(owner_pid("pl-77-0a"), Some(77));
        assert_eq!(owner_pid("pl-77-999b"), Some(77));
        assert_eq!(owner_pid("pushlab-netem-probe-18642"), Some(18642));
        for other in
            ["pl-", "pl-77", "pl-77-", "pl-77-x", "pl-x-1", "plain", "docker0", "pushlab-netem-probe-"]
        {
            assert_eq!(owner_pid(other), None, "{other}");
        }
        assert!("pl-4194304-999a".len() <= 15, "fits an interface name");
    }

    #[test]
    fn link_lines_give_their_name() {
        assert_eq!(link_name("6: pl-123-0a@if5: <BROADCAST,MULTICAST,UP> mtu 1500"), Some("pl-123-0a"));
        assert_eq!(link_name("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536"), Some("lo"));
    }

    #[test]
    fn blocks_are_thirty_twos_of_ten_249() {
        assert_eq!(block_addr(0, 1), Ipv4Addr::new(10, 249, 0, 1));
        assert_eq!(block_addr(0, 2), Ipv4Addr::new(10, 249, 0, 2));
        assert_eq!(block_addr(64, 1), Ipv4Addr::new(10, 249, 1, 1));
        assert_eq!(block_addr(BLOCKS - 1, 2), Ipv4Addr::new(10, 249, 255, 254));
    }
}
