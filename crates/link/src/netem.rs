//! The kernel's emulator, `tc netem`: whether this kernel has it, which emulator a run
//! uses (`--emulator auto|builtin|netem`), and the qdiscs that put a [`LinkSpec`] on a
//! [`Namespace`](crate::netns::Namespace)'s veth ([`netem_args`], [`shape`]).
//!
//! Whether the kernel has netem is asked the only reliable way: by adding a netem qdisc
//! to the loopback device of a network namespace made for the question (and removed
//! after), so the machine's own interfaces are never touched. Every run records the
//! answer beside the emulator it used ([`EmulatorKind`]).
//!
//! [`LinkSpec`]: crate::LinkSpec

use std::fmt;
use std::process::Command;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::netns::{self, PROBE_PREFIX};

mod args;
pub use args::{IN_ORDER_RATE_BPS, netem_args, shape};

/// What the probe says when the kernel has netem.
pub const AVAILABLE: &str = "available";

/// Which emulator carried a run's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmulatorKind {
    /// This crate's relay (`emulator.rs`): per connection, in user space.
    Builtin,
    /// `tc netem` on a veth pair into a network namespace holding the clients' sockets:
    /// in the kernel, per packet, shared by every client of the run.
    Netem,
}

impl fmt::Display for EmulatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmulatorKind::Builtin => "builtin",
            EmulatorKind::Netem => "netem",
        })
    }
}

/// What `--emulator` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmulatorChoice {
    /// netem where the probe says [`AVAILABLE`], else the built-in emulator.
    #[default]
    Auto,
    Builtin,
    /// netem, or an error quoting the probe.
    Netem,
}

impl EmulatorChoice {
    pub const NAMES: [&'static str; 3] = ["auto", "builtin", "netem"];
}

impl std::str::FromStr for EmulatorChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(EmulatorChoice::Auto),
            "builtin" => Ok(EmulatorChoice::Builtin),
            "netem" => Ok(EmulatorChoice::Netem),
            other => Err(format!("--emulator {other:?}: one of auto, builtin, netem")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    #[error(
        "--emulator netem: this kernel's tc netem is not usable (probe: {0}); \
         use --emulator builtin (or auto, which falls back to it)"
    )]
    NetemUnavailable(String),
}

/// The emulator `choice` means on a kernel whose probe said `status`.
pub fn choose(choice: EmulatorChoice, status: &str) -> Result<EmulatorKind, ChoiceError> {
    match (choice, status == AVAILABLE) {
        (EmulatorChoice::Builtin, _) | (EmulatorChoice::Auto, false) => Ok(EmulatorKind::Builtin),
        (EmulatorChoice::Auto | EmulatorChoice::Netem, true) => Ok(EmulatorKind::Netem),
        (EmulatorChoice::Netem, false) => Err(ChoiceError::NetemUnavailable(status.to_string())),
    }
}

/// What the kernel said about netem, once per process: [`AVAILABLE`], or why not.
pub fn netem_status() -> &'static str {
    static STATUS: OnceLock<String> = OnceLock::new();
    STATUS.get_or_init(probe)
}

fn probe() -> String {
    // A probe killed half-way (Ctrl-C at the start of a run) left its namespace.
    netns::clean_stale();
    let namespace = format!("{PROBE_PREFIX}{}", std::process::id());
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
        Ok(out) if out.status.success() => AVAILABLE.into(),
        Ok(out) => format!("unavailable: {}", first_line(&out.stderr)),
        Err(e) => format!("not probed: tc: {e}"),
    }
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).lines().next().unwrap_or("no message").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const THIS_KERNEL: &str = "unavailable: Error: Specified qdisc kind is unknown.";

    #[test]
    fn auto_is_netem_only_where_the_probe_says_available() {
        assert_eq!(choose(EmulatorChoice::Auto, AVAILABLE), Ok(EmulatorKind::Netem));
        assert_eq!(choose(EmulatorChoice::Auto, THIS_KERNEL), Ok(EmulatorKind::Builtin));
        assert_eq!(choose(EmulatorChoice::Auto, "not probed: ip: No such file"), Ok(EmulatorKind::Builtin));
        assert_eq!(choose(EmulatorChoice::Builtin, AVAILABLE), Ok(EmulatorKind::Builtin));
        assert_eq!(choose(EmulatorChoice::Netem, AVAILABLE), Ok(EmulatorKind::Netem));
    }

    #[test]
    fn netem_on_a_kernel_without_it_quotes_the_probe() {
        let error = choose(EmulatorChoice::Netem, THIS_KERNEL).unwrap_err().to_string();
        assert!(error.contains("probe: unavailable: Error: Specified qdisc kind is unknown."), "{error}");
        assert!(error.contains("--emulator builtin"), "{error}");
    }

    #[test]
    fn choices_parse_by_name() {
        for name in EmulatorChoice::NAMES {
            assert!(name.parse::<EmulatorChoice>().is_ok(), "{name}");
        }
        assert!("tc".parse::<EmulatorChoice>().unwrap_err().contains("auto, builtin, netem"));
        assert_eq!(serde_json::to_string(&EmulatorKind::Netem).unwrap(), "\"netem\"");
        assert_eq!(EmulatorKind::Builtin.to_string(), "builtin");
    }
}
