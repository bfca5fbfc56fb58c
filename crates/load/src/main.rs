//! `pushlab-load`: see `pushlab-load --help`, and `pushlab_load` for how it works.

use clap::Parser;
use pushlab_alloc::CountingAlloc;
use pushlab_load::cli::Cli;

/// Counts the load generator's live heap, reported beside the server's (`loadgen.heap_bytes`).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    if let Err(e) = pushlab_load::commands::execute(Cli::parse()).await {
        // The cause chain on one line; no backtrace: these are the user's errors to fix.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
