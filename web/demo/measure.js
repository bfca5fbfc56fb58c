// What a panel measures, the same way for every transport, and how it writes the numbers:
// with web/format.js (a classic script index.html loads before these modules), the same
// way the report and the terminal table write them.
const { formatValue } = window.pushlab;

/**
 * The browser's wall clock in µs since the Unix epoch, comparable with a tick's `ts_us`.
 * `performance.timeOrigin + performance.now()` rather than `Date.now()`: it has sub-ms
 * resolution and does not jump if the system clock is adjusted while the page is open.
 */
export function nowUs() {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/**
 * Latency percentiles over the ticks received in the last `windowMs` (and at least the
 * last `minTicks`, so a slow feed still shows something). A window in time, not in ticks:
 * a poll answer can carry thousands of ticks, and a window of the last N would see only
 * the freshest end of that batch. Holds at most `capacity` samples (older ones drop off).
 */
export class LatencyWindow {
  constructor({ windowMs, minTicks, capacity }) {
    this.windowMs = windowMs;
    this.minTicks = minTicks;
    this.latencies = new Float64Array(capacity);
    this.receivedAt = new Float64Array(capacity); // performance.now() of each sample
    this.count = 0; // samples ever added; the ring holds the last min(count, capacity)
  }

  add(latencyUs) {
    const i = this.count % this.latencies.length;
    this.latencies[i] = latencyUs;
    this.receivedAt[i] = performance.now();
    this.count++;
  }

  /** p in [0, 1] → latency in µs (nearest rank), or null when the window is empty. */
  percentiles(...ps) {
    const cutoff = performance.now() - this.windowMs;
    const held = Math.min(this.count, this.latencies.length);
    const picked = [];
    for (let k = 1; k <= held; k++) {
      const i = (this.count - k) % this.latencies.length;
      if (this.receivedAt[i] < cutoff && picked.length >= this.minTicks) break;
      picked.push(this.latencies[i]);
    }
    if (picked.length === 0) return ps.map(() => null);
    const sorted = Float64Array.from(picked).sort();
    return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]);
  }
}

const encoder = new TextEncoder();

/** The UTF-8 size of a string as it crossed the wire (ticks are ASCII, but don't assume). */
export function utf8Bytes(text) {
  return encoder.encode(text).length;
}

/** 1234567 → "1.23 MB": decimal SI, as everywhere in pushlab. */
export function formatBytes(bytes) {
  return formatValue('bytes', bytes);
}

/** 12345 → "12,345". */
export function formatCount(n) {
  return formatValue('count', n);
}

/**
 * µs → "420 µs" / "12.3 ms" / "1.32 s", or "—" while there is nothing to show yet (a
 * live counter waiting for its first tick, not a figure that failed to be measured).
 */
export function formatLatency(us) {
  if (us === null || us === undefined) return '—';
  return formatValue('microseconds', us);
}

/** p50 and p99 side by side, the unit once when they share it: "3.65 / 5.85 ms". */
export function formatLatencyPair(a, b) {
  const [first, second] = [formatLatency(a), formatLatency(b)];
  const unit = (text) => text.split(' ')[1];
  if (unit(first) && unit(first) === unit(second)) return `${first.split(' ')[0]} / ${second}`;
  return `${first} / ${second}`;
}
