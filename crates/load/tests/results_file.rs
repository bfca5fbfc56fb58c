//! The results file is a contract with the report page: a real run's file must validate
//! against `docs/results.schema.json`, and `report.html` must carry the same data.

use std::time::Duration;

use indicatif::ProgressBar;
use pushlab_contract::Transport;
use pushlab_load::calibrate;
use pushlab_load::commands::{report_page, write_outputs};
use pushlab_load::net::Target;
use pushlab_load::results::Results;
use pushlab_load::run::{ServerUnderTest, run};
use pushlab_load::scenario::RunSpec;
use pushlab_load::scenario::{Knobs, Preset, Scenario};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Check `value` against the subset of JSON Schema the schema file uses; collect every
/// mismatch with its path, so a failure names each missing or mistyped field.
fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(c) = schema.get("const")
        && c != value
    {
        errors.push(format!("{path}: {value} is not {c}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_u64() || value.is_i64(),
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{path}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let (Some(min), Some(v)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64())
        && v < min
    {
        errors.push(format!("{path}: {v} < {min}"));
    }
    if let Value::Object(fields) = value {
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !fields.contains_key(name) {
                errors.push(format!("{path}.{name}: missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (name, v) in fields {
            match (props.and_then(|p| p.get(name)), schema.get("additionalProperties")) {
                (Some(sub), _) => validate(sub, v, &format!("{path}.{name}"), errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{path}.{name}: not in the schema")),
                (None, Some(sub @ Value::Object(_))) => validate(sub, v, &format!("{path}.{name}"), errors),
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(sub)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(sub, v, &format!("{path}[{i}]"), errors);
        }
    }
}

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_validator_catches_a_missing_and_a_mistyped_field() {
    let schema = schema();
    let mut errors = Vec::new();
    let bad = serde_json::json!({"schema": 1, "generated_at": 5, "machine": {}, "runs": []});
    validate(&schema, &bad, "$", &mut errors);
    assert!(errors.iter().any(|e| e == "$.scenario: missing"), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("$.generated_at: 5 is not")), "{errors:?}");
    assert!(errors.iter().any(|e| e == "$.machine.cores: missing"), "{errors:?}");
}

/// The committed runs over links (their `link`, `radio`, `keepalive_ms` and first-tick
/// figures, which a loopback run does not have) are documented field by field too.
#[test]
fn the_committed_conditions_and_battery_results_validate() {
    let schema = schema();
    for name in ["conditions.json", "battery.json"] {
        let path = format!("{}/../../docs/results/{name}", env!("CARGO_MANIFEST_DIR"));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut errors = Vec::new();
        validate(&schema, &file, "$", &mut errors);
        assert!(errors.is_empty(), "{name}: results.schema.json violations:\n{}", errors.join("\n"));
        let runs = file["runs"].as_array().unwrap();
        assert!(runs.iter().all(|r| r["link"]["emulator"] == "builtin" && r["radio"].is_object()), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_results_file_validates_and_the_report_embeds_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Target::from_addr(listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let config = pushlab_server::Config::with_args(["--rate", "50"]);
    tokio::spawn(pushlab_server::run(listener, config, stop.clone().cancelled_owned()));

    let mut scenario = Scenario::preset(Preset::Run);
    (scenario.transports, scenario.clients) = (vec![Transport::Sse, Transport::Poll], vec![5]);
    scenario.knobs = Knobs {
        poll_interval: Duration::from_millis(250),
        ramp: Duration::ZERO,
        // The "with all connected" sample is taken 300 ms before the window: by then every
        // poller (first poll at a random phase within its 250 ms interval) has connected.
        settle: Duration::from_millis(700),
        duration: Duration::from_secs(1),
        symbols: Some(vec!["ACME".into()]),
        ..scenario.knobs
    };
    let mut runs = Vec::new();
    for &transport in &scenario.transports {
        let spec = RunSpec { transport, clients: scenario.clients[0], knobs: scenario.knobs.clone() };
        let server = ServerUnderTest { target: target.clone(), pid: None };
        runs.push(run(&spec, &server, &ProgressBar::hidden()).await.unwrap());
    }
    stop.cancel();
    let calibration = calibrate::measure(3, 50, 50).unwrap();
    let results = Results::new(scenario, runs, Some(calibration.clone()));

    let dir = std::env::temp_dir().join(format!("pushlab-results-{}", std::process::id()));
    write_outputs(&results, &dir).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(dir.join("latest.json")).unwrap()).unwrap();
    let mut errors = Vec::new();
    validate(&schema(), &written, "$", &mut errors);
    assert!(errors.is_empty(), "results.schema.json violations:\n{}", errors.join("\n"));
    // Optional in the schema (older files lack it), but every file written now carries it.
    let catalogue = serde_json::to_value(&pushlab_contract::figures::CATALOGUE).unwrap();
    assert_eq!(written["catalogue"], catalogue, "the file carries the figure catalogue");
    // It reads back (floats aside, which JSON text does not round-trip bit for bit).
    let back: Results = serde_json::from_value(written.clone()).unwrap();
    assert_eq!((back.runs.len(), back.runs[1].ticks.clone()), (2, results.runs[1].ticks.clone()));
    // The calibration too, and each run's CPU per tick in its unit.
    let again = back.calibration.expect("the calibration reads back");
    assert_eq!((again.rounds, again.messages_per_round, again.rtt_p99_us), (3, 50, calibration.rtt_p99_us));
    assert!(close(again.send_cpu_us.median, calibration.send_cpu_us.median), "{again:?}");
    assert!(close(again.recv_cpu_us.max, calibration.recv_cpu_us.max), "{again:?}");
    for run in &back.runs {
        let sends = run.server.cpu_us_per_tick / calibration.send_cpu_us.median;
        assert!(run.server.cpu_per_tick_sends.is_some_and(|s| close(s, sends)), "{:?}", run.server);
        // The server's sockets, counted by the kernel: every client's, and none of theirs.
        let sockets = run.server.tcp_sockets_with_clients.expect("measured on loopback");
        assert!(sockets >= run.clients as u64, "{:?}", run.server);
        assert!(run.server.tcp_mem_per_conn_bytes.is_some_and(|b| b >= 0.0), "{:?}", run.server);
    }

    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let island = r#"<script id="pushlab-data" type="application/json">"#;
    let start = page.find(island).expect("data island") + island.len();
    let end = start + page[start..].find("</script>").unwrap();
    let embedded: Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).unwrap();
    assert_eq!(embedded, written);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Equal but for the last bits JSON text does not carry.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// A file written before calibration (the workshop preset's results as committed before
/// it was re-measured, kept as a fixture) still reads, and says it has none: no
/// calibration, no CPU per tick in sends, no socket counts.
#[test]
fn results_without_a_calibration_still_read() {
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/before-calibration.json");
    let results: Results = serde_json::from_str(&std::fs::read_to_string(committed).unwrap()).unwrap();
    assert!(results.calibration.is_none());
    for run in &results.runs {
        let s = &run.server;
        assert_eq!(
            (s.cpu_per_tick_sends, s.tcp_sockets_with_clients, s.tcp_socket_slab_bytes),
            (None, None, None)
        );
    }
    // And written again, it still has none (not a `null` the schema would refuse).
    let again = serde_json::to_value(&results).unwrap();
    assert!(again.get("calibration").is_none());
}

/// `docs/results/hold-*.json`: figures of `pushlab-load hold`, not a results document
/// (their own test is in `tests/hold.rs`).
fn is_hold_file(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v["kind"] == pushlab_load::hold::record::KIND)
}

/// The results layout has not moved: every committed results file's `scenario` reads
/// back and is written again byte for byte as `compare` wrote it (pretty, two-space
/// indent, keys in the same order, `_s` and `_ms` numbers as they were).
#[test]
fn committed_results_files_keep_their_scenario_byte_for_byte() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if is_hold_file(&text) {
            continue;
        }
        let results: Results = serde_json::from_str(&text).unwrap();
        // As it sits in the file: one level in, so two more spaces on every line.
        let again = serde_json::to_string_pretty(&results.scenario).unwrap().replace('\n', "\n  ");
        let written = format!("\n  \"scenario\": {again},\n");
        assert!(text.contains(&written), "{}: the scenario now reads\n{written}", path.display());
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} results files in {dir}");
}

/// Whatever report page the server ships, every local file it links must be found and
/// inlined, so `results/report.html` opens from disk with nothing missing.
#[test]
fn the_shipped_report_page_inlines_without_missing_assets() {
    let results = Results::new(Scenario::preset(Preset::Quick), Vec::new(), None);
    let (page, missing) = report_page(&results).unwrap();
    assert!(missing.is_empty(), "not found: {missing:?}");
    assert!(!page.contains("<script src=\"report"), "local scripts are inlined");
    assert!(page.contains(r#""preset":"quick""#));
}

/// The measurements committed under docs/results/ (which the report and docs/results.md
/// show) stay valid results files, catalogue included.
#[test]
fn the_committed_results_validate() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !is_hold_file(&std::fs::read_to_string(p).unwrap()))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for path in files {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut errors = Vec::new();
        validate(&schema(), &value, "$", &mut errors);
        assert!(errors.is_empty(), "{}:\n{}", path.display(), errors.join("\n"));
        assert!(
            value["catalogue"]["figures"].as_array().is_some_and(|f| !f.is_empty()),
            "{}",
            path.display()
        );
    }
}

#[test]
fn the_report_command_writes_the_page_for_a_results_file_and_refuses_anything_else() {
    let dir = std::env::temp_dir().join(format!("pushlab-report-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("quick.html");
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results/quick.json");
    let report = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
            .arg("report")
            .args(args)
            .output()
            .unwrap()
    };
    let done = report(&[committed.as_ref(), "--out".as_ref(), out.as_os_str()]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let page = std::fs::read_to_string(&out).unwrap();
    let document: Value = serde_json::from_str(&std::fs::read_to_string(committed).unwrap()).unwrap();
    // The file's own document, compactly, in the data island; nothing left to load.
    assert!(page.contains(&document.to_string().replace("</", "<\\/")), "the page carries the file as it is");
    assert!(!page.contains("<script src=") && !page.contains(r#"rel="stylesheet""#));

    // A file from before the catalogue gets this build's, so it reads from disk too.
    let mut old = document.clone();
    old.as_object_mut().unwrap().remove("catalogue");
    let old_file = dir.join("old.json");
    std::fs::write(&old_file, old.to_string()).unwrap();
    assert!(report(&[old_file.as_os_str(), "--out".as_ref(), out.as_os_str()]).status.success());
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.contains(r#""catalogue":{"#), "the catalogue was added");

    let not_results = dir.join("other.json");
    std::fs::write(&not_results, r#"{"schema":1}"#).unwrap();
    let refused_out = dir.join("refused.html");
    let refused = report(&[not_results.as_os_str(), "--out".as_ref(), refused_out.as_os_str()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a pushlab results file"));
    assert!(!refused_out.exists(), "nothing written for a refused file");
    std::fs::remove_dir_all(&dir).unwrap();
}
