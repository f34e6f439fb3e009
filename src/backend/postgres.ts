import pg from 'pg';
import type { HnswOptions, ReconcileReport } from '../index/hnswIndex.js';
import { DEFAULT_HNSW_OPTIONS } from '../index/hnswIndex.js';
import type { Neighbour } from '../index/vectorIndex.js';
import { PgRepository } from '../store/postgres/pgRepository.js';
import { PG_SCHEMA_VERSION, SCHEMA_LOCK, SchemaVersionError, migratePg, pgSchemaVersion } from '../store/postgres/pgSchema.js';
import { readTransaction, writeTransaction } from '../store/postgres/pgTransaction.js';
import { toPgVector } from '../store/postgres/pgVector.js';
import type { IndexMeta } from '../store/types.js';
import { DatabaseError } from './databaseError.js';
import type { IngestTarget, Thumbnail } from './ingestTarget.js';
import { describeLocation } from './location.js';
import type { NeighbourSearch, SearchBackend } from './searchBackend.js';

/**
 * Connections per process. An ingest commits one batch at a time and a server runs a few queries at once; a
 * small pool leaves the database's connection limit to many workers and servers (and PGlite, which runs one
 * statement at a time anyway, accepts DEFAULT_MAX_CONNECTIONS clients in all).
 */
export const POOL_SIZE = 4;
/** pgvector's upper limit for hnsw.ef_search. */
const MAX_EF_SEARCH = 1000;
const HNSW_INDEX = 'vectors_hnsw';

/** The PostgreSQL ingest side: no file lock (batches are content-addressed upserts), pgvector's HNSW index. */
export class PostgresIngestTarget implements IngestTarget {
  readonly ownFolders: readonly string[] = [];

  private constructor(
    readonly description: string,
    private readonly pool: pg.Pool,
    readonly repository: PgRepository,
  ) {}

  static async open(url: string): Promise<PostgresIngestTarget> {
    const description = describeLocation({ kind: 'postgres', url });
    const pool = await connect(url, description);
    try {
      await pool.query('CREATE EXTENSION IF NOT EXISTS vector').catch((err: Error) => {
        throw new DatabaseError(`the pgvector extension is not available in ${description} (${err.message}): install pgvector on the server`);
      });
      const client = await pool.connect();
      try {
        await migratePg(client);
      } finally {
        client.release();
      }
      return new PostgresIngestTarget(description, pool, new PgRepository(pool));
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  /**
   * Types the vector column to the model's dimension and creates its HNSW index (cosine) once, under a lock
   * so that concurrent ingests do it once. The database keeps the index in step with every commit, so there is
   * never anything to repair.
   */
  async openVectorIndex(_modelVersion: string, dim: number, options: HnswOptions): Promise<ReconcileReport> {
    const m = options.m ?? DEFAULT_HNSW_OPTIONS.m;
    const efConstruction = options.efConstruction ?? DEFAULT_HNSW_OPTIONS.efConstruction;
    await writeTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      const column = await c.query(`SELECT atttypmod FROM pg_attribute WHERE attrelid = 'vectors'::regclass AND attname = 'embedding'`);
      if (column.rows[0].atttypmod !== dim) {
        // A new index, or a --reindex to a model of another dimension (its vectors were just dropped).
        await c.query(`DROP INDEX IF EXISTS ${HNSW_INDEX}`);
        await c.query(`ALTER TABLE vectors ALTER COLUMN embedding TYPE vector(${integer(dim)})`);
      }
      // Checked first: CREATE INDEX IF NOT EXISTS would still lock the table against running ingests.
      const present = await c.query('SELECT 1 FROM pg_class WHERE relname = $1', [HNSW_INDEX]);
      if (present.rows.length === 0) {
        await c.query(
          `CREATE INDEX ${HNSW_INDEX} ON vectors USING hnsw (embedding vector_cosine_ops)
           WITH (m = ${integer(m)}, ef_construction = ${integer(efConstruction)})`,
        );
      }
    });
    return { added: 0, removed: 0, rebuilt: false };
  }

  thumbnailFile(): undefined {
    return undefined; // the workers hand the bytes back for putThumbnails
  }

  async putThumbnails(thumbnails: readonly Thumbnail[]): Promise<void> {
    // After the batch commit, so the image row exists; one deleted meanwhile simply gets no thumbnail (the
    // server makes one from the original). No change-counter bump: what a server searches is unchanged.
    await writeTransaction(this.pool, (c) =>
      c.query(
        `INSERT INTO thumbnails (sha256, webp)
         SELECT t.sha256, t.webp FROM unnest($1::text[], $2::bytea[]) AS t(sha256, webp)
         WHERE EXISTS (SELECT 1 FROM images i WHERE i.sha256 = t.sha256)
         ON CONFLICT (sha256) DO NOTHING`,
        [thumbnails.map((t) => t.sha256), thumbnails.map((t) => Buffer.from(t.webp))],
      ),
    );
  }

