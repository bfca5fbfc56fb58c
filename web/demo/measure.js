// What a panel measures, the same way for every transport.

/**
 * The browser's wall clock in µs since the Unix epoch, comparable with a tick's `ts_us`.
 * `performance.timeOrigin + performance.now()` rather than `Date.now()`: it has sub-ms
 * resolution and does not jump if the system clock is adjusted while the page is open.
 */
export function nowUs() {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Latency percentiles over the last `size` ticks: a ring of samples, sorted on demand. */
export class LatencyWindow {
  constructor(size) {
    this.samples = new Float64Array(size);
    this.count = 0; // samples ever added; the ring holds the last min(count, size)
  }

  add(latencyUs) {
    this.samples[this.count % this.samples.length] = latencyUs;
    this.count++;
  }

  /** p in [0, 1] → latency in µs (nearest rank), or null before the first sample. */
  percentiles(...ps) {
    const n = Math.min(this.count, this.samples.length);
    if (n === 0) return ps.map(() => null);
    const sorted = this.samples.slice(0, n).sort();
    return ps.map((p) => sorted[Math.min(n - 1, Math.ceil(p * n) - 1)]);
  }

  clear() {
    this.count = 0;
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
