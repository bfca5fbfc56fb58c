// Figures the docs quote, kept to the results files they come from.
//
// A measured figure in the docs is written as a link to the committed results file it
// was read from, with a title saying which run and which figure:
//
//     [501 ms](results/workshop.json "poll rate=0.5 latency_us.p50")
//
// The title is a run selector, then a figure key. The selector's words are a transport
// name (`poll`, `long-poll`, `sse`, `ws`) and `key=value` conditions on the run record
// (`clients=5000`, `poll_interval_ms=250`, `coalesce_ms=50`; a missing key reads as 0),
// and they must pick exactly one run; a first word `faults` picks among the file's fault
// records instead (`faults storm ws reconnect_policy=fixed`: a bare word there is a
// transport or a fault); or the single word `calibration`, for the file's calibration
// record. The key is a path into that record (`server.cpu_us_per_tick`); the
// link text must be the figure exactly as the table and the report write it (through
// web/format.js, with the catalogue's unit, or the unit its name ends in). A reader sees
// a figure and where it comes from; the test sees a quote that can't go stale.
//
// Pure functions of the text and the parsed files; docs.test.mjs reads the files.
import { maskCode } from './markdown.mjs';

/** Units a key's name implies when the catalogue has no entry for it. */
const UNIT_BY_SUFFIX = [
  [/_us$|\.p\d+$|\.(min|max|mean|median)$/, 'microseconds'], [/_bytes$/, 'bytes'], [/_ms$/, 'milliseconds'],
  [/_s$/, 'seconds'], [/_pct$/, 'percent_of_core'],
];

/**
 * Every figure link of `text`: `{ line, text, file, title }`, `file` as written (relative
 * to the Markdown file). Only links to a `.json` file under a `results/` folder that carry
 * a title; code and comments are skipped.
 */
export function figureLinks(text) {
  const prose = maskCode(text);
  const found = [];
  for (const m of prose.matchAll(/\[([^\]\n]+)\]\(([^\s()]*results\/[^\s()]+\.json)\s+"([^"\n]+)"\)/g)) {
    found.push({ line: prose.slice(0, m.index).split('\n').length, text: m[1], file: m[2], title: m[3] });
  }
  return found;
}

/** The record a selector picks in `results`, or an error message. */
export function selectRecord(results, words) {
  if (words.length === 1 && words[0] === 'calibration') {
    return results.calibration ? { record: results.calibration } : { error: 'the file has no calibration record' };
  }
  const faults = words[0] === 'faults';
  const TRANSPORTS = ['poll', 'long-poll', 'sse', 'ws'];
  const conditions = words.slice(faults ? 1 : 0).map((word) => {
    const eq = word.indexOf('=');
    if (eq >= 0) return [word.slice(0, eq), word.slice(eq + 1)];
    return [faults && !TRANSPORTS.includes(word) ? 'fault' : 'transport', word];
  });
  const records = (faults ? results.faults : results.runs) ?? [];
  const matches = records.filter((run) => conditions.every(([key, want]) => {
    const have = key.split('.').reduce((v, part) => (v && typeof v === 'object' ? v[part] : undefined), run);
    return String(have ?? 0) === want || (typeof have === 'number' && Number(want) === have);
  }));
  if (matches.length !== 1) return { error: `"${words.join(' ')}" picks ${matches.length} runs, not one` };
  return { record: matches[0] };
}

/**
 * What a figure link must say: `{ expected }` (the figure as written everywhere) or
 * `{ error }`. `format` is web/format.js's `window.pushlab`.
 */
export function expectedText(results, title, format) {
  const words = title.trim().split(/\s+/);
  if (words.length < 2) return { error: `title "${title}" needs a run selector and a figure key` };
  const key = words.pop();
  const { record, error } = selectRecord(results, words);
  if (error) return { error };
  const list = words[0] === 'faults' ? results.catalogue?.faults : results.catalogue?.figures;
  const figure = list?.find((f) => f.key === key) ??
    (words[0] === 'faults' ? results.catalogue?.figures?.find((f) => f.key === key) : undefined);
  if (figure && record !== results.calibration) return { expected: format.showFigure(record, figure) };
  const value = format.lookup(record, key);
  if (typeof value !== 'number') return { error: `no number at ${key}` };
  const unit = UNIT_BY_SUFFIX.find(([pattern]) => pattern.test(key))?.[1] ?? 'count';
  return { expected: format.formatValue(unit, value) };
}

/** A quantity with a unit a measurement would have: 12 ms, 3.5 kB, 83 %, 1.49×, 89 bytes. */
const QUANTITY = /(?<![\w.,-])(\d[\d,]*(?:\.\d+)?)\s?(µs|ms|s|kB|MB|GB|B|bytes|%|×)(?![\w/])/g;
/** Words before a quantity that make it a setting the reader chooses, not a result. */
// "of" only after a setting's name ("a window of 6 s", "a round trip of 400 ms"): "a p50
// of 501 ms" is a result.
const SETTING_BEFORE = /\b(at|every|with|for|to|interval|window|past|after|wait|setting|(?:window|trip|timeout|keepalive|interval|half) of)\s*$/i;
/**
 * A quantity the prose works out from linked ones ("about 30 bytes of framing", "~7 µs")
 * says so with `about`, `~` or `≈`; a result stated flatly must be a link.
 */
const DERIVED_BEFORE = /(\babout|~|≈)\s*$/i;

/**
 * The quantities of an "**Expect.**" paragraph (and the table after it) that are not
 * figure links: a result quoted without saying where it comes from. Settings ("at
 * 250 ms", "every 1 s"), approximations worked out in the prose ("about 30 bytes") and
 * code spans are not results; "under 10 ms" is. Returns `[{ line, quantity }]`.
 */
export function unlinkedResults(text) {
  const prose = maskCode(text).replace(/\[([^\]\n]+)\]\([^)\n]*results\/[^)\n]*\)/g, (m) => ' '.repeat(m.length));
  const lines = prose.split('\n');
  const found = [];
  let inExpect = false;
  lines.forEach((line, i) => {
    if (/^\*\*Expect\.\*\*/.test(line)) inExpect = true;
    else if (/^\*\*\w[^*]*\.\*\*/.test(line) || /^#/.test(line)) inExpect = false;
    if (!inExpect) return;
    for (const m of line.matchAll(QUANTITY)) {
      const before = line.slice(0, m.index);
      if (SETTING_BEFORE.test(before) || DERIVED_BEFORE.test(before)) continue;
      found.push({ line: i + 1, quantity: m[0] });
    }
  });
  return found;
}
