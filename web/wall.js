// The six-connection wall, live: STREAMS EventSource streams to this page's own host,
// all opened at once. Each card says whether its stream is connected or still waiting
// for a connection, and how many ticks it has received. Over HTTP/1.1 the browser opens
// at most 6 connections per host, so streams 7 and 8 never open while the others are
// held; over HTTP/2 all of them share one connection and flow.

const STREAMS = 8;
/** After this long without an open, a stream is said to be waiting for a connection. */
const WAITING_AFTER_MS = 1500;

/** The protocol the page itself came over: `h2`, `http/1.1` (or unknown). */
function pageProtocol() {
  const [navigation] = performance.getEntriesByType('navigation');
  return navigation?.nextHopProtocol || 'unknown';
}

function card(index) {
  const item = document.createElement('li');
  item.className = 'stream';
  item.dataset.index = String(index);
  item.dataset.state = 'connecting';
  item.dataset.ticks = '0';
  item.innerHTML = `<h2>stream ${index}</h2><div class="state">connecting…</div>
    <div><span class="ticks">0</span> ticks</div><div class="muted since"></div>`;
  return item;
}

function setState(item, state, text) {
  item.dataset.state = state;
  item.querySelector('.state').textContent = text;
}

function open(item, started) {
  const source = new EventSource('api/sse');
  let ticks = 0;
  source.onopen = () => {
    setState(item, 'connected', 'connected');
    item.querySelector('.since').textContent = `opened after ${Math.round(performance.now() - started)} ms`;
    summarize();
  };
  source.onmessage = () => {
    ticks += 1;
    item.dataset.ticks = String(ticks);
    item.querySelector('.ticks').textContent = String(ticks);
  };
  setTimeout(() => {
    if (item.dataset.state === 'connecting') {
      setState(item, 'waiting', 'waiting for a free connection');
      item.querySelector('.since').textContent = 'no tick while the others hold theirs';
      summarize();
    }
  }, WAITING_AFTER_MS);
  return source;
}

function summarize() {
  const cards = [...document.querySelectorAll('.stream')];
  const connected = cards.filter((c) => c.dataset.state === 'connected').length;
  const waiting = cards.filter((c) => c.dataset.state === 'waiting').length;
  const verdict = document.getElementById('verdict');
  if (waiting > 0) {
    verdict.dataset.kind = 'wall';
    verdict.textContent = `${connected} of ${STREAMS} streams flowing; ${waiting} waiting for a free connection: the browser's limit of 6 connections per host over HTTP/1.1.`;
  } else if (connected === STREAMS) {
    verdict.dataset.kind = 'flowing';
    verdict.textContent = `All ${STREAMS} streams flowing over one host.`;
  }
}

const list = document.getElementById('streams');
document.getElementById('protocol').textContent = pageProtocol();
const started = performance.now();
for (let i = 1; i <= STREAMS; i += 1) {
  const item = card(i);
  list.append(item);
  open(item, started);
}
