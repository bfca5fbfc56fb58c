// The six-connection wall, live: STREAMS EventSource streams to this page's own host,
// all opened at once. Each card says whether its stream is connected or still waiting
// for a connection, and how many ticks it has received. Over HTTP/1.1 the browser opens
// at most 6 connections per host, so streams 7 and 8 never open while the others are
// held; over HTTP/2 all of them share one connection and flow.

/** The shown language's words (web/i18n.js, a classic script loaded before this module). */
const { t, onChange } = window.pushlab.i18n;

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
  item.innerHTML = `<h2></h2><div class="state"></div>
    <div><span class="ticks">0</span> <span class="ticks-unit"></span></div><div class="muted since"></div>`;
  item.words = { state: ['wall.connecting'], since: null };
  return item;
}

/** Writes a card's words from its state, in the shown language (again after a switch). */
function write(item) {
  item.querySelector('h2').textContent = t('wall.stream', { index: item.dataset.index });
  item.querySelector('.ticks-unit').textContent = t('wall.ticks');
  item.querySelector('.state').textContent = t(...item.words.state);
  item.querySelector('.since').textContent = item.words.since ? t(...item.words.since) : '';
}

function setState(item, state, key, since) {
  item.dataset.state = state;
  item.words = { state: [key], since };
  write(item);
}

function open(item, started) {
  const source = new EventSource('api/sse');
  let ticks = 0;
  source.onopen = () => {
    setState(item, 'connected', 'wall.connected', ['wall.openedAfter', { ms: Math.round(performance.now() - started) }]);
    summarize();
  };
  source.onmessage = () => {
    ticks += 1;
    item.dataset.ticks = String(ticks);
    item.querySelector('.ticks').textContent = String(ticks);
  };
  setTimeout(() => {
    if (item.dataset.state === 'connecting') {
      setState(item, 'waiting', 'wall.waiting', ['wall.noTick']);
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
    verdict.textContent = t('wall.wall', { connected, streams: STREAMS, waiting });
  } else if (connected === STREAMS) {
    verdict.dataset.kind = 'flowing';
    verdict.textContent = t('wall.flowing', { streams: STREAMS });
  } else {
    verdict.textContent = t('wall.opening');
  }
}

const list = document.getElementById('streams');
const showProtocol = () => { document.getElementById('protocol').textContent = pageProtocol(); };
showProtocol();
const started = performance.now();
for (let i = 1; i <= STREAMS; i += 1) {
  const item = card(i);
  write(item);
  list.append(item);
  open(item, started);
}
summarize();
// A switch of language: the static words are i18n.js's (which rewrites #protocol's sentence), the rest here.
onChange(() => {
  showProtocol();
  document.querySelectorAll('.stream').forEach(write);
  summarize();
});
