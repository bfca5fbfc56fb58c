//! What `pushlab-load run`, `compare`, `calibrate`, `wire` and `report` do, start to finish
//! (`hold` is in [`crate::hold`]).

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::calibrate::{self, Calibration};
use crate::cli::{CalibrateArgs, Cli, Command, CompareArgs, ReportArgs, RunArgs, WireArgs};
use crate::faults::{self, FaultStep};
use crate::link::path::LinkPath;
use crate::net::Target;
use crate::procfs;
use crate::results::{self, FaultRecord, Results};
use crate::run::{self, ServerUnderTest};
use crate::scenario::{Knobs, Planned, RunSpec};
use crate::server::{self, ServerProcess};
use crate::{html, table};

/// Quiet time between two runs of a comparison.
pub(crate) const PAUSE_BETWEEN_RUNS: Duration = Duration::from_secs(1);

pub async fn execute(cli: Cli) -> anyhow::Result<()> {
    let work = async {
        match cli.command {
            Command::Run(args) => run_command(args).await,
            Command::Compare(args) => compare_command(args).await,
            Command::Wire(args) => wire_command(args).await,
            Command::Calibrate(args) => calibrate_command(&args).await,
            Command::Report(args) => report_command(&args),
            Command::Hold(args) => crate::hold::command(args).await,
            Command::Cluster(args) => crate::cluster::command(args).await,
            Command::Worker => crate::workers::command().await,
        }
    };
    // On Ctrl-C or SIGTERM the work is dropped, and with it any server process it
    // started (killed on drop): no orphaned pushlab-server keeps a port or a core.
    tokio::select! {
        result = work => result,
        signal = interrupted() => anyhow::bail!("interrupted by {signal}; nothing was written"),
    }
}

async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term.recv() => "SIGTERM",
    }
}

async fn run_command(args: RunArgs) -> anyhow::Result<()> {
    if args.workers.is_some() {
        return run_workers_command(args).await;
    }
    let [url] = args.url.as_slice() else {
        anyhow::bail!("several --url need --workers (the clients are spread over them)")
    };
    let target = Target::resolve(url, args.allow_remote).await?.secure(args.protocol.trust())?;
    let mut scenario = args.scenario()?;
    procfs::ensure_fd_limit(args.clients)?;
    let mut server = ServerUnderTest { target, pid: args.server_pid };
    let path = LinkPath::choose(args.emulator.choice, args.link.is_some())?;
    // Kept to the end of the run: on netem, the clients' way to a server it did not start.
    let _forwarder = path.forward(&mut server.target)?;
    let calibration = calibration().await;
    let bar = progress_bar(format!("{} × {}", args.clients, args.transport));
    let spec = RunSpec { transport: args.transport, clients: args.clients, knobs: scenario.knobs.clone() };
    if let Some(link) = &args.link {
        eprintln!("link {link}: {}", path.describe());
    }
    let mut record = run::run(&spec, &server, &bar).await?;
    bar.finish_and_clear();
    // A single run has no direct run beside it: broken or cut, or not compared.
    crate::proxy::outcome::classify_all(std::slice::from_mut(&mut record));
    scenario.rates = vec![record.rate];
    write_run(&args, Results::new(scenario, vec![record], calibration))
}

/// `run --workers N`: the clients spread over N child processes and the `--url`s, one
/// record out of their reports.
async fn run_workers_command(args: RunArgs) -> anyhow::Result<()> {
    let workers = args.workers.unwrap_or(1);
    let scenario = args.scenario()?;
    let k = &scenario.knobs;
    anyhow::ensure!(
        args.link.is_none() && args.via.is_none() && !k.tls && k.http2_streams.is_none(),
        "--workers runs plain HTTP/1.1 on loopback: not with --link, --via, --tls or --http2"
    );
    for url in &args.url {
        Target::resolve(url, args.allow_remote).await?;
    }
    let mut orders = crate::workers::orders(args.transport, args.clients, workers, &args.url, k)?;
    for order in &mut orders {
        order.allow_remote = args.allow_remote;
        order.server_pid = args.server_pid.filter(|_| args.url.len() == 1);
    }
    let calibration = calibration().await;
    eprintln!(
        "{} × {} over {workers} workers and {} servers …",
        args.clients,
        args.transport,
        args.url.len()
    );
    let bin = std::env::current_exe().context("finding this executable to start the workers")?;
    let reports = crate::workers::spawn(&bin, &orders).await?;
    let record = crate::workers::merge(&reports)?;
    let mut scenario = scenario;
    scenario.rates = vec![record.rate];
    write_run(&args, Results::new(scenario, vec![record], calibration))
}

