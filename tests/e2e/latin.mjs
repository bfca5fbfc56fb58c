// What korean.test.mjs reads off a page: every text a person can see or hear (visible
// text nodes, option labels, title and aria-label attributes, the document's title, and
// what Chart.js draws on its canvases), which Latin words are left in it, and which
// elements run off the right edge of a phone.
//
// Skipped, because they are not captions: <code> (commands, paths, field names), and
// elements marked translate="no" — the pages mark so only values shown as written: what a
// results file carries (a link's name, an error kind, a proxy's configuration, its own
// note) and the protocol id the wall page came over (http/1.1, h2).

/**
 * Latin words that stay Latin in Korean (docs/ko's style: protocol, product and header
 * names, units, field and message names, syscalls). Anything else is English left over.
 */
export const LATIN_NAMES = new Set([
  // protocols, products and standards
  'SSE', 'HTTP', 'TCP', 'TLS', 'JSON', 'URL', 'GET', 'POST', 'ID', 'RTT', 'RTO', 'CPU', 'RSS', 'OS', 'UTC', 'LTE', 'DCH', 'FACH',
  'ALPN', 'HPACK', 'HEADERS', 'DATA', 'CONTINUATION', 'SETTINGS', 'PING', 'ACK', 'SIGTERM', 'SIGKILL', 'ECONNREFUSED',
  'nginx', 'netem', 'tc', 'veth', 'qdisc', 'softirq', 'slab', 'skmem', 'pushlab', 'EventSource', 'Linux',
  // units and percentiles (p50, p99 …; h1/h2 are HTTP versions)
  'ms', 's', 'kB', 'MB', 'GB', 'B', 'J', 'h', 'kbit', 'min', 'p',
  // fields, messages and values of the protocol and the tools, written as in code
  'seq', 'id', 'data', 'retry', 'subscribe', 'ping', 'send', 'recv', 'max', 'user', 'system', 'proc', 'stats', 'builtin',
  // the demo links' profile names
  'lan', 'satellite', 'lossy',
  // the switch's own button, which names its language in that language
  'English',
]);

/** Names with punctuation inside, taken out whole before the words are split. */
const LATIN_PHRASES = ['Last-Event-ID', 'HTTP/1.1', 'HTTP/2', 'nats-server', 'pushlab-load', 'pushlab-server', 'nginx-default',
  'nginx-tuned', 'buffering-proxy', 'just compare', 'pushlab-load calibrate', 'send()', 'recv()'];

