//! What Linux says about processes and the machine: CPU time from `/proc/<pid>/stat`,
//! memory from `/proc/<pid>/status`, and the open-file limit.
//!
//! The load generator reports its own CPU and memory beside the server's, so a
//! saturated load generator shows up instead of passing for a slow transport.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// File descriptors kept back from the clients: stdio, the runtime, control
/// connections, the server child's pipes.
pub const FD_RESERVE: u64 = 200;

/// User + system CPU time a process has used so far, or `None` if it is gone.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64))
}

/// Resident set size of a process, bytes (`VmRSS`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The 1-minute load average (`/proc/loadavg`), 0 if unreadable.
pub fn load_average() -> f64 {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

#[allow(unsafe_code)]
fn clock_ticks_per_second() -> i64 {
    // SAFETY: sysconf reads a constant of the running system; it has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz } else { 100 }
}

/// Ask a process to shut down gracefully (SIGTERM).
#[allow(unsafe_code)]
pub fn terminate(pid: u32) {
    // SAFETY: kill has no memory preconditions; the pid is our own child's.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FdLimitError {
    #[error(
        "{clients} clients need about {needed} open files, but this process may open at most {hard} \
         (the hard RLIMIT_NOFILE). Run fewer clients (at most {max}), or raise the hard limit."
    )]
    TooManyClients { clients: usize, needed: u64, hard: u64, max: u64 },
    #[error("cannot read or set the open-file limit: {0}")]
    Os(std::io::Error),
}

/// Raise the soft open-file limit to the hard one and check `clients` sockets fit.
/// Refusing up front beats thousands of `EMFILE` errors halfway through a ramp.
#[allow(unsafe_code)]
pub fn ensure_fd_limit(clients: usize) -> Result<u64, FdLimitError> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid, writable rlimit for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(FdLimitError::Os(std::io::Error::last_os_error()));
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid rlimit; raising soft up to hard needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(FdLimitError::Os(std::io::Error::last_os_error()));
        }
    }
    let hard = limit.rlim_max;
    let needed = clients as u64 + FD_RESERVE;
    if needed > hard {
        let max = hard.saturating_sub(FD_RESERVE);
        return Err(FdLimitError::TooManyClients { clients, needed, hard, max });
    }
    Ok(hard)
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_bytes: u64,
    pub kernel: String,
    pub os: String,
}

impl Machine {
    pub fn this() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let memory_kib = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .unwrap_or(0);
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| std::env::consts::OS.to_string());
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: memory_kib * 1024,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            os,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {
            std::hint::black_box(0u64);
        }
        assert!(cpu_time(me).unwrap() > Duration::ZERO);
        assert!(rss_bytes(me).unwrap() > 1 << 20);
        assert!(Machine::this().memory_bytes > 0);
    }

    #[test]
    fn refuses_a_client_count_that_cannot_fit() {
        let hard = ensure_fd_limit(1).unwrap();
        let err = ensure_fd_limit(hard as usize).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    }
}
