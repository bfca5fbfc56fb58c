//! What the tests that make network namespaces share (also `crates/load/tests/
//! netem_path.rs`, by path): whether they can run here, and saying so when they don't.

use std::process::Command;

/// Said on the terminal even when the test passes: `eprintln!` is captured by the test
/// harness and shown only on failure, a direct write to stderr is not.
pub fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Why namespaces cannot be made here, if they cannot: they need root and iproute2.
pub fn cannot_run() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().next());
    if uid != Some("0") {
        return Some(format!("not root (uid {})", uid.unwrap_or("unknown")));
    }
    Command::new("ip").arg("-V").output().err().map(|e| format!("no iproute2 `ip`: {e}"))
}

/// Returns from the test, saying why, where namespaces cannot be made.
#[macro_export]
macro_rules! needs_root {
    ($test:literal) => {
        if let Some(why) = support::cannot_run() {
            support::say(&format!("{}: NOT RUN, {why}: network namespaces need root and iproute2", $test));
            return;
        }
    };
}

/// [`needs_root!`], then returns from the test, saying why, where the kernel has no
/// netem: the netem path is then not exercised, and the terminal says so.
#[macro_export]
macro_rules! needs_netem {
    ($test:literal) => {
        $crate::needs_root!($test);
        let status = pushlab_link::netem_status();
        if status != pushlab_link::netem::AVAILABLE {
            support::say(&format!(
                "{}: netem unavailable on this kernel: {status}; netem path not exercised",
                $test
            ));
            return;
        }
    };
}
