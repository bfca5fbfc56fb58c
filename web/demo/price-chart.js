// A small chart of one symbol's recent prices, in the transport's colour. Chart.js is
// loaded as a classic script (web/vendor/chart.umd.min.js) and found on `window`.
import { nowUs } from './measure.js';

/** The chart shows the last this-many seconds. */
const WINDOW_S = 30;
/** Redraws at most this often: the chart is a glance, and Chart.js work adds up at 4 panels. */
const REDRAW_MS = 250;

export class PriceChart {
  constructor(canvas, transport) {
    this.points = []; // { ts_us, price }, oldest first
    this.lastDraw = 0;
    const color = getComputedStyle(document.documentElement).getPropertyValue(`--c-${transport}`).trim();
    this.chart = new window.Chart(canvas, {
      type: 'line',
      data: { datasets: [{ data: [], borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 0, stepped: true }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: {
          // x is seconds relative to now, so the chart scrolls by itself as time passes.
          x: { type: 'linear', min: -WINDOW_S, max: 0, ticks: { maxTicksLimit: 4, callback: (v) => (v === 0 ? window.pushlab.i18n.t('demo.chartNow') : `${v}s`) } },
          y: { ticks: { maxTicksLimit: 4 } },
        },
      },
    });
  }

  add(tsUs, price) {
    this.points.push({ ts_us: tsUs, price });
  }

  clear() {
    this.points = [];
    this.lastDraw = 0;
  }

  draw(symbol) {
    if (performance.now() - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = performance.now();
    const now = nowUs();
    const oldest = now - WINDOW_S * 1e6;
    // Keep one point before the window so the step line starts at the left edge.
    let first = this.points.findIndex((p) => p.ts_us >= oldest);
    if (first === -1) first = this.points.length;
    this.points.splice(0, Math.max(0, first - 1));
    const data = this.points.map((p) => ({ x: Math.max(-WINDOW_S, (p.ts_us - now) / 1e6), y: p.price }));
    // Carry the last price to "now": a price holds until the next tick changes it.
    if (data.length) data.push({ x: 0, y: data[data.length - 1].y });
    this.chart.data.datasets[0].data = data;
    this.chart.options.scales.y.title = { display: true, text: symbol, padding: 0, font: { size: 11 } };
    this.chart.update('none');
  }
}
