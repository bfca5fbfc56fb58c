// What every browser test needs: a real pushlab-server on a free port, Debian's
// Chromium driven by playwright-core, and a record of everything the page complained
// about (console errors, uncaught exceptions, failed requests), printed on failure.
//
// The server binary is $PUSHLAB_SERVER_BIN, else target/release/pushlab-server (build it
// with `cargo build --release -p pushlab-server`). It serves web/ from disk
// (`--web-dir`), so the tests check the pages as they are in the tree; embedded.test.mjs
// checks that the copy compiled into the binary is the same. The report test also runs
// pushlab-load from beside the server binary (or $PUSHLAB_LOAD_BIN).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'tests/e2e/fixtures');
const SERVER_BIN = process.env.PUSHLAB_SERVER_BIN ?? path.join(ROOT, 'target/release/pushlab-server');
/** The load generator built beside the server: it writes the self-contained report. */
export const LOAD_BIN = process.env.PUSHLAB_LOAD_BIN ?? path.join(path.dirname(SERVER_BIN), 'pushlab-load');
const CHROMIUM = process.env.PUSHLAB_CHROMIUM ?? '/usr/bin/chromium';
/** How long the server may take to print its address before the test gives up. */
const SERVER_START_TIMEOUT_MS = 15_000;

/**
 * Starts pushlab-server on 127.0.0.1:0 (or `options.addr`) and resolves once it prints
 * `listening on http://…` (`https://…` with `--tls`). `options.args` are extra flags; `options.webDir: false`
 * serves the files compiled into the binary instead of web/.
 */
export async function startServer(options = {}) {
  if (!existsSync(SERVER_BIN)) {
    throw new Error(`no server binary at ${SERVER_BIN}: run \`cargo build --release -p pushlab-server\` or set PUSHLAB_SERVER_BIN`);
  }
  const args = ['--addr', options.addr ?? '127.0.0.1:0', ...(options.webDir === false ? [] : ['--web-dir', path.join(ROOT, 'web')]), ...(options.args ?? [])];
  const child = spawn(SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server printed no address in ${SERVER_START_TIMEOUT_MS} ms:\n${output}`)), SERVER_START_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (https?:\/\/[\d.]+:\d+)/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before listening:\n${output}`)); });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // SPEC §3: the server exits within 5 s of SIGTERM; don't let a hang outlive the test.
      const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A results directory holding `latest.json` (a copy of `fixture`) and every fixture by name. */
export function resultsDirWith(fixture) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pushlab-results-'));
  copyFileSync(path.join(FIXTURES, fixture), path.join(dir, 'latest.json'));
  for (const name of ['quick.json', 'sweep.json', 'workshop.json']) copyFileSync(path.join(FIXTURES, name), path.join(dir, name));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Chromium; `extraArgs` are more switches, e.g. `--ignore-certificate-errors` for `--tls`'s self-signed certificate. */
export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

/**
 * A new page that records every console error, uncaught exception and failed request
 * in `page.problems`, so a test can assert there were none and show them if there were.
 */
export async function newPage(browser, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  page.problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (error) => page.problems.push(`exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? '';
    // Closing a stream or aborting a pending long-poll on purpose is not a failure.
    if (!reason.includes('ERR_ABORTED')) page.problems.push(`request failed: ${request.url()} ${reason}`);
  });
  return page;
}

/** Polls `probe()` until it returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function eventually(probe, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** The demo's panels as data: each counter's raw number (data-value), state and resume verdict. */
export function readPanels(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.panel')].map((panel) => {
    const value = (name) => Number(panel.querySelector(`[data-counter="${name}"]`).dataset.value || NaN);
    const resume = panel.querySelector('.resume');
    const state = panel.querySelector('.state');
    return [panel.dataset.transport, {
      ticks: value('ticks'), requests: value('requests'), bytes: value('bytes'), lost: value('lost'),
      lostText: panel.querySelector('[data-counter="lost"]').textContent,
      latencyP50Us: value('latency'), latencyP99Us: Number(panel.querySelector('[data-counter="latency"]').dataset.p99 || NaN),
      replayed: value('replayed'), prices: [...panel.querySelectorAll('.prices .price')].map((p) => p.textContent),
      state: state.textContent, stateKind: state.dataset.kind,
      resume: resume.dataset.resume, resumeLost: Number(resume.dataset.lost), resumeText: resume.textContent,
      button: panel.querySelector('[data-action="toggle"]').textContent,
    }];
  })));
}
