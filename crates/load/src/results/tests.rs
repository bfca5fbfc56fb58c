//! The results record against the catalogue and the schema.

use super::*;
use pushlab_contract::figures::FIGURES;
use serde_json::Value;

/// A run record with every field, all zero.
pub(crate) fn zero_record(transport: Transport, clients: usize) -> RunRecord {
    RunRecord {
        transport,
        clients,
        rate: 20.0,
        poll_interval_ms: 1000,
        coalesce_ms: None,
        keepalive_ms: Some(15_000),
        window_s: 15.0,
        drain_s: 0.1,
        latency_us: Default::default(),
        ticks: Default::default(),
        requests: Default::default(),
        wire: Default::default(),
        server: Default::default(),
        connect: Default::default(),
        reconnect: Default::default(),
        errors: Default::default(),
        loadgen: Default::default(),
        link: Some(LinkRecord {
            figures: pushlab_link::LinkSpec::profile("3g").expect("a profile").figures(),
            emulator: pushlab_link::EmulatorKind::Builtin,
            netem: "unavailable".into(),
            emulator_cpu_s: Some(0.0),
            emulator_cpu_pct: Some(0.0),
            segments: 0,
            segments_lost: 0,
        }),
        radio: Some(RadioFigures::default()),
        proxy: Some(crate::proxy::ProxyRecord {
            via: crate::proxy::Via::NginxDefault,
            server: Some("nginx/1.22.1".into()),
            read_timeout_s: Some(10.0),
            config: Some("location / {}".into()),
            stream_keepalive: "15 s".into(),
            requests: Some(0),
            status: Some(String::new()),
            upstream_timeouts: Some(0),
            cut_after_s: Some(0.0),
            outcome: "works".into(),
            outcome_detail: String::new(),
        }),
        protocol: Some(crate::protocol::ProtocolRecord {
            h2_headers_bytes_per_tick: Some(0.0),
            h2_data_bytes_per_tick: Some(0.0),
            h2_control_bytes_per_tick: Some(0.0),
            ..Default::default()
        }),
        workers: Some(Default::default()),
        cluster: Some(Default::default()),
    }
}

/// A field added to a run record without a label and a unit would reach the report
/// as a bare key; a catalogue entry left behind by a rename would label nothing.
#[test]
fn every_field_of_a_run_record_is_in_the_catalogue_and_nothing_else() {
    let Value::Object(record) = serde_json::to_value(zero_record(Transport::Sse, 1)).unwrap() else {
        unreachable!("a run record is an object")
    };
    let mut keys: Vec<String> = Vec::new();
    for (name, value) in record {
        match value {
            // The column a run stands in, not a figure.
            _ if name == "transport" => {}
            // A map of counts by kind, whose kinds are not known in advance.
            Value::Object(_) if name == "errors" => keys.push("errors.*".into()),
            // Lists inside a block (`workers.each`) are per-process detail, not figures.
            Value::Object(fields) => keys.extend(
                fields.iter().filter(|(_, v)| !v.is_array()).map(|(field, _)| format!("{name}.{field}")),
            ),
            _ => keys.push(name),
        }
    }
    let mut catalogue: Vec<String> = FIGURES.iter().map(|f| f.key.to_string()).collect();
    keys.sort();
    catalogue.sort();
    assert_eq!(keys, catalogue);
}
