// The docs test's own logic, on fixtures/sample.md and small strings, independent of
// the real docs: which blocks run, how comments and directives are read, which links
// are checked and which are broken, the port substitution, and how a command's end
// (exit code, timeout, streaming, a server that listens) becomes a verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyArgs, extractCommands, extractLinks, fencedBlocks, headingAnchors, isStreaming, parseDirective, relativeTarget, targetFragment,
  splitComment, substitutePort, usesDocsServer,
} from './markdown.mjs';
import { brokenLinks, runCommand, runServerCommand, tail } from './run.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const FIXTURE = 'tests/docs/fixtures/sample.md';
const sample = readFileSync(path.join(REPO, FIXTURE), 'utf8');

test('fenced blocks: backtick and tilde fences, info strings, a longer fence holds a shorter one', () => {
  const blocks = fencedBlocks(sample).map((b) => [b.info, b.startLine, b.lines.length]);
  assert.deepEqual(blocks, [['text', 18, 1], ['sh', 24, 13], ['console', 40, 1], ['bash', 44, 1], ['sh', 48, 1], ['', 52, 3]]);
  assert.deepEqual(fencedBlocks('```sh\necho unclosed').map((b) => b.lines.map((l) => l.text)), [['echo unclosed']]);
  assert.deepEqual(fencedBlocks('``` `not a fence` ```\n'), []);
});

test('commands: only `sh` blocks, one per line, comments and blank lines skipped, `\\` continues', () => {
  const got = extractCommands(sample).map((c) => [c.line, c.mode, c.command]);
  assert.deepEqual(got, [
    [27, 'run', 'echo one'],
    [28, 'run', 'just compare --preset workshop --duration 2s --clients 20'],
    [29, 'skip', 'just test'],
    [30, 'error', 'just install'],
    [31, 'server', 'just serve --rate 5'],
    [32, 'run', "curl 'localhost:3000/api/poll?since=0#frag' | head -c 100"],
    [33, 'run', 'curl -N http://127.0.0.1:3000/api/sse --max-time 2'],
    [34, 'run', 'echo a#b "c # d" \\# e'],
    [35, 'run', 'cargo build --release -p pushlab-server -q'],
    [37, 'error', 'just compare'],
    [49, 'run', 'echo tilde fence'],
  ]);
  const skip = extractCommands(sample).find((c) => c.mode === 'skip');
  assert.equal(skip.reason, 'runs the whole suite, this test included');
  assert.match(extractCommands(sample).find((c) => c.line === 30).error, /needs a reason/);
});

test('trailing comments: a `#` after whitespace outside quotes; not `a#b`, not quoted, not escaped', () => {
  assert.deepEqual(splitComment('just compare   # run it'), { command: 'just compare', comment: 'run it' });
  assert.deepEqual(splitComment(`curl 'x?a=1#frag'`), { command: `curl 'x?a=1#frag'`, comment: null });
  assert.deepEqual(splitComment('echo "a # b" c'), { command: 'echo "a # b" c', comment: null });
  assert.deepEqual(splitComment('echo a#b \\# c # d'), { command: 'echo a#b \\# c', comment: 'd' });
  assert.deepEqual(splitComment(`echo "it's" # x`), { command: `echo "it's"`, comment: 'x' });
});

test('directives: ARGS, skip REASON, server [ARGS], after a human comment; malformed ones are errors', () => {
  assert.deepEqual(parseDirective(null), { mode: 'run', args: '' });
  assert.deepEqual(parseDirective('just a comment'), { mode: 'run', args: '' });
  assert.deepEqual(parseDirective('docs-test: --clients 20 --duration 2s'), { mode: 'run', args: '--clients 20 --duration 2s' });
  assert.deepEqual(parseDirective('~1.5 min  # docs-test: --duration 2s'), { mode: 'run', args: '--duration 2s' });
  assert.deepEqual(parseDirective('docs-test: skip needs Chromium'), { mode: 'skip', reason: 'needs Chromium' });
  assert.deepEqual(parseDirective('docs-test: server'), { mode: 'server', args: '' });
  assert.deepEqual(parseDirective('docs-test: server --rate 5'), { mode: 'server', args: '--rate 5' });
  assert.match(parseDirective('docs-test: skip').error, /needs a reason/);
  assert.match(parseDirective('docs-test:').error, /empty/);
});

