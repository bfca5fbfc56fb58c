// Rewrites the text of every figure link in README.md and docs/ to what its results
// file now says (the convention is at the top of figures.mjs), after a preset was run
// again and its file replaced. Prints each change, file:line old → new, and each link
// it could not resolve. Not a test: run it by hand, then re-read the prose around
// every changed figure — "about a third" does not update itself.
//
//   node tests/docs/refresh-figures.mjs          # rewrite the files
//   node tests/docs/refresh-figures.mjs --check  # only list what would change
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { docFiles, ROOT } from './run.mjs';
import { expectedText } from './figures.mjs';
import { loadFormat } from '../unit/format-script.mjs';

const check = process.argv.includes('--check');
const format = loadFormat();
const cache = new Map();
let changes = 0;
for (const file of docFiles(ROOT)) {
  const full = path.join(ROOT, file);
  const text = readFileSync(full, 'utf8');
  const lines = text.split('\n');
  // Same shape as figureLinks, matched line by line so code blocks stay as they are.
  let inFence = false;
  const out = lines.map((line, i) => {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    if (inFence) return line;
    return line.replace(/\[([^\]\n]+)\]\(([^\s()]*results\/[^\s()]+\.json)\s+"([^"\n]+)"\)/g, (link, shown, target, title) => {
      const json = path.join(path.dirname(full), target);
      if (!cache.has(json)) cache.set(json, JSON.parse(readFileSync(json, 'utf8')));
      const { expected, error } = expectedText(cache.get(json), title, format);
      if (error) {
        console.log(`${file}:${i + 1}  cannot resolve "${title}" in ${target}: ${error}`);
        return link;
      }
      if (expected === shown) return link;
      changes++;
      console.log(`${file}:${i + 1}  ${shown} → ${expected}  (${target} "${title}")`);
      return `[${expected}](${target} "${title}")`;
    });
  }).join('\n');
  if (!check && out !== text) writeFileSync(full, out);
}
console.log(`${changes} figure(s) ${check ? 'would change' : 'changed'}`);
