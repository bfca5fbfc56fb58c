/* The report's charts: one spec per figure, drawn with Chart.js (vendored UMD build).
 *
 * A spec names the figure, its unit and how to read it, and the fields it plots. A
 * figure with several fields (latency percentiles, memory kinds) gets one chart per
 * group of runs (a facet per tick rate); a figure with one field puts the groups on the
 * x axis. In a sweep (several client counts) every chart becomes lines against clients.
 */
(function (pushlab) {
  'use strict';
  const { LABELS, transportColor, usToMs, formatNumber, groupLabel } = pushlab;

  const latency = (key) => (run) => usToMs(run.latency_us?.[key]);
  const kib = (get) => (run) => { const b = get(run); return typeof b === 'number' ? b / 1024 : b; };

  const SPECS = [
    {
      id: 'latency', title: 'Latency percentiles', unit: 'ms', log: true,
      reading: 'Time from a tick\'s scheduled time to its arrival at a client, per percentile, on a log scale ' +
        '(each grid decade is ten times the one below): lower is better, and polling sits near half its poll interval by design.',
      fields: [
        { label: 'p50', get: latency('p50'), dash: [6, 4], inLines: true },
        { label: 'p90', get: latency('p90') },
        { label: 'p99', get: latency('p99'), inLines: true },
        { label: 'p99.9', get: latency('p999') },
        { label: 'max', get: latency('max') },
      ],
      sweepReading: 'Lines: p99 solid, p50 dashed.',
    },
    {
      // Linear, not log: SSE and WebSocket often make 0 requests in the window (they
      // connected before it), and a log axis cannot show a 0 at all.
      id: 'requests', title: 'Requests per client per minute', unit: 'requests/min',
      reading: 'HTTP requests (or WebSocket handshakes) each client made per minute: polling pays one per ' +
        'interval even when nothing changed, long-polling one per answer, SSE and WebSocket only their one connection ' +
        '(usually 0 in the window, as they connected before it).',
      fields: [{ label: 'requests/min', get: (r) => r.requests?.per_client_per_min }],
    },
    {
      id: 'bytes', title: 'Wire bytes per delivered tick', unit: 'bytes',
      reading: 'Bytes read and written on the client sockets, headers and framing included, divided by the ticks ' +
        'delivered; a tick\'s JSON is about 70 bytes, so the rest is what the transport adds on the wire.',
      fields: [{ label: 'bytes/tick', get: (r) => r.wire?.bytes_per_tick }],
    },
    {
      id: 'cpu', title: 'Server CPU per delivered tick', unit: 'µs',
      reading: 'Server CPU time (user + system) over the measurement window divided by the ticks delivered: ' +
        'what each useful message costs the server, lower is better.',
      fields: [{ label: 'CPU µs/tick', get: (r) => r.server?.cpu_us_per_tick }],
    },
    {
      id: 'memory', title: 'Server memory per connection', unit: 'KiB',
      reading: 'Memory the server (RSS, heap) and the kernel (TCP buffers) hold per connected client, from the ' +
        'growth between no clients and all connected; a polling client costs this too while it keeps its keep-alive ' +
        'connection open between polls.',
      fields: [
        { label: 'RSS', get: kib((r) => r.server?.rss_per_conn_bytes), inLines: true },
        { label: 'heap', get: kib((r) => r.server?.heap_per_conn_bytes), dash: [6, 4], inLines: true },
        { label: 'kernel TCP', get: kib((r) => r.server?.tcp_mem_per_conn_bytes) },
      ],
      sweepReading: 'Lines: RSS solid, heap dashed (kernel TCP memory is in the table).',
    },
  ];

  const POINT_STYLES = ['circle', 'triangle', 'rect', 'rectRot'];

  /** The Chart.js instances on the page, destroyed before another file is drawn. */
  let drawn = [];

  /** Draws every spec for `shaped` (see pushlab.shape) into `container`. */
  function renderCharts(container, shaped) {
    drawn.forEach((chart) => chart.destroy());
    drawn = [];
    container.replaceChildren();
    for (const spec of SPECS) {
      // Several fields need a chart per group; one field fits all groups in one chart.
      const facets = spec.fields.length > 1 ? shaped.groups.map((g) => [g]) : [shaped.groups];
      for (const groups of facets) {
        const suffix = facets.length > 1 ? ` — ${formatNumber(groups[0].rate)} ticks/s` : '';
        const config = shaped.sweep ? lineConfig(spec, groups, shaped) : barConfig(spec, groups, shaped);
        const reading = shaped.sweep && spec.sweepReading ? `${spec.reading} ${spec.sweepReading}` : spec.reading;
        drawn.push(addFigure(container, spec, spec.title + suffix, reading, config));
      }
    }
  }

  function addFigure(container, spec, title, reading, config) {
    const figure = document.createElement('figure');
    figure.className = 'chart card';
    figure.dataset.chart = spec.id;
    const heading = document.createElement('h3');
    heading.textContent = title;
    const box = document.createElement('div');
    box.className = 'canvas-box';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${title}, in ${spec.unit}`);
    box.append(canvas);
    const caption = document.createElement('figcaption');
    caption.textContent = reading;
    figure.append(heading, box, caption);
    container.append(figure);
    return new Chart(canvas, config);
  }

  /** Bars: x = the fields (several) or the groups (one field); one dataset per transport. */
  function barConfig(spec, groups, shaped) {
    const multi = spec.fields.length > 1;
    const labels = multi ? spec.fields.map((f) => f.label) : groups.map((g) => groupLabel(g, shaped));
    const datasets = shaped.transports.map((transport) => {
      const color = transportColor(transport);
      const data = multi
        ? spec.fields.map((f) => f.get(findRun(groups[0], transport) ?? {}) ?? null)
        : groups.map((g) => spec.fields[0].get(findRun(g, transport) ?? {}) ?? null);
      // minBarLength keeps a near-zero bar visible: "almost nothing" is a result too.
      return { label: LABELS[transport] ?? transport, data, backgroundColor: color, borderColor: color, minBarLength: 2 };
    });
    return baseConfig('bar', { labels, datasets }, spec, { type: 'category' });
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
          let label = LABELS[transport] ?? transport;
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
    return baseConfig('line', { datasets }, spec, { type: 'linear', title: { display: true, text: 'clients' }, ticks: { maxRotation: 0 } });
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
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${formatNumber(ctx.parsed.y)} ${spec.unit}` } },
        },
        scales: {
          x: xScale,
          y: {
            type: spec.log ? 'logarithmic' : 'linear',
            beginAtZero: !spec.log,
            // Chart.js picks a log axis minimum that can cut off the smallest bars; start
            // at the power of ten below the smallest value instead.
            min: spec.log ? logFloor(values) : undefined,
            title: { display: true, text: spec.unit },
            ticks: { callback: (value) => (spec.log && !isRoundLogTick(value) ? '' : formatNumber(value)) },
          },
        },
      },
    };
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

  Object.assign(pushlab, { CHART_SPECS: SPECS, renderCharts });
})(window.pushlab = window.pushlab || {});
