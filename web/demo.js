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
let pollIntervalMs = DEFAULT_POLL_INTERVAL_MS;

/**
 * What each panel shows and how it connects. Labels say exactly what the page counts.
 * Which transports there are, and their order, come from the server's catalogue
 * (GET /api/figures, written from crates/contract): a transport it does not list gets no
 * panel, and one this table lacks is reported instead of silently left out.
 */
const PANELS = [
  {
    transport: 'poll', name: 'Polling', requests: 'HTTP requests', bytes: 'response body bytes',
    caption: () => `Asks GET /api/poll?since=<last seq> every ${pollIntervalMs} ms, answer or not: ticks arrive in batches, ` +
      'latency sits near half the interval, and a request goes out even when nothing changed.',
    create: (sink) => new PollClient(sink, pollIntervalMs),
  },
  {
    transport: 'long-poll', name: 'Long-polling', requests: 'HTTP requests', bytes: 'response body bytes',
    caption: () => 'Asks GET /api/long-poll?since=<last seq> and the server holds the request until a tick exists, ' +
      'then the page asks again: near-instant, but one full HTTP request per answer — watch requests follow the tick rate.',
    create: (sink) => new LongPollClient(sink),
  },
  {
    transport: 'sse', name: 'Server-Sent Events', requests: 'streams opened', bytes: 'event bytes (id + data lines)',
    caption: () => 'One EventSource on /api/sse: a single HTTP response that never ends, one event per tick. ' +
      'If the stream drops, the browser reconnects by itself and sends Last-Event-ID (<epoch>-<seq>), so the server replays what was missed.',
    create: (sink, cursor) => new SseClient(sink, cursor),
  },
  {
    transport: 'ws', name: 'WebSocket', requests: 'handshakes', bytes: 'message payload bytes',
    caption: () => 'One WebSocket on /api/ws: an upgraded connection, one message per tick, and the page talks back on it: ' +
      'the symbol filter ("all") sends a subscribe message, no new handshake. No automatic reconnect: the page reopens it with ?since=<epoch>-<last seq>.',
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
    return showError(`Could not reach the pushlab server (${error.message}). Is pushlab-server running?`);
  }
  const replicas = replicaBases(location.search);
  if (replicas.error) return showError(replicas.error);
  const unknown = catalogue.transports.filter((t) => !PANELS.some((p) => p.transport === t.name));
  if (unknown.length) return showError(`This page has no panel for ${unknown.map((t) => t.label).join(', ')}.`);
  const [minRate, maxRate] = catalogue.limits.rate_per_s;
  Object.assign($('#rate'), { min: minRate, max: maxRate });
  const symbols = stats.ticker.symbols;
  fillSelect($('#chart-symbol'), symbols.map((s) => [s, s]), symbols[0]);
  $('#rate').value = stats.ticker.rate;
  showRate(stats.ticker.rate);
  $('#latency-window').textContent = `${LATENCY_WINDOW.windowMs / 1000} s (at least the last ${LATENCY_WINDOW.minTicks} ticks)`;

  const template = $('#panel-template');
  const inOrder = catalogue.transports.map((t) => PANELS.find((p) => p.transport === t.name));
  const panels = inOrder.map((info) => {
    const root = template.content.firstElementChild.cloneNode(true);
    root.dataset.transport = info.transport;
    root.querySelector('.transport-name').textContent = info.name;
    root.querySelector('[data-label="requests"]').textContent = info.requests;
    root.querySelector('[data-label="bytes"]').textContent = info.bytes;
    $('#panels').append(root);
    return new Panel(root, info, {
      symbols,
      chartSymbol: () => $('#chart-symbol').value,
      resume: () => $('#resume').checked,
    });
  });
  const renderCaptions = () => panels.forEach((p) => { p.root.querySelector('.caption').textContent = p.info.caption(); });
  renderCaptions();
  await placePanels(panels, replicas.bases, stats);
  panels.forEach((panel) => panel.connect());
  setInterval(() => panels.forEach((panel) => panel.render()), RENDER_MS);

  $('#poll-interval').addEventListener('change', (event) => {
    pollIntervalMs = Number(event.target.value);
    panels[0].client.setInterval(pollIntervalMs);
    renderCaptions();
  });
  $('#chart-symbol').addEventListener('change', () => panels.forEach((p) => p.setChartSymbol()));
  await offerLinks(panels);
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
    status.textContent = 'start the server with --demo-links 3g,satellite to offer links';
    return;
  }
  for (const link of links) {
    select.append(new Option(`${link.name} (RTT ${window.pushlab.formatValue('milliseconds', link.rtt_ms)})`, String(link.port)));
  }
  select.addEventListener('change', () => {
    const link = links.find((l) => String(l.port) === select.value);
    setApiBase(link ? `${location.protocol}//${location.hostname}:${link.port}/` : '');
    status.textContent = link ? `${link.spec} (${link.emulator} emulator)` : '';
    document.body.dataset.link = link ? link.name : '';
    for (const panel of panels) {
      if (!panel.connected) continue;
      panel.client.disconnect();
      panel.connect(); // from its cursor: nothing is lost by moving
    }
  });
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
    status.textContent = `not changed: ${error.message}`;
    status.classList.add('bad');
  }
}

function showRate(rate) {
  const status = $('#rate-status');
  status.textContent = `server: ${rate} ticks/s` +
    (rate > BROWSER_LIMIT_TICKS_PER_S ? ' — this tab may not keep up: delays then are the browser\'s, not the transports\'' : '');
  status.classList.toggle('bad', rate > BROWSER_LIMIT_TICKS_PER_S);
}

function fillSelect(select, options, selected) {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value, false, value === selected)));
}

function showError(message) {
  const box = $('#status');
  box.textContent = message;
  box.hidden = false;
  document.body.dataset.state = 'error';
}

main();
