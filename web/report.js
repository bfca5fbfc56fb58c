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
  const { t } = pushlab.i18n;
  const $ = (id) => document.getElementById(id);
  /** The source of embedded results, as `body[data-source]` names it (tests read it in English). */
  const EMBEDDED = 'the results embedded in this page';
  /** What is on show, so a switch of language can draw it again in the other. */
  let shown = null;

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

  /** `source` as the page writes it: a file name or URL, or the embedded results in words. */
  const sourceName = (source) => (source === EMBEDDED ? t('report.embedded') : source);

  function setSource(text) {
    $('source').textContent = text;
    delete $('source').dataset.i18n; // written here from now on, not by the static fill
  }

  async function show(results, source) {
    const problems = validate(results);
    if (problems.length) return fail(t('report.notResults', { source: sourceName(source), problems: problems.join('; ') }));
    const found = await catalogueFor(results);
    if (!found) return fail(t('report.predates', { source: sourceName(source) }));
    lastCatalogue = found.catalogue;
    shown = { results, source };
    const shaped = shape(results, found.catalogue);
    setSource(t('report.from', { source: sourceName(source) }));
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
      setSource(t('report.noResults'));
      document.body.dataset.state = 'error';
    }
    document.body.dataset.error = message;
  }

  function renderSummary(container, results, shaped, catalogueFrom) {
    const s = results.scenario ?? {};
    const m = results.machine ?? {};
    const lines = [];
    if (results.fixture || results.note) lines.push(fileNote(results));
    const transports = shaped.transports.map(shaped.label).join(', ');
    const clients = shaped.clientCounts.map((c) => formatValue('count', c)).join(', ');
    const rates = [...new Set(shaped.groups.map((g) => g.rate))].map(formatNumber).join(', ');
    const listed = Array.isArray(s.steps) ? t('report.listed', { n: s.steps.length }) : '';
    const preset = s.preset ? t('report.preset', { preset: s.preset }) : '';
    const faults = Array.isArray(results.faults) ? results.faults : [];
    if (faults.length) {
      const kinds = pushlab.faultGroups(faults).map((g) =>
        t('report.faultKind', { fault: pushlab.valueText(g.fault), policy: pushlab.valueText(g.policy), clients: formatValue('count', g.clients) }));
      lines.push(paragraph(t('report.faultRuns', { preset, count: formatValue('count', faults.length), kinds: kinds.join(', ') })));
    }
    if (shaped.runs.length) {
      lines.push(paragraph(t('report.runs', {
        preset, transports, clients, rates, listed,
        polling: s.poll_interval_ms ? t('report.polling', { interval: formatValue('milliseconds', s.poll_interval_ms) }) : '',
        duration: s.duration_s ? t('report.duration', { seconds: s.duration_s }) : '',
        sweep: shaped.sweep ? t('report.sweep') : '',
      })));
    }
    lines.push(paragraph(t('report.machine', {
      date: results.generated_at ? new Date(results.generated_at).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : t('report.noDate'),
      cores: m.cores ?? '?',
      memory: m.memory_bytes ? formatValue('bytes', m.memory_bytes) : t('report.noMemory'),
      os: m.os ?? t('report.noOs'),
      kernel: m.kernel ? t('report.kernel', { kernel: m.kernel }) : '',
    }), 'muted'));
    if (catalogueFrom !== 'file') {
      const whose = t(catalogueFrom === 'server' ? 'report.oldCatalogueServer' : 'report.oldCataloguePage');
      lines.push(paragraph(t('report.oldCatalogue', { whose }), 'muted'));
    }
    // The same threshold the terminal table warns at, from the catalogue.
    const busyPct = shaped.catalogue.thresholds.loadgen_busy_cpu_pct;
    const busy = typeof busyPct === 'number' ? shaped.runs.filter((r) => r.loadgen?.cpu_pct >= busyPct) : [];
    if (busy.length) {
      const runs = busy.map((r) => t('report.busyRun', { transport: shaped.label(r.transport), clients: formatValue('count', r.clients) }));
      lines.push(notice(t('report.busy', { pct: formatValue('percent_of_core', busyPct), n: busy.length, runs: runs.join(', ') })));
    }
    // A load average above the core count: something else wanted the CPU during the run.
    const crowded = shaped.runs.filter((r) => m.cores && r.loadgen?.host_load_1m > m.cores);
    if (crowded.length) {
      lines.push(notice(t('report.crowded', { cores: m.cores, n: crowded.length })));
    }
    container.replaceChildren(...lines);
  }

  /** What a small loopback send() and recv() cost on the machine, or that the file does not say. */
  function renderCalibration(results, shaped) {
    const { measured, rows } = pushlab.calibrationRows(results, shaped.catalogue);
    $('calibration-reading').textContent = t(measured ? 'report.calibrated' : 'report.notCalibrated');
    const table = $('calibration-table');
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const key of ['report.calibrationHead', 'report.measured', 'report.spread']) head.append(cell('th', t(key)));
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      const th = cell('th', row.label);
      if (row.about) th.title = row.about;
      const value = cell('td', pushlab.valueText(row.value));
      value.className = 'num';
      tr.append(th, value, cell('td', row.spread.replaceAll(pushlab.NOT_MEASURED, t('notMeasured'))));
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

  /** A fixture's or a file's own note: the file's words (English) unless it is our fixture notice. */
  function fileNote(results) {
    if (!results.note) return notice(t('report.fixture'));
    const p = notice(results.note);
    if (pushlab.i18n.language() !== 'en') p.translate = false; // the file's text, shown as written
    return p;
  }

  function notice(text) {
    const p = paragraph(text, 'notice');
    p.dataset.notice = '';
    return p;
  }

  async function loadFromServer() {
    const name = new URLSearchParams(location.search).get('results') ?? 'latest';
    if (!RESULTS_NAME.test(name)) return fail(t('report.badName', { name }));
    const url = `results/${name}.json`;
    try {
      const response = await fetch(url, { cache: 'no-store' });
      if (!response.ok) throw new Error(t('report.serverAnswered', { status: response.status }));
      show(await response.json(), url);
    } catch (error) {
      fail(t('report.couldNotLoad', { url, error: error.message }));
    }
  }

  function loadFile(file) {
    if (!file) return;
    file.text().then(
      (text) => {
        let results;
        try { results = JSON.parse(text); } catch (error) { return fail(t('report.notJson', { name: file.name, error: error.message })); }
        show(results, file.name);
      },
      (error) => fail(t('report.couldNotRead', { name: file.name, error: error.message })),
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
    // A switch of language draws what is on show again (the static words are i18n.js's).
    pushlab.i18n.onChange(() => { if (shown) show(shown.results, shown.source); });
    if (typeof Chart === 'undefined') return fail(t('report.noChartLib'));
    let embedded = null;
    try {
      embedded = JSON.parse($('pushlab-data').textContent);
    } catch (error) {
      return fail(t('report.badEmbedded', { error: error.message }));
    }
    if (embedded !== null) {
      $('demo-link').hidden = true; // a file opened from disk has no live demo beside it
      show(embedded, EMBEDDED);
    } else {
      loadFromServer();
    }
  }

  start();
})(window.pushlab = window.pushlab || {});
