// The side of the docs test that touches the machine: finding the Markdown files,
// checking link targets on disk, running a documented command under a timeout, running
// a never-exiting one until it is listening, and the pushlab-server that stands in for
// the reader's `localhost:3000`. The convention is written out at the top of docs.test.mjs.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractLinks, relativeTarget } from './markdown.mjs';

/** The repository whose docs are checked and where commands run: $DOCS_ROOT, else this checkout. */
export const ROOT = path.resolve(process.env.DOCS_ROOT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
export const SERVER_BIN = process.env.PUSHLAB_SERVER_BIN ?? path.join(ROOT, 'target/release/pushlab-server');

/** Every documented command must finish within this (a `just compare` with small parameters takes ~30 s). */
export const COMMAND_TIMEOUT_S = 180;
/** A streaming command (`curl -N …/api/sse`) is stopped after this; being stopped is its pass. */
export const STREAM_TIMEOUT_S = 5;
/** A `docs-test: server` command must print `listening on` within this (it may build first). */
export const SERVER_START_TIMEOUT_S = 180;
/** After SIGTERM, a process group gets this long to exit before SIGKILL. */
const KILL_GRACE_S = 10;
/** How much of a failed command's output the report shows. */
export const TAIL_LINES = 40;

/** `README.md`, `README.ko.md` and every `docs/**\/*.md`, relative to root, the READMEs first. */
export function docFiles(root = ROOT) {
  const docs = existsSync(path.join(root, 'docs'))
    ? readdirSync(path.join(root, 'docs'), { recursive: true })
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join('docs', f))
      .sort()
    : [];
  const readmes = ['README.md', 'README.ko.md'].filter((f) => existsSync(path.join(root, f)));
  return [...readmes, ...docs];
}

/**
 * The links of `file` (relative to root) whose target does not exist: `[{ line, target, why }]`.
 * A target resolves against the file's folder (a leading `/` against the repository root,
 * as GitHub does) and must stay inside the repository: `../shared/x.md` exists on this
 * machine but not in a clone.
 */
export function brokenLinks(root, file, text) {
  const broken = [];
  for (const { line, target } of extractLinks(text)) {
    const rel = relativeTarget(target);
    if (rel === null) continue;
    if (rel === '') { broken.push({ line, target, why: 'empty link target' }); continue; }
    const resolved = rel.startsWith('/') ? path.join(root, rel) : path.resolve(root, path.dirname(file), rel);
    const inside = path.relative(root, resolved);
    if (inside.startsWith('..') || path.isAbsolute(inside)) broken.push({ line, target, why: 'points outside the repository' });
    else if (!existsSync(resolved)) broken.push({ line, target, why: `no such file: ${inside}` });
  }
  return broken;
}

/** A fresh, empty directory for PUSHLAB_LOAD_OUT, so `compare` never writes the user's results/. */
export const freshOutDir = () => mkdtempSync(path.join(tmpdir(), 'pushlab-docs-out-'));
export const removeDir = (dir) => rmSync(dir, { recursive: true, force: true });

/** Sends `signal` to the whole process group led by `child` (bash and everything it started). */
function killGroup(child, signal) {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

// Each command leads its own process group, so a Ctrl-C in the terminal does not reach
// it: when the test process ends, however it ends, it takes the running groups along.
const liveGroups = new Set();
process.on('exit', () => { for (const child of liveGroups) killGroup(child, 'SIGKILL'); });
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    for (const child of liveGroups) killGroup(child, 'SIGTERM');
    process.exit(code);
  });
}

/**
 * Spawns `argv` as the leader of its own process group, collecting stdout and stderr
 * interleaved. `exited` resolves with the leader's exit code; `closed` once its output
 * pipes are closed too, which a background process it started may delay indefinitely.
 */
