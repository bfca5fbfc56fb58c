// Reading a Markdown file the way the docs test needs it: the relative links it makes,
// and the commands it presents as runnable, each with its line number and directive.
// Pure functions of the text (no files, no processes), so parser.test.mjs tests them
// on a fixture, independent of the real docs. The convention itself is written out at
// the top of docs.test.mjs.

/** Info string of the fenced blocks whose lines are run. Exactly this; `bash`, `console`, … are not. */
export const RUNNABLE_INFO = 'sh';
/** Marks a directive inside a command's trailing comment. */
export const DIRECTIVE = 'docs-test:';
/** The port the docs use for a server the reader started; the test serves it on a free port instead. */
export const DOCS_PORT = 3000;

/**
 * Every fenced code block: `{ info, startLine, lines: [{ line, text }] }`, lines 1-based.
 * A fence is 3+ backticks or tildes (indented at most 3 spaces) and closes with a fence of
 * the same character at least as long; an unclosed block runs to the end of the file,
 * as in CommonMark.
 */
export function fencedBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  let open = null;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (open) {
      const close = line.match(/^ {0,3}(`{3,}|~{3,})\s*$/);
      if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
        blocks.push(open.block);
        open = null;
      } else {
        open.block.lines.push({ line: i + 1, text: line });
      }
      return;
    }
    const start = line.match(/^ {0,3}(`{3,}|~{3,})(.*)$/);
    // A backtick fence's info string may not contain a backtick (that is inline code).
    if (start && !(start[1][0] === '`' && start[2].includes('`'))) {
      open = { fence: start[1], block: { info: start[2].trim(), startLine: i + 1, lines: [] } };
    }
  });
  if (open) blocks.push(open.block);
  return blocks;
}

/**
 * The text with everything that is not prose blanked out — fenced blocks, inline code
 * spans and HTML comments — keeping every newline, so offsets still give line numbers.
 * A link written inside backticks is an example, not a link.
 */
export function maskCode(text) {
  const lines = text.split('\n');
  for (const block of fencedBlocks(text)) {
    // The fences themselves too: blank from the opening line to the last content/closing line.
    const last = block.lines.length ? block.lines[block.lines.length - 1].line + 1 : block.startLine + 1;
    for (let n = block.startLine; n <= Math.min(last, lines.length); n++) lines[n - 1] = '';
  }
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  return lines.join('\n')
    .replace(/<!--[\s\S]*?-->/g, blank)
    // A code span: a run of n backticks up to the next run of exactly n, within a paragraph.
    .replace(/(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n)[\s\S])+?)(?<!`)\1(?!`)/g, blank);
}

const lineAt = (text, offset) => text.slice(0, offset).split('\n').length;

/**
 * Every link and image target the file makes, as written: `[x](t)`, `![x](t)`, `[x](<t> "title")`,
 * reference definitions `[id]: t`, and `<img src="t">`. Returns `[{ line, target }]`,
 * in order; whether a target is relative is `relativeTarget`'s business.
 */
export function extractLinks(text) {
  const prose = maskCode(text);
  const found = [];
  // Every inline link or image ends in `](target "optional title")`; matching that tail
  // also finds both targets of a nested `[![badge](img.svg)](page.md)`.
  const inline = /\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?\s*\)/g;
  for (const m of prose.matchAll(inline)) found.push({ offset: m.index, target: m[1] });
  for (const m of prose.matchAll(/^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm)) found.push({ offset: m.index, target: m[1] });
  for (const m of prose.matchAll(/<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    found.push({ offset: m.index, target: m[1] ?? m[2] ?? m[3] });
  }
  return found
    .sort((a, b) => a.offset - b.offset)
    .map(({ offset, target }) => ({ line: lineAt(prose, offset), target: target.replace(/^<(.*)>$/, '$1') }));
}

/**
 * The path a link target points to inside the repository, or null when there is no file
 * to check: an absolute URL (any `scheme:`, e.g. http, https, mailto, or `//host`) or a
 * pure `#anchor`. The `#anchor` and `?query` are stripped and %-escapes decoded.
 * An empty target `[x]()` comes back as '' (a broken link, not a skipped one).
 */
