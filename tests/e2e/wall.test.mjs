// The six-connection wall (/wall.html) in Chromium: eight EventSource streams to one
// host. Over HTTP/1.1 six connect and tick, the 7th and 8th wait and receive nothing
// while the six are open, and the page says so; over HTTPS with HTTP/2 (the server's
// --tls, a self-signed certificate) all eight flow over one connection.
//
// With PUSHLAB_SCREENSHOTS_DIR set, each state is also saved there as a PNG
// (`just screenshots` does it for docs/img/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launchBrowser, newPage, eventually } from './helpers.mjs';

/** Long enough after the wall shows for a waiting stream to have had many ticks' chance. */
const HOLD_MS = 3000;

function readStreams(page) {
  return page.evaluate(() => ({
    protocol: document.getElementById('protocol').textContent,
    verdict: document.getElementById('verdict').textContent,
    streams: [...document.querySelectorAll('.stream')].map((s) => ({ state: s.dataset.state, ticks: Number(s.dataset.ticks) })),
  }));
}

async function screenshot(page, file) {
  const dir = process.env.PUSHLAB_SCREENSHOTS_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, file) });
}

test('over HTTP/1.1 the 7th and 8th stream wait for a connection that never frees', async () => {
  const server = await startServer({ args: ['--rate', '20'] });
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, { width: 1280, height: 640 });
    await page.goto(`${server.url}/wall.html`);
    const wall = await eventually(async () => {
      const s = await readStreams(page);
      const states = s.streams.map((x) => x.state);
      return states.filter((x) => x === 'connected').length === 6 && states.filter((x) => x === 'waiting').length === 2 && s;
    }, '6 connected and 2 waiting', 10_000);
    assert.equal(wall.protocol, 'http/1.1');
    await page.waitForTimeout(HOLD_MS);
    const held = await readStreams(page);
    const waiting = held.streams.filter((x) => x.state === 'waiting');
    assert.equal(waiting.length, 2, JSON.stringify(held));
    assert.deepEqual(waiting.map((x) => x.ticks), [0, 0], 'no tick reaches a stream without a connection');
    for (const s of held.streams.filter((x) => x.state === 'connected')) assert.ok(s.ticks > 20, JSON.stringify(held));
    assert.match(held.verdict, /6 of 8 streams flowing; 2 waiting for a free connection/);
    await screenshot(page, 'wall-http1.png');
    assert.deepEqual(page.problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('over HTTPS with HTTP/2 all 8 streams flow over one connection', async () => {
  const server = await startServer({ args: ['--rate', '20', '--tls'] });
  assert.match(server.url, /^https:/);
  // The certificate is the one --tls made at start, signed by no one the browser knows.
  const browser = await launchBrowser(['--ignore-certificate-errors']);
  try {
    const page = await newPage(browser, { width: 1280, height: 640 });
    await page.goto(`${server.url}/wall.html`);
    await eventually(async () => (await readStreams(page)).streams.every((x) => x.state === 'connected'), 'all 8 connected', 10_000);
    await page.waitForTimeout(HOLD_MS);
    const flowing = await readStreams(page);
    assert.equal(flowing.protocol, 'h2');
    assert.equal(flowing.streams.length, 8);
    for (const s of flowing.streams) assert.ok(s.ticks > 20, JSON.stringify(flowing));
    assert.equal(flowing.verdict, 'All 8 streams flowing over one host.');
    await screenshot(page, 'wall-http2.png');
    assert.deepEqual(page.problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