test('directive ARGS: a --flag the command has is replaced in place, anything else appended', () => {
  assert.equal(applyArgs('run --clients 1000 --duration 30s', '--duration 2s --ramp 0s'), 'run --clients 1000 --duration 2s --ramp 0s');
  assert.equal(applyArgs('x --duration=30s | head', '--duration 2s'), 'x --duration 2s | head');
  assert.equal(applyArgs('x --json --duration 3s', '--json f.json'), 'x --json f.json --duration 3s');
  assert.equal(applyArgs('x --durations 3s', '--duration 2s'), 'x --durations 3s --duration 2s');
  assert.equal(applyArgs('x -n 5', '-n 1 -q'), 'x -n 5 -n 1 -q');
  assert.equal(applyArgs('x', ''), 'x');
});

test('links: inline, images, nested badges, <img src>, reference definitions; never inside code or comments', () => {
  assert.deepEqual(extractLinks(sample).map((l) => [l.line, l.target]), [
    [8, 'sample.md#links'], [8, '../markdown.mjs'], [9, '../../../README.md'], [9, 'missing.md'],
    [9, 'img/nope.png'], [10, 'https://example.com/x.md'], [10, 'mailto:a@example.com'], [11, '#links'],
    [12, 'badge.svg'], [12, 'a page.md'], [12, '../../../../etc/passwd'], [13, 'logo.png'], [15, 'ref-target.md'],
  ]);
});

test('link targets: URLs and pure anchors are not files; anchors and queries stripped; %-escapes decoded', () => {
  for (const url of ['https://x.org/a.md', 'http://localhost:3000', 'mailto:a@b.c', 'ws://localhost:3000/api/ws', '//cdn.x/y.js', '#top']) {
    assert.equal(relativeTarget(url), null, url);
  }
  assert.equal(relativeTarget('docs/a.md#part'), 'docs/a.md');
  assert.equal(relativeTarget('img/a.png?raw=1'), 'img/a.png');
  assert.equal(relativeTarget('my%20file.md'), 'my file.md');
  assert.equal(relativeTarget(''), '');
});

test('broken links: resolved against the file\'s folder, each with its line and why', () => {
  const broken = brokenLinks(REPO, FIXTURE, sample).map((b) => [b.line, b.target, b.why]);
  assert.deepEqual(broken, [
    [9, 'missing.md', 'no such file: tests/docs/fixtures/missing.md'],
    [9, 'img/nope.png', 'no such file: tests/docs/fixtures/img/nope.png'],
    [12, 'badge.svg', 'no such file: tests/docs/fixtures/badge.svg'],
    [12, 'a page.md', 'no such file: tests/docs/fixtures/a page.md'],
    [12, '../../../../etc/passwd', 'points outside the repository'],
    [13, 'logo.png', 'no such file: tests/docs/fixtures/logo.png'],
    [15, 'ref-target.md', 'no such file: tests/docs/fixtures/ref-target.md'],
  ]);
  assert.deepEqual(brokenLinks(REPO, 'README.md', '[root](/Cargo.toml) [x]()').map((b) => b.why), ['empty link target']);
});

test('port substitution: localhost:3000 and 127.0.0.1:3000 (also ws://) get the test server\'s port; :30000 does not', () => {
  const cmd = `curl 'localhost:3000/api/poll' http://127.0.0.1:3000 ws://localhost:3000/api/ws x:30000 localhost:30001`;
  assert.ok(usesDocsServer(cmd));
  assert.equal(substitutePort(cmd, 41234),
    `curl 'localhost:41234/api/poll' http://127.0.0.1:41234 ws://localhost:41234/api/ws x:30000 localhost:30001`);
  assert.ok(!usesDocsServer('just compare --clients 3000'));
  assert.ok(!usesDocsServer('curl localhost:30000'));
  assert.ok(usesDocsServer('curl localhost:3000'));
});

