/* The report's faults section: a results file's `faults` (the faults preset's records,
 * one per fault and transport). It draws the recovery time of every transport per
 * fault, the reconnect storm's connection rate and server CPU over time with and
 * without jitter, and every fault record's figures in a table. Labels and units come
 * from the catalogue's `faults` list and the run figures they share (ticks.*,
 * reconnect.*), as the terminal table's; a figure a record lacks is "not measured", a
 * fault that cannot apply to a transport (polling has no stream to recycle) "not
 * applicable" — neither is ever drawn as 0.
 */
(function (pushlab) {
  'use strict';
  const { NOT_MEASURED, transportColor, formatValue, showFigure, lookup, valueText } = pushlab;
  const { t } = pushlab.i18n;

  /** The faults the page names (`fault.<name>` in i18n-report.js: what it is called). */
  const FAULTS = ['restart', 'crash', 'recycle', 'storm'];
  const STREAMING_ONLY = new Set(['recycle']);
  const RECOVERY = ['recovery.p50_us', 'recovery.p99_us', 'recovery.max_us'];
  /** The table's rows, by catalogue key: the terminal table's, in its order. */
  const ROWS = [
    'recovery.p50_us', 'recovery.p99_us', 'recovery.max_us', 'recovery.count', 'recovery.not_recovered',
    'ticks.lost', 'ticks.delivered', 'ticks.expected', 'ticks.duplicates',
    'reconnect.resets', 'reconnect.attempts', 'reconnect.refused', 'reconnect.status_503', 'reconnect.ended',
    'peak.server_cpu_pct', 'peak.connects_per_s', 'peak.refused_per_s', 'server_streams_recycled', 'errors.*',
    'loadgen_cpu_pct',
  ];

  /** The records grouped by fault and reconnect policy, in the order they ran. */
  function faultGroups(faults) {
    const groups = new Map();
    for (const record of faults) {
      const key = `${record.fault}|${record.reconnect_policy}`;
      if (!groups.has(key)) groups.set(key, { fault: record.fault, policy: record.reconnect_policy, clients: record.clients, records: [] });
      groups.get(key).records.push(record);
    }
    return [...groups.values()];
  }

  function groupTitle(group) {
    const name = FAULTS.includes(group.fault) ? t(`fault.${group.fault}`) : group.fault;
    return t('fault.group', { name, clients: formatValue('count', group.clients), policy: valueText(group.policy) });
  }

  /** Draws the section into `section` (hidden when the file has no faults). */
  function renderFaults(section, results, shaped) {
    const faults = Array.isArray(results.faults) ? results.faults : [];
    section.hidden = faults.length === 0;
    const charts = section.querySelector('#fault-charts');
    charts.replaceChildren();
    section.querySelector('#faults-table').replaceChildren();
    if (faults.length === 0) return;
    const transports = shaped.catalogue.transports.filter((t) => faults.some((r) => r.transport === t));
    const groups = faultGroups(faults);
    for (const group of groups) recoveryChart(charts, group, transports, shaped);
    const storms = faults.filter((r) => r.fault === 'storm');
    if (storms.length) {
      stormChart(charts, storms, shaped, {
        id: 'storm-connects', title: t('fault.connects.title'), axis: t('fault.connects.axis'), unit: 'per_second',
        value: (r, i) => r.timeline.connects[i] * (1000 / r.timeline.step_ms),
        reading: t('fault.connects.reading'),
      });
      stormChart(charts, storms, shaped, {
        id: 'storm-cpu', title: t('fault.cpu.title'), axis: t('fault.cpu.axis'), unit: 'percent_of_core',
        value: (r, i) => r.timeline.server_cpu_pct[i],
        reading: t('fault.cpu.reading'),
      });
    }
    renderFaultTable(section.querySelector('#faults-table'), groups, shaped);
  }

  /** One fault's recovery p50, p99 and max: one bar per transport, in its colour. */
  function recoveryChart(container, group, transports, shaped) {
    const figures = RECOVERY.map((key) => shaped.catalogue.figure(key)).filter(Boolean);
    const missing = [];
    const datasets = [];
    for (const transport of transports) {
      const record = group.records.find((r) => r.transport === transport);
      if (!record) {
        const why = STREAMING_ONLY.has(group.fault) && !isStreaming(transport, shaped) ? t('notApplicable') : t('notMeasured');
        missing.push(`${shaped.label(transport)}: ${why}`);
        continue;
      }
      const color = transportColor(transport);
      datasets.push({
        label: shaped.label(transport), backgroundColor: color, borderColor: color, minBarLength: 2,
        data: figures.map((f) => (showFigure(record, f) === NOT_MEASURED ? null : lookup(record, f.key))),
      });
    }
    const unrecovered = group.records.filter((r) => r.recovery?.not_recovered > 0)
      .map((r) => t('fault.neverRecovered', { transport: shaped.label(r.transport), n: formatValue('count', r.recovery.not_recovered) }));
    const from = t(group.fault === 'recycle' ? 'fault.fromStreamEnd' : 'fault.fromInstant');
    const reading = t('fault.reading', { from }) + [...missing, ...unrecovered].map((m) => ` ${m}.`).join('');
    const config = {
      type: 'bar',
      data: { labels: figures.map((f) => f.short), datasets },
      options: baseOptions('microseconds', t('fault.axis'), { type: 'category' }),
    };
    pushlab.addChart(container, { id: `recovery-${group.fault}-${group.policy}`, better: 'lower', axis: t('fault.axis') },
      t('fault.title', { group: groupTitle(group) }), reading, datasets.length ? config : null);
  }

  /** One storm series over time per storm record: solid for a fixed delay, dashed for jitter. */
  function stormChart(container, storms, shaped, spec) {
    const datasets = storms.map((r) => {
      const timeline = r.timeline;
      const color = transportColor(r.transport);
      const points = timeline.connects.map((_, i) => ({ x: i * timeline.step_ms - (timeline.strike_ms ?? 0), y: spec.value(r, i) ?? null }));
      return {
        label: t('fault.series', { transport: shaped.label(r.transport), policy: valueText(r.reconnect_policy) }), borderColor: color, backgroundColor: color,
        borderWidth: 2, pointRadius: 0, borderDash: r.reconnect_policy === 'fixed' ? [] : [6, 4], spanGaps: false,
        data: points.filter((p) => p.x <= STORM_SHOWN_MS),
      };
    });
    const first = Math.min(...datasets.flatMap((d) => d.data.map((p) => p.x)));
    const x = { type: 'linear', min: first, max: STORM_SHOWN_MS, title: { display: true, text: t('fault.stormX') } };
    const config = { type: 'line', data: { datasets }, options: baseOptions(spec.unit, spec.axis, x) };
    pushlab.addChart(container, { id: spec.id, better: 'neither', axis: spec.axis }, spec.title, spec.reading, config);
    container.lastElementChild.classList.add('wide');
  }
  /** How much of a storm's timeline is drawn after the fault: its recovery, not the drain. */
  const STORM_SHOWN_MS = 6000;

  function baseOptions(unit, axis, xScale) {
    return {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, font: { size: 11 } } },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${formatValue(unit, ctx.parsed.y)}` } },
      },
      scales: {
        x: xScale,
        y: { beginAtZero: true, title: { display: true, text: axis }, ticks: { callback: (v) => formatValue(unit, v) } },
      },
    };
  }

  function isStreaming(transport, shaped) {
    return shaped.catalogue.streaming ? shaped.catalogue.streaming(transport) : transport === 'sse' || transport === 'ws';
  }

  /** One column per record (grouped by fault), one row per figure of ROWS. */
  function renderFaultTable(table, groups, shaped) {
    const columns = groups.flatMap((g) => g.records.map((record) => ({ group: g, record })));
    const head = table.createTHead().insertRow();
    head.append(cell('th', t('table.figure')));
    for (const { group, record } of columns) {
      const th = cell('th', '');
      th.dataset.transport = record.transport;
      const name = document.createElement('span');
      name.className = 'transport-name';
      name.textContent = shaped.label(record.transport);
      const sub = document.createElement('div');
      sub.className = 'muted';
      sub.textContent = t('fault.column', { fault: valueText(group.fault), policy: valueText(group.policy) });
      th.append(name, sub);
      head.append(th);
    }
    const body = table.createTBody();
    for (const key of ROWS) {
      const figure = shaped.catalogue.figure(key);
      if (!figure) continue;
      const tr = body.insertRow();
      const th = cell('th', figure.label);
      th.title = figure.about;
      tr.append(th);
      for (const { record } of columns) {
        let text;
        if (key === 'errors.*') {
          const entries = Object.entries(record.errors ?? {});
          text = entries.length ? entries.map(([kind, n]) => `${kind}: ${formatValue('count', n)}`).join(', ') : formatValue('count', 0);
        } else {
          text = valueText(showFigure(record, figure));
        }
        const td = cell('td', text);
        if (key === 'errors.*' && text !== formatValue('count', 0)) td.translate = false; // error kinds are the load generator's ids
        td.className = 'num';
        const value = lookup(record, key);
        if (figure.nonzero_is_a_problem && typeof value === 'number' && value > 0) td.classList.add('bad');
        tr.append(td);
      }
    }
  }

  function cell(tag, text) {
    const element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  Object.assign(pushlab, { renderFaults, faultGroups });
})(window.pushlab = window.pushlab || {});
