import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_HNSW_OPTIONS } from '../index/hnswIndex.js';
import { ingest } from '../ingest/ingestService.js';
import { spawnDatabaseProcess } from '../store/postgres/databaseProcess.js';
import { toPgVector } from '../store/postgres/pgVector.js';
import type { VectorMatrix } from '../search/vectorMatrix.js';
import { type EfPoint, RECALL_TARGET, SEARCH_EFS, exactTopK } from './indexScaling.js';
import { type QueryLatency, measureQueryLatency } from './queryLatency.js';
import { latencySummary, msSince } from './stats.js';
import { type SyntheticSet, row } from './syntheticVectors.js';

const K = 10;
/** Rows per INSERT while loading a synthetic corpus. */
const INSERT_CHUNK = 1000;

export interface PgVectorIndexPoint {
  readonly corpus: number;
  readonly dim: number;
  readonly m: number;
  readonly efConstruction: number;
  /** Loading the vectors (multi-row INSERTs through the wire protocol), then building the HNSW index over them. */
  readonly insertSeconds: number;
  readonly buildSeconds: number;
  readonly queries: number;
  /** Per ef_search: latency of one query as the server runs it (SET LOCAL ef_search + ORDER BY <=> LIMIT 10) and recall@10. */
  readonly efs: EfPoint[];
  /** The smallest ef_search reaching the recall target (null: none did). */
  readonly chosen: EfPoint | null;
}

export interface PostgresFigures {
  /** What served the database. */
  readonly server: string;
  /** The ingest pipeline's own rate into the database, and into a folder earlier in the same run. */
  readonly ingestImages: number;
  readonly ingestImagesPerSecond: number;
  readonly embeddedIngestImagesPerSecond: number;
  /** The same search service over the database (scope exact below the exact-scan limit). */
  readonly query: QueryLatency;
  readonly index: readonly PgVectorIndexPoint[];
}

export interface PostgresBenchOptions {
  readonly images: readonly string[];
  readonly uploads: readonly string[];
  readonly repeats: number;
  readonly workDir: string;
  readonly modelsDir: string;
  readonly embeddedIngestImagesPerSecond: number;
  /** Synthetic corpora for pgvector's HNSW index, with their queries and exact answers' matrices. */
  readonly corpora: readonly { readonly corpus: SyntheticSet; readonly matrix: VectorMatrix; readonly queries: SyntheticSet }[];
  readonly passes: number;
}

/**
 * The PostgreSQL backend measured in the same run as the folder index (issue #14): `npm run db` (PGlite, i.e.
 * PostgreSQL compiled to WebAssembly, with pgvector) in its own process, reached over the wire protocol as any
 * PostgreSQL server would be. A native server is faster; these figures bound what the wire protocol, the
 * transactions and pgvector cost here, not what a production database does.
 */
export async function measurePostgres(options: PostgresBenchOptions): Promise<PostgresFigures> {
  const database = await spawnDatabaseProcess(mkdtempSync(join(options.workDir, 'postgres-')));
  try {
    const summary = await ingest({ paths: options.images, database: database.url, batchSize: 32, device: 'cpu', modelsDir: options.modelsDir });
    if (summary.failed > 0) throw new Error(`benchmark images failed to ingest into PostgreSQL: ${summary.errors.map((e) => e.path).join(', ')}`);
    const query = await measureQueryLatency({
      index: { kind: 'postgres', url: database.url },
      uploads: options.uploads,
      repeats: options.repeats,
      modelsDir: options.modelsDir,
    });
    const index: PgVectorIndexPoint[] = [];
    for (const set of options.corpora) index.push(await measurePgVectorIndex(database.url, set, options.passes));
    return {
      server: 'npm run db: PGlite (PostgreSQL in WebAssembly) + pgvector, separate process, wire protocol on 127.0.0.1',
      ingestImages: options.images.length,
      ingestImagesPerSecond: summary.imagesPerSecond,
      embeddedIngestImagesPerSecond: options.embeddedIngestImagesPerSecond,
      query,
      index,
    };
  } finally {
    await database.stop();
  }
}

/** Loads a synthetic corpus into its own table, builds pgvector's HNSW index (lipsearch's m and ef_construction) and sweeps ef_search. */
async function measurePgVectorIndex(
  url: string,
  { corpus, matrix, queries }: PostgresBenchOptions['corpora'][number],
  passes: number,
): Promise<PgVectorIndexPoint> {
  const { m, efConstruction } = DEFAULT_HNSW_OPTIONS;
  const table = `bench_vectors_${corpus.count}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, embedding vector(${corpus.dim}))`);
    let started = performance.now();
    for (let from = 0; from < corpus.count; from += INSERT_CHUNK) {
      const ids = Array.from({ length: Math.min(INSERT_CHUNK, corpus.count - from) }, (_, i) => from + i);
      await client.query(`INSERT INTO ${table} SELECT * FROM unnest($1::integer[], $2::vector[])`, [
        ids.map((i) => i + 1),
        ids.map((i) => toPgVector(row(corpus, i))),
      ]);
    }
    const insertSeconds = msSince(started) / 1000;
    started = performance.now();
    await client.query(`CREATE INDEX ON ${table} USING hnsw (embedding vector_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`);
    const buildSeconds = msSince(started) / 1000;

    const truth = exactTopK(matrix, queries);
    const efs: EfPoint[] = [];
    for (const ef of SEARCH_EFS) {
      const samples: number[] = [];
      let found = 0;
      for (let pass = 0; pass < passes; pass++) {
        for (let q = 0; q < queries.count; q++) {
          const t = performance.now();
          await client.query('BEGIN');
          await client.query(`SET LOCAL hnsw.ef_search = ${ef}`);
          const { rows } = await client.query(`SELECT id FROM ${table} ORDER BY embedding <=> $1 LIMIT ${K}`, [toPgVector(row(queries, q))]);
          await client.query('COMMIT');
          samples.push(msSince(t));
          if (pass === 0) found += rows.filter((r) => truth[q].has(Number(r.id))).length;
        }
      }
      efs.push({ ef, recallAt10: found / (K * queries.count), ...latencySummary(samples) });
    }
    await client.query(`DROP TABLE ${table}`);
    return {
      corpus: corpus.count,
      dim: corpus.dim,
      m,
      efConstruction,
      insertSeconds,
      buildSeconds,
      queries: queries.count * passes,
      efs,
      chosen: efs.find((p) => p.recallAt10 >= RECALL_TARGET) ?? null,
    };
  } finally {
    await client.end();
  }
}
