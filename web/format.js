/* How every figure is written, for the pages: the twin of crates/contract/src/format.rs,
 * which writes the terminal table. Both are held to crates/contract/tests/format_vectors.json
 * string for string (tests/unit/format.test.mjs here, format_vectors.rs there), so change
 * them together. The convention, stated in docs/methodology.md:
 *
 * - bytes in decimal SI: B, kB, MB, GB, each 1,000 of the one before (not KiB);
 * - durations in µs, ms or s, whichever keeps the number under 1,000;
 * - three significant digits, never rounding into the integer part, trailing zeros
 *   dropped, thousands grouped with commas;
 * - a figure that was not measured reads "not measured", never 0.
 *
 * A classic script (no imports, no exports) so that `compare` can inline it into the
 * self-contained report and the demo's modules can use it too: it puts its functions on
 * `window.pushlab`, and each page loads it before its own scripts.
 */
(function (pushlab) {
  'use strict';

  const NOT_MEASURED = 'not measured';
  /** The prefixed units: each step's size in the base unit, and its symbol. */
  const STEPS = {
    microseconds: [[1, 'µs'], [1e3, 'ms'], [1e6, 's']],
    bytes: [[1, 'B'], [1e3, 'kB'], [1e6, 'MB'], [1e9, 'GB']],
  };
  /** Units stored in another base than the one they are written in. */
  const TO_BASE = { milliseconds: ['microseconds', 1e3], seconds: ['microseconds', 1e6] };
  const SUFFIX = { percent_of_core: ' %', per_client_per_minute: '/min', per_second: '/s', multiple: '×' };
  /** Decimals are capped so the rounded digits stay exact integers. */
  const MAX_DECIMALS = 9;
  const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

  /** `value` in `unit` (a catalogue unit name): formatValue('bytes', 27760.04) is "27.8 kB". */
  function formatValue(unit, value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return NOT_MEASURED;
    if (value < 0) return `-${formatValue(unit, -value)}`;
    if (TO_BASE[unit]) return formatValue(TO_BASE[unit][0], value * TO_BASE[unit][1]);
    if (STEPS[unit]) return prefixed(value, STEPS[unit]);
    return formatNumber(value) + (SUFFIX[unit] ?? '');
  }

  /** `x` to three significant digits (all of its integer digits): "1,196", "27.8", "0.0412". */
  function formatNumber(x) {
    const [digits, decimals] = rounded(Math.abs(x));
    const int = Math.floor(digits / POW10[decimals]);
    const frac = digits % POW10[decimals];
    let text = (x < 0 && digits > 0 ? '-' : '') + String(int).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    if (frac > 0) text += '.' + String(frac).padStart(decimals, '0').replace(/0+$/, '');
    return text;
  }

  /**
   * `x` (≥ 0) rounded to three significant digits but never into its integer part: the
   * digits as one integer, and how many of them are decimals. Rounded here on an integer,
   * not with toFixed, which rounds an exact tie up where Rust rounds it to even.
   */
  function rounded(x) {
    let decimals = x >= 100 ? 0 : x >= 10 ? 1 : 2;
    // Below 1, one more decimal per leading zero (by multiplying, not log10, whose last
    // bit differs between languages).
    let scaled = x;
    while (scaled > 0 && scaled < 1 && decimals < MAX_DECIMALS) {
      scaled *= 10;
      decimals++;
    }
    return [Math.round(x * POW10[decimals]), decimals];
  }

  /** `x` (≥ 0) with the largest step it reaches, so the number stays under 1,000. */
  function prefixed(x, steps) {
    const step = Math.max(0, steps.findLastIndex(([size]) => x >= size));
    const [size, symbol] = steps[step];
    const text = formatNumber(x / size);
    // 999.7 µs rounds to 1,000 µs, which is written 1 ms.
    if (text === '1,000' && step + 1 < steps.length) return `1 ${steps[step + 1][1]}`;
    return `${text} ${symbol}`;
  }

  /** The value at `key` ("latency_us.p50") of a run record. */
  function lookup(run, key) {
    return key.split('.').reduce((value, part) => (value && typeof value === 'object' ? value[part] : undefined), run);
  }

  /**
   * The figure's value in `run`, or null when the run did not measure it: missing, not a
   * finite number, negative, or its `measured_if` figure is 0.
   */
  function measuredValue(run, figure) {
    if (figure.measured_if) {
      const needed = lookup(run, figure.measured_if);
      if (!(typeof needed === 'number' && needed > 0)) return null;
    }
    const value = lookup(run, figure.key);
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
  }

  /** The figure of `run` as it is shown everywhere: "27.8 kB", "not measured", "proc". */
  function showFigure(run, figure) {
    const value = lookup(run, figure.key);
    if (figure.unit === 'text' && typeof value === 'string') return value;
    const measured = measuredValue(run, figure);
    return measured === null ? NOT_MEASURED : formatValue(figure.unit, measured);
  }

  /**
   * How a chart axis writes `unit`: the divisor from stored values to the axis, and the
   * prefixed symbol ('' for a unit without prefixes). The prefix is chosen as for a single
   * value, from the largest value on a linear axis (so labels stay under 1,000) and from
   * the middle of the range on a log axis (its geometric mean: 0.4 ms to 1 s reads best
   * as 0.1 … 1,000 ms, not as 100 … 1,000,000 µs).
   */
  function axisScale(unit, values, log) {
    const [base, factor] = TO_BASE[unit] ?? [unit, 1];
    const steps = STEPS[base];
    if (!steps) return { divisor: 1, symbol: '' };
    const positive = values.filter((v) => typeof v === 'number' && v > 0).map((v) => v * factor);
    const [low, high] = positive.length ? [Math.min(...positive), Math.max(...positive)] : [0, 0];
    const reference = log ? Math.sqrt(low * high) : high;
    const [size, symbol] = steps[Math.max(0, steps.findLastIndex(([s]) => reference >= s))];
    return { divisor: size / factor, symbol };
  }

  Object.assign(pushlab, { NOT_MEASURED, formatValue, formatNumber, lookup, measuredValue, showFigure, axisScale });
})(window.pushlab = window.pushlab || {});