/// Print a `run`'s table and write its JSON if asked.
fn write_run(args: &RunArgs, results: Results) -> anyhow::Result<()> {
    print_table(&results);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&results)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        println!("results: {}", path.display());
    }
    Ok(())
}

async fn compare_command(args: CompareArgs) -> anyhow::Result<()> {
    let scenario = args.scenario()?;
    // Fail now, not after minutes of runs, if the results cannot be written.
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let cluster = scenario.preset == crate::scenario::Preset::Cluster;
    anyhow::ensure!(
        cluster || (args.replicas.is_none() && args.workers.is_none() && !args.no_kill),
        "--replicas, --workers and --no-kill are the cluster preset's"
    );
    if cluster {
        return crate::cluster::compare::command(&args, scenario).await;
    }
    let plan = scenario.plan();
    let most = plan.iter().map(|p| p.spec.clients).max().unwrap_or(0);
    procfs::ensure_fd_limit(most)?;
    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => server::find_binary()?,
    };
    // Dropped at the end (or on Ctrl-C, with the work): the netem path's namespace goes.
    let path = LinkPath::choose(args.emulator.choice, !scenario.links.is_empty())?;
    if !scenario.links.is_empty() {
        eprintln!("links: {}", path.describe());
    }
    // Once, before any server runs: the machine is as quiet as it will be.
    let calibration = calibration().await;
    if let Some(steps) = scenario.faults.clone() {
        let faults = run_faults(&steps, &scenario.knobs, &bin).await?;
        let mut results = Results::new(scenario, Vec::new(), calibration);
        results.faults = faults;
        print_table(&results);
        write_outputs(&results, &args.out)?;
        return Ok(());
    }
    let mut records = Vec::new();
    let mut failed_starts = 0;
    for (i, Planned { spec, rate }) in plan.iter().enumerate() {
        let (transport, clients, rate) = (spec.transport, spec.clients, *rate);
        if i > 0 {
            // Let the kernel reclaim the previous run's sockets before the next "before" sample.
            tokio::time::sleep(PAUSE_BETWEEN_RUNS).await;
        }
        let bar = progress_bar(format!("run {}/{} {transport}", i + 1, plan.len()));
        // A server that will not start for one run (a flag an older build lacks) fails
        // that run, not the comparison.
        let server = match ServerProcess::start_listening(
            &bin,
            &path.server_listen(),
            &server_args(&spec.knobs, rate),
        )
        .await
        {
            Ok(mut server) => {
                path.attach(&mut server.server.target);
                server
            }
            Err(e) if plan.len() > 1 => {
                bar.finish_and_clear();
                eprintln!("{transport} × {clients} at {rate}/s failed: {e:#}");
                failed_starts += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let outcome = run::run(spec, &server.server, &bar).await;
        bar.finish_and_clear();
        server.stop().await?;
        match outcome {
            Ok(mut record) => {
                record.coalesce_ms = Some(spec.knobs.coalesce.as_millis() as u64);
                record.keepalive_ms = spec.knobs.keepalive.map(|k| k.as_millis() as u64);
                let mut link = spec.knobs.link.as_deref().map_or(String::new(), |l| format!(" over {l}"));
                if let Some(via) = spec.knobs.proxy.via {
                    link.push_str(&format!(" via {via}"));
                }
                eprintln!(
                    "{transport:>9} × {clients}{link}: done ({} errors)",
                    record.errors.values().sum::<u64>()
                );
                records.push(record);
            }
            // One failed run should not throw away the others' figures.
            Err(e) => eprintln!("{transport} × {clients} at {rate}/s failed: {e:#}"),
        }
    }
    // Not one server started: the binary is wrong, not one run's flags.
    anyhow::ensure!(failed_starts < plan.len(), "no run's server started ({})", bin.display());
    crate::proxy::outcome::classify_all(&mut records);
    let results = Results::new(scenario, records, calibration);
    print_table(&results);
    write_outputs(&results, &args.out)?;
    Ok(())
}

/// The fault runs of `steps`, one fresh server (and its successor) each. A run that
/// fails is said on stderr and left out; its column then reads "not measured".
async fn run_faults(steps: &[FaultStep], knobs: &Knobs, bin: &Path) -> anyhow::Result<Vec<FaultRecord>> {
    let most = steps.iter().map(|s| s.clients).max().unwrap_or(0);
    procfs::ensure_fd_limit(most)?;
    let mut records = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(PAUSE_BETWEEN_RUNS).await;
        }
        let name = format!("{} {} {}", step.fault.name(), step.transport, step.reconnect);
        let bar = progress_bar(format!("fault {}/{} {}", i + 1, steps.len(), step.transport));
        let bench = faults::strike::Bench { knobs, bin, server_args: server_args(knobs, step.rate) };
        let outcome = faults::strike::run(step, &bench, &bar).await;
        bar.finish_and_clear();
        match outcome {
            Ok(record) => {
                eprintln!(
                    "{name:>24} × {}: done ({} recovered, {} not, {} lost)",
                    step.clients, record.recovery.count, record.recovery.not_recovered, record.ticks.lost
                );
                records.push(record);
            }
            Err(e) => eprintln!("{name} × {} failed: {e:#}", step.clients),
        }
    }
    anyhow::ensure!(!records.is_empty() || steps.is_empty(), "no fault run completed ({})", bin.display());
    Ok(records)
}

