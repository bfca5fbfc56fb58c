// The JavaScript half of the proof that the pages and the terminal table write figures
// the same way: web/format.js against every vector of
// crates/contract/tests/format_vectors.json, the file the Rust formatter is tested on.
// No browser needed (see format-script.mjs).
//
// Run: node --test tests/unit/   (part of `just test`)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, loadFormat } from './format-script.mjs';

const vectors = JSON.parse(readFileSync(path.join(ROOT, 'crates/contract/tests/format_vectors.json'), 'utf8'));
const pushlab = loadFormat();

test('every value is written as the vectors say', () => {
  assert.ok(vectors.values.length >= 50, `the vectors are all there: ${vectors.values.length}`);
  const wrong = vectors.values
    .map(({ unit, value, expected }) => ({ unit, value, expected, got: pushlab.formatValue(unit, value) }))
    .filter(({ got, expected }) => got !== expected);
  assert.deepEqual(wrong, []);
});

test('every figure is shown as the vectors say ("not measured" included)', () => {
  for (const { key, unit, measured_if, run, expected } of vectors.figures) {
    assert.equal(pushlab.showFigure(run, { key, unit, measured_if }), expected, `${key} of ${JSON.stringify(run)}`);
  }
});

test('a missing or non-numeric value is not measured, never 0', () => {
  for (const value of [undefined, null, NaN, Infinity, '12']) assert.equal(pushlab.formatValue('bytes', value), 'not measured');
});

test('a chart axis takes its prefix from the largest value, or on a log axis the middle of the range', () => {
  // Spread into this realm: objects made inside the vm context have its Object prototype.
  const axisScale = (...args) => ({ ...pushlab.axisScale(...args) });
  assert.deepEqual(axisScale('bytes', [7300, 28600, -600, null], false), { divisor: 1000, symbol: 'kB' });
  assert.deepEqual(axisScale('microseconds', [393, 1017, 501247, 1001983], true), { divisor: 1000, symbol: 'ms' });
  assert.deepEqual(axisScale('microseconds', [393, 1017, 6140], true), { divisor: 1000, symbol: 'ms' });
  assert.deepEqual(axisScale('microseconds', [120, 850], true), { divisor: 1, symbol: 'µs' });
  assert.deepEqual(axisScale('microseconds', [3.3, 21.7], false), { divisor: 1, symbol: 'µs' });
  assert.deepEqual(axisScale('seconds', [0.1, 19], false), { divisor: 1, symbol: 's' });
  assert.deepEqual(axisScale('per_client_per_minute', [60, 1196], false), { divisor: 1, symbol: '' });
});
