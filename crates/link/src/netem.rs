//! Whether this kernel has `tc netem`, asked the only reliable way: by adding a netem
//! qdisc to the loopback device of a network namespace made for the question (and
//! removed after), so the machine's own interfaces are never touched.
//!
//! Every run records the answer beside the emulator it used ([`EmulatorKind`]).

use std::process::Command;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Which emulator carried a run's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmulatorKind {
    /// This crate's relay (`emulator.rs`): per connection, in user space.
    Builtin,
}

/// What the kernel said about netem, once per process.
pub fn netem_status() -> &'static str {
    static STATUS: OnceLock<String> = OnceLock::new();
    STATUS.get_or_init(probe)
}

fn probe() -> String {
    let namespace = format!("pushlab-netem-probe-{}", std::process::id());
    let run = |args: &[&str]| Command::new(args[0]).args(&args[1..]).output();
    match run(&["ip", "netns", "add", &namespace]) {
        Ok(out) if out.status.success() => {}
        Ok(out) => return format!("not probed: ip netns add: {}", first_line(&out.stderr)),
        Err(e) => return format!("not probed: ip: {e}"),
    }
    let added = run(&[
        "ip", "netns", "exec", &namespace, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms",
    ]);
    let _ = run(&["ip", "netns", "delete", &namespace]);
    match added {
        Ok(out) if out.status.success() => "available".into(),
        Ok(out) => format!("unavailable: {}", first_line(&out.stderr)),
        Err(e) => format!("not probed: tc: {e}"),
    }
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).lines().next().unwrap_or("no message").trim().to_string()
}
