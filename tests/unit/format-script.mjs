// web/format.js (and the report's model, which builds on it), loaded outside a browser: it is a classic script that puts its functions
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
  return loadScripts('web/format.js');
}

/** The `window.pushlab` functions of these classic scripts of web/, run in order in one context, as a page loads them. */
export function loadScripts(...files) {
  const context = vm.createContext({ window: {} });
  for (const file of files) vm.runInContext(readFileSync(path.join(ROOT, file), 'utf8'), context, { filename: file });
  return context.window.pushlab;
}
