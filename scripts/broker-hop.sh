#!/usr/bin/env bash
# The broker hop, measured: the same server fed two ways, side by side in one run, with
# the same clients at the same rate: a single server whose own ticker fills its ring
# (direct), and a replica of a cluster (nats-server, a publisher serving no client, the
# replica) whose ring the broker fills. Latency is measured against each tick's
# scheduled time (ts_us), stamped by the ticker that made it, so the difference between
# the two is what the hop through the publisher's relay and NATS JetStream costs; each
# server's CPU per delivered tick says what following the broker costs a replica.
# (The publisher serves no client on purpose: its relay would otherwise wait behind
# its own fan-out, and that wait would be counted as the broker's.)
#
# Usage: scripts/broker-hop.sh [CLIENTS] [RATE] [DURATION]   (writes results/broker-hop.json)
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-2000}
rate=${2:-10}
duration=${3:-30s}
bin=target/release
port=${PUSHLAB_HOP_PORT:-13760}
out=results/broker-hop
rm -rf "$out"
mkdir -p "$out"

"$bin/pushlab-load" cluster --replicas 1 --port "$port" -- --log warn --rate "$rate" >"$out/cluster.txt" &
cluster=$!
"$bin/pushlab-server" --addr "127.0.0.1:$((port + 2))" --log warn --rate "$rate" >"$out/direct.txt" &
direct=$!
trap 'kill -INT $cluster 2>/dev/null; kill $direct 2>/dev/null; wait $cluster $direct 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'Ctrl-C' "$out/cluster.txt" 2>/dev/null && break; sleep 0.1; done
cat "$out/cluster.txt" "$out/direct.txt"

for transport in ws sse; do
    loads=()
    for feed in direct broker; do
        url=http://127.0.0.1:$((port + 2))
        [ "$feed" = broker ] && url=http://127.0.0.1:$((port + 1))
        "$bin/pushlab-load" run --transport "$transport" --url "$url" --clients "$clients" \
            --duration "$duration" --ramp 5s --settle 3s --json "$out/$transport-$feed.json" >"$out/$transport-$feed.txt" &
        loads+=($!)
    done
    wait "${loads[@]}"
    echo "$transport: done"
done

# One results file: each run marked with the feed it was on (`feed=direct|broker`).
node -e '
const fs = require("fs");
const [out, ...names] = process.argv.slice(1);
const files = names.map((n) => [n.split("-")[1], JSON.parse(fs.readFileSync(`${out}/${n}.json`, "utf8"))]);
const firstFile = `${out}/${names[0]}.json`;
const merged = { ...files[0][1], runs: [] };
for (const [feed, file] of files) for (const run of file.runs) merged.runs.push({ ...run, feed });
merged.scenario = { ...merged.scenario, preset: "broker-hop", feeds: "direct: a single server, its own ticker; broker: a replica fed through NATS JetStream by a publisher serving no client" };
require("./scripts/merged-results.js")("results/broker-hop.json", firstFile, merged);
for (const run of merged.runs) console.log(run.transport, run.feed, "p50", run.latency_us.p50, "p99", run.latency_us.p99, "lost", run.ticks.lost);
' "$out" ws-direct ws-broker sse-direct sse-broker
