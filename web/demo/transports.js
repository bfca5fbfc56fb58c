// The four ways this page gets ticks, each written the way a real page would use it.
//
// Every client has the same shape: `connect(cursor)` starts receiving after the cursor
// (`<epoch>-<seq>`, or null: from now on), `disconnect()` stops. What it receives goes to
// a `sink` (a panel) through the same calls, so the panel measures all four alike:
//   sink.request()            an HTTP request was sent, or a stream / socket opened
//   sink.opened()             a stream or socket is (re)opening: ticks made before now are replays
//   sink.bytes(n)             payload bytes the page could see (see each class)
//   sink.epoch(e)             the run of the server's log these ticks belong to (SPEC §7)
//   sink.reset(e)             our cursor was of another run (the server restarted): its
//                             seq began again at 1, and what follows starts at the oldest
//                             tick the new run still holds
//   sink.ticks(list)          ticks received, oldest first
//   sink.snapshot(list, next) latest price per symbol (not new ticks) and the cursor after them
//   sink.missed(k)            the server says k ticks after our cursor left its history
//   sink.state(text, kind)    text: () => words in the shown language (redrawn on a switch);
//                             kind: 'live' | 'waiting' | 'error'
//   sink.filtering(symbols)   (WebSocket) a new symbol filter was sent: null while the server
//                             has not confirmed it yet, then the symbols it confirmed
// A client that reconnects by itself asks `cursor()` (the panel's newest `<epoch>-<seq>`).
import { utf8Bytes } from './measure.js';

/** `() => t(key, params)`: a state's words, written in whichever language is shown when drawn. */
const words = (key, params) => () => window.pushlab.i18n.t(key, params);

/** Pause before a pull loop tries again after an error, so a dead server isn't hammered. */
const RETRY_AFTER_ERROR_MS = 1000;
/** How long the server may hold a long-poll (SPEC default 25 s; the range is 0..=60000). */
const LONG_POLL_TIMEOUT_MS = 25_000;
/** Ticks per poll answer (the server's default; its range is 1..=10000). */
const POLL_LIMIT = 1000;
/** A full answer means more is waiting: ask again at once, at most this many times per slot. */
const POLL_DRAIN_MAX = 10;
/** Pause before reopening a socket the server closed, or a stream it refused (EventSource retries dropped streams by itself). */
const REOPEN_MS = 1000;

/**
 * Where the panels talk to the server: '' is this page's own origin; the demo's links
 * (GET /api/links) are other ports of the same server, each relaying through an
 * emulated link, e.g. `http://localhost:40123/` for 3G. The server answers those
 * cross-origin requests for its own ports only (CORS, and its WebSocket origin check).
 */
let apiBase = '';

/** Moves every client's next request (or stream, or socket) to `base` ('' for this origin). */
export function setApiBase(base) {
  apiBase = base;
}

/**
 * `path` on the client's own server, if it has one (`client.base`, e.g. one replica of
 * a cluster: `just cluster`, the page's ?replicas=), else on the page's (`apiBase`).
 */
function api(path, base) {
  return `${base ?? apiBase}${path}`;
}

class HttpError extends Error {
  constructor(status, message) {
    super(`${status}: ${message}`);
    this.status = status;
  }
}

/** Fetches `url` and reports the request and its body bytes; returns the parsed JSON body. */
async function fetchJson(url, sink, signal, base) {
  sink.request();
  const response = await fetch(api(url, base), { signal, cache: 'no-store' });
  // arrayBuffer, not json(): its length is exactly the body bytes that arrived.
  const body = await response.arrayBuffer();
  sink.bytes(body.byteLength);
  const json = JSON.parse(new TextDecoder().decode(body));
  if (!response.ok) throw new HttpError(response.status, json.error ?? 'error');
  return json;
}

/**
 * What a poll or long-poll answer carries: its run of the log (and whether our cursor was
 * of an earlier one), missed ticks, then the ticks. Returns the cursor for the next call,
 * with the epoch, so a restarted server can tell it is not one of its own.
 */
function deliver(answer, sink) {
  if (answer.reset) sink.reset(answer.epoch);
  else sink.epoch(answer.epoch);
  if (answer.missed > 0) sink.missed(answer.missed);
  if (answer.ticks.length) sink.ticks(answer.ticks);
  return `${answer.epoch}-${answer.next}`;
}

/** `k3x9q2-1042` → its epoch, or null for a bare seq (or no id at all). */
function epochOf(id) {
  const dash = id.lastIndexOf('-');
  return dash > 0 ? id.slice(0, dash) : null;
}

/**
 * Polling: `GET /api/poll?since=N` on a fixed schedule. The schedule is open-loop (slot
 * k is at start + k × interval, whatever the previous answer took), like a page using
 * setInterval; a slot that comes while the previous request is still out is skipped.
 */
