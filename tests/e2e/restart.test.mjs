// The live demo when the server restarts under it (a presenter restarting with other
// flags): every panel must come back by itself. The new server's seq starts again at 1,
// so a panel that kept its old cursor would be refused (400) or would take every new
// tick for a duplicate; the panels notice and start counting afresh.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, eventually, readPanels } from './helpers.mjs';

const TRANSPORTS = ['poll', 'long-poll', 'sse', 'ws'];
/** While the server drains (503), is down (refused) or is new (400 for old cursors), requests fail: that is the point. */
const EXPECTED_WHILE_DOWN = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|status of (400|503)|response code: (400|503)/;

let server, browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('after a server restart on the same address, all four panels receive again, with no false duplicates', async () => {
  server = await startServer();
  browser = await launchBrowser();
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
    return TRANSPORTS.every((t) => now[t].ticks >= down[t].ticks + 10 && now[t].stateKind === 'live') && now;
  }, 'every panel to receive from the new server', 10_000).catch((error) => {
    // Say which panel is stuck, and how: that is the whole diagnosis.
    const summary = TRANSPORTS.map((t) => `${t}: ${down[t].ticks} → ${now[t].ticks} ticks, ${now[t].stateKind} "${now[t].state}", lost ${now[t].lostText}`);
    throw new Error(`${error.message}\n${summary.join('\n')}\npage: ${page.problems.join('\n')}`);
  });
  for (const t of TRANSPORTS) assert.doesNotMatch(back[t].lostText, /duplicate/, `${t}: ${back[t].lostText}`);
  assert.deepEqual(page.problems.filter((p) => !EXPECTED_WHILE_DOWN.test(p)), []);
});
