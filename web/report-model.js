/* The report's view of a results file (schema 1): which runs there are, how they group,
 * and the figure catalogue that labels them (its "catalogue", written by the code that
 * measured it; see crates/contract/src/figures.rs). Numbers are written by format.js.
 * A classic script (no imports) so `compare` can inline it; it shares its functions
 * through `window.pushlab`.
 */
(function (pushlab) {
  'use strict';
  const { NOT_MEASURED, formatNumber, formatValue, showFigure } = pushlab;
  const { t } = pushlab.i18n;

  /** A transport's colour, read from the shared palette in pushlab.css. */
  function transportColor(transport) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(`--c-${transport}`);
    return value.trim() || '#777';
  }

  /**
   * Checks the parts of a results file the report relies on, and returns a list of
   * problems (empty when the file is usable). Extra fields are fine: the table shows them.
   * A file without a catalogue is fine too (it predates them): see report.js.
   */
  function validate(results) {
    if (!results || typeof results !== 'object' || Array.isArray(results)) return [t('model.notObject')];
    const problems = [];
    if (results.schema !== 1) problems.push(t('model.schema', { schema: JSON.stringify(results.schema) }));
    // A faults preset's file has fault records instead of runs.
    const faults = Array.isArray(results.faults) && results.faults.length > 0;
    if (!Array.isArray(results.runs) || (results.runs.length === 0 && !faults)) problems.push(t('model.noRuns'));
    else if (!results.runs.every((r) => r && typeof r.transport === 'string' && typeof r.clients === 'number'))
      problems.push(t('model.badRun'));
    if ('catalogue' in results && !isCatalogue(results.catalogue)) problems.push(t('model.badCatalogue'));
    return problems;
  }

  /** Whether `catalogue` has what the report reads: figures with a key and a unit, and groups. */
  function isCatalogue(catalogue) {
    return Boolean(catalogue && Array.isArray(catalogue.figures) && Array.isArray(catalogue.groups) &&
      catalogue.figures.every((f) => f && typeof f.key === 'string' && typeof f.unit === 'string'));
  }

  /**
   * The catalogue in the shown language: as the file has it in English; in Korean with
   * the labels and tooltips of i18n-figures.js, by key (a key it lacks keeps the file's).
   */
  function translateCatalogue(catalogue) {
    const ko = pushlab.i18n.language() === 'ko' ? pushlab.figuresKo : null;
    if (!ko) return catalogue;
    const figure = (f) => {
      const [label, short, about] = ko.figures[f.key] ?? [];
      return label ? { ...f, label, short: short ?? label, about } : f;
    };
    const list = (l) => (Array.isArray(l) ? l.map(figure) : l);
    return {
      ...catalogue,
      figures: list(catalogue.figures),
      faults: list(catalogue.faults),
      calibration: list(catalogue.calibration),
      groups: catalogue.groups.map((g) => (ko.groups[g.key] ? { ...g, label: ko.groups[g.key][0], about: ko.groups[g.key][1] } : g)),
      transports: (catalogue.transports ?? []).map((tr) => ({ ...tr, label: ko.transports[tr.name] ?? tr.label })),
      units: Object.fromEntries(Object.entries(catalogue.units ?? {}).map(([name, u]) => [name, { ...u, about: ko.units[name] ?? u.about }])),
    };
  }

  /** The catalogue, indexed: `figure(key)` and `group(key)` (null when unknown), in its order. */
  function indexCatalogue(fileCatalogue) {
    const catalogue = translateCatalogue(fileCatalogue);
    // A fault record's own figures (absent from catalogues written before them).
    const faultFigures = Array.isArray(catalogue.faults) ? catalogue.faults : [];
    const figures = new Map([...catalogue.figures, ...faultFigures].map((f) => [f.key, f]));
    const groups = new Map(catalogue.groups.map((g) => [g.key, g]));
    // The transports in the order every page shows them (pull-based first), with their labels.
    const transports = Array.isArray(catalogue.transports) ? catalogue.transports : [];
    const labels = new Map(transports.map((t) => [t.name, t.label]));
    const streaming = new Map(transports.map((t) => [t.name, Boolean(t.streaming)]));
    return {
      transports: transports.map((t) => t.name),
      label: (transport) => labels.get(transport) ?? transport,
      streaming: (transport) => streaming.get(transport) ?? false,
      figures: catalogue.figures,
      groups: catalogue.groups,
      // The machine's calibration figures (keys are paths in the results document); a
      // catalogue written before the calibration has none.
      calibration: Array.isArray(catalogue.calibration) ? catalogue.calibration : [],
      units: catalogue.units ?? {},
      thresholds: catalogue.thresholds ?? {},
      // A kind in a map (errors.timeout) is described by the map's `errors.*` entry.
      figure: (key) => figures.get(key) ?? figures.get(key.replace(/\.[^.]*$/, '.*')) ?? null,
      group: (key) => groups.get(key) ?? null,
    };
  }

  /**
   * Splits the runs into groups that differ in a server setting: tick rate, poll
   * interval, write coalescing (`coalesce_ms`), and in a file of listed runs (the
   * efficiency preset's `scenario.steps`) client count too. Tells whether this is a
   * sweep: several client counts of one sweep, which the charts draw as lines against
   * client count instead of bars. `catalogue` (the file's, or the server's for an older
   * file) labels them all.
   */
  function shape(results, catalogue) {
    const indexed = indexCatalogue(catalogue);
    const known = indexed.transports;
    // Known transports in the catalogue's order, any other after them.
    const rank = (t) => (known.includes(t) ? known.indexOf(t) : known.length);
    const coalesce = (run) => run.coalesce_ms ?? 0;
    // Runs over emulated links (--link) in order of their round trip, then loss.
    const rtt = (run) => run.link?.rtt_ms ?? -1;
    const loss = (run) => run.link?.loss_pct ?? 0;
    const runs = results.runs.slice().sort(
      (a, b) => rank(a.transport) - rank(b.transport) || a.rate - b.rate || coalesce(a) - coalesce(b) ||
        rtt(a) - rtt(b) || loss(a) - loss(b) || a.clients - b.clients,
    );
    const clientCounts = [...new Set(runs.map((r) => r.clients))].sort((a, b) => a - b);
    const listed = Array.isArray(results.scenario?.steps);
    const sweep = !listed && clientCounts.length > 1;
    const groups = new Map();
    for (const run of runs) {
      const link = run.link?.name ?? '';
      const keepalive = run.keepalive_ms ?? null;
      const key = [run.rate, run.poll_interval_ms, coalesce(run), link, keepalive, sweep ? '' : run.clients].join('|');
      if (!groups.has(key)) {
        groups.set(key, {
          key, rate: run.rate, pollIntervalMs: run.poll_interval_ms, coalesceMs: coalesce(run), clients: run.clients,
          link, linkRttMs: run.link?.rtt_ms ?? null, keepaliveMs: keepalive, runs: [],
        });
      }
      groups.get(key).runs.push(run);
    }
    // Listed runs read best grouped by client count, then rate.
    const ordered = [...groups.values()];
    if (listed) ordered.sort((a, b) => a.clients - b.clients || a.rate - b.rate || a.coalesceMs - b.coalesceMs || a.pollIntervalMs - b.pollIntervalMs);
    const transports = known.filter((t) => runs.some((r) => r.transport === t))
      .concat([...new Set(runs.map((r) => r.transport))].filter((t) => !known.includes(t)));
    return {
      runs, groups: ordered, clientCounts, transports, sweep,
      catalogue: indexed, label: indexed.label,
    };
  }

  /**
   * "20 ticks/s, poll every 1 s": what sets one group apart from another, led by its
   * client count unless this is a sweep (or `withClients` is false).
   */
  function groupLabel(group, shaped, withClients = true) {
    const parts = [t('model.rate', { rate: formatNumber(group.rate) })];
    const differ = (field) => shaped.groups.some((g) => g[field] !== group[field]);
    // The poll interval matters to polling runs only; coalescing is named where it is on.
    const polls = group.runs.some((r) => r.transport === 'poll');
    if (differ('pollIntervalMs') && polls) parts.push(t('model.pollEvery', { interval: formatValue('milliseconds', group.pollIntervalMs) }));
    if (differ('coalesceMs') && group.coalesceMs) parts.push(t('model.coalesce', { ms: formatValue('milliseconds', group.coalesceMs) }));
    if (group.link) parts.push(t('model.link', { name: group.link, rtt: formatValue('milliseconds', group.linkRttMs) }));
    if (differ('keepaliveMs') && group.keepaliveMs) parts.push(t('model.keepalive', { ms: formatValue('milliseconds', group.keepaliveMs) }));
    if (!shaped.sweep && withClients) parts.unshift(t('model.clients', { n: formatValue('count', group.clients) }));
    return parts.join(', ');
  }

  /**
   * The runs that show what write coalescing trades: for each transport, client count
   * and rate run at more than one `coalesce_ms`, those runs in coalescing order.
   * Empty when the file has no such runs.
   */
  function coalescingSeries(shaped) {
    const series = new Map();
    for (const run of shaped.runs) {
      const key = `${run.transport}|${run.clients}|${run.rate}`;
      if (!series.has(key)) series.set(key, { transport: run.transport, clients: run.clients, rate: run.rate, runs: [] });
      series.get(key).runs.push(run);
    }
    return [...series.values()]
      .filter((s) => new Set(s.runs.map((r) => r.coalesce_ms ?? 0)).size > 1)
      .map((s) => ({ ...s, runs: s.runs.slice().sort((a, b) => (a.coalesce_ms ?? 0) - (b.coalesce_ms ?? 0)) }));
  }

  /**
   * The calibration of `results` as rows: one per figure of the catalogue's calibration
   * list, `{ key, label, about, value }`, a median with its round spread folded into it
   * (`spread`: "5.35 µs – 24.7 µs"). `measured` is false when the file has no
   * calibration (written before it was measured): every value then reads "not
   * measured", and with a catalogue that predates it the one row says so.
   */
  function calibrationRows(results, catalogue) {
    const figures = catalogue.calibration ?? [];
    const measured = Boolean(results.calibration && typeof results.calibration === 'object');
    if (figures.length === 0) {
      return { measured, rows: [{ key: 'calibration', label: t('model.loopback'), about: '', value: NOT_MEASURED, spread: '' }] };
    }
    const byKey = new Map(figures.map((f) => [f.key, f]));
    const rows = [];
    for (const figure of figures) {
      const [base, part] = [figure.key.replace(/\.[^.]*$/, ''), figure.key.split('.').pop()];
      // A round's min and max are shown beside their median, not as rows of their own.
      if ((part === 'min' || part === 'max') && byKey.has(`${base}.median`)) continue;
      const row = { key: figure.key, label: figure.label, about: figure.about, value: showFigure(results, figure), spread: '' };
      if (part === 'median') {
        const [min, max] = ['min', 'max'].map((p) => byKey.get(`${base}.${p}`));
        if (min && max) row.spread = `${showFigure(results, min)} – ${showFigure(results, max)}`;
        if (row.spread === `${NOT_MEASURED} – ${NOT_MEASURED}`) row.spread = '';
      }
      rows.push(row);
    }
    return { measured, rows };
  }

  Object.assign(pushlab, { transportColor, validate, isCatalogue, shape, groupLabel, coalescingSeries, calibrationRows });
})(window.pushlab = window.pushlab || {});