export class PollClient {
  constructor(sink, intervalMs) {
    this.sink = sink;
    this.intervalMs = intervalMs;
  }

  connect(cursor) {
    this.cursor = cursor;
    this.abort = new AbortController();
    this.inFlight = false;
    this.startSchedule();
    this.sink.state(words('state.polling', { ms: this.intervalMs }), 'live');
  }

  disconnect() {
    clearTimeout(this.timer);
    this.abort?.abort();
    this.abort = null;
  }

  /** A new interval applies at once, from a fresh schedule. */
  setInterval(intervalMs) {
    this.intervalMs = intervalMs;
    if (!this.abort) return;
    clearTimeout(this.timer);
    this.startSchedule();
    this.sink.state(words('state.polling', { ms: intervalMs }), 'live');
  }

  startSchedule() {
    this.start = performance.now();
    this.slot = 0;
    this.onSlot();
  }

  onSlot() {
    if (!this.inFlight) this.pollOnce();
    this.slot++;
    const delay = this.start + this.slot * this.intervalMs - performance.now();
    this.timer = setTimeout(() => this.onSlot(), Math.max(0, delay));
  }

  async pollOnce() {
    const { signal } = this.abort;
    this.inFlight = true;
    try {
      if (this.cursor === null) {
        // No cursor yet: the server answers with the latest price of each symbol and the
        // head, which is where our cursor starts.
        const answer = await fetchJson('api/poll', this.sink, signal, this.base);
        this.sink.epoch(answer.epoch);
        this.sink.snapshot(answer.ticks, answer.next);
        this.cursor = `${answer.epoch}-${answer.next}`;
      } else {
        // A full answer was cut at the limit (its `next` is the last tick it holds): drain
        // the rest now rather than fall further behind until the history runs out.
        for (let round = 0; round < POLL_DRAIN_MAX; round++) {
          const answer = await fetchJson(`api/poll?since=${this.cursor}&limit=${POLL_LIMIT}`, this.sink, signal, this.base);
          this.cursor = deliver(answer, this.sink);
          if (answer.ticks.length < POLL_LIMIT) break;
        }
      }
      this.sink.state(words('state.polling', { ms: this.intervalMs }), 'live');
    } catch (error) {
      if (signal.aborted) return;
      this.sink.state(words('state.pollFailed', { error: error.message }), 'error');
    } finally {
      // Only if still connected the same way: after a disconnect and reconnect, a new
      // request may be out, and this old one must not let a second one overlap it.
      if (this.abort?.signal === signal) this.inFlight = false;
    }
  }
}

/**
 * Long-polling: `GET /api/long-poll?since=N`; the server answers as soon as a tick after
 * N exists (or after its timeout, empty), and the page asks again at once.
 */
export class LongPollClient {
  constructor(sink) {
    this.sink = sink;
  }

  connect(cursor) {
    this.abort = new AbortController();
    this.loop(cursor, this.abort.signal);
  }

  disconnect() {
    this.abort?.abort();
    this.abort = null;
  }

  async loop(cursor, signal) {
    while (!signal.aborted) {
      const since = cursor === null ? '' : `since=${cursor}&`;
      this.sink.state(words('state.held'), 'live');
      try {
        const answer = await fetchJson(`api/long-poll?${since}timeout_ms=${LONG_POLL_TIMEOUT_MS}`, this.sink, signal, this.base);
        cursor = deliver(answer, this.sink);
      } catch (error) {
        if (signal.aborted) return;
        this.sink.state(words('state.longPollFailed', { error: error.message, ms: RETRY_AFTER_ERROR_MS }), 'error');
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
      }
    }
  }
}

/**
 * Server-Sent Events: one `EventSource` on `/api/sse`. Each event's id is `<epoch>-<seq>`,
 * and on a network error the browser reconnects by itself (after the server's
 * `retry: 1000`) sending it back as `Last-Event-ID`, so the server replays what was
 * missed, or, if it restarted meanwhile, sends `event: reset` and its history. The page
 * only picks the cursor of a stream it opens itself (`?last_event_id=`, as a page can't
 * set the header).
 */
export class SseClient {
  constructor(sink, cursor) {
    this.sink = sink;
    this.cursor = cursor;
  }