export function relativeTarget(target) {
  if (target === '') return '';
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null;
  const filePart = target.replace(/[?#].*$/, '');
  if (filePart === '') return null;
  try {
    return decodeURIComponent(filePart);
  } catch {
    return filePart;
  }
}

/** The `#fragment` of a link target, decoded (`null` when it has none or names a URL). */
export function targetFragment(target) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null;
  const at = target.indexOf('#');
  if (at === -1 || at === target.length - 1) return null;
  const fragment = target.slice(at + 1);
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}

/**
 * The anchors GitHub gives a Markdown file's headings: the heading's text (inline code,
 * emphasis and link syntax dropped, their words kept), lowercased, every character that
 * is not a letter, mark, digit, space, `-` or `_` removed, each space a `-`; a repeated
 * slug gets `-1`, `-2`, … Explicit `<a id="…">`/`<a name="…">` anchors count too.
 */
export function headingAnchors(text) {
  const anchors = new Set();
  const seen = new Map();
  const prose = text.split('\n');
  const masked = maskCodeBlocks(text).split('\n');
  masked.forEach((line, i) => {
    const m = line.match(/^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/);
    if (!m) return;
    const words = prose[i].match(/^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/)[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]*>/g, '')
      .replace(/[`*]/g, '');
    const base = words.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  });
  for (const m of text.matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(m[1]);
  return anchors;
}

/** The text with fenced code blocks blanked (a `#` line in a block is not a heading). */
function maskCodeBlocks(text) {
  const lines = text.split('\n');
  for (const block of fencedBlocks(text)) {
    const last = block.lines.length ? block.lines[block.lines.length - 1].line + 1 : block.startLine + 1;
    for (let n = block.startLine; n <= Math.min(last, lines.length); n++) lines[n - 1] = '';
  }
  return lines.join('\n');
}

/**
 * Splits a command line at its trailing comment: the first `#` that starts a word
 * (after whitespace) outside quotes. `curl 'x#y'` and `echo a#b` have no comment.
 * Returns `{ command, comment }`, comment without the `#` (null when there is none).
 */
export function splitComment(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '\\') {
      i++;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return { command: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
    }
  }
  return { command: line.trimEnd(), comment: null };
}

/**
 * What a trailing comment asks of the test. The directive is the text after `docs-test:`
 * (which may follow a human comment: `# the quick preset  # docs-test: --duration 2s`):
 *   - `skip REASON`   → `{ mode: 'skip', reason }` (a reason is required),
 *   - `server [ARGS]` → `{ mode: 'server', args }`,
 *   - `ARGS`          → `{ mode: 'run', args }`, appended to the command;
 * no directive → `{ mode: 'run', args: '' }`. A malformed one → `{ error }`.
 */
export function parseDirective(comment) {
  const at = comment === null ? -1 : comment.indexOf(DIRECTIVE);
  if (at === -1) return { mode: 'run', args: '' };
  const rest = comment.slice(at + DIRECTIVE.length).trim().replace(/^#\s*/, '');
  if (rest === '') return { error: `empty \`${DIRECTIVE}\` directive: give ARGS, \`skip REASON\` or \`server\`` };
  const [word, ...tail] = rest.split(/\s+/);
  if (word === 'skip') {
    const reason = tail.join(' ');
    return reason ? { mode: 'skip', reason } : { error: `\`${DIRECTIVE} skip\` needs a reason` };
  }
  if (word === 'server') return { mode: 'server', args: tail.join(' ') };
  return { mode: 'run', args: rest };
}

/**
 * The commands of every `sh` block, one per line: `[{ line, written, command, mode, args,
 * reason, error }]`. Blank lines and `#` lines are skipped; a line ending in `\` continues
 * on the next (the command's line is its first). `command` is what runs: the line
 * without its comment, plus the directive's ARGS.
 */
export function extractCommands(text) {
  const commands = [];
  for (const block of fencedBlocks(text)) {
    if (block.info !== RUNNABLE_INFO) continue;
    let pending = null;
    for (const { line, text: raw } of block.lines) {
      const joined = pending ? `${pending.text} ${raw.trim()}` : raw.trim();
      const first = pending ? pending.line : line;
      if (/(^|[^\\])\\$/.test(joined)) {
        pending = { line: first, text: joined.slice(0, -1).trimEnd() };
        continue;
      }
      pending = null;
      if (joined === '' || joined.startsWith('#')) continue;
      commands.push(commandFrom(first, joined));
    }
    if (pending) commands.push(commandFrom(pending.line, pending.text));
  }
  return commands;
}

function commandFrom(line, text) {
  const { command: written, comment } = splitComment(text);
  const directive = parseDirective(comment);
  if (directive.error) return { line, written, command: written, mode: 'error', error: directive.error };
  const command = applyArgs(written, directive.args ?? '');
  return { line, written, command, mode: directive.mode, args: directive.args ?? '', reason: directive.reason ?? null };
}

/**
 * The command with a directive's ARGS: a `--flag [value]` the command already has is
 * replaced in place (`--duration 30s` + ARGS `--duration 2s` → `--duration 2s`, since clap
 * refuses a flag given twice); everything else is appended at the end. Words are split
 * on whitespace, so ARGS values cannot contain spaces.
 */
export function applyArgs(command, args) {
  const words = args.split(/\s+/).filter(Boolean);
  const appended = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const group = [word];
    if (word.startsWith('--') && !word.includes('=') && i + 1 < words.length && !words[i + 1].startsWith('-')) group.push(words[++i]);
    const flag = word.match(/^--[\w-]+/)?.[0];
    const present = flag && new RegExp(`(^|\\s)${flag}(?:=\\S+|\\s+(?!-)\\S+)?(?=\\s|$)`);
    if (present && present.test(command)) command = command.replace(present, `$1${group.join(' ')}`);
    else appended.push(...group);
  }
  return appended.length ? `${command} ${appended.join(' ')}` : command;
}

const DOCS_ADDR = new RegExp(`\\b(localhost|127\\.0\\.0\\.1):${DOCS_PORT}(?!\\d)`, 'g');

/** Whether the command talks to the reader's server on port 3000 (then the test provides one). */
export const usesDocsServer = (command) => new RegExp(DOCS_ADDR.source).test(command);

/** The command with `localhost:3000` / `127.0.0.1:3000` pointed at `port` (the host is kept). */
export const substitutePort = (command, port) => command.replace(DOCS_ADDR, `$1:${port}`);

/**
 * A command that streams until stopped: it has a `-N` option (curl's no-buffer, also in
 * a cluster like `-sN`) or names the SSE or WebSocket endpoint. For these, being stopped
 * by the timeout is a pass.
 */
export const isStreaming = (command) => /(^|\s)-[a-zA-Z]*N[a-zA-Z]*(\s|$)/.test(command) || /\/api\/(sse|ws)\b/.test(command);
