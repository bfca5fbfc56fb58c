// The docs stay true: every command README.md and docs/ present as runnable runs, and
// every file they link to exists. Run with `just test-docs` (which builds the release
// binaries first), or `node --test tests/docs/`; DOCS_ROOT=/other/checkout checks
// another tree's docs, running the commands there.
//
// ## The convention the docs follow
//
// 1. Files checked: README.md, README.ko.md and every docs/**/*.md (the Korean twins
//    in docs/ko/ too; twins.test.mjs keeps them in step with the English).
// 2. Links: every relative link or image target — `[x](path)`, `![x](path)`,
//    `[id]: path`, `<img src="path">` — resolved against the Markdown file's folder
//    (a leading `/` against the repository root) with `#anchor` and `?query` stripped,
//    must exist and stay inside the repository. Absolute URLs (`http:`, `https:`,
//    `mailto:`, any `scheme:`), pure `#anchors`, and anything inside backticks or code
//    blocks are not checked. One test per file lists every broken link as file:line.
// 3. Runnable commands: fenced blocks whose info string is exactly `sh` hold commands,
//    one per line (a line ending in `\` continues on the next). Blank lines and lines
//    starting with `#` are skipped; a trailing ` # comment` (a `#` after whitespace,
//    outside quotes) is not part of the command. Other blocks (`text`, `console`, `bash`,
//    `json`, `mermaid`, no info string…) are never run: use them for output, sketches
//    and commands that must not run.
// 4. A trailing comment may carry a directive, after `docs-test:` (a human comment may
//    come first: `just compare  # ~1.5 min  # docs-test: --duration 2s`):
//    - `# docs-test: ARGS` — small parameters for the run, e.g. `just compare --preset
//      workshop  # docs-test: --clients 20 --duration 2s --ramp 0s --settle 0s`. A
//      `--flag [value]` the command already has is replaced in place (clap refuses a
//      flag given twice: `… --duration 30s  # docs-test: --duration 2s` runs
//      `… --duration 2s`); anything else is appended to the end of the line (so not
//      after a pipe). Values are split on spaces: no quoting in ARGS.
//    - `# docs-test: skip REASON` — not run; REASON is required and shown as the skip.
//    - `# docs-test: server [ARGS]` — a command that never exits (`just serve`): it is
//      started, passes once its output shows `listening on`, and is then stopped
//      (SIGTERM to its process group). It fails if it exits first or is silent for
//      180 s. It runs with PUSHLAB_ADDR=127.0.0.1:0 and its `localhost:3000` /
//      `127.0.0.1:3000` becomes `:0`, so it never takes the port of a server you run.
// 5. A command that mentions `localhost:3000` or `127.0.0.1:3000` (curl examples,
//    `pushlab-load run --url http://127.0.0.1:3000`, `ws://localhost:3000/…`) runs
//    against a pushlab-server the test starts on a free port (`--addr 127.0.0.1:0
//    --rate 20`), the port substituted in the command; one server per Markdown file,
//    started at its first such command, stopped after its last.
// 6. Every command runs as `bash -c` from the repository root, under `timeout` (180 s),
//    with stdin empty, PUSHLAB_LOAD_OUT set to a fresh temporary directory (so
//    `compare` never writes your results/; kept and named in the report if the command
//    fails) and no other PUSHLAB_* variable from your environment; it must exit 0.
//    A *streaming* command — with a `-N` option (`-sN` too) or naming `/api/sse` or `/api/ws` —
//    is stopped after 5 s, and being stopped (exit 124) is its pass; for any other
//    command 124 (timed out) is a failure. A failure shows the command as written and
//    as run, the exit code, the time and the last 40 lines of output. Commands run one
//    at a time, in the order of the file (the load tests need the cores to themselves).
// 7. One test per Markdown file for its links, and one per command, named
//    `file:line  command` (as run, before the port substitution).
// 8. A guard: README.md and README.ko.md name `just compare` and `just test` in their
//    first 20 lines.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { extractCommands, isStreaming, substitutePort, usesDocsServer } from './markdown.mjs';
import {
  ROOT, COMMAND_TIMEOUT_S, STREAM_TIMEOUT_S, brokenLinks, docFiles, failureReport,
  freshOutDir, removeDir, runCommand, runServerCommand, startDocsServer,
} from './run.mjs';

