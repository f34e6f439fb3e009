/** Order statistics for benchmark samples. */

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export function latencySummary(samplesMs: readonly number[]): LatencySummary {
  return { count: samplesMs.length, p50Ms: quantile(samplesMs, 0.5), p99Ms: quantile(samplesMs, 0.99) };
}

/** A figure measured `runs.length` times: the median is the one reported. */
export interface Repeated {
  readonly median: number;
  readonly runs: number[];
}

export function repeated(runs: number[]): Repeated {
  return { median: median(runs), runs };
}

/** Milliseconds since `start` (a performance.now() reading). */
export function msSince(start: number): number {
  return performance.now() - start;
}
