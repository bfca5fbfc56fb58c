# pushlab — the commands that matter. `just` lists them.

# The release binaries compare and serve use. Every recipe builds both together: cargo
# unifies dependency features per build, so building one alone would rebuild the other
# (a minute or more) the next time both are built.
release := "target/release"

# List the recipes.
default:
    @just --list

# Compare the four transports side by side (default: the quick preset, under 3 minutes).
# Pass flags after, e.g. `just compare --preset workshop` or `just compare --clients 500`.
compare *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load compare {{ARGS}}

# What one connection costs (the efficiency preset, ~4 minutes), kept as docs/results/efficiency.json.
efficiency *ARGS:
    just compare --preset efficiency {{ARGS}}
    cp results/latest.json docs/results/efficiency.json

# The four transports over emulated links: lan, 4g, 3g, satellite, lossy (~4 minutes), kept as docs/results/conditions.json.
conditions *ARGS:
    just compare --preset conditions {{ARGS}}
    cp results/latest.json docs/results/conditions.json

# SSE over HTTP/1.1 against HTTP/2 (plain, TLS, 1/10/100 streams per connection; ~2 minutes), kept as docs/results/http2.json.
http2 *ARGS:
    just compare --preset http2 {{ARGS}}
    cp results/latest.json docs/results/http2.json

# What the transports would cost a phone's radio, quiet and busy feed, keepalives (~11 minutes), kept as docs/results/battery.json.
battery *ARGS:
    just compare --preset battery {{ARGS}}
    cp results/latest.json docs/results/battery.json

# What a proxy does to each transport: direct and through nginx-default, nginx-tuned, buffering-proxy (~4 minutes), kept as docs/results/proxies.json.
proxies *ARGS:
    just compare --preset proxies {{ARGS}}
    cp results/latest.json docs/results/proxies.json

# Restarts, crashes, stream recycling and a 5,000-client reconnect storm (~3 minutes), kept as docs/results/faults.json.
faults *ARGS:
    just compare --preset faults {{ARGS}}
    cp results/latest.json docs/results/faults.json

# Drive one transport against a running server, e.g. `just load --transport sse --clients 1000`.
load *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load run {{ARGS}}

# Idle or slowloris sockets against a server it starts, and how long a real client waited: `just hold --mode slowloris --sockets 19000`.
hold *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load hold {{ARGS}}

# What a small loopback send(), recv() and round trip cost on this machine (~0.3 s): `just calibrate --json FILE`.
calibrate *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load calibrate {{ARGS}}

# Print the exact bytes of one exchange: `just wire poll|long-poll|sse|ws`.
wire TRANSPORT:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load wire --transport {{TRANSPORT}}

# The self-contained report page for a results file: `just report docs/results/quick.json --out /tmp/quick.html`.
report RESULTS *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load report {{RESULTS}} {{ARGS}}

# A broker-fed cluster for the demo: nats-server, the publisher on :3000, replicas on :3001.. (`just cluster --replicas 5 -- --rate 5`); Ctrl-C stops all.
cluster *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-load cluster {{ARGS}}

# Run the server on 127.0.0.1:3000 with the demo's links (pass flags after, e.g. `just serve --rate 100`).
serve *ARGS:
    cargo build --release -q -p pushlab-server -p pushlab-load
    {{release}}/pushlab-server --demo-links 4g,3g,satellite,lossy {{ARGS}}

# Every test: unit and integration (real sockets), the pages' formatter, the pages in Chromium, and the docs.
test: test-rust test-unit test-browser test-docs

# Unit and integration tests of the Rust crates.
test-rust:
    cargo test --workspace

# The pages' scripts without a browser: web/format.js against the vectors the Rust formatter meets.
test-unit:
    node --test tests/unit/

# End-to-end tests of the pages in Debian's Chromium (playwright-core), in English and
# in Korean (korean.test.mjs: a Korean browser, no English caption left, phone width).
test-browser:
    cargo build -q -p pushlab-server -p pushlab-load
    [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
    PUSHLAB_SERVER_BIN=target/debug/pushlab-server node --test tests/e2e/

# The docs stay true: every `sh` command in README.md and docs/ runs, every linked file exists.
test-docs:
    cargo build --release -q -p pushlab-server -p pushlab-load
    [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
    node --test tests/docs/

# Screenshots of both pages into docs/img/ (needs a release server build), and of both in
# Korean at phone width (demo-ko.png, report-ko.png; needs a Hangul font: fonts-nanum).
screenshots:
    cargo build --release -q -p pushlab-server -p pushlab-load
    fc-list :lang=ko | grep -q . || { echo "no Hangul font for the Korean screenshots: apt-get install fonts-nanum" >&2; exit 1; }
    node tests/e2e/screenshots.mjs
    PUSHLAB_SCREENSHOTS_DIR=docs/img node --test tests/e2e/wall.test.mjs
    PUSHLAB_SCREENSHOTS_DIR=docs/img node --test tests/e2e/korean.test.mjs

# Formatting, clippy and the API docs' links, as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps --workspace -q
