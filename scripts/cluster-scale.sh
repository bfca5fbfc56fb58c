#!/usr/bin/env bash
# Many connections over a broker-fed cluster: nats-server, a publisher serving no
# client, REPLICAS replicas, and one `pushlab-load run` process per replica (each under
# the 20,000-descriptor limit of one process), all at once. Samples the whole machine's
# memory (/proc/meminfo) and socket memory (/proc/net/sockstat) while every client is
# connected, and the broker's CPU and memory (/proc/<pid>).
#
# Each load process measures its own clients; their histograms are not merged here, so
# the file keeps one run per replica (`replica=N`), each with its own p50 and p99.
#
# Usage: scripts/cluster-scale.sh TRANSPORT TOTAL_CLIENTS [REPLICAS] [RATE] [DURATION]
#        (writes results/cluster-scale-<transport>.json)
set -euo pipefail
cd "$(dirname "$0")/.."
transport=$1
total=$2
replicas=${3:-6}
rate=${4:-1}
duration=${5:-30s}
ramp=${PUSHLAB_SCALE_RAMP:-60s}
bin=target/release
port=${PUSHLAB_SCALE_PORT:-13800}
out=results/cluster-scale-$transport
per=$(( (total + replicas - 1) / replicas ))
rm -rf "$out"
mkdir -p "$out"

"$bin/pushlab-load" cluster --replicas "$replicas" --port "$port" -- --log warn --rate "$rate" >"$out/cluster.txt" &
cluster=$!
trap 'kill -INT $cluster 2>/dev/null; wait $cluster 2>/dev/null || true' EXIT
for _ in $(seq 200); do grep -q 'Ctrl-C' "$out/cluster.txt" 2>/dev/null && break; sleep 0.1; done
cat "$out/cluster.txt"
broker_port=$(sed -n 's/^broker .*:\([0-9]*\) .*/\1/p' "$out/cluster.txt")
nats_pid=$(pgrep -x nats-server -P "$cluster")

snapshot() { # $1: label
    {
        echo "== $1 $(date -u +%FT%TZ)"
        grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|Slab|SUnreclaim):' /proc/meminfo
        cat /proc/net/sockstat
        echo "broker pid $nats_pid: $(awk '{print "utime_ticks", $14, "stime_ticks", $15}' /proc/$nats_pid/stat) $(grep VmRSS /proc/$nats_pid/status)"
    } >>"$out/machine.txt"
}
: >"$out/machine.txt"
snapshot before

loads=()
for i in $(seq "$replicas"); do
    "$bin/pushlab-load" run --transport "$transport" --url "http://127.0.0.1:$((port + i))" --clients "$per" \
        --duration "$duration" --ramp "$ramp" --settle 10s --json "$out/replica-$i.json" >"$out/replica-$i.txt" 2>&1 &
    loads+=($!)
done
# Every client is connected after the ramp and the settle: sample in the window.
sleep $(( ${ramp%s} + 10 + ${duration%s} / 2 ))
snapshot "all connected"
wait "${loads[@]}" || true
snapshot after
echo "broker port $broker_port, pid $nats_pid"

node -e '
const fs = require("fs");
const [out, transport, replicas] = process.argv.slice(1);
const files = [];
for (let i = 1; i <= Number(replicas); i++) {
  const name = `${out}/replica-${i}.json`;
  if (fs.existsSync(name)) files.push([i, JSON.parse(fs.readFileSync(name, "utf8"))]);
  else console.log(`replica ${i}: no results (see ${out}/replica-${i}.txt)`);
}
const merged = { ...files[0][1], runs: [] };
const firstFile = `${out}/replica-${files[0][0]}.json`;
for (const [replica, file] of files) for (const run of file.runs) merged.runs.push({ ...run, replica });
merged.scenario = { ...merged.scenario, preset: "cluster-scale", feeds: `broker: ${replicas} replicas fed through NATS JetStream, one load process each` };
require("./scripts/merged-results.js")(`results/cluster-scale-${transport}.json`, firstFile, merged);
let clients = 0, lost = 0, delivered = 0;
for (const run of merged.runs) {
  clients += run.clients; lost += run.ticks.lost; delivered += run.ticks.delivered;
  console.log(`replica ${run.replica}: ${run.clients} clients p50 ${run.latency_us.p50} p99 ${run.latency_us.p99} lost ${run.ticks.lost} rss/conn ${run.server.rss_per_conn_bytes} server cpu ${run.server.cpu_s} s, loadgen cpu ${run.loadgen.cpu_pct} %`);
}
console.log(`total: ${clients} clients, ${delivered} delivered, ${lost} lost`);
' "$out" "$transport" "$replicas"
