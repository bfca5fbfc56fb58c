//! Kernel memory of the server's sockets, socket by socket: what the kernel itself says
//! about each TCP socket whose local address is the server's, through netlink
//! `sock_diag` (`NETLINK_SOCK_DIAG`, an `inet_diag_req_v2` dump asking for
//! `INET_DIAG_SKMEMINFO`, the same source as `ss -tm`); and the slab object one TCP
//! socket takes, from `/proc/slabinfo`.
//!
//! Why not the machine-wide `TCP: mem` of `/proc/net/sockstat`: it counts both ends of
//! every loopback connection and every other program's sockets, in whole pages, with
//! per-CPU reserves in front of it, so its delta over a few hundred idle connections is
//! 0 or negative — noise, not a measurement.
//!
//! A socket's memory here is the sum of its `skmem` fields
//! - `rmem_alloc` (`r`): received data not read yet, as the kernel charges it (skb truesize);
//! - `wmem_queued` (`w`): data written and not acknowledged yet (the send and retransmit
//!   queues), also at truesize;
//! - `fwd_alloc` (`f`): memory charged to the socket ahead of use, not holding data yet;
//! - `optmem` (`o`): socket options and ancillary data;
//! - `backlog` (`bl`): packets queued while the socket was locked;
//!
//! — everything the kernel charges to the socket beyond the socket object itself, and
//! nothing twice: `wmem_alloc` (`t`) is left out, as it counts the same outgoing data
//! again while the layers below TCP hold it; `rcvbuf`, `sndbuf` (`rb`, `tb`) are limits,
//! not memory; `drops` is a count. The socket object (`struct tcp_sock`) is the separate
//! slab figure, [`tcp_socket_slab_bytes`].
//!
//! Counted: the sockets in a connected state (established, or closing: FIN-WAIT-1/2,
//! CLOSE-WAIT, LAST-ACK, CLOSING) whose local address and port are the server's — the
//! server's end of every connection to it, never the clients' ends, nor the listening
//! socket, nor TIME-WAIT and SYN-RECV entries (which hold no buffers).
#![allow(unsafe_code)] // the netlink socket: socket, sendto, recv; each explained below

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What the kernel listed for the server's sockets at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketMemory {
    /// Connected sockets whose local address is the server's.
    pub sockets: u64,
    /// The sum of their memory (see the module's list of fields), bytes.
    pub bytes: u64,
}

// Netlink and sock_diag constants (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h).
const NLMSG_HDR: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
/// `struct inet_diag_req_v2`: family, protocol, ext, pad, states (u32), inet_diag_sockid.
const REQ_LEN: usize = 56;
/// `struct inet_diag_msg`: family, state, timer, retrans, sockid (48), 5 × u32.
const DIAG_MSG_LEN: usize = 72;
const INET_DIAG_SKMEMINFO: u16 = 7;
/// Indices into the `SK_MEMINFO_*` array that are memory the socket holds.
const COUNTED_MEMINFO: [usize; 5] = [
    libc::SK_MEMINFO_RMEM_ALLOC as usize,
    libc::SK_MEMINFO_WMEM_QUEUED as usize,
    libc::SK_MEMINFO_FWD_ALLOC as usize,
    libc::SK_MEMINFO_OPTMEM as usize,
    libc::SK_MEMINFO_BACKLOG as usize,
];

/// TCP states (include/net/tcp_states.h) whose sockets are full sockets with buffers:
/// ESTABLISHED 1, FIN_WAIT1 4, FIN_WAIT2 5, CLOSE_WAIT 8, LAST_ACK 9, CLOSING 11 (not
/// SYN_SENT 2, SYN_RECV 3, TIME_WAIT 6, CLOSE 7, LISTEN 10, NEW_SYN_RECV 12).
const CONNECTED_STATES: [u8; 6] = [1, 4, 5, 8, 9, 11];