function spawnGroup(argv, { cwd, env }) {
  const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  liveGroups.add(child);
  const result = { output: '' };
  child.stdout.on('data', (chunk) => { result.output += chunk; });
  child.stderr.on('data', (chunk) => { result.output += chunk; });
  const closed = new Promise((resolve) => child.on('close', resolve));
  const exited = new Promise((resolve) => {
    child.on('error', (error) => { result.output += `\n[spawn error] ${error.message}`; resolve(127); });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
  /** Kills what is left of the group and waits for the last output. */
  const finish = async () => {
    killGroup(child, 'SIGKILL');
    await closed;
    liveGroups.delete(child);
  };
  return { child, result, exited, finish };
}

/**
 * Runs `bash -c command` under GNU `timeout` (which signals the command's whole process
 * group, so a `cargo`, a `curl` in a pipe or a server started by `compare` is stopped too).
 * Resolves `{ code, output, seconds }`: 124 means the timeout stopped it. A watchdog
 * kills the group if even `timeout` hangs, and what the command left running in the
 * background is killed when it ends.
 */
export async function runCommand(command, { cwd = ROOT, env = process.env, timeoutS = COMMAND_TIMEOUT_S } = {}) {
  const started = Date.now();
  const { child, result, exited, finish } = spawnGroup(
    ['timeout', '-k', String(KILL_GRACE_S), String(timeoutS), 'bash', '-c', command], { cwd, env });
  const watchdog = setTimeout(() => killGroup(child, 'SIGKILL'), (timeoutS + 2 * KILL_GRACE_S) * 1000);
  const code = await exited;
  clearTimeout(watchdog);
  await finish(); // whatever the command left running in the background (`x &`) goes too
  return { code, output: result.output, seconds: (Date.now() - started) / 1000 };
}

/**
 * Runs a command that never exits (`just serve`) until its output says `listening on`,
 * then sends SIGTERM to its process group and waits for it to go. Resolves
 * `{ ok, why, output, seconds }`: not ok if it exits first or stays silent past the timeout.
 */
export async function runServerCommand(command, { cwd = ROOT, env = process.env, timeoutS = SERVER_START_TIMEOUT_S } = {}) {
  const started = Date.now();
  const { child, result, exited, finish } = spawnGroup(['bash', '-c', command], { cwd, env });
  const outcome = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, why: `printed no \`listening on\` within ${timeoutS} s` }), timeoutS * 1000);
    const poll = setInterval(() => {
      if (/listening on/.test(result.output)) { clearTimeout(timer); clearInterval(poll); resolve({ ok: true }); }
    }, 100);
    exited.then((code) => {
      clearTimeout(timer); clearInterval(poll);
      // Exiting fails even right after `listening on`: a server that stops is no server.
      resolve(/listening on/.test(result.output) ? { ok: false, why: `exited (code ${code}) right after listening` }
        : { ok: false, why: `exited (code ${code}) before printing \`listening on\`` });
    });
  });
  // Even if bash is gone, what it started may not be: the whole group goes.
  killGroup(child, 'SIGTERM');
  const grace = setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_S * 1000);
  await exited;
  clearTimeout(grace);
  await finish();
  return { ...outcome, output: result.output, seconds: (Date.now() - started) / 1000 };
}

/**
 * The pushlab-server that answers the docs' `localhost:3000` examples, on a free port.
 * Resolves `{ port, url, stop() }` once it prints its address.
 */
export async function startDocsServer(bin = SERVER_BIN) {
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run \`cargo build --release -p pushlab-server -p pushlab-load\` (or set PUSHLAB_SERVER_BIN)`);
  }
  const child = spawn(bin, ['--addr', '127.0.0.1:0', '--rate', '20'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill('SIGKILL')); // a no-op once stop() has run
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} printed no address in 15 s:\n${output}`)), 15_000);
    const poll = setInterval(() => {
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); clearInterval(poll); resolve(m[1]); }
    }, 50);
    child.on('exit', (code) => { clearTimeout(timer); clearInterval(poll); reject(new Error(`${bin} exited (${code}) before listening:\n${output}`)); });
  });
  return {
    url,
    port: Number(new URL(url).port),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_S * 1000);
      await gone;
      clearTimeout(grace);
    },
  };
}

/** The last `n` lines of `output`, indented, with a note of how many were cut. */
export function tail(output, n = TAIL_LINES) {
  const trimmed = output.replace(/\s+$/, '');
  if (trimmed === '') return 'output: none';
  const lines = trimmed.split('\n');
  const head = lines.length > n ? `output (last ${n} of ${lines.length} lines):` : `output (${lines.length} lines):`;
  return [head, ...lines.slice(-n).map((l) => `    ${l}`)].join('\n');
}

/**
 * Everything needed to understand a failed command without rerunning it: where it is
 * written, what ran (after ARGS and the port), where, how it ended, and its output's tail.
 */
export function failureReport({ where, written, ran, cwd, why, output, extra = [] }) {
  return [
    `${where}: ${why}`,
    `  written:  ${written}`,
    ...(ran !== written ? [`  ran:      ${ran}`] : []),
    `  cwd:      ${cwd}`,
    ...extra.map((e) => `  ${e}`),
    tail(output).replace(/^/gm, '  '),
  ].join('\n');
}
