//! The catalogue's tables: every group and every figure of a run record, one per line.

use super::Better::{Higher, Lower, Neither};
use super::Unit::*;
use super::{Better, Figure, Group, Unit};

// A figure is declared as `fig(key, label, unit, better)` and these.
impl Figure {
    const fn short(self, short: &'static str) -> Self {
        Figure { short, ..self }
    }
    const fn about(self, about: &'static str) -> Self {
        Figure { about, ..self }
    }
    const fn measured_if(self, key: &'static str) -> Self {
        Figure { measured_if: Some(key), ..self }
    }
    const fn nonzero_is_a_problem(self) -> Self {
        Figure { nonzero_is_a_problem: true, ..self }
    }
}

/// A figure whose short label is its label, until `.short()` says otherwise.
const fn fig(key: &'static str, label: &'static str, unit: Unit, better: Better) -> Figure {
    Figure {
        key,
        label,
        short: label,
        unit,
        better,
        measured_if: None,
        nonzero_is_a_problem: false,
        about: "",
    }
}

#[rustfmt::skip] // a table: one group per line
pub const GROUPS: &[Group] = &[
    Group { key: "run", label: "Run", about: "the settings of this run" },
    Group { key: "latency_us", label: "Latency", about: "client receive time − the tick's ts_us, per tick" },
    Group { key: "ticks", label: "Ticks", about: "ticks with ts_us in the window, summed over clients" },
    Group { key: "requests", label: "Requests", about: "HTTP requests and WebSocket handshakes sent" },
    Group { key: "wire", label: "Wire bytes", about: "on the client sockets, headers and framing included" },
    Group { key: "server", label: "Server", about: "the server process, and the kernel's memory for its sockets" },
    Group { key: "connect", label: "Connect", about: "time to the first response or the completed handshake" },
    Group { key: "reconnect", label: "Reconnects", about: "how clients came back from broken connections, whole run" },
    Group { key: "errors", label: "Errors by kind", about: "failed connects, requests, streams, handshakes" },
    Group { key: "loadgen", label: "Load generator", about: "pushlab-load itself, on the same machine" },
    Group { key: "cluster", label: "Cluster", about: "a broker-fed cluster: nats-server, a publisher and the replicas the clients used" },
    Group { key: "workers", label: "Workers", about: "a run spread over several load-generator processes (--workers) and servers" },
    Group { key: "link", label: "Link", about: "the emulated network between each client and the server (--link)" },
    Group { key: "proxy", label: "Proxy", about: "what stood between the clients and the server (--via), and what it did to the transport" },
    Group { key: "protocol", label: "TLS and HTTP/2", about: "a run over --tls or --http2: streams per connection, memory per TCP connection, TLS's own bytes" },
    Group { key: "radio", label: "Radio (model)", about: "a model applied to measured timings: what the clients' socket activity would cost a phone's radio" },
    Group { key: "recovery", label: "Recovery", about: "from the fault's instant to each client's first tick over a new connection" },
    Group { key: "peak", label: "Peak after the fault", about: "the busiest 100 ms after the fault (recycling: of the window)" },
];

/// Latency percentiles mean nothing for a run that timed no tick.
const TIMED: &str = "latency_us.count";
/// Per-tick figures divide by the ticks delivered.
const DELIVERED: &str = "ticks.delivered";
/// Kernel socket memory was measured per socket (sock_diag) only if the kernel listed
/// the server's sockets; a file from before that has the machine-wide figure instead,
/// which is not this one.
const SOCKETS: &str = "server.tcp_sockets_with_clients";

