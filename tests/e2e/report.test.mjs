// The report page (/report and the self-contained results/report.html): every chart is
// drawn from a fixture results file, the numbers table is complete, and a file the user
// picks or drops replaces what is shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, newPage, resultsDirWith, FIXTURES, ROOT } from './helpers.mjs';

const fixture = (name) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
/** A chart's canvas counts as drawn when it holds this many pixels in transport colours
 * beyond what its legend swatches alone (4 × ~12×12 px) could account for. */
const MIN_DATA_PIXELS = 1500;

let server, results, browser;
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

/** Per chart: its id, title, and how many pixels of each transport's colour its canvas holds. */
function chartPixels(page) {
  return page.evaluate(() => {
    const css = getComputedStyle(document.documentElement);
    const palette = ['poll', 'long-poll', 'sse', 'ws'].map((t) => {
      const hex = css.getPropertyValue(`--c-${t}`).trim();
      return [t, [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))];
    });
    return [...document.querySelectorAll('figure.chart')].map((figure) => {
      const canvas = figure.querySelector('canvas');
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const pixels = Object.fromEntries(palette.map(([t]) => [t, 0]));
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        for (const [t, [r, g, b]] of palette) {
          if (Math.abs(data[i] - r) < 10 && Math.abs(data[i + 1] - g) < 10 && Math.abs(data[i + 2] - b) < 10) pixels[t]++;
        }
      }
      return { chart: figure.dataset.chart, title: figure.querySelector('h3').textContent, pixels };
    });
  });
}

/** Table cells ("1,007", "0.408") match the expected numbers to the 3 digits shown. */
function assertNumbersClose(cells, expected) {
  const actual = cells.map((c) => Number(c.replaceAll(',', '')));
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= Math.abs(expected[i]) * 0.005, `${cells} vs ${expected}`));
}

function assertAllDrawn(charts) {
  for (const { title, pixels } of charts) {
    const total = Object.values(pixels).reduce((a, b) => a + b, 0);
    assert.ok(total > MIN_DATA_PIXELS, `chart "${title}" looks blank: ${JSON.stringify(pixels)}`);
  }
}

/** The table as text: header cells, then each body row's cells. */
function tableText(page) {
  return page.evaluate(() => ({
    head: [...document.querySelectorAll('#numbers-table thead th')].map((th) => th.innerText.replace(/\s+/g, ' ').trim()),
    rows: [...document.querySelectorAll('#numbers-table tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText.trim())),
  }));
}

async function openReport(url, viewport) {
  const page = await newPage(browser, viewport);
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state && document.body.dataset.state !== 'loading');
  return page;
}

test('renders every chart and the full table from results/latest.json', async () => {
  const page = await openReport(`${server.url}/report`);
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.getAttribute('body', 'data-error'));
  assert.match(await page.textContent('#source'), /results\/latest\.json/);
  assert.match(await page.textContent('#summary'), /FIXTURE/, 'the page says the fixture is a fixture');

  const charts = await chartPixels(page);
  assert.deepEqual(charts.map((c) => c.chart), ['latency', 'requests', 'bytes', 'cpu', 'memory']);
  assertAllDrawn(charts);
  // Every transport's bars are in the latency chart, in the shared palette's colour.
  for (const [transport, count] of Object.entries(charts[0].pixels)) assert.ok(count > 300, `${transport} bars in latency: ${count} px`);
  // Every chart says how to read it.
  const captions = await page.$$eval('figure.chart figcaption', (els) => els.map((e) => e.textContent.trim()));
  assert.ok(captions.every((c) => c.length > 40), JSON.stringify(captions));

  const { head, rows } = await tableText(page);
  assert.deepEqual(head.slice(1).map((h) => h.split(' ')[0]), ['polling', 'long-polling', 'SSE', 'WebSocket']);
  const quick = fixture('quick.json');
  const row = (label) => rows.find((r) => r[0] === label);
  // The table shows the file's numbers (rounded for reading): p50 in ms from µs.
  assertNumbersClose(row('p50').slice(1), quick.runs.map((r) => r.latency_us.p50 / 1000));
  assertNumbersClose(row('per client per minute').slice(1), quick.runs.map((r) => r.requests.per_client_per_min));
  for (const label of ['delivered', 'lost', 'bytes per delivered tick', 'CPU µs per delivered tick', 'RSS per connection', 'kernel TCP memory per connection'])
    assert.ok(row(label), `table has a "${label}" row`);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('loads a results file the user picks: a sweep becomes lines against client count', async () => {
  const page = await openReport(`${server.url}/report`);
  await page.setInputFiles('#file-input', path.join(FIXTURES, 'sweep.json'));
  await page.waitForFunction(() => document.body.dataset.source === 'sweep.json');
  const types = await page.$$eval('figure.chart canvas', (canvases) => canvases.map((c) => Chart.getChart(c).config.type));
  assert.deepEqual(types, ['line', 'line', 'line', 'line', 'line']);
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
    tableScrolls: document.querySelector('.table-wrap').scrollWidth > document.querySelector('.table-wrap').clientWidth,
  }));
  assert.ok(layout.overflow <= 0, `page is ${layout.overflow} px wider than the screen`);
  assert.equal(new Set(layout.chartLefts).size, 1, `one column: ${layout.chartLefts}`);
  assert.ok(layout.tableScrolls, 'the 20-run table scrolls inside its box');
  assertAllDrawn(await chartPixels(page));
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
    const file = path.join(dir, 'report.html');
    // A note that would close the data element, or inject markup, if not escaped and shown as text.
    const results = { ...fixture('quick.json'), note: 'FIXTURE </script><b>not bold</b>' };
    writeFileSync(file, inlineReport(JSON.stringify(results)));
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
 * What `compare` does to web/report.html (the contract with crates/load/src/html.rs):
 * put the results JSON in place of the `null` in the pushlab-data element, with `</`
 * written `<\/` so no string in it can close the element, and inline every local script
 * and stylesheet.
 */
function inlineReport(resultsJson) {
  const web = path.join(ROOT, 'web');
  const html = readFileSync(path.join(web, 'report.html'), 'utf8');
  const dataElement = '<script id="pushlab-data" type="application/json">null</script>';
  assert.ok(html.includes(dataElement), 'report.html holds the data element compare fills');
  return html
    .replace(dataElement, () => dataElement.replace('null', () => resultsJson.trim().replaceAll('</', '<\\/')))
    .replace(/<script src="([^"]+)"><\/script>/g, (_, src) => `<script>${readFileSync(path.join(web, src), 'utf8')}</script>`)
    .replace(/<link rel="stylesheet" href="([^"]+)">/g, (_, href) => `<style>${readFileSync(path.join(web, href), 'utf8')}</style>`);
}
