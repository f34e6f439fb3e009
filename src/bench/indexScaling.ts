import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HnswIndex, DEFAULT_HNSW_OPTIONS } from '../index/hnswIndex.js';
import { VectorMatrix, nearestRows } from '../search/vectorMatrix.js';
import { type LatencySummary, latencySummary, msSince } from './stats.js';
import { type SyntheticSet, row } from './syntheticVectors.js';

export const SEARCH_EFS = [16, 32, 64, 128, 256, 512] as const;
export const RECALL_TARGET = 0.99;
export const LATENCY_TARGET_MS = 5;
const K = 10;

export interface EfPoint extends LatencySummary {
  readonly ef: number;
  readonly recallAt10: number;
}

export interface IndexScalingPoint {
  readonly corpus: number;
  readonly dim: number;
  readonly m: number;
  readonly efConstruction: number;
  readonly buildSeconds: number;
  readonly insertsPerSecond: number;
  /** Growth of this process's resident memory while the graph was built (the graph and hnswlib's copy of the vectors). */
  readonly indexRssBytes: number;
  /** Resident memory of the process after the build (the vectors themselves included). */
  readonly processRssBytes: number;
  readonly queries: number;
  readonly efs: EfPoint[];
  /** The smallest ef reaching RECALL_TARGET (null: none did), and its figures. */
  readonly chosen: EfPoint | null;
  readonly meetsTargets: boolean;
}

/** Exact top-k ids of each query, by the engine's exact scan. */
export function exactTopK(matrix: VectorMatrix, queries: SyntheticSet): Set<number>[] {
  return Array.from({ length: queries.count }, (_, q) => {
    const scan = nearestRows(matrix, matrix.distancesTo(row(queries, q)), K);
    return new Set(scan.nearest.map((n) => n.id));
  });
}

/**
 * Builds our HnswIndex (default M and efConstruction) over `corpus` and sweeps the query breadth ef: latency
 * per query (HnswIndex.search, as the engine calls it) and recall@10 against the exact answer.
 */
export function measureIndexScaling(corpus: SyntheticSet, matrix: VectorMatrix, queries: SyntheticSet, passes: number): IndexScalingPoint {
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();
  const index = HnswIndex.create(join(tmpdir(), 'bench-unsaved.hnsw'), corpus.dim);
  for (let i = 0; i < corpus.count; i++) index.add(i + 1, row(corpus, i));
  const buildSeconds = msSince(started) / 1000;
  const processRssBytes = process.memoryUsage.rss();

  const truth = exactTopK(matrix, queries);
  const efs = SEARCH_EFS.map((ef): EfPoint => {
    const samples: number[] = [];
    let found = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (let q = 0; q < queries.count; q++) {
        const t = performance.now();
        const hits = index.search(row(queries, q), K, ef);
        samples.push(msSince(t));
        if (pass === 0) found += hits.filter((h) => truth[q].has(h.id)).length;
      }
    }
    return { ef, recallAt10: found / (K * queries.count), ...latencySummary(samples) };
  });
  const chosen = efs.find((p) => p.recallAt10 >= RECALL_TARGET) ?? null;
  return {
    corpus: corpus.count,
    dim: corpus.dim,
    m: DEFAULT_HNSW_OPTIONS.m,
    efConstruction: DEFAULT_HNSW_OPTIONS.efConstruction,
    buildSeconds,
    insertsPerSecond: corpus.count / buildSeconds,
    indexRssBytes: processRssBytes - rssBefore,
    processRssBytes,
    queries: queries.count * passes,
    efs,
    chosen,
    meetsTargets: chosen !== null && chosen.p50Ms <= LATENCY_TARGET_MS,
  };
}
