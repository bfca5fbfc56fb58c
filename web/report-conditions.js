/* The report's charts of runs over emulated links (the conditions preset's, or any
 * `--link` run): latency against the link's round trip, one line per transport, and
 * what the clients' socket timings would cost a phone's radio — a model applied to
 * measured timings, labelled as one. Drawn only when the file has such runs.
 * A classic script (no imports), like the others, so `compare` can inline it.
 */
(function (pushlab) {
  'use strict';
  const { transportColor, formatValue, measuredValue, groupLabel, addChart } = pushlab;
  const { t } = pushlab.i18n;

  /** Runs over a link, by transport, in order of the link's round trip. */
  function linkSeries(shaped) {
    const series = new Map();
    for (const run of shaped.runs) {
      if (!run.link) continue;
      const key = `${run.transport}|${run.clients}|${run.rate}|${run.poll_interval_ms}`;
      if (!series.has(key)) series.set(key, { transport: run.transport, runs: [] });
      series.get(key).runs.push(run);
    }
    return [...series.values()]
      .filter((s) => s.runs.length > 1)
      .map((s) => ({ ...s, runs: s.runs.slice().sort((a, b) => a.link.rtt_ms - b.link.rtt_ms || a.link.loss_pct - b.link.loss_pct) }));
  }

  /** Latency (log) against the link's RTT: p99 solid, p50 dashed, a point per link. */
  function renderLatencyByRtt(container, shaped) {
    const series = linkSeries(shaped);
    if (series.length === 0) return;
    const spec = { id: 'latency-rtt', better: 'lower', axis: t('chart.latencyAxis') };
    const title = t('chart.rtt.title');
    const reading = t('chart.rtt.reading');
    const datasets = [];
    for (const s of series) {
      const color = transportColor(s.transport);
      for (const [field, dash] of [['p99', []], ['p50', [6, 4]]]) {
        datasets.push({
          label: `${shaped.label(s.transport)} ${field}`,
          borderColor: color, backgroundColor: color, borderWidth: 3, pointRadius: 5, borderDash: dash, showLine: true,
          data: s.runs.map((r) => ({ x: r.link.rtt_ms, y: measuredValue(r, { key: `latency_us.${field}` }), link: r.link.name }))
            .filter((p) => p.y !== null),
        });
      }
    }
    addChart(container, spec, title, reading, {
      type: 'scatter',
      data: { datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: { title: { display: true, text: t('chart.rtt.x') }, ticks: { callback: (v) => formatValue('milliseconds', v) } },
          y: { type: 'logarithmic', title: { display: true, text: t('chart.latencyAxis') }, ticks: { callback: (v) => formatValue('microseconds', v) } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { usePointStyle: true, pointStyle: 'line', pointStyleWidth: 22, font: { size: 11 } } },
          tooltip: {
            callbacks: {
              label: (item) => t('chart.rtt.tooltip', { label: item.dataset.label, link: item.raw.link, latency: formatValue('microseconds', item.parsed.y) }),
            },
          },
        },
      },
    });
  }

  const RADIO = [
    { key: 'radio.lte_j_per_hour', model: 'LTE' },
    { key: 'radio.umts_j_per_hour', model: '3G' },
  ];

  /** Radio energy per client per hour under each model: bars per group and transport. */
  function renderRadio(container, shaped) {
    if (!shaped.runs.some((r) => r.radio)) return;
    for (const { key, model } of RADIO) {
      const spec = { id: `radio-${model.toLowerCase()}`, better: 'lower', axis: t('chart.radio.axis') };
      const title = t('chart.radio.title', { model });
      const reading = t('chart.radio.reading', { model });
      const labels = shaped.groups.map((g) => groupLabel(g, shaped).split(', '));
      const datasets = shaped.transports.map((transport) => {
        const color = transportColor(transport);
        const data = shaped.groups.map((g) => {
          const run = g.runs.find((r) => r.transport === transport);
          return run ? measuredValue(run, { key }) : null;
        });
        return { label: shaped.label(transport), data, backgroundColor: color, borderColor: color, minBarLength: 2 };
      });
      addChart(container, spec, title, reading, {
        type: 'bar',
        data: { labels, datasets },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          scales: {
            x: { type: 'category', ticks: { autoSkip: false, font: { size: 10 } } },
            y: { beginAtZero: true, title: { display: true, text: spec.axis } },
          },
          plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, font: { size: 11 } } } },
        },
      });
      if (shaped.groups.length > 4) container.lastElementChild.classList.add('wide');
    }
  }

  pushlab.renderConditions = (container, shaped) => {
    renderLatencyByRtt(container, shaped);
    renderRadio(container, shaped);
  };
})(window.pushlab = window.pushlab || {});
