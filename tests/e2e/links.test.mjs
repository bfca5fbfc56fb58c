// The live demo on an emulated link: the server offers its --demo-links, the page moves
// all four panels there (other ports of the same server: cross-origin, allowed for its
// own ports only), and their latency rises side by side, without losing a tick.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, eventually, readPanels } from './helpers.mjs';

const TRANSPORTS = ['poll', 'long-poll', 'sse', 'ws'];
/** 3G's round trip (crates/link's profile): a push pays about half of it, one way. */
const THREE_G_ONE_WAY_US = 200_000;

let server, browser, page;
before(async () => {
  server = await startServer({ args: ['--demo-links', '3g,satellite'] });
  browser = await launchBrowser();
  page = await newPage(browser);
  await page.goto(server.url);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the server lists its links, each a port that relays to it', async () => {
  const links = await (await fetch(`${server.url}/api/links`)).json();
  assert.deepEqual(links.map((l) => [l.name, l.rtt_ms, l.emulator]), [['3g', 400, 'builtin'], ['satellite', 600, 'builtin']]);
  // Through the link a poll is a full round trip or more (two with the connect's handshake).
  const started = Date.now();
  const answer = await (await fetch(`http://127.0.0.1:${links[0].port}/api/poll`)).json();
  assert.ok(answer.next > 0);
  assert.ok(Date.now() - started >= 800, `${Date.now() - started} ms for a connect and a poll over 3G`);
  // Its own ports may use each other; any other origin gets no CORS header.
  const ours = await fetch(`http://127.0.0.1:${links[0].port}/api/stats`, { headers: { origin: server.url } });
  assert.equal(ours.headers.get('access-control-allow-origin'), server.url);
  const theirs = await fetch(`http://127.0.0.1:${links[0].port}/api/stats`, { headers: { origin: 'http://evil.example' } });
  assert.equal(theirs.headers.get('access-control-allow-origin'), null);
});

test('on a 3G link the four panels degrade side by side, and lose nothing', async () => {
  const onLoopback = await eventually(async () => {
    const all = await readPanels(page);
    return TRANSPORTS.every((t) => all[t]?.ticks > 20 && all[t].latencyP50Us > 0) && all;
  }, 'ticks in every panel', 10_000);
  for (const t of ['long-poll', 'sse', 'ws']) assert.ok(onLoopback[t].latencyP50Us < 100_000, `${t} on loopback: ${onLoopback[t].latencyP50Us} µs`);
  const option = await page.$eval('#link', (select) => [...select.options].find((o) => o.text.startsWith('3g')).value);
  await page.selectOption('#link', option);
  // The latency window is 5 s: once it holds ticks that came over the link, p50 shows it.
  const onLink = await eventually(async () => {
    const all = await readPanels(page);
    return ['long-poll', 'sse', 'ws'].every((t) => all[t].latencyP50Us > THREE_G_ONE_WAY_US * 0.9) && all;
  }, 'push panels at 3G latency', 20_000);
  for (const t of ['sse', 'ws']) {
    assert.ok(onLink[t].latencyP50Us < THREE_G_ONE_WAY_US * 2, `${t} pays about one way: ${onLink[t].latencyP50Us} µs`);
  }
  // A long-poll pays a round trip per answer at 20 ticks/s: above the streams.
  assert.ok(onLink['long-poll'].latencyP50Us > onLink.sse.latencyP50Us, JSON.stringify(onLink));
  assert.ok(onLink.poll.latencyP50Us > THREE_G_ONE_WAY_US, `poll: ${onLink.poll.latencyP50Us} µs`);
  for (const t of TRANSPORTS) assert.equal(onLink[t].lost, 0, `${t} moved from its cursor without a gap`);
  assert.equal(await page.evaluate(() => document.body.dataset.link), '3g');
  assert.deepEqual(page.problems, []);
});
