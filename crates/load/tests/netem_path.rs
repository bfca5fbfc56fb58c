//! The load generator on the netem path, for real: its clients' sockets made inside a
//! namespace of our own, reaching an in-process server on the veth's root-side
//! address. This kernel has no netem, so the shaping is proved with `tbf` on the same
//! veth: a 1 Mbit/s tbf carries 1 Mbit/s ± 5 % as the load generator's own byte
//! counters measure it. netem itself runs where the kernel has it, and says so where
//! it does not.
//!
//! Namespaces need root (CI runs as root); without it each test says why it did not
//! run and returns.

use std::time::Duration;

use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_link::netem::AVAILABLE;
use pushlab_link::netns::Side;
use pushlab_link::{EmulatorChoice, EmulatorKind, netem_status};
use pushlab_load::link::path::LinkPath;
use pushlab_load::results::RunRecord;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::{Knobs, RunSpec};

mod in_process;
use in_process::{Server, server, server_on};
#[path = "../../link/tests/support/mod.rs"]
mod support;
use support::say;

/// TCP payload of a full segment on the veth (MTU 1,500, timestamps on) and the frame
/// that carries it (plus 20 IPv4, 32 TCP and 14 Ethernet header bytes): tbf and netem
/// count frames, the load generator counts payload.
const MSS_BYTES: f64 = 1_448.0;
const FRAME_BYTES: f64 = 1_514.0;

/// Bytes the root namespace's interface `device` has sent.
fn tx_bytes(device: &str) -> u64 {
    let path = format!("/sys/class/net/{device}/statistics/tx_bytes");
    std::fs::read_to_string(&path).unwrap().trim().parse().unwrap()
}

/// The server in-process on the path's veth, its clients sent through the namespace.
async fn server_through(path: &LinkPath, args: &[&str]) -> (Server, ServerUnderTest) {
    let listen: std::net::SocketAddr = path.server_listen().parse().unwrap();
    let server = server_on(listen.ip(), args).await;
    let mut target = server.target.clone();
    path.attach(&mut target);
    (server, ServerUnderTest { target, pid: None })
}

/// A run of `clients` over `link` (none: whatever the veth carries), `window` long.
async fn measure(
    window: Duration,
    under_test: &ServerUnderTest,
    transport: Transport,
    clients: usize,
    link: Option<&str>,
) -> RunRecord {
    let knobs = Knobs {
        ramp: Duration::from_millis(200),
        settle: Duration::from_secs(1),
        duration: window,
        link: link.map(String::from),
        ..Knobs::default()
    };
    let spec = RunSpec { transport, clients, knobs };
    run(&spec, under_test, &ProgressBar::hidden()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1mbit_tbf_on_the_veth_carries_1mbit_by_the_load_generators_counters() {
    needs_root!("tbf through the load generator");
    let path = LinkPath::wiring_only().unwrap();
    let veth = path.veth().unwrap();
    let tbf = ["tbf", "rate", "1mbit", "burst", "3028", "limit", "100000"].map(String::from);
    veth.set_qdisc(Side::Root, &tbf).unwrap();
    // Two SSE streams of 50 ticks/s of ~1.5 kB: about 1.3 Mbit/s offered, so the link is full.
    let (_server, under_test) = server_through(&path, &["--rate", "50", "--payload-bytes", "1500"]).await;
    let r = measure(Duration::from_secs(4), &under_test, Transport::Sse, 2, None).await;

    let payload_bit_s = r.wire.bytes_read as f64 * 8.0 / r.window_s;
    let frames_bit_s = payload_bit_s * FRAME_BYTES / MSS_BYTES;
    say(&format!(
        "1 Mbit/s tbf on {}: the clients read {:.1} kbit/s of TCP payload, {:.1} kbit/s in frames",
        veth.device(Side::Root),
        payload_bit_s / 1e3,
        frames_bit_s / 1e3
    ));
    assert!((0.95e6..=1.05e6).contains(&frames_bit_s), "{frames_bit_s} bit/s, expected 1 Mbit/s ± 5 %");
    assert_eq!(r.errors.values().sum::<u64>(), 0, "{:?}", r.errors);
    assert_eq!(r.connect.count, 2, "one connection per client, never broken");
    // The server is this machine's, on the veth: its kernel socket memory is measured.
    assert!(
        r.server.tcp_sockets_with_clients.is_some_and(|n| n >= 2),
        "{:?}",
        r.server.tcp_sockets_with_clients
    );
}

/// `run` loads a server it did not start, on loopback, which the namespace cannot
/// reach: its clients go through a forwarder on the veth's root side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_loopback_is_reached_from_the_namespace_through_the_forwarder() {
    needs_root!("forwarder");
    let path = LinkPath::wiring_only().unwrap();
    let veth = path.veth().unwrap();
    let server = server(&["--rate", "20"]).await;
    let mut target = server.target.clone();
    let _forwarder = path.forward(&mut target).unwrap().expect("a forwarder on the netem path");
    let via = target.via.clone().expect("clients sent through the namespace");
    assert_eq!((via.addr.ip(), target.addr), (veth.root_addr().into(), server.target.addr));
    let under_test = ServerUnderTest { target, pid: None };
    let sent_before = tx_bytes(veth.device(Side::Root));
    let r = measure(Duration::from_secs(1), &under_test, Transport::Ws, 3, None).await;
    assert_eq!((r.connect.count, r.ticks.lost), (3, 0));
    assert_eq!(r.ticks.delivered, r.ticks.expected, "{:?}", r.ticks);
    // The ticks crossed the veth (a client that dialled loopback directly would not).
    let sent = tx_bytes(veth.device(Side::Root)) - sent_before;
    assert!(sent >= r.wire.bytes_read, "{sent} bytes left by the veth, {} read", r.wire.bytes_read);
}

#[tokio::test]
async fn without_netem_auto_is_builtin_and_netem_is_refused_quoting_the_probe() {
    let status = netem_status();
    if status == AVAILABLE {
        say("netem available on this kernel: its refusal is not tested here");
        return;
    }
    let auto = LinkPath::choose(EmulatorChoice::Auto, true).unwrap();
    assert_eq!(auto.kind(), EmulatorKind::Builtin);
    assert_eq!(auto.server_listen(), "127.0.0.1:0");
    let error = LinkPath::choose(EmulatorChoice::Netem, true).unwrap_err().to_string();
    assert!(error.contains(status), "{error}");
    assert_eq!(
        LinkPath::choose(EmulatorChoice::Netem, false).unwrap().kind(),
        EmulatorKind::Builtin,
        "no link, no emulator"
    );
}

/// The whole netem path: SSE over a 200 ms netem link pays one way (100 ms), and the
/// record says netem, with no emulator CPU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_netem_sse_pays_one_way_and_the_record_says_netem() {
    needs_netem!("netem path");
    let path = LinkPath::choose(EmulatorChoice::Netem, true).unwrap();
    let (_server, under_test) = server_through(&path, &["--rate", "20"]).await;
    let sse = measure(Duration::from_secs(4), &under_test, Transport::Sse, 10, Some("rtt=200ms")).await;
    let p50_ms = sse.latency_us.p50 as f64 / 1e3;
    say(&format!("netem rtt=200ms: SSE p50 {p50_ms} ms"));
    assert!((95.0..=125.0).contains(&p50_ms), "SSE p50 {p50_ms} ms, expected about 100");
    let link = sse.link.expect("a link record");
    assert_eq!((link.emulator, link.emulator_cpu_pct), (EmulatorKind::Netem, None));
    assert!(link.segments > 0 && link.segments_lost == 0, "{link:?}");
}
