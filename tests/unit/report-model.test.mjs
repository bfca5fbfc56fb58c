// The report's calibration rows (web/report-model.js) without a browser: a results file
// with a calibration shows its medians with their rounds' spread; one written before
// pushlab-load measured a calibration shows every figure as "not measured", never 0.
//
// Run: node --test tests/unit/   (part of `just test`)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, loadScripts } from './format-script.mjs';

const pushlab = loadScripts('web/format.js', 'web/i18n-report.js', 'web/i18n.js', 'web/report-model.js');
const quick = JSON.parse(readFileSync(path.join(ROOT, 'tests/e2e/fixtures/quick.json'), 'utf8'));
/** Plain objects of this realm (the vm context's have another Object prototype). */
const plain = (value) => JSON.parse(JSON.stringify(value));
const rows = (results, catalogue = quick.catalogue) => plain(pushlab.calibrationRows(results, catalogue));
const row = (found, key) => found.rows.find((r) => r.key === key);

test('a calibration is shown as its medians, each with its fastest and slowest round', () => {
  const found = rows(quick);
  assert.equal(found.measured, true);
  assert.deepEqual(row(found, 'calibration.send_cpu_us.median'), {
    key: 'calibration.send_cpu_us.median', label: 'send() CPU to a waiting reader, median',
    about: quick.catalogue.calibration[0].about, value: '10.4 µs', spread: '8.9 µs – 23.1 µs',
  });
  assert.equal(row(found, 'calibration.recv_cpu_us.median').spread, '0.58 µs – 0.91 µs');
  assert.equal(row(found, 'calibration.rtt_p99_us').value, '31 µs');
  // A round's min and max sit beside its median, not in rows of their own.
  assert.equal(row(found, 'calibration.send_cpu_us.min'), undefined);
  assert.equal(found.rows.length, quick.catalogue.calibration.length - 6);
});

test('a file without a calibration reads "not measured" for every figure', () => {
  const old = { ...quick };
  delete old.calibration;
  const found = rows(old);
  assert.equal(found.measured, false);
  assert.ok(found.rows.length > 5);
  for (const r of found.rows) assert.deepEqual([r.key, r.value, r.spread], [r.key, 'not measured', ''], r.key);
});

test('a catalogue from before the calibration gives one row, not measured', () => {
  const { calibration, ...older } = quick.catalogue;
  assert.ok(calibration.length > 0);
  const found = rows({ ...quick, calibration: undefined }, older);
  assert.deepEqual(found, { measured: false, rows: [{ key: 'calibration', label: 'loopback calibration', about: '', value: 'not measured', spread: '' }] });
});

test('a figure of a partial calibration is not measured on its own', () => {
  const partial = { ...quick, calibration: { ...quick.calibration, send_cpu_us: { median: 12.5 }, rtt_p99_us: -1 } };
  const found = rows(partial);
  assert.equal(row(found, 'calibration.send_cpu_us.median').value, '12.5 µs');
  assert.equal(row(found, 'calibration.send_cpu_us.median').spread, '', 'no spread to show');
  assert.equal(row(found, 'calibration.rtt_p99_us').value, 'not measured');
});
