//! How every figure is written: one convention for the terminal table, the report and the
//! demo, stated in `docs/methodology.md`. The pages' copy is `web/format.js`; the two
//! are held to the same output by `tests/format_vectors.json`, which both test suites
//! assert string for string.
//!
//! - Bytes in decimal SI: B, kB, MB, GB, each 1,000 of the one before (not KiB), because
//!   per-connection memory is read against byte counts and wire bytes.
//! - Durations in µs, ms or s, whichever keeps the number under 1,000.
//! - Three significant digits, never rounding into the integer part (`27.8 kB`,
//!   `1,196/min`), trailing zeros dropped (`1 s`, not `1.00 s`), thousands grouped with
//!   commas.
//! - A figure that was not measured is written [`NOT_MEASURED`], never as 0.
//!
//! The rounding is done here on an integer, not by `format!("{:.1}")`: Rust rounds an
//! exact tie to even (12.25 → "12.2") and JavaScript's `toFixed` up ("12.3"), and the two
//! sides must write the same string.

use serde_json::Value;

use crate::figures::{Figure, Unit};

/// What a figure the run could not measure reads as.
pub const NOT_MEASURED: &str = "not measured";

/// The prefixed units: each step's size in the base unit, and its symbol.
const DURATION_STEPS: &[(f64, &str)] = &[(1.0, "µs"), (1e3, "ms"), (1e6, "s")];
const BYTE_STEPS: &[(f64, &str)] = &[(1.0, "B"), (1e3, "kB"), (1e6, "MB"), (1e9, "GB")];

/// Decimals are capped so the rounded digits stay exact integers in a JavaScript number.
const MAX_DECIMALS: usize = 9;
const POW10: [u64; MAX_DECIMALS + 1] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/// `value` in `unit`: `format(Unit::Bytes, 27_760.04)` is `27.8 kB`.
pub fn format(unit: Unit, value: f64) -> String {
    if !value.is_finite() {
        return NOT_MEASURED.into();
    }
    if value < 0.0 {
        return format!("-{}", format(unit, -value));
    }
    match unit {
        Unit::Microseconds => prefixed(value, DURATION_STEPS),
        Unit::Milliseconds => prefixed(value * 1e3, DURATION_STEPS),
        Unit::Seconds => prefixed(value * 1e6, DURATION_STEPS),
        Unit::Bytes => prefixed(value, BYTE_STEPS),
        Unit::PercentOfCore => format!("{} %", number(value)),
        Unit::PerClientPerMinute | Unit::PerSecond | Unit::Multiple => {
            format!("{}{}", number(value), unit.symbol())
        }
        Unit::Count | Unit::Number | Unit::Text => number(value),
    }
}

/// `x` to three significant digits (all of its integer digits), e.g. `1,196`, `27.8`, `0.0412`.
pub fn number(x: f64) -> String {
    let (digits, decimals) = rounded(x.abs());
    let (int, frac) = (digits / POW10[decimals], digits % POW10[decimals]);
    let sign = if x < 0.0 && digits > 0 { "-" } else { "" };
    let mut text = format!("{sign}{}", grouped(int));
    if frac > 0 {
        let frac = format!("{frac:0decimals$}");
        text.push('.');
        text.push_str(frac.trim_end_matches('0'));
    }
    text
}

/// `x` (≥ 0) rounded to three significant digits but never into its integer part:
/// the digits as one integer, and how many of them are decimals.
fn rounded(x: f64) -> (u64, usize) {
    let mut decimals = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    // Below 1, one more decimal per leading zero (by multiplying, not log10, whose last
    // bit differs between languages).
    let mut scaled = x;
    while scaled > 0.0 && scaled < 1.0 && decimals < MAX_DECIMALS {
        scaled *= 10.0;
        decimals += 1;
    }
    ((x * POW10[decimals] as f64).round() as u64, decimals)
}

/// `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `x` (≥ 0) with the largest step it reaches, so the number stays under 1,000.
fn prefixed(x: f64, steps: &[(f64, &str)]) -> String {
    let step = steps.iter().rposition(|&(size, _)| x >= size).unwrap_or(0);
    let (size, symbol) = steps[step];
    let text = number(x / size);
    match steps.get(step + 1) {
        // 999.7 µs rounds to 1,000 µs, which is written 1 ms.
        Some((_, next)) if text == "1,000" => format!("1 {next}"),
        _ => format!("{text} {symbol}"),
    }
}

/// The value at `key` (`latency_us.p50`) of a run record as JSON.
pub fn lookup<'a>(run: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(run, |value, part| value.get(part))
}

/// The figure's value in `run`, or `None` when the run did not measure it: missing, not
/// a finite number, negative, or its `measured_if` figure is 0.
pub fn measured(run: &Value, figure: &Figure) -> Option<f64> {
    if let Some(needed) = figure.measured_if
        && !lookup(run, needed).and_then(Value::as_f64).is_some_and(|v| v > 0.0)
    {
        return None;
    }
    lookup(run, figure.key)?.as_f64().filter(|v| v.is_finite() && *v >= 0.0)
}

/// The figure of `run` as it is shown everywhere: `27.8 kB`, `not measured`, `proc`.
pub fn show(run: &Value, figure: &Figure) -> String {
    if let (Unit::Text, Some(Value::String(text))) = (figure.unit, lookup(run, figure.key)) {
        return text.clone();
    }
    measured(run, figure).map_or_else(|| NOT_MEASURED.into(), |v| format(figure.unit, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::figure;
    use serde_json::json;

    // The full set of cases is tests/format_vectors.json; these are the edges that
    // explain the rules.
    #[test]
    fn ties_round_up_like_on_the_pages() {
        assert_eq!(format!("{:.1}", 12.25), "12.2", "Rust's own rounding, which we avoid");
        assert_eq!(format(Unit::Milliseconds, 12.25), "12.3 ms");
    }

    #[test]
    fn a_rounded_thousand_moves_up_a_prefix() {
        assert_eq!(format(Unit::Microseconds, 999.7), "1 ms");
        assert_eq!(format(Unit::Bytes, 999_499.0), "999 kB");
        assert_eq!(format(Unit::Bytes, 999_500.0), "1 MB");
        assert_eq!(format(Unit::Bytes, 2.5e12), "2,500 GB");
    }

    #[test]
    fn unmeasured_figures_say_so() {
        let p50 = figure("latency_us.p50").unwrap();
        assert_eq!(show(&json!({"latency_us": {"count": 0, "p50": 0}}), p50), NOT_MEASURED);
        assert_eq!(show(&json!({"latency_us": {"count": 9, "p50": 1500}}), p50), "1.5 ms");
        let tcp = figure("server.tcp_mem_per_conn_bytes").unwrap();
        assert_eq!(
            show(&json!({"clients": 100, "server": {"tcp_mem_per_conn_bytes": -606.2}}), tcp),
            NOT_MEASURED
        );
        assert_eq!(show(&json!({"clients": 100}), tcp), NOT_MEASURED);
        let source = figure("server.cpu_source").unwrap();
        assert_eq!(show(&json!({"server": {"cpu_source": "proc"}}), source), "proc");
    }
}
