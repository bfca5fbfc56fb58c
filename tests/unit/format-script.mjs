// web/format.js, loaded outside a browser: it is a classic script that puts its functions
// on `window.pushlab`, so it runs here in a fresh context whose `window` is a plain
// object, as a page would see it. Shared by tests/unit/ and tests/e2e/, which check the
// pages' numbers against it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `window.pushlab` functions of web/format.js. */
export function loadFormat() {
  const context = { window: {} };
  vm.runInNewContext(readFileSync(path.join(ROOT, 'web/format.js'), 'utf8'), context, { filename: 'web/format.js' });
  return context.window.pushlab;
}
