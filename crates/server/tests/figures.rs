//! `GET /api/figures` serves the figure catalogue the results files carry, so the report
//! can label a results file written before they did.

mod common;

use common::*;
use pushlab_contract::figures::CATALOGUE;

#[tokio::test]
async fn figures_are_the_catalogue_the_results_carry() {
    let server = TestServer::start(&[]).await;
    let response = http().get(server.url("/api/figures")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::to_value(&CATALOGUE).unwrap());
    // What the report reads from it, exactly.
    let heap = body["figures"].as_array().unwrap().iter().find(|f| f["key"] == "server.heap_per_conn_bytes");
    let heap = heap.expect("the heap per connection figure");
    assert_eq!(
        (&heap["label"], &heap["unit"], &heap["better"]),
        (&"server heap per connection".into(), &"bytes".into(), &"lower".into())
    );
    assert_eq!(body["units"]["bytes"]["symbol"], "B");
    assert_eq!(body["thresholds"]["loadgen_busy_cpu_pct"], 80.0);
    server.stop().await;
}
