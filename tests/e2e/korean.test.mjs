// The pages in Korean (web/i18n.js): a browser whose language is Korean gets the demo
// and the report in Korean, with no English caption left; at phone width nothing runs
// off the right edge; the switch goes to English and back (and is remembered); and a
// browser in English still gets English. The six-connection wall (/wall.html) too.
//
// "No English left" is checked word by word (latin.mjs): every visible text, title and
// aria-label, and every chart's axis titles, legend labels and tick labels, may hold a
// Latin word only if it is a name that stays Latin in Korean (LATIN_NAMES there).
//
// With PUSHLAB_SCREENSHOTS_DIR set, the phone-width pages in Korean are saved there as
// demo-ko.png and report-ko.png (`just screenshots` does it for docs/img/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, eventually, ROOT, LOAD_BIN } from './helpers.mjs';
import { pageTexts, leftoverEnglish, overflowing, visibleHangul } from './latin.mjs';

const PHONE = { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const RESULTS = path.join(ROOT, 'docs/results');
/** Results files whose every panel the report draws: runs, faults, proxies, links and the radio model, coalescing, TLS and HTTP/2. */
const REPORTS = ['quick', 'faults', 'proxies', 'conditions', 'battery', 'efficiency', 'http2'];

let server, korean, english;
before(async () => {
  server = await startServer({ args: ['--results-dir', RESULTS, '--demo-links', '3g,satellite'] });
  korean = await launchBrowser(['--lang=ko']);
  english = await launchBrowser(['--lang=en-US']);
});
after(async () => {
  await korean?.close();
  await english?.close();
  await server?.stop();
});

/** A phone-sized page in a fresh context (its own localStorage) of `browser`, recording problems. */
async function phonePage(browser, locale) {
  const context = await browser.newContext({ ...PHONE, locale });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (error) => page.problems.push(`exception: ${error.message}`));
  return page;
}

async function openDemo(page) {
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.state === 'running');
  // Every panel live with ticks, so their states, counters and charts are drawn.
  await eventually(() => page.$$eval('.panel [data-counter="ticks"]', (cells) => cells.every((c) => Number(c.dataset.value) > 0)),
    'ticks in every panel', 8000);
  await page.waitForTimeout(600);
}

async function openReport(page, name) {
  await page.goto(`${server.url}/report?results=${name}`);
  await page.waitForFunction(() => document.body.dataset.state && document.body.dataset.state !== 'loading');
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.getAttribute('body', 'data-error'));
}

/** The symbols the server ticks (ACME, BOLT …): names, shown as they are. */
async function symbols() {
  const stats = await (await fetch(`${server.url}/api/stats`)).json();
  return stats.ticker.symbols;
}

/** Words a results file names that the page shows as written: its preset, OS and links. */
function fileNames(name) {
  const results = JSON.parse(readFileSync(path.join(RESULTS, `${name}.json`), 'utf8'));
  const links = (results.runs ?? []).map((r) => r.link?.name ?? '');
  return [results.scenario?.preset ?? '', results.machine?.os ?? '', ...links].join(' ').split(/[^A-Za-z]+/).filter(Boolean);
}

async function assertKorean(page, what, extraNames = []) {
  assert.equal(await page.getAttribute('html', 'lang'), 'ko', `${what}: <html lang>`);
  const left = leftoverEnglish(await pageTexts(page), extraNames);
  assert.deepEqual(left, [], `${what}: English left on the page:\n${left.map((l) => `  ${l.where}: ${JSON.stringify(l.text)} → ${l.words.join(', ')}`).join('\n')}`);
}

async function assertFits(page, what) {
  const wide = await overflowing(page);
  assert.deepEqual(wide, [], `${what}: wider than the phone's ${PHONE.viewport.width} px`);
}

/** The demo's whole page (as demo-phone.png), the report's first screen (as report-phone.png). */
async function screenshot(page, file, fullPage) {
  const dir = process.env.PUSHLAB_SCREENSHOTS_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, file), fullPage });
}

