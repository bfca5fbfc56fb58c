// The live demo (/): four panels fed by a real pushlab-server over the four transports.
// The tests run in order on one page, as a person would use it: watch ticks arrive,
// compare the request counters, then disconnect and reconnect each panel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, eventually, readPanels } from './helpers.mjs';
import { loadFormat } from '../unit/format-script.mjs';

const TRANSPORTS = ['poll', 'long-poll', 'sse', 'ws'];
/** Long enough offline for the ticker (20 ticks/s by default) to emit a couple of dozen ticks. */
const OFFLINE_MS = 1500;

let server, browser, page;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await newPage(browser);
  await page.goto(server.url);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const panels = () => readPanels(page);

async function serverStats() {
  const response = await fetch(`${server.url}/api/stats`);
  return response.json();
}

function clickToggle(transport) {
  return page.click(`.panel[data-transport="${transport}"] [data-action="toggle"]`);
}

test('all four panels show ticks within 5 s', async () => {
  const seen = await eventually(async () => {
    const all = await panels();
    return TRANSPORTS.every((t) => all[t]?.ticks > 0 && all[t].latencyP50Us > 0) && all;
  }, 'ticks in every panel', 5000);
  for (const t of TRANSPORTS) {
    assert.ok(seen[t].prices.some((p) => /^\d+\.\d\d$/.test(p)), `${t} shows prices: ${seen[t].prices}`);
    assert.ok(seen[t].bytes > 0, `${t} counts bytes`);
    assert.ok(seen[t].latencyP50Us > 0, `${t} measures latency`);
  }
  assert.deepEqual(page.problems, []);
});

test('the counters are written as the report and the terminal table write them (web/format.js)', async () => {
  const format = loadFormat();
  // Text and raw value of each counter, read in one go (a panel sets both at once).
  const counters = await page.$$eval('[data-counter="bytes"], [data-counter="ticks"]', (elements) =>
    elements.map((e) => ({ counter: e.dataset.counter, value: Number(e.dataset.value), text: e.textContent })));
  assert.equal(counters.length, 8);
  for (const { counter, value, text } of counters) {
    assert.equal(text, format.formatValue(counter === 'bytes' ? 'bytes' : 'count', value), `${counter} ${value}`);
    if (counter === 'bytes') assert.match(text, /^[\d.,]+ (B|kB|MB)$/, 'decimal SI, not KiB');
  }
});

test('polling requests grow with time while SSE and WebSocket stay at one connection', async () => {
  const before = await panels();
  await page.waitForTimeout(3000);
  const later = await panels();
  // 1 s poll interval: three seconds is about three more requests, whatever the tick rate.
  assert.ok(later.poll.requests - before.poll.requests >= 2, `poll requests ${before.poll.requests} → ${later.poll.requests}`);
  assert.ok(later['long-poll'].requests > before['long-poll'].requests, 'long-poll asks again after every answer');
  for (const t of ['sse', 'ws']) {
    assert.equal(later[t].requests, 1, `${t} opened one connection`);
    assert.ok(later[t].ticks > before[t].ticks, `${t} kept receiving on it`);
  }
  // The server agrees: one open stream and one open socket, each opened once.
  const stats = await serverStats();
  assert.equal(stats.transports.sse.active, 1);
  assert.equal(stats.transports.ws.active, 1);
  assert.equal(stats.transports.sse.requests, 1);
  assert.equal(stats.transports.ws.requests, 1);
  for (const t of TRANSPORTS) assert.equal(later[t].lost, 0, `${t} lost nothing`);
  // What the latency numbers teach: a 1 s poll waits half an interval on average, a push
  // transport a few ms (bounds wide enough for a busy machine, far apart enough to mean it).
  assert.ok(later.poll.latencyP50Us > 300_000 && later.poll.latencyP50Us < 700_000, `poll p50 ${later.poll.latencyP50Us} µs`);
  for (const t of ['long-poll', 'sse', 'ws']) assert.ok(later[t].latencyP50Us < 150_000, `${t} p50 ${later[t].latencyP50Us} µs`);
  assert.deepEqual(page.problems, []);
});

for (const transport of TRANSPORTS) {
  test(`${transport}: disconnect, then reconnect, resumes from the last seq with 0 lost`, async () => {
    await clickToggle(transport);
    assert.equal((await panels())[transport].button, 'Reconnect');
    // The server notices the page went away: no stream, socket or held request is left open.
    const key = transport.replace('-', '_');
    await eventually(async () => (await serverStats()).transports[key].active === 0, `server's ${key}.active to drop to 0`, 3000);
    await page.waitForTimeout(OFFLINE_MS);
    const offline = await panels();
    assert.equal(offline[transport].resume, 'offline');
    await clickToggle(transport);
    const resumed = await eventually(async () => {
      const p = (await panels())[transport];
      return ['ok', 'lost'].includes(p.resume) && p;
    }, `${transport} to resume`, 5000);
    assert.equal(resumed.resume, 'ok', resumed.resumeText);
    assert.equal(resumed.resumeLost, 0, resumed.resumeText);
    // What the ticker sent while we were away came back from the server's history.
    assert.match(resumed.resumeText, /(\d+) ticks replayed/);
    assert.ok(Number(resumed.resumeText.match(/(\d+) ticks replayed/)[1]) >= 10, resumed.resumeText);
    assert.equal(resumed.lost, 0);
    // Replayed ticks are counted apart and kept out of the latency: they are old by design.
    assert.ok(resumed.replayed >= 10, `${transport}: ${resumed.replayed} replayed`);
    if (transport !== 'poll') {
      await page.waitForTimeout(600); // the percentiles are recomputed every 500 ms
      const p99 = (await panels())[transport].latencyP99Us;
      assert.ok(p99 < OFFLINE_MS * 1000 / 2, `${transport}: p99 ${p99} µs after ${OFFLINE_MS} ms offline`);
    }
    assert.deepEqual(page.problems, []);
  });
}