// One figure per line (two when long): rustfmt would give each up to four, and the
// table would no longer read as a table.
#[rustfmt::skip]
pub const FIGURES: &[Figure] = &[
    fig("clients", "clients", Count, Neither).about("clients connected at once"),
    fig("rate", "tick rate", PerSecond, Neither).about("ticks the server published per second, all symbols"),
    fig("poll_interval_ms", "poll interval", Milliseconds, Neither).about("how often a polling client asks"),
    fig("keepalive_ms", "server keepalive", Milliseconds, Neither)
        .about("an SSE comment or WebSocket ping this often on an idle stream (--keepalive; 15 s by default)"),
    fig("window_s", "measurement window", Seconds, Neither).about("the time the figures cover"),
    fig("drain_s", "drain after the window", Seconds, Neither)
        .about("how long the window's ticks were still waited for"),

    fig("latency_us.count", "latency samples", Count, Neither)
        .short("ticks timed").about("ticks whose latency was recorded"),
    fig("latency_us.min", "latency min", Microseconds, Lower)
        .short("min").about("the fastest tick").measured_if(TIMED),
    fig("latency_us.mean", "latency mean", Microseconds, Lower)
        .short("mean").about("the average over every tick").measured_if(TIMED),
    fig("latency_us.p50", "latency p50", Microseconds, Lower)
        .short("p50").about("half the ticks arrived faster").measured_if(TIMED),
    fig("latency_us.p90", "latency p90", Microseconds, Lower)
        .short("p90").about("90 % of the ticks arrived faster").measured_if(TIMED),
    fig("latency_us.p99", "latency p99", Microseconds, Lower)
        .short("p99").about("99 % of the ticks arrived faster").measured_if(TIMED),
    fig("latency_us.p999", "latency p99.9", Microseconds, Lower)
        .short("p99.9").about("99.9 % of the ticks arrived faster").measured_if(TIMED),
    fig("latency_us.max", "latency max", Microseconds, Lower)
        .short("max").about("the slowest tick").measured_if(TIMED),

    fig("ticks.delivered", "ticks delivered", Count, Higher)
        .short("delivered").about("unique ticks received"),
    fig("ticks.expected", "ticks expected", Count, Neither)
        .short("expected").about("ticks the server generated for the clients' filter × clients"),
    fig("ticks.lost", "ticks lost", Count, Lower)
        .short("lost").about("expected ticks not received, within an epoch of the server's log").nonzero_is_a_problem(),
    fig("ticks.gap_missed", "ticks announced as missed", Count, Lower)
        .short("announced as missed").about("the lost ticks the server announced as evicted")
        .nonzero_is_a_problem(),
    fig("ticks.duplicates", "duplicate ticks", Count, Lower)
        .short("duplicates").about("ticks a client received more than once").nonzero_is_a_problem(),
    fig("ticks.out_of_order", "ticks out of order", Count, Lower)
        .short("out of order").about("ticks received after a higher seq").nonzero_is_a_problem(),
    fig("ticks.expected_per_client", "ticks expected per client", Count, Neither)
        .short("expected per client").about("ticks each client should have received"),

    fig("requests.total", "requests in window", Count, Lower)
        .short("in window").about("requests and handshakes sent in the window"),
    fig("requests.per_client_per_min", "requests per client per minute", PerClientPerMinute, Lower)
        .short("per client per minute").about("what each client asks of the server's HTTP machinery"),
    fig("requests.empty", "empty answers", Count, Lower).about("poll and long-poll answers with no tick"),
    fig("requests.late", "late polls", Count, Lower)
        .about("polls answered after their next slot had begun").nonzero_is_a_problem(),

    fig("wire.bytes_read", "wire bytes read", Bytes, Lower).short("read").about("bytes the clients read"),
    fig("wire.bytes_written", "wire bytes written", Bytes, Lower)
        .short("written").about("bytes the clients wrote"),
    fig("wire.bytes_per_tick", "wire bytes per tick", Bytes, Lower)
        .short("per delivered tick").about("(read + written) ÷ ticks delivered").measured_if(DELIVERED),

    fig("server.cpu_s", "server CPU in window", Seconds, Lower)
        .short("CPU in window").about("user + system CPU time of the server"),
    fig("server.cpu_us_per_tick", "server CPU per tick", Microseconds, Lower)
        .short("CPU per delivered tick").about("server CPU time ÷ ticks delivered").measured_if(DELIVERED),
    fig("server.cpu_per_tick_sends", "server CPU per tick, in sends", Multiple, Lower)
        .short("CPU per delivered tick, in sends")
        .about("CPU per delivered tick ÷ this machine's calibrated send() to a waiting reader")
        .measured_if(DELIVERED),
    fig("server.rss_before_bytes", "server RSS before clients", Bytes, Neither)
        .short("RSS before clients").about("resident memory before the first client")
        .measured_if("server.rss_before_bytes"),
    fig("server.rss_with_clients_bytes", "server RSS with all connected", Bytes, Lower)
        .short("RSS with all connected").about("resident memory with every client connected")
        .measured_if("server.rss_with_clients_bytes"),
    fig("server.heap_before_bytes", "server heap before clients", Bytes, Neither)
        .short("heap before clients").about("live heap before the first client"),
    fig("server.heap_with_clients_bytes", "server heap with all connected", Bytes, Lower)
        .short("heap with all connected").about("live heap with every client connected"),
    fig("server.rss_per_conn_bytes", "server RSS per connection", Bytes, Lower)
        .short("RSS per connection").about("RSS growth ÷ clients").measured_if("clients"),
    fig("server.heap_per_conn_bytes", "server heap per connection", Bytes, Lower)
        .short("heap per connection").about("heap growth ÷ clients").measured_if("clients"),
    fig("server.tcp_mem_per_conn_bytes", "kernel TCP buffers per connection", Bytes, Lower)
        .about("memory the kernel holds for the server's sockets' data (sock_diag skmem), with all connected ÷ clients")
        .measured_if(SOCKETS),
    fig("server.tcp_mem_before_bytes", "kernel TCP buffers before clients", Bytes, Neither)
        .about("the same, summed over the server's connected sockets before the first client").measured_if(SOCKETS),
    fig("server.tcp_mem_with_clients_bytes", "kernel TCP buffers with all connected", Bytes, Lower)
        .about("the same, summed over the server's connected sockets with every client connected")
        .measured_if(SOCKETS),
    fig("server.tcp_sockets_before", "server TCP sockets before clients", Count, Neither)
        .short("TCP sockets before clients").about("the server's connected sockets the kernel listed before")
        .measured_if(SOCKETS),
    fig("server.tcp_sockets_with_clients", "server TCP sockets with all connected", Count, Neither)
        .short("TCP sockets with all connected")
        .about("the server's connected sockets the kernel listed with every client connected"),
    fig("server.tcp_socket_slab_bytes", "kernel TCP socket object", Bytes, Lower)
        .about("slab object size of one TCP socket (/proc/slabinfo): what each connection costs the kernel beside its buffers"),
    fig("server.cpu_source", "server CPU measured from", Text, Neither)
        .short("CPU measured from").about("proc: /proc/<pid>/stat; stats: the server's /api/stats"),

    fig("connect.count", "connects timed", Count, Neither).about("connections (and polls' responses) timed"),
    fig("connect.p50_us", "connect p50", Microseconds, Lower)
        .short("p50").about("half the connects were faster").measured_if("connect.count"),
    fig("connect.p99_us", "connect p99", Microseconds, Lower)
        .short("p99").about("99 % of the connects were faster").measured_if("connect.count"),
    fig("connect.max_us", "connect max", Microseconds, Lower)
        .short("max").about("the slowest connect").measured_if("connect.count"),
    fig("connect.first_tick_count", "clients timed to a first tick", Count, Neither)
        .short("clients timed").about("clients that received a tick, each timed once"),
    fig("connect.first_tick_p50_us", "time to first tick p50", Microseconds, Lower)
        .short("first tick p50").about("from starting the first connect to the first tick in hand, per client")
        .measured_if("connect.first_tick_count"),
    fig("connect.first_tick_p99_us", "time to first tick p99", Microseconds, Lower)
        .short("first tick p99").about("99 % of the clients had their first tick sooner").measured_if("connect.first_tick_count"),

    fig("reconnect.attempts", "reconnect attempts", Count, Lower)
        .short("attempts").about("connections clients opened after their first"),
    fig("reconnect.refused", "connects refused", Count, Lower)
        .short("refused").about("connects the kernel refused (ECONNREFUSED): nothing was listening"),
    fig("reconnect.status_503", "503 answers", Count, Lower)
        .short("503s").about("answers 503: the server at its connection cap"),
    fig("reconnect.resets", "resets", Count, Neither)
        .short("resets").about("the server said a cursor was of another run: what was missed across it is unknown"),
    fig("reconnect.ended", "clients that gave up", Count, Lower)
        .short("ended").about("clients that did not reconnect (--reconnect none)"),

    fig("errors.*", "errors", Count, Lower).about("failures of this kind").nonzero_is_a_problem(),

    fig("loadgen.cpu_s", "load generator CPU in window", Seconds, Lower)
        .short("CPU in window").about("user + system CPU time of pushlab-load"),
    fig("loadgen.cpu_pct", "load generator CPU", PercentOfCore, Lower)
        .short("CPU (of one core)").about("CPU time ÷ window: near 100 %, its own delays are in the latency"),
    fig("loadgen.rss_bytes", "load generator RSS", Bytes, Lower)
        .short("RSS").about("resident memory at the window's end").measured_if("loadgen.rss_bytes"),
    fig("loadgen.heap_bytes", "load generator heap", Bytes, Lower)
        .short("heap").about("live heap at the window's end"),
    fig("loadgen.heap_per_client_bytes", "load generator heap per client", Bytes, Lower)
        .short("heap per client").about("heap growth since before the clients ÷ clients")
        .measured_if("clients"),
    fig("loadgen.host_load_1m", "machine load average (1 min)", Number, Lower)
        .about("runnable threads, this run's own included: above the core count the CPU was contended, by whom it can't say")
        .measured_if("loadgen.host_load_1m"),

    fig("workers.count", "load generator processes", Count, Neither)
        .short("workers").about("--workers: child processes the clients were spread over, each ≤ 19,000")
        .measured_if("workers.count"),
    fig("workers.busiest_cpu_pct", "busiest worker's CPU", PercentOfCore, Lower)
        .short("busiest worker").about("the most any one worker used: near 100 %, it set its clients' pace")
        .measured_if("workers.count"),
    fig("workers.moved_clients", "clients moved to another server", Count, Neither)
        .short("moved clients").about("clients whose server refused them (gone) and who went on to the next one")
        .measured_if("workers.count"),
    fig("workers.moves", "moves to another server", Count, Neither)
        .short("moves").about("every move of every client to the next server in the ring")
        .measured_if("workers.count"),

    fig("cluster.replicas", "replicas", Count, Neither)
        .about("broker-fed replicas the clients were spread over; the publisher served none")
        .measured_if("cluster.replicas"),
    fig("cluster.killed_replica", "replica killed", Text, Neither)
        .short("killed").about("the replica killed (SIGKILL) during the window: its clients had to move")
        .measured_if("cluster.killed_replica"),
    fig("cluster.killed_at_s", "replica killed at", Seconds, Neither)
        .short("killed at").about("seconds into the window").measured_if("cluster.killed_replica"),
    fig("cluster.broker_cpu_s", "broker CPU", Seconds, Lower)
        .short("broker CPU").about("nats-server's user + system CPU over the whole run, from /proc")
        .measured_if("cluster.replicas"),
    fig("cluster.broker_rss_bytes", "broker RSS", Bytes, Lower)
        .short("broker RSS").about("nats-server's resident memory at the run's end")
        .measured_if("cluster.replicas"),

    fig("link.name", "link", Text, Neither).about("the profile (or custom) the clients' connections went over"),
    fig("link.spec", "link spec", Text, Neither).short("spec").about("the link in full, as --link takes it"),
    fig("link.rtt_ms", "link round trip", Milliseconds, Neither).short("RTT").about("one-way delay there and back"),
    fig("link.jitter_ms", "link jitter", Milliseconds, Neither)
        .short("jitter").about("each direction's delay varies by up to this either way, never reordering"),
    fig("link.down_kbit_s", "link bandwidth down, kbit/s", Number, Neither)
        .short("down kbit/s").about("server to client").measured_if("link.down_kbit_s"),
    fig("link.up_kbit_s", "link bandwidth up, kbit/s", Number, Neither)
        .short("up kbit/s").about("client to server").measured_if("link.up_kbit_s"),
    fig("link.loss_pct", "link loss, % of segments", Number, Neither)
        .short("loss %").about("the share of TCP segments lost in each direction"),
    fig("link.rto_ms", "retransmission timeout", Milliseconds, Neither)
        .short("RTO").about("a lost segment stalls its stream this long: max(200 ms, RTT + 4 × jitter)"),
    fig("link.emulator", "link emulator", Text, Neither).short("emulator")
        .about("what carried the connections: builtin (a relay per connection) or netem (the kernel, on a veth shared by the run's clients)"),
    fig("link.netem", "tc netem on this kernel", Text, Neither).short("netem").about("probed in a throwaway namespace"),
    fig("link.emulator_cpu_s", "emulator CPU in window", Seconds, Lower)
        .short("emulator CPU").about("user + system CPU of the built-in emulator's thread; not measured for netem (the kernel's softirq work)"),
    fig("link.emulator_cpu_pct", "emulator CPU", PercentOfCore, Lower)
        .short("emulator CPU (of its core)").about("near 100 % the emulator's delays are in the latency"),
    fig("link.segments", "segments through the link", Count, Neither)
        .short("segments").about("whole run, both directions: TCP segments the built-in emulator paced, or packets netem's qdiscs were given (ACKs included)"),
    fig("link.segments_lost", "segments lost on the link", Count, Neither)
        .short("lost").about("built-in: each stalled its stream for a retransmission timeout; netem: packets its qdiscs dropped, which TCP retransmits as it would"),

    fig("proxy.via", "proxy", Text, Neither).about("direct, nginx-default, nginx-tuned or buffering-proxy (docs/proxies.md)"),
    fig("proxy.outcome", "proxy outcome", Text, Neither)
        .short("outcome").about("works, broken, slowed or cut, beside the same run direct (docs/methodology.md)"),
    fig("proxy.outcome_detail", "proxy outcome, why", Text, Neither).short("why").about("what the outcome rests on"),
    fig("proxy.server", "proxy server", Text, Neither).short("server").about("nginx -v"),
    fig("proxy.read_timeout_s", "proxy read timeout", Seconds, Neither)
        .short("read timeout").about("proxy_read_timeout: a request whose upstream says nothing this long is cut")
        .measured_if("proxy.read_timeout_s"),
    fig("proxy.config", "proxy configuration", Text, Neither).short("config").about("the lines that differ between the modes"),
    fig("proxy.stream_keepalive", "server stream keepalive", Text, Neither)
        .short("keepalive").about("the server's SSE comment / WebSocket ping period in this run, or off"),
    fig("proxy.requests", "requests the proxy logged", Count, Neither)
        .short("requests logged").about("whole run, from the proxy's access log"),
    fig("proxy.status", "proxy's answers", Text, Neither).short("answers").about("statuses the proxy sent the clients, whole run"),
    fig("proxy.upstream_timeouts", "requests cut by the read timeout", Count, Lower)
        .short("cut").about("from the proxy's error log: the upstream sent nothing for proxy_read_timeout")
        .nonzero_is_a_problem(),
    fig("proxy.cut_after_s", "cut after", Seconds, Neither)
        .short("cut after").about("how long the median cut request had lasted").measured_if("proxy.upstream_timeouts"),

    fig("protocol.name", "protocol", Text, Neither).about("HTTP/1.1 or HTTP/2, over TLS"),
    fig("protocol.streams_per_connection", "streams per TCP connection", Count, Neither)
        .short("streams per connection").about("clients whose requests share one connection (HTTP/2 multiplexing)"),
    fig("protocol.connections", "server TLS connections open", Count, Neither)
        .short("TCP connections").about("the server's count with all connected, less the load generator's own"),
    fig("protocol.rss_per_tcp_conn_bytes", "server RSS per TCP connection", Bytes, Lower)
        .short("RSS per connection").about("RSS growth ÷ TCP connections (server.rss_per_conn_bytes is per stream)")
        .measured_if("protocol.connections"),
    fig("protocol.heap_per_tcp_conn_bytes", "server heap per TCP connection", Bytes, Lower)
        .short("heap per connection").about("heap growth ÷ TCP connections").measured_if("protocol.connections"),
    fig("protocol.plaintext_bytes_per_tick", "bytes above TLS per tick", Bytes, Lower)
        .short("HTTP bytes per tick").about("HTTP/1.1 text or HTTP/2 frames (HPACK headers, DATA) ÷ delivered ticks")
        .measured_if(DELIVERED),
    fig("protocol.tls_overhead_bytes_per_tick", "TLS overhead per tick", Bytes, Lower)
        .short("TLS per tick").about("wire bytes less the bytes above TLS (record headers, tags, handshakes) ÷ ticks")
        .measured_if(DELIVERED),
    fig("protocol.h2_headers_bytes_per_tick", "HTTP/2 HEADERS bytes per tick", Bytes, Lower)
        .short("HEADERS per tick").about("HEADERS and CONTINUATION frames (HPACK blocks, 9-byte frame headers) ÷ ticks")
        .measured_if(DELIVERED),
    fig("protocol.h2_data_bytes_per_tick", "HTTP/2 DATA bytes per tick", Bytes, Lower)
        .short("DATA per tick").about("DATA frames (bodies, 9-byte frame headers) ÷ ticks").measured_if(DELIVERED),
    fig("protocol.h2_control_bytes_per_tick", "HTTP/2 control bytes per tick", Bytes, Lower)
        .short("control per tick").about("preface, SETTINGS, PING, WINDOW_UPDATE and the other frames ÷ ticks")
        .measured_if(DELIVERED),
    fig("protocol.server_h2_streams_open", "server HTTP/2 streams open", Count, Neither)
        .short("h2 streams").about("with all connected (/api/stats connections.tls)"),
    fig("protocol.server_h2_connections_open", "server HTTP/2 connections open", Count, Neither)
        .short("h2 connections").about("TLS connections that chose h2 in ALPN, with all connected"),
    fig("protocol.server_h1_tls_connections_open", "server HTTP/1.1 TLS connections open", Count, Neither)
        .short("h1 TLS connections").about("less the load generator's own stats request"),

    fig("radio.lte_active_s_per_min", "radio active per minute, LTE model", Seconds, Lower)
        .about("a model applied to measured timings: seconds a phone's LTE radio would be out of idle, per minute"),
    fig("radio.lte_wakeups_per_min", "radio wake-ups, LTE model", PerClientPerMinute, Lower)
        .short("wake-ups").about("promotions from idle per client per minute (model)"),
    fig("radio.lte_j_per_hour", "radio energy, LTE model, J/h per client", Number, Lower)
        .short("J/h").about("above idle, per client per hour (model)"),
    fig("radio.umts_active_s_per_min", "radio active per minute, 3G model", Seconds, Lower)
        .about("a model applied to measured timings: seconds a phone's 3G radio would be in DCH or FACH, per minute"),
    fig("radio.umts_wakeups_per_min", "radio wake-ups, 3G model", PerClientPerMinute, Lower)
        .short("wake-ups").about("promotions from idle per client per minute (model)"),
    fig("radio.umts_j_per_hour", "radio energy, 3G model, J/h per client", Number, Lower)
        .short("J/h").about("above idle, per client per hour (model)"),
];