/** How far down the README the quick start must be. */
const QUICK_START_LINES = 20;
/** The environment of a reader who set nothing: your own PUSHLAB_* settings don't leak into the commands. */
const readerEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PUSHLAB_')));

for (const readme of ['README.md', 'README.ko.md']) {
  test(`${readme} names \`just compare\` and \`just test\` in its first ${QUICK_START_LINES} lines`, () => {
    const head = readFileSync(path.join(ROOT, readme), 'utf8').split('\n').slice(0, QUICK_START_LINES).join('\n');
    for (const command of ['just compare', 'just test']) {
      assert.ok(head.includes(command), `${readme}: \`${command}\` is not in the first ${QUICK_START_LINES} lines (the quick start comes first)`);
    }
  });
}

// A command written the same way (docs-test arguments included) in two places is run
// once, at the first: it would prove nothing new and costs CI up to a minute each.
const firstWritten = new Map();

for (const file of docFiles(ROOT)) {
  const text = readFileSync(path.join(ROOT, file), 'utf8');

  describe(file, () => {
    // The stand-in for the reader's localhost:3000, started when a command first needs it.
    let docsServer = null;
    after(() => docsServer?.stop());

    test(`${file}  links`, () => {
      const broken = brokenLinks(ROOT, file, text);
      assert.ok(broken.length === 0, [`${broken.length} broken link(s):`,
        ...broken.map((b) => `  ${file}:${b.line}  (${b.target})  ${b.why}`)].join('\n'));
    });

    for (const cmd of extractCommands(text)) {
      const where = `${file}:${cmd.line}`;
      const name = `${where}  ${cmd.command}`;
      if (cmd.mode === 'skip') {
        test(name, { skip: cmd.reason }, () => {});
        continue;
      }
      const key = `${cmd.mode} ${cmd.command}`;
      if (firstWritten.has(key)) {
        test(name, { skip: `the same command as ${firstWritten.get(key)}, run there` }, () => {});
        continue;
      }
      firstWritten.set(key, where);
      test(name, async (t) => {
        assert.ok(cmd.mode !== 'error', `${where}: ${cmd.error}\n  written:  ${cmd.written}`);
        let ran = cmd.command;
        if (cmd.mode === 'server') {
          ran = substitutePort(ran, 0);
        } else if (usesDocsServer(ran)) {
          docsServer ??= await startDocsServer();
          ran = substitutePort(ran, docsServer.port);
        }
        const out = freshOutDir();
        const env = { ...readerEnv, PUSHLAB_LOAD_OUT: out };
        // Only for a server command: elsewhere it would change what the command means
        // (a `cargo test` checking the server's default address would fail).
        if (cmd.mode === 'server') env.PUSHLAB_ADDR = '127.0.0.1:0';
        const report = (why, result, extra = []) => failureReport({
          where, written: cmd.written + (cmd.args ? `  # docs-test: ${cmd.args}` : ''), ran, cwd: ROOT, why,
          output: result.output, extra: [...extra, `PUSHLAB_LOAD_OUT kept: ${out}`],
        });

        if (cmd.mode === 'server') {
          const result = await runServerCommand(ran, { cwd: ROOT, env });
          assert.ok(result.ok, report(result.why, result, [`time:     ${result.seconds.toFixed(1)} s`]));
          t.diagnostic(`listening after ${result.seconds.toFixed(1)} s, stopped`);
        } else {
          const streaming = isStreaming(ran);
          const timeoutS = streaming ? STREAM_TIMEOUT_S : COMMAND_TIMEOUT_S;
          const result = await runCommand(ran, { cwd: ROOT, env, timeoutS });
          const pass = result.code === 0 || (streaming && result.code === 124);
          const why = result.code === 124 ? `timed out after ${timeoutS} s` : `exit code ${result.code}`;
          assert.ok(pass, report(why, result, [
            `exit:     ${result.code}${result.code === 124 ? ` (timeout ${timeoutS} s)` : ''} after ${result.seconds.toFixed(1)} s`,
          ]));
          t.diagnostic(`${result.code === 124 ? `streamed for ${timeoutS} s, stopped` : 'exit 0'} in ${result.seconds.toFixed(1)} s`);
        }
        removeDir(out);
      });
    }
  });
}
