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