/// The server's end of every connection to `server` (its listening address), and their
/// memory. Blocking (one netlink dump per address family, a few ms for 20,000
/// sockets): call it from `spawn_blocking`. Only this machine's sockets are listed, so
/// `server` must be local; an error means the kernel would not say.
pub fn server_sockets(server: SocketAddr) -> io::Result<SocketMemory> {
    let mut total = SocketMemory::default();
    // An IPv4 client of a server listening on [::] is served from an IPv6 socket with a
    // v4-mapped address: ask both families.
    for family in [libc::AF_INET, libc::AF_INET6] {
        let found = dump(family as u8, server)?;
        total.sockets += found.sockets;
        total.bytes += found.bytes;
    }
    Ok(total)
}

/// One `SOCK_DIAG_BY_FAMILY` dump of TCP sockets of `family` with local port
/// `server.port()`, summed over those whose local address is `server`'s.
fn dump(family: u8, server: SocketAddr) -> io::Result<SocketMemory> {
    // SAFETY: socket() has no memory preconditions; the fd it returns is owned below.
    let fd = unsafe {
        libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, libc::NETLINK_SOCK_DIAG)
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let request = request(family, server.port());
    // SAFETY: an all-zero sockaddr_nl (pid 0 = the kernel, no groups) is valid.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `request` and `kernel` are valid for the lengths given, for the call's duration.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            request.as_ptr().cast(),
            request.len(),
            0,
            (&raw const kernel).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = SocketMemory::default();
    // The kernel fills each datagram to about its page-sized buffer; 64 KiB always fits one.
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: `buf` is valid and writable for its length for the call's duration.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if parse(&buf[..n as usize], server, &mut found)? == Parsed::Done {
            return Ok(found);
        }
    }
}

/// The dump request: every TCP socket of `family` in a connected state with local port
/// `port` (the kernel filters on the port; [`parse`] checks the address).
fn request(family: u8, port: u16) -> Vec<u8> {
    let len = NLMSG_HDR + REQ_LEN;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel assigns ours
    m.push(family);
    m.push(libc::IPPROTO_TCP as u8);
    m.push(1 << (INET_DIAG_SKMEMINFO - 1)); // idiag_ext: the skmem array
    m.push(0);
    let states: u32 = CONNECTED_STATES.iter().map(|&s| 1u32 << s).sum();
    m.extend_from_slice(&states.to_ne_bytes());
    // inet_diag_sockid: sport, dport (network order), src, dst, interface, cookie.
    m.extend_from_slice(&port.to_be_bytes());
    m.resize(len, 0);
    m
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    More,
    Done,
}

/// Adds the sockets of one datagram of the dump whose local address and port are
/// `local`'s (the address also in its v4-mapped form) to `found`; `Done` at the dump's end.
fn parse(datagram: &[u8], local: SocketAddr, found: &mut SocketMemory) -> io::Result<Parsed> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("sock_diag: {what}"));
    let mut rest = datagram;
    while rest.len() >= NLMSG_HDR {
        let len = u32_at(rest, 0) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < NLMSG_HDR || len > rest.len() {
            return Err(bad("a message runs past its datagram"));
        }
        let body = &rest[NLMSG_HDR..len];
        match kind {
            NLMSG_DONE => return Ok(Parsed::Done),
            NLMSG_ERROR => {
                let code = body.get(..4).map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")));
                return Err(match code {
                    Some(code) if code < 0 => io::Error::from_raw_os_error(-code),
                    _ => bad("an error message without an error"),
                });
            }
            SOCK_DIAG_BY_FAMILY => {
                if let Some(bytes) = socket_memory(body, local)? {
                    found.sockets += 1;
                    found.bytes += bytes;
                }
            }
            _ => {}
        }
        rest = &rest[align(len).min(rest.len())..];
    }
    Ok(Parsed::More)
}