test('streaming commands: a `-N` option or the SSE / WebSocket endpoint', () => {
  assert.ok(isStreaming('curl -N localhost:3000/x'));
  assert.ok(isStreaming('curl -sN localhost:3000/x'));
  assert.ok(!isStreaming('curl --no-buffer-NOT localhost:3000/x'));
  assert.ok(isStreaming('curl localhost:3000/api/sse'));
  assert.ok(isStreaming('websocat ws://localhost:3000/api/ws?since=0'));
  assert.ok(!isStreaming("curl 'localhost:3000/api/poll?since=0'"));
  assert.ok(!isStreaming('pushlab-load run --transport sse --url http://127.0.0.1:3000'));
});

test('runCommand: exit code and interleaved output; the timeout stops the whole group with 124', async () => {
  const failed = await runCommand('echo out; echo err >&2; exit 3', { cwd: REPO });
  assert.equal(failed.code, 3);
  assert.equal(failed.output, 'out\nerr\n');
  const started = Date.now();
  const stopped = await runCommand('sleep 30 | cat', { cwd: REPO, timeoutS: 1 });
  assert.equal(stopped.code, 124);
  assert.ok(Date.now() - started < 5000, 'the pipe was stopped with its shell');
  assert.equal((await runCommand('pwd', { cwd: REPO })).output.trim(), REPO);
  const marker = `docs-test-leftover-${process.pid}`;
  const background = await runCommand(`bash -c 'exec -a ${marker} sleep 60' & echo started`, { cwd: REPO });
  assert.deepEqual([background.code, background.output, background.seconds < 5], [0, 'started\n', true]);
  const left = await runCommand(`pgrep -f '${marker.replace(/r-/, '[r]-')}' || true`, { cwd: REPO });
  assert.equal(left.output.trim(), '', 'a background process the command left was killed');
});

test('runServerCommand: passes once `listening on` shows, then stops it; fails if it exits first or stays silent', async () => {
  const ok = await runServerCommand('echo listening on http://127.0.0.1:1; sleep 60', { cwd: REPO });
  assert.equal(ok.ok, true);
  assert.ok(ok.seconds < 5, `stopped promptly (${ok.seconds} s)`);
  const early = await runServerCommand('echo starting; exit 2', { cwd: REPO });
  assert.deepEqual([early.ok, early.why], [false, 'exited (code 2) before printing `listening on`']);
  const silent = await runServerCommand('sleep 60', { cwd: REPO, timeoutS: 1 });
  assert.deepEqual([silent.ok, silent.why], [false, 'printed no `listening on` within 1 s']);
});

test('tail: the last lines, saying how many were cut', () => {
  const output = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n');
  const shown = tail(output, 3).split('\n');
  assert.deepEqual(shown, ['output (last 3 of 50 lines):', '    line 48', '    line 49', '    line 50']);
  assert.equal(tail('\n'), 'output: none');
});

test('heading anchors as GitHub makes them: punctuation dropped, Hangul kept, repeats numbered, code blocks skipped', () => {
  const text = [
    '# Restarts: why a cursor needs its log\'s epoch', '## `--coalesce` and *CPU*', '## 사용자 10,000명 × 1인당 1 MB = 10 GB',
    '## TLS와 HTTP/2', '## Notes', '## Notes', '```sh', '# not a heading', '```', '<a id="custom"></a>',
  ].join('\n');
  assert.deepEqual([...headingAnchors(text)], [
    'restarts-why-a-cursor-needs-its-logs-epoch', '--coalesce-and-cpu', '사용자-10000명--1인당-1-mb--10-gb',
    'tls와-http2', 'notes', 'notes-1', 'custom',
  ]);
});

test('broken links: a #fragment must name a heading of its file (or of this one, for a bare #fragment)', () => {
  const file = 'tests/docs/fixtures/here.md';
  const text = '# Here\n\n[ok](#here) [bad](#nowhere) [ok](sample.md#links) [bad](sample.md#no-such-part) [url](https://x.org/#y)';
  assert.deepEqual(brokenLinks(REPO, file, text).map((b) => [b.target, b.why]), [
    ['#nowhere', 'no heading #nowhere in this file'],
    ['sample.md#no-such-part', 'no heading #no-such-part in tests/docs/fixtures/sample.md'],
  ]);
  assert.equal(targetFragment('a.md#%ED%95%9C'), '한');
  assert.equal(targetFragment('https://x.org/#y'), null);
});