test('the demo is in Korean in a Korean browser, with no English caption left, and fits a phone', async () => {
  const page = await phonePage(korean, 'ko-KR');
  await openDemo(page);
  const names = await symbols();
  await assertKorean(page, 'demo', names);
  assert.equal(await page.textContent('h1'), 'pushlab 라이브');
  assert.equal(await page.textContent('.panel[data-transport="ws"] .transport-name'), '웹소켓');
  await assertFits(page, 'demo');
  await screenshot(page, 'demo-ko.png', true);
  // The verdicts a panel writes after a disconnect and a reconnect are Korean too.
  const toggle = '.panel[data-transport="sse"] [data-action="toggle"]';
  await page.click(toggle);
  assert.equal(await page.textContent(toggle), '재연결');
  await page.waitForTimeout(1200);
  await assertKorean(page, 'demo, one panel offline', names);
  await page.click(toggle);
  await eventually(() => page.$eval('.panel[data-transport="sse"] .resume', (e) => e.dataset.resume === 'ok'), 'sse to resume', 5000);
  await assertKorean(page, 'demo, one panel resumed', names);
  await assertFits(page, 'demo, one panel resumed');
  // On an emulated link (the server's --demo-links): its option, its status, the panels moving there.
  await page.selectOption('#link', { index: 1 });
  await page.waitForTimeout(1500);
  await assertKorean(page, 'demo on a link', names);
  await assertFits(page, 'demo on a link');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

for (const name of REPORTS) {
  test(`the report of docs/results/${name}.json is in Korean, with no English caption left, and fits a phone`, async () => {
    const page = await phonePage(korean, 'ko-KR');
    await openReport(page, name);
    await assertKorean(page, `report ${name}`, fileNames(name));
    await assertFits(page, `report ${name}`);
    if (name === 'quick') await screenshot(page, 'report-ko.png', false);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

test('the report\'s panels for faults, proxies and links render (so the checks above read them)', async () => {
  const page = await phonePage(korean, 'ko-KR');
  for (const [name, selector] of [['faults', '#faults'], ['proxies', '#proxies'], ['conditions', 'figure[data-chart="latency-rtt"]'],
    ['battery', 'figure[data-chart="radio-lte"]'], ['efficiency', 'figure[data-chart="coalescing"]']]) {
    await openReport(page, name);
    assert.ok(await page.isVisible(selector), `${name}: ${selector} shown`);
  }
  await page.context().close();
});

test('the switch goes to English and back without a reload, and the choice is remembered', async () => {
  const page = await phonePage(korean, 'ko-KR');
  await openDemo(page);
  await page.evaluate(() => { window.notReloaded = true; });
  await page.click('[data-set-lang="en"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'pushlab live');
  await page.waitForTimeout(300); // the panels redraw their counters and verdicts
  assert.deepEqual(await visibleHangul(page), ['한국어'], 'only the switch\'s own button stays Korean');
  assert.equal(await page.textContent('.panel[data-transport="poll"] [data-label="requests"]'), 'HTTP requests');
  await page.click('[data-set-lang="ko"]');
  await page.waitForTimeout(300);
  await assertKorean(page, 'demo, switched back', await symbols());
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'switched without a reload');
  // English, chosen, beats the browser's Korean on the next visit.
  await page.click('[data-set-lang="en"]');
  await openReport(page, 'proxies');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#proxies h2'), 'What each proxy did to each transport');
  assert.deepEqual(await visibleHangul(page), ['한국어']);
  await page.click('[data-set-lang="ko"]');
  await page.waitForFunction(() => document.querySelector('#proxies h2').textContent === '각 프록시가 각 전송 방식에 한 일');
  await assertKorean(page, 'report proxies, switched back', fileNames('proxies'));
  // And to English again, in place: the report redraws its summary, tables and charts.
  await page.click('[data-set-lang="en"]');
  await page.waitForFunction(() => document.querySelector('#proxies h2').textContent === 'What each proxy did to each transport');
  assert.deepEqual(await visibleHangul(page), ['한국어']);
  assert.equal(await page.textContent('#proxies-table td[data-outcome="broken"]'), 'broken');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a browser in English gets both pages in English', async () => {
  const page = await phonePage(english, 'en-US');
  await openDemo(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'pushlab live');
  assert.deepEqual(await visibleHangul(page), ['한국어']);
  await openReport(page, 'faults');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#faults h2'), 'Faults: restarts, crashes, recycling and reconnect storms');
  assert.deepEqual(await visibleHangul(page), ['한국어']);
  await page.context().close();
});

test('the six-connection wall is in Korean too, wall and all, and switches to English', async () => {
  const page = await phonePage(korean, 'ko-KR');
  await page.goto(`${server.url}/wall.html`);
  // Over HTTP/1.1: six streams connected, two waiting for a connection that never frees.
  await eventually(() => page.$eval('#verdict', (v) => v.dataset.kind === 'wall'), 'the wall', 10_000);
  await assertKorean(page, 'wall');
  assert.match(await page.textContent('#verdict'), /^스트림 8개 중 6개가 흐르고, 2개는 빈 연결을 기다립니다/);
  await assertFits(page, 'wall');
  await page.click('[data-set-lang="en"]');
  assert.match(await page.textContent('#verdict'), /^6 of 8 streams flowing; 2 waiting for a free connection/);
  assert.match(await page.textContent('.wall-summary p'), /This page talks http\/1\.1 to this host/);
  assert.deepEqual(await visibleHangul(page), ['한국어']);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the self-contained report (`just report`) carries the Korean too', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pushlab-report-ko-'));
  try {
    const file = path.join(dir, 'report.html');
    execFileSync(LOAD_BIN, ['report', path.join(RESULTS, 'proxies.json'), '--out', file], { stdio: 'pipe' });
    const page = await phonePage(korean, 'ko-KR');
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    await assertKorean(page, 'self-contained report', fileNames('proxies'));
    assert.equal(await page.textContent('#source'), '출처: 이 페이지에 들어 있는 결과');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
