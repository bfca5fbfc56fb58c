//! The netem path's wiring, for real: a namespace and a veth of our own, a client
//! socket made inside reaching a server on the root side's address, everything gone
//! after the drop, a dead run's leftovers removed, a qdisc on the veth shaping what
//! crosses it. And netem itself, where this kernel has it.
//!
//! Namespaces need root (CI runs as root); without it each test says why it did not
//! run and returns.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use pushlab_link::netem;
use pushlab_link::netns::{self, Side};
use pushlab_link::{LinkSpec, Namespace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

mod support;
use support::say;

fn ip(args: &[&str]) -> (bool, String) {
    let out = Command::new("ip").args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn namespace_exists(name: &str) -> bool {
    ip(&["netns", "list"]).1.lines().any(|l| l.split_whitespace().next() == Some(name))
}

fn link_exists(name: &str) -> bool {
    ip(&["link", "show", "dev", name]).0
}

/// A server on the root side's address that echoes, and the client's address it saw.
async fn echo_server(ns: &Namespace) -> (SocketAddr, tokio::task::JoinHandle<SocketAddr>) {
    let listener = TcpListener::bind((ns.veth().root_addr(), 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let (mut s, peer) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = s.read(&mut buf).await {
            s.write_all(&buf[..n]).await.unwrap();
        }
        peer
    });
    (addr, served)
}

async fn connect_inside(ns: &Namespace, addr: SocketAddr) -> TcpStream {
    let stream = ns.veth().socket_v4().await.unwrap().connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

#[tokio::test]
async fn a_client_inside_reaches_the_server_on_the_veth_and_nothing_is_left_after() {
    needs_root!("netns plumbing");
    let ns = Namespace::create().unwrap();
    let veth = ns.veth();
    let (name, a, b) = (veth.namespace().to_string(), veth.device(Side::Root), veth.device(Side::Inside));
    assert!(name.starts_with(&format!("pl-{}-", std::process::id())), "{name}");
    assert_eq!((a, b), (format!("{name}a").as_str(), format!("{name}b").as_str()));
    assert!(namespace_exists(&name) && link_exists(a));
    assert!(!link_exists(b), "the namespace's end is not in the root namespace");

    let (addr, served) = echo_server(&ns).await;
    let mut client = connect_inside(&ns, addr).await;
    // The source address exists only inside the namespace: the socket was made there.
    assert_eq!(client.local_addr().unwrap().ip(), veth.inside_addr());
    client.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    client.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    drop(client);
    assert_eq!(served.await.unwrap().ip(), veth.inside_addr());
    // The namespace thread set its own sysctls, not the machine's.
    let inside = Command::new("ip")
        .args(["netns", "exec", &name, "cat", "/proc/sys/net/ipv4/ip_local_port_range"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inside.stdout).split_whitespace().collect::<Vec<_>>(),
        ["1024", "65535"]
    );

    let (a, b) = (a.to_string(), b.to_string());
    drop(ns);
    assert!(!namespace_exists(&name), "{name} still listed");
    assert!(!link_exists(&a) && !link_exists(&b), "{a} or {b} still there");
    let error = veth.socket_v4().await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotConnected, "{error}");
}

#[tokio::test]
async fn what_a_killed_run_left_is_removed_and_nothing_of_a_live_one() {
    needs_root!("stale cleanup");
    // A pid that was ours a moment ago and is dead now.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let (stale, stale_dev) = (format!("pl-{dead}-0"), format!("pl-{dead}-0a"));
    let probe = format!("pushlab-netem-probe-{dead}");
    // Made first: making a namespace cleans up too.
    let live = Namespace::create().unwrap();
    let live_name = live.veth().namespace().to_string();
    assert!(ip(&["netns", "add", &stale]).0 && ip(&["netns", "add", &probe]).0);
    assert!(ip(&["link", "add", &stale_dev, "type", "veth", "peer", "name", &format!("pl-{dead}-0b")]).0);
    assert!(namespace_exists(&stale) && namespace_exists(&probe) && link_exists(&stale_dev));

    // (Another test making a namespace at the same moment may be the one to remove them.)
    let removed = netns::clean_stale();
    say(&format!("stale cleanup removed {removed:?}"));
    assert!(!namespace_exists(&stale) && !namespace_exists(&probe) && !link_exists(&stale_dev));
    assert!(namespace_exists(&live_name), "a live process's namespace stays");
}

/// The shaping plumbing with tbf (this kernel has no netem): a qdisc replaced on the
/// root side's end acts on what the server sends, and its counters say so.
#[tokio::test]
async fn a_qdisc_on_the_root_end_shapes_what_the_server_sends() {
    needs_root!("qdisc plumbing");
    let ns = Namespace::create().unwrap();
    let veth = ns.veth();
    let tbf = ["tbf", "rate", "1mbit", "burst", "3028", "limit", "100000"].map(String::from);
    veth.set_qdisc(Side::Root, &tbf).unwrap();
    let listener = TcpListener::bind((veth.root_addr(), 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    const BYTES: usize = 125_000; // 1 s at 1 Mbit/s
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(&vec![7u8; BYTES]).await.unwrap();
    });
    let mut client = connect_inside(&ns, addr).await;
    let started = Instant::now();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    let took = started.elapsed();
    assert_eq!(got.len(), BYTES);
    // Payload plus 66 bytes of headers per 1,448-byte segment at 1 Mbit/s: 1.05 s.
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(1300), "{took:?}");
    let counts = veth.qdisc_counts(Side::Root).unwrap();
    assert!(counts.bytes >= BYTES as u64 && counts.packets >= (BYTES / 1448) as u64, "{counts:?}");
}

/// netem itself: a 100 ms link measures 100 ± 2 ms on a ping-pong. Runs only where
/// the kernel has netem, and says so loudly where it does not.
#[tokio::test]
async fn netem_on_the_veth_gives_a_100ms_link_a_100ms_ping_pong() {
    needs_netem!("netem path");
    let ns = Namespace::create().unwrap();
    netem::shape(&ns.veth(), &"rtt=100ms".parse::<LinkSpec>().unwrap()).unwrap();
    let (addr, _served) = echo_server(&ns).await;
    let connecting = Instant::now();
    let mut client = connect_inside(&ns, addr).await;
    let handshake = connecting.elapsed();
    assert!(handshake >= Duration::from_millis(98), "the SYN-ACK takes a round trip: {handshake:?}");
    let mut rtts = Vec::new();
    let mut buf = [0u8; 4];
    for _ in 0..20 {
        let sent = Instant::now();
        client.write_all(b"ping").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        rtts.push(sent.elapsed());
    }
    rtts.sort();
    let median = rtts[rtts.len() / 2];
    eprintln!("netem 100 ms link: ping-pong median {median:?}");
    assert!(median >= Duration::from_millis(98) && median <= Duration::from_millis(102), "{rtts:?}");
}