for (const transport of ['poll', 'ws']) {
  test(`${transport}: reconnecting without a cursor counts the ticks sent meanwhile as lost`, async () => {
    await page.uncheck('#resume');
    await clickToggle(transport);
    await page.waitForTimeout(OFFLINE_MS);
    await clickToggle(transport);
    const after = await eventually(async () => {
      const p = (await panels())[transport];
      return ['ok', 'lost'].includes(p.resume) && p;
    }, `${transport} to resume`, 5000);
    assert.equal(after.resume, 'lost', after.resumeText);
    assert.ok(after.resumeLost >= 10, after.resumeText);
    assert.equal(after.lost, after.resumeLost, 'the panel\'s lost counter shows the same gap');
    await page.check('#resume');
    assert.deepEqual(page.problems, []);
  });
}

test('the tick rate control changes the server\'s rate', async () => {
  await page.fill('#rate', '50');
  await page.click('#rate-form button');
  await eventually(async () => (await page.textContent('#rate-status')).includes('50'), 'the rate status to say 50');
  assert.equal((await serverStats()).ticker.rate, 50);
  // An out-of-range rate is refused by the server, and the page shows why.
  await page.fill('#rate', '0');
  await page.click('#rate-form button');
  await eventually(async () => (await page.textContent('#rate-status')).startsWith('not changed'), 'a refusal');
  assert.match(await page.textContent('#rate-status'), /rate/);
  assert.equal((await serverStats()).ticker.rate, 50);
  // The 400 itself is logged by Chromium as a failed resource load: expected here.
  page.problems = page.problems.filter((p) => !/status of 400/.test(p));
  assert.deepEqual(page.problems, []);
});

test('a shorter poll interval makes the polling panel ask more often', async () => {
  await page.selectOption('#poll-interval', '250');
  const start = (await panels()).poll.requests;
  await page.waitForTimeout(2000);
  const added = (await panels()).poll.requests - start;
  // 2 s at 250 ms is 8 slots; allow for slots skipped while a request was out on a busy machine.
  assert.ok(added >= 5 && added <= 10, `added ${added} requests in 2 s`);
  assert.deepEqual(page.problems, []);
});

test('WebSocket talks back: a symbol filter is a subscribe on the same socket, not a new handshake', async () => {
  const wsFilter = '.panel[data-transport="ws"] .filter';
  const before = await panels();
  await page.selectOption(wsFilter, 'ACME');
  await eventually(async () => /subscribed to ACME/.test(await page.textContent('.panel[data-transport="ws"] .state')), 'the server to confirm');
  const filtered = await panels();
  await page.waitForTimeout(2000);
  const later = await panels();
  const added = (t) => later[t].ticks - filtered[t].ticks;
  // One symbol of eight: far fewer ticks than the unfiltered SSE panel over the same time.
  assert.ok(added('ws') < added('sse') / 2, `ws +${added('ws')} vs sse +${added('sse')}`);
  assert.equal(later.ws.requests, before.ws.requests, 'no new handshake');
  await page.selectOption(wsFilter, '');
  await eventually(async () => /subscribed to all symbols/.test(await page.textContent('.panel[data-transport="ws"] .state')), 'back to all');
  await page.waitForTimeout(1000);
  // Switching filters skipped other symbols' seqs on purpose: none of that is loss.
  assert.equal((await panels()).ws.lost, before.ws.lost);
  assert.deepEqual(page.problems, []);
});

test('at phone width the panels stack and nothing runs off the side', async () => {
  const phone = await newPage(browser, { width: 390, height: 844 });
  await phone.goto(server.url);
  await phone.waitForFunction(() => {
    const counters = [...document.querySelectorAll('[data-counter="ticks"]')];
    return counters.length === 4 && counters.every((d) => Number(d.dataset.value) > 0);
  });
  const layout = await phone.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    lefts: [...document.querySelectorAll('.panel')].map((p) => Math.round(p.getBoundingClientRect().left)),
  }));
  assert.ok(layout.overflow <= 0, `page is ${layout.overflow} px wider than the screen`);
  assert.equal(new Set(layout.lefts).size, 1, `one column: ${layout.lefts}`);
  assert.deepEqual(phone.problems, []);
  await phone.close();
});
