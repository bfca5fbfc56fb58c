//! `pushlab-load hold` as an operator runs it: the real binaries, a server it starts
//! with a small cap (`--max-connections 20`: 84 TCP connections) and a 1 s header
//! timeout, 200 attacking sockets, and the JSON it writes.
//!
//! The time bounds are loose (the machine is shared and has two cores); the counts are
//! not: every attacker is accounted for, on our side and on the server's.

mod common;

use std::process::Command;

use common::server_binary;
use pushlab_load::hold::record::{HoldResults, KIND, ProbeSummary};

/// `--max-connections 20` + the server's 64 of headroom.
const CAP: u64 = 84;
const SOCKETS: u64 = 200;
const HEADER_TIMEOUT_MS: f64 = 1000.0;
/// How late past the header timeout a close may come on a busy machine.
const LATE_MS: f64 = 1500.0;

fn hold(mode: &str, extra: &[&str]) -> HoldResults {
    let json = std::env::temp_dir().join(format!("pushlab-hold-{mode}-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
        .args(["hold", "--mode", mode, "--sockets", "200", "--duration", "3s", "--header-timeout", "1s"])
        .args(["--server-arg", "--max-connections=20"])
        .args(extra)
        .arg("--server-bin")
        .arg(server_binary())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("connections the server held") && stdout.contains("SSE (first event)"),
        "{stdout}"
    );
    let results: HoldResults = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    assert_eq!(results.kind, KIND);
    results
}

/// What both modes must show: the cap held, every attacker closed by the server (at once
/// or at the header timeout), fds bounded by the cap, and a real client answered.
fn assert_hygiene(r: &HoldResults) {
    let context = format!("{:#?}", (&r.server, &r.attackers, &r.probes));
    let (s, a) = (&r.server, &r.attackers);
    assert_eq!((a.opened, a.still_open_at_end), (SOCKETS, 0), "{context}");
    assert!(a.connect_failed.is_empty(), "{context}");
    assert!(s.open_peak <= CAP && s.open_peak > CAP / 2, "the server filled up to its cap: {context}");
    assert_eq!(a.closed_at_once + a.closed_after_held, SOCKETS, "{context}");
    // Held ones are closed by the header timeout, and only they are; the rest at accept
    // (the probes that came while it was full are refused too).
    assert_eq!(s.header_timeouts, a.closed_after_held, "{context}");
    assert!(s.refused_at_cap >= a.closed_at_once && a.closed_at_once > 0, "{context}");
    assert!(a.closed_after_held >= CAP / 2, "{context}");
    let held = a.held_for.expect("some were held");
    assert!(
        held.p50_ms >= HEADER_TIMEOUT_MS * 0.9 && held.max_ms <= HEADER_TIMEOUT_MS + LATE_MS,
        "{context}"
    );
    // The server's fds follow its connections, not the attack's size.
    let fds = s.open_fds_peak.expect("the server reads /proc/self/fd");
    assert!(fds < CAP + 64 && fds > s.open_fds_before.unwrap(), "{context}");
    assert_eq!(s.samples_failed, 0, "the kept stats connection is never refused: {context}");
    for (name, p) in [("poll", &r.probes.poll), ("sse", &r.probes.sse)] {
        assert_probe_answered(name, p, &context);
    }
    assert_eq!(r.samples.len() as u64, s.samples);
}

fn assert_probe_answered(name: &str, p: &ProbeSummary, context: &str) {
    // 3 s at one every 200 ms; a few may still be out when the hold ends.
    assert!((12..=16).contains(&p.attempts), "{name}: {context}");
    assert!(
        p.answered > 0 && p.wait_p50_us.is_some(),
        "{name} answered once the held were closed: {context}"
    );
    assert_eq!(p.answered + p.failed.values().sum::<u64>(), p.attempts, "{name}: {context}");
    assert!(p.before_p50_us.is_some(), "{name} answered before the attack: {context}");
}

#[test]
fn idle_sockets_fill_the_cap_and_are_closed_at_the_header_timeout() {
    let r = hold("idle", &[]);
    assert_eq!((r.spec.sockets, r.spec.header_timeout_ms, r.spec.trickle_interval_ms), (200, 1000, None));
    let args = r.spec.server_args.as_ref().unwrap();
    assert!(
        args.ends_with(&["--header-timeout".into(), "1s".into(), "--max-connections=20".into()]),
        "{args:?}"
    );
    assert_hygiene(&r);
}

#[test]
fn slowloris_heads_fill_the_cap_and_are_closed_at_the_header_timeout() {
    let r = hold("slowloris", &["--trickle-interval", "200ms"]);
    assert_eq!(r.spec.trickle_interval_ms, Some(200));
    assert_hygiene(&r);
}

#[test]
fn a_target_off_this_machine_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
        .args(["hold", "--sockets", "10", "--url", "http://192.0.2.1:3000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("192.0.2.1:3000 is not a loopback address"), "{stderr}");
}

/// The holds measured on this machine (`docs/results/hold-*.json`) read back as this
/// build's figures: nothing renamed under them.
#[test]
fn the_committed_holds_read_back() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results");
    for name in ["hold-idle", "hold-slowloris", "hold-cap"] {
        let path = format!("{dir}/{name}.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let r: HoldResults = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!((r.kind.as_str(), r.spec.sockets), (KIND, 19_000), "{path}");
        assert_eq!(r.attackers.opened + r.attackers.connect_failed.values().sum::<u64>(), 19_000, "{path}");
    }
}