/// The calibration of the machine, once per results file: its keys are paths in the
/// results document (`calibration.send_cpu_us.median`), not in a run. Measured by
/// `pushlab-load`'s `calibrate.rs`, defined in `docs/methodology.md`.
#[rustfmt::skip]
pub const CALIBRATION: &[Figure] = &[
    fig("calibration.send_cpu_us.median", "send() CPU to a waiting reader, median", Microseconds, Neither)
        .short("median").about("CPU of one small send() on loopback TCP to a peer blocked in recv(): the unit of \"in sends\""),
    fig("calibration.send_cpu_us.min", "send() CPU to a waiting reader, fastest round", Microseconds, Neither)
        .short("min").about("the round with the cheapest sends"),
    fig("calibration.send_cpu_us.max", "send() CPU to a waiting reader, slowest round", Microseconds, Neither)
        .short("max").about("the round with the dearest sends: far above the median, the machine was busy"),
    fig("calibration.send_queued_cpu_us.median", "send() CPU, nobody waiting, median", Microseconds, Neither)
        .short("median").about("the same send() when the peer is not reading: the bytes are only queued"),
    fig("calibration.send_queued_cpu_us.min", "send() CPU, nobody waiting, fastest round", Microseconds, Neither)
        .short("min").about("the round with the cheapest sends"),
    fig("calibration.send_queued_cpu_us.max", "send() CPU, nobody waiting, slowest round", Microseconds, Neither)
        .short("max").about("the round with the dearest sends"),
    fig("calibration.recv_cpu_us.median", "recv() CPU, median", Microseconds, Neither)
        .short("median").about("CPU of one recv() returning one such message, already queued"),
    fig("calibration.recv_cpu_us.min", "recv() CPU, fastest round", Microseconds, Neither)
        .short("min").about("the round with the cheapest receives"),
    fig("calibration.recv_cpu_us.max", "recv() CPU, slowest round", Microseconds, Neither)
        .short("max").about("the round with the dearest receives"),
    fig("calibration.rtt_p50_us", "loopback round trip p50", Microseconds, Neither)
        .short("p50").about("wall time of one message there and back, with an echo thread"),
    fig("calibration.rtt_p99_us", "loopback round trip p99", Microseconds, Neither)
        .short("p99").about("99 % of the round trips were faster"),
    fig("calibration.message_bytes", "calibration message size", Bytes, Neither)
        .short("message size").about("bytes per send() and recv(): about one tick as an SSE event"),
    fig("calibration.rounds", "calibration rounds", Count, Neither)
        .short("rounds").about("rounds of each CPU figure; median and spread are over them"),
    fig("calibration.messages_per_round", "messages per round", Count, Neither)
        .about("send() or recv() calls each round timed, per kind"),
    fig("calibration.round_trips", "round trips timed", Count, Neither).about("ping-pongs behind the p50 and p99"),
    fig("calibration.host_load_1m", "machine load average (1 min) at calibration", Number, Lower)
        .short("load average (1 min)").about("above the core count the CPU was contended and the sends cost more")
        .measured_if("calibration.host_load_1m"),
];

