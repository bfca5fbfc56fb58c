// Saves screenshots of both pages under docs/img/, at 1280×800 and at phone width,
// from a real pushlab-server: the demo after it has run a few seconds, the report from
// the quick and sweep fixtures (which say on the page that they are fixtures), and the
// report of the measured results committed under docs/results/ (for docs/results.md).
//
// Run: node tests/e2e/screenshots.mjs   (not a test: `node --test` does not pick it up)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, resultsDirWith, launchBrowser, newPage, ROOT } from './helpers.mjs';

const OUT = path.join(ROOT, 'docs/img');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Where web/i18n.js keeps the language chosen on the switch. */
const LANG_KEY = 'pushlab.lang';
/** Long enough for every panel to fill its prices and start its chart. */
const DEMO_WARMUP_MS = 6000;

const SHOTS = [
  { file: 'demo-1280.png', url: '/', viewport: DESKTOP, waitMs: DEMO_WARMUP_MS },
  { file: 'demo-phone.png', url: '/', viewport: PHONE, waitMs: DEMO_WARMUP_MS, fullPage: true },
  { file: 'report-1280.png', url: '/report?results=quick', viewport: DESKTOP },
  { file: 'report-sweep-1280.png', url: '/report?results=sweep', viewport: DESKTOP },
  { file: 'report-phone.png', url: '/report?results=quick', viewport: PHONE },
  // The Korean docs' pictures: the same pages with Korean chosen on the switch.
  { file: 'demo-ko-1280.png', url: '/', viewport: DESKTOP, waitMs: DEMO_WARMUP_MS, lang: 'ko' },
];

/** The measured runs of docs/results/*.json, served as the server's results dir. */
const MEASURED = [
  { file: 'results-quick.png', url: '/report?results=quick', viewport: DESKTOP, fullPage: true },
  { file: 'results-workshop.png', url: '/report?results=workshop', viewport: DESKTOP, fullPage: true },
  { file: 'results-efficiency.png', url: '/report?results=efficiency', viewport: DESKTOP, fullPage: true },
  { file: 'results-faults.png', url: '/report?results=faults', viewport: DESKTOP, fullPage: true },
  { file: 'results-quick-ko.png', url: '/report?results=quick', viewport: DESKTOP, lang: 'ko' },
];

mkdirSync(OUT, { recursive: true });
let problems = 0;
const browser = await launchBrowser();
try {
  const results = resultsDirWith('quick.json');
  problems += await shoot(SHOTS, ['--results-dir', results.dir]);
  results.remove();
  problems += await shoot(MEASURED, ['--results-dir', path.join(ROOT, 'docs/results')]);
} finally {
  await browser.close();
}
process.exitCode = problems ? 1 : 0;

/** Takes `shots` from a fresh server started with `args`; returns the problems seen. */
async function shoot(shots, args) {
  const server = await startServer({ args });
  let seen = 0;
  try {
    for (const shot of shots) {
      const page = await newPage(browser, shot.viewport);
      if (shot.lang) await page.addInitScript(([key, lang]) => localStorage.setItem(key, lang), [LANG_KEY, shot.lang]);
      await page.goto(server.url + shot.url);
      if (shot.waitMs) await page.waitForTimeout(shot.waitMs);
      else await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.screenshot({ path: path.join(OUT, shot.file), fullPage: shot.fullPage ?? false });
      console.log(`docs/img/${shot.file}${page.problems.length ? `  PROBLEMS: ${page.problems.join('; ')}` : ''}`);
      seen += page.problems.length;
      await page.close();
    }
  } finally {
    await server.stop();
  }
  return seen;
}
