// One transport's panel: what it has received, measured the same way for all four, and
// drawn a few times a second (not per tick, so a fast feed doesn't flood the DOM).
import { LatencyWindow, nowUs, formatBytes, formatCount, formatLatency, formatLatencyPair } from './measure.js';
import { PriceChart } from './price-chart.js';

/** The shown language's words (web/i18n.js). */
const { t } = window.pushlab.i18n;

/** Latency percentiles are over the ticks of the last 5 s (at least the last 20 ticks). */
export const LATENCY_WINDOW = { windowMs: 5000, minTicks: 20, capacity: 50_000 };
/** Sorting up to `capacity` samples is not free: recompute percentiles this often. */
const PERCENTILES_EVERY_MS = 500;
/** How long a price stays highlighted after it moved. */
const FLASH_MS = 500;
/** Staleness above this is shown as a warning. */
const STALE_WARN_US = 2_000_000;

export class Panel {
  /**
   * `root`: the panel element (from the template); `info`: the transport's entry in
   * demo.js's TRANSPORTS; `options.symbols`, `options.chartSymbol()`, `options.resume()`.
   */
  constructor(root, info, options) {
    this.root = root;
    this.info = info;
    this.options = options;
    this.latency = new LatencyWindow(LATENCY_WINDOW);
    this.shownPercentiles = [null, null];
    this.percentilesAt = 0;
    this.counts = { ticks: 0, replayed: 0, requests: 0, bytes: 0, gapLost: 0, missed: 0, duplicates: 0, resets: 0 };
    this.lastSeq = 0; // newest seq received (or accounted for by a gap notice); 0: none yet
    this.epoch = null; // the run of the server's log lastSeq belongs to (SPEC §7)
    // Ticks scheduled before this instant (µs) came from the server's history, not live:
    // counted as replayed and kept out of the latency window, or a resume after 30 s
    // offline would read as a p99 of 30 s.
    this.replayFromUs = nowUs();
    this.newestTsUs = null;
    this.prices = new Map(); // symbol → { price, dir, changedAt }
    this.resume = null; // set on reconnect: how the transport recovered
    this.connected = false;
    this.chart = new PriceChart(root.querySelector('canvas'), info.transport);
    this.client = info.create(this.sink(), () => this.cursor());
    this.buildPrices(options.symbols);
    this.buildFilter(options.symbols);
    root.querySelector('[data-action="toggle"]').addEventListener('click', () => this.toggle());
  }

  /** The calls a transport client makes (see transports.js). */
  sink() {
    return {
      request: () => { this.counts.requests++; },
      opened: () => { this.replayFromUs = nowUs(); },
      epoch: (epoch) => {
        // An answer of another run without a reset notice (we had no cursor to send):
        // the numbering changed all the same.
        if (this.epoch !== null && epoch !== this.epoch && this.lastSeq) this.serverRestarted(epoch);
        this.epoch = epoch;
      },
      reset: (epoch) => this.serverRestarted(epoch),
      bytes: (n) => { this.counts.bytes += n; },
      ticks: (list) => this.receive(list),
      snapshot: (list, next) => {
        // The latest price per symbol, not new ticks: shown, but not counted or timed.
        for (const tick of list) this.setPrice(tick);
        // Reconnecting without a cursor skips every tick between ours and the head.
        if (this.lastSeq && next > this.lastSeq) this.counts.gapLost += next - this.lastSeq;
        this.lastSeq = Math.max(this.lastSeq, next);
      },
      missed: (k) => {
        this.counts.missed += k;
        // Those seqs are accounted for by the server's notice; don't count them again as a gap.
        if (this.lastSeq) this.lastSeq += k;
      },
      state: (text, kind) => { this.stateText = text; this.stateKind = kind; },
      filtering: (symbols) => {
        // seq is global: with a filter, or while one is changing, a jump in seq is other
        // symbols' ticks, not loss. Only the server's gap notices count then.
        this.filter = symbols === null ? { pending: true } : { symbols, partial: symbols.length < this.options.symbols.length };
        if (symbols) {
          this.skipNextGap = true; // the first tick under the new filter may jump legitimately
          const all = symbols.length === this.options.symbols.length;
          this.stateText = () => (all ? t('state.subscribedAll') : t('state.subscribed', { symbols: symbols.join(', ') }));
          this.stateKind = 'live';
        }
      },
    };
  }