/// What a fault did to one transport (a results file's `faults`, the faults preset's):
/// keys are paths in a fault record. The ticks, reconnect and error figures it shares
/// with a run record are the run's ([`FIGURES`]). Measured by `pushlab-load`'s
/// `faults/`, defined in `docs/methodology.md` ("Recovery time").
#[rustfmt::skip]
pub const FAULTS: &[Figure] = &[
    fig("fault", "fault", Text, Neither)
        .about("restart: SIGTERM, new server; crash: SIGKILL, new server; recycle: --stream-max-age; storm: SIGKILL with thousands connected"),
    fig("reconnect_policy", "reconnect policy", Text, Neither)
        .about("jitter: SSE after retry:, others exponential back-off with full jitter; fixed: a constant delay; none: no reconnect"),
    fig("stream_max_age_ms", "stream max age", Milliseconds, Neither)
        .about("the server's --stream-max-age (±10 % per stream)").measured_if("stream_max_age_ms"),
    fig("strike_at_s", "fault at", Seconds, Neither).about("when the fault struck, after the window began"),
    fig("recovery.count", "recoveries timed", Count, Neither)
        .short("recovered").about("clients that recovered (recycling: stream ends recovered from)"),
    fig("recovery.p50_us", "recovery p50", Microseconds, Lower)
        .short("p50").about("half the clients had a tick again sooner").measured_if("recovery.count"),
    fig("recovery.p99_us", "recovery p99", Microseconds, Lower)
        .short("p99").about("99 % of the clients had a tick again sooner").measured_if("recovery.count"),
    fig("recovery.max_us", "recovery max", Microseconds, Lower)
        .short("max").about("the last client to recover").measured_if("recovery.count"),
    fig("recovery.not_recovered", "clients not recovered", Count, Lower)
        .short("not recovered").about("clients still without a tick when the run ended").nonzero_is_a_problem(),
    fig("peak.server_cpu_pct", "server CPU peak", PercentOfCore, Lower)
        .short("server CPU").about("the serving process's CPU in its busiest 100 ms, % of one core"),
    fig("peak.connects_per_s", "connection rate peak", PerSecond, Neither)
        .short("connects").about("TCP connects the clients completed in the busiest 100 ms, per second"),
    fig("peak.refused_per_s", "refused connects peak", PerSecond, Lower)
        .short("refused").about("connects refused in the worst 100 ms, per second"),
    fig("server_streams_recycled", "streams the server recycled", Count, Neither)
        .about("SSE streams and WebSockets ended by --stream-max-age, as /api/stats counts them"),
    fig("loadgen_cpu_pct", "load generator CPU", PercentOfCore, Lower)
        .about("pushlab-load's CPU over the window: near 100 %, its own delays are in the recovery times"),
];