  vectorsStored(): void {
    // pgvector indexes each vector as its row commits.
  }

  async imagesRemoved(): Promise<void> {
    // Their vectors and thumbnails went with them (ON DELETE CASCADE).
  }

  async checkpoint(): Promise<void> {
    // Every batch is durable when its transaction commits.
  }

  async finish(): Promise<void> {
    // Nothing is kept outside the database.
  }

  close(): Promise<void> {
    return this.repository.close();
  }
}

/** The PostgreSQL read side: the repository, pgvector's HNSW index for candidates, thumbnails from the database. */
export class PostgresSearchBackend implements SearchBackend {
  private constructor(
    readonly description: string,
    private readonly pool: pg.Pool,
    readonly repository: PgRepository,
  ) {}

  /** Opens the database; undefined when lipsearch never ingested into it. */
  static async open(url: string): Promise<PostgresSearchBackend | undefined> {
    const description = describeLocation({ kind: 'postgres', url });
    const pool = await connect(url, description);
    try {
      const extension = await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
      if (extension.rows.length === 0) {
        throw new DatabaseError(`the pgvector extension is not installed in ${description}: install pgvector, then run npm run ingest -- --database <url>`);
      }
      const client = await pool.connect();
      let version: number;
      try {
        version = await pgSchemaVersion(client);
      } finally {
        client.release();
      }
      if (version === 0) {
        await pool.end();
        return undefined;
      }
      if (version !== PG_SCHEMA_VERSION) {
        throw new SchemaVersionError(
          `the index in ${description} has schema version ${version}, expected ${PG_SCHEMA_VERSION}: ` +
            (version < PG_SCHEMA_VERSION ? 'run npm run ingest -- --database <url> to upgrade it' : 'upgrade lipsearch'),
        );
      }
      return new PostgresSearchBackend(description, pool, new PgRepository(pool));
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  /** The change counter every write transaction bumps: one small read per query. */
  signature(): Promise<string> {
    return this.repository.changeSignature();
  }

  async neighbourSearch(_meta: IndexMeta, vectorCount: number): Promise<NeighbourSearch> {
    return new PgVectorSearch(this.pool, vectorCount);
  }

  async thumbnail(sha256: string): Promise<Buffer | undefined> {
    const { rows } = await readTransaction(this.pool, (c) => c.query('SELECT webp FROM thumbnails WHERE sha256 = $1', [sha256]));
    return rows[0]?.webp;
  }

  close(): Promise<void> {
    return this.repository.close();
  }
}

/** Candidates from pgvector's HNSW index (cosine distance), the breadth set per query. */
class PgVectorSearch implements NeighbourSearch {
  constructor(
    private readonly pool: pg.Pool,
    private readonly vectorCount: number,
  ) {}

  size(): number {
    return this.vectorCount;
  }

  search(vector: Float32Array, k: number, ef: number): Promise<Neighbour[]> {
    return readTransaction(this.pool, async (c) => {
      // SET LOCAL: the breadth lasts this transaction only, never leaking to the pooled connection's next user.
      await c.query(`SET LOCAL hnsw.ef_search = ${integer(Math.min(MAX_EF_SEARCH, Math.max(ef, k)))}`);
      const { rows } = await c.query(
        'SELECT image_id, embedding <=> $1 AS distance FROM vectors ORDER BY embedding <=> $1 LIMIT $2',
        [toPgVector(vector), k],
      );
      return rows.map((r) => ({ id: Number(r.image_id), distance: Number(r.distance) }));
    });
  }
}

/** A pool on `url`, after one successful round trip; a bad URL or an unreachable server is one clear error. */
async function connect(url: string, description: string): Promise<pg.Pool> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError(`the database URL is not a URL: expected postgres://user[:password]@host[:port]/database`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseError(`the database URL must start with postgres:// or postgresql://, got ${parsed.protocol}//…`);
  }
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: 10_000 });
  // An idle connection the server drops is replaced; the next query reports the problem if it persists.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end();
    throw new DatabaseError(`cannot connect to PostgreSQL at ${description}: ${connectionProblem(err)}`);
  }
  return pool;
}

function connectionProblem(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running? `npm run db` starts an embedded one)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ETIMEDOUT') return 'timed out';
  return (err as Error).message;
}

/** SQL that takes no parameters (DDL, SET) gets integers checked here. */
function integer(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`expected a positive integer, got ${n}`);
  return n;
}
