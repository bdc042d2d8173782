// Measuring helpers shared by the benchmarks: the two sides of a comparison
// run interleaved (A, B, A, B ...) so the machine's noise lands on both.
export interface Comparison { name: string; product_ms: number; baseline_ms: number; ratio: number; unit: string }

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Median of `iterations` interleaved calls of each side, after 10 warm-up rounds. */
export async function compareReads(name: string, product: () => Promise<unknown>, baseline: () => Promise<unknown>, iterations: number): Promise<Comparison> {
  for (let i = 0; i < 10; i++) { await product(); await baseline(); }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < iterations; i++) {
    a.push(await timed(product));
    b.push(await timed(baseline));
  }
  return { name, product_ms: median(a), baseline_ms: median(b), ratio: median(a) / median(b), unit: 'median ms per request' };
}

/** Mean time per write of `count` writes per side, alternating in blocks of 50. */
export async function compareWrites(name: string, product: (i: number) => Promise<unknown>, baseline: (i: number) => Promise<unknown>, count: number): Promise<Comparison> {
  let productMs = 0;
  let baselineMs = 0;
  const block = 50;
  for (let start = 0; start < count; start += block) {
    const end = Math.min(start + block, count);
    productMs += await timed(async () => { for (let i = start; i < end; i++) await product(i); });
    baselineMs += await timed(async () => { for (let i = start; i < end; i++) await baseline(i); });
  }
  return { name, product_ms: productMs / count, baseline_ms: baselineMs / count, ratio: productMs / baselineMs, unit: 'mean ms per write' };
}

/** The p-th percentile (0-100) of xs, nearest rank. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Throughput and latency of a load: `requests` answered in `seconds` (the sum of its rounds). */
export interface Load { requests: number; seconds: number; errors: number; latencies: number[] }
export interface LoadFigures { requests: number; rps: number; p50_ms: number; p99_ms: number; errors: number }

export function loadFigures(rounds: Load[]): LoadFigures {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const latencies = rounds.flatMap((r) => r.latencies);
  return { requests, rps: requests / seconds, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), errors: rounds.reduce((n, r) => n + r.errors, 0) };
}

/**
 * `clients` concurrent async loops calling `call` for `seconds`; the latency of
 * each call that finished within that window. Calls still running at its end
 * are awaited but not counted, as autocannon leaves out the requests in flight
 * when its duration ends: both sides of a comparison count the same way.
 */
export async function inLoops(clients: number, seconds: number, call: (i: number) => Promise<unknown>): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await call(next++);
        const done = performance.now();
        if (done <= end) latencies.push(done - t);
      } catch (err) {
        if (errors++ === 0) console.error(`  first error: ${(err as Error).message}`);
      }
    }
  }));
  return { requests: latencies.length, seconds: (end - started) / 1000, errors, latencies };
}
