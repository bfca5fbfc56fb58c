/* The full numbers table: one column per run (side by side, like the charts), one row
 * per figure. Labels, units, which way is better and what counts as a problem all come
 * from the figure catalogue (pushlab.shape indexes it); values are written by format.js,
 * as the terminal table writes them. Rows come from the run records themselves, in the
 * catalogue's order, so a field the catalogue does not know yet still shows, by its key.
 */
(function (pushlab) {
  'use strict';
  const { NOT_MEASURED, formatNumber, formatValue, lookup, showFigure, valueText } = pushlab;
  const { t } = pushlab.i18n;

  function renderTable(table, shaped) {
    const { runs, catalogue } = shaped;
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    head.append(cell('th', t('table.figure')));
    for (const run of runs) {
      const th = cell('th', '');
      th.dataset.transport = run.transport;
      const name = document.createElement('span');
      name.className = 'transport-name';
      name.textContent = shaped.label(run.transport);
      const sub = document.createElement('div');
      sub.className = 'muted';
      const coalesce = run.coalesce_ms ? t('table.coalesce', { ms: formatValue('milliseconds', run.coalesce_ms) }) : '';
      const streams = run.protocol?.streams_per_connection > 1 ? t('table.streams', { n: run.protocol.streams_per_connection }) : '';
      // "HTTP/2 over TLS", as the load generator names it, in the shown language.
      const overTls = run.protocol?.name?.match(/^(.*) over TLS$/);
      const protocolName = overTls ? t('table.overTls', { name: overTls[1] }) : run.protocol?.name;
      const protocol = run.protocol ? `, ${protocolName}${streams}` : '';
      sub.textContent = t('table.run', { clients: formatValue('count', run.clients), rate: formatValue('per_second', run.rate), coalesce, protocol });
      th.append(name, sub);
      head.append(th);
    }
    const body = table.createTBody();
    for (const [section, keys] of sections(runs, catalogue)) {
      const group = catalogue.group(section);
      const row = body.insertRow();
      row.className = 'section';
      // The label sits in a span so it can stick to the left while the row scrolls sideways.
      const th = cell('th', '');
      const label = cell('span', group?.label ?? section.replaceAll('_', ' '));
      if (!group) label.translate = false; // a section the catalogue does not know: its key
      if (group?.about) label.title = group.about;
      th.append(label);
      th.colSpan = runs.length + 1;
      row.append(th);
      for (const key of keys) body.append(figureRow(section === 'run' ? key : `${section}.${key}`, key, runs, catalogue));
    }
  }

  /** The row of the figure at `path` (`key` within its section), one cell per run. */
  function figureRow(path, key, runs, catalogue) {
    const figure = catalogue.figure(path);
    // A kind of a map (errors.timeout) is labelled by its kind, and absent means none.
    const kindOfMap = figure?.key.endsWith('.*');
    const tr = document.createElement('tr');
    const unlisted = pushlab.i18n.language() === 'ko' ? pushlab.figuresKo?.unlisted[path] : null;
    const name = key === '(none)' ? `(${t('value.none')})` : unlisted ?? key.replaceAll('_', ' ');
    const th = cell('th', kindOfMap || !figure ? name : figure.short);
    // An error kind or a field the catalogue does not know is named by its key: code, not words.
    if ((kindOfMap || !figure) && key !== '(none)' && !unlisted) th.translate = false;
    if (figure) {
      th.title = figure.about + (figure.better === 'neither' ? '' : t('table.better', { better: t(`better.${figure.better}`) }));
      th.dataset.better = figure.better;
    }
    tr.append(th);
    for (const run of runs) {
      const value = lookup(run, path);
      let text;
      if (kindOfMap) text = formatValue(figure.unit, value ?? 0);
      else if (figure) text = showFigure(run, { ...figure, key: path });
      else text = typeof value === 'number' ? formatNumber(value) : value === undefined || value === null ? NOT_MEASURED : String(value);
      const td = cell('td', path === 'proxy.outcome_detail' ? pushlab.outcomeDetail(text) : valueText(text));
      td.className = 'num';
      // A text figure is the file's own value (a link's name, an emulator, a proxy's config): shown as written.
      if (td.textContent === text && typeof value === 'string' && text !== NOT_MEASURED) td.translate = false;
      if (figure?.nonzero_is_a_problem && value > 0) td.classList.add('bad');
      tr.append(td);
    }
    return tr;
  }

  /**
   * [section, [keys…]] for every field the runs have: the run's own scalars first, then
   * each record, in the catalogue's order, and fields it does not know after those.
   */
  function sections(runs, catalogue) {
    const found = new Map([['run', new Set()]]);
    for (const run of runs) {
      for (const [key, value] of Object.entries(run)) {
        if (key === 'transport') continue;
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          if (!found.has(key)) found.set(key, new Set());
          Object.keys(value).forEach((k) => found.get(key).add(k));
        } else {
          found.get('run').add(key);
        }
      }
    }
    // A run with no errors has an empty map; say "none" rather than drop the section.
    if (found.has('errors') && found.get('errors').size === 0) found.get('errors').add('(none)');
    const rank = (list, key) => { const i = list.findIndex((entry) => entry.key === key); return i < 0 ? list.length : i; };
    const path = (section, key) => (section === 'run' ? key : `${section}.${key}`);
    // Array sort is stable: what ranks the same keeps the order it was found in.
    return [...found]
      .sort(([a], [b]) => rank(catalogue.groups, a) - rank(catalogue.groups, b))
      .map(([section, keys]) => [section, [...keys].sort((a, b) =>
        rank(catalogue.figures, path(section, a)) - rank(catalogue.figures, path(section, b)))]);
  }

  function cell(tag, text) {
    const element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  Object.assign(pushlab, { renderTable });
})(window.pushlab = window.pushlab || {});
