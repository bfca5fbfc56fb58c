/* The report's view of a results file (schema 1): which runs there are, how they group,
 * and how numbers are written. A classic script (no imports) so `compare` can inline it;
 * it shares its functions through `window.pushlab`.
 */
(function (pushlab) {
  'use strict';

  /** The order transports appear in, everywhere: pull-based first, push-based after. */
  const TRANSPORTS = ['poll', 'long-poll', 'sse', 'ws'];
  const LABELS = { poll: 'polling', 'long-poll': 'long-polling', sse: 'SSE', ws: 'WebSocket' };

  /** A transport's colour, read from the shared palette in pushlab.css. */
  function transportColor(transport) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(`--c-${transport}`);
    return value.trim() || '#777';
  }

  /**
   * Checks the parts of a results file the report relies on, and returns a list of
   * problems (empty when the file is usable). Extra fields are fine: the table shows them.
   */
  function validate(results) {
    if (!results || typeof results !== 'object' || Array.isArray(results)) return ['the file is not a JSON object'];
    const problems = [];
    if (results.schema !== 1) problems.push(`schema is ${JSON.stringify(results.schema)}, this page reads schema 1`);
    if (!Array.isArray(results.runs) || results.runs.length === 0) problems.push('it has no "runs" list');
    else if (!results.runs.every((r) => r && typeof r.transport === 'string' && typeof r.clients === 'number'))
      problems.push('a run lacks "transport" or "clients"');
    return problems;
  }

  /**
   * Splits the runs into groups of the same tick rate and poll interval (the workshop
   * preset has two rates), and tells whether this is a sweep: more than one client
   * count, which the charts draw as lines against client count instead of bars.
   */
  function shape(results) {
    // Known transports in their usual order, any other after them.
    const rank = (t) => (TRANSPORTS.includes(t) ? TRANSPORTS.indexOf(t) : TRANSPORTS.length);
    const runs = results.runs.slice().sort(
      (a, b) => rank(a.transport) - rank(b.transport) || a.rate - b.rate || a.clients - b.clients,
    );
    const groups = new Map();
    for (const run of runs) {
      const key = `${run.rate}|${run.poll_interval_ms}`;
      if (!groups.has(key)) groups.set(key, { key, rate: run.rate, pollIntervalMs: run.poll_interval_ms, runs: [] });
      groups.get(key).runs.push(run);
    }
    const clientCounts = [...new Set(runs.map((r) => r.clients))].sort((a, b) => a - b);
    const transports = TRANSPORTS.filter((t) => runs.some((r) => r.transport === t))
      .concat([...new Set(runs.map((r) => r.transport))].filter((t) => !TRANSPORTS.includes(t)));
    return { runs, groups: [...groups.values()], clientCounts, transports, sweep: clientCounts.length > 1 };
  }

  /** "20 ticks/s, poll every 1 s": what sets one group apart from another. */
  function groupLabel(group, shaped) {
    const parts = [`${formatNumber(group.rate)} ticks/s`];
    if (shaped.groups.some((g) => g.pollIntervalMs !== group.pollIntervalMs)) parts.push(`poll every ${formatMs(group.pollIntervalMs)}`);
    if (!shaped.sweep) parts.unshift(`${formatNumber(shaped.clientCounts[0])} clients`);
    return parts.join(', ');
  }

  function formatNumber(x, digits) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return x === null || x === undefined ? '—' : String(x);
    const d = digits ?? (Number.isInteger(x) ? 0 : Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
    // No trailing zeros: 0.5 ticks/s, not 0.50.
    return x.toLocaleString('en-US', { maximumFractionDigits: d });
  }

  function formatMs(ms) {
    return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${formatNumber(ms)} ms`;
  }

  /** Latency is stored in µs; people read it best in ms, with more digits when small. */
  function usToMs(us) {
    return typeof us === 'number' ? us / 1000 : us;
  }

  function formatLatencyMs(ms) {
    if (typeof ms !== 'number') return '—';
    return formatNumber(ms, ms < 1 ? 3 : ms < 10 ? 2 : ms < 100 ? 1 : 0);
  }

  function formatBytes(bytes) {
    if (typeof bytes !== 'number') return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (Math.abs(bytes) >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return `${formatNumber(bytes, i === 0 ? 0 : 1)} ${units[i]}`;
  }

  Object.assign(pushlab, {
    TRANSPORTS, LABELS, transportColor, validate, shape, groupLabel,
    formatNumber, formatMs, usToMs, formatLatencyMs, formatBytes,
  });
})(window.pushlab = window.pushlab || {});
