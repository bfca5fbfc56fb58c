// The report on results files of a particular shape: runs over emulated links, a file
// of listed runs with a --coalesce sweep, and a faults file. The page in general is
// report.test.mjs's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launchBrowser, resultsDirWith, FIXTURES, ROOT } from './helpers.mjs';
import { fixture, chartPixels, assertAllDrawn, tableText, pick, openReport as openIn } from './report-page.mjs';

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

test('runs over emulated links get latency against the link\'s round trip, and the radio model labelled as one', async () => {
  const page = await openReport(`${server.url}/report`);
  await page.setInputFiles('#file-input', path.join(FIXTURES, 'conditions.json'));
  await page.waitForFunction(() => document.body.dataset.source === 'conditions.json');
  const charts = await chartPixels(page);
  assertAllDrawn(charts);
  const titles = charts.map((c) => c.title);
  // One facet per link, named with its round trip, in order of it.
  const facets = titles.filter((t) => t.startsWith('Latency percentiles'));
  assert.deepEqual(facets, [
    'Latency percentiles — 20 ticks/s, link lan (RTT 1 ms)',
    'Latency percentiles — 20 ticks/s, link 4g (RTT 60 ms)',
    'Latency percentiles — 20 ticks/s, link lossy (RTT 100 ms)',
    'Latency percentiles — 20 ticks/s, link 3g (RTT 400 ms)',
    'Latency percentiles — 20 ticks/s, link satellite (RTT 600 ms)',
  ]);
  const byRtt = await page.$eval('figure[data-chart="latency-rtt"] canvas', (c) => {
    const chart = Chart.getChart(c);
    return {
      type: chart.config.type,
      lines: chart.data.datasets.map((d) => `${d.label}: ${d.data.map((p) => `${p.link}@${p.x}`).join(',')}`),
    };
  });
  assert.equal(byRtt.type, 'scatter');
  const points = 'lan@1,4g@60,lossy@100,3g@400,satellite@600';
  assert.deepEqual(byRtt.lines, ['polling', 'long-polling', 'SSE', 'WebSocket'].flatMap((t) => [`${t} p99: ${points}`, `${t} p50: ${points}`]));
  // The radio charts say what they are: a model applied to measured timings.
  const radio = titles.filter((t) => t.startsWith('Radio energy'));
  assert.deepEqual(radio, [
    'Radio energy per client, LTE model — a model applied to measured timings',
    'Radio energy per client, 3G model — a model applied to measured timings',
  ]);
  const caption = await page.textContent('figure[data-chart="radio-lte"] figcaption');
  assert.match(caption, /not a battery measurement/);
  const { head, rows } = await tableText(page);
  assert.equal(head.length - 1, 20, 'one table column per run');
  const row = (label) => rows.find((r) => r[0].startsWith(label));
  assert.ok(row('RTT'), rows.map((r) => r[0]).join(' | '));
  assert.ok(row('radio active per minute, LTE model'), rows.map((r) => r[0]).join(' | '));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a file of listed runs gets a bar per run\'s settings, and a --coalesce sweep its trade chart', async () => {
  const page = await openReport(`${server.url}/report`);
  await page.setInputFiles('#file-input', path.join(FIXTURES, 'efficiency.json'));
  await page.waitForFunction(() => document.body.dataset.source === 'efficiency.json');
  const charts = await chartPixels(page);
  assertAllDrawn(charts);
  const titles = charts.map((c) => c.title);
  assert.ok(titles.includes('Latency percentiles — 5,000 clients, 1 ticks/s'), titles.join(' | '));
  assert.ok(titles.includes('Latency percentiles — 2,000 clients, 100 ticks/s, coalesce 10 ms'), titles.join(' | '));
  assert.ok(titles.includes('Latency percentiles — 2,000 clients, 20 ticks/s, poll every 250 ms'), titles.join(' | '));
  const trade = await page.$eval('figure[data-chart="coalescing"] canvas', (c) => {
    const chart = Chart.getChart(c);
    return { type: chart.config.type, lines: chart.data.datasets.map((d) => `${d.label}: ${d.data.map((p) => p.coalesce).join(',')}`) };
  });
  assert.equal(trade.type, 'scatter');
  assert.deepEqual(trade.lines, [
    'SSE 2,000 × 100/s p99: 0,10,50', 'SSE 2,000 × 100/s p50: 0,10,50',
    'WebSocket 2,000 × 100/s p99: 0,10,50', 'WebSocket 2,000 × 100/s p50: 0,10,50',
  ]);
  // A one-field chart of many runs spans the row, and names every one of them.
  const requests = await page.$eval('figure[data-chart="requests"]', (f) => ({
    wide: f.classList.contains('wide'), labels: Chart.getChart(f.querySelector('canvas')).data.labels.length,
  }));
  assert.deepEqual(requests, { wide: true, labels: 7 });
  const { head } = await tableText(page);
  assert.equal(head.length - 1, fixture('efficiency.json').runs.length, 'one table column per run');
  assert.ok(head.some((h) => h.includes('coalesce 50 ms')), head.join(' | '));
  assert.doesNotMatch(await page.textContent('#summary'), /a sweep/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a faults file gets the faults section: recovery per transport per fault, the storm over time, every record in a table', async () => {
  const page = await openReport(`${server.url}/report`);
  await pick(page, 'faults.json', fixture('faults.json'));
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.getAttribute('body', 'data-error'));
  // No runs: no run charts and no run table, only the faults.
  assert.equal(await page.isVisible('#charts'), false);
  assert.equal(await page.isVisible('#numbers'), false);
  assert.equal(await page.isVisible('#faults'), true);
  const charts = await chartPixels(page);
  assert.deepEqual(charts.map((c) => c.chart), [
    'recovery-restart-jitter', 'recovery-crash-jitter', 'recovery-recycle-jitter', 'recovery-storm-jitter',
    'recovery-storm-fixed', 'storm-connects', 'storm-cpu',
  ]);
  assertAllDrawn(charts);
  // Recycling has bars for the streaming transports only; polling is not applicable, never a 0.
  const recycle = await page.$eval('figure[data-chart="recovery-recycle-jitter"]', (f) => ({
    bars: Chart.getChart(f.querySelector('canvas')).data.datasets.map((d) => d.label),
    caption: f.querySelector('figcaption').textContent,
  }));
  assert.deepEqual(recycle.bars, ['SSE', 'WebSocket']);
  assert.match(recycle.caption, /polling: not applicable\. long-polling: not applicable\./);
  assert.match(recycle.caption, /from each stream's end/);
  const storm = await page.$eval('figure[data-chart="recovery-storm-fixed"] figcaption', (c) => c.textContent);
  assert.match(storm, /WebSocket: 1 clients never recovered/);
  // The storm's connection rate: one line per transport and policy, dashed with jitter, in connects per second.
  const rate = await page.$eval('figure[data-chart="storm-connects"] canvas', (c) => {
    const chart = Chart.getChart(c);
    const fixedWs = chart.data.datasets.find((d) => d.label === 'WebSocket, fixed');
    return {
      lines: chart.data.datasets.map((d) => `${d.label}${d.borderDash.length ? ' (dashed)' : ''}`),
      peak: Math.max(...fixedWs.data.map((p) => p.y)),
      at: fixedWs.data.find((p) => p.y > 0).x,
      axis: chart.options.scales.y.title.text,
    };
  });
  assert.deepEqual(rate.lines, [
    'polling, jitter (dashed)', 'long-polling, jitter (dashed)', 'SSE, jitter (dashed)', 'WebSocket, jitter (dashed)',
    'polling, fixed', 'long-polling, fixed', 'SSE, fixed', 'WebSocket, fixed',
  ]);
  // 5,000 connects in one 100 ms step, 1 s after the SIGKILL: 50,000 per second.
  assert.deepEqual({ peak: rate.peak, at: rate.at, axis: rate.axis }, { peak: 50_000, at: 1000, axis: 'connects per second' });
  // The table: a column per record, its figures as the catalogue writes them.
  const table = await page.$eval('#faults-table', (t) => ({
    head: [...t.tHead.rows[0].cells].slice(1).map((c) => c.innerText.replace(/\s+/g, ' ').trim()),
    rows: [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.innerText.trim())),
  }));
  assert.equal(table.head.length, fixture('faults.json').faults.length);
  assert.equal(table.head[8], 'SSE recycle, jitter');
  const row = (label) => table.rows.find((r) => r[0] === label)?.slice(1);
  assert.deepEqual(row('resets').slice(0, 4), ['100', '100', '100', '100']);
  assert.deepEqual(row('resets').slice(8, 10), ['0', '0'], 'recycling resumes in the same run');
  assert.deepEqual(row('streams the server recycled').slice(7, 11), ['not measured', '300', '300', 'not measured']);
  assert.equal(row('clients not recovered')[17], '1');
  assert.match(row('recovery p50')[0], /^\d+(\.\d+)? ms$/);
  assert.match(await page.textContent('#summary'), /18 fault runs/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a proxies file gets the table of what each proxy did to each transport; a file without proxies none', async () => {
  const page = await openReport(`${server.url}/report`);
  assert.equal(await page.isVisible('#proxies'), false, 'quick.json has no proxy runs: no proxy table');
  await page.setInputFiles('#file-input', path.join(ROOT, 'docs/results/proxies.json'));
  await page.waitForFunction(() => document.body.dataset.source === 'proxies.json');
  assert.equal(await page.isVisible('#proxies'), true);
  const grid = await page.$$eval('#proxies-table tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  // docs/results/proxies.json as measured (docs/proxies.md's table): one row per transport
  // and feed rate (in the report's order), SSE's rows also by keepalive; a proxy not run for a row is "—".
  assert.deepEqual(grid, [
    ['transport', 'direct', 'nginx-default', 'nginx-tuned', 'buffering-proxy'],
    ['polling, 20 ticks/s', 'works', 'works', 'works', 'works'],
    ['long-polling, 0.2 ticks/s', 'works', 'cut', 'works', '—'],
    ['long-polling, 20 ticks/s', 'works', 'works', 'works', 'works'],
    ['SSE, 0.2 ticks/s, keepalive off', 'works', 'cut', 'works', '—'],
    ['SSE, 0.2 ticks/s, keepalive 1 s', '—', 'works', '—', '—'],
    ['SSE, 20 ticks/s, keepalive 15 s', 'works', 'works', 'works', 'slowed'],
    ['WebSocket, 20 ticks/s', 'works', 'broken', 'works', 'works'],
  ]);
  // Each outcome says what it rests on, and the problems stand out.
  const cut = await page.$eval('#proxies-table td[data-outcome="cut"]', (td) => ({ title: td.title, bad: td.classList.contains('bad') }));
  assert.match(cut.title, /cut at 3\.0 s/);
  assert.equal(cut.bad, true);
  assert.equal(await page.$eval('#proxies-table td[data-outcome="works"]', (td) => td.classList.contains('bad')), false);
});
