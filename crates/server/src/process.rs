//! What the process and the kernel cost: RSS, CPU time, kernel TCP buffers. Read from
//! `/proc` and `getrusage` on every `/api/stats` call; nothing here is sampled or kept.
//! Also the process's file-descriptor limit, which caps its TCP connections (SPEC §8).
#![allow(unsafe_code)] // four libc calls, each explained below

use pushlab_contract::{KernelStats, ProcessStats};

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions and only reads a constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as u64 } else { 4096 }
}

/// Resident set size from `/proc/self/statm` (second field, in pages).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * page_size()
}

/// User and system CPU seconds of the whole process, µs resolution.
pub fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage writes into the zeroed struct we own; RUSAGE_SELF is valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

pub fn process_stats() -> ProcessStats {
    let (cpu_user_s, cpu_sys_s) = cpu_seconds();
    ProcessStats {
        rss_bytes: rss_bytes(),
        heap_bytes: pushlab_alloc::heap_bytes(),
        cpu_user_s,
        cpu_sys_s,
        open_fds: open_fds(),
    }
}

/// File descriptors open in this process: the entries of `/proc/self/fd` (less the one
/// the listing itself holds), or `None` where `/proc` is not readable.
fn open_fds() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some((entries.count() as u64).saturating_sub(1))
}

/// The soft `RLIMIT_NOFILE`: how many file descriptors this process may open, or `None`
/// if it cannot be read or is unlimited.
pub fn fd_limit() -> Option<u64> {
    let limit = nofile()?;
    (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// Raises the soft file-descriptor limit to the hard one (a process may, unprivileged),
/// so the connection cap is what the machine allows rather than a shell's default of
/// 1024. Returns the limit now in force.
pub fn raise_fd_limit() -> Option<u64> {
    let mut limit = nofile()?;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit reads the struct we own; a refusal leaves the limit as it was.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
    fd_limit()
}

fn nofile() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own; RLIMIT_NOFILE is valid.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit)
}

/// Memory the kernel holds for every TCP socket on the machine (not only ours):
/// the `mem` field of the `TCP:` line of `/proc/net/sockstat`, in pages.
pub fn kernel_stats() -> KernelStats {
    let sockstat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    KernelStats { tcp_mem_bytes: parse_tcp_mem_pages(&sockstat) * page_size() }
}

fn parse_tcp_mem_pages(sockstat: &str) -> u64 {
    let Some(line) = sockstat.lines().find(|l| l.starts_with("TCP:")) else {
        return 0;
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    fields.windows(2).find(|w| w[0] == "mem").and_then(|w| w[1].parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_mem_is_read_from_the_tcp_line() {
        let sockstat = "sockets: used 190\nTCP: inuse 5 orphan 0 tw 2 alloc 7 mem 31\nUDP: inuse 1 mem 9\n";
        assert_eq!(parse_tcp_mem_pages(sockstat), 31);
        assert_eq!(parse_tcp_mem_pages("UDP: inuse 1 mem 9\n"), 0);
    }

    #[test]
    fn the_fd_limit_is_read() {
        assert!(fd_limit().is_some_and(|n| n >= 64));
    }

    #[test]
    fn this_process_has_memory_and_cpu() {
        assert!(rss_bytes() > 1_000_000);
        let (user, sys) = cpu_seconds();
        assert!(user + sys > 0.0);
    }
}
