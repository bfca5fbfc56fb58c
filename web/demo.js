// The live demo: four panels, one per transport, all fed by the same server ticker.
// This file holds what differs per transport (the table below) and the controls; the
// measuring is in demo/panel.js and the connecting in demo/transports.js.
import { Panel, LATENCY_WINDOW } from './demo/panel.js';
import { PollClient, LongPollClient, SseClient, WsClient, setApiBase } from './demo/transports.js';
import { replicaBases, placePanels } from './demo/replicas.js';

/** How often the panels redraw their numbers (the data itself arrives as fast as it comes). */
const RENDER_MS = 100;
const DEFAULT_POLL_INTERVAL_MS = 1000;
/**
 * Roughly where one tab handling four feeds runs out of main-thread time on a small
 * machine (measured: fine at 2,000 ticks/s, seconds behind at 20,000). Above it the page
 * says so, because what it then shows is the browser's limit, not the transports'.
 */
const BROWSER_LIMIT_TICKS_PER_S = 2000;

const $ = (selector) => document.querySelector(selector);
/** The shown language's words (web/i18n.js, a classic script loaded before this module). */
const { t } = window.pushlab.i18n;
let pollIntervalMs = DEFAULT_POLL_INTERVAL_MS;
/** The server's rate as last shown, and the links' relabelling: redrawn on a language switch. */
let shownRate = null;
let relabelLinks = null;

/**
 * What each panel shows and how it connects. Labels (keys of i18n-demo.js) say exactly
 * what the page counts.
 * Which transports there are, and their order, come from the server's catalogue
 * (GET /api/figures, written from crates/contract): a transport it does not list gets no
 * panel, and one this table lacks is reported instead of silently left out.
 */
const PANELS = [
  {
    transport: 'poll', requests: 'panel.httpRequests', bytes: 'panel.bodyBytes',
    caption: () => t('caption.poll', { ms: pollIntervalMs }),
    create: (sink) => new PollClient(sink, pollIntervalMs),
  },
  {
    transport: 'long-poll', requests: 'panel.httpRequests', bytes: 'panel.bodyBytes',
    caption: () => t('caption.long-poll'),
    create: (sink) => new LongPollClient(sink),
  },
  {
    transport: 'sse', requests: 'panel.streamsOpened', bytes: 'panel.eventBytes',
    caption: () => t('caption.sse'),
    create: (sink, cursor) => new SseClient(sink, cursor),
  },
  {
    transport: 'ws', requests: 'panel.handshakes', bytes: 'panel.payloadBytes',
    caption: () => t('caption.ws'),
    create: (sink, cursor) => new WsClient(sink, cursor),
  },
];

async function main() {
  let stats, catalogue;
  try {
    [stats, catalogue] = await Promise.all(['api/stats', 'api/figures'].map(async (path) => {
      const response = await fetch(path, { cache: 'no-store' });
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      return response.json();
    }));
  } catch (error) {
    return showError(() => t('demo.unreachable', { error: error.message }));
  }
  const replicas = replicaBases(location.search);
  if (replicas.error) return showError(() => t(replicas.error.key, replicas.error.params));
  const unknown = catalogue.transports.filter((t) => !PANELS.some((p) => p.transport === t.name));
  if (unknown.length) return showError(() => t('demo.noPanel', { names: unknown.map((u) => u.label).join(', ') }));
  const [minRate, maxRate] = catalogue.limits.rate_per_s;
  Object.assign($('#rate'), { min: minRate, max: maxRate });
  const symbols = stats.ticker.symbols;
  fillSelect($('#chart-symbol'), symbols.map((s) => [s, s]), symbols[0]);
  $('#rate').value = stats.ticker.rate;
  showRate(stats.ticker.rate);
  const showLatencyWindow = () => {
    $('#latency-window').textContent = t('demo.latencyWindow', { seconds: LATENCY_WINDOW.windowMs / 1000, ticks: LATENCY_WINDOW.minTicks });
  };
  showLatencyWindow();

  const template = $('#panel-template');
  const inOrder = catalogue.transports.map((t) => PANELS.find((p) => p.transport === t.name));
  const panels = inOrder.map((info) => {
    const root = template.content.firstElementChild.cloneNode(true);
    root.dataset.transport = info.transport;
    root.querySelector('.transport-name').dataset.i18n = `transport.${info.transport}`;
    root.querySelector('[data-label="requests"]').dataset.i18n = info.requests;
    root.querySelector('[data-label="bytes"]').dataset.i18n = info.bytes;
    window.pushlab.i18n.apply(root);
    $('#panels').append(root);
    return new Panel(root, info, {
      symbols,
      chartSymbol: () => $('#chart-symbol').value,
      resume: () => $('#resume').checked,
    });
  });
  const renderCaptions = () => panels.forEach((p) => { p.root.querySelector('.caption').textContent = p.info.caption(); });
  renderCaptions();
  // A switch of language: the template's words are filled per panel, the rest redrawn here
  // (the counters and verdicts are redrawn by the next render anyway).
  window.pushlab.i18n.onChange(() => {
    panels.forEach((p) => { window.pushlab.i18n.apply(p.root); p.render(); });
    renderCaptions();
    showLatencyWindow();
    showRate(shownRate);
    relabelLinks?.();
    placePanels(panels, replicas.bases, stats);
  });
  await placePanels(panels, replicas.bases, stats);
  panels.forEach((panel) => panel.connect());
  setInterval(() => panels.forEach((panel) => panel.render()), RENDER_MS);

  $('#poll-interval').addEventListener('change', (event) => {
    pollIntervalMs = Number(event.target.value);
    panels[0].client.setInterval(pollIntervalMs);
    renderCaptions();
  });
  $('#chart-symbol').addEventListener('change', () => panels.forEach((p) => p.setChartSymbol()));
  relabelLinks = await offerLinks(panels);
  $('#rate-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setRate(Number($('#rate').value));
  });
  document.body.dataset.state = 'running';
}

