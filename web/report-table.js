/* The full numbers table: one column per run (side by side, like the charts), one row
 * per figure. Rows come from the run records themselves, so a field the load generator
 * adds later shows up without a change here; the labels below only make known ones read
 * better.
 */
(function (pushlab) {
  'use strict';
  const { LABELS, formatNumber, formatBytes, formatLatencyMs, usToMs, formatMs } = pushlab;

  const SECTION_LABELS = {
    run: 'Run', latency_us: 'Latency (ms, client receive time − tick ts_us)', ticks: 'Ticks',
    requests: 'Requests', wire: 'Wire (client sockets, headers and framing included)',
    server: 'Server', connect: 'Connect (time to first byte)', errors: 'Errors by kind', loadgen: 'Load generator',
  };
  /** Labels by `section.key`, or by `key` alone where it reads the same in every section. */
  const ROW_LABELS = {
    'run.poll_interval_ms': 'poll interval', 'run.window_s': 'measurement window (s)', 'run.rate': 'tick rate (ticks/s)',
    'latency_us.count': 'ticks measured', p999: 'p99.9', out_of_order: 'out of order', gap_missed: 'missed (gap notices)',
    per_client_per_min: 'per client per minute', empty: 'empty answers', late: 'late (overran the poll slot)',
    bytes_per_tick: 'bytes per delivered tick', cpu_s: 'CPU s (user + sys)', cpu_us_per_tick: 'CPU µs per delivered tick',
    rss_before_bytes: 'RSS before clients', rss_with_clients_bytes: 'RSS with all connected',
    heap_before_bytes: 'heap before clients', heap_with_clients_bytes: 'heap with all connected',
    rss_per_conn_bytes: 'RSS per connection', heap_per_conn_bytes: 'heap per connection',
    tcp_mem_per_conn_bytes: 'kernel TCP memory per connection', 'connect.count': 'connections / responses timed',
    cpu_pct: 'CPU % (of one core)', rss_bytes: 'RSS', p50_us: 'p50 (ms)', p99_us: 'p99 (ms)', max_us: 'max (ms)',
    'run.drain_s': 'drain after the window (s)', expected_per_client: 'expected per client',
    tcp_mem_before_bytes: 'kernel TCP memory before clients', tcp_mem_with_clients_bytes: 'kernel TCP memory with all connected',
    cpu_source: 'CPU measured from', 'loadgen.heap_bytes': 'heap', heap_per_client_bytes: 'heap per client',
    host_load_1m: 'machine load average (1 min)',
  };
  /** A non-zero value in these rows is a problem worth seeing at a glance. */
  const BAD_WHEN_NONZERO = new Set(['ticks.lost', 'ticks.duplicates', 'ticks.out_of_order', 'ticks.gap_missed', 'requests.late']);

  function renderTable(table, shaped) {
    const { runs } = shaped;
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    head.append(cell('th', 'figure'));
    for (const run of runs) {
      const th = cell('th', '');
      th.dataset.transport = run.transport;
      const name = document.createElement('span');
      name.className = 'transport-name';
      name.textContent = LABELS[run.transport] ?? run.transport;
      const sub = document.createElement('div');
      sub.className = 'muted';
      sub.textContent = `${formatNumber(run.clients)} clients, ${formatNumber(run.rate)}/s`;
      th.append(name, sub);
      head.append(th);
    }
    const body = table.createTBody();
    for (const [section, keys] of sections(runs)) {
      const row = body.insertRow();
      row.className = 'section';
      // The label sits in a span so it can stick to the left while the row scrolls sideways.
      const th = cell('th', '');
      th.append(cell('span', SECTION_LABELS[section] ?? section.replaceAll('_', ' ')));
      th.colSpan = runs.length + 1;
      row.append(th);
      for (const key of keys) {
        const tr = body.insertRow();
        tr.append(cell('th', ROW_LABELS[`${section}.${key}`] ?? ROW_LABELS[key] ?? key.replaceAll('_', ' ')));
        for (const run of runs) {
          const value = section === 'run' ? run[key] : run[section]?.[key];
          const td = cell('td', format(section, key, value));
          td.className = 'num';
          if ((BAD_WHEN_NONZERO.has(`${section}.${key}`) || section === 'errors') && value > 0) td.classList.add('bad');
          tr.append(td);
        }
      }
    }
  }

  /** [section, [keys…]] in a stable order: the run's own scalars first, then each record. */
  function sections(runs) {
    const result = new Map([['run', new Set()]]);
    for (const run of runs) {
      for (const [key, value] of Object.entries(run)) {
        if (key === 'transport') continue;
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          if (!result.has(key)) result.set(key, new Set());
          Object.keys(value).forEach((k) => result.get(key).add(k));
        } else {
          result.get('run').add(key);
        }
      }
    }
    // A run with no errors has an empty map; say "none" rather than drop the section.
    if (result.has('errors') && result.get('errors').size === 0) result.get('errors').add('(none)');
    return [...result].map(([section, keys]) => [section, [...keys]]);
  }

  function format(section, key, value) {
    if (section === 'errors') return formatNumber(value ?? 0);
    if (typeof value !== 'number') return value === undefined || value === null ? '—' : String(value);
    if (key === 'poll_interval_ms') return formatMs(value);
    if (section === 'latency_us' && key !== 'count') return formatLatencyMs(usToMs(value));
    if (key.endsWith('_us') && section === 'connect') return formatLatencyMs(usToMs(value));
    if (key.endsWith('_bytes') || key.startsWith('bytes_read') || key.startsWith('bytes_written')) return formatBytes(value);
    return formatNumber(value);
  }

  function cell(tag, text) {
    const element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  Object.assign(pushlab, { renderTable });
})(window.pushlab = window.pushlab || {});