  /**
   * The server restarted: a new run of the log, whose seq began again at 1. Forget our
   * seq (or every new tick would look like a duplicate) and say so: what was sent across
   * the restart is unknown, and counting it as lost or as zero would both be made up.
   */
  serverRestarted(epoch) {
    // Once per new run: a WebSocket's hello already names the new epoch before its reset.
    if (this.restartedInto === epoch) return;
    this.restartedInto = epoch;
    this.epoch = epoch;
    this.lastSeq = 0;
    this.counts.resets++;
    // What the new run sends from here up to now comes from its history.
    this.replayFromUs = nowUs();
    if (this.resume && !this.resume.done) this.resume.reset = true; // reconnecting by hand across a restart
    else this.resume = { reset: true, cursor: null, offlineUs: null, replayed: 0, lostBefore: this.lost(), done: false };
  }

  receive(list) {
    const now = nowUs();
    for (const tick of list) {
      if (tick.seq <= this.lastSeq) {
        this.counts.duplicates++; // already seen, or older than one we have: not delivered twice
        continue;
      }
      // seq is global across symbols and the panel subscribes to all of them, so a jump
      // in seq is ticks that never reached us.
      if (this.lastSeq && tick.seq > this.lastSeq + 1 && this.checksGaps()) this.counts.gapLost += tick.seq - this.lastSeq - 1;
      this.skipNextGap = false;
      this.lastSeq = tick.seq;
      this.counts.ticks++;
      const replayed = tick.ts_us < this.replayFromUs;
      if (replayed) this.counts.replayed++;
      else this.latency.add(now - tick.ts_us);
      this.newestTsUs = Math.max(this.newestTsUs ?? 0, tick.ts_us);
      this.setPrice(tick);
      if (this.resume && !this.resume.done) {
        if (replayed) this.resume.replayed++;
        else this.resume.done = true; // a tick made after we came back: caught up
      }
    }
  }

  setPrice(tick) {
    let entry = this.prices.get(tick.symbol);
    if (!entry) {
      entry = { price: tick.price, dir: null, changedAt: 0 };
      this.prices.set(tick.symbol, entry);
    } else if (tick.price !== entry.price) {
      entry.dir = tick.price > entry.price ? 'up' : 'down';
      entry.changedAt = performance.now();
      entry.price = tick.price;
    }
    if (tick.symbol === this.options.chartSymbol()) this.chart.add(tick.ts_us, tick.price);
  }

  /** Whether a jump in seq means loss: not under a symbol filter, nor while one changes. */
  checksGaps() {
    return !this.skipNextGap && !this.filter?.pending && !this.filter?.partial;
  }

  /** WebSocket only: the symbols to receive (all of them when `symbol` is empty). */
  setFilter(symbol) {
    this.client.subscribe(symbol ? [symbol] : this.options.symbols);
  }

  lost() {
    return this.counts.gapLost + this.counts.missed;
  }

  /** Where this panel is, as the server wants it: `<epoch>-<seq>`, or null before any tick. */
  cursor() {
    if (!this.lastSeq) return null;
    return this.epoch ? `${this.epoch}-${this.lastSeq}` : `${this.lastSeq}`;
  }

  connect() {
    this.connected = true;
    this.client.connect(this.cursor());
  }

  toggle() {
    if (this.connected) {
      this.client.disconnect();
      this.connected = false;
      this.offline = { sinceUs: nowUs(), seq: this.lastSeq, lostBefore: this.lost() };
      this.resume = null;
      this.stateText = () => t('state.disconnected');
      this.stateKind = 'off';
    } else {
      // Resume from the last seq we have (or, unticked, from now: the gap shows as lost).
      const cursor = this.options.resume() ? this.cursor() : null;
      this.replayFromUs = nowUs();
      this.resume = { reset: false, cursor, offlineUs: nowUs() - this.offline.sinceUs, replayed: 0, lostBefore: this.offline.lostBefore, done: false };
      this.connected = true;
      this.client.connect(cursor);
    }
    this.render(); // the button and the verdict answer the click at once
  }

  setChartSymbol() {
    this.chart.clear();
  }

  buildPrices(symbols) {
    const list = this.root.querySelector('.prices');
    this.priceCells = new Map();
    for (const symbol of symbols) {
      const item = document.createElement('li');
      item.innerHTML = '<span class="symbol"></span><span class="price num">—</span>';
      item.querySelector('.symbol').textContent = symbol;
      list.append(item);
      this.priceCells.set(symbol, item);
    }
  }