  connect(cursor) {
    const source = new EventSource(api(cursor === null ? 'api/sse' : `api/sse?last_event_id=${cursor}`, this.base));
    this.source = source;
    let lost = false;
    this.sink.state(words('state.opening'), 'waiting');
    this.sink.opened();
    source.onopen = () => {
      this.sink.request();
      // The browser's own reconnect: ticks made before it was back are replays (its
      // request went out a moment before this, so a tick or so may count as replayed).
      if (lost) this.sink.opened();
      this.sink.state(words(lost ? 'state.browserReconnected' : 'state.stream'), 'live');
    };
    source.onmessage = (event) => {
      // The page sees each event's id and data, not the HTTP headers, `retry:` or keep-alive
      // comments: count the event as it was on the wire, `id: <epoch>-<seq>\ndata: {…}\n\n`.
      this.sink.bytes(utf8Bytes(`id: ${event.lastEventId}\ndata: ${event.data}\n\n`));
      const epoch = epochOf(event.lastEventId);
      if (epoch) this.sink.epoch(epoch);
      this.sink.ticks([JSON.parse(event.data)]);
    };
    source.addEventListener('gap', (event) => {
      this.sink.bytes(utf8Bytes(`event: gap\ndata: ${event.data}\n\n`));
      this.sink.missed(JSON.parse(event.data).missed);
    });
    source.addEventListener('reset', (event) => {
      this.sink.bytes(utf8Bytes(`event: reset\nid: ${event.lastEventId}\ndata: ${event.data}\n\n`));
      this.sink.reset(JSON.parse(event.data).epoch);
    });
    source.onerror = () => {
      lost = true;
      if (source.readyState === EventSource.CLOSED) {
        // A non-200 answer (a 503 when the server is full) is final for EventSource: it
        // never retries, so the page does, from its own cursor.
        this.sink.state(words('state.streamRefused', { ms: REOPEN_MS }), 'error');
        this.disconnect();
        this.retry = setTimeout(() => this.connect(this.cursor()), REOPEN_MS);
      } else {
        this.sink.state(words('state.streamLost'), 'error');
      }
    };
  }

  disconnect() {
    clearTimeout(this.retry);
    this.source?.close();
    this.source = null;
  }
}

/**
 * WebSocket: one connection on `/api/ws?since=N`, one text message per tick, control
 * messages with a `type` (the first is `hello`, with the server's epoch). It is the one transport where the page talks back on the same
 * connection: `subscribe` changes the symbol filter without a new handshake. Unlike
 * EventSource it has no reconnect of its own: when the server closes it, this page
 * reopens it with the last cursor it saw (and its filter).
 */
export class WsClient {
  constructor(sink, cursor) {
    this.sink = sink;
    this.cursor = cursor; // () => the panel's newest `<epoch>-<seq>`, for reconnecting
    this.symbols = null; // the filter to reopen with; null: all symbols
  }

  connect(cursor) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = new URLSearchParams();
    if (cursor !== null) query.set('since', cursor);
    if (this.symbols) query.set('symbols', this.symbols.join(','));
    this.sink.opened(); // ticks made before this request are replays from the history
    const base = this.base ?? apiBase;
    const host = base ? new URL(base).host : location.host;
    const socket = new WebSocket(`${scheme}://${host}/api/ws${query.size ? `?${query}` : ''}`);
    this.socket = socket;
    this.sink.state(words('state.handshake'), 'waiting');
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.sink.request();
      this.sink.state(words('state.socket'), 'live');
    };
    socket.onmessage = (event) => {
      this.sink.bytes(utf8Bytes(event.data)); // the message payload; frame headers are not visible
      const message = JSON.parse(event.data);
      if (message.type === 'hello') this.sink.epoch(message.epoch);
      else if (message.type === 'reset') this.sink.reset(message.epoch);
      else if (message.type === 'gap') this.sink.missed(message.missed);
      else if (message.type === 'error') this.sink.state(words('state.serverSays', { message: message.message }), 'error');
      else if (message.type === 'subscribed') this.sink.filtering(message.symbols);
      else if (message.type === undefined) this.sink.ticks([message]);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return; // closed by disconnect(): nothing to do
      const why = opened ? words('state.closedBy', { code: event.code, ms: REOPEN_MS }) : words('state.couldNotConnect', { ms: REOPEN_MS });
      this.sink.state(why, 'error');
      // The newest cursor, epoch included: a server that restarted meanwhile answers it
      // with a reset notice rather than refusing it.
      this.retry = setTimeout(() => { if (this.socket) this.connect(this.cursor()); }, REOPEN_MS);
    };
  }

  /** Sends `{"type":"subscribe","symbols":[…]}` on the open socket; also used on reopening. */
  subscribe(symbols) {
    this.symbols = symbols;
    if (this.socket?.readyState !== WebSocket.OPEN) return; // the next connect() carries it
    this.socket.send(JSON.stringify({ type: 'subscribe', symbols }));
    this.sink.filtering(null);
    this.sink.state(words('state.sentSubscribe', { symbols: symbols.join(',') }), 'waiting');
  }

  disconnect() {
    clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'disconnected from the page');
  }
}
