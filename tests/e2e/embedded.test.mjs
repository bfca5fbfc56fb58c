// The server compiles web/ into its binary (crates/server/src/assets.rs); the other
// browser tests serve web/ from disk. This checks the compiled copy is the same, and that
// every file is served with a type the browser accepts (module scripts need a JS type).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, ROOT } from './helpers.mjs';

const WEB = path.join(ROOT, 'web');
const TYPES = { '.html': /^text\/html/, '.js': /^text\/javascript/, '.css': /^text\/css/ };

let server;
before(async () => { server = await startServer({ webDir: false }); });
after(async () => { await server?.stop(); });

function webFiles(dir = WEB) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? webFiles(path.join(dir, entry.name)) : [path.relative(WEB, path.join(dir, entry.name))]);
}

test('every file of web/ is compiled in, byte for byte, with its content type', async () => {
  const files = webFiles();
  assert.ok(files.length >= 10, `web/ has the pages: ${files}`);
  for (const file of files) {
    const response = await fetch(`${server.url}/${file}`);
    assert.equal(response.status, 200, file);
    const body = Buffer.from(await response.arrayBuffer());
    assert.ok(body.equals(readFileSync(path.join(WEB, file))),
      `${file} differs from the copy compiled into the server: rebuild it (cargo build --release -p pushlab-server)`);
    const type = TYPES[path.extname(file)];
    if (type) assert.match(response.headers.get('content-type'), type, file);
  }
});

test('/ is the live demo and /report the report', async () => {
  for (const [url, file] of [['/', 'index.html'], ['/report', 'report.html']]) {
    const response = await fetch(server.url + url);
    assert.equal(await response.text(), readFileSync(path.join(WEB, file), 'utf8'), url);
  }
});
