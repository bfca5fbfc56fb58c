// A Korean doc and its English twin say the same runnable things and quote the same
// measurements; only the prose differs. What "the same" means, as pure functions of the
// two texts (twins.test.mjs reads the files, and tests these on a fixture):
//
// - the `sh` commands: the same commands, directives included, in the same order (a
//   trailing comment's human part may be translated, so it is not compared);
// - the figure links: the same link texts and titles to the same results files, as a
//   multiset (Korean word order may move a figure within its sentence);
// - every other quantity with a unit that the Korean prose states also appears in the
//   English prose (a number typed by hand cannot drift from its twin);
// - the same sequence of heading levels (a section cannot go missing);
// - Hangul is most of the prose letters (it is Korean, not English with a Korean title);
// - each links to the other near its top.
import path from 'node:path';
import { extractCommands, maskCode } from './markdown.mjs';
import { figureLinks } from './figures.mjs';

/** The Korean docs that must exist, each beside the English file it translates. */
export const REQUIRED_TWINS = [
  ['README.ko.md', 'README.md'],
  ['docs/ko/workshop.md', 'docs/workshop.md'],
  ['docs/ko/transports.md', 'docs/transports.md'],
  ['docs/ko/methodology.md', 'docs/methodology.md'],
  ['docs/ko/results.md', 'docs/results.md'],
];

/** The English twin of a Korean doc (repository-relative path), or null if it is not one. */
export function englishTwin(file) {
  if (file === 'README.ko.md') return 'README.md';
  const m = file.match(/^docs\/ko\/(.+\.md)$/);
  return m ? `docs/${m[1]}` : null;
}

/** Hangul's least share of the prose letters. */
export const HANGUL_MAJORITY = 0.5;
/** How far down each twin the link to the other must be. */
export const CROSS_LINK_LINES = 5;

/** `mode command` of every runnable command, in order. */
export const commandKeys = (text) => extractCommands(text).map((c) => `${c.mode} ${c.command}`);

/** Figure links as `text | results file (repository-relative) | title`, sorted. */
export function figureKeys(text, file) {
  return figureLinks(text)
    .map((l) => `${l.text} | ${path.posix.normalize(path.posix.join(path.posix.dirname(file), l.file))} | ${l.title}`)
    .sort();
}

/** The prose with code, figure links and link targets, URLs and HTML tags blanked out. */
function proseOnly(text) {
  return maskCode(text)
    .replace(/\[([^\]\n]+)\]\([^)\n]*results\/[^)\n]*\)/g, ' ')
    .replace(/\]\([^)\n]*\)/g, ']')
    .replace(/<[^>\n]*>/g, ' ')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ');
}

/** Hangul syllables and jamo against Latin letters in the prose: `{ hangul, latin, share }`. */
export function hangulShare(text) {
  const prose = proseOnly(text);
  const hangul = (prose.match(/[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3]/g) ?? []).length;
  const latin = (prose.match(/[A-Za-z]/g) ?? []).length;
  return { hangul, latin, share: hangul + latin === 0 ? 0 : hangul / (hangul + latin) };
}

/** A quantity with a Latin unit, as the figures check reads them: 12 ms, 3.5 kB, 83 %, 1.49×. */
const QUANTITY = /(?<![\w.,-])(\d[\d,]*(?:\.\d+)?)\s?(µs|ms|s|kB|KB|KiB|MB|MiB|GB|GiB|B|bytes|%|×)(?![A-Za-z0-9_/])/g;

/** Every quantity with a unit in the prose, spaces normalised ("12ms" and "12 ms" are one). */
export function quantities(text) {
  return [...proseOnly(text).matchAll(QUANTITY)].map((m) => `${m[1]} ${m[2]}`);
}

/** The Korean prose's quantities that the English prose never states. */
export function strayQuantities(korean, english) {
  const known = new Set(quantities(english));
  return [...new Set(quantities(korean))].filter((q) => !known.has(q));
}

/** The heading levels outside code, in order: `[2, 3, 3, 2, …]`. */
export const headingLevels = (text) => [...maskCode(text).matchAll(/^ {0,3}(#{1,6})[ \t]/gm)].map((m) => m[1].length);

/** Whether one of the first `CROSS_LINK_LINES` lines of `text` links to `target` (relative to `from`). */
export function linksNearTop(text, from, target) {
  const rel = path.posix.relative(path.posix.dirname(from), target);
  const head = text.split('\n').slice(0, CROSS_LINK_LINES).join('\n');
  return [...head.matchAll(/\]\(([^)\s#]+)[^)]*\)/g)].some((m) => m[1] === rel);
}

/**
 * The first place two sequences part: `null` if equal, else `{ index, korean, english }`
 * (an element missing on one side is `undefined`).
 */
export function firstDifference(korean, english) {
  for (let i = 0; i < Math.max(korean.length, english.length); i++) {
    if (korean[i] !== english[i]) return { index: i, korean: korean[i], english: english[i] };
  }
  return null;
}

/** Elements of multiset `a` not matched in multiset `b` (both sorted or not). */
export function missingFrom(a, b) {
  const left = new Map();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  const missing = [];
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    else missing.push(x);
  }
  return missing;
}