pub(crate) fn print_table(results: &Results) {
    if !results.faults.is_empty() {
        println!("{}", table::render_faults(&results.faults));
    }
    if !results.runs.is_empty() {
        println!("{}", table::render(&results.runs));
    }
    if let Some(proxies) = table::render_proxies(&results.runs) {
        println!("{proxies}");
    }
    match &results.calibration {
        Some(c) => println!("{}", table::render_calibration(c)),
        None => println!("calibration: {}", pushlab_contract::format::NOT_MEASURED),
    }
    for note in table::warnings(&results.runs, results.machine.cores) {
        println!("note: {note}");
    }
}

/// The machine's calibration, measured on a blocking thread (about 0.3 s).
async fn measure_calibration() -> anyhow::Result<Calibration> {
    let measured = tokio::task::spawn_blocking(calibrate::measure_default).await?;
    measured.context("calibrating on a loopback TCP socket")
}

/// The calibration `run` and `compare` record, or `None` (said on stderr) if it
/// failed: the runs' own figures stand without it.
pub(crate) async fn calibration() -> Option<Calibration> {
    measure_calibration().await.inspect_err(|e| eprintln!("calibration not measured: {e:#}")).ok()
}

/// `pushlab-load calibrate`: the table, and with `--json` the file.
async fn calibrate_command(args: &CalibrateArgs) -> anyhow::Result<()> {
    let calibration = measure_calibration().await?;
    println!("{}", table::render_calibration(&calibration));
    if let Some(path) = &args.json {
        /// A results file's header and calibration, in its order.
        #[derive(serde::Serialize)]
        struct CalibrationFile {
            generated_at: String,
            machine: procfs::Machine,
            calibration: Calibration,
        }
        let machine = procfs::Machine::this();
        let document = CalibrationFile { generated_at: results::timestamp(), machine, calibration };
        let json = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        println!("calibration: {}", path.display());
    }
    Ok(())
}

/// The flags of a fresh server for one run with knobs `k` at `rate`.
pub(crate) fn server_args(k: &Knobs, rate: f64) -> Vec<String> {
    let mut args = vec![
        // Our own progress and table are on the terminal; the server only speaks up for problems.
        "--log".into(),
        "warn".into(),
        "--rate".into(),
        rate.to_string(),
        "--seed".into(),
        k.seed.to_string(),
        "--history".into(),
        k.history.to_string(),
    ];
    if let Some(n) = k.payload_bytes {
        args.extend(["--payload-bytes".into(), n.to_string()]);
    }
    if let Some(keepalive) = k.keepalive {
        args.extend(["--keepalive".into(), format!("{}ms", keepalive.as_millis())]);
    }
    if k.proxy.sse_keepalive_off {
        args.push("--sse-keepalive-off".into());
    }
    if k.tls {
        args.push("--tls".into());
    }
    // Only when on: a server built before `--coalesce` can still be compared.
    if !k.coalesce.is_zero() {
        args.extend(["--coalesce".into(), format!("{}ms", k.coalesce.as_millis())]);
    }
    args
}

