import { VectorMatrix, nearestRows } from '../search/vectorMatrix.js';
import { DEFAULT_EXACT_SCAN_LIMIT } from '../search/indexReader.js';
import { DEFAULT_CHALLENGERS } from '../search/searchService.js';
import { type LatencySummary, latencySummary, msSince } from './stats.js';
import { type SyntheticSet, row } from './syntheticVectors.js';

export interface ExactScanPoint extends LatencySummary {
  readonly corpus: number;
}

export interface ExactScanFigures {
  /** What one `exact`-scope query scans: distances to every vector, then the top k + challengers and D. */
  readonly points: ExactScanPoint[];
  /** The latency the scan is measured against (the query target at 10^6). */
  readonly budgetMs: number;
  /** Corpus size at which the scan alone takes `budgetMs` at p50, extrapolated linearly from the largest size. */
  readonly cheapUpTo: number;
  /** Where the server switches from `exact` to `index` scope today. */
  readonly serverExactScanLimit: number;
}

export const EXACT_SCAN_BUDGET_MS = 5;
const SCANNED = 10 + DEFAULT_CHALLENGERS;

/** Wraps a synthetic set as the search engine's exact-scan matrix (no copy). */
export function matrixOf(set: SyntheticSet): VectorMatrix {
  return VectorMatrix.fromPacked({ ids: Array.from({ length: set.count }, (_, i) => i + 1), vectors: set.vectors, dim: set.dim });
}

/** Times the engine's exact scan (VectorMatrix.distancesTo + nearestRows) for each corpus. */
export function measureExactScan(corpora: readonly { matrix: VectorMatrix; queries: SyntheticSet }[]): ExactScanFigures {
  const points = corpora.map(({ matrix, queries }) => {
    const samples: number[] = [];
    for (let q = 0; q < queries.count; q++) {
      const started = performance.now();
      nearestRows(matrix, matrix.distancesTo(row(queries, q)), SCANNED);
      samples.push(msSince(started));
    }
    return { corpus: matrix.size, ...latencySummary(samples) };
  });
  const largest = points.reduce((a, b) => (b.corpus > a.corpus ? b : a));
  return {
    points,
    budgetMs: EXACT_SCAN_BUDGET_MS,
    cheapUpTo: Math.floor((EXACT_SCAN_BUDGET_MS / largest.p50Ms) * largest.corpus),
    serverExactScanLimit: DEFAULT_EXACT_SCAN_LIMIT,
  };
}
