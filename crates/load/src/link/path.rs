//! Which emulator an invocation's links go over (`--emulator auto|builtin|netem`), and
//! for netem the namespace its clients' sockets live in, made once and shared by the
//! runs (each run sets its own qdiscs).
//!
//! ```text
//! builtin:  client ──loopback──► emulator thread (per connection) ──loopback──► server
//! netem:    client (namespace) ══ veth, netem each way ══► server on the veth's address
//!           (`run`, whose server is already up elsewhere: … ══► forwarder ──► server)
//! ```
//!
//! `compare` starts each server on the veth's root-side address ([`LinkPath::server_listen`]);
//! `run` loads a server it did not start, usually on loopback, which the namespace cannot
//! reach, so a plain forwarder on the veth's address relays to it
//! ([`LinkPath::forward`]): a user-space copy in the root namespace, with no link of
//! its own, after netem's.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;
use pushlab_link::netns::Side;
use pushlab_link::{Emulator, EmulatorChoice, EmulatorKind, LinkSpec, Namespace, Veth, netem, netem_status};

use crate::net::{Target, Via};

/// `--emulator`, on `run` and `compare`.
#[derive(Debug, Clone, Args)]
pub struct EmulatorFlag {
    /// What carries --link: builtin (a relay per connection, in user space), netem (tc
    /// netem on a veth into a network namespace of the run's own, needs root and a
    /// kernel with netem; bandwidth shared by all clients) or auto (netem where this
    /// kernel has it, else builtin). The results say which (link.emulator).
    #[arg(long = "emulator", env = "PUSHLAB_LOAD_EMULATOR", default_value = "auto", value_parser = emulator_choice)]
    pub choice: EmulatorChoice,
}

fn emulator_choice(text: &str) -> Result<EmulatorChoice, String> {
    text.parse()
}

/// The emulator of an invocation; dropping it deletes the netem path's namespace.
#[derive(Debug)]
pub struct LinkPath {
    namespace: Option<Namespace>,
}

impl LinkPath {
    /// What `choice` means here, for an invocation with links (`any_link`) or without
    /// (then no emulator is needed and nothing is made). `netem` on a kernel without it
    /// is an error quoting the probe.
    pub fn choose(choice: EmulatorChoice, any_link: bool) -> anyhow::Result<Self> {
        if !any_link {
            return Ok(Self { namespace: None });
        }
        let namespace = match netem::choose(choice, netem_status())? {
            EmulatorKind::Builtin => None,
            EmulatorKind::Netem => {
                Some(Namespace::create().context("making the netem path's namespace and veth (needs root)")?)
            }
        };
        Ok(Self { namespace })
    }

    /// The netem path's namespace and veth without netem on it: for shaping it with
    /// another qdisc (the tests' `tbf`, on a kernel without netem).
    pub fn wiring_only() -> anyhow::Result<Self> {
        let namespace = Namespace::create().context("making a namespace and veth (needs root)")?;
        Ok(Self { namespace: Some(namespace) })
    }

    /// The veth into the namespace, on the netem path.
    pub fn veth(&self) -> Option<Veth> {
        self.namespace.as_ref().map(Namespace::veth)
    }

    pub fn kind(&self) -> EmulatorKind {
        if self.namespace.is_some() { EmulatorKind::Netem } else { EmulatorKind::Builtin }
    }

    /// A line for the terminal before the runs: which emulator, and how it is wired.
    pub fn describe(&self) -> String {
        match &self.namespace {
            None => format!("the built-in emulator, per connection (tc netem: {})", netem_status()),
            Some(ns) => {
                let veth = ns.veth();
                format!(
                    "tc netem on veth {} ⇄ {} (namespace {}, clients from {}, server side {}); \
                     its bandwidth is shared by all clients of a run",
                    veth.device(Side::Root),
                    veth.device(Side::Inside),
                    veth.namespace(),
                    veth.inside_addr(),
                    veth.root_addr()
                )
            }
        }
    }

    /// Where a server this suite starts listens: on the veth's root side for netem
    /// (the only address the namespace reaches), on loopback otherwise.
    pub fn server_listen(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}:0", ns.veth().root_addr()),
            None => "127.0.0.1:0".into(),
        }
    }

    /// Sends `server`'s clients through the namespace, to the server's own address
    /// (one listening on [`Self::server_listen`]). Nothing for the built-in emulator.
    pub fn attach(&self, server: &mut Target) {
        if let Some(ns) = &self.namespace {
            server.via = Some(Via { veth: ns.veth(), addr: server.addr });
        }
    }

    /// For a server this suite did not start: a forwarder on the veth's root side
    /// relaying to `server`, which its clients are sent to; keep it for the run.
    /// Nothing for the built-in emulator.
    pub fn forward(&self, server: &mut Target) -> anyhow::Result<Option<Emulator>> {
        let Some(ns) = &self.namespace else { return Ok(None) };
        let veth = ns.veth();
        let listen = SocketAddr::new(veth.root_addr().into(), 0);
        let forwarder = Emulator::start(LinkSpec::none("forward"), server.addr, listen, 0)
            .context("starting the forwarder from the netem path's veth to the server")?;
        server.via = Some(Via { veth, addr: forwarder.addr() });
        Ok(Some(forwarder))
    }
}
