//! `pushlab-load compare` as a user runs it: the real binaries, a fresh server process
//! per run found by its `listening on …` line, CPU from `/proc/<pid>/stat`, and the
//! three output files.

mod common;

use std::process::Command;

use common::server_binary;
use pushlab_load::results::Results;

#[test]
fn compare_starts_a_server_per_run_and_writes_json_and_report() {
    let server = server_binary();
    let out = std::env::temp_dir().join(format!("pushlab-compare-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
        .args(["compare", "--transports", "ws,long-poll", "--clients", "10", "--rates", "40"])
        .args(["--duration", "1s", "--ramp", "200ms", "--settle", "300ms", "--out"])
        .arg(&out)
        .arg("--server-bin")
        .arg(&server)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("long-poll") && stdout.contains("delivered / expected"), "{stdout}");

    let results: Results = serde_json::from_slice(&std::fs::read(out.join("latest.json")).unwrap()).unwrap();
    assert_eq!(results.runs.len(), 2);
    for r in &results.runs {
        assert_eq!(r.server.cpu_source, "proc", "{}: CPU from the child's /proc/<pid>/stat", r.transport);
        assert!(r.server.heap_before_bytes > 0, "{}: the server binary counts its heap", r.transport);
        assert_eq!(r.rate, 40.0);
        assert_eq!(r.ticks.lost, 0, "{}: {:?}", r.transport, r.ticks);
        assert!(r.ticks.expected_per_client >= 39, "{}: {:?}", r.transport, r.ticks);
        assert!(r.errors.is_empty(), "{}: {:?}", r.transport, r.errors);
    }
    let timestamped = std::fs::read_dir(&out).unwrap().filter_map(Result::ok).count();
    assert_eq!(timestamped, 3, "<timestamp>.json, latest.json, report.html");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains(r#""transport":"long-poll""#), "the report embeds the results");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_missing_server_binary_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_pushlab-load"))
        .args(["compare", "--server-bin", "/nonexistent/pushlab-server", "--out", "/tmp/unused"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("starting /nonexistent/pushlab-server: No such file"), "{stderr}");
    assert!(stderr.contains("error: no run's server started (/nonexistent/pushlab-server)"), "{stderr}");
}
