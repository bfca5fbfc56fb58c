// The live demo when the server restarts under it (a presenter restarting with other
// flags): every panel must come back by itself. The new server's seq starts again at 1
// in a new epoch (SPEC §7), so an old cursor is answered with a reset notice and the new
// run's history: the panels say so and count afresh, with no false duplicates. And a page
// with nothing but a plain `EventSource` survives the restart with no code of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, eventually, readPanels } from './helpers.mjs';

const TRANSPORTS = ['poll', 'long-poll', 'sse', 'ws'];
/** While the server drains or is down, requests fail: that is the point (but no 4xx: old cursors get a reset, not a 400). */
const EXPECTED_WHILE_DOWN = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|status of 503|response code: 503/;

let server, browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

test('after a server restart on the same address, all four panels receive again, with no false duplicates', async () => {
  const page = await newPage(browser);
  await page.goto(server.url);
  // Name the four panels: before the page has built them there are none, and "every" of none is true.
  const ticking = async () => { const p = await readPanels(page); return TRANSPORTS.every((t) => p[t]?.ticks > 0); };
  await eventually(ticking, 'ticks in every panel before the restart');

  const addr = new URL(server.url).host;
  await server.stop();
  const down = await readPanels(page);
  server = await startServer({ addr });

  let now;
  const back = await eventually(async () => {
    now = await readPanels(page);
    // Caught up: the verdict is written once a live tick of the new run arrived.
    return TRANSPORTS.every((t) => now[t].ticks >= down[t].ticks + 10 && now[t].stateKind === 'live' && now[t].resume === 'reset') && now;
  }, 'every panel to receive from the new server', 10_000).catch((error) => {
    // Say which panel is stuck, and how: that is the whole diagnosis.
    const summary = TRANSPORTS.map((t) => `${t}: ${down[t].ticks} → ${now[t].ticks} ticks, ${now[t].stateKind} "${now[t].state}", lost ${now[t].lostText}`);
    throw new Error(`${error.message}\n${summary.join('\n')}\npage: ${page.problems.join('\n')}`);
  });
  for (const t of TRANSPORTS) {
    assert.doesNotMatch(back[t].lostText, /duplicate/, `${t}: ${back[t].lostText}`);
    assert.match(back[t].lostText, /; 1 reset \(server restarted\)/, `${t}: ${back[t].lostText}`);
    // The verdict: a reset, the new run's history replayed, nothing lost within it.
    assert.equal(back[t].resume, 'reset', `${t}: ${back[t].resumeText}`);
    assert.match(back[t].resumeText, /^Server restarted: reset, \d+ ticks of the new run replayed, 0 lost since/, `${t}: ${back[t].resumeText}`);
    assert.equal(back[t].lost, 0, `${t}: ${back[t].lostText}`);
  }
  assert.deepEqual(page.problems.filter((p) => !EXPECTED_WHILE_DOWN.test(p)), []);
  await page.close();
});

test('a page with nothing but new EventSource(\'/api/sse\') keeps receiving across a restart', async () => {
  const page = await newPage(browser);
  // Any page of the server's origin will do; the browser's favicon request is not the page's.
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
  await page.goto(`${server.url}/api/stats`);
  await page.evaluate(() => {
    // The page itself: one line. The listeners only let the test watch it.
    const source = new EventSource('/api/sse');
    window.seen = { ticks: 0, resets: [], lastId: '', errors: 0 };
    source.onmessage = (event) => { window.seen.ticks++; window.seen.lastId = event.lastEventId; };
    source.addEventListener('reset', (event) => window.seen.resets.push(JSON.parse(event.data).epoch));
    source.onerror = () => { window.seen.errors++; };
  });
  const seen = () => page.evaluate(() => ({ ...window.seen, state: document.readyState }));
  const oldEpoch = (await (await fetch(`${server.url}/api/stats`)).json()).ticker.epoch;
  const before = await eventually(async () => { const s = await seen(); return s.ticks >= 5 && s; }, 'ticks before the restart');
  assert.match(before.lastId, new RegExp(`^${oldEpoch}-\\d+$`), 'event ids carry the epoch');

  const addr = new URL(server.url).host;
  await server.stop();
  server = await startServer({ addr });
  const newEpoch = (await (await fetch(`${server.url}/api/stats`)).json()).ticker.epoch;
  assert.notEqual(newEpoch, oldEpoch);
  const after = await eventually(async () => {
    const s = await seen();
    return s.resets.length === 1 && s.lastId.startsWith(`${newEpoch}-`) && s.ticks >= before.ticks + 10 && s;
  }, 'the plain EventSource to reconnect by itself, get a reset and keep receiving', 10_000);
  assert.deepEqual(after.resets, [newEpoch]);
  assert.ok(after.errors >= 1, 'it did see the stream drop');
  assert.deepEqual(page.problems.filter((p) => !EXPECTED_WHILE_DOWN.test(p)), []);
});
