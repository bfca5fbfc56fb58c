// What a panel measures, the same way for every transport.

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

/** 1234567 → "1.2 MB"-style text for the bytes counter. */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/** µs → "0.42 ms" / "12 ms" / "1.3 s", or "—" when there is nothing to show yet. */
export function formatLatency(us) {
  if (us === null || us === undefined) return '—';
  const ms = us / 1000;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** p50 and p99 side by side, the unit once when they share it: "3.65 / 5.85 ms". */
export function formatLatencyPair(a, b) {
  const [first, second] = [formatLatency(a), formatLatency(b)];
  const unit = (text) => text.split(' ')[1];
  if (unit(first) && unit(first) === unit(second)) return `${first.split(' ')[0]} / ${second}`;
  return `${first} / ${second}`;
}