/// The memory of the socket an `inet_diag_msg` describes, if it is one of the server's.
fn socket_memory(msg: &[u8], local: SocketAddr) -> io::Result<Option<u64>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("sock_diag: {what}"));
    if msg.len() < DIAG_MSG_LEN {
        return Err(bad("a socket message shorter than inet_diag_msg"));
    }
    let (family, state, port) = (msg[0], msg[1], u16::from_be_bytes([msg[4], msg[5]]));
    let ours = port == local.port() && is_local(family, &msg[8..24], local.ip());
    if !CONNECTED_STATES.contains(&state) || !ours {
        return Ok(None);
    }
    let mut attrs = &msg[DIAG_MSG_LEN..];
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            return Err(bad("an attribute runs past its message"));
        }
        if kind == INET_DIAG_SKMEMINFO {
            let fields = &attrs[4..len];
            let field = |i: usize| fields.get(i * 4..i * 4 + 4).map_or(0, |b| u32_at(b, 0) as u64);
            return Ok(Some(COUNTED_MEMINFO.iter().map(|&i| field(i)).sum()));
        }
        attrs = &attrs[align(len).min(attrs.len())..];
    }
    Err(bad("a socket without the skmem attribute it was asked for"))
}

/// Whether `src` (a sockid's 16 address bytes, in network order) is `local`.
fn is_local(family: u8, src: &[u8], local: IpAddr) -> bool {
    match (family as i32, local) {
        (libc::AF_INET, IpAddr::V4(ip)) => src[..4] == ip.octets(),
        (libc::AF_INET6, IpAddr::V6(ip)) => src == ip.octets(),
        (libc::AF_INET6, IpAddr::V4(ip)) => src == ip.to_ipv6_mapped().octets(),
        _ => false,
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Netlink messages and attributes start on 4-byte boundaries.
fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// The size of one TCP socket object (`struct tcp_sock` and what the slab adds): the
/// `objsize` of the `TCP` cache (`TCPv6` for an IPv6 server) in `/proc/slabinfo`.
/// `None` where it cannot be read (it is root's only, on most systems).
pub fn tcp_socket_slab_bytes(server: SocketAddr) -> Option<u64> {
    let slabinfo = std::fs::read_to_string("/proc/slabinfo").ok()?;
    slab_object_bytes(&slabinfo, if server.is_ipv4() { "TCP" } else { "TCPv6" })
}

/// `objsize` (the third number) of the cache `name` in a `/proc/slabinfo` text.
fn slab_object_bytes(slabinfo: &str, name: &str) -> Option<u64> {
    slabinfo.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        (fields.next()? == name).then(|| fields.nth(2)?.parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener, TcpStream};

    const TCP_ESTABLISHED: u8 = 1;
    const TCP_LISTEN: u8 = 10;

    /// A listener and `n` connections to it, each accepted: (listener, clients, server ends).
    fn connected(n: usize) -> (TcpListener, Vec<TcpStream>, Vec<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<TcpStream> = (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let accepted = (0..n).map(|_| listener.accept().unwrap().0).collect();
        (listener, clients, accepted)
    }

    #[test]
    fn finds_exactly_the_servers_end_of_every_connection() {
        let (listener, _clients, _accepted) = connected(40);
        let found = server_sockets(listener.local_addr().unwrap()).unwrap();
        // Not the listener, not the 40 client ends (their local port is another).
        assert_eq!(found.sockets, 40, "{found:?}");
        // Idle, nothing queued: a few bytes of forward allocation at most, never negative.
        assert!(found.bytes / found.sockets < 64 * 1024, "{found:?}");
    }

    #[test]
    fn a_listener_with_no_connections_has_none() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(server_sockets(listener.local_addr().unwrap()).unwrap(), SocketMemory::default());
    }

    #[test]
    fn unread_bytes_are_counted_on_the_socket_that_holds_them() {
        let (listener, mut clients, mut accepted) = connected(3);
        let addr = listener.local_addr().unwrap();
        // 20,000 bytes the server's end has not read: at least that much in its rmem_alloc.
        let unread = 20_000;
        clients[1].write_all(&vec![7u8; unread]).unwrap();
        // Wait until it has all arrived: peek does not take it off the queue.
        let mut peek = vec![0u8; unread];
        while accepted[1].peek(&mut peek).unwrap() < unread {
            std::thread::yield_now();
        }
        let queued = server_sockets(addr).unwrap();
        assert_eq!(queued.sockets, 3);
        assert!(queued.bytes >= unread as u64, "{queued:?}");
        // Read, it is gone again (the forward allocation the kernel keeps is under a page per socket).
        accepted[1].read_exact(&mut peek).unwrap();
        let read = server_sockets(addr).unwrap();
        assert!(read.bytes < queued.bytes, "{queued:?} then {read:?}");
    }

    #[test]
    fn a_datagram_is_parsed_socket_by_socket() {
        let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 3000));
        let v4 = libc::AF_INET as u8;
        // One of ours (established, 127.0.0.1:3000); one on 127.0.0.2, one on another
        // port (a client's end), one listening: none of those.
        let ours = diag_msg(v4, TCP_ESTABLISHED, [127, 0, 0, 1], 3000, &[100, 9, 8, 9, 4096, 50, 3, 1, 9]);
        let elsewhere = diag_msg(v4, TCP_ESTABLISHED, [127, 0, 0, 2], 3000, &[1; 9]);
        let client = diag_msg(v4, TCP_ESTABLISHED, [127, 0, 0, 1], 41_000, &[1; 9]);
        let listening = diag_msg(v4, TCP_LISTEN, [127, 0, 0, 1], 3000, &[1; 9]);
        let mut datagram = Vec::new();
        for body in [ours, elsewhere, client, listening] {
            datagram.extend(message(SOCK_DIAG_BY_FAMILY, &body));
        }
        let mut found = SocketMemory::default();
        assert_eq!(parse(&datagram, local, &mut found).unwrap(), Parsed::More);
        // rmem_alloc + wmem_queued + fwd_alloc + optmem + backlog; not wmem_alloc, the buffer sizes or drops.
        assert_eq!(found, SocketMemory { sockets: 1, bytes: 100 + 50 + 4096 + 3 + 1 });
        assert_eq!(parse(&message(NLMSG_DONE, &[0; 4]), local, &mut found).unwrap(), Parsed::Done);
        let refused = message(NLMSG_ERROR, &(-libc::EPERM).to_ne_bytes());
        assert_eq!(parse(&refused, local, &mut found).unwrap_err().raw_os_error(), Some(libc::EPERM));
        assert!(parse(&datagram[..40], local, &mut found).is_err(), "a cut message is an error");
    }

    #[test]
    fn the_slab_size_is_read_from_its_line() {
        let slabinfo = "slabinfo - version: 2.1\n\
            # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables\n\
            TCPv6                 26     26   2496   13    8 : tunables    0    0    0\n\
            request_sock_TCP     168    168    320   12    1 : tunables    0    0    0\n\
            TCP                   92    143   2368   13    8 : tunables    0    0    0\n";
        assert_eq!(slab_object_bytes(slabinfo, "TCP"), Some(2368));
        assert_eq!(slab_object_bytes(slabinfo, "TCPv6"), Some(2496));
        assert_eq!(slab_object_bytes(slabinfo, "UDP"), None);
    }

    fn message(kind: u16, body: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDR + body.len();
        let mut m = (len as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(body);
        m.resize(align(len), 0);
        m
    }

    fn diag_msg(family: u8, state: u8, src: [u8; 4], port: u16, meminfo: &[u32]) -> Vec<u8> {
        let mut m = vec![family, state, 0, 0];
        m.extend_from_slice(&port.to_be_bytes());
        m.extend_from_slice(&[0; 2]);
        m.extend_from_slice(&src);
        m.resize(DIAG_MSG_LEN, 0);
        let attr_len = 4 + meminfo.len() * 4;
        m.extend_from_slice(&(attr_len as u16).to_ne_bytes());
        m.extend_from_slice(&INET_DIAG_SKMEMINFO.to_ne_bytes());
        meminfo.iter().for_each(|v| m.extend_from_slice(&v.to_ne_bytes()));
        m
    }
}
