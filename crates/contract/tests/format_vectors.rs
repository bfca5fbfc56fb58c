//! The Rust half of the proof that the terminal table and the pages write figures the
//! same way: every vector of `format_vectors.json`, string for string. The JavaScript
//! half (`web/format.js`) is `tests/unit/format.test.mjs`, on the same file.

use pushlab_contract::figures::{Unit, figure};
use pushlab_contract::format::{format, show};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/format_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unit(name: &Value) -> Unit {
    *Unit::ALL.iter().find(|u| serde_json::to_value(u).unwrap() == *name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn every_value_is_written_as_the_vectors_say() {
    let vectors = vectors();
    let cases = vectors["values"].as_array().unwrap();
    assert!(cases.len() >= 50, "the vectors are all there: {}", cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let got = format(unit(&case["unit"]), case["value"].as_f64().unwrap());
            (got != case["expected"])
                .then(|| format!("{} {}: {got:?}, want {}", case["unit"], case["value"], case["expected"]))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_figure_is_shown_as_the_vectors_say() {
    let vectors = vectors();
    for case in vectors["figures"].as_array().unwrap() {
        let key = case["key"].as_str().unwrap();
        let figure = figure(key).unwrap_or_else(|| panic!("{key} is not in the catalogue"));
        // The JavaScript test takes unit and measured_if from the vector: they must be the catalogue's.
        assert_eq!(figure.unit, unit(&case["unit"]), "{key}");
        assert_eq!(figure.measured_if, case["measured_if"].as_str(), "{key}");
        assert_eq!(
            show(&case["run"], figure),
            case["expected"].as_str().unwrap(),
            "{key} of {}",
            case["run"]
        );
    }
}
