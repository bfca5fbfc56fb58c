//! pushlab-link: what a real network does to a TCP connection, on loopback.
//!
//! On loopback the four push transports are indistinguishable; their trade-offs (a
//! round trip per long-poll answer, head-of-line blocking after a loss, polling's
//! interval against the delay) only show on a link with delay, limited bandwidth and
//! loss. This crate puts one between each client and the server:
//!
//! - [`spec`]: a link — one-way delay, jitter, bandwidth and loss per direction — and
//!   the named profiles (`lan`, `wifi`, `4g`, `3g`, `satellite`, `lossy`), whose
//!   figures and sources are in `docs/methodology.md`.
//! - [`pacer`]: when each byte arrives at the other end: serialization at the link's
//!   bandwidth, delay with jitter that never reorders a stream, a lost segment stalling
//!   its stream for a retransmission timeout with everything behind it waiting.
//! - [`relay`]: one connection, a task per direction, no per-byte work.
//! - [`emulator`]: a loopback listener on its own thread relaying every connection to
//!   the server, with its own CPU measured so a result can say when it got in the way.
//! - [`netem`]: the kernel's emulator: whether this kernel has `tc netem` (probed in a
//!   throwaway namespace; this machine's has not), which emulator a run uses
//!   (`--emulator auto|builtin|netem`, recorded with every run), and a spec as the
//!   netem qdiscs of the veth below.
//! - [`netns`]: the netem path's wiring: a network namespace of the run's own, a veth
//!   pair into it, a thread inside that creates the clients' sockets there.
//!
//! Cost of the built-in emulator: each relayed byte is read and written once more (two syscalls per chunk, about
//! 7–10 µs each on a small loopback send), one timer per delivery instant.

pub mod emulator;
pub mod netem;
pub mod netns;
pub mod pacer;
pub mod relay;
pub mod spec;

pub use emulator::{Emulator, EmulatorCounts};
pub use netem::{EmulatorChoice, EmulatorKind, netem_status};
pub use netns::{Namespace, Veth};
pub use spec::{LinkFigures, LinkSpec};