fn progress_bar(prefix: String) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix:>18} [{bar:40}] {elapsed:>4} {msg}")
        .expect("a valid template")
        .progress_chars("=> ");
    ProgressBar::new(0).with_style(style).with_prefix(prefix)
}

/// `<out>/<timestamp>.json`, `<out>/latest.json` and `<out>/report.html`.
pub fn write_outputs(results: &Results, out: &Path) -> anyhow::Result<()> {
    let path =
        results::write(results, out).with_context(|| format!("writing results to {}", out.display()))?;
    let report = out.join("report.html");
    write_report_page(&serde_json::to_string(results)?, &report)?;
    println!("results: {} (and latest.json)\nreport:  {}", path.display(), report.display());
    Ok(())
}

/// The page the results go into: `web/report.html`, compiled into pushlab-pages.
const REPORT_PAGE: &str = "report.html";

/// The report page with `results` inside, every local script and stylesheet inlined;
/// also the assets that could not be found.
pub fn report_page(results: &Results) -> anyhow::Result<(String, Vec<String>)> {
    report_page_for(&serde_json::to_string(results)?)
}

/// Writes the report page for the results document `json` to `path`, warning about
/// any asset it could not inline.
fn write_report_page(json: &str, path: &Path) -> anyhow::Result<()> {
    let (page, missing) = report_page_for(json)?;
    for asset in missing {
        tracing::warn!(%asset, "report asset not found; left as a link");
    }
    std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))
}

/// The report page with the results document `json` inside (written as it is: a file
/// older than this build keeps its own figures and catalogue, or lack of one).
fn report_page_for(json: &str) -> anyhow::Result<(String, Vec<String>)> {
    let page = pushlab_pages::get(REPORT_PAGE)
        .with_context(|| format!("web/{REPORT_PAGE} is not compiled into pushlab-pages"))?;
    let page = std::str::from_utf8(page).with_context(|| format!("web/{REPORT_PAGE} is not UTF-8"))?;
    let asset = |path: &str| pushlab_pages::get(path).map(<[u8]>::to_vec);
    Ok(html::render(page, json, asset)?)
}

/// `pushlab-load report FILE`: the self-contained page for a results file on disk.
fn report_command(args: &ReportArgs) -> anyhow::Result<()> {
    let path = &args.results;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut document: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    anyhow::ensure!(
        document.get("schema") == Some(&results::SCHEMA.into()) && document["runs"].is_array(),
        "{} is not a pushlab results file (schema {} with a \"runs\" list)",
        path.display(),
        results::SCHEMA
    );
    if document.get("catalogue").is_none() {
        // Older than the catalogue: a page opened from disk has no server to ask, so it
        // gets this build's (its figures' keys have not changed since).
        document["catalogue"] = serde_json::to_value(&pushlab_contract::figures::CATALOGUE)?;
    }
    // Re-written compactly: the page carries the same document, not its layout.
    write_report_page(&document.to_string(), &args.out)?;
    println!("report: {}", args.out.display());
    Ok(())
}

/// Ticks the feed must have before a capture, so there are cursors to resume from.
const WIRE_MIN_HEAD: u64 = 3;

async fn wire_command(args: WireArgs) -> anyhow::Result<()> {
    let mut started = None;
    let target = match &args.url {
        Some(url) => Target::resolve(url, false).await?,
        None => {
            let bin = match &args.server_bin {
                Some(bin) => bin.clone(),
                None => server::find_binary()?,
            };
            let quiet = ["--rate", "2", "--seed", "42", "--log", "warn"].map(String::from);
            let process = ServerProcess::start(&bin, &quiet).await?;
            let target = process.server.target.clone();
            started = Some(process);
            target
        }
    };
    let head = wait_for_head(&target, WIRE_MIN_HEAD).await?;
    print!("{}", crate::wire::capture(args.transport, target.addr, head).await?);
    if let Some(process) = started {
        process.stop().await?;
    }
    Ok(())
}

/// Waits (at most 10 s) until the server's head reaches `min`, and returns the head.
async fn wait_for_head(target: &Target, min: u64) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats: pushlab_contract::Stats = crate::net::fetch_json(target, "/api/stats").await?;
        if stats.ticker.head >= min {
            return Ok(stats.ticker.head);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the server's feed did not reach {min} ticks in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
