# pushlab — the commands that matter. `just` lists them.

# List the recipes.
default:
    @just --list

# Compare the four transports (quick preset: 100 clients each, ~2 minutes).
compare *ARGS:
    @echo "The load generator (pushlab-load compare) is not merged yet: see issue 'Load generator'."
    @exit 1

# Run the server on 127.0.0.1:3000 (pass flags after, e.g. `just serve --rate 100`).
serve *ARGS:
    cargo run --release -p pushlab-server -- {{ARGS}}

# Every test: unit and integration (real sockets) for all crates.
test:
    cargo test --workspace

# Formatting and clippy, as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