/** What is code rather than words: paths, flags, identifiers, numbers with units, cursors. */
const CODE = [
  /(^|[\s(“"'])\/[\w/.<>?=&*-]+/g, // absolute paths and API routes: /api/sse, /proc/slabinfo
  /[\w.-]+\/[\w./-]*\.(md|json|js|html)\b/g, // files: docs/methodology.md, vendor/chart.umd.min.js
  /\b\w+\.(md|json|js|html)\b/g,
  /(^|[^\w-])--?[a-z][\w-]*( [a-z][\w,-]*(?!\w))?/g, // flags and a value: --demo-links 3g,satellite, --reconnect none, -v
  /\b[a-z]\w*(\.[a-z]\w*)+\b/g, // dotted keys: connections.tls, server.rss_per_conn_bytes
  /\b\w*_\w+\b/g, // identifiers: ts_us, proxy_read_timeout, TCP_NODELAY
  /\?[\w=&<>.-]+/g, // query strings: ?since=
  /\b[a-z0-9]+-\d+\b/g, // cursors: k3x9q2-1042
  /\b\d[\w.+~-]*/g, // numbers and what is glued to them: 3g, 6.18.44-fc, 250ms
];

/** The Latin words of `text` that are not names (LATIN_NAMES, `extra`). */
export function latinWords(text, extra = []) {
  let cleaned = text;
  // Longest first: 'pushlab-load calibrate' before 'pushlab-load'.
  for (const phrase of [...LATIN_PHRASES].sort((x, y) => y.length - x.length)) cleaned = cleaned.replaceAll(phrase, ' ');
  for (const pattern of CODE) cleaned = cleaned.replace(pattern, ' ');
  const allowed = new Set([...LATIN_NAMES, ...extra]);
  return (cleaned.match(/[A-Za-z]+/g) ?? []).filter((word) => !allowed.has(word));
}

/** `texts` ({ where, text }) that still hold English, with the words that give them away. */
export function leftoverEnglish(texts, extra = []) {
  return texts.map((t) => ({ ...t, words: latinWords(t.text, extra) })).filter((t) => t.words.length > 0);
}

/** Everything a person can read or hear on `page`, as { where, text }. */
export function pageTexts(page) {
  return page.evaluate(() => {
    const out = [];
    const skipped = (element) => Boolean(element.closest('script, style, code, [translate="no"]'));
    const shown = (element) => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
    const name = (element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.className && typeof element.className === 'string' ? `.${element.className.split(' ')[0]}` : ''}`;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!node.textContent.trim() || skipped(parent)) continue;
      // An <option> has no box of its own: it counts when its <select> is shown.
      const box = parent.closest('select') ?? parent;
      if (shown(box)) out.push({ where: name(parent), text: node.textContent });
    }
    for (const element of document.querySelectorAll('[title], [aria-label]')) {
      if (skipped(element) || !shown(element)) continue;
      for (const attribute of ['title', 'aria-label']) {
        const value = element.getAttribute(attribute);
        if (value) out.push({ where: `${name(element)}[${attribute}]`, text: value });
      }
    }
    out.push({ where: 'document.title', text: document.title });
    // What Chart.js draws: axis titles, tick labels, category labels, legend entries.
    for (const canvas of document.querySelectorAll('canvas')) {
      const chart = window.Chart?.getChart(canvas);
      if (!chart || !shown(canvas)) continue;
      const where = `chart ${canvas.closest('figure')?.dataset.chart ?? canvas.closest('.panel')?.dataset.transport ?? ''}`;
      for (const [id, scale] of Object.entries(chart.scales)) {
        const title = chart.options.scales[id]?.title;
        if (title?.display && title.text) out.push({ where: `${where} ${id} title`, text: String(title.text) });
        for (const tick of scale.ticks) out.push({ where: `${where} ${id} tick`, text: [tick.label].flat().join(' ') });
      }
      for (const label of chart.data.labels ?? []) out.push({ where: `${where} label`, text: [label].flat().join(' ') });
      for (const dataset of chart.data.datasets) if (dataset.label) out.push({ where: `${where} legend`, text: dataset.label });
    }
    return out;
  });
}

/** The texts of pageTexts with Hangul in them (a page in English should show only the switch's 한국어). */
export async function visibleHangul(page) {
  return (await pageTexts(page)).filter((t) => /[\uac00-\ud7a3]/.test(t.text)).map((t) => t.text.trim());
}

/**
 * What makes the page wider than the viewport: the document itself if it scrolls
 * sideways, and every shown element whose box passes the right edge, unless a container
 * that scrolls sideways holds it and that container itself fits.
 */
export function overflowing(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    if (document.documentElement.scrollWidth > width) problems.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${width}`);
    const scrolls = (element) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(element).overflowX);
    for (const element of document.body.querySelectorAll('*')) {
      const rects = element.getClientRects();
      if (rects.length === 0) continue;
      const right = Math.max(...[...rects].map((r) => r.right));
      if (right <= width + 0.5) continue;
      let holder = element.parentElement;
      while (holder && holder !== document.body && !scrolls(holder)) holder = holder.parentElement;
      if (holder && holder !== document.body && holder.getBoundingClientRect().right <= width + 0.5) continue;
      problems.push(`${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${element.className} right ${Math.round(right)} > ${width}`);
    }
    return problems;
  });
}
