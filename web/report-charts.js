/* The report's charts: one spec per figure, drawn with Chart.js (vendored UMD build).
 *
 * A spec names the chart, how to read it, and the catalogue figures it plots; their
 * labels, unit and which way is better come from the catalogue, and the axis writes the
 * unit the way format.js writes values (decimal SI: kB, not KiB). A figure with several
 * fields (latency percentiles, memory kinds) gets one chart per group of runs (a facet
 * per tick rate); a figure with one field puts the groups on the x axis. In a sweep
 * (several client counts) every chart becomes lines against clients. A value the run
 * did not measure is left out (a gap), never drawn as 0.
 */
(function (pushlab) {
  'use strict';
  const { transportColor, formatNumber, formatValue, measuredValue, axisScale, groupLabel, coalescingSeries } = pushlab;
  const { t } = pushlab.i18n;

  /** The charts; `title`, `reading`, `sweepReading` and `axis` are keys of i18n-report.js. */
  const SPECS = [
    {
      id: 'latency', title: 'chart.latency.title', log: true,
      reading: 'chart.latency.reading',
      fields: [
        { key: 'latency_us.p50', dash: [6, 4], inLines: true },
        { key: 'latency_us.p90' },
        { key: 'latency_us.p99', inLines: true },
        { key: 'latency_us.p999' },
        { key: 'latency_us.max' },
      ],
      sweepReading: 'chart.latency.sweep',
    },
    {
      // Linear, not log: SSE and WebSocket often make 0 requests in the window (they
      // connected before it), and a log axis cannot show a 0 at all.
      id: 'requests', title: 'chart.requests.title',
      reading: 'chart.requests.reading',
      fields: [{ key: 'requests.per_client_per_min' }],
    },
    {
      id: 'bytes', title: 'chart.bytes.title',
      reading: 'chart.bytes.reading',
      fields: [{ key: 'wire.bytes_per_tick' }],
    },
    {
      id: 'cpu', title: 'chart.cpu.title',
      reading: 'chart.cpu.reading',
      fields: [{ key: 'server.cpu_us_per_tick' }],
    },
    {
      // µs depend on the machine; a multiple of the machine's own send() does not.
      id: 'cpu-sends', title: 'chart.cpu-sends.title',
      reading: 'chart.cpu-sends.reading',
      axis: 'chart.cpu-sends.axis',
      fields: [{ key: 'server.cpu_per_tick_sends' }],
    },
    {
      id: 'memory', title: 'chart.memory.title',
      reading: 'chart.memory.reading',
      fields: [
        { key: 'server.rss_per_conn_bytes', inLines: true },
        { key: 'server.heap_per_conn_bytes', dash: [6, 4], inLines: true },
        { key: 'server.tcp_mem_per_conn_bytes' },
        { key: 'server.tcp_socket_slab_bytes' },
      ],
      sweepReading: 'chart.memory.sweep',
    },
  ];

  /**
   * `spec` for the runs of `groups`: its fields with their catalogue figure, label and
   * getter, and the axis (`scale`: a prefix chosen from the values, as format.js would).
   * Null when the catalogue knows none of its figures.
   */
  function resolve(spec, groups, catalogue) {
    const known = spec.fields.map((f) => ({ ...f, figure: catalogue.figure(f.key) })).filter((f) => f.figure);
    if (known.length === 0) return null;
    const { unit, better } = known[0].figure;
    const runs = groups.flatMap((g) => g.runs);
    const scale = axisScale(unit, runs.flatMap((run) => known.map((f) => measuredValue(run, f.figure))), spec.log);
    const fields = known.map((f) => ({
      ...f,
      label: f.figure.short,
      get: (run) => { const v = measuredValue(run, f.figure); return v === null ? null : v / scale.divisor; },
    }));
    // The spec's own axis title, or "ms", "kB"; a unit without prefixes by its name
    // ("per client per minute").
    const axis = spec.axis ? t(spec.axis) : (scale.symbol || (catalogue.units[unit]?.about ?? unit));
    return { ...spec, fields, unit, scale, axis, better };
  }

  const POINT_STYLES = ['circle', 'triangle', 'rect', 'rectRot'];

  /** The Chart.js instances on the page, destroyed before another file is drawn. */
  let drawn = [];
  /** A one-field chart of more groups than this spans the whole row. */
  const WIDE_AFTER_GROUPS = 4;

  /** Draws every spec for `shaped` (see pushlab.shape) into `container`. */
  function renderCharts(container, shaped) {
    drawn.forEach((chart) => chart.destroy());
    drawn = [];
    container.replaceChildren();
    // A file of fault records only (the faults preset's) has no run to chart.
    if (shaped.groups.length === 0) return;
    for (const template of SPECS) {
      // Several fields need a chart per group; one field fits all groups in one chart.
      const facets = template.fields.length > 1 ? shaped.groups.map((g) => [g]) : [shaped.groups];
      for (const groups of facets) {
        const spec = resolve(template, groups, shaped.catalogue);
        if (!spec) continue;
        // A facet's title names what sets its group apart: the client count only if it varies.
        const suffix = facets.length > 1 ? ` — ${groupLabel(groups[0], shaped, shaped.clientCounts.length > 1)}` : '';
        const reading = shaped.sweep && spec.sweepReading ? `${t(spec.reading)} ${t(spec.sweepReading)}` : t(spec.reading);
        const title = t(spec.title) + suffix;
        const measured = groups.some((g) => g.runs.some((run) => spec.fields.some((f) => f.get(run) !== null)));
        if (!measured) {
          // Nothing to draw (an older file, without the figure): say so, not an empty axis.
          addFigure(container, spec, title, reading, null);
          continue;
        }
        const config = shaped.sweep ? lineConfig(spec, groups, shaped) : barConfig(spec, groups, shaped);
        drawn.push(addFigure(container, spec, title, reading, config));
        // Bars for many groups need the page's width to stay readable.
        if (!shaped.sweep && groups.length > WIDE_AFTER_GROUPS) container.lastElementChild.classList.add('wide');
      }
    }
    renderCoalescing(container, shaped);
    // Runs over emulated links: report-conditions.js, loaded after this file.
    pushlab.renderConditions?.(container, shaped);
  }

  /**
   * Write coalescing's trade, when the file ran it: server CPU per delivered tick (x)
   * against latency p50 and p99 (y), one line per transport and load through its
   * `--coalesce` values, each point labelled with its value.
   */
  function renderCoalescing(container, shaped) {
    const series = coalescingSeries(shaped);
    if (series.length === 0) return;
    const spec = {
      id: 'coalescing', better: 'neither', axis: t('chart.latencyAxis'),
      title: t('chart.coalescing.title'),
    };
    const values = [...new Set(series.flatMap((s) => s.runs.map((r) => r.coalesce_ms ?? 0)))].sort((a, b) => a - b);
    const reading = t('chart.coalescing.reading', { values: values.map((v) => formatValue('milliseconds', v)).join(', ') });
    const datasets = [];
    for (const s of series) {
      const color = transportColor(s.transport);
      for (const [field, dash] of [['p99', []], ['p50', [6, 4]]]) {
        datasets.push({
          label: `${shaped.label(s.transport)} ${formatValue('count', s.clients)} × ${formatNumber(s.rate)}/s ${field}`,
          borderColor: color, backgroundColor: color, borderWidth: 3, pointRadius: 6, borderDash: dash, showLine: true,
          data: s.runs.map((r) => ({
            x: measuredValue(r, { key: 'server.cpu_us_per_tick' }), y: measuredValue(r, { key: `latency_us.${field}` }),
            coalesce: r.coalesce_ms ?? 0,
          })).filter((p) => p.x !== null),
        });
      }
    }
    const config = {
      type: 'scatter',
      data: { datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: { title: { display: true, text: t('chart.coalescing.x') }, ticks: { callback: (v) => formatValue('microseconds', v) } },
          y: { type: 'logarithmic', title: { display: true, text: t('chart.latencyAxis') }, ticks: { callback: (v) => formatValue('microseconds', v) } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { usePointStyle: true, pointStyle: 'line', pointStyleWidth: 22, font: { size: 11 } } },
          tooltip: {
            callbacks: {
              label: (item) => t('chart.coalescing.tooltip', {
                label: item.dataset.label, latency: formatValue('microseconds', item.parsed.y),
                cpu: formatValue('microseconds', item.parsed.x), coalesce: formatValue('milliseconds', item.raw.coalesce),
              }),
            },
          },
        },
      },
    };
    drawn.push(addFigure(container, spec, spec.title, reading, config));
  }

  /** A chart's card; with `config` null, "not measured" where its canvas would be. */
  function addFigure(container, spec, title, reading, config) {
    const figure = document.createElement('figure');
    figure.className = 'chart card';
    figure.dataset.chart = spec.id;
    const head = document.createElement('div');
    head.className = 'chart-head';
    const heading = document.createElement('h3');
    heading.textContent = title;
    head.append(heading);
    if (spec.better !== 'neither') {
      const better = document.createElement('span');
      better.className = 'chart-better';
      better.textContent = t(`better.${spec.better}`);
      head.append(better);
    }
    const box = document.createElement('div');
    box.className = 'canvas-box';
    const caption = document.createElement('figcaption');
    caption.textContent = reading;
    figure.append(head, box, caption);
    container.append(figure);
    if (!config) {
      figure.dataset.measured = 'false';
      box.classList.add('not-measured');
      box.textContent = t('notMeasured');
      return null;
    }
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', t('chart.aria', { title, axis: spec.axis }));
    box.append(canvas);
    return new Chart(canvas, config);
  }

  /** Bars: x = the fields (several) or the groups (one field); one dataset per transport. */
  function barConfig(spec, groups, shaped) {
    const multi = spec.fields.length > 1;
    // A group's label breaks at its commas, one setting a line, so many groups still fit.
    const labels = multi ? spec.fields.map((f) => wrap(f.label)) : groups.map((g) => groupLabel(g, shaped).split(', '));
    const datasets = shaped.transports.map((transport) => {
      const color = transportColor(transport);
      const data = multi
        ? spec.fields.map((f) => f.get(findRun(groups[0], transport) ?? {}) ?? null)
        : groups.map((g) => spec.fields[0].get(findRun(g, transport) ?? {}) ?? null);
      // minBarLength keeps a near-zero bar visible: "almost nothing" is a result too.
      return { label: shaped.label(transport), data, backgroundColor: color, borderColor: color, minBarLength: 2 };
    });
    // Every group labelled: a skipped label would leave a bar nobody can name.
    return baseConfig('bar', { labels, datasets }, spec, { type: 'category', ticks: { autoSkip: false, font: { size: 10 } } });
  }

  /** Lines against client count: one line per transport (and per field or group). */
  function lineConfig(spec, groups, shaped) {
    const fields = spec.fields.length > 1 ? spec.fields.filter((f) => f.inLines) : spec.fields;
    const dashes = [[], [6, 4], [2, 3]];
    const datasets = [];
    for (const transport of shaped.transports) {
      const color = transportColor(transport);
      groups.forEach((group, gi) => {
        for (const field of fields) {
          const runs = group.runs.filter((r) => r.transport === transport);
          let label = shaped.label(transport);
          if (fields.length > 1) label += ` ${field.label}`;
          if (groups.length > 1) label += ` @ ${formatNumber(group.rate)}/s`;
          datasets.push({
            label, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 4,
            // Two transports with equal values draw one line over the other; distinct
            // markers keep both visible.
            pointStyle: POINT_STYLES[shaped.transports.indexOf(transport) % POINT_STYLES.length],
            borderDash: field.dash ?? dashes[gi % dashes.length],
            data: runs.map((r) => ({ x: r.clients, y: field.get(r) ?? null })),
          });
        }
      });
    }
    return baseConfig('line', { datasets }, spec, { type: 'linear', title: { display: true, text: t('chart.clientsAxis') }, ticks: { maxRotation: 0 } });
  }

  function baseConfig(type, data, spec, xScale) {
    const values = data.datasets.flatMap((d) => d.data.map((v) => (typeof v === 'number' ? v : v?.y)));
    return {
      type, data,
      options: {
        // No animation: the numbers are final, and a test or screenshot sees the end state.
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          // Lines get a line in the legend (dashed for p50/heap), bars a swatch.
          legend: {
            position: 'bottom',
            labels: type === 'line'
              ? { usePointStyle: true, pointStyle: 'line', pointStyleWidth: 22, font: { size: 11 } }
              : { boxWidth: 12, font: { size: 11 } },
          },
          // The tooltip writes the value as the table does, from the unscaled figure.
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${formatValue(spec.unit, ctx.parsed.y * spec.scale.divisor)}` } },
        },
        scales: {
          x: xScale,
          y: {
            type: spec.log ? 'logarithmic' : 'linear',
            beginAtZero: !spec.log,
            // Chart.js picks a log axis minimum that can cut off the smallest bars; start
            // at the power of ten below the smallest value instead.
            min: spec.log ? logFloor(values) : undefined,
            title: { display: true, text: spec.axis },
            ticks: { callback: (value) => (spec.log && !isRoundLogTick(value) ? '' : formatNumber(value)) },
          },
        },
      },
    };
  }

  /**
   * A catalogue label as lines of at most `width` characters ("kernel TCP memory per
   * connection" is too long for one bar group, and Chart.js would tilt it).
   */
  function wrap(label, width = 12) {
    const lines = [];
    for (const word of label.split(' ')) {
      const last = lines.length - 1;
      if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
      else lines.push(word);
    }
    return lines.length > 1 ? lines : label;
  }

  /** On a log axis, label only 1, 2 and 5 times a power of ten, or the axis is a wall of numbers. */
  function isRoundLogTick(value) {
    const mantissa = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
    return [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6);
  }

  function logFloor(values) {
    const positive = values.filter((v) => typeof v === 'number' && v > 0);
    return positive.length ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : undefined;
  }

  function findRun(group, transport) {
    return group.runs.find((r) => r.transport === transport);
  }

  /** A chart card of another section (the faults'), destroyed with these before a redraw. */
  function addChart(container, spec, title, reading, config) {
    const chart = addFigure(container, spec, title, reading, config);
    if (chart) drawn.push(chart);
    return chart;
  }

  Object.assign(pushlab, { CHART_SPECS: SPECS, renderCharts, addChart });
})(window.pushlab = window.pushlab || {});
