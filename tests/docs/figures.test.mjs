// The figures the docs quote are the figures of the results files they name (the
// convention is at the top of figures.mjs): every figure link in README.md and docs/
// must say exactly what its file holds, and the workshop's "Expect." paragraphs quote
// no result without such a link. Then the same functions on a small fixture, where the
// answer is known.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { docFiles, ROOT } from './run.mjs';
import { expectedText, figureLinks, unlinkedResults } from './figures.mjs';
import { loadFormat } from '../unit/format-script.mjs';

const format = loadFormat();
/** The docs whose "Expect." paragraphs must link every result they quote. */
const EXPECT_LINKED = ['docs/workshop.md'];

describe('quoted figures', () => {
  for (const file of docFiles(ROOT)) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const links = figureLinks(text);
    if (links.length === 0 && !EXPECT_LINKED.includes(file)) continue;
    test(`${file}  quotes its results files exactly`, () => {
      const cache = new Map();
      const wrong = [];
      for (const link of links) {
        const target = path.join(path.dirname(path.join(ROOT, file)), link.file);
        if (!existsSync(target)) { wrong.push(`${file}:${link.line}  ${link.file}: no such file`); continue; }
        if (!cache.has(target)) cache.set(target, JSON.parse(readFileSync(target, 'utf8')));
        const { expected, error } = expectedText(cache.get(target), link.title, format);
        if (error) wrong.push(`${file}:${link.line}  [${link.text}] ${link.file} "${link.title}": ${error}`);
        else if (expected !== link.text) wrong.push(`${file}:${link.line}  [${link.text}] but ${link.file} "${link.title}" is ${expected}`);
      }
      assert.ok(wrong.length === 0, `${wrong.length} of ${links.length} quoted figures are not what their file says:\n${wrong.join('\n')}`);
    });
  }

  for (const file of EXPECT_LINKED) {
    test(`${file}  links every result its "Expect." paragraphs quote`, () => {
      const bare = unlinkedResults(readFileSync(path.join(ROOT, file), 'utf8'));
      assert.ok(bare.length === 0, `results quoted without their file (write [figure](results/x.json "run key")):\n` +
        bare.map((b) => `  ${file}:${b.line}  ${b.quantity}`).join('\n'));
    });
  }
});

describe('figures.mjs on a fixture', () => {
  const results = {
    calibration: { send_cpu_us: { median: 7.364315 } },
    catalogue: {
      figures: [{ key: 'latency_us.p50', unit: 'microseconds' }, { key: 'wire.bytes_per_tick', unit: 'bytes' }, { key: 'reconnect.resets', unit: 'count' }],
      faults: [{ key: 'recovery.p50_us', unit: 'microseconds' }],
    },
    faults: [
      { fault: 'crash', transport: 'sse', reconnect_policy: 'jitter', recovery: { p50_us: 1010000 }, reconnect: { resets: 100 } },
      { fault: 'storm', transport: 'sse', reconnect_policy: 'jitter', recovery: { p50_us: 1240000 } },
      { fault: 'storm', transport: 'sse', reconnect_policy: 'fixed', recovery: { p50_us: 1230000 } },
    ],
    runs: [
      { transport: 'poll', rate: 0.5, poll_interval_ms: 1000, latency_us: { p50: 500991 }, wire: { bytes_per_tick: 511.3 }, requests: { empty: 15000 } },
      { transport: 'poll', rate: 50, poll_interval_ms: 1000, latency_us: { p50: 501200 }, wire: { bytes_per_tick: 73.2 } },
      { transport: 'sse', rate: 50, coalesce_ms: 10, latency_us: { p50: 1830 }, wire: { bytes_per_tick: 90 } },
    ],
  };

  test('a link finds its run and says the figure as the report does', () => {
    assert.deepEqual(expectedText(results, 'poll rate=0.5 latency_us.p50', format), { expected: '501 ms' });
    assert.deepEqual(expectedText(results, 'poll rate=50 wire.bytes_per_tick', format), { expected: '73.2 B' });
    assert.deepEqual(expectedText(results, 'sse coalesce_ms=10 latency_us.p50', format), { expected: '1.83 ms' });
    // Not in the catalogue: the unit comes from the name, or it is a count.
    assert.deepEqual(expectedText(results, 'poll rate=0.5 requests.empty', format), { expected: '15,000' });
    assert.deepEqual(expectedText(results, 'calibration send_cpu_us.median', format), { expected: '7.36 µs' });
    // Fault records: a bare word is a fault or a transport; figures from either list.
    assert.deepEqual(expectedText(results, 'faults crash sse recovery.p50_us', format), { expected: '1.01 s' });
    assert.deepEqual(expectedText(results, 'faults storm sse reconnect_policy=fixed recovery.p50_us', format), { expected: '1.23 s' });
    assert.deepEqual(expectedText(results, 'faults crash sse reconnect.resets', format), { expected: '100' });
    assert.match(expectedText(results, 'faults storm sse recovery.p50_us', format).error, /picks 2 runs/);
  });

  test('a selector that picks no run or several, or a missing figure, is an error', () => {
    assert.match(expectedText(results, 'poll latency_us.p50', format).error, /picks 2 runs/);
    assert.match(expectedText(results, 'ws latency_us.p50', format).error, /picks 0 runs/);
    assert.match(expectedText(results, 'sse coalesce_ms=0 latency_us.p50', format).error, /picks 0 runs/);
    assert.match(expectedText(results, 'poll rate=50 requests.empty', format).error, /no number/);
    assert.match(expectedText(results, 'latency_us.p50', format).error, /needs a run selector/);
  });

  test('figure links are read from prose only, with their line', () => {
    const text = 'p50 [501 ms](results/w.json "poll rate=0.5 latency_us.p50") and\n' +
      '`[1 ms](results/w.json "x y")` in code, [a link](results.md), [no title](results/w.json)\n' +
      '```text\n[2 ms](results/w.json "poll p50")\n```\n| [3 B](../docs/results/q.json "sse wire.bytes_per_tick") |\n';
    assert.deepEqual(figureLinks(text), [
      { line: 1, text: '501 ms', file: 'results/w.json', title: 'poll rate=0.5 latency_us.p50' },
      { line: 6, text: '3 B', file: '../docs/results/q.json', title: 'sse wire.bytes_per_tick' },
    ]);
  });

  test('an Expect paragraph may not quote a result without its file, but may name settings', () => {
    const text = [
      '**Run.** at 250 ms, 12 ms here is not an expectation',
      '**Expect.** (100 clients, 20 ticks/s): at 1 s, p50 [501 ms](results/w.json "poll latency_us.p50"),',
      'p99 993 ms, every 250 ms, `5 ms` in code, 89 bytes per tick and 2.5 % of it; about 30 bytes, ~7 µs; under 10 ms',
      '| 53 µs | [15 µs](results/w.json "lp cpu") | 1,024-byte ticks |',
      '',
      '**Why.** 7 ms is prose again',
    ].join('\n');
    assert.deepEqual(unlinkedResults(text).map((f) => [f.line, f.quantity]), [[3, '993 ms'], [3, '89 bytes'], [3, '2.5 %'], [3, '10 ms'], [4, '53 µs']]);
  });
});