/**
 * The links the server offers (GET /api/links, its --demo-links): picking one moves all
 * four panels there, each resuming from its cursor, so they degrade side by side.
 */
async function offerLinks(panels) {
  const select = $('#link');
  const status = $('#link-status');
  let links = [];
  try {
    const response = await fetch('api/links', { cache: 'no-store' });
    if (response.ok) links = await response.json();
  } catch {
    // An older server without links: the page still runs on loopback.
  }
  if (links.length === 0) {
    select.disabled = true;
    const noLinks = () => { status.textContent = t('demo.noLinks'); };
    noLinks();
    return noLinks;
  }
  const linkOption = (link) => t('demo.linkOption', { name: link.name, rtt: window.pushlab.formatValue('milliseconds', link.rtt_ms) });
  for (const link of links) select.append(new Option(linkOption(link), String(link.port)));
  const chosen = () => links.find((l) => String(l.port) === select.value);
  const describeLink = () => {
    const link = chosen();
    // The link's spec as --link takes it (code), then which emulator carries it (words).
    const spec = Object.assign(document.createElement('code'), { textContent: link?.spec ?? '' });
    status.replaceChildren(...(link ? [spec, ` ${t('demo.linkStatus', { emulator: link.emulator })}`] : []));
  };
  select.addEventListener('change', () => {
    const link = chosen();
    setApiBase(link ? `${location.protocol}//${location.hostname}:${link.port}/` : '');
    describeLink();
    document.body.dataset.link = link ? link.name : '';
    for (const panel of panels) {
      if (!panel.connected) continue;
      panel.client.disconnect();
      panel.connect(); // from its cursor: nothing is lost by moving
    }
  });
  // Redraws the options' and the status's words in the shown language.
  return () => {
    links.forEach((link, i) => { select.options[i + 1].textContent = linkOption(link); });
    describeLink();
  };
}

/** POST /api/admin/rate: the server only takes it from this machine (loopback). */
async function setRate(rate) {
  const status = $('#rate-status');
  try {
    const response = await fetch('api/admin/rate', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ?? `${response.status}`);
    showRate(body.rate);
  } catch (error) {
    status.textContent = t('demo.rateNotChanged', { error: error.message });
    status.classList.add('bad');
  }
}

function showRate(rate) {
  shownRate = rate;
  const status = $('#rate-status');
  status.textContent = t('demo.rateStatus', { rate }) + (rate > BROWSER_LIMIT_TICKS_PER_S ? t('demo.rateTooFast') : '');
  status.classList.toggle('bad', rate > BROWSER_LIMIT_TICKS_PER_S);
}

function fillSelect(select, options, selected) {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value, false, value === selected)));
}

/** `message`: a function of the shown language (redrawn on a switch) or a string. */
function showError(message) {
  const box = $('#status');
  const write = () => { box.textContent = typeof message === 'function' ? message() : message; };
  write();
  window.pushlab.i18n.onChange(write);
  box.hidden = false;
  document.body.dataset.state = 'error';
}

main();
