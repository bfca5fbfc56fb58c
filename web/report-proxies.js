/* The report's proxy table (the proxies preset's, or any `--via` run): what each proxy
 * did to each transport — works, broken, slowed or cut — one row per transport (and
 * stream keepalive, where runs differ in it), one column per proxy. Drawn only when the
 * file has runs with a proxy record; a cell's tooltip says what its outcome rests on.
 * A classic script (no imports), like the others, so `compare` can inline it.
 */
(function (pushlab) {
  'use strict';
  const { t } = pushlab.i18n;
  const { valueText } = pushlab;

  /** The columns, in the order the proxy lab runs them; any other `via` after them. */
  const VIA_ORDER = ['direct', 'nginx-default', 'nginx-tuned', 'buffering-proxy'];

  /** Runs with a proxy record, keyed by row (transport, feed rate, keepalive) and column
   * (via). A row's name says the rate only if the runs differ in it, and the keepalive
   * only if that transport's runs differ in it (the proxies preset's quiet-feed runs). */
  function proxyGrid(shaped) {
    const runs = shaped.runs.filter((r) => r.proxy);
    const rates = new Set(runs.map((r) => r.rate));
    const keepalives = (transport) => new Set(runs.filter((r) => r.transport === transport).map((r) => r.proxy.stream_keepalive));
    const rows = new Map();
    const vias = new Set();
    for (const run of runs) {
      const split = keepalives(run.transport).size > 1;
      const key = `${run.transport}|${run.rate}|${split ? run.proxy.stream_keepalive : ''}`;
      if (!rows.has(key)) {
        const parts = [shaped.label(run.transport)];
        if (rates.size > 1) parts.push(t('proxy.rate', { rate: run.rate }));
        if (split) parts.push(t('proxy.keepalive', { keepalive: valueText(run.proxy.stream_keepalive) }));
        rows.set(key, { label: parts.join(', '), cells: new Map() });
      }
      rows.get(key).cells.set(run.proxy.via, run.proxy);
      vias.add(run.proxy.via);
    }
    const rank = (via) => (VIA_ORDER.includes(via) ? VIA_ORDER.indexOf(via) : VIA_ORDER.length);
    return { rows: [...rows.values()], vias: [...vias].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)) };
  }

  function cell(tag, text) {
    const element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  /**
   * The file's reason for an outcome (pushlab-load writes it in English, in the few
   * shapes of crates/load/src/proxy/outcome.rs) in the shown language: each known
   * phrase replaced, numbers kept. A shape it does not know stays as written.
   */
  const DETAIL_KO = [
    [/cut at ([\d.]+ s) \((\d+) requests cut by proxy_read_timeout\)/, '$1에 끊김(proxy_read_timeout으로 끊긴 요청 $2개)'],
    [/the proxy answered (.+) \(of (\d+) requests\)/, '프록시 응답 $1(요청 $2개 중)'],
    [/(\d+) of (\d+) ticks delivered/, '틱 $2개 중 $1개 전달'],
    [/\(direct: /, '(직접 연결: '],
    [/; no direct run to compare with/, '; 비교할 직접 연결 실행 없음'],
    [/no error seen/, '오류 없음'],
  ];
  pushlab.outcomeDetail = (detail) => {
    if (pushlab.i18n.language() !== 'ko' || typeof detail !== 'string') return detail;
    return DETAIL_KO.reduce((text, [pattern, korean]) => text.replace(pattern, korean), detail);
  };

  pushlab.renderProxies = (section, shaped) => {
    const table = section.querySelector('#proxies-table');
    table.replaceChildren();
    const { rows, vias } = proxyGrid(shaped);
    section.hidden = rows.length === 0;
    if (rows.length === 0) return;
    const head = table.createTHead().insertRow();
    head.append(cell('th', t('proxy.transport')), ...vias.map((via) => cell('th', valueText(via))));
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.append(cell('th', row.label));
      for (const via of vias) {
        const proxy = row.cells.get(via);
        const td = cell('td', proxy ? valueText(proxy.outcome) : '—');
        if (proxy) {
          td.dataset.outcome = proxy.outcome;
          td.title = pushlab.outcomeDetail(proxy.outcome_detail);
          if (proxy.outcome !== 'works') td.className = 'bad';
        }
        tr.append(td);
      }
    }
  };
})(window.pushlab = window.pushlab || {});
