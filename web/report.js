/* The report page: finds a results file, then draws its summary, charts and table.
 *
 * Where the results come from, in order:
 *   1. the JSON `compare` embedded in <script id="pushlab-data"> (the self-contained
 *      results/report.html, which opens from disk without a server);
 *   2. otherwise results/<name>.json from the server, name from `?results=<name>`,
 *      default `latest` (a relative URL, so it works under /report);
 *   3. any file the user picks or drops on the page, at any time.
 * Every label, unit and threshold comes from the figure catalogue the results carry; a
 * file written before they carried one is shown with the server's (`GET /api/figures`),
 * or, opened from disk, with the catalogue of the results shown before it.
 * `body[data-state]` is "loading", "ready" or "error", which the browser tests wait on.
 */
(function (pushlab) {
  'use strict';
  const { validate, isCatalogue, shape, formatNumber, formatValue } = pushlab;
  const $ = (id) => document.getElementById(id);

  /** A results name the server can serve: no slashes, no dots leading out of results/. */
  const RESULTS_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
  /** The catalogue of the last results shown, for a file that has none. */
  let lastCatalogue = null;

  /** The catalogue to show `results` with, and where it came from ('file', 'server', 'page'). */
  async function catalogueFor(results) {
    if (results.catalogue) return { catalogue: results.catalogue, from: 'file' };
    if (location.protocol === 'http:' || location.protocol === 'https:') {
      try {
        const response = await fetch('api/figures', { cache: 'no-store' });
        const catalogue = response.ok ? await response.json() : null;
        if (isCatalogue(catalogue)) return { catalogue, from: 'server' };
      } catch {
        // No server to ask: fall back to what this page has shown.
      }
    }
    return lastCatalogue && { catalogue: lastCatalogue, from: 'page' };
  }

  async function show(results, source) {
    const problems = validate(results);
    if (problems.length) return fail(`${source} is not a pushlab results file: ${problems.join('; ')}.`);
    const found = await catalogueFor(results);
    if (!found) {
      return fail(`${source} predates the figure catalogue, and none could be fetched from /api/figures: ` +
        'open it from the report of a running pushlab-server.');
    }
    lastCatalogue = found.catalogue;
    const shaped = shape(results, found.catalogue);
    $('source').textContent = `from ${source}`;
    $('status').replaceChildren();
    renderSummary($('summary'), results, shaped, found.from);
    // A faults preset's file has no runs: no run charts and no run table, only faults.
    const runs = shaped.runs.length > 0;
    pushlab.renderCharts($('charts'), shaped);
    $('charts').hidden = !runs;
    pushlab.renderFaults($('faults'), results, shaped);
    pushlab.renderProxies($('proxies'), shaped);
    if (runs) pushlab.renderTable($('numbers-table'), shaped);
    renderCalibration(results, shaped);
    $('numbers').hidden = !runs;
    document.body.dataset.state = 'ready';
    document.body.dataset.source = source;
  }

  function fail(message) {
    const box = document.createElement('p');
    box.className = 'notice error';
    box.textContent = message;
    $('status').replaceChildren(box);
    // A bad file picked over good results leaves those on show (still "ready"), with the message above.
    if (document.body.dataset.state !== 'ready') {
      $('source').textContent = 'no results loaded';
      document.body.dataset.state = 'error';
    }
    document.body.dataset.error = message;
  }

  function renderSummary(container, results, shaped, catalogueFrom) {
    const s = results.scenario ?? {};
    const m = results.machine ?? {};
    const lines = [];
    if (results.fixture || results.note) lines.push(notice(results.note ?? 'This file is a fixture, not a measurement.'));
    const transports = shaped.transports.map(shaped.label).join(', ');
    const clients = shaped.clientCounts.map((c) => formatValue('count', c)).join(', ');
    const rates = [...new Set(shaped.groups.map((g) => g.rate))].map(formatNumber).join(', ');
    const listed = Array.isArray(s.steps) ? `, in ${s.steps.length} listed runs (each chart's bars are one run's settings)` : '';
    const faults = Array.isArray(results.faults) ? results.faults : [];
    if (faults.length) {
      const kinds = pushlab.faultGroups(faults).map((g) => `${g.fault} (${g.policy}, ${formatValue('count', g.clients)} clients)`);
      lines.push(paragraph(`${s.preset ? `Preset “${s.preset}”: ` : ''}${formatValue('count', faults.length)} fault runs, ` +
        `each against a fresh server: ${kinds.join(', ')}. The server was killed or restarted a second into each window, ` +
        'and the clients timed until they had a tick again.'));
    }
    if (shaped.runs.length) lines.push(paragraph(
      `${s.preset ? `Preset “${s.preset}”: ` : ''}${transports} with ${clients} clients at ${rates} ticks/s${listed}` +
      `${s.poll_interval_ms ? `, polling every ${formatValue('milliseconds', s.poll_interval_ms)}` : ''}` +
      `${s.duration_s ? `, measured for ${s.duration_s} s per run` : ''}` +
      `${shaped.sweep ? ' — a sweep, so the charts draw lines against client count' : ''}.`,
    ));
    lines.push(paragraph(
      `Run ${results.generated_at ? new Date(results.generated_at).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '(no date)'}` +
      ` on ${m.cores ?? '?'} cores, ${m.memory_bytes ? formatValue('bytes', m.memory_bytes) : '? memory'}, ${m.os ?? 'unknown OS'}` +
      `${m.kernel ? `, kernel ${m.kernel}` : ''}. A fresh server process served each transport.`, 'muted'));
    if (catalogueFrom !== 'file') {
      lines.push(paragraph('This file predates the figure catalogue in results files: its labels and units are ' +
        (catalogueFrom === 'server' ? 'the server\'s (/api/figures).' : 'those of the results shown before it.'), 'muted'));
    }
    // The same threshold the terminal table warns at, from the catalogue.
    const busyPct = shaped.catalogue.thresholds.loadgen_busy_cpu_pct;
    const busy = typeof busyPct === 'number' ? shaped.runs.filter((r) => r.loadgen?.cpu_pct >= busyPct) : [];
    if (busy.length) {
      lines.push(notice(`The load generator used ${formatValue('percent_of_core', busyPct)} or more of a core in ${busy.length} run(s) (` +
        busy.map((r) => `${shaped.label(r.transport)} at ${formatValue('count', r.clients)} clients`).join(', ') +
        '): there, part of the latency may be the load generator\'s, not the transport\'s.'));
    }
    // A load average above the core count: something else wanted the CPU during the run.
    const crowded = shaped.runs.filter((r) => m.cores && r.loadgen?.host_load_1m > m.cores);
    if (crowded.length) {
      lines.push(notice(`The machine's load average was above its ${m.cores} cores in ${crowded.length} run(s): ` +
        'other work competed for the CPU there, so those figures are less trustworthy.'));
    }
    container.replaceChildren(...lines);
  }

  /** What a small loopback send() and recv() cost on the machine, or that the file does not say. */
  function renderCalibration(results, shaped) {
    const { measured, rows } = pushlab.calibrationRows(results, shaped.catalogue);
    $('calibration-reading').textContent = measured
      ? 'What one small loopback TCP call costs on the machine these results come from, measured by pushlab-load ' +
        'before the runs (docs/methodology.md, “Calibration”; “pushlab-load calibrate” measures the machine you are on). ' +
        'Server CPU per delivered tick is also given in these sends, so results from different machines compare. ' +
        'Each CPU figure is the median of its rounds, with the fastest and slowest round: a median far above the ' +
        'fastest says the machine was busy.'
      : 'This file has no calibration: it was written before pushlab-load measured one, so its server CPU per tick ' +
        'cannot be given in sends either (not measured). “pushlab-load calibrate” measures the machine you are on.';
    const table = $('calibration-table');
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const text of ['loopback TCP, TCP_NODELAY', 'measured', 'fastest – slowest round']) head.append(cell('th', text));
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      const th = cell('th', row.label);
      if (row.about) th.title = row.about;
      const value = cell('td', row.value);
      value.className = 'num';
      tr.append(th, value, cell('td', row.spread));
    }
    $('calibration').dataset.measured = String(measured);
    $('calibration').hidden = false;
  }

  function cell(tag, text) {
    const element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  function paragraph(text, className) {
    const p = document.createElement('p');
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }

  function notice(text) {
    const p = paragraph(text, 'notice');
    p.dataset.notice = '';
    return p;
  }

  async function loadFromServer() {
    const name = new URLSearchParams(location.search).get('results') ?? 'latest';
    if (!RESULTS_NAME.test(name)) return fail(`“${name}” is not a results file name (letters, digits, - _ . only).`);
    const url = `results/${name}.json`;
    try {
      const response = await fetch(url, { cache: 'no-store' });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      show(await response.json(), url);
    } catch (error) {
      fail(`Could not load ${url} (${error.message}). Run \`just compare\` to make one, ` +
        'or open a results file with the button above (or drop it on this page).');
    }
  }

  function loadFile(file) {
    if (!file) return;
    file.text().then(
      (text) => {
        let results;
        try { results = JSON.parse(text); } catch (error) { return fail(`${file.name} is not JSON (${error.message}).`); }
        show(results, file.name);
      },
      (error) => fail(`Could not read ${file.name}: ${error.message}`),
    );
  }

  function listenForFiles() {
    $('file-input').addEventListener('change', (event) => loadFile(event.target.files[0]));
    const overlay = $('drop-overlay');
    // dragover must be cancelled for the drop to reach us instead of the browser opening the file.
    window.addEventListener('dragover', (event) => { event.preventDefault(); overlay.hidden = false; });
    window.addEventListener('dragleave', (event) => { if (!event.relatedTarget) overlay.hidden = true; });
    window.addEventListener('drop', (event) => {
      event.preventDefault();
      overlay.hidden = true;
      loadFile(event.dataTransfer?.files?.[0]);
    });
  }

  function start() {
    document.body.dataset.state = 'loading';
    listenForFiles();
    if (typeof Chart === 'undefined') return fail('The chart library (vendor/chart.umd.min.js) did not load.');
    let embedded = null;
    try {
      embedded = JSON.parse($('pushlab-data').textContent);
    } catch (error) {
      return fail(`The results embedded in this page are not valid JSON (${error.message}).`);
    }
    if (embedded !== null) {
      $('demo-link').hidden = true; // a file opened from disk has no live demo beside it
      show(embedded, 'the results embedded in this page');
    } else {
      loadFromServer();
    }
  }

  start();
})(window.pushlab = window.pushlab || {});