  /** The symbol filter, for a transport that can talk back (WebSocket): hidden otherwise. */
  buildFilter(symbols) {
    const select = this.root.querySelector('.filter');
    if (!this.client.subscribe) return;
    select.hidden = false;
    const all = new Option(t('panel.filterAll'), '');
    all.dataset.i18n = 'panel.filterAll';
    select.append(all, ...symbols.map((s) => new Option(s, s)));
    select.addEventListener('change', () => this.setFilter(select.value));
  }

  /** Writes the current state into the DOM; called a few times a second. */
  render() {
    const now = performance.now();
    for (const [symbol, { price, dir, changedAt }] of this.prices) {
      const item = this.priceCells.get(symbol);
      if (!item) continue;
      item.querySelector('.price').textContent = price.toFixed(2);
      item.dataset.dir = dir ?? '';
      item.classList.toggle('flash', now - changedAt < FLASH_MS);
      item.classList.toggle('filtered-out', Boolean(this.filter?.partial && !this.filter.symbols.includes(symbol)));
    }
    if (now - this.percentilesAt >= PERCENTILES_EVERY_MS || this.shownPercentiles[0] === null) {
      this.shownPercentiles = this.latency.percentiles(0.5, 0.99);
      this.percentilesAt = now;
    }
    const [p50, p99] = this.shownPercentiles;
    const staleUs = this.newestTsUs === null ? null : nowUs() - this.newestTsUs;
    this.set('ticks', this.counts.ticks, formatCount(this.counts.ticks));
    this.set('replayed', this.counts.replayed, formatCount(this.counts.replayed));
    this.set('requests', this.counts.requests, formatCount(this.counts.requests));
    this.set('bytes', this.counts.bytes, formatBytes(this.counts.bytes));
    this.set('latency', p50, formatLatencyPair(p50, p99)).dataset.p99 = p99 ?? '';
    this.set('staleness', staleUs, formatLatency(staleUs)).classList.toggle('warn', staleUs > STALE_WARN_US);
    this.set('lost', this.lost(), this.lostText()).classList.toggle('bad', this.lost() > 0);
    const state = this.root.querySelector('.state');
    state.textContent = this.stateText?.() ?? '';
    state.dataset.kind = this.stateKind ?? '';
    this.root.querySelector('[data-action="toggle"]').textContent = t(this.connected ? 'panel.disconnect' : 'panel.reconnect');
    this.renderResume();
    this.chart.draw(this.options.chartSymbol());
  }

  /** "0", or where the losses came from, plus anything that qualifies the count. */
  lostText() {
    const { gapLost, missed, duplicates, resets } = this.counts;
    return `${this.lost()}` +
      (this.lost() ? t('panel.lostFrom', { gaps: gapLost, missed }) : '') +
      (duplicates ? t('panel.duplicates', { n: duplicates }) : '') +
      (resets ? t('panel.resets', { n: resets }) : '') +
      (this.filter?.partial ? t('panel.filtered') : '');
  }

  set(counter, value, text) {
    const element = this.root.querySelector(`[data-counter="${counter}"]`);
    element.textContent = text;
    element.dataset.value = value ?? '';
    return element;
  }

  renderResume() {
    const element = this.root.querySelector('.resume');
    const r = this.resume;
    if (!this.connected && this.offline) {
      element.dataset.resume = 'offline';
      element.textContent = t('panel.offline', { time: formatLatency(nowUs() - this.offline.sinceUs), seq: this.offline.seq });
      return;
    }
    if (!r) {
      element.dataset.resume = '';
      element.textContent = '';
      return;
    }
    const lost = this.lost() - r.lostBefore;
    element.dataset.lost = lost;
    const offline = r.offlineUs === null ? '' : t('panel.afterOffline', { time: formatLatency(r.offlineUs) });
    if (!r.done) {
      element.dataset.resume = 'waiting';
      element.textContent = r.reset ? t('panel.waitReset')
        : r.cursor === null ? t('panel.waitNow') : t('panel.waitCursor', { cursor: r.cursor });
    } else if (r.reset) {
      element.dataset.resume = 'reset';
      element.textContent = t('panel.doneReset', { offline, replayed: r.replayed, lost });
    } else {
      element.dataset.resume = lost ? 'lost' : 'ok';
      element.textContent = r.cursor === null
        ? t('panel.doneNow', { offline, lost })
        : t('panel.doneCursor', { offline, replayed: r.replayed, lost }) + (this.filter?.partial ? t('panel.doneFiltered') : '.');
    }
  }
}
