// The report page (/report and the self-contained results/report.html): every chart is
// drawn from a fixture results file, the numbers table is complete, and a file the user
// picks or drops replaces what is shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, newPage, resultsDirWith, FIXTURES, LOAD_BIN } from './helpers.mjs';
import { fixture, chartPixels, assertAllDrawn, tableText, calibrationText, axisTitles, pick, openReport as openIn } from './report-page.mjs';

let server, results, browser;
const openReport = (url, viewport) => openIn(browser, url, viewport);
before(async () => {
  results = resultsDirWith('quick.json');
  server = await startServer({ args: ['--results-dir', results.dir] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  results?.remove();
});

test('renders every chart and the full table from results/latest.json', async () => {
  const page = await openReport(`${server.url}/report`);
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.getAttribute('body', 'data-error'));
  assert.match(await page.textContent('#source'), /results\/latest\.json/);
  assert.match(await page.textContent('#summary'), /FIXTURE/, 'the page says the fixture is a fixture');

  const charts = await chartPixels(page);
  assert.deepEqual(charts.map((c) => c.chart), ['latency', 'requests', 'bytes', 'cpu', 'cpu-sends', 'memory']);
  assertAllDrawn(charts);
  // Every transport's bars are in the latency chart, in the shared palette's colour.
  for (const [transport, count] of Object.entries(charts[0].pixels)) assert.ok(count > 300, `${transport} bars in latency: ${count} px`);
  // Every chart says how to read it.
  const captions = await page.$$eval('figure.chart figcaption', (els) => els.map((e) => e.textContent.trim()));
  assert.ok(captions.every((c) => c.length > 40), JSON.stringify(captions));

  const { head, rows } = await tableText(page);
  assert.deepEqual(head.slice(1).map((h) => h.split(' ')[0]), ['polling', 'long-polling', 'SSE', 'WebSocket']);
  const row = (label) => rows.find((r) => r[0] === label)?.slice(1);
  // The file's numbers in the one convention (decimal SI, µs/ms/s, 3 significant digits),
  // under the catalogue's labels: fixtures/quick.json has p50 507322, 1017, 467, 393 µs.
  assert.deepEqual(row('p50'), ['507 ms', '1.02 ms', '467 µs', '393 µs']);
  assert.deepEqual(row('per client per minute'), ['60/min', '1,194/min', '0/min', '0/min']);
  assert.deepEqual(row('heap per connection'), ['26.6 kB', '28 kB', '27.3 kB', '7.14 kB']);
  assert.deepEqual(row('delivered'), ['30,000', '30,000', '30,000', '30,000']);
  // Server CPU per tick in the file's calibrated sends (fixtures/quick.json: 3.5 µs ÷ 10.4 µs).
  assert.deepEqual(row('CPU per delivered tick, in sends'), ['0.337×', '1.55×', '0.772×', '0.824×']);
  for (const label of ['lost', 'per delivered tick', 'CPU per delivered tick', 'RSS per connection', 'kernel TCP buffers per connection', 'kernel TCP socket object'])
    assert.ok(row(label), `table has a "${label}" row`);
  // Each axis says its unit as format.js writes it (kB, not KiB); each chart which way is better.
  assert.deepEqual(await axisTitles(page), {
    latency: 'ms', requests: 'per client per minute', bytes: 'B', cpu: 'µs', 'cpu-sends': '× one send() to a waiting reader', memory: 'kB',
  });
  const better = await page.$$eval('figure.chart .chart-better', (els) => els.map((e) => e.textContent));
  assert.deepEqual(better, Array(6).fill('lower is better'));
  // The machine's calibration, under the charts: medians with their rounds' spread.
  const calibration = await calibrationText(page);
  assert.equal(calibration.measured, 'true');
  assert.deepEqual(calibration.rows.find((r) => r[0] === 'send() CPU to a waiting reader, median'), ['send() CPU to a waiting reader, median', '10.4 µs', '8.9 µs – 23.1 µs']);
  assert.deepEqual(calibration.rows.find((r) => r[0] === 'loopback round trip p99'), ['loopback round trip p99', '31 µs', '']);
  assert.match(await page.textContent('#summary'), / on 2 cores, 25\.8 GB, Debian/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('loads a results file the user picks: a sweep becomes lines against client count', async () => {
  const page = await openReport(`${server.url}/report`);
  await page.setInputFiles('#file-input', path.join(FIXTURES, 'sweep.json'));
  await page.waitForFunction(() => document.body.dataset.source === 'sweep.json');
  const types = await page.$$eval('figure.chart canvas', (canvases) => canvases.map((c) => Chart.getChart(c).config.type));
  assert.deepEqual(types, ['line', 'line', 'line', 'line', 'line', 'line']);
  assertAllDrawn(await chartPixels(page));
  const { head } = await tableText(page);
  assert.equal(head.length - 1, fixture('sweep.json').runs.length, 'one table column per run');
  assert.match(await page.textContent('#summary'), /sweep/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('loads a results file dropped on the page: two tick rates get a latency chart each', async () => {
  const page = await openReport(`${server.url}/report`);
  const text = readFileSync(path.join(FIXTURES, 'workshop.json'), 'utf8');
  await page.evaluate((json) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([json], 'workshop.json', { type: 'application/json' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
  }, text);
  await page.waitForFunction(() => document.body.dataset.source === 'workshop.json');
  const titles = (await chartPixels(page)).map((c) => c.title);
  assert.deepEqual(titles.filter((t) => t.startsWith('Latency')), ['Latency percentiles — 0.5 ticks/s', 'Latency percentiles — 50 ticks/s']);
  assertAllDrawn(await chartPixels(page));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a file that is not a results file is refused with a message, and the shown results stay', async () => {
  const page = await openReport(`${server.url}/report`);
  await page.setInputFiles('#file-input', { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello":1}') });
  await page.waitForFunction(() => document.body.dataset.error);
  assert.match(await page.textContent('#status'), /notes\.json is not a pushlab results file/);
  assert.equal(await page.getAttribute('body', 'data-source'), 'results/latest.json');
  await page.close();
});

test('at phone width the charts stack and only the table scrolls sideways', async () => {
  const page = await openReport(`${server.url}/report?results=sweep`, { width: 390, height: 844 });
  const layout = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    chartLefts: [...document.querySelectorAll('figure.chart')].map((f) => Math.round(f.getBoundingClientRect().left)),
    tableScrolls: document.querySelector('#numbers .table-wrap').scrollWidth > document.querySelector('#numbers .table-wrap').clientWidth,
  }));
  assert.ok(layout.overflow <= 0, `page is ${layout.overflow} px wider than the screen`);
  assert.equal(new Set(layout.chartLefts).size, 1, `one column: ${layout.chartLefts}`);
  assert.ok(layout.tableScrolls, 'the 20-run table scrolls inside its box');
  assertAllDrawn(await chartPixels(page));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('labels, units and which way is better come from the catalogue in the file', async () => {
  const page = await openReport(`${server.url}/report`);
  const relabelled = fixture('quick.json');
  relabelled.catalogue.figures.find((f) => f.key === 'latency_us.p50').short = 'median';
  relabelled.catalogue.groups.find((g) => g.key === 'server').label = 'Server process';
  relabelled.catalogue.figures.find((f) => f.key === 'server.heap_per_conn_bytes').unit = 'count';
  // The transports' order and names are the catalogue's too: WebSocket first, SSE renamed.
  const [poll, longPoll, sse, ws] = relabelled.catalogue.transports;
  relabelled.catalogue.transports = [ws, poll, longPoll, { ...sse, label: 'EventSource' }];
  await pick(page, 'relabelled.json', relabelled);
  const { head, rows } = await tableText(page);
  assert.deepEqual(head.slice(1).map((h) => h.split(' ')[0]), ['WebSocket', 'polling', 'long-polling', 'EventSource']);
  assert.deepEqual(rows.find((r) => r[0] === 'median')?.slice(1), ['393 µs', '507 ms', '1.02 ms', '467 µs']);
  assert.ok(rows.some((r) => r[0] === 'Server process'), 'the group heading is the file\'s');
  assert.deepEqual(rows.find((r) => r[0] === 'heap per connection')?.slice(1), ['7,142', '26,639', '28,032', '27,284']);
  assert.equal(await page.getAttribute('#numbers-table th[data-better="lower"]', 'title'), 'the fastest tick (lower is better)');
  const latencyFields = await page.$eval('figure[data-chart="latency"] canvas', (c) => Chart.getChart(c).data.labels);
  assert.deepEqual(latencyFields, ['median', 'p90', 'p99', 'p99.9', 'max']);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a file older than the catalogue is labelled from the server\'s /api/figures', async () => {
  const page = await openReport(`${server.url}/report`);
  const asked = [];
  page.on('request', (r) => asked.push(new URL(r.url()).pathname));
  const old = fixture('quick.json');
  delete old.catalogue;
  await pick(page, 'old.json', old);
  assert.deepEqual(asked, ['/api/figures']);
  const { rows } = await tableText(page);
  assert.deepEqual(rows.find((r) => r[0] === 'p50')?.slice(1), ['507 ms', '1.02 ms', '467 µs', '393 µs']);
  assert.match(await page.textContent('#summary'), /predates the figure catalogue in results files: its labels and units are the server's \(\/api\/figures\)\./);
  assertAllDrawn(await chartPixels(page));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a figure the run did not measure reads "not measured"; the busy threshold is the catalogue\'s', async () => {
  const page = await openReport(`${server.url}/report`);
  const odd = fixture('quick.json');
  odd.runs[2].server.tcp_mem_per_conn_bytes = -606.2; // SSE: other sockets drained meanwhile
  odd.runs[3].latency_us.count = 0; // WebSocket: timed no tick
  odd.runs[1].loadgen.cpu_pct = 85; // long-polling: above the catalogue's 80 %, below the 90 % the report used
  await pick(page, 'odd.json', odd);
  const { rows } = await tableText(page);
  assert.deepEqual(rows.find((r) => r[0] === 'kernel TCP buffers per connection')?.slice(1), ['2.48 kB', '5.2 kB', 'not measured', '5.48 kB']);
  assert.deepEqual(rows.find((r) => r[0] === 'p50')?.slice(1), ['507 ms', '1.02 ms', '467 µs', 'not measured']);
  // Left out of the chart, not drawn as a negative bar.
  const sseMemory = await page.$eval('figure[data-chart="memory"] canvas', (c) => Chart.getChart(c).data.datasets.find((d) => d.label === 'SSE').data);
  assert.equal(sseMemory[2], null);
  const notices = await page.$$eval('[data-notice]', (els) => els.map((e) => e.textContent));
  assert.ok(notices.includes('The load generator used 80 % or more of a core in 1 run(s) (long-polling at 100 clients): ' +
    'there, part of the latency may be the load generator\'s, not the transport\'s.'), JSON.stringify(notices));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a file without a calibration loads, and what rests on it reads "not measured"', async () => {
  const page = await openReport(`${server.url}/report`);
  // As written before pushlab-load measured a calibration: none, no CPU in sends, and
  // the machine-wide kernel TCP figure without the socket counts that vouch for it.
  const old = fixture('quick.json');
  delete old.calibration;
  for (const run of old.runs) {
    for (const key of ['cpu_per_tick_sends', 'tcp_sockets_before', 'tcp_sockets_with_clients', 'tcp_socket_slab_bytes']) delete run.server[key];
    run.server.tcp_mem_per_conn_bytes = 0;
  }
  await pick(page, 'before-calibration.json', old);
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready');
  const calibration = await calibrationText(page);
  assert.equal(calibration.measured, 'false');
  assert.equal(calibration.hidden, false);
  assert.match(calibration.reading, /no calibration/);
  assert.deepEqual(calibration.rows.find((r) => r[0] === 'send() CPU to a waiting reader, median'), ['send() CPU to a waiting reader, median', 'not measured', '']);
  assert.ok(calibration.rows.every((r) => r[1] === 'not measured'), JSON.stringify(calibration.rows));
  // The chart in sends says so instead of drawing an empty axis; the others are drawn.
  const sends = await page.$eval('figure[data-chart="cpu-sends"]', (f) => ({ measured: f.dataset.measured, text: f.querySelector('.canvas-box').textContent, canvas: Boolean(f.querySelector('canvas')) }));
  assert.deepEqual(sends, { measured: 'false', text: 'not measured', canvas: false });
  assertAllDrawn(await chartPixels(page));
  const { rows } = await tableText(page);
  assert.deepEqual(rows.find((r) => r[0] === 'kernel TCP buffers per connection')?.slice(1), Array(4).fill('not measured'));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('?results=<name> picks another file from the results directory', async () => {
  const page = await openReport(`${server.url}/report?results=workshop`);
  assert.equal(await page.getAttribute('body', 'data-source'), 'results/workshop.json');
  await page.close();
});

test('without results, the page says so and how to make some', async () => {
  const page = await openReport(`${server.url}/report?results=no-such-run`);
  assert.equal(await page.getAttribute('body', 'data-state'), 'error');
  assert.match(await page.textContent('#status'), /Could not load results\/no-such-run\.json .*just compare/);
  await page.close();
});

test('works self-contained, as compare writes results/report.html: data and scripts inlined, opened from disk', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pushlab-report-'));
  try {
    // A note that would close the data element, or inject markup, if not escaped and shown as text.
    const results = { ...fixture('quick.json'), note: 'FIXTURE </script><b>not bold</b> <!--<script>' };
    const file = writeReport(results, dir);
    const page = await newPage(browser, { width: 1280, height: 800 });
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading');
    assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.getAttribute('body', 'data-error'));
    assert.equal(await page.getAttribute('body', 'data-source'), 'the results embedded in this page');
    assert.equal(await page.textContent('[data-notice]'), results.note);
    assert.equal(await page.$('#summary b'), null, 'the note is text, not markup');
    assertAllDrawn(await chartPixels(page));
    assert.deepEqual(requests, [`file://${file}`], 'the file needs nothing beside it');
    assert.deepEqual(page.problems, []);
    await page.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The self-contained page exactly as `compare` writes it: `pushlab-load report` runs the
 * same code (crates/load/src/html.rs) on a results file.
 */
function writeReport(results, dir) {
  const json = path.join(dir, 'results.json');
  writeFileSync(json, JSON.stringify(results));
  const page = path.join(dir, 'report.html');
  execFileSync(LOAD_BIN, ['report', json, '--out', page], { stdio: 'pipe' });
  return page;
}
